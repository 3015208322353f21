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

from ..errors import InputError, PackError
from ..yamlio import read_yaml
from .articles import article_of
from .index import ProvisionIndex

if TYPE_CHECKING:
    from ..routing import Router

__all__ = ["LawEvaluation", "LawQuestion", "evaluate_law", "read_law_questions"]


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
