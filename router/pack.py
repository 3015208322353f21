"""Knowledge packs: units, their quoted mandates, source documents and training utterances.

A pack is a folder with two sub-folders::

    corpus/pack.yaml        name, the out-of-scope intent, reply wording, spelling-correction
                            settings (``matcher: {score_cutoff, min_length, max_edits,
                            edit_min_count}``)  (optional)
    corpus/sources.yaml     source documents: id, file, title, publisher, date, url (optional)
    corpus/units.yaml       units: id, name, aliases, mandate {source, quote} (quote optional)
    intents/<unit>.yaml     unit, terms, examples (a list, or a mapping language -> list)
    intents/calibration.yaml  thresholds fitted by ``ai-office calibrate`` (optional)

The bundled AI Office pack is the ``router.corpus`` and ``router.intents`` package data.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import PackError, QuoteNotFoundError, UnknownUnitError
from .packfiles import MAX_SOURCE_BYTES, check_links, inside, read_limited
from .records import Citation, Example, Source, optional_str, read_examples, require
from .text import normalise
from .topics import (
    TOPICS_FILE,
    Contact,
    Referral,
    Topic,
    read_contacts,
    read_referrals,
    read_topics,
)
from .validate import check_calibration, check_messages
from .yamlio import line_of, read_yaml

__all__ = [
    "CALIBRATION_FILE",
    "NO_TOPIC",
    "TOPICS_DIR",
    "Citation",
    "Contact",
    "Example",
    "IntentSet",
    "Pack",
    "Referral",
    "Source",
    "Topic",
    "Unit",
    "calibration_file",
    "load_pack",
]

CALIBRATION_FILE = "calibration.yaml"

#: The folder of ``intents/`` that holds the topic pack's fitted model and thresholds.
TOPICS_DIR = "topics"

#: The out-of-scope intent of a topic pack: a question that names no topic.
NO_TOPIC = "no_topic"

#: Extra training utterances of :data:`NO_TOPIC`, in ``intents/topics/``.
NO_TOPIC_FILE = "no_topic.yaml"

_DEFAULT_MESSAGES = {
    "routed": "This is for: {unit}.",
    "out_of_scope": "This question does not appear to be for this service. It handles: {units}.",
    "clarify": "Two answers are about equally likely. Which fits your question better?",
    "topic": "{topic} is handled by: {unit}.",
    "topic_unquoted": "(No official page describing {topic} is stored, so none is quoted.)",
    "referral": "This question is not one for this service. {why} Go to {body}: {url}",
    "contacts": "How to reach them:",
}


@dataclass(frozen=True)
class Unit:
    """A destination a question can be routed to.

    ``mandate`` is an exact quote from ``citation``'s source, or None for packs whose units
    carry no quote (the answer then only names the unit).
    """

    id: str
    name: str
    aliases: tuple[str, ...] = ()
    mandate: str | None = None
    citation: Citation | None = None


@dataclass(frozen=True)
class IntentSet:
    """The training data of one unit (or of the out-of-scope intent)."""

    unit: str
    path: Path
    terms: tuple[str, ...] = ()
    examples: tuple[Example, ...] = ()


@dataclass(frozen=True)
class Pack:
    """A loaded, validated knowledge pack."""

    name: str
    corpus_dir: Path
    intents_dir: Path
    units: tuple[Unit, ...]
    sources: tuple[Source, ...]
    intents: tuple[IntentSet, ...]
    out_of_scope_unit: str
    office_unit: str | None
    messages: dict[str, str]
    calibration: dict[str, Any] | None
    #: Spelling-correction settings for this pack's term matcher (``score_cutoff``,
    #: ``min_length``, ``max_edits``, ``edit_min_count``); empty means the matcher's defaults.
    matcher_settings: dict[str, float] = field(default_factory=dict)
    #: Programmes, bodies and instruments (``corpus/topics.yaml``), where to send questions
    #: that are not for the pack (``referrals.yaml``) and how to reach it (``contacts.yaml``).
    topics: tuple[Topic, ...] = ()
    referrals: tuple[Referral, ...] = ()
    contacts: tuple[Contact, ...] = ()
    #: How sure the topic router must be to settle the unit (``override_floor``) and to turn
    #: a routed question into a referral (``referral_floor``); fitted on the tuning sets.
    topic_settings: dict[str, float] = field(default_factory=dict)
    #: Whether the AI Act's provisions are cited beside answers (a derived topic pack: no).
    cites_provisions: bool = True
    #: Whether a question under the floor that is unlikely to be out of scope is asked
    #: about rather than refused (``Policy.ask_below``); derived packs only name or refuse.
    asks_back: bool = True
    #: The sentence encoder the pack routes with by default (``encoder:`` in pack.yaml; see
    #: :mod:`router.encoders`): ``none``, the TF-IDF model alone, unless set.
    encoder: str = "none"

    def stored_calibration(self, encoder: str | None = None) -> dict[str, Any] | None:
        """The stored calibration fitted with ``encoder`` (None: the pack's setting), or
        None when there is none."""
        name = self.encoder if encoder is None else encoder
        if name == "none":
            return self.calibration
        path = self.intents_dir / calibration_file(name)
        return read_calibration(path) if path.is_file() else None

    def unit(self, unit_id: str) -> Unit:
        """The unit with id ``unit_id``; raises :class:`UnknownUnitError`."""
        for unit in self.units:
            if unit.id == unit_id:
                return unit
        known = ", ".join(u.id for u in self.units)
        raise UnknownUnitError(f"no unit {unit_id!r} in pack {self.name!r}; known units: {known}")

    def training_data(self) -> tuple[list[str], list[str]]:
        """All training utterances and their labels (unit id or the out-of-scope intent)."""
        texts: list[str] = []
        labels: list[str] = []
        for intent in self.intents:
            for example in intent.examples:
                texts.append(example.text)
                labels.append(intent.unit)
        # Questions about topics and referrals are not added: on the dev set the topics'
        # taught the units every word of a programme's name ("factory", "sandbox") and cost
        # 3 points of out-of-scope recall, the referrals' 2 points of accuracy (the dev set
        # sends complaints about one AI system to the units). The topic router reads them.
        return texts, labels

    def topic(self, topic_id: str) -> Topic:
        """The topic with id ``topic_id``; raises :class:`UnknownUnitError`."""
        for topic in self.topics:
            if topic.id == topic_id:
                return topic
        raise UnknownUnitError(f"no topic {topic_id!r} in pack {self.name!r}")

    def referral(self, referral_id: str) -> Referral:
        """The referral rule with id ``referral_id``; raises :class:`UnknownUnitError`."""
        for referral in self.referrals:
            if referral.id == referral_id:
                return referral
        raise UnknownUnitError(f"no referral {referral_id!r} in pack {self.name!r}")

    def topic_pack(self) -> Pack | None:
        """The pack that tells topics and referrals apart, routed by the same engine.

        Its units are the topics and the referral rules; its out-of-scope intent,
        :data:`NO_TOPIC`, holds this pack's own training utterances that name no topic.
        Its fitted model and thresholds live in ``intents/topics/``. None without topics
        or referrals.
        """
        if not self.topics and not self.referrals:
            return None
        path = self.corpus_dir / TOPICS_FILE
        units: list[Unit] = []
        intents: list[IntentSet] = []
        names: list[str] = []
        for topic in self.topics:
            units.append(
                Unit(topic.id, topic.name, topic.aliases, topic.description, topic.citation)
            )
            # The names themselves are questions about the topic too ("AI Pact?").
            named = tuple(Example(a) for a in (topic.name, *topic.aliases))
            intents.append(IntentSet(topic.id, path, (), topic.examples + named))
            names += [normalise(a) for a in (topic.name, *topic.aliases)]
        for referral in self.referrals:
            units.append(Unit(referral.id, referral.body, (), referral.description,
                              referral.citation))
            intents.append(IntentSet(referral.id, path, (), referral.examples))
        # Utterances written for the units before topics existed often name one ("apply to
        # an AI Factory"): as examples of no topic they would teach the opposite, so they
        # are left out.
        padded = [f" {n} " for n in set(names) if n]
        plain = []
        for intent in self.intents:
            for example in intent.examples:
                text = f" {normalise(example.text)} "
                if not any(n in text for n in padded):
                    plain.append(example)
        topics_dir = self.intents_dir / TOPICS_DIR
        # Questions for the units written to name no topic, kept for this pack alone.
        extra = topics_dir / NO_TOPIC_FILE
        if extra.is_file():
            plain += read_examples(read_yaml(extra), extra, NO_TOPIC)
        intents.append(IntentSet(NO_TOPIC, path, (), tuple(plain)))
        return self.derived("topics", topics_dir, units, intents, NO_TOPIC)

    def derived(
        self,
        what: str,
        intents_dir: Path,
        units: Sequence[Unit],
        intents: Sequence[IntentSet],
        no_answer: str,
    ) -> Pack:
        """A pack derived from this one (its topics, the AI Act's articles), routed by the
        same engine: its own units and intents, its out-of-scope intent ``no_answer``, its
        stored model and calibration in ``intents_dir``. It cites no provisions and never
        asks back: it only names one of its units or none."""
        calibration = None
        if (intents_dir / CALIBRATION_FILE).is_file():
            calibration = read_calibration(intents_dir / CALIBRATION_FILE)
        return Pack(
            name=f"{self.name}: {what}",
            corpus_dir=self.corpus_dir,
            intents_dir=intents_dir,
            units=tuple(units),
            sources=self.sources,
            intents=tuple(intents),
            out_of_scope_unit=no_answer,
            office_unit=None,
            messages=dict(_DEFAULT_MESSAGES),
            calibration=calibration,
            matcher_settings=self.matcher_settings,
            cites_provisions=False,
            asks_back=False,
        )

    def fingerprint(self) -> str:
        """A hash of everything fitting depends on, to tell when calibration is stale."""
        payload = {
            "units": [[u.id, list(u.aliases)] for u in self.units],
            "intents": [
                [i.unit, list(i.terms), [e.text for e in i.examples]] for i in self.intents
            ],
            "out_of_scope": self.out_of_scope_unit,
        }
        if self.matcher_settings:  # only when set, so existing fingerprints stay valid
            payload["matcher"] = self.matcher_settings
        blob = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
        return hashlib.sha256(blob).hexdigest()[:16]


def bundled_dirs() -> tuple[Path, Path]:
    """The corpus and intents folders of the bundled AI Office pack."""
    # Both wheel and editable installs expose these as real folders on disk.
    corpus = Path(str(resources.files("router.corpus")))
    intents = Path(str(resources.files("router.intents")))
    return corpus, intents


def load_pack(pack: str | Path | None = None) -> Pack:
    """Load and validate a pack folder (None: the bundled AI Office pack).

    Raises:
        PackError: a file is missing or malformed; the message names the file and line.
        QuoteNotFoundError: a mandate quote is not verbatim in its source; names the unit.
    """
    if pack is None:
        corpus_dir, intents_dir = bundled_dirs()
    else:
        root = Path(pack)
        if not root.is_dir():
            raise PackError(
                "is not a pack folder (expected a folder with corpus/ and intents/)", path=root
            )
        corpus_dir, intents_dir = root / "corpus", root / "intents"
        for sub in (corpus_dir, intents_dir):
            if not sub.is_dir():
                raise PackError(
                    "is missing; a pack folder holds corpus/units.yaml and intents/*.yaml",
                    path=sub,
                )
        check_links(root, (corpus_dir, intents_dir))

    settings = _read_settings(corpus_dir / "pack.yaml")
    sources = _read_sources(corpus_dir)
    units = _read_units(corpus_dir / "units.yaml", {s.id: s for s in sources})
    oos = settings["out_of_scope_unit"]
    intents = _read_intents(intents_dir, {u.id for u in units}, oos)
    calibration_path = intents_dir / CALIBRATION_FILE
    calibration = None
    if calibration_path.is_file():
        calibration = read_calibration(calibration_path)
    by_id = {s.id: s for s in sources}
    unit_ids = {u.id for u in units}
    topics = read_topics(corpus_dir, by_id, unit_ids)
    referrals = read_referrals(corpus_dir, by_id)
    contacts = read_contacts(corpus_dir, by_id, unit_ids, {t.id for t in topics})
    return Pack(
        name=settings["name"],
        corpus_dir=corpus_dir,
        intents_dir=intents_dir,
        units=units,
        sources=sources,
        intents=intents,
        out_of_scope_unit=oos,
        office_unit=settings["office_unit"],
        messages=settings["messages"],
        calibration=calibration,
        matcher_settings=settings["matcher"],
        topic_settings=settings["topics"],
        encoder=settings["encoder"],
        topics=topics,
        referrals=referrals,
        contacts=contacts,
    )


def calibration_file(encoder: str | None = None) -> str:
    """The stored calibration's file name for an encoder: ``calibration.yaml`` without one
    (``none``), ``calibration.NAME.yaml`` with one (thresholds fitted with its columns)."""
    return CALIBRATION_FILE if encoder in (None, "none") else f"calibration.{encoder}.yaml"


def _is_calibration(name: str) -> bool:
    return name == CALIBRATION_FILE or (name.startswith("calibration.") and name.count(".") == 2)


def read_calibration(path: Path) -> dict[str, Any]:
    """The ``calibration`` mapping of a stored ``calibration.yaml``, checked (see
    :func:`router.validate.check_calibration`)."""
    return check_calibration(read_yaml(path), path)


def _read_settings(path: Path) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "name": path.parent.parent.name,
        "out_of_scope_unit": "out_of_scope",
        "office_unit": None,
        "matcher": {},
        "topics": {},
        "messages": dict(_DEFAULT_MESSAGES),
        "encoder": "none",
    }
    if not path.is_file():
        return settings
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise PackError("expected a mapping of settings", path=path, line=1)
    for key in ("name", "out_of_scope_unit", "office_unit"):
        if key in data:
            settings[key] = str(require(data, key, str, path))
    if "encoder" in data:
        from .encoders import encoder_names  # no model loads: names only

        name = data["encoder"]
        if name not in encoder_names():
            raise PackError(
                f"encoder {name!r} is not known; use one of: {', '.join(encoder_names())}",
                path=path,
                line=line_of(data),
            )
        settings["encoder"] = name
    if "messages" in data:
        messages = require(data, "messages", dict, path)
        settings["messages"].update({str(k): str(v) for k, v in messages.items()})
        check_messages(settings["messages"], path, line=line_of(messages))
    if "matcher" in data:
        matcher = require(data, "matcher", dict, path)
        allowed = {
            "score_cutoff": float,
            "min_length": int,
            "max_edits": int,
            "edit_min_count": int,
        }
        for key, value in matcher.items():
            if key not in allowed or isinstance(value, bool) or not isinstance(value, int | float):
                raise PackError(
                    f"matcher setting {key!r}={value!r} is not allowed; use score_cutoff "
                    "(0-100), min_length (letters), max_edits (edits) and edit_min_count "
                    "(occurrences)",
                    path=path,
                    line=line_of(matcher),
                )
            settings["matcher"][key] = allowed[key](value)
    if "topics" in data:
        for key, value in _require_mapping(data, "topics", path).items():
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if key not in ("override_floor", "referral_floor") or not (
                number and 0 <= value <= 1.01
            ):
                raise PackError(
                    f"topics setting {key!r}={value!r} is not allowed; use override_floor and "
                    "referral_floor, numbers from 0 to 1 (above 1: never)",
                    path=path,
                    line=line_of(data),
                )
            settings["topics"][key] = float(value)
    return settings


def _require_mapping(data: Any, key: str, path: Path) -> dict[str, Any]:
    return dict(require(data, key, dict, path))


def _read_sources(corpus_dir: Path) -> tuple[Source, ...]:
    path = corpus_dir / "sources.yaml"
    if not path.is_file():
        return ()
    data = read_yaml(path)
    items = require(data, "sources", list, path)
    sources: list[Source] = []
    for item in items:
        sid = str(require(item, "id", str, path))
        name = str(require(item, "file", str, path, unit=sid))
        file = inside(corpus_dir, name, named_in=path, line=line_of(item))
        try:
            text = read_limited(file, limit=MAX_SOURCE_BYTES).decode("utf-8")
        except (PackError, UnicodeDecodeError) as exc:
            raise PackError(
                f"source {sid!r}: cannot read {file} as UTF-8 text ({exc})",
                path=path,
                line=line_of(item),
            ) from exc
        citation = Citation(
            source_id=sid,
            title=str(require(item, "title", str, path, unit=sid)),
            publisher=optional_str(item, "publisher"),
            date=optional_str(item, "date"),
            url=optional_str(item, "url"),
            accessed=bool(item.get("accessed", False)),
        )
        sources.append(Source(id=sid, path=file, citation=citation, text=text))
    return tuple(sources)


def _read_units(path: Path, sources: dict[str, Source]) -> tuple[Unit, ...]:
    if not path.exists():  # a folder or a pipe is refused by read_yaml, for what it is
        raise PackError("is missing; every pack needs corpus/units.yaml", path=path)
    data = read_yaml(path)
    items = require(data, "units", list, path)
    units: list[Unit] = []
    seen: set[str] = set()
    for item in items:
        uid = str(require(item, "id", str, path))
        if uid in seen:
            raise PackError(
                f"unit {uid!r} is defined twice", path=path, line=line_of(item), unit=uid
            )
        seen.add(uid)
        name = str(require(item, "name", str, path, unit=uid))
        aliases = tuple(str(a) for a in item.get("aliases") or ())
        mandate, citation = None, None
        if item.get("mandate") is not None:
            spec = item["mandate"]
            source_id = str(require(spec, "source", str, path, unit=uid))
            quote = str(require(spec, "quote", str, path, unit=uid))
            if source_id not in sources:
                raise PackError(
                    f"unit {uid!r} quotes unknown source {source_id!r}; "
                    "add it to corpus/sources.yaml",
                    path=path,
                    line=line_of(spec),
                    unit=uid,
                )
            source = sources[source_id]
            if quote not in source.text:
                raise QuoteNotFoundError(
                    f"unit {uid!r}: its mandate quote is not verbatim in source "
                    f"{source_id!r} ({source.path}); copy the exact words from the source",
                    path=path,
                    line=line_of(spec),
                    unit=uid,
                )
            mandate, citation = quote, source.citation
        units.append(Unit(id=uid, name=name, aliases=aliases, mandate=mandate, citation=citation))
    if not units:
        raise PackError("defines no units", path=path)
    return tuple(units)


def _read_intents(intents_dir: Path, unit_ids: set[str], oos: str) -> tuple[IntentSet, ...]:
    # calibration.yaml, and calibration.NAME.yaml for each encoder, are not intents.
    files = sorted(p for p in intents_dir.glob("*.yaml") if not _is_calibration(p.name))
    if not files:
        raise PackError("has no intent files (*.yaml)", path=intents_dir)
    intents: list[IntentSet] = []
    seen: dict[str, Path] = {}
    for path in files:
        data = read_yaml(path)
        uid = str(require(data, "unit", str, path))
        if uid not in unit_ids and uid != oos:
            raise PackError(
                f"unit {uid!r} is not defined in corpus/units.yaml", path=path, line=1, unit=uid
            )
        if uid in seen:
            raise PackError(f"unit {uid!r} also has intents in {seen[uid]}", path=path, unit=uid)
        seen[uid] = path
        terms = tuple(str(t) for t in (data.get("terms") or ()))
        examples = tuple(read_examples(data, path, uid))
        if not examples:
            raise PackError(f"unit {uid!r} has no examples", path=path, unit=uid)
        intents.append(IntentSet(unit=uid, path=path, terms=terms, examples=examples))
    missing = sorted(unit_ids - set(seen))
    if missing:
        raise PackError(f"no intent file for unit(s) {', '.join(missing)}", path=intents_dir)
    return tuple(intents)
