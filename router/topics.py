"""What the AI Office's world is made of, beyond its units: the programmes, bodies and
instruments people ask about (topics), where to send the questions that are not for it
(referrals), and the public channels to reach it (contacts).

Each lives in a YAML file of the pack's corpus folder, all optional::

    corpus/topics.yaml     topics: id, name, unit, reason, aliases, description {source,
                           quote} or null, provisions, examples
    corpus/referrals.yaml  referrals: id, body, why, url, source, quote or null, examples
    corpus/contacts.yaml   contacts: id, label, value, kind (email | page), source, for
                           (unit ids), topics (topic ids)

Quotes, e-mail addresses and links are checked against the stored source pages when the pack
loads, exactly as mandates are: nothing is shown that an official page does not say.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import PackError, QuoteNotFoundError
from .records import Citation, Example, Source, optional_str, read_examples, require
from .yamlio import line_of, read_yaml

__all__ = ["Contact", "Referral", "Topic", "read_contacts", "read_referrals", "read_topics"]

TOPICS_FILE = "topics.yaml"
REFERRALS_FILE = "referrals.yaml"
CONTACTS_FILE = "contacts.yaml"


@dataclass(frozen=True)
class Topic:
    """A programme, body, instrument or document of the AI Office's world.

    Attributes:
        id: stable id (``ai_pact``).
        name: its official English name.
        unit: the id of the unit that handles it.
        reason: one line on why that unit handles it, from the units' mandates.
        aliases: names, acronyms and short forms people type, in several languages.
        description: one or two sentences quoted verbatim from an official page, or None
            when no official page was found (the reply then says so).
        citation: where ``description`` comes from.
        provisions: the AI Act provisions it rests on ("Article 56"), if any.
        examples: training questions about it in people's words.
    """

    id: str
    name: str
    unit: str
    reason: str
    aliases: tuple[str, ...] = ()
    description: str | None = None
    citation: Citation | None = None
    provisions: tuple[str, ...] = ()
    examples: tuple[Example, ...] = ()


@dataclass(frozen=True)
class Referral:
    """Where to go instead, for a kind of question that is not for the AI Office.

    Attributes:
        id: stable id (``data_protection``).
        body: who to turn to ("your national data protection authority").
        why: one line on why the question belongs there.
        url: an official page about that body or channel.
        description: what the body does, quoted verbatim from that page, or None.
        citation: the stored official page behind ``url`` and ``description``.
        examples: training questions that belong there.
    """

    id: str
    body: str
    why: str
    url: str
    citation: Citation
    description: str | None = None
    examples: tuple[Example, ...] = ()


@dataclass(frozen=True)
class Contact:
    """A public channel to reach the AI Office or one of its programmes.

    Attributes:
        id: stable id.
        label: what it is ("AI Act Service Desk").
        value: the e-mail address or link, verbatim from an official page.
        kind: ``email`` (the address is in the page's text) or ``page`` (the page is the
            channel and ``value`` is its address).
        citation: the stored official page it was taken from.
        units: the unit ids it suits.
        topics: the topic ids it suits in particular.
    """

    id: str
    label: str
    value: str
    kind: str
    citation: Citation
    units: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()


def _items(path: Path, key: str) -> list[Any]:
    data = read_yaml(path)
    items = require(data, key, list, path)
    seen: set[str] = set()
    for item in items:
        item_id = str(require(item, "id", str, path))
        if item_id in seen:
            raise PackError(f"{item_id!r} is defined twice", path=path, line=line_of(item))
        seen.add(item_id)
    return items


def _source(item: Any, path: Path, sources: dict[str, Source], item_id: str) -> Source:
    source_id = str(require(item, "source", str, path, unit=item_id))
    if source_id not in sources:
        raise PackError(
            f"{item_id!r} names unknown source {source_id!r}; add it to corpus/sources.yaml",
            path=path,
            line=line_of(item),
            unit=item_id,
        )
    return sources[source_id]


def _verbatim(text: str, source: Source, path: Path, item: Any, item_id: str, what: str) -> None:
    if not source.says(text):
        raise QuoteNotFoundError(
            f"{item_id!r}: its {what} is not verbatim in source {source.id!r} "
            f"({source.path}); copy the exact words from the source",
            path=path,
            line=line_of(item),
            unit=item_id,
        )


def _aliases(raw: Any, path: Path, item: Any, item_id: str) -> tuple[str, ...]:
    """Aliases as a list, or a mapping of language to list; duplicates dropped."""
    if raw is None:
        return ()
    groups = raw.values() if isinstance(raw, dict) else [raw]
    out: list[str] = []
    for group in groups:
        if not isinstance(group, list) or not all(isinstance(a, str) and a.strip() for a in group):
            raise PackError(
                f"{item_id!r}: aliases must be lists of non-empty text",
                path=path,
                line=line_of(item),
                unit=item_id,
            )
        out += [a for a in group if a not in out]
    return tuple(out)


def read_topics(
    corpus_dir: Path, sources: dict[str, Source], unit_ids: set[str]
) -> tuple[Topic, ...]:
    """The pack's topics (none when it has no ``topics.yaml``), validated.

    Raises:
        PackError: a topic is malformed, names an unknown unit or source.
        QuoteNotFoundError: a description is not verbatim in its source.
    """
    path = corpus_dir / TOPICS_FILE
    if not path.is_file():
        return ()
    topics = []
    for item in _items(path, "topics"):
        tid = str(item["id"])
        unit = str(require(item, "unit", str, path, unit=tid))
        if unit not in unit_ids:
            raise PackError(
                f"topic {tid!r} names unknown unit {unit!r}; known units: "
                + ", ".join(sorted(unit_ids)),
                path=path,
                line=line_of(item),
                unit=tid,
            )
        description, citation = None, None
        spec = item.get("description")
        if spec is not None:
            source = _source(spec, path, sources, tid)
            description = str(require(spec, "quote", str, path, unit=tid))
            _verbatim(description, source, path, spec, tid, "description")
            citation = source.citation
        provisions = item.get("provisions") or []
        if not isinstance(provisions, list):
            raise PackError(
                f"topic {tid!r}: provisions must be a list of references ('Article 56')",
                path=path,
                line=line_of(item),
                unit=tid,
            )
        examples = tuple(read_examples(item, path, tid)) if "examples" in item else ()
        topics.append(
            Topic(
                id=tid,
                name=str(require(item, "name", str, path, unit=tid)),
                unit=unit,
                reason=str(require(item, "reason", str, path, unit=tid)),
                aliases=_aliases(item.get("aliases"), path, item, tid),
                description=description,
                citation=citation,
                provisions=tuple(str(p) for p in provisions),
                examples=examples,
            )
        )
    return tuple(topics)


def read_referrals(corpus_dir: Path, sources: dict[str, Source]) -> tuple[Referral, ...]:
    """The pack's referral rules (none without ``referrals.yaml``), validated.

    The link must be the stored page's own address or appear in its text.
    """
    path = corpus_dir / REFERRALS_FILE
    if not path.is_file():
        return ()
    referrals = []
    for item in _items(path, "referrals"):
        rid = str(item["id"])
        source = _source(item, path, sources, rid)
        url = str(require(item, "url", str, path, unit=rid))
        if url != source.citation.url:
            _verbatim(url, source, path, item, rid, "url")
        quote = optional_str(item, "quote")
        if quote is not None:
            _verbatim(quote, source, path, item, rid, "quote")
        referrals.append(
            Referral(
                id=rid,
                body=str(require(item, "body", str, path, unit=rid)),
                why=str(require(item, "why", str, path, unit=rid)),
                url=url,
                citation=source.citation,
                description=quote,
                examples=tuple(read_examples(item, path, rid)),
            )
        )
    return tuple(referrals)


def read_contacts(
    corpus_dir: Path, sources: dict[str, Source], unit_ids: set[str], topic_ids: set[str]
) -> tuple[Contact, ...]:
    """The pack's contacts (none without ``contacts.yaml``), each checked against its page:
    an e-mail address must be in the page's text, a page must be the stored page itself."""
    path = corpus_dir / CONTACTS_FILE
    if not path.is_file():
        return ()
    contacts = []
    for item in _items(path, "contacts"):
        cid = str(item["id"])
        source = _source(item, path, sources, cid)
        value = str(require(item, "value", str, path, unit=cid))
        kind = str(require(item, "kind", str, path, unit=cid))
        if kind == "email":
            _verbatim(value, source, path, item, cid, "address")
        elif kind == "page":
            if value != source.citation.url:
                _verbatim(value, source, path, item, cid, "link")
        else:
            raise PackError(
                f"contact {cid!r}: kind must be 'email' or 'page', not {kind!r}",
                path=path,
                line=line_of(item),
                unit=cid,
            )
        units = tuple(str(u) for u in item.get("for") or ())
        topics = tuple(str(t) for t in item.get("topics") or ())
        unknown = sorted((set(units) - unit_ids) | (set(topics) - topic_ids))
        if unknown:
            raise PackError(
                f"contact {cid!r} names unknown unit(s) or topic(s): {', '.join(unknown)}",
                path=path,
                line=line_of(item),
                unit=cid,
            )
        contacts.append(
            Contact(
                id=cid,
                label=str(require(item, "label", str, path, unit=cid)),
                value=value,
                kind=kind,
                citation=source.citation,
                units=units,
                topics=topics,
            )
        )
    return tuple(contacts)
