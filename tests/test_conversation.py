"""A conversation: short follow-ups are answered in the previous turn's context."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from router import Conversation, Router

DATA = Path(__file__).parent / "data"


def test_a_follow_up_keeps_the_unit_and_says_so(router: Router) -> None:
    talk = Conversation(router)
    first = talk.ask("Who enforces the rules for general-purpose AI models?")
    assert first.unit is not None and first.unit.id == "regulation_compliance"
    alone = router.route("and who do I contact?")
    assert alone.unit is None or alone.unit.id != "regulation_compliance"
    follow = talk.ask("and who do I contact?")
    assert follow.unit is not None and follow.unit.id == "regulation_compliance"
    assert follow.text == "and who do I contact?"
    assert [n.code for n in follow.evidence.notes] == ["follow_up"]
    assert str(follow.evidence.notes[0]) == (
        "read as a follow-up to: Who enforces the rules for general-purpose AI models?"
    )
    assert [t.text for t in talk.turns] == [
        "Who enforces the rules for general-purpose AI models?",
        "and who do I contact?",
    ]


def test_a_new_topic_starts_afresh(router: Router) -> None:
    talk = Conversation(router)
    talk.ask("Who enforces the rules for general-purpose AI models?")
    other = talk.ask("who handles the AI pact?")
    assert not any(n.code == "follow_up" for n in other.evidence.notes)
    assert talk.ask("recipe for a chocolate cake").decision == "out_of_scope"


def test_route_stays_stateless(router: Router) -> None:
    before = router.route("which article?")
    Conversation(router).ask("Is emotion recognition at work banned under the AI Act?")
    assert router.route("which article?") == before


def test_memory_is_bounded_and_reset_forgets(router: Router) -> None:
    talk = Conversation(router, memory=2)
    for q in ("who handles the AI pact?", "what is GenAI4EU?", "who runs AI Factories?"):
        talk.ask(q)
    assert [t.text for t in talk.turns] == ["what is GenAI4EU?", "who runs AI Factories?"]
    talk.reset()
    assert talk.turns == ()


def _dialogue_accuracy(router: Router, name: str) -> tuple[float, float]:
    right = total = follow_right = follows = 0
    for dialogue in yaml.safe_load((DATA / name).read_text(encoding="utf-8")):
        talk = Conversation(router)
        for turn in dialogue["turns"]:
            d = talk.ask(turn["text"])
            got = d.unit.id if d.unit else d.decision
            total += 1
            right += got == turn["unit"]
            if turn.get("follow_up"):
                follows += 1
                follow_right += got == turn["unit"]
    return right / total, follow_right / follows


# Floors a little under today's figures (docs/chat.md): the tuning dialogues and the
# held-out ones, two sets by two separate writers.
@pytest.mark.parametrize(
    ("name", "turns", "follow_ups"),
    [
        ("dialogues_tune.yaml", 0.85, 0.75),
        ("dialogues.yaml", 0.81, 0.66),
        ("dialogues_heldout2.yaml", 0.82, 0.62),
    ],
)
def test_dialogue_floors(router: Router, name: str, turns: float, follow_ups: float) -> None:
    got_turns, got_follow_ups = _dialogue_accuracy(router, name)
    assert got_turns >= turns
    assert got_follow_ups >= follow_ups
