"""Which provisions bear on a question: named ones, or a BM25 index over the passages.

A question gets provisions in one of two ways:

* it names them ("what does Article 50 say?", "art. 5(1)(a)", "Annex III", "Artikel 50"):
  they are returned directly, in the order named;
* otherwise a BM25 index over the passages ranks them on the question's words, with the
  routed unit's articles (``unit_articles`` in ``corpus/provisions.yaml``) weighing more.
  At most three are returned, and only above a relevance floor fitted on labelled
  questions (``benchmarks/bench_provisions.py --fit`` writes it), because a wrong citation
  is worse than none. (With an Act pack, :mod:`router.law.articles` chooses the articles
  and this index the passage within one, where no evidence is near.)

The index is built on first use, so loading a router stays fast.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import operator
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import PackError
from ..packfiles import MAX_SOURCE_BYTES, inside, read_limited
from ..yamlio import line_of, read_yaml
from .parse import Passage, collapse, parse_act, quote_cut
from .references import _fold, _named_in, parent_reference

__all__ = [
    "SETTINGS_FILE",
    "Provision",
    "ProvisionIndex",
    "Settings",
    "iter_references",
    "load_provisions",
    "read_settings",
]

SETTINGS_FILE = "provisions.yaml"

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
    source_path = inside(corpus_dir, settings.source_file, named_in=path)
    try:
        source = read_limited(source_path, limit=MAX_SOURCE_BYTES).decode("utf-8")
    except (PackError, UnicodeDecodeError) as exc:
        raise PackError(f"cannot read the Act's text ({exc})", path=source_path) from exc
    try:
        passages = parse_act(source, eli=settings.eli)
    except PackError as exc:
        raise PackError(str(exc), path=source_path) from exc
    return ProvisionIndex(passages, settings)


def iter_references(provisions: Iterable[Provision]) -> str:
    """The references joined with "; " (the batch output's ``provisions`` field)."""
    return "; ".join(p.reference for p in provisions)
