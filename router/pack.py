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
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import PackError, QuoteNotFoundError, UnknownUnitError
from .text import clean_for_display
from .yamlio import Mapping, line_of, read_yaml

__all__ = [
    "CALIBRATION_FILE",
    "Citation",
    "Example",
    "IntentSet",
    "Pack",
    "Source",
    "Unit",
    "load_pack",
]

CALIBRATION_FILE = "calibration.yaml"

_DEFAULT_MESSAGES = {
    "routed": "This is for: {unit}.",
    "out_of_scope": "This question does not appear to be for this service. It handles: {units}.",
    "clarify": "Two answers are about equally likely. Which fits your question better?",
}


@dataclass(frozen=True)
class Citation:
    """Where a quote comes from."""

    source_id: str
    title: str
    publisher: str | None = None
    date: str | None = None
    url: str | None = None

    def __str__(self) -> str:
        parts = [self.publisher, f"\u201c{self.title}\u201d", self.date, self.url]
        return ", ".join(p for p in parts if p)


@dataclass(frozen=True)
class Source:
    """A source document kept verbatim in the pack."""

    id: str
    path: Path
    citation: Citation
    text: str = field(repr=False)


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
class Example:
    """One training utterance."""

    text: str
    lang: str | None = None


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
        return texts, labels

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

    settings = _read_settings(corpus_dir / "pack.yaml")
    sources = _read_sources(corpus_dir)
    units = _read_units(corpus_dir / "units.yaml", {s.id: s for s in sources})
    oos = settings["out_of_scope_unit"]
    intents = _read_intents(intents_dir, {u.id for u in units}, oos)
    calibration_path = intents_dir / CALIBRATION_FILE
    calibration = None
    if calibration_path.is_file():
        data = read_yaml(calibration_path)
        if not isinstance(data, dict) or not isinstance(data.get("calibration"), dict):
            raise PackError("expected a mapping with a 'calibration' key", path=calibration_path)
        calibration = dict(data["calibration"])
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
    )


def _require(data: Any, key: str, kind: type, path: Path, *, unit: str | None = None) -> Any:
    if not isinstance(data, dict) or key not in data:
        raise PackError(f"missing required key {key!r}", path=path, line=line_of(data), unit=unit)
    value = data[key]
    if not isinstance(value, kind):
        raise PackError(
            f"{key!r} must be a {kind.__name__}, not {type(value).__name__}",
            path=path,
            line=line_of(data),
            unit=unit,
        )
    return value


def _read_settings(path: Path) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "name": path.parent.parent.name,
        "out_of_scope_unit": "out_of_scope",
        "office_unit": None,
        "matcher": {},
        "messages": dict(_DEFAULT_MESSAGES),
    }
    if not path.is_file():
        return settings
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise PackError("expected a mapping of settings", path=path, line=1)
    for key in ("name", "out_of_scope_unit", "office_unit"):
        if key in data:
            settings[key] = str(_require(data, key, str, path))
    if "messages" in data:
        messages = _require(data, "messages", dict, path)
        settings["messages"].update({str(k): str(v) for k, v in messages.items()})
    if "matcher" in data:
        matcher = _require(data, "matcher", dict, path)
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
    return settings


def _read_sources(corpus_dir: Path) -> tuple[Source, ...]:
    path = corpus_dir / "sources.yaml"
    if not path.is_file():
        return ()
    data = read_yaml(path)
    items = _require(data, "sources", list, path)
    sources: list[Source] = []
    for item in items:
        sid = str(_require(item, "id", str, path))
        file = corpus_dir / str(_require(item, "file", str, path, unit=sid))
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise PackError(
                f"source {sid!r}: cannot read {file} as UTF-8 text ({exc})",
                path=path,
                line=line_of(item),
            ) from exc
        citation = Citation(
            source_id=sid,
            title=str(_require(item, "title", str, path, unit=sid)),
            publisher=_optional_str(item, "publisher"),
            date=_optional_str(item, "date"),
            url=_optional_str(item, "url"),
        )
        sources.append(Source(id=sid, path=file, citation=citation, text=text))
    return tuple(sources)


def _optional_str(item: dict[str, Any], key: str) -> str | None:
    value = item.get(key)
    return None if value is None else str(value)


def _read_units(path: Path, sources: dict[str, Source]) -> tuple[Unit, ...]:
    if not path.is_file():
        raise PackError("is missing; every pack needs corpus/units.yaml", path=path)
    data = read_yaml(path)
    items = _require(data, "units", list, path)
    units: list[Unit] = []
    seen: set[str] = set()
    for item in items:
        uid = str(_require(item, "id", str, path))
        if uid in seen:
            raise PackError(
                f"unit {uid!r} is defined twice", path=path, line=line_of(item), unit=uid
            )
        seen.add(uid)
        name = str(_require(item, "name", str, path, unit=uid))
        aliases = tuple(str(a) for a in item.get("aliases") or ())
        mandate, citation = None, None
        if item.get("mandate") is not None:
            spec = item["mandate"]
            source_id = str(_require(spec, "source", str, path, unit=uid))
            quote = str(_require(spec, "quote", str, path, unit=uid))
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
    files = sorted(p for p in intents_dir.glob("*.yaml") if p.name != CALIBRATION_FILE)
    if not files:
        raise PackError("has no intent files (*.yaml)", path=intents_dir)
    intents: list[IntentSet] = []
    seen: dict[str, Path] = {}
    for path in files:
        data = read_yaml(path)
        uid = str(_require(data, "unit", str, path))
        if uid not in unit_ids and uid != oos:
            raise PackError(
                f"unit {uid!r} is not defined in corpus/units.yaml", path=path, line=1, unit=uid
            )
        if uid in seen:
            raise PackError(f"unit {uid!r} also has intents in {seen[uid]}", path=path, unit=uid)
        seen[uid] = path
        terms = tuple(str(t) for t in (data.get("terms") or ()))
        examples = tuple(_read_examples(data, path, uid))
        if not examples:
            raise PackError(f"unit {uid!r} has no examples", path=path, unit=uid)
        intents.append(IntentSet(unit=uid, path=path, terms=terms, examples=examples))
    missing = sorted(unit_ids - set(seen))
    if missing:
        raise PackError(f"no intent file for unit(s) {', '.join(missing)}", path=intents_dir)
    return tuple(intents)


def _read_examples(data: Mapping, path: Path, uid: str) -> Iterator[Example]:
    raw = data.get("examples")
    groups: list[tuple[str | None, Any]]
    if isinstance(raw, list):
        groups = [(None, raw)]
    elif isinstance(raw, dict):
        groups = [(str(lang), items) for lang, items in raw.items()]
    else:
        raise PackError(
            "'examples' must be a list or a mapping of language to list",
            path=path,
            line=line_of(data),
            unit=uid,
        )
    for lang, items in groups:
        if not isinstance(items, list):
            raise PackError(
                f"examples for {lang!r} must be a list", path=path, line=line_of(raw), unit=uid
            )
        for index, text in enumerate(items):
            if not isinstance(text, str) or not clean_for_display(text):
                raise PackError(
                    f"example must be non-empty text, got {text!r}",
                    path=path,
                    line=line_of(items, index),
                    unit=uid,
                )
            yield Example(text=text, lang=lang)
