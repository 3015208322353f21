"""Composing replies: quoted mandates with citations, or an honest out-of-scope reply."""

from __future__ import annotations

from .pack import Contact, Pack, Referral, Topic, Unit
from .records import Citation
from .results import Answer, Quote

__all__ = ["AnswerBook"]


def _quote_block(unit: Unit) -> str:
    assert unit.mandate is not None and unit.citation is not None
    return _cited(unit.mandate, unit.citation)


def _cited(text: str, citation: Citation) -> str:
    return f"\u201c{text}\u201d\n  \u2014 {citation}"


def contact_lines(contacts: tuple[Contact, ...]) -> list[str]:
    """One line per contact: what it is, the address or link, and the page it is from."""
    lines = []
    for c in contacts:
        source = "" if c.kind == "page" else f" (from {c.citation.url})"
        lines.append(f"- {c.label}: {c.value}{source}")
    return lines


def _quote(unit: Unit) -> tuple[Quote, ...]:
    if unit.mandate is None or unit.citation is None:
        return ()
    return (Quote(unit_id=unit.id, text=unit.mandate, citation=unit.citation),)


class AnswerBook:
    """Builds (and reuses) the answers of one pack; answers depend only on the units."""

    def __init__(self, pack: Pack) -> None:
        self.pack = pack
        self._routed: dict[tuple[str, str | None], Answer] = {}
        self._clarify: dict[tuple[str, str], Answer] = {}
        self._out_of_scope: dict[str | None, Answer] = {}
        self._contacts: dict[tuple[str, str | None], tuple[Contact, ...]] = {}

    def contacts(self, unit: Unit, topic: Topic | None = None) -> tuple[Contact, ...]:
        """The public channels for a unit's question: the topic's own first, then the unit's."""
        key = (unit.id, None if topic is None else topic.id)
        if key not in self._contacts:
            own = [c for c in self.pack.contacts if topic is not None and topic.id in c.topics]
            general = [c for c in self.pack.contacts if unit.id in c.units and c not in own]
            self._contacts[key] = tuple(own + general)[:3]  # the most specific first
        return self._contacts[key]

    def routed(self, unit: Unit, topic: Topic | None = None) -> Answer:
        """The answer for a question routed to ``unit``: its name (and the topic's, with
        its quoted description), then the unit's mandate quoted, then how to reach them."""
        key = (unit.id, None if topic is None else topic.id)
        if key not in self._routed:
            messages = self.pack.messages
            parts: list[str] = []
            quotes: tuple[Quote, ...] = ()
            if topic is None:
                template = messages.get(f"routed.{unit.id}") or messages["routed"]
                lead = template.format(unit=unit.name)
            else:
                template = messages.get(f"topic.{unit.id}") or messages["topic"]
                lead = template.format(topic=topic.name, unit=unit.name)
                if topic.description is not None and topic.citation is not None:
                    parts.append(_cited(topic.description, topic.citation))
                    quotes += (Quote(topic.id, topic.description, topic.citation),)
                else:
                    parts.append(messages["topic_unquoted"].format(topic=topic.name))
            if unit.mandate is not None:
                parts.append(_quote_block(unit))
                quotes += _quote(unit)
            contacts = self.contacts(unit, topic)
            if contacts:
                parts.append("\n".join([messages["contacts"], *contact_lines(contacts)]))
            text = "\n\n".join([lead, *parts])
            self._routed[key] = Answer(lead=lead, quotes=quotes, text=text)
        return self._routed[key]

    def clarify(self, first: Unit, second: Unit) -> Answer:
        """Ask which of two units fits, showing both mandates."""
        key = (first.id, second.id)
        if key not in self._clarify:
            lead = self.pack.messages["clarify"]
            blocks = []
            for number, unit in enumerate((first, second), start=1):
                block = f"{number}. {unit.name}"
                if unit.mandate is not None:
                    block += "\n   " + _quote_block(unit).replace("\n", "\n   ")
                blocks.append(block)
            text = lead + "\n\n" + "\n\n".join(blocks)
            self._clarify[key] = Answer(lead=lead, quotes=_quote(first) + _quote(second), text=text)
        return self._clarify[key]

    def out_of_scope(self, referral: Referral | None = None) -> Answer:
        """Say honestly that the question is not for this pack, and where to go instead
        (with a referral) or what the pack does handle (without one)."""
        key = None if referral is None else referral.id
        if key not in self._out_of_scope:
            messages = self.pack.messages
            if referral is None:
                names = [u.name for u in self.pack.units if u.id != self.pack.office_unit]
                lead = " ".join(messages["out_of_scope"].format(units="; ".join(names)).split())
                answer = Answer(lead=lead, text=lead)
            else:
                lead = " ".join(
                    messages["referral"]
                    .format(body=referral.body, why=referral.why, url=referral.url)
                    .split()
                )
                quotes: tuple[Quote, ...] = ()
                text = lead
                if referral.description is not None:
                    quotes = (Quote(referral.id, referral.description, referral.citation),)
                    text += "\n\n" + _cited(referral.description, referral.citation)
                answer = Answer(lead=lead, quotes=quotes, text=text)
            self._out_of_scope[key] = answer
        return self._out_of_scope[key]
