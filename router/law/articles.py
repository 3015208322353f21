"""The AI Act as a routed pack: which article a question is about, then which paragraph.

Each article and annex is a unit of a pack derived from the Act (its "mandate" is its
verbatim text), trained on people's questions about it (``intents/act/questions.yaml``) and
on questions that no provision answers (the pack's out-of-scope questions, its referrals'
and those about topics that rest on no provision). The same engine that routes questions
to units routes them to articles, with its fitted floor deciding "no provision"; within the
chosen article the paragraph or point the question's words score best on is cited.

The fitted model and thresholds live in ``intents/act/`` (``ai-office calibrate``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import scipy.sparse as sp

from ..errors import PackError
from ..pack import IntentSet, Pack, Unit
from ..records import Citation, Example, require
from ..text import normalise
from ..yamlio import line_of, read_yaml
from .parse import collapse
from .references import parent_reference
from .retrieval import Provision, ProvisionIndex

if TYPE_CHECKING:
    from ..routing import Router

__all__ = ["ACT_DIR", "NO_PROVISION", "ArticleCiter", "act_pack", "article_of"]

#: The folder of ``intents/`` holding the Act pack's questions, model and thresholds.
ACT_DIR = "act"
QUESTIONS_FILE = "questions.yaml"
#: Everyday names of each article's subject, by language: aliases of its unit.
TITLES_FILE = "titles.yaml"

#: The out-of-scope intent of the Act pack: no provision answers the question.
NO_PROVISION = "no_provision"

_ARTICLE = re.compile(r"(Article \d+|Annex [IVXLC]+)")


def article_of(reference: str) -> str:
    """The article or annex a reference lies in: "Article 5(1)(h)" -> "Article 5"."""
    m = _ARTICLE.match(reference)
    return m.group(1) if m else reference


def act_questions(pack: Pack, index: ProvisionIndex) -> list[tuple[str, str, str | None]] | None:
    """The pack's training questions about the Act as ``(text, reference, language)``, the
    reference made one the Act holds; None when the pack has none.

    Raises:
        PackError: the questions file is malformed or names an article the Act lacks.
    """
    path = pack.intents_dir / ACT_DIR / QUESTIONS_FILE
    if not path.is_file():
        return None
    items = require(read_yaml(path), "questions", list, path)
    out = []
    for n, item in enumerate(items):
        text = require(item, "text", str, path)
        ref = require(item, "ref", str, path)
        if index.get(article_of(ref)) is None:
            raise PackError(
                f"question {n + 1} names {ref!r}, which is not in the Act; use references "
                "such as 'Article 5(1)(h)' or 'Annex III, point 4'",
                path=path,
                line=line_of(items, n),
            )
        # "Article 113(3)(a)": cut to the nearest provision the Act's passages hold.
        while index.get(ref) is None:
            ref = parent_reference(ref)
        lang = item.get("lang")
        out.append((text, ref, None if lang is None else str(lang)))
    return out


def _everyday_names(path: Path) -> dict[str, tuple[str, ...]]:
    """``{"Article 5": ("banned AI", "pratiques d'IA interdites", ...)}`` from ``path``."""
    if not path.is_file():
        return {}
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise PackError("expected a mapping of article to names by language", path=path)
    out = {}
    for article, by_language in data.items():
        if not isinstance(by_language, dict):
            raise PackError(f"{article!r}: expected names by language", path=path)
        out[str(article)] = tuple(
            str(n) for names in by_language.values() for n in (names or ()) if str(n).strip()
        )
    return out


def act_pack(pack: Pack, index: ProvisionIndex) -> Pack | None:
    """The Act as a pack of articles and annexes, or None when ``pack`` has no Act questions.

    Raises:
        PackError: the questions file is malformed or names a provision the Act lacks.
    """
    questions = act_questions(pack, index)
    if questions is None:
        return None
    path = pack.intents_dir / ACT_DIR / QUESTIONS_FILE
    asked: dict[str, list[Example]] = {}
    for text, ref, lang in questions:
        asked.setdefault(article_of(ref), []).append(Example(text, lang))
    names = _everyday_names(pack.intents_dir / ACT_DIR / TITLES_FILE)
    act = next((s for s in pack.sources if s.id == "ai_act"), None)
    units, intents = [], []
    for passage in index.passages:
        if passage.kind not in ("article", "annex"):
            continue
        citation = Citation(
            source_id="ai_act",
            title=passage.title or passage.reference,
            publisher=None if act is None else act.citation.publisher,
            date=None if act is None else act.citation.date,
            url=passage.url,
        )
        aliases = ((passage.title,) if passage.title else ()) + names.get(passage.reference, ())
        name = f"{passage.reference} \u2014 {passage.title}" if passage.title else passage.reference
        units.append(Unit(passage.reference, name, aliases, passage.text, citation))
        # Its heading is a question about it too ("Penalties"), so every article is a class.
        examples = [*asked.get(passage.reference, ()), *(Example(a) for a in aliases)]
        # Its own words are evidence too: each paragraph and point (cut: the classifier
        # weighs words, not length), or the whole text of an article without paragraphs.
        parts = [c.text for c in index.passages if c.parent == passage.reference]
        examples += [Example(collapse(t)[:400]) for t in parts or [passage.text]]
        intents.append(IntentSet(passage.reference, path, (), tuple(examples)))
    # No provision answers what is not for the office, nor a question about a programme
    # that rests on none (GenAI4EU calls, AI Factories). (Referrals' questions are not
    # among them: a complaint about an AI system used on someone is Article 85's.)
    none = [e for i in pack.intents if i.unit == pack.out_of_scope_unit for e in i.examples]
    none += [e for t in pack.topics if not t.provisions for e in t.examples]
    intents.append(IntentSet(NO_PROVISION, path, (), tuple(none)))
    return pack.derived("AI Act", pack.intents_dir / ACT_DIR, units, intents, NO_PROVISION)


class ArticleCiter:
    """Cites provisions for questions: the articles the Act router picks, then the most
    specific passage of each that the evidence points to.

    Within an article, a passage's evidence is its own text and the training questions
    labelled with it: the question's nearest neighbour among them (cosine of the Act
    router's features) names the passage; when none shares anything with the question, the
    passage its words score best on (BM25).

    Parameters:
        router: a Router fitted on :func:`act_pack`.
        index: the Act's passages.
        questions: the training questions, as :func:`act_questions` gives them.
        floor: no provision is cited when the best article's fused probability is under
            this (``article_floor`` in ``corpus/provisions.yaml``, fitted on the tuning
            questions by ``benchmarks/bench_law.py``).
        share: an article after the first is cited only when its score is at least this
            share of the first's (``article_share``).
        limit: at most this many provisions.
    """

    def __init__(
        self,
        router: Router,
        index: ProvisionIndex,
        questions: Sequence[tuple[str, str, str | None]] = (),
        *,
        floor: float = 0.25,
        share: float = 0.0,
        limit: int = 3,
    ) -> None:
        self.router = router
        self.index = index
        self.questions = questions
        self.floor = floor
        self.share = share
        self.limit = limit
        self._by_article: dict[str, list[tuple[str, str]]] | None = None
        self._stacked: _Stacked | None = None

    def articles_many(self, texts: Sequence[str]) -> list[tuple[str, ...]]:
        """The articles (and annexes) each question is about, best first; () for none."""
        return self._articles(texts)[0]

    def _articles(self, texts: Sequence[str]) -> tuple[list[tuple[str, ...]], Any]:
        """:meth:`articles_many` and the Act router's features of each question (scored
        without building decisions: only the ranking is needed)."""
        ranking = self.router.rank(texts)
        out = []
        for kind, units, scores in zip(ranking.kinds, ranking.units, ranking.scores):
            # The Act router's own floor is fitted to refuse readily; citing wants its own
            # (unseen questions spread their probability over more articles).
            if not scores or scores[0] < self.floor:
                out.append(())
                continue
            listed = list(zip(units, scores))[: self.limit]
            chosen = [u.id for u, score in listed if score >= self.share * scores[0]]
            if kind == "clarify":  # asking back: both of the two are cited
                chosen = list(dict.fromkeys([units[0].id, units[1].id, *chosen]))
            out.append(tuple(chosen[: self.limit]))
        return out, ranking.features

    def _evidence_of(self, article: str) -> tuple[Any, list[str]]:
        """The features of an article's evidence, one column per example (unit length, so
        that a question's row times them is its cosine with each), and the reference each
        points to; None for an article without evidence. Built once, into :meth:`_stack`."""
        texts, refs = [], []
        for text, ref in self._examples_of(article):
            texts.append(normalise(text))
            refs.append(ref)
        if not texts:
            return None, refs
        return _unit_rows(self.router.classifier_.transform(texts)).T.tocsr(), refs

    def _examples_of(self, article: str) -> list[tuple[str, str]]:
        if self._by_article is None:  # every article's evidence, gathered in one pass
            by_article: dict[str, list[tuple[str, str]]] = {}
            for text, ref, _ in self.questions:
                by_article.setdefault(article_of(ref), []).append((text, ref))
            for p in self.index.passages:
                if p.kind not in ("recital", "article", "annex"):
                    own = article_of(p.reference)
                    by_article.setdefault(own, []).append((collapse(p.text)[:400], p.reference))
            self._by_article = by_article
        return self._by_article.get(article, [])

    def warm_up(self) -> ArticleCiter:
        """Build every article's evidence now (before forking workers, or timing)."""
        self._stack()
        return self

    def _stack(self) -> _Stacked:
        """Every article's evidence columns side by side, each article's features apart.

        Row ``(article, feature)`` of the stack holds that feature's column entries of that
        article's evidence, so that a question's row, its features moved to the article it
        cites (:meth:`_moved`), meets that article's evidence alone: one product for every
        question and article, with the sums of the article's own product. Only the pairs
        that occur are rows: every feature of every article would be millions of rows.
        """
        stacked = self._stacked
        if stacked is None:
            self._examples_of("")  # gathers every article's examples
            assert self._by_article is not None
            keys, cols, values = [], [], []
            blocks: dict[str, tuple[int, int, list[str]]] = {}
            width = None
            offset = 0
            for number, article in enumerate(self._by_article):
                columns, refs = self._evidence_of(article)
                if columns is None:
                    continue
                width = columns.shape[0]
                part = columns.tocoo()
                keys.append(number * width + part.row.astype(np.int64))
                cols.append(part.col + offset)
                values.append(part.data)
                blocks[article] = (number, offset, refs)
                offset += columns.shape[1]
            if width is None:
                stacked = _Stacked({}, np.zeros(0, np.int64), None, 0)
            else:
                found, rows = np.unique(np.concatenate(keys), return_inverse=True)
                matrix = sp.csr_matrix(
                    (np.concatenate(values), (rows, np.concatenate(cols))),
                    shape=(len(found), offset),
                )
                stacked = _Stacked(blocks, found, matrix, width)
            self._stacked = stacked
        return stacked

    def _moved(self, asked: Any, rows: list[int], numbers: list[int], stacked: _Stacked) -> Any:
        """Rows ``rows`` of ``asked``, each one's features moved to the stack's rows of the
        article numbered alike in ``numbers``; features that article's evidence lacks are
        left out (they add nothing), the others keep their order (so do the sums)."""
        picked = asked[rows]
        counts = np.diff(picked.indptr)
        owner = np.repeat(np.arange(len(rows)), counts)
        keys = np.repeat(np.asarray(numbers, np.int64) * stacked.width, counts) + picked.indices
        found = stacked.keys
        at = np.minimum(np.searchsorted(found, keys), len(found) - 1)
        hit = found[at] == keys
        indptr = np.concatenate([[0], np.cumsum(np.bincount(owner[hit], minlength=len(rows)))])
        return sp.csr_matrix((picked.data[hit], at[hit], indptr), shape=(len(rows), len(found)))

    def cite_many(self, texts: Sequence[str]) -> list[tuple[Provision, ...]]:
        """The provisions for each question: per article, its passage the evidence points
        to (see the class)."""
        articles, features = self._articles(texts)
        asking = [i for i, arts in enumerate(articles) if arts]
        if not asking:
            return [()] * len(texts)
        # Each question's features once (the Act router's own), however many it cites.
        asked = _unit_rows(features[asking])
        rows_of: dict[str, list[tuple[int, int]]] = {}  # article -> (row of asked, question)
        for row, i in enumerate(asking):
            for article in articles[i]:
                rows_of.setdefault(article, []).append((row, i))
        refs_of: dict[tuple[int, str], str | None] = {}
        missing: list[tuple[int, str]] = []
        stacked = self._stack()
        pairs = [(article, row, i) for article, rows in rows_of.items() for row, i in rows]
        with_evidence = [p for p, (a, _, _) in enumerate(pairs) if a in stacked.blocks]
        best = np.full(len(pairs), -1)
        if with_evidence:  # one product for every question and article (see _stack)
            moved = self._moved(
                asked,
                [pairs[p][1] for p in with_evidence],
                [stacked.blocks[pairs[p][0]][0] for p in with_evidence],
                stacked,
            )
            product = (moved @ stacked.matrix).tocoo()
            # Each pair's best evidence: the highest positive cosine, the first of equals,
            # as an argmax over its article's columns would pick.
            keep = product.data > 0
            row, col, value = product.row[keep], product.col[keep], product.data[keep]
            order = np.lexsort((col, -value, row))
            row, col = row[order], col[order]
            firsts = np.flatnonzero(np.r_[True, row[1:] != row[:-1]]) if len(row) else row
            best[np.asarray(with_evidence)[row[firsts]]] = col[firsts]
        for (article, _, i), column in zip(pairs, best.tolist()):
            ref = None
            if column >= 0:
                _, offset, refs = stacked.blocks[article]
                ref = refs[column - offset]
            refs_of[i, article] = ref
            if ref is None or self.index.get(ref) is None:
                missing.append((i, article))
        # Only where no evidence is near: the passage the words score best on (BM25).
        plain = self.index.best_within([texts[i] for i, _ in missing], [a for _, a in missing])
        by_words = dict(zip(missing, plain))
        return [
            tuple(
                self.index.provision(
                    by_words.get((i, a)) or self.index.get(refs_of[i, a])  # type: ignore[arg-type]
                )
                for a in arts
            )
            for i, arts in enumerate(articles)
        ]


class _Stacked(NamedTuple):
    """:meth:`ArticleCiter._stack`: each article's number, first column and references;
    the ``(article, feature)`` key of each row, sorted; the matrix; features per article."""

    blocks: dict[str, tuple[int, int, list[str]]]
    keys: np.ndarray
    matrix: Any
    width: int


def _unit_rows(features: Any) -> Any:
    """Rows scaled to unit length, so that a product of two is their cosine."""
    norms = np.sqrt(np.asarray(features.multiply(features).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return features.multiply(1.0 / norms[:, np.newaxis]).tocsr()
