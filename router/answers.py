"""Composing replies: quoted mandates with citations, or an honest out-of-scope reply."""

from __future__ import annotations

from .pack import Pack, Unit
from .results import Answer, Quote

__all__ = ["AnswerBook"]


def _quote_block(unit: Unit) -> str:
    assert unit.mandate is not None and unit.citation is not None
    return f"\u201c{unit.mandate}\u201d\n  \u2014 {unit.citation}"


def _quote(unit: Unit) -> tuple[Quote, ...]:
    if unit.mandate is None or unit.citation is None:
        return ()
    return (Quote(unit_id=unit.id, text=unit.mandate, citation=unit.citation),)


class AnswerBook:
    """Builds (and reuses) the answers of one pack; answers depend only on the units."""

    def __init__(self, pack: Pack) -> None:
        self.pack = pack
        self._routed: dict[str, Answer] = {}
        self._clarify: dict[tuple[str, str], Answer] = {}
        self._out_of_scope: Answer | None = None

    def routed(self, unit: Unit) -> Answer:
        """The answer for a question routed to ``unit``: its name, then its mandate quoted."""
        if unit.id not in self._routed:
            messages = self.pack.messages
            template = messages.get(f"routed.{unit.id}") or messages["routed"]
            lead = template.format(unit=unit.name)
            quotes = _quote(unit)
            text = lead if not quotes else f"{lead}\n\n{_quote_block(unit)}"
            self._routed[unit.id] = Answer(lead=lead, quotes=quotes, text=text)
        return self._routed[unit.id]

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

    def out_of_scope(self) -> Answer:
        """Say honestly that the question is not for this pack, and what it does handle."""
        if self._out_of_scope is None:
            names = [u.name for u in self.pack.units if u.id != self.pack.office_unit]
            lead = " ".join(
                self.pack.messages["out_of_scope"].format(units="; ".join(names)).split()
            )
            self._out_of_scope = Answer(lead=lead, text=lead)
        return self._out_of_scope
