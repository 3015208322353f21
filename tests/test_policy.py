"""Fusion and the decision rules of router.policy."""

from __future__ import annotations

import numpy as np
import pytest

from router.policy import (
    CLARIFY,
    NEVER_SKIP,
    OUT_OF_SCOPE,
    ROUTED,
    Policy,
    decide_many,
    fit_gate,
    fuse,
    skips_encoder,
    top_k,
)


@pytest.mark.parametrize("width", [2, 3, 6, 151])
@pytest.mark.parametrize("k", [1, 2, 10])
def test_top_k_is_a_stable_descending_sort_cut_to_k(width: int, k: int) -> None:
    rng = np.random.default_rng(width * 100 + k)
    # Few distinct values, so ties are common.
    scores = rng.integers(0, 4, size=(300, width)).astype(float)
    want = np.argsort(-scores, axis=1, kind="stable")[:, : min(k, width)]
    assert np.array_equal(top_k(scores, k), want)


def test_decide_many_applies_the_rules_in_order() -> None:
    policy = Policy(temperature=1.0, fuzzy_weight=0.0, floor=0.5, margin=0.1)
    # Columns: unit a, unit b, unit c, out of scope.
    fused = np.array(
        [
            [0.70, 0.10, 0.05, 0.15],  # clear winner
            [0.40, 0.35, 0.05, 0.20],  # close pair clearing the floor together
            [0.20, 0.15, 0.15, 0.50],  # out-of-scope class wins
            [0.30, 0.10, 0.25, 0.35],  # ... also when the best unit is close behind
            [0.45, 0.10, 0.05, 0.40],  # best below the floor, no close second: refused
            [0.22, 0.20, 0.20, 0.38],  # out of scope wins before clarifying
        ]
    )
    kinds, best, second, confidence = decide_many(fused, 3, policy)
    assert kinds == [ROUTED, CLARIFY, OUT_OF_SCOPE, OUT_OF_SCOPE, OUT_OF_SCOPE, OUT_OF_SCOPE]
    assert best.tolist()[:2] == [0, 0] and second.tolist()[:2] == [1, 1]
    assert confidence.tolist() == pytest.approx([0.70, 0.75, 0.80, 0.70, 0.55, 0.78])


def test_decide_many_without_an_out_of_scope_class_relies_on_the_floor() -> None:
    policy = Policy(floor=0.6, margin=0.05)
    kinds, best, _, confidence = decide_many(np.array([[0.3, 0.7], [0.55, 0.45]]), None, policy)
    assert kinds == [ROUTED, OUT_OF_SCOPE]
    assert best.tolist() == [1, 0]
    assert confidence.tolist() == pytest.approx([0.7, 0.45])


def test_fuse_adds_weighted_fuzzy_evidence_and_renormalises() -> None:
    logits = np.log(np.array([[0.5, 0.5]]))
    fused = fuse(logits, np.array([[1.0, 0.0]]), Policy(temperature=1.0, fuzzy_weight=0.5))
    assert fused.tolist()[0] == pytest.approx([1.0 / 1.5, 0.5 / 1.5])
    assert fused.sum() == pytest.approx(1.0)


def test_skips_encoder_only_for_routed_rows_at_or_past_the_margin() -> None:
    fused = np.array([[0.875, 0.125], [0.625, 0.375], [0.75, 0.25], [0.875, 0.125]])
    decisions = [ROUTED, ROUTED, ROUTED, OUT_OF_SCOPE]
    best, second = np.zeros(4, dtype=int), np.ones(4, dtype=int)
    skipped = skips_encoder(fused, decisions, best, second, 0.5)
    # Margins 0.75, 0.25, 0.5 (at the gate: skipped), 0.75 (but refused: encoded).
    assert skipped.tolist() == [True, False, True, False]


def _gate_case(words_wrong_from: float) -> tuple[tuple, tuple, np.ndarray]:
    """Twenty questions of two units with margins 0.05 to 1.0: the words-only model routes
    them all to unit 0 and is wrong below ``words_wrong_from``; the encoder is always right."""
    margin = np.linspace(0.05, 1.0, 20)
    fused = np.column_stack([(1 + margin) / 2, (1 - margin) / 2])
    truth = np.where(margin < words_wrong_from, 1, 0)
    words = (fused, [ROUTED] * 20, np.zeros(20, dtype=int), np.ones(20, dtype=int))
    encoded = ([ROUTED] * 20, truth.copy(), 1 - truth)
    return words, encoded, truth


def test_fit_gate_skips_the_most_while_within_tolerance_of_encoding_all() -> None:
    words, encoded, truth = _gate_case(words_wrong_from=0.5)
    gate, skipped, score, full = fit_gate(words, encoded, truth, None, tolerance=0.0)
    assert full == 1.0 and score == 1.0
    margins = np.linspace(0.05, 1.0, 20)
    # The lowest gate that skips no question the words get wrong.
    assert margins[margins < 0.5].max() < gate <= margins[margins >= 0.5].min()
    assert skipped == pytest.approx((margins >= 0.5).mean())
    # A looser tolerance lets it skip one wrong question (utility 19/20 = 0.95).
    loose_gate, loose_skipped, loose_score, _ = fit_gate(
        words, encoded, truth, None, tolerance=0.05
    )
    assert loose_gate < gate and loose_skipped > skipped and loose_score == pytest.approx(0.95)


def test_fit_gate_never_skips_when_the_words_are_wrong_even_when_sure() -> None:
    words, encoded, truth = _gate_case(words_wrong_from=1.1)  # wrong on every question
    gate, skipped, score, full = fit_gate(words, encoded, truth, None, tolerance=0.0)
    assert gate == NEVER_SKIP and skipped == 0.0 and score == full == 1.0
    assert not skips_encoder(words[0], words[1], words[2], words[3], gate).any()
