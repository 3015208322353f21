"""The CLINC150 converter and benchmark, on a small sample of the data (the full run is a
benchmark: ``python benchmarks/clinc150.py``)."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import numpy as np
import pytest

from router import Router, load_pack
from router.classifier import IntentClassifier
from router.errors import NotFittedError

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "tests" / "data" / "clinc_sample.json"
sys.path.insert(0, str(REPO / "benchmarks"))

import clinc150  # noqa: E402

KEYS = {
    "val_halves_floor",
    "single_query_ms",
    "in_scope_accuracy",
    "oos_recall",
    "oos_precision",
    "oos_f1",
    "auroc",
    "closed_set_accuracy",
    "in_scope_accuracy_at_80_oos_recall",
    "in_scope_accuracy_at_90_oos_recall",
    "typo_closed_set_accuracy",
    "typo_cost",
    "fit_seconds",
    "load_seconds",
    "queries_per_second",
    "policy",
    "evaluated_on",
}


@pytest.fixture(scope="module")
def sample() -> dict[str, list[tuple[str, str]]]:
    return clinc150.read_clinc(SAMPLE)


def test_converter_writes_a_loadable_pack_without_quotes_or_oos_intent(
    sample: dict[str, list[tuple[str, str]]], tmp_path: Path
) -> None:
    root = clinc150.write_pack(sample["train"], tmp_path / "clinc")
    pack = load_pack(root)
    intents = {y for _, y in sample["train"]}
    assert {u.id for u in pack.units} == intents
    assert all(u.mandate is None for u in pack.units)
    assert pack.out_of_scope_unit == "oos"
    assert "oos" not in {i.unit for i in pack.intents}
    assert len(pack.training_data()[0]) == len(sample["train"])

    router = Router.load(root)
    assert router.oos_index_ is None
    decision = router.route("what's the weather like in paris tomorrow")
    assert decision.decision == "routed"
    assert decision.unit is not None and decision.unit.id == "weather"
    assert str(decision.answer) == "Intent: weather."
    assert decision.answer.quotes == ()


def test_paper_threshold_maximises_accuracy_over_all_classes() -> None:
    # In-scope scores with correctness, out-of-scope scores: rejecting below 0.5 keeps the
    # three right in-scope ones (0.6, 0.8, 0.9) and rejects both out-of-scope ones (0.2,
    # 0.4); the wrong in-scope one (0.3) is rejected too and counts as wrong either way.
    in_scores = np.array([0.9, 0.8, 0.6, 0.3])
    correct = np.array([True, True, True, False])
    oos = np.array([0.2, 0.4])
    floor, accuracy = clinc150.paper_threshold(in_scores, correct, oos)
    assert 0.4 < floor <= 0.6
    assert accuracy == pytest.approx(5 / 6)


def test_paper_threshold_counts_a_rejected_in_scope_query_as_wrong() -> None:
    # One out-of-scope query scores above three right in-scope ones: rejecting it would
    # cost three, so the best floor rejects nothing.
    in_scores = np.array([0.5, 0.55, 0.6])
    correct = np.array([True, True, True])
    floor, accuracy = clinc150.paper_threshold(in_scores, correct, np.array([0.7]))
    assert floor <= 0.5
    assert accuracy == pytest.approx(3 / 4)


def test_split_threshold_scores_each_half_with_the_other_halfs_floor() -> None:
    # Separable scores: any half's floor separates the other half too.
    rng = np.random.default_rng(1)
    in_scores, oos = rng.uniform(0.6, 1.0, 200), rng.uniform(0.0, 0.4, 20)
    correct = np.ones(200, dtype=bool)
    got = clinc150.split_threshold(in_scores, correct, oos, repeats=3)
    assert got == {"in_scope_accuracy": 100.0, "oos_recall": 100.0, "repeats": 3}
    # An out-of-scope query scoring above every in-scope one is rejected by no floor worth
    # choosing, in whichever half it falls: recall drops below 100.
    oos[0] = 0.95
    in_scores[in_scores > 0.94] = 0.93
    got = clinc150.split_threshold(in_scores, correct, oos, repeats=3)
    assert got["oos_recall"] < 100.0


def test_run_prints_every_metric(sample: dict[str, list[tuple[str, str]]]) -> None:
    result = clinc150.run(SAMPLE, folds=3)
    assert set(result) >= KEYS
    assert result["evaluated_on"] == "val + oos_val"
    assert result["n_in_scope"] == len(sample["val"])
    assert result["n_out_of_scope"] == len(sample["oos_val"])
    for key in ("in_scope_accuracy", "oos_recall", "auroc", "closed_set_accuracy"):
        assert 0.0 <= result[key] <= 100.0
    assert result["closed_set_accuracy"] >= result["in_scope_accuracy"]
    json.dumps(result)


def test_run_evaluates_on_test_split_when_present(
    sample: dict[str, list[tuple[str, str]]], tmp_path: Path
) -> None:
    data = {**sample, "test": sample["val"][:10], "oos_test": sample["oos_val"][:3]}
    path = tmp_path / "with_test.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    out = tmp_path / "pack"
    result = clinc150.run(path, out_pack=out, folds=3)
    assert result["evaluated_on"] == "test + oos_test"
    assert result["n_in_scope"] == 10 and result["n_out_of_scope"] == 3
    # The kept pack carries the chosen threshold and loads without refitting it.
    stored = load_pack(out).calibration
    assert stored is not None and stored["policy"]["floor"] == result["policy"]["floor"]


def test_read_clinc_rejects_a_file_without_train(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"val": []}), encoding="utf-8")
    with pytest.raises(ValueError, match="no 'train' split"):
        clinc150.read_clinc(path)


def test_typos_touch_only_long_words_and_are_seeded() -> None:
    text = "set an alarm for seven tomorrow morning"
    a = clinc150.add_typos(text, random.Random(1), rate=1.0)
    b = clinc150.add_typos(text, random.Random(1), rate=1.0)
    assert a == b
    words, noisy = text.split(), a.split()
    assert (noisy[0], noisy[1], noisy[3]) == ("set", "an", "for")
    assert sum(x != y for x, y in zip(words, noisy)) >= 1
    assert clinc150.add_typos(text, random.Random(1), rate=0.0) == text


@pytest.mark.parametrize(("model", "kind"), [("svm", "svm"), ("auto", "logistic")])
def test_classifier_model_choice(
    sample: dict[str, list[tuple[str, str]]], model: str, kind: str
) -> None:
    texts = [t for t, _ in sample["train"]]
    labels = [y for _, y in sample["train"]]
    clf = IntentClassifier(model=model).fit(texts, labels)
    assert clf.model_kind_ == kind
    assert clf.decision_function(texts[:3]).shape == (3, len(set(labels)))
    assert (clf.predict(texts) == np.array(labels)).mean() > 0.9


def test_classifier_rejects_unknown_model_and_unfitted_use() -> None:
    with pytest.raises(ValueError, match="model must be"):
        IntentClassifier(model="tree").fit(["a b", "c d"], ["x", "y"])
    with pytest.raises(NotFittedError):
        IntentClassifier().transform(["a"])
