"""Batch classification of inquiry logs: streaming readers, the routing job, writers.

Everything here streams: readers are generators of :class:`Record`, :func:`route_records`
routes them in chunks (optionally on several processes) and yields one :class:`Result` per
record in input order, and the writers turn results into lines. Memory stays flat whatever
the size of the log, and no pandas is needed::

    from router import Router
    from router.batch import read_records, route_records, iter_jsonl

    router = Router.load()
    with open("inquiries.jsonl", "w", encoding="utf-8") as out:
        for line in iter_jsonl(r.to_dict() for r in route_records(read_records("log.csv"), router)):
            out.write(line)

A row that cannot be routed (undecodable bytes, a malformed CSV or JSON line, a missing or
empty text) is never dropped: it comes out with ``decision == "error"`` and the reason.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import functools
import gc
import gzip
import io
import json
import math
import mmap
import os
import re
import signal
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .errors import InputError
from .text import MAX_CHARS, clean_for_display

if TYPE_CHECKING:
    from .routing import Router

__all__ = [
    "ADDED_FIELDS",
    "BLOCK_SIZE",
    "ERROR",
    "OVERFLOW",
    "TEXT_COLUMN_NAMES",
    "BatchInterrupted",
    "Block",
    "Record",
    "Result",
    "Summary",
    "Tally",
    "block_records",
    "detect_format",
    "detect_text_column",
    "iter_csv",
    "iter_jsonl",
    "outcomes",
    "read_csv",
    "read_jsonl",
    "read_records",
    "read_text",
    "render_summary",
    "route_records",
    "run_batch",
    "split_blocks",
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

#: CSV columns tried, in this order and ignoring case, when no ``text_column`` is given.
TEXT_COLUMN_NAMES = (
    "text",
    "question",
    "inquiry",
    "enquiry",
    "query",
    "message",
    "body",
    "content",
    "description",
    "subject",
)

#: The CSV output column holding, as JSON, input fields that have no column of their own
#: (surplus cells of a malformed CSV row; keys of JSON Lines rows not in the first chunk).
OVERFLOW = "other_fields"

#: Rows routed per chunk: big enough for the vectorised router, small enough for flat memory.
CHUNK_SIZE = 2048

INPUT_FORMATS = ("csv", "jsonl", "text")
OUTPUT_FORMATS = ("csv", "jsonl")

_SUFFIXES = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".txt": "text",
    ".text": "text",
    ".log": "text",
    ".parquet": "parquet",
    ".pq": "parquet",
}

# Undecodable bytes survive decoding as lone surrogates (errors="surrogateescape"), so a bad
# byte spoils only its own row instead of the whole file.
_UNDECODABLE = re.compile("[\udc80-\udcff]")

# A character that clean_for_display keeps: neither whitespace nor a control or bidi one.
_KEPT = re.compile(r"[^\s\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


# -- records and results --------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """One input row.

    Attributes:
        row: its 1-based position among the data rows (a CSV header is not a row).
        fields: the input fields, as read.
        text: the text to route; None when the row cannot be routed.
        error: why the row cannot be routed, or None.
    """

    row: int
    fields: Mapping[str, Any]
    text: str | None
    error: str | None = None


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

    def to_dict(self) -> dict[str, Any]:
        """The input fields followed by :data:`ADDED_FIELDS`.

        An input field that has the name of an added one is kept as ``input_<name>``
        (a labelled log often has its own ``unit`` column).
        """
        out: dict[str, Any] = {}
        for key, value in self.fields.items():
            out[_output_name(key)] = value
        out["unit"] = self.unit
        out["unit_name"] = self.unit_name
        out["decision"] = self.decision
        out["confidence"] = self.confidence
        out["alternatives"] = [{"unit": u, "score": s} for u, s in self.alternatives]
        out["provisions"] = self.provisions
        out["topic"] = self.topic
        out["referral"] = self.referral
        out["error"] = self.error
        return out


class BatchInterrupted(KeyboardInterrupt):
    """The job was stopped (Ctrl-C) after ``rows`` rows; no output file was left behind.

    A :class:`KeyboardInterrupt`, so code that does not expect it still stops.
    """

    def __init__(self, rows: int, output: str | None = None) -> None:
        self.rows = rows
        self.output = output
        where = f"; {output} was not written" if output else ""
        super().__init__(f"interrupted after {rows:,} rows{where}")

    def __str__(self) -> str:
        return str(self.args[0])


# -- formats and opening --------------------------------------------------------------------


def detect_format(path: str | os.PathLike[str], *, default: str | None = None) -> str:
    """The format a file name implies (``.gz`` is looked through): csv, jsonl, text, parquet.

    Raises:
        InputError: the suffix is unknown and there is no ``default``.
    """
    name = Path(path).name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    found = _SUFFIXES.get(Path(name).suffix)
    if found is not None:
        return found
    if default is not None:
        return default
    raise InputError(
        f"cannot tell the format of {path} from its name; pass --format csv, jsonl or text"
    )


class _Counting(io.RawIOBase):
    """A binary stream that counts the bytes read through it, for progress on stdin."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        return n


@contextlib.contextmanager
def _open_text(
    path: str, *, encoding: str, stdin: IO[bytes] | None = None
) -> Iterator[tuple[IO[str], Callable[[], int]]]:
    """Open ``path`` (``-`` is stdin; ``.gz`` is gunzipped) as text; also a bytes-read probe."""
    raw: IO[bytes]
    if path == "-":
        counting = _Counting(stdin if stdin is not None else sys.stdin.buffer)
        raw = io.BufferedReader(counting, 1 << 16)
        position = lambda: counting.count  # noqa: E731
        owned = False
    else:
        try:
            raw = open(path, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror}") from exc
        position = raw.tell
        owned = True
    binary: IO[bytes] = raw
    if path.lower().endswith(".gz"):
        binary = gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[assignment]
    # utf-8-sig drops the byte-order mark that spreadsheet exports put first.
    codec = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    try:
        text = io.TextIOWrapper(binary, encoding=codec, errors="surrogateescape", newline="")
    except LookupError as exc:
        raise InputError(f"unknown encoding {encoding!r}; try --encoding=latin-1") from exc
    try:
        yield text, position
    except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
        raise InputError(f"cannot read {path}: {exc}") from exc
    finally:
        text.detach()
        if binary is not raw:
            binary.close()
        if owned:
            raw.close()


def _undecodable(text: str, row: int, encoding: str) -> str | None:
    """The error for a row holding bytes the encoding could not decode, or None."""
    hit = _UNDECODABLE.search(text)
    if hit is None:
        return None
    byte = ord(hit.group()) - 0xDC00
    name = "UTF-8" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    return f"row {row}: not valid {name} (byte 0x{byte:02x}); try --encoding=latin-1"


def _repair(value: str) -> str:
    """Undecodable bytes as U+FFFD, so the row can still be written out."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


# -- readers ---------------------------------------------------------------------------------


def detect_text_column(header: Sequence[str]) -> str | None:
    """The first of :data:`TEXT_COLUMN_NAMES` in ``header`` (ignoring case), or None."""
    folded = {name.strip().casefold(): name for name in header}
    for candidate in TEXT_COLUMN_NAMES:
        if candidate in folded:
            return folded[candidate]
    return None


def read_csv(
    lines: Iterable[str],
    *,
    text_column: str | None = None,
    encoding: str = "utf-8",
    source: str = "<input>",
    first_row: int = 1,
    first_line: int = 1,
) -> Iterator[Record]:
    """Records from CSV text with a header row.

    Rows are numbered from ``first_row``, and messages give line numbers counting the
    header as line ``first_line`` (a part of a file read with its header put in front).

    ``lines`` is a text stream opened with ``newline=""`` (and, to keep rows with bad
    bytes, ``errors="surrogateescape"``). Blank lines are not rows. A row whose quoting is
    broken, or whose field count differs from the header's, is an error record.

    Raises:
        InputError: the header has no ``text_column`` (or none of the usual names).
    """
    # strict: a stray quote is an error on its own row rather than silently swallowing
    # the rows after it.
    reader = csv.reader(lines, strict=True)
    found = _csv_header(reader, text_column, source)
    if found is None:
        return
    header, column = found
    index = header.index(column)
    width = len(header)
    row = first_row - 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            row += 1
            yield Record(
                row,
                dict.fromkeys(header, ""),
                None,
                f"row {row}: malformed CSV near line {reader.line_num + first_line - 1} ({exc})",
            )
            continue
        if not cells:
            continue
        row += 1
        error = None
        for cell in cells:
            if _UNDECODABLE.search(cell):
                error = _undecodable(cell, row, encoding)
                cells = [_repair(c) for c in cells]
                break
        if error is None and len(cells) != width:
            error = f"row {row}: malformed CSV: expected {width} fields, found {len(cells)}"
        fields: dict[str, Any] = dict(zip(header, cells))
        if len(cells) < width:
            fields.update(dict.fromkeys(header[len(cells) :], ""))
        elif len(cells) > width:
            fields[OVERFLOW] = cells[width:]
        if error is not None:
            yield Record(row, fields, None, error)
            continue
        text = cells[index]
        if text.strip():
            yield Record(row, fields, text)
        else:
            yield Record(row, fields, None, f"row {row}: empty {column!r}")


def _csv_header(
    reader: Iterator[list[str]], text_column: str | None, source: str
) -> tuple[list[str], str] | None:
    """Read the header row: its names and the text column (None for an empty input)."""
    try:
        header = next(reader)
    except StopIteration:
        return None
    except csv.Error as exc:
        raise InputError(f"{source}: the CSV header is malformed ({exc})") from exc
    header = [_repair(h) for h in header]
    column = text_column if text_column is not None else detect_text_column(header)
    if column is None or column not in header:
        names = ", ".join(header) or "none"
        wanted = f"no column {column!r}" if column else "no text column"
        raise InputError(f"{source}: {wanted} (columns: {names}); pass --text-column NAME")
    return header, column


def read_jsonl(
    lines: Iterable[str],
    *,
    text_field: str = "text",
    encoding: str = "utf-8",
    first_row: int = 1,
) -> Iterator[Record]:
    """Records from JSON Lines: one object per line; every line is a row, blank ones too."""
    row = first_row - 1
    for line in lines:
        row += 1
        error = _undecodable(line, row, encoding)
        if error is not None:
            yield Record(row, {"line": _repair(line.rstrip("\r\n"))}, None, error)
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            reason = "empty line" if not line.strip() else f"malformed JSON ({exc})"
            yield Record(row, {"line": line.rstrip("\r\n")}, None, f"row {row}: {reason}")
            continue
        if not isinstance(obj, dict):
            yield Record(
                row, {"value": obj}, None, f"row {row}: expected a JSON object, got {_kind(obj)}"
            )
            continue
        text = obj.get(text_field)
        if text is None:
            error = f"row {row}: no {text_field!r} field; pass --text-field NAME"
        elif not isinstance(text, str):
            error = f"row {row}: {text_field!r} is {_kind(text)}, not text"
        elif not text.strip():
            error = f"row {row}: empty {text_field!r}"
        yield Record(row, obj, text if error is None else None, error)


def read_text(
    lines: Iterable[str], *, encoding: str = "utf-8", first_row: int = 1
) -> Iterator[Record]:
    """Records from plain text, one inquiry per line (field ``text``); blank lines are rows."""
    row = first_row - 1
    for line in lines:
        row += 1
        text = line.rstrip("\r\n")
        error = _undecodable(text, row, encoding)
        if error is not None:
            yield Record(row, {"text": _repair(text)}, None, error)
        elif not text.strip():
            yield Record(row, {"text": text}, None, f"row {row}: empty line")
        else:
            yield Record(row, {"text": text}, text)


def _kind(value: object) -> str:
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)


def read_records(
    *paths: str,
    input_format: str | None = None,
    text_column: str | None = None,
    text_field: str = "text",
    encoding: str = "utf-8",
    stdin: IO[bytes] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[Record]:
    """Records from the files in ``paths`` one after the other, numbered across them.

    ``-`` is stdin (plain text unless ``input_format`` says otherwise); a ``.gz`` suffix is
    gunzipped; the format comes from the suffix unless ``input_format`` is given.
    ``progress``, if given, is called with the number of input bytes read so far.

    Raises:
        InputError: a file cannot be read or its format cannot be told.
    """
    done_bytes = 0
    row = 0
    for path in paths:
        fmt = input_format or detect_format(path, default="text" if path == "-" else None)
        if fmt not in INPUT_FORMATS:
            raise InputError(f"{path}: {fmt} is read only by the Dask engine; pass --engine dask")
        with _open_text(path, encoding=encoding, stdin=stdin) as (stream, position):
            source = "stdin" if path == "-" else path
            if fmt == "csv":
                records = read_csv(
                    stream,
                    text_column=text_column,
                    encoding=encoding,
                    source=source,
                    first_row=row + 1,
                )
            elif fmt == "jsonl":
                records = read_jsonl(
                    stream, text_field=text_field, encoding=encoding, first_row=row + 1
                )
            else:
                records = read_text(stream, encoding=encoding, first_row=row + 1)
            for record in records:
                row = record.row
                if progress is not None and row % 1024 == 0:
                    progress(done_bytes + position())
                yield record
            done_bytes += position()
    if progress is not None:
        progress(done_bytes)


# -- blocks of whole records ----------------------------------------------------------------

#: Bytes per block of a CSV, JSON Lines or text file read by the workers themselves (Dask,
#: and ``--jobs`` on files): some 25,000 inquiries, enough work per task.
BLOCK_SIZE = 4 << 20


@dataclass(frozen=True)
class Block:
    """A run of whole records of one input file, read by one worker.

    ``start``/``end`` are byte offsets (``end`` None: to the end, and the whole file when it
    is gzipped); ``header`` is the CSV header line's bytes, put in front of the block;
    ``first_line`` is the file line the block starts on; ``first_row`` is the number of its
    first record, known once the blocks before it are counted.
    """

    path: str
    fmt: str
    start: int
    end: int | None
    header: bytes = b""
    first_line: int = 1
    first_row: int = 1


def _ascii_compatible(encoding: str) -> bool:
    # Blocks are cut at newline bytes and quotes are counted as bytes: that needs an
    # encoding where both are the ASCII bytes and never part of another character.
    try:
        return '"\n'.encode(codecs.lookup(encoding).name) == b'"\n' and not codecs.lookup(
            encoding
        ).name.startswith(("utf-16", "utf-32"))
    except LookupError as exc:
        raise InputError(f"unknown encoding {encoding!r}; try --encoding=latin-1") from exc


def split_blocks(
    path: str, fmt: str, *, encoding: str = "utf-8", size: int = BLOCK_SIZE
) -> list[Block]:
    """Cut an input file into blocks of whole records of about ``size`` bytes.

    A CSV newline ends a record only outside quotes, and a position is inside quotes
    exactly when an odd number of quote characters precede it (an escaped quote is two),
    so the cuts are found by counting quote bytes, without parsing. JSON Lines and text
    records are lines. A gzipped file, or one in an encoding that is not ASCII-compatible,
    is one block.

    Raises:
        InputError: the file cannot be read.
    """
    if path.lower().endswith(".gz") or not _ascii_compatible(encoding):
        return [Block(path, fmt, 0, None)]
    try:
        with open(path, "rb") as f:
            if os.fstat(f.fileno()).st_size == 0:
                return []
            # Mapped, not read: the client only counts bytes, whatever the file's size.
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
                return _cut(data, path, fmt, size)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc


def _cut(data: mmap.mmap, path: str, fmt: str, size: int) -> list[Block]:
    header, start = b"", 0
    if fmt == "csv":
        start = _record_end(data, 0, 0)
        header = data[:start]
    blocks: list[Block] = []
    line = header.count(b"\n") + 1
    end = len(data)
    released = 0
    while start < end:
        cut = min(start + size, end)
        if cut < end:
            if fmt == "csv":  # the block's start is outside quotes
                cut = _record_end(data, cut, data[start:cut].count(b'"') % 2)
            else:
                newline = data.find(b"\n", cut)
                cut = end if newline < 0 else newline + 1
        blocks.append(Block(path, fmt, start, cut, header, first_line=line))
        line += data[start:cut].count(b"\n")
        # The pages read so far are dropped from this process (the file stays cached), so
        # cutting a file of any size holds only about a block of it.
        done = cut - cut % mmap.PAGESIZE
        if done > released:
            data.madvise(mmap.MADV_DONTNEED, released, done - released)
            released = done
        start = cut
    return blocks


def _record_end(data: mmap.mmap, pos: int, parity: int) -> int:
    """The offset after the first newline at or after ``pos`` that is outside quotes,
    ``parity`` being the parity of the quotes from the block's start to ``pos``; the end
    if there is none."""
    while True:
        newline = data.find(b"\n", pos)
        if newline < 0:
            return len(data)
        parity = (parity + data[pos:newline].count(b'"')) % 2
        pos = newline + 1
        if parity == 0:
            return pos


def _block_text(block: Block, encoding: str) -> io.StringIO:
    """A block's text (after the header line put in front, for CSV), ready to read."""
    codec = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    if block.end is None and "://" in block.path:
        data = _read_url(block.path)
    elif block.end is None:
        opener = gzip.open if block.path.lower().endswith(".gz") else open
        with opener(block.path, "rb") as f:
            data = f.read()
    else:
        with open(block.path, "rb") as f:
            f.seek(block.start)
            data = block.header + f.read(block.end - block.start)
    return io.StringIO(data.decode(codec, "surrogateescape"), newline="")


def _read_url(url: str) -> bytes:
    """The bytes of a file at a URL (``s3://``, ``gs://``, ``file://``...), gunzipped by
    suffix, through fsspec (installed with the Dask extra; s3fs or gcsfs for the cloud)."""
    try:
        import fsspec

        with fsspec.open(url, "rb", compression="infer") as f:
            return f.read()  # type: ignore[no-any-return]
    except ImportError as exc:
        raise InputError(f"cannot read {url}: {exc}; install the package it names") from exc
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read {url}: {exc}") from exc


def block_records(
    block: Block, *, text_column: str | None, text_field: str, encoding: str
) -> Iterator[Record]:
    """The records of one block, numbered from its ``first_row``, read by the local readers."""
    text = _block_text(block, encoding)
    if block.fmt == "csv":
        # The header is put in front, so the block's lines start one before its first.
        return read_csv(
            text,
            text_column=text_column,
            encoding=encoding,
            source=block.path,
            first_row=block.first_row,
            first_line=block.first_line - (1 if block.start > 0 else 0),
        )
    if block.fmt == "jsonl":
        return read_jsonl(text, text_field=text_field, encoding=encoding, first_row=block.first_row)
    return read_text(text, encoding=encoding, first_row=block.first_row)


def _count_block(block: Block, *, options: dict[str, Any]) -> int:
    """How many records :func:`block_records` yields for ``block``, without building them:
    a CSV record is a row the reader returns that is not blank, or a row it rejects; a
    JSON Lines or text record is a line."""
    text = _block_text(block, options["encoding"])
    if block.fmt != "csv":
        return sum(1 for _ in text)
    reader = csv.reader(text, strict=True)
    if _csv_header(reader, options["text_column"], block.path) is None:
        return 0
    count = 0
    while True:
        try:
            count += bool(next(reader))
        except StopIteration:
            return count
        except csv.Error:
            count += 1


def _format_block(
    router: Router,
    block: Block,
    *,
    options: dict[str, Any],
    alternatives: int,
    columns: list[str] | None,
) -> tuple[str, Counter[tuple[str, str | None]]]:
    """Read, route and format one block (see :func:`_format_chunk`)."""
    records = list(block_records(block, **options))
    return _format_chunk(router, records, alternatives=alternatives, columns=columns)


# -- routing ---------------------------------------------------------------------------------

# One routed row: plain tuples are built and pickled far faster than Decision objects with
# their evidence and answers, which a batch does not need.
_Outcome = tuple[
    str, str | None, str | None, float, tuple[tuple[str, float], ...], str, str | None, str | None
]


def outcomes(router: Router, texts: Sequence[str], *, alternatives: int = 3) -> list[_Outcome]:
    """Route ``texts`` (none empty) and keep what a batch writes: the lean per-row outcome.

    Returns ``(decision, unit, unit_name, confidence, alternatives, provisions, topic,
    referral)`` tuples,
    the confidence and scores rounded to 4 places, the provisions' references joined by
    "; " (the values a :class:`~router.results.Decision` of ``route_many`` holds).
    """
    return router._route_rows(texts, alternatives=alternatives)


def _routable_error(text: str) -> str | None:
    # Mirrors Router._prepare: a text that is empty once cut and cleaned raises there. One
    # character that cleaning keeps is enough, and almost every text has one up front.
    if _KEPT.search(text, 0, MAX_CHARS) is None and not clean_for_display(text[:MAX_CHARS]):
        return "nothing to route once control characters are removed"
    return None


_WORKER_ROUTER: Router | None = None


#: A worker's youngest-generation GC threshold (Python's default: 700). Routing allocates
#: and frees short-lived containers by the million, nearly all freed by reference
#: counting; collecting them every 700 allocations cost about 6% of a worker's time.
WORKER_GC_THRESHOLD = 50_000


def _init_worker(router: Router) -> None:
    global _WORKER_ROUTER
    _WORKER_ROUTER = router
    # A worker process is ours, so its collector can be tuned; a caller's process is not.
    gc.set_threshold(WORKER_GC_THRESHOLD, *gc.get_threshold()[1:])
    # The terminal sends Ctrl-C to the whole process group; the parent alone decides how to
    # stop, so a worker must not die mid-chunk with a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _in_worker(work: Callable[[Router, Any], Any], item: Any) -> Any:
    assert _WORKER_ROUTER is not None
    return work(_WORKER_ROUTER, item)


def _map_chunks(
    work: Callable[[Router, Any], Any],
    items: Iterable[tuple[Any, Any]],
    router: Router,
    *,
    jobs: int,
) -> Iterator[tuple[Any, Any]]:
    """``(kept, work(router, sent))`` for each ``(kept, sent)`` of ``items``, in order.

    With ``jobs > 1``, ``work`` runs on that many worker processes: the fitted ``router``
    is handed to each worker once, when it starts; only ``sent`` and the result cross
    between processes, and at most ``2 * jobs`` items are in flight, so memory stays flat.
    """
    if jobs < 1:
        raise InputError(f"jobs must be at least 1, got {jobs}")
    if jobs == 1:
        for kept, sent in items:
            yield kept, work(router, sent)
        return
    router.warm_up()  # built once here, shared by the forked workers
    pool = ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker, initargs=(router,))
    try:
        # Forked workers share the parent's pages (the fitted router, the libraries) until
        # something writes to them, and the cyclic GC writes to every object it scans.
        # Freezing the parent's objects while the workers fork keeps their collections off
        # those pages (see gc.freeze); the first submit forks all of them.
        gc.freeze()
        try:
            pool.submit(int)
        finally:
            gc.unfreeze()
        submitted = ((kept, pool.submit(_in_worker, work, sent)) for kept, sent in items)
        yield from in_order(submitted, window=2 * jobs)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def in_order(submitted: Iterable[tuple[Any, Any]], *, window: int) -> Iterator[tuple[Any, Any]]:
    """``(kept, future.result())`` for each ``(kept, future)``, in order.

    ``submitted`` is lazy, so at most ``window`` futures (concurrent.futures or Dask) are in
    flight and memory stays flat; those still pending are cancelled if this stops early.
    """
    pending: deque[tuple[Any, Any]] = deque()
    try:
        for item in submitted:
            pending.append(item)
            if len(pending) >= window:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()
    finally:
        for _, future in pending:
            future.cancel()


def _chunks(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
    chunk: list[Record] = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _output_name(key: str) -> str:
    """The output name of an input field: ``input_<name>`` for one named like an added
    field (a labelled log often has its own ``unit`` column), else the name itself."""
    return f"input_{key}" if key in ADDED_FIELDS else key


def _result(record: Record, outcome: _Outcome | None) -> Result:
    """A record's Result: an error one for a record with no text, else its ``outcome``."""
    if outcome is None:
        return Result(record.row, record.fields, ERROR, error=record.error)
    kind, unit, name, confidence, alternatives, provisions, topic, referral = outcome
    return Result(
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


def _results(chunk: list[Record], routed: list[_Outcome]) -> Iterator[Result]:
    it = iter(routed)
    for record in chunk:
        yield _result(record, None if record.text is None else next(it))


def _prepare_chunk(chunk: list[Record], *, numbered: bool = True) -> tuple[list[Record], list[str]]:
    """Turn unroutable texts into error records; the texts left to route, in order."""
    texts: list[str] = []
    for i, record in enumerate(chunk):
        if record.text is None:
            continue
        reason = _routable_error(record.text)
        if reason is not None:
            where = f"row {record.row}: " if numbered else ""
            chunk[i] = Record(record.row, record.fields, None, where + reason)
        else:
            texts.append(record.text)
    return chunk, texts


def route_records(
    records: Iterable[Record],
    router: Router,
    *,
    jobs: int = 1,
    chunk_size: int = CHUNK_SIZE,
    alternatives: int = 3,
) -> Iterator[Result]:
    """Route records in chunks; one :class:`Result` per record, in input order.

    With ``jobs > 1`` the chunks are routed on that many worker processes. The fitted
    ``router`` is handed to each worker once, when it starts; only texts and lean results
    cross between processes, and at most ``2 * jobs`` chunks are in flight, so memory stays
    flat.
    """
    chunks = (_prepare_chunk(c) for c in _chunks(records, chunk_size))
    work = functools.partial(outcomes, alternatives=alternatives)
    for chunk, routed in _map_chunks(work, chunks, router, jobs=jobs):
        yield from _results(chunk, routed)


def _format_chunk(
    router: Router,
    chunk: list[Record],
    *,
    alternatives: int,
    columns: Sequence[str] | None,
) -> tuple[str, Counter[tuple[str, str | None]]]:
    """Route a chunk and write its output lines (CSV with ``columns``, else JSON Lines).

    Returns the lines as one string and the count of each ``(decision, unit)``: run in a
    worker, this keeps the formatting off the parent, which only reads and writes.
    """
    chunk, texts = _prepare_chunk(chunk)
    routed = outcomes(router, texts, alternatives=alternatives)
    if columns is None:
        return _jsonl_block(chunk, routed)
    return _csv_block(chunk, routed, columns)


def _jsonl_block(
    chunk: Sequence[Record], routed: Sequence[_Outcome]
) -> tuple[str, Counter[tuple[str, str | None]]]:
    """The JSON Lines of a routed chunk, exactly as :func:`iter_jsonl` writes them from
    :meth:`Result.to_dict`, and the count of each ``(decision, unit)``.

    A routed row's object is encoded up to its confidence, and the alternatives, provisions
    and error are written after it as text (the encoder's own separators), without
    building a Result or the alternatives' dicts.
    """
    counts: Counter[tuple[str, str | None]] = Counter()
    encode = _JSON.encode
    lines = []
    it = iter(routed)
    for record in chunk:
        if record.text is None:
            counts[ERROR, None] += 1
            lines += iter_jsonl([_result(record, None).to_dict()])
            continue
        kind, unit, name, confidence, listed, provisions, topic, referral = next(it)
        counts[kind, unit] += 1
        head = {_output_name(k): _clean_float(v) for k, v in record.fields.items()}
        head["unit"] = unit
        head["unit_name"] = name
        head["decision"] = kind
        head["confidence"] = _clean_float(confidence)
        lines.append(
            f'{encode(head)[:-1]}, "alternatives": {_alternatives_json(listed)}, '
            f'"provisions": {encode(provisions)}, "topic": {encode(topic)}, '
            f'"referral": {encode(referral)}, "error": null}}\n'
        )
    return "".join(lines), counts


def _csv_block(
    chunk: Sequence[Record], routed: Sequence[_Outcome], columns: Sequence[str]
) -> tuple[str, Counter[tuple[str, str | None]]]:
    """The CSV lines of a routed chunk under ``columns``, exactly as :func:`iter_csv` writes
    them from :meth:`Result.to_dict`, and the count of each ``(decision, unit)``.

    A routed row whose input fields are exactly the columns' (every well-formed CSV row)
    is written straight from its fields and outcome, without building a Result or its
    dict; any other row goes through :func:`iter_csv`.
    """
    inputs = len(columns) - len(ADDED_FIELDS) - 1  # the input fields, then added, overflow
    plain = inputs >= 0 and tuple(columns[inputs:]) == (*ADDED_FIELDS, OVERFLOW)
    names = list(columns[:inputs])
    fits: dict[tuple[str, ...], bool] = {}  # input keys -> written under the columns as is
    counts: Counter[tuple[str, str | None]] = Counter()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    it = iter(routed)
    for record in chunk:
        if record.text is None:
            result = _result(record, None)
        else:
            outcome = next(it)
            kind, unit, name, confidence, listed, provisions, topic, referral = outcome
            keys = tuple(record.fields)
            fit = fits.get(keys)
            if fit is None:
                fit = fits[keys] = plain and list(map(_output_name, keys)) == names
            if fit:
                counts[kind, unit] += 1
                cells = [v if type(v) is str else _cell(v) for v in record.fields.values()]
                cells += (
                    unit or "",
                    name or "",
                    kind,
                    _clean_float(confidence),
                    _alternatives_json(listed),
                    provisions,
                    topic or "",
                    referral or "",
                    "",
                    "",
                )
                writer.writerow(cells)
                continue
            result = _result(record, outcome)
        counts[result.decision, result.unit] += 1
        row = result.to_dict()
        buffer.write("".join(iter_csv([row], fieldnames=columns, overflow=OVERFLOW, header=False)))
    return buffer.getvalue(), counts


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


_INF = float("inf")
# Each unit id's JSON text, as the encoder writes it (quoted, escaped): ids are few.
_UNIT_KEYS: dict[str, str] = {}


# -- writers ---------------------------------------------------------------------------------


def _json_default(value: object) -> object:
    # numpy and pandas scalars from the Dask engine
    if hasattr(value, "item"):
        return value.item()  # type: ignore[attr-defined]
    return str(value)


# One encoder for every row: json.dumps with options builds a new one on each call.
_JSON = json.JSONEncoder(ensure_ascii=False, default=_json_default)


def _clean_float(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


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


def _csv_line(cells: Sequence[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list | dict | tuple):
        return _JSON.encode(value)
    return _clean_float(value)


# -- summary ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """What a batch run did.

    Attributes:
        rows: rows written (every input row).
        routed, clarify, out_of_scope, errors: rows per decision.
        per_unit: ``(unit id, rows routed to it)``, most first.
        seconds: wall time of the run.
    """

    rows: int
    routed: int
    clarify: int
    out_of_scope: int
    errors: int
    per_unit: tuple[tuple[str, int], ...]
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def share(self, count: int) -> float:
        """``count`` as a share of the rows (0 when there are none)."""
        return count / self.rows if self.rows else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "routed": self.routed,
            "clarify": self.clarify,
            "out_of_scope": self.out_of_scope,
            "errors": self.errors,
            "per_unit": dict(self.per_unit),
            "seconds": round(self.seconds, 3),
        }


@dataclass
class Tally:
    """Counts rows as they are written; :meth:`summary` freezes them."""

    decisions: Counter[str] = field(default_factory=Counter)
    units: Counter[str] = field(default_factory=Counter)
    started: float = field(default_factory=time.perf_counter)

    @property
    def rows(self) -> int:
        return self.decisions.total()

    def add(self, decision: str, unit: str | None, n: int = 1) -> None:
        """Count ``n`` rows with this decision and unit."""
        self.decisions[decision] += n
        if unit is not None:
            self.units[unit] += n

    def summary(self) -> Summary:
        return Summary(
            rows=self.rows,
            routed=self.decisions["routed"],
            clarify=self.decisions["clarify"],
            out_of_scope=self.decisions["out_of_scope"],
            errors=self.decisions[ERROR],
            per_unit=tuple(self.units.most_common()),
            seconds=time.perf_counter() - self.started,
        )


def render_summary(summary: Summary, *, names: Mapping[str, str] | None = None) -> str:
    """The summary as plain text lines, for stderr."""
    s = summary
    lines = [f"{s.rows:,} rows in {s.seconds:.1f} s ({s.rows_per_second:,.0f} rows/s)"]
    for unit, count in s.per_unit:
        label = (names or {}).get(unit, unit)
        lines.append(f"  {label:<44} {count:>10,}  {s.share(count):6.1%}")
    lines.append(
        f"  {'clarify (two units about equally likely)':<44} {s.clarify:>10,}  "
        f"{s.share(s.clarify):6.1%}"
    )
    lines.append(f"  {'out of scope':<44} {s.out_of_scope:>10,}  {s.share(s.out_of_scope):6.1%}")
    lines.append(
        f"  {'error rows (see the error field)':<44} {s.errors:>10,}  {s.share(s.errors):6.1%}"
    )
    return "\n".join(lines)


# -- the whole job ---------------------------------------------------------------------------


def output_format_for(output: str | None, output_format: str | None) -> str:
    """The output format: ``output_format``, else the output's suffix, else JSON Lines."""
    if output_format is not None:
        fmt = output_format
    elif output is None or output == "-":
        fmt = "jsonl"
    elif not Path(output.removesuffix(".gz")).suffix:
        fmt = "jsonl"  # no suffix at all: the default
    else:
        # A suffix that names no format ("out.xlsx") would get JSON Lines under a name
        # that says otherwise: refuse it unless the format is given.
        fmt = _SUFFIXES.get(Path(output.removesuffix(".gz")).suffix.lower(), "")
        if not fmt:
            raise InputError(
                f"cannot tell the output format of {output} from its name; name it .csv or "
                ".jsonl, or pass --output-format csv or jsonl"
            )
    if fmt not in OUTPUT_FORMATS:
        raise InputError(f"cannot write {fmt}; the output format is csv or jsonl")
    return fmt


@contextlib.contextmanager
def atomic_output(output: str | None, *, stdout: IO[str] | None = None) -> Iterator[IO[str]]:
    """A text stream for ``output`` that appears under its name only when complete.

    Writes to a hidden temporary file in the target folder (so the final rename stays on one
    file system and is atomic) and renames it when the block ends without an exception; on
    any exception, Ctrl-C included, the temporary file is removed. ``None`` or ``-`` is
    ``stdout``. A ``.gz`` name is gzipped.
    """
    if output is None or output == "-":
        yield stdout if stdout is not None else sys.stdout
        return
    target = Path(output)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise InputError(f"cannot write to {folder}: {exc.strerror}") from exc
    # mkstemp creates the file 0600; the output is an ordinary file, so the umask decides.
    umask = os.umask(0)
    os.umask(umask)
    with contextlib.suppress(OSError):
        os.fchmod(fd, 0o666 & ~umask)
    raw = os.fdopen(fd, "wb")
    try:
        binary: IO[bytes] = raw
        if output.endswith(".gz"):
            binary = gzip.GzipFile(fileobj=raw, mode="wb")  # type: ignore[assignment]
        with io.TextIOWrapper(binary, encoding="utf-8", newline="") as stream:
            yield stream
        raw.close()
        os.replace(tmp, target)
    except BaseException:
        raw.close()
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def run_batch(
    inputs: Sequence[str],
    output: str | None,
    router: Router,
    *,
    input_format: str | None = None,
    output_format: str | None = None,
    text_column: str | None = None,
    text_field: str = "text",
    encoding: str = "utf-8",
    jobs: int = 1,
    alternatives: int = 3,
    chunk_size: int = CHUNK_SIZE,
    stdin: IO[bytes] | None = None,
    stdout: IO[str] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> Summary:
    """Route every row of ``inputs`` and write them all to ``output`` (None: ``stdout``).

    ``on_progress(rows, bytes_read)`` is called every chunk or so.

    Raises:
        InputError: an input cannot be read or has no text column; nothing is written.
        BatchInterrupted: Ctrl-C; says how many rows were done; the output is not written.
    """
    fmt = output_format_for(output, output_format)
    if jobs > 1 and _in_blocks(inputs, input_format, encoding):
        return _run_blocks(
            inputs,
            output,
            router,
            fmt=fmt,
            input_format=input_format,
            options={"text_column": text_column, "text_field": text_field, "encoding": encoding},
            jobs=jobs,
            alternatives=alternatives,
            stdout=stdout,
            on_progress=on_progress,
        )
    tally = Tally()

    def seen(n: int) -> None:
        if on_progress is not None:
            on_progress(tally.rows, n)

    records = read_records(
        *inputs,
        input_format=input_format,
        text_column=text_column,
        text_field=text_field,
        encoding=encoding,
        stdin=stdin,
        progress=seen,
    )
    # Read the first record before opening the output so that a missing text column (or
    # an unreadable file) fails without leaving anything behind.
    first = next(records, None)
    stream_records: Iterable[Record] = () if first is None else _prepend(first, records)
    columns = output_columns(first, fmt)  # the workers write rows, the parent the header
    work = functools.partial(_format_chunk, alternatives=alternatives, columns=columns)
    chunks = ((None, chunk) for chunk in _chunks(stream_records, chunk_size))
    _write_parts(output, stdout, columns, _map_chunks(work, chunks, router, jobs=jobs), tally)
    return tally.summary()


#: Bytes per block when ``--jobs`` workers read the files themselves: small enough for
#: steady progress and flat memory (some 3,500 inquiries). Each block in flight is held as
#: records, results and output text in a worker and again in the parent: with 1 MB blocks
#: a --jobs 2 run on a million rows peaked at about 305 MB in all, with 512 KB at 260 MB.
LOCAL_BLOCK_SIZE = 1 << 19


def _in_blocks(inputs: Sequence[str], input_format: str | None, encoding: str) -> bool:
    """Whether the workers can read the inputs themselves: files (not stdin, not gzip) in
    the local readers' formats and an ASCII-compatible encoding."""
    try:
        return _ascii_compatible(encoding) and all(
            path != "-"
            and not path.lower().endswith(".gz")
            and os.path.isfile(path)
            and (input_format or detect_format(path)) in INPUT_FORMATS
            for path in inputs
        )
    except InputError:
        return False  # the streaming path reports it


def _run_blocks(
    inputs: Sequence[str],
    output: str | None,
    router: Router,
    *,
    fmt: str,
    input_format: str | None,
    options: dict[str, Any],
    jobs: int,
    alternatives: int,
    stdout: IO[str] | None,
    on_progress: Callable[[int, int], None] | None,
) -> Summary:
    """:func:`run_batch` with the workers reading the files: the parent cuts each file into
    blocks of whole records, and each worker reads, routes and formats its blocks, so the
    parent only writes. The output is the same as the streaming path's."""
    tally = Tally()
    blocks = [
        block
        for path in inputs
        for block in split_blocks(
            path,
            input_format or detect_format(path),
            encoding=options["encoding"],
            size=LOCAL_BLOCK_SIZE,
        )
    ]
    # The first record, read here: a missing text column fails before anything is written,
    # and CSV output takes its columns from it.
    first = next(iter(block_records(blocks[0], **options)), None) if blocks else None
    columns = output_columns(first, fmt)
    # Rows are numbered across blocks and files: count each block's records first.
    counting = _map_chunks(
        functools.partial(_count_in, options=options), ((b, b) for b in blocks), router, jobs=jobs
    )
    try:
        numbered = numbered_blocks(blocks, (count for _, count in counting))
    except KeyboardInterrupt as exc:
        raise BatchInterrupted(0, output if output not in (None, "-") else None) from exc
    finally:
        counting.close()
    work = functools.partial(
        _format_block, options=options, alternatives=alternatives, columns=columns
    )
    read = 0

    def progress(block: Block) -> None:
        nonlocal read
        read += (block.end or os.path.getsize(block.path)) - block.start
        if on_progress is not None:
            on_progress(tally.rows, read)

    parts = _map_chunks(work, ((b, b) for b in numbered), router, jobs=jobs)
    _write_parts(output, stdout, columns, parts, tally, done=progress)
    return tally.summary()


def _count_in(router: Router, block: Block, *, options: dict[str, Any]) -> int:
    # _map_chunks hands every task the router; counting does not need it.
    return _count_block(block, options=options)


def output_columns(first: Record | None, fmt: str) -> list[str] | None:
    """The CSV output's columns: the first record's, as :func:`iter_csv` would take them
    from its row, and the overflow column (None for JSON Lines or no records)."""
    if fmt != "csv" or first is None:
        return None
    columns = list(Result(first.row, first.fields, ERROR).to_dict())
    if OVERFLOW not in columns:
        columns.append(OVERFLOW)
    return columns


def numbered_blocks(blocks: Sequence[Block], counts: Iterable[int]) -> list[Block]:
    """The blocks with their first rows, from each block's count of records."""
    numbered, row = [], 1
    for block, count in zip(blocks, counts):
        numbered.append(replace(block, first_row=row))
        row += count
    return numbered


def _write_parts(
    output: str | None,
    stdout: IO[str] | None,
    columns: list[str] | None,
    parts: Iterator[tuple[Any, tuple[str, Counter[tuple[str, str | None]]]]],
    tally: Tally,
    done: Callable[[Any], None] | None = None,
) -> None:
    """Write the formatted parts in order (atomically to a file), counting their rows;
    ``done(kept)`` after each. Stops ``parts`` (and its worker processes) at the end."""
    try:
        with atomic_output(output, stdout=stdout) as stream:
            if columns is not None:
                stream.write(_csv_line(columns))
            for kept, (text, counts) in parts:
                stream.write(text)
                for (decision, unit), n in counts.items():
                    tally.add(decision, unit, n)
                if done is not None:
                    done(kept)
            stream.flush()
    except KeyboardInterrupt as exc:
        raise BatchInterrupted(tally.rows, output if output not in (None, "-") else None) from exc
    finally:
        parts.close()  # type: ignore[attr-defined]


def _prepend(first: Record, rest: Iterator[Record]) -> Iterator[Record]:
    yield first
    yield from rest


def format_progress(rows: int, elapsed: float, fraction: float | None) -> str:
    """A one-line progress report: rows, rows/s and, when the size is known, % and ETA."""
    rate = rows / elapsed if elapsed > 0 else 0.0
    line = f"{rows:>12,} rows  {rate:>9,.0f} rows/s"
    if fraction is not None and 0 < fraction <= 1:
        remaining = elapsed * (1 - fraction) / fraction
        minutes, seconds = divmod(int(remaining), 60)
        line += f"  {fraction:6.1%}  ETA {minutes:d}:{seconds:02d}"
    return line
