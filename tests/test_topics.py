"""Topics, referrals and contacts: loaded and checked with the pack, used when routing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from router import PackError, QuoteNotFoundError, Router, load_pack
from router.evaluate import evaluate, read_labelled
from router.pack import bundled_dirs

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def pack():  # type: ignore[no-untyped-def]
    return load_pack()


def test_the_bundled_pack_knows_enough_topics_for_every_unit(pack) -> None:  # type: ignore[no-untyped-def]
    assert len(pack.topics) >= 60
    assert sum(t.description is not None for t in pack.topics) >= 45
    assert {t.unit for t in pack.topics} == {u.id for u in pack.units}
    assert all(len(t.examples) >= 5 for t in pack.topics)
    assert len(pack.referrals) >= 15
    assert all(len(r.examples) >= 5 for r in pack.referrals)


def test_every_quote_and_contact_is_in_its_stored_official_page(pack) -> None:  # type: ignore[no-untyped-def]
    by_id = {s.id: s for s in pack.sources}
    official = ("europa.eu/", "data.europa.eu/eli/")
    described = [t for t in pack.topics if t.description is not None]
    assert len(described) >= len(pack.topics) // 2
    for topic in described:
        assert topic.citation is not None
        assert by_id[topic.citation.source_id].says(topic.description), topic.id
        assert topic.citation.url and any(o in topic.citation.url for o in official)
    for referral in pack.referrals:
        assert any(o in referral.url for o in official), referral.id
    described_referrals = [r for r in pack.referrals if r.description is not None]
    assert described_referrals
    for referral in described_referrals:
        assert by_id[referral.citation.source_id].says(referral.description)
    emails = [c for c in pack.contacts if c.kind == "email"]
    others = [c for c in pack.contacts if c.kind != "email"]
    assert emails and others
    for contact in emails:
        assert contact.value in by_id[contact.citation.source_id].text
    for contact in others:
        source = by_id[contact.citation.source_id]
        assert contact.value == source.citation.url or source.says(contact.value)


def _copy_pack(tmp_path: Path) -> Path:
    corpus, intents = bundled_dirs()
    root = tmp_path / "pack"
    shutil.copytree(corpus, root / "corpus")
    shutil.copytree(intents, root / "intents")
    return root


def _edit(path: Path, key: str, change) -> None:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data[key])
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_a_description_not_in_its_source_fails_loading(tmp_path: Path) -> None:
    root = _copy_pack(tmp_path)

    def change(topics):  # type: ignore[no-untyped-def]
        quoted = next(t for t in topics if t.get("description"))
        quoted["description"]["quote"] += " And it also bakes bread."

    _edit(root / "corpus" / "topics.yaml", "topics", change)
    with pytest.raises(QuoteNotFoundError, match="description is not verbatim"):
        load_pack(root)


def test_a_contact_address_without_a_source_fails_loading(tmp_path: Path) -> None:
    root = _copy_pack(tmp_path)

    def change(contacts):  # type: ignore[no-untyped-def]
        contacts.append(
            {
                "id": "invented",
                "label": "A mailbox nobody published",
                "value": "someone@ec.europa.eu",
                "kind": "email",
                "source": contacts[0]["source"],
            }
        )

    _edit(root / "corpus" / "contacts.yaml", "contacts", change)
    with pytest.raises(QuoteNotFoundError, match="address is not verbatim"):
        load_pack(root)


def test_a_topic_of_an_unknown_unit_fails_loading(tmp_path: Path) -> None:
    root = _copy_pack(tmp_path)
    _edit(root / "corpus" / "topics.yaml", "topics", lambda t: t[0].update(unit="catering"))
    with pytest.raises(PackError, match="unknown unit 'catering'"):
        load_pack(root)


@pytest.mark.parametrize(
    ("question", "topic", "unit"),
    [
        ("who handles the AI pact?", "ai_pact", "regulation_compliance"),
        ("wer betreibt die KI-Fabriken?", "ai_factories", "innovation_policy_coordination"),
        ("how do I sign the GPAI code of practice?", "gpai_signatories", "regulation_compliance"),
    ],
)
def test_a_question_naming_a_topic_gets_it_and_its_unit(
    router: Router, question: str, topic: str, unit: str
) -> None:
    d = router.route(question)
    assert d.decision == "routed" and d.unit is not None and d.unit.id == unit
    assert d.topic is not None and d.topic.id == topic
    assert d.topic.name in str(d.answer)


@pytest.mark.parametrize(
    "question", ["who handles the AI pact?", "how do I sign the GPAI code of practice?"]
)
def test_a_topic_with_a_description_is_quoted_in_the_answer(router: Router, question: str) -> None:
    d = router.route(question)
    assert d.topic is not None and d.topic.description is not None
    assert d.topic.description in str(d.answer)


def test_a_question_for_elsewhere_is_refused_with_where_to_go(router: Router) -> None:
    d = router.route("an AI chatbot leaked my personal data, how do I get it deleted under GDPR?")
    assert d.decision == "out_of_scope" and d.unit is None
    assert d.referral is not None and d.referral.id == "data_protection"
    assert d.referral.url in str(d.answer)
    data = d.to_dict()
    assert data["referral"]["id"] == "data_protection"
    assert data["topic"] is None
    json.dumps(data)


def test_a_routed_answer_ends_with_a_sourced_contact(router: Router) -> None:
    d = router.route("who handles the AI pact?")
    assert d.contacts
    assert all(c.citation.url for c in d.contacts)
    assert str(d.answer).rstrip().endswith(d.contacts[-1].value) or any(
        c.value in str(d.answer) for c in d.contacts
    )


# Floors on the labelled sets, a little under today's figures (see docs/topics.md), so that
# a change that loses what the topics brought fails here.
@pytest.mark.parametrize(
    ("name", "accuracy", "topic", "referral"),
    [("topics_tune.yaml", 0.91, 0.82, 0.77), ("topics.yaml", 0.92, 0.85, 0.83)],
)
def test_accuracy_floors_on_the_topic_sets(
    router: Router, name: str, accuracy: float, topic: float, referral: float
) -> None:
    result = evaluate(router, read_labelled(DATA / name))
    assert result.accuracy >= accuracy
    assert result.topic_accuracy is not None and result.topic_accuracy >= topic
    assert result.referral_accuracy is not None and result.referral_accuracy >= referral
