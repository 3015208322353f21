"""Reading inquiry logs: formats, opening, and the CSV, JSON Lines and text readers.

Every reader yields one :class:`Record` per input row, in order. A row that cannot be
routed (undecodable bytes, malformed CSV or JSON, a missing or empty text) is a record
with an ``error`` and no ``text``: it is reported, never dropped.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import json
import math
import os
import re
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..errors import InputError

__all__ = [
    "INPUT_FORMATS",
    "OVERFLOW",
    "TEXT_COLUMN_NAMES",
    "Record",
    "detect_format",
    "detect_text_column",
    "read_csv",
    "read_jsonl",
    "read_records",
    "read_text",
    "text_codec",
    "unique_names",
]

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

#: The field holding input cells that have no column of their own: the surplus cells of a
#: malformed CSV row here, and in CSV output the keys of JSON Lines rows not in the first.
OVERFLOW = "other_fields"

INPUT_FORMATS = ("csv", "jsonl", "text")

SUFFIXES = {
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


# -- formats and opening --------------------------------------------------------------------


def detect_format(path: str | os.PathLike[str], *, default: str | None = None) -> str:
    """The format a file name implies (``.gz`` is looked through): csv, jsonl, text, parquet.

    Raises:
        InputError: the suffix is unknown and there is no ``default``.
    """
    name = Path(path).name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    found = SUFFIXES.get(Path(name).suffix)
    if found is not None:
        return found
    if default is not None:
        return default
    raise InputError(
        f"cannot tell the format of {path} from its name; pass --format csv, jsonl or text"
    )


def is_utf8(encoding: str) -> bool:
    """Whether ``encoding`` names UTF-8 (any spelling)."""
    return encoding.lower().replace("_", "-") in ("utf-8", "utf8")


def text_codec(encoding: str) -> str:
    """The codec to decode ``encoding`` with: utf-8-sig for UTF-8, which drops the
    byte-order mark that spreadsheet exports put first."""
    return "utf-8-sig" if is_utf8(encoding) else encoding


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
def open_text(
    path: str, *, encoding: str, stdin: IO[bytes] | None = None
) -> Iterator[tuple[IO[str], Callable[[], int]]]:
    """Open ``path`` (``-`` is stdin; ``.gz`` is gunzipped) as text; also a bytes-read probe.

    Raises:
        InputError: the file cannot be opened or read, or the encoding is unknown.
    """
    raw: IO[bytes]
    if path == "-":
        if stdin is None and sys.stdin is None:
            # Started with file descriptor 0 closed (`<&-`): Python sets sys.stdin to None.
            raise InputError("cannot read stdin: it is closed; pipe the input in or name a file")
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
        if not raw.seekable():  # a named pipe, `<(zcat log.gz)`: no tell(), so count
            piped = _Counting(raw)
            raw = io.BufferedReader(piped, 1 << 16)
            position = lambda: piped.count  # noqa: E731
    binary: IO[bytes] = raw
    if path.lower().endswith(".gz"):
        binary = gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[assignment]
    try:
        text = io.TextIOWrapper(
            binary, encoding=text_codec(encoding), errors="surrogateescape", newline=""
        )
    except LookupError as exc:
        raise InputError(f"unknown encoding {encoding!r}; try --encoding=latin-1") from exc
    try:
        yield text, position
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise InputError(unreadable(path, exc)) from exc
    except UnicodeDecodeError as exc:
        raise InputError(undecodable_end(path, encoding, exc)) from exc
    finally:
        text.detach()
        if binary is not raw:
            binary.close()
        if owned:
            raw.close()


def unreadable(path: str, exc: BaseException) -> str:
    """The message for a file that fails while it is read (a damaged or cut-short gzip)."""
    reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    if path.lower().endswith(".gz"):
        return (
            f"cannot read {path}: {reason}; the gzip file is damaged or incomplete: "
            "get a complete copy (gzip -t tests one)"
        )
    return f"cannot read {path}: {reason}"


def undecodable_end(path: str, encoding: str, exc: UnicodeDecodeError) -> str:
    """The message for a file whose last bytes do not make a whole character (an odd
    number of bytes in UTF-16): surrogateescape keeps bad bytes inside a file, not there."""
    return (
        f"cannot read {path}: it ends in the middle of a character ({exc.reason}), so it "
        f"is not complete {encoding} text; check --encoding, or whether the file was cut short"
    )


def _undecodable(text: str, row: int, encoding: str) -> str | None:
    """The error for a row holding bytes the encoding could not decode, or None."""
    hit = _UNDECODABLE.search(text)
    if hit is None:
        return None
    byte = ord(hit.group()) - 0xDC00
    name = "UTF-8" if is_utf8(encoding) else encoding
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
    found = csv_header(reader, text_column, source)
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


def csv_header(
    reader: Iterator[list[str]], text_column: str | None, source: str
) -> tuple[list[str], str] | None:
    """Read the header row: its names and the text column (None for an empty input).

    Raises:
        InputError: the header is malformed or has no text column.
    """
    try:
        header = next(reader)
    except StopIteration:
        return None
    except csv.Error as exc:
        raise InputError(f"{source}: the CSV header is malformed ({exc})") from exc
    header = unique_names([_repair(h) for h in header], reserved=(OVERFLOW,))
    column = text_column if text_column is not None else detect_text_column(header)
    if column is None or column not in header:
        names = ", ".join(header) or "none"
        wanted = f"no column {column!r}" if column else "no text column"
        raise InputError(f"{source}: {wanted} (columns: {names}); pass --text-column NAME")
    return header, column


def unique_names(names: Sequence[str], *, reserved: Sequence[str] = ()) -> list[str]:
    """``names`` made unique, so that no field is lost: a name in ``reserved`` becomes
    ``input_<name>``, and a name already used becomes ``<name>_2`` (or ``_3``...: the first
    that is free)."""
    wanted = [f"input_{n}" if n in reserved else n for n in names]
    taken = set(wanted)
    used: set[str] = set()
    out = []
    for name in wanted:
        if name in used:
            k = 2
            while f"{name}_{k}" in taken or f"{name}_{k}" in used:
                k += 1
            name = f"{name}_{k}"
        used.add(name)
        out.append(name)
    return out


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
            obj = _JSON_DECODER.decode(line)
            if _ESCAPED_SURROGATE.search(line) is not None:
                _check_unicode(obj)
            if line.count("[") + line.count("{") > MAX_JSON_DEPTH:
                _check_depth(obj)
        except ValueError as exc:
            reason = "empty line" if not line.strip() else f"malformed JSON ({exc})"
            yield Record(row, {"line": line.rstrip("\r\n")}, None, f"row {row}: {reason}")
            continue
        except RecursionError:
            reason = f"malformed JSON (nested more than {MAX_JSON_DEPTH} levels deep)"
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


def _finite(text: str) -> float:
    # Python reads 1e999 as inf and NaN/Infinity as floats, but none of them is JSON: it
    # could not be written back as read.
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"the number {text} is out of range")
    return value


def _constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


# The standard decoder, with numbers that cannot be written back refused.
_JSON_DECODER = json.JSONDecoder(parse_float=_finite, parse_constant=_constant)

# A \\uD800-\\uDFFF escape: it may decode to a lone surrogate, which no file can hold.
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


def _check_unicode(value: Any) -> None:
    """Raise ValueError if ``value`` (parsed JSON) holds a lone surrogate, in a key or a
    string at any depth: escaped surrogate pairs decode to one character, lone ones stay."""
    if isinstance(value, str):
        hit = _SURROGATE.search(value)
        if hit is not None:
            raise ValueError(f"\\u{ord(hit.group()):04x} is half of a character, not text")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_unicode(key)
            _check_unicode(item)
    elif isinstance(value, list):
        for item in value:
            _check_unicode(item)


_SURROGATE = re.compile("[\ud800-\udfff]")

#: How deep lists and objects of a JSON Lines row may nest. Python reads a little under
#: 1,000 levels and then cannot write them back from deeper in a worker's stack.
MAX_JSON_DEPTH = 200


def _check_depth(value: Any) -> None:
    """Raise ValueError if ``value`` nests deeper than :data:`MAX_JSON_DEPTH` (iteratively:
    the check itself must not run out of stack)."""
    level: list[Any] = [value]
    for _ in range(MAX_JSON_DEPTH + 1):
        level = [
            item
            for v in level
            if isinstance(v, dict | list)
            for item in (v.values() if isinstance(v, dict) else v)
            if isinstance(item, dict | list)
        ]
        if not level:
            return
    raise ValueError(f"nested more than {MAX_JSON_DEPTH} levels deep")


def _kind(value: object) -> str:
    return {
        type(None): "null",
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
        with open_text(path, encoding=encoding, stdin=stdin) as (stream, position):
            source = "stdin" if path == "-" else path
            records = read_stream(
                stream,
                fmt,
                text_column=text_column,
                text_field=text_field,
                encoding=encoding,
                source=source,
                first_row=row + 1,
            )
            for record in records:
                row = record.row
                if progress is not None and row % 1024 == 0:
                    progress(done_bytes + position())
                yield record
            done_bytes += position()
    if progress is not None:
        progress(done_bytes)


def read_stream(
    lines: Iterable[str],
    fmt: str,
    *,
    text_column: str | None,
    text_field: str,
    encoding: str,
    source: str,
    first_row: int = 1,
    first_line: int = 1,
) -> Iterator[Record]:
    """The records of text in format ``fmt`` (csv, jsonl or text), with the reader for it."""
    if fmt == "csv":
        return read_csv(
            lines,
            text_column=text_column,
            encoding=encoding,
            source=source,
            first_row=first_row,
            first_line=first_line,
        )
    if fmt == "jsonl":
        return read_jsonl(lines, text_field=text_field, encoding=encoding, first_row=first_row)
    return read_text(lines, encoding=encoding, first_row=first_row)
