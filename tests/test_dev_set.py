"""Accuracy floors on the labelled development set, so a regression fails CI."""

from __future__ import annotations

from pathlib import Path

import pytest

from router import Router
from router.evaluate import evaluate, read_labelled

DEV = Path(__file__).parent / "data/dev.yaml"
#: Held-out inquiries in 17 EU languages (7 each), by a writer who never saw intents/.
MULTILINGUAL = Path(__file__).parent / "data/multilingual.yaml"


@pytest.fixture(scope="module")
def dev_result(router: Router):
    return evaluate(router, read_labelled(DEV))


def test_dev_set_is_big_and_varied() -> None:
    import yaml

    items = yaml.safe_load(DEV.read_text("utf-8"))
    assert len(items) >= 200
    tags = [t for item in items for t in item["tags"]]
    assert sum(item["unit"] == "out_of_scope" for item in items) >= 50
    assert sum(t in {"fr", "de", "it", "es", "nl", "pt", "pl"} for t in tags) >= 40
    assert tags.count("typo") >= 20 and tags.count("acronym") >= 20


@pytest.mark.parametrize("path", [DEV, MULTILINGUAL], ids=["dev", "multilingual"])
def test_held_out_sets_do_not_overlap_training_data(router: Router, path: Path) -> None:
    from router.text import normalise

    texts, _ = router.pack_.training_data()
    training = {normalise(t) or t for t in texts}
    overlap = [i.text for i in read_labelled(path) if (normalise(i.text) or i.text) in training]
    assert overlap == []


def test_multilingual_set_floors(router: Router) -> None:
    import yaml

    raw = yaml.safe_load(MULTILINGUAL.read_text("utf-8"))
    languages = {item["tags"][0] for item in raw}
    assert len(languages) >= 17 and len(raw) >= 7 * len(languages)
    result = evaluate(router, read_labelled(MULTILINGUAL))
    assert result.in_scope_accuracy >= 0.85, result.errors
    assert result.oos_recall >= 0.85, result.errors


def test_in_scope_accuracy_floor(dev_result) -> None:
    assert dev_result.in_scope_accuracy >= 0.85, dev_result.errors


def test_out_of_scope_recall_floor(dev_result) -> None:
    assert dev_result.oos_recall >= 0.85, dev_result.errors


def test_confusion_matrix_counts_every_inquiry(dev_result) -> None:
    assert sum(map(sum, dev_result.confusion)) == dev_result.n
