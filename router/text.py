"""Text hygiene: normalising questions for matching and cleaning them for display."""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Callable
from typing import Any

__all__ = [
    "MAX_CHARS",
    "clean_for_display",
    "clean_for_terminal",
    "escaped_for_terminal",
    "json_for_terminal",
    "json_lines_for_terminal",
    "normalise",
    "normalised_words",
    "tokens",
]

#: Questions longer than this are routed on their first ``MAX_CHARS`` characters.
MAX_CHARS = 5000

#: Questions are routed in chunks of this many, by the router and by batch alike: big
#: enough to vectorise, small enough to keep memory flat on long streams.
CHUNK_SIZE = 2048

_SPACES = re.compile(r"\s+")
# Letters and digits of any script; everything else separates words.
_WORD = re.compile(r"[^\W_]+")
# Invisible characters that Unicode files as letters or marks, so neither "not printable"
# nor a category test catches them: the combining grapheme joiner, Hangul fillers, Khmer
# inherent vowels and Mongolian and supplementary variation selectors. They can hide text
# between visible letters (the emoji variation selectors U+FE00-FE0F are kept: they change
# only how an emoji is drawn).
_INVISIBLE = re.compile(
    "[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u3164\uffa0\U000e0100-\U000e01ef]"
)
# What a terminal acts on or a reader cannot see: controls (Cc: C0, DEL, C1), formats (Cf:
# bidi marks, embeddings, overrides and isolates, U+061C, zero-width and joiners, U+2060-206F,
# the BOM, tag characters U+E0000-E007F, ...), line and paragraph separators, surrogates.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


def _is_hidden(char: str) -> bool:
    return unicodedata.category(char) in _HIDDEN_CATEGORIES or bool(_INVISIBLE.match(char))


#: Characters each translation table remembers.
_TABLE_SIZE = 50_000


class _Table(dict):  # type: ignore[type-arg]
    """A ``str.translate`` table filled on first sight of each character: exact for this
    Python's Unicode data, with no up-front pass over all 1.1 million code points."""

    def __init__(self, rule: Callable[[str], str | None]) -> None:
        super().__init__()
        self.rule = rule

    def __missing__(self, code: int) -> str | int | None:
        char = chr(code)
        value: str | int | None = self.rule(char) if _is_hidden(char) else code
        if len(self) < _TABLE_SIZE:  # bounded: past it, rare characters are looked up again
            self[code] = value
        return value


def _for_line(char: str) -> str | None:
    # Controls and separators break or move the line: a space. Formats are invisible: gone
    # (a soft hyphen or zero-width space inside a word then joins it). Lone surrogates (one
    # per undecodable byte read with errors="surrogateescape") show as U+FFFD.
    category = unicodedata.category(char)
    if category == "Cs":
        return "\ufffd"
    return " " if category in ("Cc", "Zl", "Zp") else None


def _for_block(char: str) -> str | None:
    # As _for_line, but a line break stays one.
    return "\n" if char == "\n" else _for_line(char)


def _for_json(char: str) -> str:
    # JSON's own escape: lossless. A line break outside a string is layout (json.dumps
    # escapes every one inside a string itself), so it stays.
    if char == "\n":
        return char
    code = ord(char)
    if code > 0xFFFF:  # JSON escapes name UTF-16 units: a surrogate pair
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


_LINE = _Table(_for_line)
_BLOCK = _Table(_for_block)
_JSON = _Table(_for_json)
# A style sequence the renderer adds (click.style: "ESC [ 1 ; 32 m"), kept on request.
_SGR = re.compile("(\x1b\\[[0-9;]*m)")


def clean_for_display(text: str) -> str:
    """Return ``text`` safe to print on one line: nothing a terminal acts on, nothing hidden.

    Controls (C0, DEL, C1) and line separators become spaces; invisible format characters
    (bidi marks and overrides, zero-width characters, U+2060-206F, tag characters, ...)
    are removed; lone surrogates become U+FFFD, so the result always encodes; runs of
    whitespace collapse to one space.
    """
    if text.isprintable() and "  " not in text and not _INVISIBLE.search(text):
        # The usual case, tested in C: no control, format, surrogate or space character
        # but the plain space (all are "not printable"), and no run of spaces.
        return text.strip()
    return _SPACES.sub(" ", text.translate(_LINE)).strip()


def clean_for_terminal(text: str, *, styled: bool = False) -> str:
    """Return multi-line ``text`` safe to print: :func:`clean_for_display` line by line,
    keeping line breaks and indentation.

    ``styled`` keeps the colour and weight sequences the renderer itself adds (``ESC [
    ... m``); any other escape sequence loses its ESC and prints as plain characters.
    """
    if text.isprintable() and not _INVISIBLE.search(text):
        return text
    if not styled:
        return text.translate(_BLOCK)
    parts = _SGR.split(text)  # odd positions: the style sequences themselves
    return "".join(p if i % 2 else p.translate(_BLOCK) for i, p in enumerate(parts))


def json_for_terminal(data: Any, **options: Any) -> str:
    """``json.dumps(data, ensure_ascii=False, **options)`` with every control, format,
    separator and surrogate character written as a ``\\uXXXX`` escape: safe to print,
    and ``json.loads`` gives back exactly ``data``."""
    text = json.dumps(data, ensure_ascii=False, **options)
    if text.isprintable() and not _INVISIBLE.search(text):
        return text
    return text.translate(_JSON)


def escaped_for_terminal(text: str) -> str:
    """``text`` with every character :func:`json_for_terminal` escapes written as a visible
    ``\\uXXXX`` escape (JSON's notation: a pair of them beyond U+FFFF); line breaks stay.

    For text that has no escape of its own (CSV) shown on a terminal: nothing is hidden
    and nothing drives the terminal, but a literal ``\\u202e`` in the data reads the same,
    so it is for reading, not for a program (write a file or a pipe for that).
    """
    return "\n".join(
        line if line.isprintable() and not _INVISIBLE.search(line) else line.translate(_JSON)
        for line in text.split("\n")
    )


def json_lines_for_terminal(text: str) -> str:
    """JSON Lines ``text`` (as ``json.dumps(..., ensure_ascii=False)`` writes it) with the
    characters :func:`json_for_terminal` escapes written as ``\\uXXXX``; the line breaks
    between records stay. Lossless: each line still loads to the same object (inside a
    JSON string every line break is already ``\\n``)."""
    return escaped_for_terminal(text)


def normalise(text: str) -> str:
    """Fold ``text`` for matching: compatibility forms, case, accents, punctuation.

    "Qu'est-ce que l'AI Office ?" -> "qu est ce que l ai office".
    """
    return " ".join(normalised_words(text))


def normalised_words(text: str) -> list[str]:
    """The words of :func:`normalise`'s result (without building it and splitting it)."""
    text = text.casefold()
    if not text.isascii():  # most questions are ASCII; skip the per-character work for them
        text = unicodedata.normalize("NFKD", text)
        # Drop combining marks so "sécurité" and "securite" meet; typed questions often
        # lack accents.
        text = _combining_marks().sub("", text)
        if text and max(text) > "\uffff":  # the pattern covers the BMP; beyond it, rare, ask each
            text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _WORD.findall(text)


@functools.cache
def _combining_marks() -> re.Pattern[str]:
    """A character class of the BMP's combining marks, from this Python's Unicode data.

    Built on first use (a few milliseconds) rather than at import; a regex removes them
    several times faster than testing each character in Python.
    """
    marks = [chr(c) for c in range(0x300, 0x10000) if unicodedata.combining(chr(c))]
    return re.compile("[" + "".join(re.escape(m) for m in marks) + "]")


def tokens(normalised: str) -> list[str]:
    """Split normalised text into words."""
    return normalised.split()
