"""The AI Act as citable passages, and the provisions that bear on a question.

The Regulation's text (``corpus/sources/ai_act_regulation_2024_1689.md``) is split into
passages: recitals, articles, their numbered paragraphs and lettered or numbered points,
annexes and their numbered items. Each passage keeps its text as an exact slice of the
source file, so a quote can always be checked against it.

A question gets provisions in one of two ways:

* it names them ("what does Article 50 say?", "art. 5(1)(a)", "Annex III", "Artikel 50"):
  they are returned directly, in the order named;
* otherwise a BM25 index over the passages ranks them on the question's words, with the
  routed unit's articles (``unit_articles`` in ``corpus/provisions.yaml``) weighing more.
  At most three are returned, and only above a relevance floor fitted on labelled
  questions (``ai-office``'s ``benchmarks/bench_provisions.py --fit`` writes it), because
  a wrong citation is worse than none.

The index is built on first use, so loading a router stays fast.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import operator
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..errors import PackError
from ..yamlio import line_of, read_yaml

__all__ = [
    "SETTINGS_FILE",
    "Passage",
    "Provision",
    "ProvisionIndex",
    "Settings",
    "collapse",
    "load_provisions",
    "parse_act",
    "quote_cut",
]

SETTINGS_FILE = "provisions.yaml"

PassageKind = Literal["recital", "article", "paragraph", "point", "annex", "annex_point"]


@dataclass(frozen=True)
class Provision:
    """A provision cited for a question.

    Attributes:
        reference: how lawyers cite it: "Article 101(1)", "Article 5(1)(a)", "Recital 111",
            "Annex XIII", "Annex III, point 1(a)".
        text: the quote to show: ``full_text``, cut at a sentence boundary with " …" when long.
        full_text: the whole passage, verbatim; the source's hard line wraps are joined.
        url: the ELI link of the article, recital or annex.
        title: the article's or annex's heading ("" for recitals).
        named: the question named this provision (rather than it being retrieved).
        score: the retrieval score (BM25 with the unit weighting); 0 for named ones.
    """

    reference: str
    text: str
    full_text: str
    url: str
    title: str = ""
    named: bool = False
    score: float = 0.0
    #: For a point, the words of its paragraph before the first point ("The following AI
    #: practices shall be prohibited:"), without which a point makes no sense alone.
    lead_in: str = ""


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


@dataclass(frozen=True)
class Settings:
    """Retrieval settings of ``corpus/provisions.yaml`` (see that file for what each does)."""

    source_file: str
    eli: str
    k1: float = 1.2
    b: float = 0.75
    unit_boost: float = 0.5
    recital_weight: float = 0.8
    floor: float = 0.6
    ratio: float = 0.6
    max_results: int = 3
    quote_chars: int = 320
    title_weight: int = 2
    definition_bonus: float = 10.0
    #: An article after the first is cited when the Act router scores it at least this
    #: share of the first (router.law.articles).
    article_share: float = 0.0
    #: No provision is cited below this probability of the Act router's best article.
    article_floor: float = 0.25
    unit_articles: dict[str, tuple[str, ...]] = field(default_factory=dict)
    expansions: dict[str, str] = field(default_factory=dict)
    stopwords: frozenset[str] = frozenset()


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


# -- references named in a question -------------------------------------------------------

# Characters folded to their ASCII look-alike rather than dropped (see _fold).
_FOLD = (("\u2019", "'"), ("\u00a0", " "))
_REF_ARTICLE = re.compile(
    r"\b(?:articles?|arts?|artikel[ns]?|articolo|articoli|articulos?)\b\.?\s*(\d{1,3})"
    r"((?:\s*\(\s*(?:\d{1,3}|[a-z]{1,4})\s*\))*)"
    r"(?:\s*,?\s*(?:paragraph|paragraphe|para|par|absatz|abs|comma|apartado)\.?\s*(\d{1,3}))?"
    r"(?:\s*,?\s*(?:point|punkt|lettre|lettera|letra)\s*\(?([a-z]{1,4}|\d{1,3})\)?)?"
)
_REF_ANNEX = re.compile(
    r"\b(?:annex|annexe|anhang|allegato|anexo)\s+([ivxlc]+)\b"
    r"(?:\s*,?\s*(?:point|punkt|punto|pt)\.?\s*(\d{1,3})((?:\s*\(\s*[a-z]{1,4}\s*\))*))?"
)
_REF_RECITAL = re.compile(
    r"\b(?:recital|considerant|erwagungsgrund|considerando)s?\s*\(?(\d{1,3})\)?"
)


# Every keyword of the three patterns above holds one of these: a question without any
# (nearly all) names no provision, and the patterns need not run.
_REF_STEMS = ("art", "ann", "anh", "anexo", "allegato", "recital", "consideran", "erwagungsgrund")


def _fold(text: str) -> str:
    """Case- and accent-fold ("Erwägungsgrund" -> "erwagungsgrund")."""
    text = text.casefold()
    if text.isascii():  # most questions: nothing else to do
        return text
    for char, ascii_char in _FOLD:
        text = text.replace(char, ascii_char)
    if text.isascii():
        return text
    # Decomposing then dropping what is not ASCII removes the accents (in C, fast enough
    # for the whole Act); other non-ASCII characters only ever separate words here.
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def parent_reference(reference: str) -> str:
    """A reference without its last part: "Article 5(1)" of "Article 5(1)(a)", "Annex III"
    of "Annex III, point 4", "Annex XIII" of "Annex XIII, point (f)"; a whole article or
    annex is its own."""
    if reference.endswith(")"):
        head = reference[: reference.rindex("(")].rstrip()
        return head.removesuffix(", point")
    return reference.rsplit(", ", 1)[0]


def named_references(question: str) -> list[str]:
    """The provisions a question names, as references ("Article 5(1)(a)"), in order."""
    return _named_in(_fold(question))


def _named_in(folded: str) -> list[str]:
    """:func:`named_references` of an already folded question."""
    if not any(map(folded.__contains__, _REF_STEMS)):
        return []
    found: list[tuple[int, str]] = []
    for m in _REF_ARTICLE.finditer(folded):
        parts = re.findall(r"\(\s*([^)\s]+)\s*\)", m.group(2) or "")
        parts += [g for g in (m.group(3), m.group(4)) if g]
        found.append((m.start(), f"Article {int(m.group(1))}" + "".join(f"({p})" for p in parts)))
    for m in _REF_ANNEX.finditer(folded):
        ref = f"Annex {m.group(1).upper()}"
        if m.group(2):
            parts = re.findall(r"\(\s*([a-z]{1,4})\s*\)", m.group(3) or "")
            ref += f", point {int(m.group(2))}" + "".join(f"({p})" for p in parts)
        found.append((m.start(), ref))
    for m in _REF_RECITAL.finditer(folded):
        found.append((m.start(), f"Recital {int(m.group(1))}"))
    out: list[str] = []
    for _, ref in sorted(found):
        if ref not in out:
            out.append(ref)
    return out


# The marker of the first point ("(a)", "1."), which a lead-in's slice ends with.
_MARKER_AT_END = re.compile(r"\s*(?:\([0-9a-z]{1,4}\)|\d{1,3}\.)\s*$")

# -- retrieval ---------------------------------------------------------------------------

_WORD = re.compile(r"[a-z0-9]+")
_DEFINED = re.compile(r"\u2018([^\u2019]{1,80})\u2019 means")
_DEFINITION_WORDS = frozenset({"defin", "define", "definition", "mean", "meant", "count", "sense"})
_DEFINITION_QUESTION = re.compile(
    r"\b(?:what (?:is|are|does)|define[sd]?|definition|meaning|mean[st]?|counts? as|"
    r"what is meant)\b"
)
# Every alternative of _DEFINITION_QUESTION holds one of these. Few questions hold any, and
# the pattern is slow (it tries each alternative at each word), so it runs only on those.
_DEFINITION_HINTS = ("what", "defin", "mean", "count")
_SUFFIXES = ("ations", "ation", "ings", "ing", "ies", "ers", "ed", "es", "er", "s")
# "Article 113(a)": a point of an article without numbered paragraphs.
_ARTICLE_POINT = re.compile(r"(Article \d+)\(([a-z]+)\)")
# Typed words are an open set: the memo of their terms starts afresh past this size (twice
# the words of the AI Office pack's training data, five times the Act's terms), so that a
# long-running router, or a batch worker, stays small.
_WORD_MEMO_SIZE = 1 << 14


@functools.cache
def _stem(word: str) -> str:
    """A light English stemmer: enough to meet "fines"/"fine", "providers"/"provider"."""
    if len(word) <= 4 or word.isdigit():
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            stem = word[: -len(suffix)]
            return stem + "y" if suffix == "ies" else stem
    return word


class _WordTerms(dict[str, tuple[int, ...]]):
    """Each word's terms, worked out once per word: the vocabulary index of each of its
    tokens, or for a token the Act never uses a negative number of its own (so that the
    distinct unknown tokens of a question can be counted, and sort before the known).

    It is never emptied, as a question's terms must all come from one numbering: the
    index starts a new one when this one grows too big.
    """

    def __init__(self, tokens: Callable[[str], tuple[str, ...]], vocabulary: dict[str, int]):
        super().__init__()
        self._tokens = tokens
        self._vocabulary = vocabulary
        self._unknown: dict[str, int] = {}
        self._numbers = itertools.count(-1, -1)  # next() is atomic: safe across threads

    def __missing__(self, word: str) -> tuple[int, ...]:
        vocabulary, unknown = self._vocabulary, self._unknown
        terms = tuple(
            vocabulary[t] if t in vocabulary else unknown.setdefault(t, next(self._numbers))
            for t in self._tokens(word)
        )
        self[word] = terms
        return terms


class ProvisionIndex:
    """The Act's passages, a BM25 index over them, and the lookup of named provisions.

    Build it with :func:`load_provisions`; it is immutable once built.
    """

    def __init__(self, passages: Sequence[Passage], settings: Settings) -> None:
        from scipy import sparse  # imported here: routers that cite nothing never need it

        self.passages = tuple(passages)
        self.settings = settings
        self.by_reference = {p.reference: p for p in self.passages}
        self._ranked = [i for i, p in enumerate(self.passages) if p.indexed]
        self._unit_rows: dict[str, np.ndarray] = {}
        self._quotes: dict[str, tuple[str, str]] = {}  # reference -> (quote, full text)
        self._leads: dict[str, str] = {}  # a parent's reference -> its lead-in
        vocab: dict[str, int] = {}
        rows, cols, vals = [], [], []
        lengths = np.zeros(len(self._ranked))
        for r, i in enumerate(self._ranked):
            p = self.passages[i]
            # The heading counts too: "Fines for providers of general-purpose AI models".
            counts: dict[int, int] = {}
            toks = self._tokens(" ".join([p.title] * settings.title_weight + [p.text]))
            lengths[r] = len(toks)
            for t in toks:
                j = vocab.setdefault(t, len(vocab))
                counts[j] = counts.get(j, 0) + 1
            rows += [r] * len(counts)
            cols += list(counts)
            vals += list(counts.values())
        self.vocabulary_ = vocab
        self._terms_of = _WordTerms(self._word_tokens, vocab)
        tf = sparse.csr_matrix(
            (np.asarray(vals, float), (rows, cols)), shape=(len(self._ranked), len(vocab))
        )
        df = np.bincount(tf.indices, minlength=len(vocab))
        n = len(self._ranked)
        idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
        k1, b = settings.k1, settings.b
        self.idf_ = idf
        self.idf_max_ = float(np.log(1 + (n + 0.5) / 0.5))
        # Which words each passage holds (vocabulary x passages), for coverage.
        self.present_ = sparse.csr_matrix(
            (np.ones(tf.nnz), tf.indices, tf.indptr), shape=tf.shape
        ).T.tocsr()
        norm = k1 * (1 - b + b * lengths / lengths.mean())
        tf = tf.tocoo()
        weight = tf.data * (k1 + 1) / (tf.data + norm[tf.row]) * idf[tf.col]
        prior = np.array(
            [
                settings.recital_weight if self.passages[i].kind == "recital" else 1.0
                for i in self._ranked
            ]
        )
        weight = weight * prior[tf.row]
        # Columns are query terms: scoring a question sums a few columns.
        self.weights_ = sparse.csc_matrix(
            (weight, (tf.row, tf.col)), shape=(n, len(vocab))
        ).T.tocsr()
        # Both sums in one product: the real part is the BM25 weight, the imaginary part
        # the idf of the words the passage holds (coverage's numerator). A query's entries
        # are 1 + 0j, so each term adds exactly w and idf (1·w - 0·idf = w), in the same
        # order as two separate products would: the scores are the same to the last bit.
        self._term_passages = (
            self.weights_ + 1j * self.present_.multiply(idf[:, np.newaxis])
        ).tocsr()
        # Retrieval looks only at the passages that share a word with the question, which
        # is exact when no score is negative (the others' zero then never wins).
        self._sparse_exact = (
            float(weight.min(initial=0.0)) >= 0
            and settings.definition_bonus >= 0
            and settings.unit_boost >= -1
        )
        self._ranked_passages = [self.passages[i] for i in self._ranked]
        self._ancestors = [frozenset(p.ancestors(self.by_reference)) for p in self._ranked_passages]
        self._articles = np.array([self._article_of(p) for p in self._ranked_passages])
        # Article 3's points define terms: "'deployer' means ...". A question asking what a
        # term means should get its definition, which plain word overlap ranks too low.
        self._definitions: list[tuple[frozenset[str], int]] = []
        for r, p in enumerate(self._ranked_passages):
            m = _DEFINED.match(p.text)
            if p.kind == "point" and p.number == "3" and m:
                self._definitions.append((frozenset(self._tokens(m.group(1))), r))

    @staticmethod
    def _article_of(p: Passage) -> str:
        if p.kind == "recital":
            return f"Recital {p.number}"
        return f"{'Annex' if p.kind.startswith('annex') else 'Article'} {p.number}"

    def _tokens(self, text: str) -> list[str]:
        return [t for w in _WORD.findall(_fold(text)) for t in self._word_tokens(w)]

    def _word_tokens(self, word: str) -> tuple[str, ...]:
        """The tokens a word stands for: its expansion's words or itself, stopwords
        dropped, stemmed."""
        expansions, stop = self.settings.expansions, self.settings.stopwords
        if word in expansions:
            return tuple(_stem(x) for x in expansions[word].split() if x not in stop)
        return () if word in stop else (_stem(word),)

    def _unit_mask(self, unit_id: str | None) -> np.ndarray | None:
        if unit_id is None or unit_id not in self.settings.unit_articles:
            return None
        if unit_id not in self._unit_rows:
            wanted = set(self.settings.unit_articles[unit_id])
            self._unit_rows[unit_id] = np.array([a in wanted for a in self._articles])
        return self._unit_rows[unit_id]

    # -- public ---------------------------------------------------------------------------

    def get(self, reference: str) -> Passage | None:
        """The passage with this exact reference, or None."""
        return self.by_reference.get(reference)

    def provision(self, passage: Passage, *, named: bool = False, score: float = 0.0) -> Provision:
        """A :class:`Provision` for ``passage``, quoted to the configured length."""
        # Cutting the quote is costly and the same passages are cited again and again. Only
        # this index's own passages are remembered, so the memo stays bounded.
        own = self.by_reference.get(passage.reference) is passage
        quoted = self._quotes.get(passage.reference) if own else None
        if quoted is None:
            quoted = (quote_cut(passage.text, self.settings.quote_chars), collapse(passage.text))
            if own:
                self._quotes[passage.reference] = quoted
        return Provision(
            reference=passage.reference,
            text=quoted[0],
            full_text=quoted[1],
            url=passage.url,
            title=passage.title,
            named=named,
            score=round(score, 4),
            lead_in=self.lead_in(passage),
        )

    def lead_in(self, passage: Passage) -> str:
        """The words of a point's parent before its first point ("" for other passages)."""
        if passage.kind not in ("point", "annex_point") or passage.parent is None:
            return ""
        if passage.parent not in self._leads:
            parent = self.by_reference[passage.parent]
            first = min(
                (p.start for p in self.passages if p.parent == parent.reference),
                default=parent.end,
            )
            lead = collapse(parent.text[: max(first - parent.start, 0)])
            self._leads[passage.parent] = _MARKER_AT_END.sub("", lead)
        return self._leads[passage.parent]

    def lookup(self, question: str) -> tuple[Provision, ...]:
        """The provisions the question names that exist in the Act (at most the maximum)."""
        return self._lookup(_fold(question))

    def _lookup(self, folded: str) -> tuple[Provision, ...]:
        """:meth:`lookup` of an already folded question."""
        found = []
        for ref in _named_in(folded):
            # "Article 113(a)": a point of an article without numbered paragraphs is cited
            # "Article 113, point (a)".
            plain = _ARTICLE_POINT.fullmatch(ref)
            alt = f"{plain.group(1)}, point ({plain.group(2)})" if plain else ref
            passage = self.get(ref) or self.get(alt)
            # A point the Act lacks ("Annex III, point 9"): the provision that would hold it.
            while passage is None and parent_reference(ref) != ref:
                ref = parent_reference(ref)
                passage = self.get(ref)
            if passage is not None and passage not in found:
                found.append(passage)
        hits = [self.provision(p, named=True) for p in found]
        return tuple(hits[: self.settings.max_results])

    def scores(
        self, questions: Sequence[str], units: Sequence[str | None]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Scores of every ranked passage for each question (questions x passages).

        Returns ``(bm25, coverage)``: BM25 with the unit weighting, and the share of the
        question's weight (its words' idf) that the passage contains. Words the Act never
        uses weigh the most, so "who won the football match?" is barely covered by the one
        passage that mentions a match. A passage defining the term a "what is ..." question
        asks about covers it fully.
        """
        return self._dense([_fold(q) for q in questions], units)

    def _dense(
        self, folded: Sequence[str], units: Sequence[str | None]
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`scores` of already folded questions."""
        indptr, cols, bm25, covered, totals = self._scored(folded, units)
        rows = np.repeat(np.arange(len(folded)), np.diff(indptr))
        shape = (len(folded), len(self._ranked))
        scores, coverage = np.zeros(shape), np.zeros(shape)
        scores[rows, cols] = bm25
        coverage[rows, cols] = covered / totals[rows]
        return scores, coverage

    def _scored(
        self, folded: Sequence[str], units: Sequence[str | None]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The entries of :meth:`scores` that can differ from 0, row by row as in a CSR
        matrix: ``(indptr, columns, bm25, covered, totals)``. An entry's coverage is
        ``covered / totals[row]``, worked out only where needed. Every other passage
        scores 0 and covers nothing."""
        from scipy import sparse

        s = self.settings
        if len(self._terms_of) >= _WORD_MEMO_SIZE:
            self._terms_of = _WordTerms(self._word_tokens, self.vocabulary_)
        terms_of = self._terms_of.__getitem__  # this batch keeps this memo throughout
        indptr, indices, unknown = [0], [], []
        definitions: list[tuple[int, int]] = []
        for r, text in enumerate(folded):
            words = _WORD.findall(text)
            # Sorted: the products add the terms up in this order (a COO-built query's
            # canonical order), so that every sum is the same to the last bit.
            terms = sorted(set().union(*map(terms_of, words)))
            known = bisect.bisect_left(terms, 0)  # unknown tokens have negative numbers
            indices += terms[known:]
            indptr.append(len(indices))
            unknown.append(known)
            j = self._definition(text, words)
            if j is not None:
                definitions.append((r, j))
        shape = (len(folded), len(self.vocabulary_))
        cols_q = np.asarray(indices, dtype=np.int32)
        starts_q = np.asarray(indptr, dtype=np.int32)
        query = sparse.csr_matrix((np.ones(len(cols_q), complex), cols_q, starts_q), shape=shape)
        # The question's weight: its known words' idf, and the most an idf can be for each
        # word the Act never uses.
        weighted = sparse.csr_matrix((self.idf_[cols_q], cols_q, starts_q), shape=shape)
        total = np.asarray(weighted.sum(axis=1)).ravel() + np.asarray(unknown, float) * (
            self.idf_max_
        )
        totals = np.maximum(total, 1e-9)
        product = query @ self._term_passages
        indptr_p, cols = product.indptr, product.indices
        bm25, covered = product.data.real, product.data.imag  # views: the product is ours
        # The definition asked about gets the bonus and covers the question (its total
        # over itself is exactly 1). One that shares no word with it ends its row.
        added: list[tuple[int, int, int]] = []
        for r, j in definitions:
            start, stop = indptr_p[r], indptr_p[r + 1]
            at = np.flatnonzero(cols[start:stop] == j)
            if at.size:
                bm25[start + at[0]] += s.definition_bonus
                covered[start + at[0]] = totals[r]
            else:
                added.append((stop, r, j))
        counts = np.diff(indptr_p)
        if added:
            where, new_rows, new_cols = (list(x) for x in zip(*added))
            cols = np.insert(cols, where, new_cols)
            bm25 = np.insert(bm25, where, 0.0 + s.definition_bonus)
            covered = np.insert(covered, where, totals[new_rows])
            counts[new_rows] += 1
            indptr_p = np.concatenate([[0], np.cumsum(counts)])
        boosted = self._boosted(units, counts, cols)
        if boosted is not None:
            bm25[boosted] *= 1 + s.unit_boost
        return indptr_p, cols, bm25, covered, totals

    def _boosted(
        self, units: Sequence[str | None], counts: np.ndarray, cols: np.ndarray
    ) -> np.ndarray | None:
        """Which entries (``counts`` per row, in ``cols``) are a passage of their row's
        unit's articles; None when no row's unit has articles."""
        masks: list[np.ndarray] = [np.zeros(len(self._ranked), bool)]  # 0: no unit weighting
        slot: dict[str | None, int] = {}
        mask_of_row = []
        for unit in units:
            k = slot.get(unit)
            if k is None:
                mask = self._unit_mask(unit)
                k = slot[unit] = 0 if mask is None else len(masks)
                if mask is not None:
                    masks.append(mask)
            mask_of_row.append(k)
        if len(masks) == 1:
            return None
        # The masks end to end: an entry's place is its row's mask, then its column.
        offsets = np.repeat(np.asarray(mask_of_row) * len(self._ranked), counts)
        return np.concatenate(masks).take(offsets + cols)

    def _definition(self, folded: str, words: list[str]) -> int | None:
        """The Article 3 point defining the term a "what is X?" question asks about."""
        if not any(map(folded.__contains__, _DEFINITION_HINTS)):
            return None
        if not _DEFINITION_QUESTION.search(folded):
            return None
        tokens = {t for w in words for t in self._word_tokens(w)}
        content = tokens - _DEFINITION_WORDS
        # The longest defined term the question holds ("general-purpose AI model" rather
        # than "AI model"), and only when it is most of what is asked: "what is a high-risk
        # system used in hospitals?" is not asking for the definition of "AI system".
        best = max(
            (
                (len(term), j)
                for term, j in self._definitions
                if term and term <= tokens and 2 * len(term) >= len(content)
            ),
            default=None,
        )
        return None if best is None else best[1]

    def best_within(
        self, questions: Sequence[str], articles: Sequence[str]
    ) -> list[Passage]:
        """For each question, the passage of its article (or annex) that its words score
        best on: a paragraph or point, or the article itself when none shares a word."""
        folded = [_fold(q) for q in questions]
        indptr, cols, bm25, _, _ = self._scored(folded, [None] * len(folded))
        counts = np.diff(indptr)
        wanted = np.repeat(np.asarray(articles, dtype=object), counts)
        inside = self._articles[cols].astype(object) == wanted
        out = []
        for r, article in enumerate(articles):
            start, stop = indptr[r], indptr[r + 1]
            mine = np.flatnonzero(inside[start:stop]) + start
            if mine.size:
                best = mine[np.argmax(bm25[mine])]
                out.append(self._ranked_passages[cols[best]])
            else:
                out.append(self.by_reference[article])
        return out

    def search(self, question: str, unit: str | None = None) -> tuple[Provision, ...]:
        """The provisions for one question: named ones, else the retrieved ones over the floor."""
        return self.search_many([question], [unit])[0]

    def search_many(
        self, questions: Sequence[str], units: Sequence[str | None]
    ) -> list[tuple[Provision, ...]]:
        """:meth:`search` for many questions, scoring them in one sparse product."""
        folded = [_fold(q) for q in questions]  # once: lookup and scoring both need it
        results: list[tuple[Provision, ...] | None] = [self._lookup(f) or None for f in folded]
        todo = [i for i, r in enumerate(results) if r is None]
        if todo:
            found = self._retrieve([folded[i] for i in todo], [units[i] for i in todo])
            for i, provisions in zip(todo, found):
                results[i] = provisions
        return [r or () for r in results]

    def _retrieve(
        self, folded: Sequence[str], units: Sequence[str | None]
    ) -> list[tuple[Provision, ...]]:
        """:meth:`_pick` for each question, on the passages that share a word with it.

        The same choice as ``_pick`` on the rows of :meth:`scores`, without building them:
        a passage outside a question's entries scores 0, and can only be picked with a
        ratio and a floor both at or below 0 (then the dense rows are used).
        """
        s = self.settings
        if not self._sparse_exact or (s.ratio <= 0 and s.floor <= 0):
            scores, coverage = self._dense(folded, units)
            return [self._pick(scores[r], coverage[r]) for r in range(len(folded))]
        indptr, cols, bm25, covered, totals = self._scored(folded, units)
        picked: list[tuple[Provision, ...]] = [()] * len(folded)
        counts = np.diff(indptr)
        filled = np.flatnonzero(counts)
        if not filled.size:
            return picked
        # Each row's best score (a row without entries keeps 0: nothing to cite).
        top = np.zeros(len(folded))
        top[filled] = np.maximum.reduceat(bm25, indptr[filled])
        best = np.repeat(top, counts)
        keep = np.flatnonzero((best > 0) & (bm25 >= s.ratio * best))
        rows = np.searchsorted(indptr, keep, side="right") - 1
        covers = covered[keep] / totals[rows] >= s.floor
        keep, rows = keep[covers], rows[covers]
        # By row, then best first, ties by column: the order of _pick's stable sort.
        order = np.lexsort((cols[keep], -bm25[keep], rows))
        keep, rows = keep[order], rows[order]
        ranked = zip(rows.tolist(), cols[keep].tolist(), bm25[keep].tolist())
        for r, group in itertools.groupby(ranked, key=operator.itemgetter(0)):
            picked[r] = self._choose((j, score) for _, j, score in group)
        return picked

    def _pick(
        self,
        scores: np.ndarray,
        coverage: np.ndarray,
        *,
        floor: float | None = None,
        ratio: float | None = None,
    ) -> tuple[Provision, ...]:
        """The best passages that cover at least ``floor`` of the question and score at
        least ``ratio`` of the best score, one per family (a paragraph or its point)."""
        s = self.settings
        floor = s.floor if floor is None else floor
        ratio = s.ratio if ratio is None else ratio
        top = float(scores.max()) if scores.size else 0.0
        if top <= 0:
            return ()
        candidates = np.flatnonzero((scores >= ratio * top) & (coverage >= floor))
        order = candidates[np.argsort(-scores[candidates], kind="stable")]
        return self._choose((j, float(scores[j])) for j in order.tolist())

    def _choose(self, ranked: Iterable[tuple[int, float]]) -> tuple[Provision, ...]:
        """The first of ``ranked`` (column, score), up to the maximum, one per family."""
        chosen: list[tuple[int, float]] = []
        taken: set[str] = set()
        lineage: set[str] = set()  # the ancestors of the chosen ones
        for j, score in ranked:
            ref = self._ranked_passages[j].reference
            # A paragraph and one of its points say the same thing twice: keep the better.
            if ref in taken or ref in lineage or not taken.isdisjoint(self._ancestors[j]):
                continue
            chosen.append((j, score))
            taken.add(ref)
            lineage |= self._ancestors[j]
            if len(chosen) == self.settings.max_results:
                break
        return tuple(self.provision(self._ranked_passages[j], score=v) for j, v in chosen)


def read_settings(path: Path) -> Settings:
    """Read ``corpus/provisions.yaml``.

    Raises:
        PackError: the file is malformed; the message names it.
    """
    data = read_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("source"), dict):
        raise PackError("expected a mapping with a 'source' mapping (file, eli)", path=path)
    source = data["source"]
    retrieval = data.get("retrieval") or {}
    if not isinstance(retrieval, dict):
        raise PackError("'retrieval' must be a mapping", path=path)
    fitted = data.get("fitted") or {}
    stopwords = data.get("stopwords") or []
    for i, word in enumerate(stopwords):
        # YAML 1.1 reads on, no, yes, off (and others) as booleans: a stopword that is not
        # text would silently stop nothing.
        if not isinstance(word, str):
            raise PackError(
                f"stopword {word!r} is not a word; quote it (YAML reads on/no/yes/off as "
                "true or false)",
                path=path,
                line=line_of(stopwords, i),
            )
    try:
        unit_articles = {
            str(k): tuple(str(a) for a in v) for k, v in (data.get("unit_articles") or {}).items()
        }
        return Settings(
            source_file=str(source["file"]),
            eli=str(source["eli"]).rstrip("/"),
            k1=float(retrieval.get("k1", 1.2)),
            b=float(retrieval.get("b", 0.75)),
            unit_boost=float(retrieval.get("unit_boost", 0.5)),
            recital_weight=float(retrieval.get("recital_weight", 0.8)),
            floor=float(fitted.get("floor", retrieval.get("floor", 0.6))),
            ratio=float(fitted.get("ratio", retrieval.get("ratio", 0.6))),
            max_results=int(retrieval.get("max_results", 3)),
            quote_chars=int(retrieval.get("quote_chars", 320)),
            title_weight=int(retrieval.get("title_weight", 2)),
            definition_bonus=float(retrieval.get("definition_bonus", 10.0)),
            article_share=float(fitted.get("article_share", 0.0)),
            article_floor=float(fitted.get("article_floor", 0.25)),
            unit_articles=unit_articles,
            expansions={str(k): str(v) for k, v in (data.get("expansions") or {}).items()},
            stopwords=frozenset(stopwords),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PackError(f"malformed provision settings ({exc})", path=path) from exc


def load_provisions(corpus_dir: Path, *, settings: Settings | None = None) -> ProvisionIndex | None:
    """Parse the Act and build the index for a pack's corpus folder.

    Returns None when the pack has no ``provisions.yaml`` (it then cites no provisions).

    Raises:
        PackError: the settings or the source file are missing or malformed.
    """
    path = corpus_dir / SETTINGS_FILE
    if settings is None:
        if not path.is_file():
            return None
        settings = read_settings(path)
    source_path = corpus_dir / settings.source_file
    try:
        source = source_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PackError(f"cannot read the Act's text ({exc})", path=source_path) from exc
    try:
        passages = parse_act(source, eli=settings.eli)
    except PackError as exc:
        raise PackError(str(exc), path=source_path) from exc
    return ProvisionIndex(passages, settings)


def iter_references(provisions: Iterable[Provision]) -> str:
    """The references joined with "; " (the batch output's ``provisions`` field)."""
    return "; ".join(p.reference for p in provisions)


# -- measuring and fitting on labelled questions ------------------------------------------


@dataclass(frozen=True)
class LabelledQuestion:
    """A question with the provisions that answer it (none: no provision should be cited)."""

    text: str
    unit: str | None
    provisions: tuple[str, ...]


@dataclass(frozen=True)
class ProvisionEvaluation:
    """How well provisions are cited on a labelled set.

    Attributes:
        n: questions; ``n_with``: those that a provision answers.
        precision_at_1: of the questions given any provision, the share whose first is right
            (citing anything for a no-provision question counts as wrong).
        recall_at_3: over questions with provisions, the mean share of their labelled
            provisions found among the (at most three) cited.
        hit_at_3: share of questions with provisions where any cited one is right.
        none_accuracy: share of no-provision questions correctly given none.
        coverage: share of questions with provisions given at least one.
        errors: ``(text, cited references, labelled references)`` for every wrong first
            citation, missed question, or citation where none was due.
    """

    n: int
    n_with: int
    precision_at_1: float
    recall_at_3: float
    hit_at_3: float
    none_accuracy: float
    coverage: float
    errors: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = ()

    def as_dict(self) -> dict[str, float | int]:
        """The figures, rounded, without the error list."""
        return {
            k: (round(v, 4) if isinstance(v, float) else v)
            for k, v in self.__dict__.items()
            if k != "errors"
        }


def read_labelled_provisions(path: Path) -> list[LabelledQuestion]:
    """Read ``tests/data/provisions.yaml``-style labelled questions.

    Raises:
        InputError: the file is not a mapping with a ``questions`` list of
            ``{text, provisions[, unit]}``; the message names the item.
    """
    from ..errors import InputError

    data = read_yaml(path)
    items = data.get("questions") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise InputError(f"{path}: expected a mapping with a 'questions' list")
    out = []
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise InputError(f"{path}: question {n} needs a 'text'")
        refs = item.get("provisions")
        if not isinstance(refs, list):
            raise InputError(f"{path}: question {n} needs a 'provisions' list ([] for none)")
        unit = item.get("unit")
        out.append(
            LabelledQuestion(
                text=item["text"],
                unit=None if unit in (None, "out_of_scope") else str(unit),
                provisions=tuple(str(r) for r in refs),
            )
        )
    return out


def _related(index: ProvisionIndex, cited: str, wanted: str) -> bool:
    """A citation is right when it is the labelled provision, a part of it, or holds it."""
    if cited == wanted:
        return True
    a, b = index.get(cited), index.get(wanted)
    if a is None or b is None:
        return False
    by = index.by_reference
    return wanted in a.ancestors(by) or cited in b.ancestors(by)


def evaluate_provisions(
    index: ProvisionIndex,
    questions: Sequence[LabelledQuestion],
    cited: Sequence[Sequence[str]] | None = None,
) -> ProvisionEvaluation:
    """Score the provisions cited for ``questions`` (cited by ``index`` when not given)."""
    if cited is None:
        found = index.search_many([q.text for q in questions], [q.unit for q in questions])
        cited = [[p.reference for p in ps] for ps in found]
    answered = right_first = none_total = none_right = covered = hits = 0
    recall = 0.0
    errors = []
    for q, refs in zip(questions, cited):
        refs = list(refs)
        if refs:
            answered += 1
        if not q.provisions:
            none_total += 1
            none_right += not refs
            if refs:
                errors.append((q.text, tuple(refs), q.provisions))
            continue
        first_ok = bool(refs) and any(_related(index, refs[0], w) for w in q.provisions)
        right_first += first_ok
        covered += bool(refs)
        found_wanted = [w for w in q.provisions if any(_related(index, r, w) for r in refs)]
        recall += len(found_wanted) / len(q.provisions)
        hits += bool(found_wanted)
        if not first_ok:
            errors.append((q.text, tuple(refs), q.provisions))
    n_with = len(questions) - none_total
    return ProvisionEvaluation(
        n=len(questions),
        n_with=n_with,
        precision_at_1=right_first / answered if answered else 1.0,
        recall_at_3=recall / n_with if n_with else 1.0,
        hit_at_3=hits / n_with if n_with else 1.0,
        none_accuracy=none_right / none_total if none_total else 1.0,
        coverage=covered / n_with if n_with else 1.0,
        errors=tuple(errors),
    )


#: A wrong citation costs this many right ones when fitting the floor.
WRONG_COST = 2.0


def fit_floor(
    index: ProvisionIndex,
    questions: Sequence[LabelledQuestion],
    *,
    ratios: Sequence[float] = (0.5, 0.6, 0.7, 0.8, 0.9),
) -> tuple[float, float]:
    """The ``(floor, ratio)`` that maximise cited-right minus ``WRONG_COST`` x cited-wrong.

    Questions that name a provision are answered by lookup and do not take part.
    """
    retrieved = [q for q in questions if not index.lookup(q.text)]
    if not retrieved:
        return index.settings.floor, index.settings.ratio
    scores, coverage = index.scores([q.text for q in retrieved], [q.unit for q in retrieved])
    floors = [round(f, 2) for f in np.arange(0.0, 1.0001, 0.02)]
    best: tuple[float, float, float] | None = None
    for ratio in ratios:
        for floor in floors:
            utility = 0.0
            for row, q in enumerate(retrieved):
                picked = index._pick(scores[row], coverage[row], floor=floor, ratio=ratio)
                for rank, p in enumerate(picked):
                    ok = any(_related(index, p.reference, w) for w in q.provisions)
                    weight = 1.0 if rank == 0 else 0.25
                    utility += weight if ok else -WRONG_COST * weight
            # Ties go to the higher floor (fewer citations) and the higher ratio.
            key = (utility, floor, ratio)
            if best is None or key > best:
                best = key
    assert best is not None
    return round(best[1], 3), best[2]
