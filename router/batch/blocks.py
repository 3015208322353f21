"""Byte blocks of whole records: how a file is shared among workers that read it themselves.

The parent (or the Dask client) cuts each file into blocks without parsing it; each worker
reads its blocks with the readers of :mod:`router.batch.records`, so every engine reads
every row the same way.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import os
import stat
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import InputError
from .records import (
    INPUT_FORMATS,
    Record,
    csv_header,
    detect_format,
    read_stream,
    text_codec,
    undecodable_end,
    unreadable,
)

__all__ = [
    "BLOCK_SIZE",
    "LOCAL_BLOCK_SIZE",
    "Block",
    "block_records",
    "count_block",
    "iter_blocks",
    "split_blocks",
    "splittable",
]

#: Bytes per block of a file read by Dask workers: some 25,000 inquiries, enough work per
#: task to pay for its scheduling.
BLOCK_SIZE = 4 << 20

#: Bytes per block when ``--jobs`` workers read the files themselves: small enough for
#: steady progress and flat memory (some 3,500 inquiries). Each block in flight is held as
#: records, results and output text in a worker and again in the parent: with 1 MB blocks
#: a --jobs 2 run on a million rows peaked at about 305 MB in all, with 512 KB at 260 MB.
LOCAL_BLOCK_SIZE = 1 << 19


@dataclass(frozen=True)
class Block:
    """A run of whole records of one input file, read by one worker.

    ``start``/``end`` are byte offsets (``end`` None: to the end, and the whole file when it
    is gzipped); ``header`` is the CSV header line's bytes, put in front of the block;
    ``first_line`` is the file line the block starts on; ``first_row`` is the number of its
    first record; ``rows`` is how many records it holds (None: not counted yet).
    """

    path: str
    fmt: str
    start: int
    end: int | None
    header: bytes = b""
    first_line: int = 1
    first_row: int = 1
    rows: int | None = None


def ascii_compatible(encoding: str) -> bool:
    """Whether files in ``encoding`` can be cut at newline bytes, counting quote bytes:
    both must be the ASCII bytes and never part of another character.

    Raises:
        InputError: the encoding is unknown.
    """
    try:
        name = codecs.lookup(encoding).name
    except LookupError as exc:
        raise InputError(f"unknown encoding {encoding!r}; try --encoding=latin-1") from exc
    return '"\n'.encode(name) == b'"\n' and not name.startswith(("utf-16", "utf-32"))


def splittable(inputs: Sequence[str], input_format: str | None, encoding: str) -> bool:
    """Whether workers can read ``inputs`` themselves, in blocks: files (not stdin, not
    gzip) in the local readers' formats and an ASCII-compatible encoding."""
    try:
        return ascii_compatible(encoding) and all(
            path != "-"
            and not path.lower().endswith(".gz")
            and os.path.isfile(path)
            and (input_format or detect_format(path)) in INPUT_FORMATS
            for path in inputs
        )
    except InputError:
        return False  # the streaming path reports it


def split_blocks(
    path: str, fmt: str, *, encoding: str = "utf-8", size: int = BLOCK_SIZE
) -> list[Block]:
    """The blocks of :func:`iter_blocks`, as a list."""
    return list(iter_blocks(path, fmt, encoding=encoding, size=size))


def iter_blocks(
    path: str, fmt: str, *, encoding: str = "utf-8", size: int = BLOCK_SIZE
) -> Iterator[Block]:
    """Cut an input file into blocks of whole records of about ``size`` bytes, each with
    its number of records and the number of its first.

    The file is read once, with the same CSV parser as the readers (a quote is special only
    at the start of a field, and a line break ends a record only outside quotes), so a
    block starts exactly where a record starts when the whole file is read: a literal quote
    inside an unquoted field, or a malformed row, moves no cut. JSON Lines and text records
    are lines. A gzipped file, or one in an encoding that is not ASCII-compatible, is one
    block whose records are not counted (``rows`` None). Blocks come as they are cut, so
    workers can route the first ones while the rest of the file is read.

    Raises:
        InputError: the file cannot be read, or its CSV header is malformed.
    """
    try:
        regular = stat.S_ISREG(os.stat(path).st_mode)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc
    if not regular:
        # A named pipe or `<(zcat log.gz)` can be read once: the cutter would empty it and
        # the workers, opening it again by name, wait for ever.
        raise InputError(
            f"cannot cut {path} into blocks: it is a pipe or a device, which can be read "
            "only once; save it to a file first, or route it without --engine dask"
        )
    if path.lower().endswith(".gz") or not ascii_compatible(encoding):
        yield Block(path, fmt, 0, None)
        return
    try:
        # Latin-1 maps each byte to one character, so lengths are byte offsets; the
        # newline, quote and comma bytes of an ASCII-compatible encoding are never part of
        # another character.
        with open(path, encoding="latin-1", newline="") as f:
            yield from _cut(f, path, fmt, size)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc


def _cut(f: Iterable[str], path: str, fmt: str, size: int) -> Iterator[Block]:
    at = [0, 0]  # characters (bytes) and lines read so far

    def lines() -> Iterator[str]:
        for line in f:
            at[0] += len(line)
            at[1] += 1
            yield line

    source = lines()
    header = b""
    records: Iterator[Any] = source
    if fmt == "csv":
        reader = csv.reader(source, strict=True)
        try:
            next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # as the readers say it
            raise InputError(f"{path}: the CSV header is malformed ({exc})") from exc
        with open(path, "rb") as raw:
            header = raw.read(at[0])
        records = _csv_records(reader)
    start, line, rows, first_row = len(header), at[1] + 1, 0, 1
    for _ in records:
        rows += 1
        if at[0] - start >= size:
            yield Block(path, fmt, start, at[0], header, line, first_row, rows)
            start, line, first_row, rows = at[0], at[1] + 1, first_row + rows, 0
    if rows or (first_row == 1 and header):
        # The last records; a CSV file of only a header is one empty block, so that its
        # header is read (and checked) by every engine alike.
        yield Block(path, fmt, start, at[0], header, line, first_row, rows)


def _csv_records(reader: Iterator[list[str]]) -> Iterator[None]:
    """One item per CSV record as the readers count them: a row that is not blank, or a
    row the parser rejects."""
    while True:
        try:
            if next(reader):
                yield None
        except StopIteration:
            return
        except csv.Error:
            yield None


def _block_text(block: Block, encoding: str) -> io.StringIO:
    """A block's text (after the header line put in front, for CSV), ready to read."""
    try:
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
        return io.StringIO(data.decode(text_codec(encoding), "surrogateescape"), newline="")
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(unreadable(block.path, exc)) from exc
    except UnicodeDecodeError as exc:
        raise InputError(undecodable_end(block.path, encoding, exc)) from exc


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
    return read_stream(
        _block_text(block, encoding),
        block.fmt,
        text_column=text_column,
        text_field=text_field,
        encoding=encoding,
        source=block.path,
        first_row=block.first_row,
        # The header is put in front, so the block's lines start that many before its first.
        first_line=block.first_line - (_line_count(block.header) if block.start > 0 else 0),
    )


def _line_count(data: bytes) -> int:
    # Lines as the readers split them (\n, \r\n or a lone \r ends one).
    return len(io.StringIO(data.decode("latin-1"), newline="").readlines())


def count_block(block: Block, *, text_column: str | None, encoding: str) -> int:
    """How many records :func:`block_records` yields for ``block``, without building them:
    a CSV record is a row the reader returns that is not blank, or a row it rejects; a
    JSON Lines or text record is a line."""
    text = _block_text(block, encoding)
    if block.fmt != "csv":
        return sum(1 for _ in text)
    reader = csv.reader(text, strict=True)
    if csv_header(reader, text_column, block.path) is None:
        return 0
    count = 0
    while True:
        try:
            count += bool(next(reader))
        except StopIteration:
            return count
        except csv.Error:
            count += 1
