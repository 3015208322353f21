"""Fitting terminal text to a width: word wrap with hanging indents, aware of colour codes.

Every renderer (:mod:`router.render`) and the chat (:mod:`router.repl`) wraps through
:func:`wrap`, so the same rules hold for every line the program prints:

- Lines break only at whitespace, never inside a word.
- A word wider than a whole line goes on a line of its own. A URL or a file path (a word
  with a slash in it) stays whole there, so it can still be clicked and copied (the
  terminal folds it); any other word (a run of Chinese or Japanese text without spaces,
  say) is cut at the width.
- ``indent`` starts the first line and ``hang`` every other one, so continuation lines sit
  under the start of the text, not under the bullet, number or label before it. A hang
  that would leave less than :data:`MIN_ROOM` columns for text is shortened, and a word
  too wide to fit under the hang (but not too wide for the screen) gets a row of its own
  indented only as far as it fits.
- A phrase given in ``keep`` (a unit's name) is not broken across lines when it fits on one.
- Width is what the terminal shows: ANSI colour codes take no columns, East Asian wide
  characters take two, combining marks none (``wcwidth``, as in prompt-toolkit).
- A style open at a line break is closed at the end of the line and reopened after the
  next line's indent, so no indent is coloured and every line ends unstyled.
"""

from __future__ import annotations

import re
import shutil
from collections import deque
from collections.abc import Iterable

__all__ = ["MAX_WIDTH", "MIN_WIDTH", "fit", "line_width", "strip_ansi", "visible_width", "wrap"]

#: Answers are wrapped to the terminal, but never wider than this: long lines read badly.
MAX_WIDTH = 100
#: Narrower terminals are treated as this wide (the terminal then folds what overflows).
MIN_WIDTH = 20
#: A hanging indent leaves at least this many columns (or half the width) for the text.
MIN_ROOM = 20

_SGR = re.compile(r"\x1b\[[0-9;]*m")
_RESET = "\x1b[0m"
_SPACES = re.compile(r"(\s+)")
#: Long words that stay whole: URLs and paths, which are no use cut in pieces.
_WHOLE = re.compile(r"[/\\]|^\W*www\.", re.IGNORECASE)
#: Stands for a space inside a kept phrase while wrapping (text to wrap holds no NUL:
#: control characters are cleaned from anything displayed).
_GLUE = "\x00"
#: Characters outside Latin script that the renderers print and that are one column wide;
#: text made only of these and Latin letters is measured without importing wcwidth, whose
#: import costs about a quarter of a second of a cold ``ai-office ask``.
_NARROW = frozenset("\u2018\u2019\u201c\u201d\u201e\u2013\u2014\u2026\u2022\u2192\u2502\u20ac")


def line_width(width: int | None = None) -> int:
    """The width to wrap to: ``width``, or the terminal's, kept within [20, 100]."""
    if width is None:
        width = shutil.get_terminal_size((88, 24)).columns
    return max(MIN_WIDTH, min(width, MAX_WIDTH))


def strip_ansi(text: str) -> str:
    """``text`` without its ANSI colour (SGR) codes."""
    return _SGR.sub("", text)


def visible_width(text: str) -> int:
    """How many terminal columns ``text`` takes (colour codes none, wide characters two)."""
    plain = strip_ansi(text) if "\x1b" in text else text
    if plain.isascii() or all(ch < "\u0300" or ch in _NARROW for ch in plain):
        return len(plain)
    from wcwidth import wcswidth, wcwidth

    n = wcswidth(plain)
    return n if n >= 0 else sum(max(wcwidth(ch), 0) for ch in plain)


def wrap(
    text: str,
    width: int,
    *,
    indent: str = "",
    hang: str | None = None,
    keep: Iterable[str] = (),
) -> list[str]:
    """``text`` as lines of at most ``width`` columns (see the module's rules); [] if blank.

    Arguments:
        text: one paragraph; any run of whitespace is a place to break (a run with a line
            break or a tab in it counts as one space).
        width: the columns available, indents included.
        indent: printed before the first line (a bullet, a number, a label, a quote bar).
        hang: printed before every other line; the default is ``indent``.
        keep: phrases not to break across lines when they fit on one (unit names).
    """
    hang = indent if hang is None else hang
    for phrase in sorted({p for p in keep if " " in p}, key=len, reverse=True):
        text = text.replace(phrase, phrase.replace(" ", _GLUE))
    todo = deque(_tokens(text))
    prefix = _shorten(indent, width)
    below = _shorten(hang, width)
    below_room = width - visible_width(below)
    rows: list[tuple[str, str]] = []
    line, used, room_now = "", 0, width - visible_width(prefix)

    def flush() -> None:
        nonlocal line, used, prefix, room_now
        rows.append((prefix, line))
        line, used, prefix, room_now = "", 0, below, below_room

    while todo:
        sep, word = todo.popleft()
        size = visible_width(word.replace(_GLUE, " "))
        if line and used + len(sep) + size <= room_now:
            line, used = line + sep + word, used + len(sep) + size
            continue
        if _GLUE in word and size > below_room:
            # A kept phrase wider than any line: break it as ordinary words, from here.
            parts = word.split(_GLUE)
            todo.extendleft(reversed([(sep, parts[0]), *((" ", p) for p in parts[1:])]))
            continue
        if line:
            flush()
        elif not rows and prefix.strip(" ") and size > room_now and _fits_below(size, hang, width):
            flush()  # too wide after the first line's indent, but fits on the next row
        if size <= room_now:
            line, used = word, size
        elif size <= width and not prefix.strip(" "):
            # Fits the screen but not under the hang: the hang gives way on this row only.
            prefix, line, used, room_now = " " * (width - size), word, size, size
        elif _WHOLE.search(strip_ansi(word)):
            line, used = word, size
            flush()
        else:
            pieces = _cut(word, room_now)
            for piece in pieces[:-1]:
                line = piece
                flush()
            line, used = pieces[-1], visible_width(pieces[-1])
    if line:
        rows.append((prefix, line))
    return [
        line.rstrip() if not text else line
        for line, (_, text) in zip(
            _carry_styles([(p, c.replace(_GLUE, " ")) for p, c in rows]), rows
        )
    ]


def fit(text: str, width: int, *, keep: Iterable[str] = ()) -> str:
    """Every line of ``text`` wrapped to ``width``, each under its own hanging indent.

    A line's leading spaces and a bullet (``-``, ``*``, ``•``) or number (``1.``) after
    them start its first row; its continuation rows are indented to where its text begins.
    Blank lines stay blank.
    """
    out: list[str] = []
    for line in text.split("\n"):
        head = re.match(r" *(?:[-*\u2022] |\d{1,2}[.)] )?", line)
        lead = head.group(0) if head else ""
        out += wrap(line[len(lead) :], width, indent=lead, hang=" " * len(lead), keep=keep) or [""]
    return "\n".join(out)


def _tokens(text: str) -> list[tuple[str, str]]:
    """(whitespace before, word) pairs; colour codes standing alone join the word before."""
    parts = _SPACES.split(text.strip())
    tokens: list[tuple[str, str]] = []
    for i in range(0, len(parts), 2):
        word = parts[i]
        sep = parts[i - 1] if i else ""
        if not word:
            continue
        if "\n" in sep or "\t" in sep:
            sep = " "
        if tokens and not strip_ansi(word):  # "\x1b[0m" after a space: no space, no word
            tokens[-1] = (tokens[-1][0], tokens[-1][1] + word)
            continue
        tokens.append((sep, word))
    return tokens


def _fits_below(size: int, hang: str, width: int) -> bool:
    """Whether a word ``size`` columns wide fits on a continuation row."""
    below = _shorten(hang, width)
    return size <= width - visible_width(below) or (size <= width and not below.strip(" "))


def _shorten(prefix: str, width: int) -> str:
    """A prefix of spaces cut so that the text keeps some room; others as they are."""
    least = min(MIN_ROOM, width // 2)
    if prefix.strip(" ") or visible_width(prefix) <= width - least:
        return prefix
    return " " * max(0, width - least)


def _cut(word: str, size: int) -> list[str]:
    """``word`` in pieces of at most ``size`` columns; colour codes are never cut."""
    size = max(size, 2)  # room for one wide character
    pieces: list[str] = []
    piece, used = "", 0
    for part in re.split(f"({_SGR.pattern})", word):
        if _SGR.fullmatch(part):
            piece += part
            continue
        for ch in part:
            w = visible_width(ch)
            if used + w > size and used:
                pieces.append(piece)
                piece, used = "", 0
            piece, used = piece + ch, used + w
    pieces.append(piece)
    return pieces


def _carry_styles(rows: list[tuple[str, str]]) -> list[str]:
    """Join prefixes and text, closing a style open at a line's end and reopening it after
    the next line's prefix."""
    active: list[str] = []
    lines = []
    for prefix, text in rows:
        reopen = "".join(active)
        for code in _SGR.findall(text):
            active = [] if code in (_RESET, "\x1b[m") else [*active, code]
        lines.append(prefix + reopen + text + (_RESET if active else ""))
    return lines
