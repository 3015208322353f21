"""Parsing the AI Act into citable passages.

The Regulation's text (``corpus/sources/ai_act_regulation_2024_1689.md``) is split into
passages: recitals, articles, their numbered paragraphs and lettered or numbered points,
annexes and their numbered items. Each passage keeps its text as an exact slice of the
source file, so a quote can always be checked against it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import PackError

__all__ = ["Passage", "PassageKind", "collapse", "parse_act", "quote_cut"]

PassageKind = Literal["recital", "article", "paragraph", "point", "annex", "annex_point"]


@dataclass(frozen=True)
class Passage:
    """One citable piece of the Act.

    ``text`` is ``source[start:end]`` exactly (markers like "1." or "(a)" excluded).
    ``parent`` is the reference of the passage that contains this one, if any.
    """

    reference: str
    kind: PassageKind
    number: str
    title: str
    start: int
    end: int
    text: str = field(repr=False)
    url: str
    parent: str | None = None
    indexed: bool = True

    def ancestors(self, by_ref: dict[str, Passage]) -> list[str]:
        """References of the passages that contain this one, nearest first."""
        out: list[str] = []
        ref = self.parent
        while ref is not None:
            out.append(ref)
            ref = by_ref[ref].parent
        return out


# -- parsing the Act -------------------------------------------------------------------

_ARTICLE = re.compile(r"Article (\d{1,3})[ \t]*")
_CHAPTER = re.compile(r"(?:CHAPTER [IVXLC]+|SECTION \d+)[ \t]*")
_ANNEX = re.compile(r"ANNEX ([IVXLC]+)[ \t]*")
_PARA = re.compile(r"(\d{1,3})\.[ \t]+")
_POINT = re.compile(r"\(([a-z]{1,4}|\d{1,3})\)[ \t]+")
_RECITAL = re.compile(r"\((\d{1,3})\)[ \t]+")
_ROMAN = ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii", "xiii"]


@dataclass
class _Line:
    text: str
    start: int

    @property
    def blank(self) -> bool:
        return not self.text.strip()


def _lines(source: str) -> list[_Line]:
    out: list[_Line] = []
    pos = 0
    for raw in source.splitlines(keepends=True):
        out.append(_Line(raw.rstrip("\r\n"), pos))
        pos += len(raw)
    return out


def _slice(source: str, start: int, end: int) -> tuple[int, int]:
    """Shrink ``[start, end)`` to drop surrounding whitespace."""
    while start < end and source[start].isspace():
        start += 1
    while end > start and source[end - 1].isspace():
        end -= 1
    return start, end


def _next_letter(letter: str | None) -> str:
    return "a" if letter is None else chr(ord(letter) + 1)


def _block_starts(lines: Sequence[_Line]) -> list[int]:
    """Indexes of lines that begin a block (first non-blank line after a blank one)."""
    starts = []
    prev_blank = True
    for i, line in enumerate(lines):
        if not line.blank and prev_blank:
            starts.append(i)
        prev_blank = line.blank
    return starts


@dataclass
class _Node:
    label: str  # "1" for paragraph 1, "a" or "47" for a point
    kind: str  # "para" | "point"
    start: int  # offset just after the marker
    line_start: int  # offset of the marker's line
    end: int | None = None  # set when unmarked text closes the node early
    children: list[_Node] = field(default_factory=list)


def _structure(lines: Sequence[_Line], *, annex: bool) -> list[_Node]:
    """Paragraphs and points of an article or annex body, by their markers.

    A marker only counts when it continues the numbering ("3." after "2.", "(c)" after
    "(b)"), because the converted text wraps lines and a wrapped line may start with a
    number. A point whose line ends with ":" opens a sub-list ("(i)", "(ii)" or, under a
    numbered point, "(a)", "(b)") that stays inside it. Unmarked text after a point is a
    subparagraph of the paragraph, so it ends the point. Annex numbering may restart at 1
    in a new section.
    """
    paras: list[_Node] = []
    loose: list[_Node] = []  # points outside any numbered paragraph
    para: _Node | None = None
    point: _Node | None = None
    last_letter: str | None = None
    last_number = 0
    sub: list[str] | None = None  # the labels a sub-list would continue with
    for i in _block_starts(lines):
        line = lines[i]
        m = _PARA.match(line.text)
        want = (int(para.label) + 1) if para is not None else 1
        if m and (int(m.group(1)) == want or (annex and m.group(1) == "1" and para is not None)):
            if point is not None and point.end is None:
                point.end = line.start
            point, last_letter, last_number, sub = None, None, 0, None
            para = _Node(m.group(1), "para", line.start + m.end(), line.start)
            paras.append(para)
            continue
        m = _POINT.match(line.text)
        if m:
            label = m.group(1)
            if sub == ["?"] and label in ("i", "a"):
                sub = _ROMAN[1:] if label == "i" else [chr(c) for c in range(ord("b"), 123)]
                continue  # a sub-point: part of the current point's text
            if sub and label == sub[0]:
                sub = sub[1:]
                continue
            if label == _next_letter(last_letter) or (
                label.isdigit() and int(label) == last_number + 1
            ):
                if point is not None and point.end is None:
                    point.end = line.start
                if label.isdigit():
                    last_number = int(label)
                else:
                    last_letter = label
                point = _Node(label, "point", line.start + m.end(), line.start)
                (para.children if para is not None else loose).append(point)
                # "?": the sub-list's first label ("i" or "a") tells which numbering it uses.
                sub = ["?"] if line.text.rstrip().endswith(":") else None
                continue
        if line.text.lstrip().startswith(("\u2014", "-")) and point is not None:
            continue  # a dash item inside the current point
        if point is not None and point.end is None:
            point.end = line.start
        point, sub = None, None
    return paras if paras else loose


def parse_act(source: str, *, eli: str) -> tuple[Passage, ...]:
    """Split the Act's text into passages (recitals, articles, paragraphs, points, annexes).

    Raises:
        PackError: the text does not look like the AI Act (no recitals or no articles).
    """
    lines = _lines(source)
    passages: list[Passage] = []
    texts = [ln.text for ln in lines]

    def add(
        ref: str,
        kind: PassageKind,
        number: str,
        title: str,
        start: int,
        end: int,
        url: str,
        parent: str | None,
        indexed: bool,
    ) -> None:
        start, end = _slice(source, start, end)
        if end > start:
            passages.append(
                Passage(
                    ref, kind, number, title, start, end, source[start:end], url, parent, indexed
                )
            )

    # Recitals: between "Whereas:" and "HAVE ADOPTED THIS REGULATION:".
    try:
        first = texts.index("Whereas:")
        last = next(i for i, t in enumerate(texts) if t.startswith("HAVE ADOPTED"))
    except (ValueError, StopIteration) as exc:
        raise PackError("does not look like the AI Act: no recitals found") from exc
    recital_marks = []
    expected = 1
    for i in range(first + 1, last):
        m = _RECITAL.match(texts[i])
        if m and int(m.group(1)) == expected:
            recital_marks.append((expected, lines[i].start + m.end()))
            expected += 1
    for n, (num, start) in enumerate(recital_marks):
        end = (
            lines[_line_at(lines, recital_marks[n + 1][1])].start
            if n + 1 < len(recital_marks)
            else lines[last].start
        )
        add(f"Recital {num}", "recital", str(num), "", start, end, f"{eli}/rct_{num}", None, True)

    # Articles: from "HAVE ADOPTED" to the closing formula of Article 113.
    body_end = next(
        (i for i in range(last, len(texts)) if texts[i].startswith("Done at ")), len(texts)
    )
    heads: list[int] = []
    want = 1
    for i in range(last, body_end):
        m = _ARTICLE.fullmatch(texts[i])
        if (
            m
            and int(m.group(1)) == want
            and (i == 0 or lines[i - 1].blank)
            and (i + 1 < len(lines) and lines[i + 1].blank)
        ):
            heads.append(i)
            want += 1
    if not heads:
        raise PackError("does not look like the AI Act: no articles found")
    for n, head in enumerate(heads):
        stop = heads[n + 1] if n + 1 < len(heads) else body_end
        # A chapter or section heading before the next article is not part of this one.
        for j in range(head + 1, stop):
            if _CHAPTER.fullmatch(texts[j]):
                stop = j
                break
        number = str(n + 1)
        title, body = _title(lines, head + 1, stop)
        _add_structured(
            add,
            source,
            lines[body:stop],
            f"Article {number}",
            "article",
            number,
            title,
            f"{eli}/art_{number}",
            end=lines[stop].start if stop < len(lines) else len(source),
        )

    # Annexes: "ANNEX III", its title, then the body up to "* * *".
    for i in range(body_end, len(texts)):
        m = _ANNEX.fullmatch(texts[i])
        if not m:
            continue
        number = m.group(1)
        stop = next(
            (j for j in range(i + 1, len(texts)) if texts[j].strip() == "* * *"), len(texts)
        )
        title, body = _title(lines, i + 1, stop)
        _add_structured(
            add,
            source,
            lines[body:stop],
            f"Annex {number}",
            "annex",
            number,
            title,
            f"{eli}/anx_{number}",
            end=lines[stop].start if stop < len(lines) else len(source),
        )
    return tuple(passages)


def _line_at(lines: Sequence[_Line], offset: int) -> int:
    lo, hi = 0, len(lines) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if lines[mid].start <= offset:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _title(lines: Sequence[_Line], begin: int, stop: int) -> tuple[str, int]:
    """The heading after "Article N" / "ANNEX N" (up to a blank line) and where the body starts."""
    i = begin
    while i < stop and lines[i].blank:
        i += 1
    parts = []
    while i < stop and not lines[i].blank:
        parts.append(lines[i].text.strip())
        i += 1
    return collapse(" ".join(parts)).rstrip("`"), i


def _add_structured(
    add: Any,
    source: str,
    body: Sequence[_Line],
    ref: str,
    kind: PassageKind,
    number: str,
    title: str,
    url: str,
    *,
    end: int,
) -> None:
    if not body:
        return
    annex = kind == "annex"
    nodes = _structure(body, annex=annex)
    start = body[0].start
    seen: set[str] = set()

    def child_ref(parent_ref: str, node: _Node, top: bool) -> str:
        if annex and top:
            label = node.label if node.kind == "para" else f"({node.label})"
            return f"{parent_ref}, point {label}"
        if annex:
            return f"{parent_ref}({node.label})"
        if node.kind == "para" or node.label.isdigit() or not top:
            return f"{parent_ref}({node.label})"
        return f"{parent_ref}, point ({node.label})"

    # The whole article or annex is a lookup target; it is only ranked when it has no parts.
    add(ref, kind, number, title, start, end, url, None, not nodes)
    sub_kind: PassageKind = "annex_point" if annex else "paragraph"
    for n, node in enumerate(nodes):
        node_end = node.end or (nodes[n + 1].line_start if n + 1 < len(nodes) else end)
        node_ref = child_ref(ref, node, True)
        if node_ref in seen:  # annex numbering restarting in a new section
            continue
        seen.add(node_ref)
        kind_here: PassageKind = sub_kind if node.kind == "para" or annex else "point"
        add(node_ref, kind_here, number, title, node.start, node_end, url, ref, True)
        for c, child in enumerate(node.children):
            child_end = child.end or (
                node.children[c + 1].line_start if c + 1 < len(node.children) else node_end
            )
            child_kind: PassageKind = "annex_point" if annex else "point"
            add(
                child_ref(node_ref, child, False),
                child_kind,
                number,
                title,
                child.start,
                child_end,
                url,
                node_ref,
                True,
            )


def collapse(text: str) -> str:
    """Join the source's hard line wraps: runs of whitespace become one space."""
    return " ".join(text.split())


_SENTENCE_END = re.compile(r"[.;:](?=\s+\S)")
# Abbreviations whose full stop does not end a sentence in the Act.
_NO_END = ("e.g.", "i.e.", "No.", "Art.", "p.", "etc.")


def quote_cut(text: str, limit: int) -> str:
    """``text`` (whitespace joined) if short; else cut at the last sentence end before
    ``limit`` characters (or the first after it), followed by " …"."""
    text = collapse(text)
    if len(text) <= limit:
        return text
    ends = [
        m.end()
        for m in _SENTENCE_END.finditer(text)
        if not text[max(0, m.end() - 6) : m.end()].endswith(_NO_END)
    ]
    before = [e for e in ends if limit // 4 <= e <= limit]
    after = [e for e in ends if e > limit]
    if before:
        cut = before[-1]
    elif after and after[0] <= 2 * limit:
        cut = after[0]
    else:  # one very long sentence: cut between words
        cut = text.rfind(" ", 0, limit)
        cut = cut if cut > 0 else limit
    return text[:cut].rstrip() + " \u2026"
