"""Measuring the router's citations on questions labelled with the provisions that answer them.

Two file layouts are read: ``tests/data/provisions.yaml`` (``questions: [{text, unit,
provisions: [references]}]``) and ``tests/data/act_heldout.yaml`` (``questions: [{text,
articles: [...], ref, group, pid, lang}]``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError, PackError
from ..yamlio import read_yaml
from .articles import article_of
from .retrieval import ProvisionIndex

if TYPE_CHECKING:
    from ..routing import Router

__all__ = [
    "LabelledQuestion",
    "LawEvaluation",
    "LawQuestion",
    "ProvisionEvaluation",
    "evaluate_law",
    "evaluate_provisions",
    "fit_floor",
    "read_labelled_provisions",
    "read_law_questions",
]


@dataclass(frozen=True)
class LawQuestion:
    """A question, the articles that answer it (best first; none: no provision does), the
    most specific provision, and for a parallel set the id shared by its translations."""

    text: str
    articles: tuple[str, ...]
    reference: str | None = None
    lang: str | None = None
    pid: str | None = None


@dataclass(frozen=True)
class LawEvaluation:
    """Citation figures on labelled questions.

    Attributes:
        article_at_1: over questions a provision answers, the first citation lies in one of
            their articles (no citation counts as wrong).
        paragraph_at_1: the first citation is the labelled provision, holds it or lies in it.
        hit_at_3: one of the (at most three) citations lies in one of their articles.
        none_correct: over questions no provision answers, none is cited.
        answered: over questions a provision answers, any is cited.
        parallel_agreement: over translations of a parallel question, the first cited
            article equals the English version's (None without a parallel set).
        neighbours: the most frequent confusions of the first citation, as
            ``(labelled article, cited article, count)``.
    """

    n: int
    n_with: int
    article_at_1: float
    paragraph_at_1: float
    hit_at_3: float
    none_correct: float
    answered: float
    parallel_agreement: float | None = None
    neighbours: tuple[tuple[str, str, int], ...] = ()
    errors: tuple[dict[str, Any], ...] = field(default=(), repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The figures, rounded; the errors left out."""
        out: dict[str, Any] = {}
        for key, value in self.__dict__.items():
            if key != "errors":
                out[key] = round(value, 4) if isinstance(value, float) else value
        out["neighbours"] = [list(n) for n in self.neighbours]
        return out


def read_law_questions(path: str | Path) -> list[LawQuestion]:
    """Read labelled questions in either layout.

    Raises:
        InputError: the file is missing or malformed; the message names it and the item.
    """
    p = Path(path)
    try:
        data = read_yaml(p)
    except PackError as exc:
        raise InputError(str(exc)) from exc
    items = data.get("questions") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise InputError(f"{p}: expected a mapping with a 'questions' list")
    out = []
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise InputError(f"{p}: question {n} needs a 'text'")
        if "articles" in item:
            articles = tuple(str(a) for a in item.get("articles") or ())
            ref = item.get("ref")
        elif isinstance(item.get("provisions"), list):
            refs = [str(r) for r in item["provisions"]]
            articles = tuple(dict.fromkeys(article_of(r) for r in refs))
            ref = refs[0] if refs else None
        else:
            raise InputError(f"{p}: question {n} needs 'articles' or 'provisions' ([] for none)")
        out.append(
            LawQuestion(
                text=item["text"],
                articles=articles,
                reference=None if ref is None else str(ref),
                lang=item.get("lang"),
                pid=item.get("pid"),
            )
        )
    return out


def _holds(index: ProvisionIndex, cited: str, wanted: str | None) -> bool:
    """The cited provision is the labelled one, a part of it, or holds it."""
    if wanted is None:
        return False
    if cited == wanted:
        return True
    a, b = index.get(cited), index.get(wanted)
    if a is None or b is None:
        return False
    return wanted in a.ancestors(index.by_reference) or cited in b.ancestors(index.by_reference)


def evaluate_law(router: Router, questions: Sequence[LawQuestion]) -> LawEvaluation:
    """Route every question and score the provisions cited beside the answer."""
    index = router.provision_index
    if index is None:
        raise InputError("this pack cites no AI Act provisions; nothing to evaluate")
    if not questions:
        raise InputError("no labelled questions to evaluate")
    decisions = list(router.route_many([q.text for q in questions], explain=False))
    cited = [[p.reference for p in d.provisions] for d in decisions]
    first_article = [article_of(c[0]) if c else None for c in cited]
    with_ = [i for i, q in enumerate(questions) if q.articles]
    none = [i for i, q in enumerate(questions) if not q.articles]
    at_1 = sum(first_article[i] in questions[i].articles for i in with_)
    para = sum(bool(cited[i]) and _holds(index, cited[i][0], questions[i].reference) for i in with_)
    hits = sum(any(article_of(c) in questions[i].articles for c in cited[i]) for i in with_)
    answered = sum(bool(cited[i]) for i in with_)
    confusions: Counter[tuple[str, str]] = Counter()
    errors = []
    for i in with_:
        q = questions[i]
        if first_article[i] not in q.articles:
            confusions[q.articles[0], first_article[i] or "(none)"] += 1
            errors.append({"text": q.text, "want": list(q.articles), "cited": cited[i]})
    for i in none:
        if cited[i]:
            errors.append({"text": questions[i].text, "want": [], "cited": cited[i]})
    parallel = [(q, first_article[i]) for i, q in enumerate(questions) if q.pid]
    english = {q.pid: article for q, article in parallel if q.lang == "en"}
    others = [(q.pid, article) for q, article in parallel if q.lang != "en"]
    agreement = None
    if english and others:
        agreement = sum(english.get(pid) == a for pid, a in others) / len(others)
    return LawEvaluation(
        n=len(questions),
        n_with=len(with_),
        article_at_1=at_1 / len(with_) if with_ else 1.0,
        paragraph_at_1=para / len(with_) if with_ else 1.0,
        hit_at_3=hits / len(with_) if with_ else 1.0,
        none_correct=sum(not cited[i] for i in none) / len(none) if none else 1.0,
        answered=answered / len(with_) if with_ else 1.0,
        parallel_agreement=agreement,
        neighbours=tuple((a, b, n) for (a, b), n in confusions.most_common(8)),
        errors=tuple(errors),
    )


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
