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

The package, one module per concern: :mod:`~router.batch.records` (formats and readers),
:mod:`~router.batch.blocks` (byte blocks of whole records), :mod:`~router.batch.encode`
(output rows and their one encoder), :mod:`~router.batch.engine` (the routing job and its
executors), :mod:`~router.batch.output` (the atomic write and the summary) and
:mod:`~router.batch.dask` (Dask DataFrames and clusters; imports Dask only when used).
"""

from __future__ import annotations

from .blocks import (
    BLOCK_SIZE,
    LOCAL_BLOCK_SIZE,
    Block,
    block_records,
    count_block,
    iter_blocks,
    split_blocks,
    splittable,
)
from .encode import (
    ADDED_FIELDS,
    ERROR,
    Outcome,
    Result,
    encode_rows,
    iter_csv,
    iter_jsonl,
    output_columns,
)
from .engine import (
    CHUNK_SIZE,
    BatchOptions,
    Inline,
    Pool,
    WorkerDied,
    route_block,
    route_records,
    run_batch,
    run_blocks,
)
from .output import (
    BatchInterrupted,
    Summary,
    Tally,
    atomic_output,
    check_output,
    output_format_for,
)
from .records import (
    OVERFLOW,
    TEXT_COLUMN_NAMES,
    Record,
    detect_format,
    detect_text_column,
    read_csv,
    read_jsonl,
    read_records,
    read_text,
)

#: The name :func:`route_block` had before the batch engine became a package.
outcomes = route_block

__all__ = [
    "ADDED_FIELDS",
    "BLOCK_SIZE",
    "CHUNK_SIZE",
    "ERROR",
    "LOCAL_BLOCK_SIZE",
    "OVERFLOW",
    "TEXT_COLUMN_NAMES",
    "BatchInterrupted",
    "BatchOptions",
    "Block",
    "Inline",
    "Outcome",
    "Pool",
    "Record",
    "Result",
    "Summary",
    "Tally",
    "WorkerDied",
    "atomic_output",
    "block_records",
    "check_output",
    "count_block",
    "detect_format",
    "detect_text_column",
    "encode_rows",
    "iter_blocks",
    "iter_csv",
    "iter_jsonl",
    "outcomes",
    "output_columns",
    "output_format_for",
    "read_csv",
    "read_jsonl",
    "read_records",
    "read_text",
    "route_block",
    "route_records",
    "run_batch",
    "run_blocks",
    "split_blocks",
    "splittable",
]
