"""Fusing the two scores and turning them into a decision; fitting the thresholds for it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from .linear import softmax
from .results import CLARIFY, OUT_OF_SCOPE, ROUTED

__all__ = [
    "NEVER_SKIP",
    "Policy",
    "decide_many",
    "fit_gate",
    "fit_policy",
    "fuse",
    "skips_encoder",
    "top_k",
]

#: Policies whose held-out utility is within this of the best count as tied.
TIE_TOLERANCE = 0.003

#: The values of ``Policy.ask_below`` tried when fitting (0: always refuse under the floor).
ASK_BELOW = (0.0, 0.01, 0.03, 0.1)


@dataclass(frozen=True)
class Policy:
    """The fitted numbers that turn model logits and fuzzy scores into a decision.

    Attributes:
        temperature: divides the model's logits before the softmax (calibration).
        fuzzy_weight: how much one unit's fuzzy term score adds to its probability.
        floor: below this fused probability the best unit is not trusted: out of scope.
        margin: when the best two units are closer than this, ask back (clarify).
        ask_below: when the best unit is under the floor but out of scope is less likely
            than this, ask back between the best two rather than refuse (0: never).
    """

    temperature: float = 1.0
    fuzzy_weight: float = 0.3
    floor: float = 0.45
    margin: float = 0.1
    ask_below: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {k: round(float(v), 4) for k, v in asdict(self).items()}


def fuse(logits: np.ndarray, fuzzy: np.ndarray, policy: Policy) -> np.ndarray:
    """Fused probabilities: calibrated model probabilities plus weighted fuzzy evidence."""
    fused = softmax(logits, policy.temperature) + policy.fuzzy_weight * fuzzy
    fused /= fused.sum(axis=1, keepdims=True)
    return fused


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Column indices of each row's ``k`` highest (finite) scores, best first; ties by column.

    Repeated argmax, not a sort: routing needs the best few of up to 150 intents, and k
    passes of argmax (which returns the first of equal maxima) beat sorting every row.
    """
    k = min(k, scores.shape[1])
    work = scores.astype(np.float64, copy=True)
    rows = np.arange(len(scores))
    out = np.empty((len(scores), k), dtype=np.intp)
    for j in range(k):
        out[:, j] = column = work.argmax(axis=1)
        work[rows, column] = -np.inf
    return out


def decide_many(
    fused: np.ndarray, oos_index: int | None, policy: Policy
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Decide for each row of ``fused``.

    Returns the decisions, the best and second-best in-scope class indices, and the
    confidence of each decision (the fused probability that it is right).
    """
    scores = fused.copy()
    oos_p = np.zeros(len(fused))
    if oos_index is not None:
        oos_p = fused[:, oos_index].copy()
        scores[:, oos_index] = -1.0
    order = top_k(scores, 2)
    best, second = order[:, 0], order[:, 1]
    rows = np.arange(len(fused))
    p1, p2 = scores[rows, best], scores[rows, second]
    # The rules in order, first match wins; vectorised, since a chunk has thousands of rows.
    oos_wins = oos_p > p1
    # Two units share the mass between them: neither alone clears the floor, but together
    # they do, so ask back rather than refuse.
    clarify = ~oos_wins & (p1 - p2 < policy.margin) & (p1 + p2 >= policy.floor)
    # Refuse only when out of scope is a likely answer: under the floor, units that share
    # the mass while out of scope is unlikely are asked about rather than refused.
    unsure = ~oos_wins & ~clarify & (p1 < policy.floor)
    clarify |= unsure & (oos_p < policy.ask_below)
    refused = oos_wins | (~clarify & (p1 < policy.floor))
    kind = np.where(refused, OUT_OF_SCOPE, np.where(clarify, CLARIFY, ROUTED))
    decisions: list[str] = kind.tolist()
    confidence = np.where(refused, 1.0 - p1, np.where(clarify, p1 + p2, p1))
    return decisions, best, second, np.clip(confidence, 0.0, 1.0)


def utility(
    decisions: Sequence[str],
    best: np.ndarray,
    second: np.ndarray,
    truth: np.ndarray,
    oos_index: int | None,
) -> float:
    """The objective thresholds are fitted to: balanced over in-scope and out-of-scope.

    A right routing or a right refusal scores 1; asking back between two units, one of them
    right, scores 0.5 (it costs the person a turn); anything else 0.
    """
    decisions_arr = np.asarray(decisions)
    is_oos = truth == oos_index if oos_index is not None else np.zeros(len(truth), bool)
    score = np.zeros(len(truth))
    score[(decisions_arr == ROUTED) & (best == truth)] = 1.0
    clar = (decisions_arr == CLARIFY) & ((best == truth) | (second == truth))
    score[clar] = 0.5
    score[is_oos & (decisions_arr == OUT_OF_SCOPE)] = 1.0
    parts = [score[~is_oos].mean()] if (~is_oos).any() else []
    if is_oos.any():
        parts.append(score[is_oos].mean())
    return float(np.mean(parts))


def fit_temperature(logits: np.ndarray, truth: np.ndarray) -> float:
    """The temperature minimising the negative log-likelihood of held-out predictions."""
    # Log-spaced from 0.2 to 5 for logistic regression's logits, extended down to 0.02 with
    # the same step because a linear SVM's margins are about ten times narrower.
    step = np.log(25.0) / 40
    grid = np.exp(np.log(0.2) + step * np.arange(-29, 41))
    rows = np.arange(len(truth))
    nll = [-np.log(softmax(logits, t)[rows, truth] + 1e-12).mean() for t in grid]
    return float(grid[int(np.argmin(nll))])


def fit_policy(
    logits: np.ndarray,
    fuzzy: np.ndarray,
    truth: np.ndarray,
    oos_index: int | None,
    *,
    asks_back: bool = True,
) -> tuple[Policy, float]:
    """Choose temperature, fuzzy weight, floor and margin on held-out (out-of-fold) scores.

    Returns the policy and its utility on those scores.
    """
    temperature = fit_temperature(logits, truth)
    scored: list[tuple[float, Policy]] = []
    for weight in (0.0, 0.1, 0.2, 0.3, 0.5, 0.8):
        fused = fuse(logits, fuzzy, Policy(temperature=temperature, fuzzy_weight=weight))
        for floor in np.arange(0.20, 0.75, 0.025):
            for margin in (0.0, 0.025, 0.05, 0.075, 0.1, 0.15):
                for ask_below in ASK_BELOW if asks_back and oos_index is not None else (0.0,):
                    policy = Policy(
                        temperature, weight, round(float(floor), 4), margin, ask_below
                    )
                    decisions, best, second, _ = decide_many(fused, oos_index, policy)
                    scored.append((utility(decisions, best, second, truth, oos_index), policy))
    best_score = max(score for score, _ in scored)
    # The utility surface is flat near its top. Among near-ties prefer the highest floor:
    # unseen out-of-scope questions are more varied than the training ones, so a policy
    # that refuses a little more readily generalises better. Then the best score wins.
    near = [(p.floor, score, p) for score, p in scored if score >= best_score - TIE_TOLERANCE]
    _, score, policy = max(
        near, key=lambda item: (item[0], item[1], -item[2].margin, -item[2].ask_below)
    )
    return policy, score


#: A gate no margin reaches (margins are at most 1): every question is encoded.
NEVER_SKIP = 1.01


def _routed_margin(
    fused: np.ndarray, decisions: Sequence[str], best: np.ndarray, second: np.ndarray
) -> np.ndarray:
    """How far each row's best unit is ahead of the second (fused probabilities) when the
    row is routed; -inf when it is not (no gate skips it)."""
    rows = np.arange(len(fused))
    margin = fused[rows, best] - fused[rows, second]
    return np.where(np.asarray(decisions) == ROUTED, margin, -np.inf)


def skips_encoder(
    fused: np.ndarray, decisions: Sequence[str], best: np.ndarray, second: np.ndarray, gate: float
) -> np.ndarray:
    """Which rows the words alone decide: routed by the model without an encoder, with the
    best unit ahead of the second by at least ``gate`` (fused probabilities)."""
    return _routed_margin(fused, decisions, best, second) >= gate


def fit_gate(
    words: tuple[np.ndarray, Sequence[str], np.ndarray, np.ndarray],
    encoded: tuple[Sequence[str], np.ndarray, np.ndarray],
    truth: np.ndarray,
    oos_index: int | None,
    *,
    tolerance: float = TIE_TOLERANCE,
) -> tuple[float, float, float, float]:
    """The lowest gate (see :func:`skips_encoder`) whose held-out utility is within
    ``tolerance`` of encoding every question, on out-of-fold scores of both models.

    ``words`` is the model without an encoder's fused probabilities and decisions (its own
    policy's), ``encoded`` the decisions with the encoder. A sentence encoder costs tens of
    times the TF-IDF model's time per question, and most questions are decided by their
    words alone; the gate keeps the encoder for the rest. Returns the gate (``NEVER_SKIP``
    when none is within tolerance), the share of questions it skips, its utility and the
    utility of encoding every question.
    """
    fused, w_decisions, w_best, w_second = words
    e_decisions, e_best, e_second = encoded
    full = utility(e_decisions, e_best, e_second, truth, oos_index)
    margin = _routed_margin(fused, w_decisions, w_best, w_second)
    routed = np.isfinite(margin)
    w_arr, e_arr = np.asarray(w_decisions), np.asarray(e_decisions)
    # The margins of the routed rows, from the lowest (skips them all) up: the first gate
    # within tolerance skips the most.
    # (Rounded down to the 4 decimals the calibration file keeps, so that the stored gate
    # skips what was measured here.)
    quantiles = np.quantile(margin[routed], np.linspace(0, 1, 201)) if routed.any() else []
    for gate in np.unique(np.floor(np.asarray(quantiles) * 1e4) / 1e4):
        skip = margin >= gate
        decisions = np.where(skip, w_arr, e_arr).tolist()
        best = np.where(skip, w_best, e_best)
        second = np.where(skip, w_second, e_second)
        score = utility(decisions, best, second, truth, oos_index)
        if score >= full - tolerance:
            return float(gate), float(skip.mean()), score, full
    return NEVER_SKIP, 0.0, full, full
