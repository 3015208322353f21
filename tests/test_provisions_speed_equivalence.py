"""The fast paths of provision retrieval give exactly what the plain computation gives.

``search_many`` picks from the passages that share a word with each question, skips the
reference patterns and the definition pattern when a cheap test rules them out, and
remembers each word's terms. Each shortcut is checked here against the plain way.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import router.law.references as references
import router.law.retrieval as retrieval
from router.law.evaluate import read_labelled_provisions
from router.law.references import named_references
from router.law.retrieval import Provision, ProvisionIndex
from router.yamlio import read_yaml

DATA = Path(__file__).parent / "data"
CRAFTED = [
    "",
    "?",
    "what is a deployer?",
    "what does 'general-purpose AI model' mean?",
    "define provider",
    "who counts as an importer?",
    "what is xyzzy?",
    # Fullwidth letters, accents, a curly apostrophe, a no-break space, a black-letter H.
    "\uff37hat is \uff21\uff29\uff1f naïve café \u2019 \u00a0 \u210cello",
    "art. 5(1)(a) and Annex III",
    "Article 200",
    "considérant 111",
    "must deepfakes be labelled?",
    "Dear team,\n\nwhat fines can a provider of a general-purpose AI model face?\n\nBest, Jo",
    "deployer " * 40,
]
UNITS = [None, "regulation_compliance", "ai_safety", "about_office", "no_such_unit"]


@pytest.fixture(scope="module")
def questions() -> list[str]:
    labelled = [q.text for q in read_labelled_provisions(DATA / "provisions.yaml")]
    dev = [item["text"] for item in read_yaml(DATA / "dev.yaml")]
    return labelled + dev + CRAFTED


def plain(index: ProvisionIndex, questions: list[str], units: list[str | None]) -> list:
    """What :meth:`ProvisionIndex.search_many` is: the named provisions, else ``_pick``
    on each row of the dense :meth:`ProvisionIndex.scores`."""
    scores, coverage = index.scores(questions, units)
    return [index.lookup(q) or index._pick(scores[r], coverage[r]) for r, q in enumerate(questions)]


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"floor": 0.2, "ratio": 0.3},  # many candidates: the one-per-family rule at work
        {"max_results": 1},
        {"ratio": 0.0, "floor": 0.0},  # every passage qualifies: the dense rows are used
        {"recital_weight": -0.5},  # negative scores: the dense rows are used
    ],
)
def test_search_many_is_pick_on_the_dense_scores(
    index: ProvisionIndex, questions: list[str], changes: dict[str, float]
) -> None:
    index = ProvisionIndex(index.passages, replace(index.settings, **changes))
    units = [UNITS[i % len(UNITS)] for i in range(len(questions))]
    found = index.search_many(questions, units)
    assert found == plain(index, questions, units)
    assert sum(bool(f) for f in found) >= 50  # the comparison is not all empty tuples


def test_a_bounded_word_memo_gives_the_same_results(
    index: ProvisionIndex, questions: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    units = [UNITS[i % len(UNITS)] for i in range(len(questions))]
    expected = index.search_many(questions, units)
    small = ProvisionIndex(index.passages, index.settings)
    monkeypatch.setattr(retrieval, "_WORD_MEMO_SIZE", 3)
    for size in (1, 2, 7, len(questions)):  # batches that start with a full memo or not
        found = [
            p
            for i in range(0, len(questions), size)
            for p in small.search_many(questions[i : i + size], units[i : i + size])
        ]
        assert found == expected, size
    memo = small._terms_of
    small.search_many(questions[:2], units[:2])
    assert small._terms_of is not memo  # a fresh memo, rather than one emptied mid-batch


def test_quotes_are_remembered_only_for_the_index_own_passages(index: ProvisionIndex) -> None:
    own = index.get("Article 50(1)")
    assert own is not None
    foreign = replace(own, text="A different text.")
    assert index.provision(foreign).text == "A different text."
    assert index.provision(own).full_text.startswith("Providers shall ensure")
    assert index.provision(foreign, score=1.23456) == Provision(
        own.reference, "A different text.", "A different text.", own.url, own.title, score=1.2346
    )


def _alternatives(pattern: re.Pattern[str]) -> list[str]:
    """The shortest spelling of each keyword of a ``\\b(?:a|b|c)`` pattern."""
    group = re.match(r"\\b\(\?:([^()]*)\)", pattern.pattern)
    assert group is not None, pattern.pattern
    return [re.sub(r"\[[a-z]+\]\?|[a-z]\?", "", alt) for alt in group.group(1).split("|")]


@pytest.mark.parametrize(
    "pattern", [references._REF_ARTICLE, references._REF_ANNEX, references._REF_RECITAL]
)
def test_every_reference_keyword_passes_the_cheap_test(pattern: re.Pattern[str]) -> None:
    # Every spelling of a keyword starts with its shortest one, so this covers them all.
    for keyword in _alternatives(pattern):
        assert any(stem in keyword for stem in references._REF_STEMS), keyword


@pytest.mark.parametrize(
    "question",
    [
        "what is a deployer",
        "what are deployers",
        "what does it mean",
        "define it",
        "defines",
        "defined as",
        "the definition",
        "its meaning",
        "means",
        "meant",
        "count as",
        "counts as",
        "what is meant",
    ],
)
def test_every_definition_question_passes_the_cheap_test(question: str) -> None:
    assert retrieval._DEFINITION_QUESTION.search(question)
    assert any(hint in question for hint in retrieval._DEFINITION_HINTS)


_PIECES = [
    "article", "art.", "arts", "artikeln", "articolo", "artículo", "annex", "annexe", "anhang",
    "allegato", "anexo", "recital", "considérant", "considerando", "erwägungsgründe",
    "paragraph", "point", "(1)", "(a)", "5", "50", "iii", "xiii", "what is", "define",
    "meaning", "counts as", "deployer", "provider", "gpai", "AI", "\u2019", "\u00a0", "?",
]  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.one_of(st.sampled_from(_PIECES), st.text(max_size=6)), max_size=10).map(" ".join)
)
def test_the_cheap_tests_never_skip_a_match(text: str) -> None:
    folded = references._fold(text)
    patterns = (references._REF_ARTICLE, references._REF_ANNEX, references._REF_RECITAL)
    # Each is an implication, "a pattern matches => the cheap test lets it through".
    names_one = any(p.search(folded) for p in patterns)
    assert bool(named_references(text)) or not names_one
    asks_definition = bool(retrieval._DEFINITION_QUESTION.search(folded))
    assert any(hint in folded for hint in retrieval._DEFINITION_HINTS) or not asks_definition
