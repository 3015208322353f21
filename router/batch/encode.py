"""Output rows: what the batch adds to each input row, and the one encoder to CSV and JSON Lines.

Every engine (one process, ``--jobs`` workers, Dask workers) writes its rows with
:func:`encode_rows`, straight from the records and the router's lean outcomes. The
:class:`Result` of :func:`~router.batch.route_records` holds the same values for library
use, and :func:`iter_jsonl`/:func:`iter_csv` write rows given as dicts (``Result.to_dict()``,
a Dask DataFrame's rows); the tests hold all of them equal.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import math
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .. import results
from .records import OVERFLOW, Record, unique_names

__all__ = [
    "ADDED_FIELDS",
    "ERROR",
    "Outcome",
    "Result",
    "encode_rows",
    "iter_csv",
    "iter_jsonl",
    "output_columns",
    "output_names",
]

#: The fields the batch job adds to every input row, in output order.
ADDED_FIELDS = (
    "unit",
    "unit_name",
    "decision",
    "confidence",
    "alternatives",
    "provisions",
    "topic",
    "referral",
    "error",
)

#: The ``decision`` of a row that could not be routed.
ERROR = "error"

#: One routed row as the router gives it for a batch (:meth:`Router.outcomes`): a named
#: tuple, built and pickled far faster than Decisions with evidence and answers.
Outcome = results.Outcome

#: The counts a block of output rows carries back: rows per ``(decision, unit)``.
Counts = Counter[tuple[str, str | None]]


@functools.lru_cache(maxsize=4096)
def output_names(keys: tuple[str, ...]) -> tuple[str, ...]:
    """The output names of a row's input fields, none lost: ``input_<name>`` for one named
    like an added field (a labelled log often has its own ``unit`` column), and ``_2``,
    ``_3``... after a name already used (see :func:`~router.batch.records.unique_names`).
    The reader's ``other_fields`` (a malformed row's surplus cells) keeps its name."""
    return tuple(unique_names(keys, reserved=ADDED_FIELDS))


@dataclass(frozen=True)
class Result:
    """One output row: the input fields and where the row was routed.

    Attributes:
        row: the 1-based input row.
        fields: the input fields, unchanged.
        decision: ``routed``, ``clarify``, ``out_of_scope`` or ``error``.
        unit: the unit id when routed, else None.
        unit_name: the unit's name when routed, else None.
        confidence: the router's confidence in [0, 1]; None for an error row.
        alternatives: the best units with their fused scores, best first.
        error: why the row could not be routed, or None.
        provisions: the AI Act provisions cited for the row, "; "-joined ("" for none).
        topic: the id of the programme, body or instrument the row is about, or None.
        referral: the id of the referral rule for a row not for the pack, or None.
    """

    row: int
    fields: Mapping[str, Any]
    decision: str
    unit: str | None = None
    unit_name: str | None = None
    confidence: float | None = None
    alternatives: tuple[tuple[str, float], ...] = ()
    error: str | None = None
    provisions: str = ""
    topic: str | None = None
    referral: str | None = None

    @classmethod
    def of(cls, record: Record, outcome: Outcome | None) -> Result:
        """A record's result: an error one when it has no outcome, else its outcome's."""
        if outcome is None:
            return cls(record.row, record.fields, ERROR, error=record.error)
        kind, unit, name, confidence, alternatives, provisions, topic, referral = outcome
        return cls(
            record.row,
            record.fields,
            kind,
            unit,
            name,
            confidence,
            alternatives,
            provisions=provisions,
            topic=topic,
            referral=referral,
        )

    def added(self) -> tuple[Any, ...]:
        """The values of :data:`ADDED_FIELDS`, in order; alternatives as
        ``[{"unit": id, "score": score}, ...]``."""
        return (
            self.unit,
            self.unit_name,
            self.decision,
            self.confidence,
            [{"unit": u, "score": s} for u, s in self.alternatives],
            self.provisions,
            self.topic,
            self.referral,
            self.error,
        )

    def to_dict(self) -> dict[str, Any]:
        """The input fields (renamed by :func:`output_names`) followed by :data:`ADDED_FIELDS`."""
        out = dict(zip(output_names(tuple(self.fields)), self.fields.values()))
        out.update(zip(ADDED_FIELDS, self.added()))
        return out


def output_columns(first: Record | None, fmt: str) -> list[str] | None:
    """The CSV output's columns: the first record's fields, the added ones, and last the
    overflow column (None for JSON Lines or no records)."""
    if fmt != "csv" or first is None:
        return None
    inputs = [name for name in output_names(tuple(first.fields)) if name != OVERFLOW]
    return [*inputs, *ADDED_FIELDS, OVERFLOW]


# -- the encoder -----------------------------------------------------------------------------


def _json_default(value: object) -> object:
    # numpy and pandas scalars from the Dask engine
    if hasattr(value, "item"):
        return value.item()  # type: ignore[attr-defined]
    return str(value)


# One encoder for every row: json.dumps with options builds a new one on each call.
_JSON = json.JSONEncoder(ensure_ascii=False, default=_json_default)
_INF = float("inf")
# Each unit id's JSON text, as the encoder writes it (quoted, escaped): ids are few.
_UNIT_KEYS: dict[str, str] = {}


def _clean_float(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list | dict | tuple):
        return _JSON.encode(value)
    return _clean_float(value)


def _alternatives_json(listed: Sequence[tuple[str, float]]) -> str:
    """``json`` of ``[{"unit": id, "score": score}, ...]``, as the encoder writes it, built
    from text pieces: a third of the time of encoding the dicts."""
    parts = []
    for unit, score in listed:
        if type(score) is not float or score != score or score in (_INF, -_INF):
            return _JSON.encode([{"unit": u, "score": x} for u, x in listed])
        key = _UNIT_KEYS.get(unit)
        if key is None:
            key = _UNIT_KEYS[unit] = '{"unit": ' + _JSON.encode(unit) + ', "score": '
        parts.append(key + repr(score) + "}")
    return "[" + ", ".join(parts) + "]"


def encode_rows(
    records: Sequence[Record], routed: Sequence[Outcome], columns: Sequence[str] | None
) -> tuple[str, Counts]:
    """The output lines of ``records`` (CSV under ``columns``, else JSON Lines), exactly as
    :func:`iter_csv` or :func:`iter_jsonl` writes ``Result.to_dict()``, and the count of
    each ``(decision, unit)``.

    ``routed`` holds the outcomes of the records that have a text, in order; a record
    without one is an error row. No Result or dict of the added fields is built.
    """
    if columns is None:
        return _jsonl_rows(records, routed)
    return _csv_rows(records, routed, columns)


def _jsonl_rows(records: Sequence[Record], routed: Sequence[Outcome]) -> tuple[str, Counts]:
    # A row's object is encoded up to its confidence; the rest is written after it as text
    # with the encoder's own separators.
    counts: Counts = Counter()
    encode = _JSON.encode
    lines = []
    it = iter(routed)
    for record in records:
        if record.text is None:
            kind, unit, name, confidence, listed, provisions, topic, referral = _NO_OUTCOME
            error = encode(record.error)
        else:
            kind, unit, name, confidence, listed, provisions, topic, referral = next(it)
            error = "null"
        counts[kind, unit] += 1
        fields = record.fields
        head = {k: _clean_float(v) for k, v in zip(output_names(tuple(fields)), fields.values())}
        head["unit"] = unit
        head["unit_name"] = name
        head["decision"] = kind
        head["confidence"] = _clean_float(confidence)
        lines.append(
            f'{encode(head)[:-1]}, "alternatives": {_alternatives_json(listed)}, '
            f'"provisions": {encode(provisions)}, "topic": {encode(topic)}, '
            f'"referral": {encode(referral)}, "error": {error}}}\n'
        )
    return "".join(lines), counts


# The outcome fields of an error row.
_NO_OUTCOME: tuple[Any, ...] = (ERROR, None, None, None, (), "", None, None)


def _csv_rows(
    records: Sequence[Record], routed: Sequence[Outcome], columns: Sequence[str]
) -> tuple[str, Counts]:
    width = len(columns)
    inputs = width - len(ADDED_FIELDS) - 1  # the input fields, then added, then overflow
    plain = inputs >= 0 and tuple(columns[inputs:]) == (*ADDED_FIELDS, OVERFLOW)
    names = list(columns[:inputs])
    index = {c: i for i, c in enumerate(columns)}
    added_at = [index.get(name, -1) for name in ADDED_FIELDS]
    spill = index.get(OVERFLOW, -1)
    # The input keys of a row -> None when its cells are its values in order (every
    # well-formed CSV row), else the column of each key (-1: none, to the overflow).
    layouts: dict[tuple[str, ...], list[int] | None] = {}
    counts: Counts = Counter()
    buffer = io.StringIO()
    writerow = csv.writer(buffer, lineterminator="\n").writerow
    it = iter(routed)
    for record in records:
        if record.text is None:
            kind, unit, name, confidence, listed, provisions, topic, referral = _NO_OUTCOME
            error = record.error or ""
        else:
            kind, unit, name, confidence, listed, provisions, topic, referral = next(it)
            error = ""
        counts[kind, unit] += 1
        fields = record.fields
        added = (
            unit or "",
            name or "",
            kind,
            "" if confidence is None else _clean_float(confidence),
            _alternatives_json(listed),
            provisions,
            topic or "",
            referral or "",
            error,
        )
        keys = tuple(fields)
        if keys in layouts:
            layout = layouts[keys]
        else:
            outputs = output_names(keys)
            fits = plain and list(outputs) == names
            layout = layouts[keys] = None if fits else [index.get(k, -1) for k in outputs]
        if layout is None:
            cells = [v if type(v) is str else _cell(v) for v in fields.values()]
            cells += added
            cells.append("")
        else:
            cells = [""] * width
            extra = {}
            for at, key, value in zip(layout, output_names(keys), fields.values()):
                if at >= 0:
                    cells[at] = value if type(value) is str else _cell(value)
                else:
                    extra[key] = value
            for at, value in zip(added_at, added):
                if at >= 0:
                    cells[at] = value
            if extra and spill >= 0:
                cells[spill] = _JSON.encode(extra)
        writerow(cells)
    return buffer.getvalue(), counts


# -- writers of rows given as dicts ----------------------------------------------------------


def iter_jsonl(rows: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """JSON Lines, one line (with its newline) per row; non-ASCII kept as is."""
    encode = _JSON.encode
    for row in rows:
        yield encode({k: _clean_float(v) for k, v in row.items()}) + "\n"


def iter_csv(
    rows: Iterable[Mapping[str, Any]],
    *,
    fieldnames: Sequence[str] | None = None,
    overflow: str | None = None,
    header: bool = True,
) -> Iterator[str]:
    """CSV lines: a header (unless ``header`` is False), then one line per row. Lists and
    objects are written as JSON.

    The columns are ``fieldnames``, else the keys of the first row. A row's keys that are
    not among the columns go, as one JSON object, in the ``overflow`` column when there is
    one (JSON Lines rows need not share their keys); without it they are dropped.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    columns: list[str] | None = list(fieldnames) if fieldnames is not None else None
    known: set[str] = set()
    spill = -1
    for row in rows:
        if columns is None:
            columns = list(row)
            if overflow is not None and overflow not in columns:
                columns.append(overflow)
        if not known:
            known = set(columns)
            spill = columns.index(overflow) if overflow is not None else -1
            if header:
                writer.writerow(columns)
        # Most cells are already text: only the rest go through _cell.
        cells = [v if type(v) is str else _cell(v) for v in map(row.get, columns)]
        if spill >= 0 and not known.issuperset(row):
            extra = {k: v for k, v in row.items() if k not in known}
            cells[spill] = _JSON.encode(extra)
        writer.writerow(cells)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def csv_line(cells: Sequence[str]) -> str:
    """One CSV line (the header of the output)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue()
