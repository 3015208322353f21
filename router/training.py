"""Training a router's models: fitting the classifier and the term matcher, out-of-fold
scores, the decision thresholds fitted on them, and writing both to the pack.

:mod:`router.routing` loads what this stores (``intents/model.npz`` and
``intents/calibration.yaml``) and routes; it calls in here only for what a pack does not
store, or stores stale. scikit-learn is imported inside the functions that need it, so that
loading a router with a stored model never imports it.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import yaml

from .encoders import get_encoder
from .fuzzy import TermMatcher, prepare_normalised
from .linear import model_file
from .pack import Pack, calibration_file
from .policy import Policy, decide_many, fit_gate, fit_policy, fuse
from .text import normalise

if TYPE_CHECKING:
    from .classifier import IntentClassifier

__all__ = [
    "EMBEDDING_WEIGHTS",
    "CalibrationResult",
    "EncoderGate",
    "fit_calibration",
    "fit_embedding_weight",
    "fit_encoder_gate",
    "fit_matcher",
    "fit_models",
    "gate_from_calibration",
    "out_of_fold_scores",
    "policy_from_calibration",
    "write_calibration",
    "write_model",
]


#: The embedding weights ``ai-office calibrate --encoder`` tries on held-out folds: the
#: embedding block has norm 1 per row, as each TF-IDF block; CLINC150's train folds and the
#: AI Office pack both peak within this range.
EMBEDDING_WEIGHTS = (1.0, 1.5, 2.0, 3.0)


@dataclass(frozen=True)
class EncoderGate:
    """When a router with an encoder skips it: the words-only model (the pack's own, without
    an encoder) routes a question with its best unit this far ahead of the second
    (:func:`router.policy.skips_encoder`). Fitted on held-out folds by :func:`fit_encoder_gate`.

    Attributes:
        margin: the gate; ``router.policy.NEVER_SKIP`` encodes every question.
        skipped: the share of held-out training questions it skips the encoder for.
        utility: held-out utility with the gate.
        encode_all_utility: held-out utility when every question is encoded.
    """

    margin: float
    skipped: float
    utility: float
    encode_all_utility: float

    def as_dict(self) -> dict[str, float]:
        return {
            "margin": self.margin,
            "skipped": round(self.skipped, 4),
            "utility": round(self.utility, 4),
            "encode_all_utility": round(self.encode_all_utility, 4),
        }


@dataclass(frozen=True)
class CalibrationResult:
    """Thresholds fitted on out-of-fold scores, with what they were fitted on.

    ``scores`` are those out-of-fold scores (logits, fuzzy scores, true class indices and
    the class order), kept for what is fitted on them next (the encoder gate); not stored.
    """

    policy: Policy
    utility: float
    folds: int
    fingerprint: str
    n_examples: int
    gate: EncoderGate | None = None
    scores: tuple[np.ndarray, np.ndarray, np.ndarray, list[str]] | None = field(
        default=None, compare=False, repr=False
    )


def fit_models(
    pack: Pack,
    normalised: Sequence[str],
    labels: Sequence[str],
    *,
    classifier: IntentClassifier | None = None,
    matcher: TermMatcher | None = None,
) -> tuple[IntentClassifier, TermMatcher]:
    """Fit fresh copies of the classifier and the matcher on normalised training texts."""
    from sklearn.base import clone

    from .classifier import IntentClassifier

    clf = clone(classifier) if classifier is not None else IntentClassifier()
    clf.fit(normalised, labels)
    return clf, fit_matcher(pack, normalised, labels, matcher=matcher)


def fit_matcher(
    pack: Pack,
    normalised: Sequence[str],
    labels: Sequence[str],
    *,
    matcher: TermMatcher | None = None,
) -> TermMatcher:
    """Fit a fresh term matcher on the pack's aliases and key terms: a copy of ``matcher``'s
    settings (fitted or not), else the pack's ``matcher`` settings."""
    terms: dict[str, list[str]] = {u.id: [u.name, *u.aliases] for u in pack.units}
    for intent in pack.intents:
        if intent.unit in terms:
            terms[intent.unit].extend(intent.terms)
    if matcher is None:
        fresh = TermMatcher(**pack.matcher_settings)  # type: ignore[arg-type]
    else:
        # What sklearn.base.clone does, without importing scikit-learn on the path that
        # loads a stored model (the matcher is fitted on every load).
        fresh = type(matcher)(**matcher.get_params())
    return fresh.fit(normalised, labels, terms)


def out_of_fold_scores(
    pack: Pack,
    *,
    folds: int = 5,
    seed: int = 0,
    classifier: IntentClassifier | None = None,
    matcher: TermMatcher | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Model logits and fuzzy scores of every training example, from a model that never saw it.

    Returns logits, fuzzy scores, true class indices and the class order.
    """
    from sklearn.model_selection import StratifiedKFold

    texts, labels = pack.training_data()
    normalised = [normalise(t) for t in texts]
    classes = sorted(set(labels))
    truth = np.array([classes.index(label) for label in labels])
    logits = np.zeros((len(texts), len(classes)))
    fuzzy = np.zeros((len(texts), len(classes)))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, held in splitter.split(normalised, truth):
        clf, fm = fit_models(
            pack,
            [normalised[i] for i in train],
            [labels[i] for i in train],
            classifier=classifier,
            matcher=matcher,
        )
        assert [str(c) for c in clf.classes_] == classes
        prepared = [prepare_normalised(fm, normalised[i].split()) for i in held]
        logits[held] = clf.decision_function([" ".join(p[0]) for p in prepared])
        fuzzy[held] = np.stack([fm.unit_scores(p[2], classes) for p in prepared])
    return logits, fuzzy, truth, classes


def fit_calibration(
    pack: Pack,
    *,
    folds: int = 5,
    seed: int = 0,
    classifier: IntentClassifier | None = None,
    matcher: TermMatcher | None = None,
) -> CalibrationResult:
    """Fit temperature, fuzzy weight, floor and margin on ``folds``-fold held-out scores."""
    logits, fuzzy, truth, classes = out_of_fold_scores(
        pack, folds=folds, seed=seed, classifier=classifier, matcher=matcher
    )
    oos = classes.index(pack.out_of_scope_unit) if pack.out_of_scope_unit in classes else None
    policy, score = fit_policy(logits, fuzzy, truth, oos, asks_back=pack.asks_back)
    return CalibrationResult(
        policy=policy,
        utility=round(score, 4),
        folds=folds,
        fingerprint=pack.fingerprint(),
        n_examples=len(truth),
        scores=(logits, fuzzy, truth, classes),
    )


def _current_calibration(pack: Pack, encoder: str) -> dict | None:
    """The pack's stored calibration fitted with ``encoder``, or None when absent or fitted
    on other training data."""
    data = pack.stored_calibration(encoder)
    return data if data and data.get("fingerprint") == pack.fingerprint() else None


def policy_from_calibration(pack: Pack, *, encoder: str = "none") -> Policy | None:
    """The pack's stored policy (fitted with ``encoder``), or None when absent or fitted on
    other training data."""
    data = _current_calibration(pack, encoder)
    return None if data is None else Policy(**{k: float(v) for k, v in data["policy"].items()})


def gate_from_calibration(pack: Pack, *, encoder: str) -> float | None:
    """The encoder gate's margin stored with ``encoder``'s calibration, or None when there
    is none (or the calibration is stale)."""
    data = _current_calibration(pack, encoder)
    return None if data is None or "gate" not in data else float(data["gate"]["margin"])


def fit_encoder_gate(pack: Pack, encoded: CalibrationResult, *, seed: int = 0) -> EncoderGate:
    """The encoder gate for a calibration fitted with an encoder (``encoded``, which keeps
    its out-of-fold scores), on the same folds: the pack's model without an encoder is
    scored out of fold too (the same ``seed`` and number of folds), and decides with its
    stored policy (fitted here when it is not stored, as ``ai-office calibrate`` would).
    """
    if encoded.scores is None:
        raise ValueError("the calibration fitted with the encoder kept no out-of-fold scores")
    e_logits, e_fuzzy, truth, classes = encoded.scores
    w_logits, w_fuzzy, w_truth, w_classes = out_of_fold_scores(
        pack, folds=encoded.folds, seed=seed
    )
    if w_classes != classes or not np.array_equal(w_truth, truth):
        raise ValueError("the two models were scored on different folds or classes")
    oos = classes.index(pack.out_of_scope_unit) if pack.out_of_scope_unit in classes else None
    words_policy = policy_from_calibration(pack)
    if words_policy is None:
        words_policy, _ = fit_policy(w_logits, w_fuzzy, truth, oos, asks_back=pack.asks_back)
    w_fused = fuse(w_logits, w_fuzzy, words_policy)
    w_decisions, w_best, w_second, _ = decide_many(w_fused, oos, words_policy)
    e_decisions, e_best, e_second, _ = decide_many(
        fuse(e_logits, e_fuzzy, encoded.policy), oos, encoded.policy
    )
    margin, skipped, score, full = fit_gate(
        (w_fused, w_decisions, w_best, w_second), (e_decisions, e_best, e_second), truth, oos
    )
    return EncoderGate(margin, skipped, score, full)


def fit_embedding_weight(
    pack: Pack,
    encoder: str,
    *,
    weights: Sequence[float] = EMBEDDING_WEIGHTS,
    folds: int = 5,
    seed: int = 0,
) -> tuple[float, CalibrationResult]:
    """The embedding weight with the best held-out utility for ``encoder``'s columns, and
    the calibration fitted with it (on the same folds)."""
    from .classifier import IntentClassifier

    model = get_encoder(encoder)
    if model is None:
        raise ValueError("an embedding weight needs an encoder, not 'none'")
    texts, _ = pack.training_data()
    best: tuple[float, CalibrationResult] | None = None
    # Each training text is embedded once for all the weights and folds.
    with model.pinned([normalise(t) for t in texts]):
        for weight in weights:
            result = fit_calibration(
                pack,
                folds=folds,
                seed=seed,
                classifier=IntentClassifier(encoder=encoder, embedding_weight=weight),
            )
            if best is None or result.utility > best[1].utility:
                best = (weight, result)
    assert best is not None
    return best


def write_calibration(
    pack: Pack,
    result: CalibrationResult,
    path: Path | None = None,
    *,
    encoder: str | None = None,
) -> Path:
    """Store ``result`` as ``intents/calibration.yaml`` of the pack (or at ``path``);
    fitted with an encoder, as ``intents/calibration.NAME.yaml``."""
    target = path or pack.intents_dir / calibration_file(encoder)
    document = {
        "calibration": {
            "fingerprint": result.fingerprint,
            "policy": result.policy.as_dict(),
            **({} if result.gate is None else {"gate": result.gate.as_dict()}),
            "held_out_utility": result.utility,
            "folds": result.folds,
            "examples": result.n_examples,
            "fitted": _dt.date.today().isoformat(),
        }
    }
    header = (
        "# Written by `ai-office calibrate`: decision thresholds fitted on held-out folds of\n"
        "# the training data. Do not edit by hand; re-run the command after changing intents.\n"
    )
    target.write_text(header + yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return target


def write_model(
    pack: Pack, path: Path | None = None, *, classifier: IntentClassifier | None = None
) -> Path:
    """Fit the default classifier (or a copy of ``classifier``) on all of the pack's data
    and store it as plain arrays.

    Loading then skips both scikit-learn's import and the fit (``intents/model.npz``; with
    an encoder, ``intents/model.NAME.npz``).
    """
    from sklearn.base import clone

    from .classifier import IntentClassifier

    texts, labels = pack.training_data()
    fresh = IntentClassifier() if classifier is None else clone(classifier)
    model = fresh.fit([normalise(t) for t in texts], labels)
    encoder = model.linear_.encoder
    target = path or pack.intents_dir / model_file(None if encoder is None else encoder.name)
    return model.save(target, fingerprint=pack.fingerprint())
