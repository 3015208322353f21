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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import yaml

from .fuzzy import TermMatcher, prepare_normalised
from .linear import MODEL_FILE
from .pack import CALIBRATION_FILE, Pack
from .policy import Policy, fit_policy
from .text import normalise

if TYPE_CHECKING:
    from .classifier import IntentClassifier

__all__ = [
    "CalibrationResult",
    "fit_calibration",
    "fit_matcher",
    "fit_models",
    "out_of_fold_scores",
    "write_calibration",
    "write_model",
]


@dataclass(frozen=True)
class CalibrationResult:
    """Thresholds fitted on out-of-fold scores, with what they were fitted on."""

    policy: Policy
    utility: float
    folds: int
    fingerprint: str
    n_examples: int


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
    )


def write_calibration(pack: Pack, result: CalibrationResult, path: Path | None = None) -> Path:
    """Store ``result`` as ``intents/calibration.yaml`` of the pack (or at ``path``)."""
    target = path or pack.intents_dir / CALIBRATION_FILE
    document = {
        "calibration": {
            "fingerprint": result.fingerprint,
            "policy": result.policy.as_dict(),
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


def write_model(pack: Pack, path: Path | None = None) -> Path:
    """Fit the default classifier on all of the pack's data and store it as plain arrays.

    Loading then skips both scikit-learn's import and the fit (``intents/model.npz``).
    """
    from .classifier import IntentClassifier

    texts, labels = pack.training_data()
    model = IntentClassifier().fit([normalise(t) for t in texts], labels)
    return model.save(path or pack.intents_dir / MODEL_FILE, fingerprint=pack.fingerprint())
