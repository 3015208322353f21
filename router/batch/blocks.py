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
import mmap
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace

from ..errors import InputError
from .records import INPUT_FORMATS, Record, csv_header, detect_format, read_stream, text_codec

__all__ = [
    "BLOCK_SIZE",
    "LOCAL_BLOCK_SIZE",
    "Block",
    "block_records",
    "count_block",
    "numbered_blocks",
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
    first record, known once the blocks before it are counted.
    """

    path: str
    fmt: str
    start: int
    end: int | None
    header: bytes = b""
    first_line: int = 1
    first_row: int = 1


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
    """Cut an input file into blocks of whole records of about ``size`` bytes.

    A CSV newline ends a record only outside quotes, and a position is inside quotes
    exactly when an odd number of quote characters precede it (an escaped quote is two),
    so the cuts are found by counting quote bytes, without parsing. JSON Lines and text
    records are lines. A gzipped file, or one in an encoding that is not ASCII-compatible,
    is one block.

    Raises:
        InputError: the file cannot be read.
    """
    if path.lower().endswith(".gz") or not ascii_compatible(encoding):
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
        # The header is put in front, so the block's lines start one before its first.
        first_line=block.first_line - (1 if block.start > 0 else 0),
    )


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


def numbered_blocks(blocks: Sequence[Block], counts: Iterable[int]) -> list[Block]:
    """The blocks with their first rows, from each block's count of records."""
    numbered, row = [], 1
    for block, count in zip(blocks, counts):
        numbered.append(replace(block, first_row=row))
        row += count
    return numbered
