"""Composing replies: quoted mandates with citations, or an honest out-of-scope reply."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from .catalogue import message
from .errors import PackError
from .language import LANGUAGES
from .pack import Contact, Pack, Referral, Topic, Unit
from .records import Citation
from .results import Answer, Decision, Quote
from .yamlio import line_of, read_yaml

__all__ = ["REFERRALS_TRANSLATED_FILE", "AnswerBook", "quote_marker", "read_referral_wording"]

#: The referrals' body and why in the other reply languages, beside referrals.yaml.
REFERRALS_TRANSLATED_FILE = "referrals_translated.yaml"


def read_referral_wording(
    path: Path, referral_ids: set[str]
) -> dict[tuple[str, str], tuple[str, str]]:
    """``(referral id, language) -> (body, why)`` from ``path`` ({} if there is no file).

    Raises:
        PackError: an unknown referral or language, or a body or why missing, with the line.
    """
    if not path.is_file():
        return {}
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise PackError("expected a mapping of referral ids", path=path, line=1)
    wording: dict[tuple[str, str], tuple[str, str]] = {}
    for rid, languages in data.items():
        if rid not in referral_ids:
            known = ", ".join(sorted(referral_ids))
            raise PackError(
                f"no referral {rid!r} in referrals.yaml (known: {known})",
                path=path,
                line=line_of(languages),
            )
        if not isinstance(languages, dict):
            raise PackError(f"{rid}: expected languages", path=path, line=line_of(languages))
        for language, entry in languages.items():
            where = line_of(entry) or line_of(languages)
            if language not in LANGUAGES[1:]:
                raise PackError(
                    f"{rid}: {language!r} is not one of {', '.join(LANGUAGES[1:])}",
                    path=path,
                    line=where,
                )
            if not isinstance(entry, dict) or not all(
                isinstance(entry.get(k), str) and entry[k].strip() for k in ("body", "why")
            ):
                raise PackError(
                    f"{rid}.{language}: give both body and why as text", path=path, line=where
                )
            wording[rid, language] = (" ".join(entry["body"].split()), entry["why"])
    return wording


def quote_marker(language: str) -> str:
    """What follows a quote's citation in a reply in ``language``: "" in English, else
    "(cité en anglais)" and the like, since every stored source is in English."""
    return "" if language == "en" else f" ({message('quoted_in_english', language)})"


def _quote_block(unit: Unit, language: str = "en") -> str:
    assert unit.mandate is not None and unit.citation is not None
    return _cited(unit.mandate, unit.citation, language)


def _cited(text: str, citation: Citation, language: str = "en") -> str:
    return f"\u201c{text}\u201d\n  \u2014 {citation}{quote_marker(language)}"


def contact_lines(contacts: tuple[Contact, ...], *, language: str = "en") -> list[str]:
    """One line per contact: what it is, the address or link, and the page it is from.

    The labels are the pages' and mailboxes' own names, so they stay as published."""
    lines = []
    for c in contacts:
        url = c.citation.url
        source = "" if c.kind == "page" else " " + message("from_page", language, url=url)
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
        self._routed: dict[tuple[str, str | None, str], Answer] = {}
        self._clarify: dict[tuple[str, str, str], Answer] = {}
        self._out_of_scope: dict[tuple[str | None, str], Answer] = {}
        self._contacts: dict[tuple[str, str | None], tuple[Contact, ...]] = {}
        # Derived packs (the topic and Act routers) share the corpus folder but hold no
        # referrals, and never word a referral.
        self._referral_wording = (
            read_referral_wording(
                pack.corpus_dir / REFERRALS_TRANSLATED_FILE, {r.id for r in pack.referrals}
            )
            if pack.referrals
            else {}
        )

    def contacts(self, unit: Unit, topic: Topic | None = None) -> tuple[Contact, ...]:
        """The public channels for a unit's question: the topic's own first, then the unit's."""
        key = (unit.id, None if topic is None else topic.id)
        if key not in self._contacts:
            own = [c for c in self.pack.contacts if topic is not None and topic.id in c.topics]
            general = [c for c in self.pack.contacts if unit.id in c.units and c not in own]
            self._contacts[key] = tuple(own + general)[:3]  # the most specific first
        return self._contacts[key]

    def message(self, key: str, language: str = "en", *, unit: str | None = None) -> str:
        """The pack's wording of ``key`` (``routed``, ``clarify``, ...) in ``language``.

        pack.yaml holds English under ``key`` and the other languages under
        ``fr.key`` and so on; a unit's own wording (``routed.about_office``) comes first.
        A language the pack has no wording for falls back to English.
        """
        messages = self.pack.messages
        names = ([f"{key}.{unit}"] if unit is not None else []) + [key]
        prefixes = ([f"{language}."] if language != "en" else []) + [""]
        for prefix in prefixes:
            for name in names:
                found = messages.get(prefix + name)
                if found is not None:
                    return found
        return messages[key]

    def routed(self, unit: Unit, topic: Topic | None = None, *, language: str = "en") -> Answer:
        """The answer for a question routed to ``unit``: its name (and the topic's, with
        its quoted description), then the unit's mandate quoted, then how to reach them.

        ``language`` is the wording's; the quotes stay in English and are marked so."""
        key = (unit.id, None if topic is None else topic.id, language)
        if key not in self._routed:
            parts: list[str] = []
            quotes: tuple[Quote, ...] = ()
            if topic is None:
                lead = self.message("routed", language, unit=unit.id).format(unit=unit.name)
            else:
                template = self.message("topic", language, unit=unit.id)
                lead = template.format(topic=topic.name, unit=unit.name)
                if topic.description is not None and topic.citation is not None:
                    parts.append(_cited(topic.description, topic.citation, language))
                    quotes += (Quote(topic.id, topic.description, topic.citation),)
                else:
                    parts.append(self.message("topic_unquoted", language).format(topic=topic.name))
            if unit.mandate is not None:
                parts.append(_quote_block(unit, language))
                quotes += _quote(unit)
            contacts = self.contacts(unit, topic)
            if contacts:
                lines = contact_lines(contacts, language=language)
                parts.append("\n".join([self.message("contacts", language), *lines]))
            text = "\n\n".join([lead, *parts])
            self._routed[key] = Answer(lead=lead, quotes=quotes, text=text)
        return self._routed[key]

    def clarify(self, first: Unit, second: Unit, *, language: str = "en") -> Answer:
        """Ask which of two units fits, showing both mandates."""
        key = (first.id, second.id, language)
        if key not in self._clarify:
            lead = self.message("clarify", language)
            blocks = []
            for number, unit in enumerate((first, second), start=1):
                block = f"{number}. {unit.name}"
                if unit.mandate is not None:
                    block += "\n   " + _quote_block(unit, language).replace("\n", "\n   ")
                blocks.append(block)
            text = lead + "\n\n" + "\n\n".join(blocks)
            self._clarify[key] = Answer(lead=lead, quotes=_quote(first) + _quote(second), text=text)
        return self._clarify[key]

    def out_of_scope(self, referral: Referral | None = None, *, language: str = "en") -> Answer:
        """Say honestly that the question is not for this pack, and where to go instead
        (with a referral) or what the pack does handle (without one)."""
        key = (None if referral is None else referral.id, language)
        if key not in self._out_of_scope:
            if referral is None:
                names = [u.name for u in self.pack.units if u.id != self.pack.office_unit]
                template = self.message("out_of_scope", language)
                lead = " ".join(template.format(units="; ".join(names)).split())
                answer = Answer(lead=lead, text=lead)
            else:
                body, why = self._referral_wording.get(
                    (referral.id, language), (referral.body, referral.why)
                )
                lead = " ".join(
                    self.message("referral", language)
                    .format(body=body, why=why, url=referral.url)
                    .split()
                )
                quotes: tuple[Quote, ...] = ()
                text = lead
                if referral.description is not None:
                    quotes = (Quote(referral.id, referral.description, referral.citation),)
                    text += "\n\n" + _cited(referral.description, referral.citation, language)
                answer = Answer(lead=lead, quotes=quotes, text=text)
            self._out_of_scope[key] = answer
        return self._out_of_scope[key]

    def in_language(self, decision: Decision, language: str) -> Decision:
        """``decision`` with its answer worded in ``language`` (the quotes stay verbatim)."""
        if decision.decision == "routed" and decision.unit is not None:
            answer = self.routed(decision.unit, decision.topic, language=language)
        elif decision.decision == "clarify":
            first, second = decision.candidates
            answer = self.clarify(first, second, language=language)
        else:
            answer = self.out_of_scope(decision.referral, language=language)
        return dataclasses.replace(decision, answer=answer, language=language)
