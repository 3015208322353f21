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


HELD_OUT = [DEV, MULTILINGUAL, DEV.parent / "topics.yaml", DEV.parent / "topics_tune.yaml"]


@pytest.mark.parametrize("path", HELD_OUT, ids=[p.stem for p in HELD_OUT])
def test_held_out_sets_do_not_overlap_training_data(router: Router, path: Path) -> None:
    from router.text import normalise

    texts, _ = router.pack_.training_data()
    texts += [e.text for t in router.pack_.topics for e in t.examples]
    texts += [e.text for r in router.pack_.referrals for e in r.examples]
    training = {normalise(t) or t for t in texts}
    overlap = [i.text for i in read_labelled(path) if (normalise(i.text) or i.text) in training]
    assert overlap == []


def test_act_question_sets_do_not_overlap_training_data(router: Router) -> None:
    from router.law.articles import act_questions
    from router.law.evaluate import read_law_questions
    from router.text import normalise

    training = {normalise(t) for t, _, _ in act_questions(router.pack_, router.provision_index)}
    for name in ("act_heldout.yaml", "act_tune.yaml", "provisions.yaml"):
        asked = read_law_questions(DEV.parent / name)
        assert [q.text for q in asked if normalise(q.text) in training] == [], name


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


@pytest.mark.parametrize("name", ["dialogues.yaml", "dialogues_heldout2.yaml"])
def test_held_out_dialogues_do_not_overlap_training_data(router: Router, name: str) -> None:
    import yaml

    from router.text import normalise

    texts, _ = router.pack_.training_data()
    texts += [e.text for t in router.pack_.topics for e in t.examples]
    texts += [e.text for r in router.pack_.referrals for e in r.examples]
    training = {normalise(t) or t for t in texts}
    dialogues = yaml.safe_load((DEV.parent / name).read_text("utf-8"))
    turns = [turn["text"] for d in dialogues for turn in d["turns"]]
    # Short follow-ups ("any contact?") may equal a training line by chance; full questions
    # (four words or more) must not.
    overlap = [t for t in turns if len(t.split()) >= 4 and (normalise(t) or t) in training]
    assert overlap == []
