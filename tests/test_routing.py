"""The Router's public behaviour: decisions, answers, evidence, bad input, route_many."""

from __future__ import annotations

import random
import string
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest
import yaml

from router import (
    Decision,
    InputError,
    NotFittedError,
    Outcome,
    Router,
    StaleCalibrationWarning,
    UnknownUnitError,
    load_pack,
)
from router.policy import Policy
from router.text import MAX_CHARS
from router.training import fit_calibration, write_calibration, write_model

GOLDEN = yaml.safe_load((Path(__file__).parent / "data/golden.yaml").read_text("utf-8"))


@pytest.mark.parametrize("case", GOLDEN, ids=[c["text"][:40] for c in GOLDEN])
def test_golden_questions(router: Router, case: dict[str, str]) -> None:
    d = router.route(case["text"])
    got = d.unit.id if d.decision == "routed" and d.unit else d.decision
    assert got == case["unit"], (
        f"{case['text']!r}: got {got} ({d.confidence:.2f}), want {case['unit']}"
    )


def test_routed_answer_quotes_the_mandate_with_citation(router: Router) -> None:
    d = router.route("who handles systemic-risk testing?")
    assert d.decision == "routed" and d.unit is not None
    assert d.unit.name == "AI Safety Unit"
    own = [q for q in d.answer.quotes if q.unit_id == d.unit.id]
    assert len(own) == 1
    quote = own[0]
    assert quote.text == d.unit.mandate
    assert quote.text in str(d.answer)
    assert quote.citation.url and quote.citation.url in str(d.answer)
    assert "2024-05-29" in str(d.answer)


def test_about_office_answer_is_the_office_passage(router: Router) -> None:
    d = router.route("what is the European AI Office?")
    assert d.unit is not None and d.unit.id == "about_office"
    assert d.answer.quotes[0].text.startswith("The AI Office aims at enabling")


def test_out_of_scope_reply_is_honest_and_lists_the_units(router: Router) -> None:
    d = router.route("how do I renew my passport?")
    assert d.decision == "out_of_scope"
    assert d.unit is None
    assert d.answer.quotes == ()
    text = str(d.answer)
    assert "not" in text
    named = [unit.name for unit in router.units if unit.id != "about_office"]
    assert len(named) == len(router.units) - 1
    assert [name for name in named if name not in text] == []
    assert 0.0 <= d.confidence <= 1.0


def test_decision_is_frozen_and_complete(router: Router) -> None:
    d = router.route("GPAI fines")
    assert isinstance(d, Decision)
    with pytest.raises(FrozenInstanceError):
        d.confidence = 0.0  # type: ignore[misc]
    ids = [a.unit.id for a in d.alternatives]
    assert sorted(ids) == sorted(u.id for u in router.units)
    scores = [a.score for a in d.alternatives]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)


def test_clarify_returns_both_candidates_with_their_mandates(router: Router) -> None:
    wide = Router(policy=Policy(temperature=1.0, fuzzy_weight=0.0, floor=0.0, margin=1.0))
    wide.fit(router.pack_)
    d = wide.route("who funds research on testing very capable models for systemic risks?")
    assert d.decision == "clarify"
    assert d.unit is None
    first, second = d.candidates
    assert (first, second) == (d.alternatives[0].unit, d.alternatives[1].unit)
    text = str(d.answer)
    assert first.mandate in text and second.mandate in text
    assert "1. " + first.name in text and "2. " + second.name in text


def test_evidence_reports_aliases_corrections_and_weighing_words(router: Router) -> None:
    d = router.route("who handles enforcemnet of the AI Act against GPAI providers?")
    ev = d.evidence
    assert ("enforcemnet", "enforcement") in ev.corrections
    assert any(m.unit == "regulation_compliance" for m in ev.matched_terms)
    assert ev.weighing_terms and all(w > 0 for _, w in ev.weighing_terms)
    assert {c for c, _ in ev.model_scores} >= {"out_of_scope", "regulation_compliance"}
    assert d.unit is not None and d.unit.id == "regulation_compliance"


def test_acronyms_route(router: Router) -> None:
    cases = [
        ("EDIH near Lyon?", "innovation_policy_coordination"),
        ("GenAI4EU", "excellence_ai_robotics"),
    ]
    for text, unit in cases:
        d = router.route(text)
        assert d.unit is not None and d.unit.id == unit, text


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "\x00\x01\x7f", "\u200b\u200b"])
def test_empty_questions_are_input_errors(router: Router, text: str) -> None:
    with pytest.raises(InputError, match="empty"):
        router.route(text)


def test_non_text_is_an_input_error(router: Router) -> None:
    with pytest.raises(InputError, match="expected the question as text"):
        router.route(42)  # type: ignore[arg-type]


def test_long_questions_are_cut_and_the_evidence_says_so(router: Router) -> None:
    text = "Who fines providers of general-purpose AI models? " + "blah " * 2000
    d = router.route(text)
    assert d.evidence.truncated
    notes = [(n.code, n.fields) for n in d.evidence.notes]
    assert notes == [("truncated", (("limit", str(MAX_CHARS)),))]
    assert str(MAX_CHARS) in str(d.evidence.notes[0])
    assert len(d.text) <= MAX_CHARS
    assert not router.route("short question about GPAI fines").evidence.truncated


def test_control_characters_never_reach_the_answer_or_text(router: Router) -> None:
    nasty = "who fines\x1b[31m GPAI\x00 providers\x07?\u202e\r\n"
    d = router.route(nasty)
    for field in (d.text, str(d.answer)):
        assert not any(ord(c) < 32 and c not in "\n" for c in field)
        assert "\x1b" not in field and "\u202e" not in field


def test_emoji_only_question_is_out_of_scope_with_a_note(router: Router) -> None:
    d = router.route("🙂🙂")
    assert d.decision == "out_of_scope"
    assert [n.code for n in d.evidence.notes] == ["no_words"]
    assert "no words" in str(d.evidence.notes[0])


def test_route_many_equals_route(router: Router) -> None:
    texts = [c["text"] for c in GOLDEN] + ["GPAI", "help", "AI factories for my lab"]
    many = list(router.route_many(texts, chunk_size=4))
    assert len(many) == len(texts)
    for text, got in zip(texts, many):
        want = router.route(text)
        assert got == want, text


def test_route_many_is_lazy_and_names_the_bad_item(router: Router) -> None:
    stream = router.route_many(["GPAI fines", "", "EDIH"], chunk_size=1)
    assert next(stream).unit is not None
    with pytest.raises(InputError, match="item 1"):
        next(stream)


def test_unit_lookup_forgives_typos(router: Router) -> None:
    assert router.unit("ai_safety").id == "ai_safety"
    assert router.unit("excelence robotics").id == "excellence_ai_robotics"
    assert router.unit("Innovation and Policy").id == "innovation_policy_coordination"
    assert router.unit("safty").id == "ai_safety"
    with pytest.raises(UnknownUnitError, match="known units"):
        router.unit("zzzz qqqq")


def test_unfitted_router_raises() -> None:
    with pytest.raises(NotFittedError, match="not fitted"):
        Router().route("x")


def test_pack_without_calibration_is_calibrated_on_load(make_pack) -> None:
    r = Router.load(make_pack())
    assert r.policy_.temperature > 0.0
    d = r.route("I need a refund for my invoice")
    assert d.unit is not None and d.unit.id == "billing"
    assert d.answer.quotes[0].text.startswith("The Billing Desk")
    # A unit without a quote is named without one.
    d = r.route("the app crashes and I forgot my password")
    assert d.unit is not None and d.unit.id == "support" and d.answer.quotes == ()
    assert "Technical Support" in str(d.answer)


def test_stale_calibration_warns_and_refits(make_pack) -> None:
    root = make_pack()
    write_calibration(load_pack(root), fit_calibration(load_pack(root), folds=3))
    write_model(load_pack(root))
    path = root / "intents/billing.yaml"
    path.write_text(path.read_text("utf-8") + "  - where do I see my refund\n", encoding="utf-8")
    with pytest.warns(StaleCalibrationWarning, match=f"'ai-office calibrate --pack {root}'"):
        r = Router.load(root)
    d = r.route("where do I see my refund")
    assert d.unit is not None and d.unit.id == "billing"
    # The stale stored model is not used: the router fitted its own.
    assert type(r.classifier_).__name__ == "IntentClassifier"


def test_bundled_calibration_is_current() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", StaleCalibrationWarning)
        Router.load().warm_up()  # the topic and Act routers too


@pytest.mark.slow
def test_bundled_pack_loads_its_stored_model_without_scikit_learn() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from router import Router; r = Router.load(); "
        "r.route('who fines GPAI providers?'); "
        "print(type(r.classifier_).__name__, 'sklearn' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["LinearTextModel", "False"]


def test_stored_model_decides_like_a_fresh_fit(router: Router) -> None:
    from router.classifier import IntentClassifier

    fresh = Router(classifier=IntentClassifier()).fit(router.pack_)
    texts = [c["text"] for c in GOLDEN] + ["GPAI", "sandbox for drones", "Roboterförderung"]
    for a, b in zip(router.route_many(texts), fresh.route_many(texts)):
        assert (a.decision, a.unit) == (b.decision, b.unit)
        assert abs(a.confidence - b.confidence) < 1e-3


def test_refused_questions_without_words_or_law_cite_nothing(router: Router) -> None:
    for text in ["2", "how do I renew my passport", "a", "?? 42"]:
        d = router.route(text)
        assert d.decision == "out_of_scope", text
        assert d.provisions == (), (text, d.provisions)
    named = router.route("what does Article 50 say?")
    assert [p.reference for p in named.provisions][:1] == ["Article 50"]


def test_a_refused_question_about_the_law_still_gets_its_article(router: Router) -> None:
    d = router.route("my bank's AI refused my loan, do I have a right to an explanation?")
    assert d.unit is None or d.unit.id == "regulation_compliance"
    assert d.provisions and d.provisions[0].reference.startswith("Article 86")


@pytest.mark.parametrize("fuzzy_weight", [None, 0.3])
def test_route_many_without_explaining_decides_the_same(
    router: Router, fuzzy_weight: float | None
) -> None:
    # The bundled pack's fitted fuzzy weight is 0, so key terms do not count and are not
    # looked for without evidence to show; with a weight they must be.
    if fuzzy_weight is not None:
        policy = Policy(temperature=router.policy_.temperature, fuzzy_weight=fuzzy_weight)
        router = Router(policy=policy).fit(router.pack_)
    texts = [c["text"] for c in GOLDEN] + [
        "EDIH GenAI4EU the ai office systemic risk",
        "Article 50 transparency for chatbots",
        "🙂🙂",
        "Who fines GPAI providers? " + "blah " * 2000,
    ]
    full = list(router.route_many(texts, chunk_size=8))
    lean = list(router.route_many(texts, chunk_size=8, explain=False))
    for want, got in zip(full, lean, strict=True):
        assert got.decision == want.decision
        assert got.unit == want.unit
        assert got.confidence == want.confidence
        assert got.alternatives == want.alternatives
        assert got.answer == want.answer
        assert got.provisions == want.provisions
        # Only what changes how a decision reads is kept.
        assert got.evidence.truncated == want.evidence.truncated
        assert got.evidence.notes == want.evidence.notes
        assert got.evidence.weighing_terms == ()
        assert got.evidence.model_scores == ()
    assert any(d.evidence.model_scores for d in full)
    assert lean[-1].evidence.truncated and lean[-2].evidence.notes


def test_recent_texts_are_answered_from_a_bounded_cache(router: Router) -> None:
    small = Router(cache_size=3).fit(router.pack_)
    first = small.route("who fines GPAI providers?")
    assert small.route("who fines GPAI providers?") is first
    # Explaining or not are kept apart: the lean decision has no weighing words.
    lean = next(small.route_many(["who fines GPAI providers?"], explain=False))
    assert lean is not first and lean.evidence.weighing_terms == ()
    assert lean.decision == first.decision and lean.confidence == first.confidence
    for i in range(10):
        small.route(f"question number {i} about EDIH funding")
        small.outcomes([f"question number {i} about EDIH funding", "GPAI"], alternatives=i)
        info = small.cache_info()
        assert 1 <= info["decisions"][0] <= info["decisions"][1] == 3
        assert 1 <= info["outcomes"][0] <= info["outcomes"][1] == 3
    off = Router(cache_size=0).fit(router.pack_)
    again = off.route("who fines GPAI providers?")
    assert off.route("who fines GPAI providers?") is not again
    assert off.route("who fines GPAI providers?") == again == first


def test_warm_up_builds_the_lazy_parts_and_changes_no_decision(router: Router) -> None:
    fresh = Router().fit(router.pack_)
    assert fresh.cache_info()["words"][0] == 0  # built on first use
    assert fresh.warm_up() is fresh
    assert fresh.cache_info()["words"][0] >= len(fresh.matcher_.vocabulary_)
    for text in ("who fines GPAI providers?", "EDIH funding", "recipe for pancakes"):
        assert fresh.route(text) == router.route(text)


OUTCOME_TEXTS = [
    *[c["text"] for c in GOLDEN],
    "What does Article 50 say about chatbots?",  # provisions
    "who at the AI Office deals with fines and systemic risk",  # close units
    "EDIH GenAI4EU the ai office systemic risk",  # key terms
    "recipe for pancakes",
    "🙂🙂",
    "Who fines GPAI providers? " + "blah " * 2000,
]


@pytest.mark.parametrize("fuzzy_weight", [None, 0.3])
def test_outcomes_are_the_decisions_without_evidence_and_answer(
    router: Router, fuzzy_weight: float | None
) -> None:
    # With a fuzzy weight, key terms count and must be looked for (the bundled pack's is 0).
    policy = None if fuzzy_weight is None else Policy(fuzzy_weight=fuzzy_weight)
    fresh = Router(policy=policy).fit(router.pack_)
    texts = [*OUTCOME_TEXTS, OUTCOME_TEXTS[0]]  # a repeat, from the cache
    decisions = list(fresh.route_many(texts))
    for alternatives in (0, 2, 3):
        got = fresh.outcomes(texts, alternatives=alternatives)
        assert got == [d.outcome(alternatives=alternatives) for d in decisions]
        assert all(isinstance(o, Outcome) and len(o.alternatives) == alternatives for o in got)
    assert {"routed", "out_of_scope"} <= {o.decision for o in got}
    article = got[len(GOLDEN)]
    assert article.provisions.startswith("Article 50")
    assert article.to_dict() == {
        "decision": article.decision,
        "unit": article.unit,
        "unit_name": article.unit_name,
        "confidence": article.confidence,
        "alternatives": [{"unit": u, "score": s} for u, s in article.alternatives],
        "provisions": article.provisions,
        "topic": article.topic,
        "referral": article.referral,
    }
    routed = decisions[0]
    assert (
        got[0]
        == (
            "routed",
            routed.unit.id,  # type: ignore[union-attr]
            routed.unit.name,  # type: ignore[union-attr]
            round(routed.confidence, 4),
            tuple((a.unit.id, round(a.score, 4)) for a in routed.alternatives[:3]),
            "; ".join(p.reference for p in routed.provisions),
            None if routed.topic is None else routed.topic.id,
            None,
        )
    )


def test_rank_ranks_as_the_decisions_do_without_building_them(router: Router) -> None:
    texts = OUTCOME_TEXTS[:6]
    decisions = list(router.route_many(texts))
    ranking = router.rank(texts)
    assert ranking.kinds == [d.decision for d in decisions]
    assert ranking.confidence == [d.confidence for d in decisions]
    assert [[u.id for u in units] for units in ranking.units] == [
        [a.unit.id for a in d.alternatives] for d in decisions
    ]
    assert ranking.scores == [[a.score for a in d.alternatives] for d in decisions]
    routed = [i for i, d in enumerate(decisions) if d.decision == "routed"]
    assert len(routed) >= 3
    assert [ranking.first[i] for i in routed] == [decisions[i].unit for i in routed]
    assert ranking.features.shape[0] == len(texts)
    with pytest.raises(InputError, match="empty"):
        router.rank(["GPAI fines", "  "])


def test_outcomes_name_the_bad_item(router: Router) -> None:
    with pytest.raises(InputError, match="item 1"):
        router.outcomes(["GPAI fines", "  "])


def test_a_fitted_matcher_is_refitted_with_its_settings(router: Router) -> None:
    fitted = router.matcher_
    again = Router(matcher=fitted).fit(router.pack_)
    assert again.matcher_ is not fitted
    assert again.matcher_.get_params() == fitted.get_params()
    for text in ("who handles enforcemnet of the AI Act?", "EDIH near Lyon?"):
        assert again.route(text) == router.route(text)


def test_a_pickled_router_routes_the_same(router: Router) -> None:
    import pickle

    copy = pickle.loads(pickle.dumps(router))
    texts = ["who fines GPAI providers?", "what does Article 50 say?", "recipe for pancakes"]
    assert list(copy.route_many(texts)) == list(router.route_many(texts))
    assert copy.outcomes(texts) == router.outcomes(texts)


def _unseen(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 12)))


def test_one_router_shared_by_threads_decides_as_one_thread_does(router: Router) -> None:
    # Questions with words the router has never seen, routed from 8 threads at once, must
    # get the decisions one thread gets, and leave the router right for later calls.
    rng = random.Random(11)
    base = [c["text"] for c in GOLDEN]
    questions = [f"{rng.choice(base)} {_unseen(rng)} {_unseen(rng)}" for _ in range(600)]
    batches = [questions[i : i + rng.randint(1, 5)] for i in range(0, len(questions), 5)]
    shared = Router(cache_size=64).fit(router.pack_)
    alone = Router(cache_size=0).fit(router.pack_)

    def work(batch: list[str]) -> tuple[list[Decision], list[Outcome]]:
        return list(shared.route_many(batch)), shared.outcomes(batch)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns often, as on a busy many-core server
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            got = list(pool.map(work, batches))
    finally:
        sys.setswitchinterval(interval)
    for batch, (decisions, outcomes) in zip(batches, got):
        want = [alone.route(text) for text in batch]
        assert decisions == want
        assert outcomes == [d.outcome() for d in want]
    later = questions[:40] + [f"GPAI fines {_unseen(rng)}" for _ in range(40)]
    assert [shared.route(t) for t in later] == [alone.route(t) for t in later]
    assert all(size <= limit for size, limit in shared.cache_info().values())
