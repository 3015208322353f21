"""The routing job: records in chunks or blocks, routed on an executor, encoded, written.

One block runner (:func:`run_blocks`) serves every engine: it takes an executor, the local
process pool (:class:`Pool`), the parent itself (:class:`Inline`), or a Dask client
(:class:`router.batch.dask.DaskExecutor`), which all run ``work(router, item)`` and
give the results back in order.
"""

from __future__ import annotations

import functools
import gc
import itertools
import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from typing import IO, TYPE_CHECKING, Any, Protocol

from .. import encoders
from ..errors import InputError, RouterError
from ..text import CHUNK_SIZE, MAX_CHARS, clean_for_display
from .blocks import (
    LOCAL_BLOCK_SIZE,
    Block,
    block_records,
    count_block,
    iter_blocks,
    splittable,
)
from .encode import Counts, Outcome, Result, encode_rows, output_columns
from .output import (
    BatchInterrupted,
    Summary,
    Tally,
    check_output,
    file_name,
    output_format_for,
    write_parts,
)
from .records import Record, detect_format, read_records

if TYPE_CHECKING:
    from ..routing import Router

__all__ = [
    "CHUNK_SIZE",
    "WORKER_GC_THRESHOLD",
    "BatchOptions",
    "Executor",
    "Inline",
    "Pool",
    "WorkerDied",
    "in_order",
    "route_block",
    "route_records",
    "run_batch",
    "run_blocks",
]


#: A worker's youngest-generation GC threshold (Python's default: 700). Routing allocates
#: and frees short-lived containers by the million, nearly all freed by reference
#: counting; collecting them every 700 allocations cost about 6% of a worker's time.
WORKER_GC_THRESHOLD = 50_000

# A character that clean_for_display keeps: neither whitespace nor a control or bidi one.
@dataclass(frozen=True)
class BatchOptions:
    """How a batch reads, routes and writes its rows (everything but where): the one list
    of settings that :func:`run_batch`, :func:`router.batch.dask.run_dask` and
    ``ai-office batch`` share.

    Attributes:
        output_format: ``csv`` or ``jsonl``; None: from the output's suffix (JSON Lines for
            stdout or a name without one).
        input_format: ``csv``, ``jsonl``, ``text`` (or ``parquet`` on Dask); None: from each
            file's suffix.
        text_column: the CSV column to route; None: the first of the usual names.
        text_field: the JSON Lines field to route.
        encoding: the inputs' encoding.
        alternatives: how many ranked units to keep per row.
        jobs: worker processes (on Dask: those of the local cluster started when no
            scheduler is given).
        chunk_size: records routed together when this process reads the inputs (stdin,
            gzip, one job).
        block_size: about how many bytes of a file each task reads; None: the engine's own
            (``LOCAL_BLOCK_SIZE`` for the process pool, ``BLOCK_SIZE`` on Dask, whose tasks
            cost more to send).
    """

    output_format: str | None = None
    input_format: str | None = None
    text_column: str | None = None
    text_field: str = "text"
    encoding: str = "utf-8"
    alternatives: int = 3
    jobs: int = 1
    chunk_size: int = CHUNK_SIZE
    block_size: int | None = None

    def for_output(self, output: str | None) -> BatchOptions:
        """These options with the output format settled for ``output`` (see
        :func:`~router.batch.output.output_format_for`, which raises for a bad one)."""
        return replace(self, output_format=output_format_for(output, self.output_format))

    def records(self, block: Block) -> Iterator[Record]:
        """The records of ``block``, read with these options."""
        return block_records(
            block, text_column=self.text_column, text_field=self.text_field, encoding=self.encoding
        )


# -- routing ---------------------------------------------------------------------------------


def route_block(router: Router, texts: Sequence[str], *, alternatives: int = 3) -> list[Outcome]:
    """Route ``texts`` (none empty) and keep what a batch writes: the lean outcome of each.

    The confidence and scores are rounded to 4 places and the provisions' references
    joined by "; " (the values a :class:`~router.results.Decision` of ``route_many`` holds).
    """
    return router.outcomes(texts, alternatives=alternatives)


def _routable_error(text: str) -> str | None:
    # Mirrors Router._prepare: a text that is empty once cut and cleaned raises there. The
    # cleaner has a fast path for printable text, so asking it directly is cheap and stays
    # in step with it (invisible format characters included).
    if not clean_for_display(text[:MAX_CHARS]):
        return "nothing to route once control characters are removed"
    return None


def prepare_chunk(chunk: list[Record], *, numbered: bool = True) -> tuple[list[Record], list[str]]:
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


def route_texts(
    router: Router, texts: Sequence[str], *, alternatives: int = 3
) -> tuple[list[Outcome], dict[int, str]]:
    """The outcomes of the ``texts`` the router takes, in order, and why it failed on each
    of the others (by position in ``texts``): one text must not cost its whole chunk."""
    try:
        return route_block(router, texts, alternatives=alternatives), {}
    except Exception:  # found again, text by text, below
        pass
    routed: list[Outcome] = []
    failed: dict[int, str] = {}
    for i, text in enumerate(texts):
        try:
            routed += route_block(router, [text], alternatives=alternatives)
        except RouterError as exc:
            failed[i] = str(exc)
        except Exception as exc:  # any fault of the router is this row's
            failed[i] = f"the router cannot take this text ({type(exc).__name__}: {exc})"
    return routed, failed


def with_failures(
    chunk: list[Record], failed: dict[int, str], *, numbered: bool = True
) -> list[Record]:
    """``chunk`` with the records whose text the router failed on (``failed``, by position
    among the records with a text) turned into error records."""
    if not failed:
        return chunk
    position = -1
    for i, record in enumerate(chunk):
        if record.text is None:
            continue
        position += 1
        if position in failed:
            where = f"row {record.row}: " if numbered else ""
            chunk[i] = Record(record.row, record.fields, None, where + failed[position])
    return chunk


def route_chunk(
    router: Router, chunk: list[Record], *, alternatives: int, numbered: bool = True
) -> tuple[list[Record], list[Outcome]]:
    """Route a chunk: the records (those that cannot be routed now error records) and the
    outcomes of those that have a text, in order."""
    chunk, texts = prepare_chunk(chunk, numbered=numbered)
    routed, failed = route_texts(router, texts, alternatives=alternatives)
    return with_failures(chunk, failed, numbered=numbered), routed


def _chunks(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
    chunk: list[Record] = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def encode_chunk(
    router: Router, chunk: list[Record], *, alternatives: int, columns: Sequence[str] | None
) -> tuple[str, Counts]:
    """Route a chunk and encode its output lines (CSV with ``columns``, else JSON Lines).

    Run in a worker, this keeps the formatting off the parent, which only reads and writes.
    """
    return encode_rows(*route_chunk(router, chunk, alternatives=alternatives), columns)


def encode_block(
    router: Router, block: Block, *, options: BatchOptions, columns: Sequence[str] | None
) -> tuple[str, Counts]:
    """Read, route and encode one block (see :func:`encode_chunk`)."""
    records = list(options.records(block))
    return encode_chunk(router, records, alternatives=options.alternatives, columns=columns)


def _count(router: Router, block: Block, *, options: BatchOptions) -> int:
    # Executors hand every task the router; counting does not need it.
    return count_block(block, text_column=options.text_column, encoding=options.encoding)


# -- executors -------------------------------------------------------------------------------


class Executor(Protocol):
    """Runs tasks somewhere, with the fitted router at hand.

    ``map(work, items)`` takes ``(kept, sent)`` pairs and gives back ``(kept, work(router,
    sent))`` for each, in order: only ``sent`` and the result travel to and from a worker.
    Stopping the iterator early cancels what is pending. Executors are context managers.
    """

    def __enter__(self) -> Executor: ...

    def __exit__(self, *exc: object) -> None: ...

    def map(
        self, work: Callable[[Router, Any], Any], items: Iterable[tuple[Any, Any]]
    ) -> Iterator[tuple[Any, Any]]: ...


class Inline:
    """The executor that runs each task in this process, one after the other."""

    def __init__(self, router: Router) -> None:
        self.router = router

    def __enter__(self) -> Inline:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def map(
        self, work: Callable[[Router, Any], Any], items: Iterable[tuple[Any, Any]]
    ) -> Iterator[tuple[Any, Any]]:
        for kept, sent in items:
            yield kept, work(self.router, sent)


_WORKER_ROUTER: Router | None = None


def _init_worker(router: Router, jobs: int) -> None:
    global _WORKER_ROUTER
    _WORKER_ROUTER = router
    # The workers share the cores: an encoder's model gets this worker's share of them
    # (it loads in the worker, on first use, and reads this then).
    os.environ.setdefault(encoders.THREADS_VARIABLE, str(encoders.threads_per_process(jobs)))
    # A worker process is ours, so its collector can be tuned; a caller's process is not.
    gc.set_threshold(WORKER_GC_THRESHOLD, *gc.get_threshold()[1:])
    # The terminal sends Ctrl-C to the whole process group; the parent alone decides how to
    # stop, so a worker must not die mid-chunk with a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A forked worker inherits the parent's handlers; SIGTERM must end it (that is how the
    # pool stops it), not raise in it what the parent's handler raises.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _in_worker(work: Callable[[Router, Any], Any], item: Any) -> Any:
    assert _WORKER_ROUTER is not None
    return work(_WORKER_ROUTER, item)


class Pool:
    """The executor of ``jobs`` local worker processes; use it as a context manager.

    The fitted ``router`` is handed to each worker once, when it starts; only the items and
    the results cross between processes, and at most ``2 * jobs`` items are in flight, so
    memory stays flat.
    """

    def __init__(self, router: Router, jobs: int) -> None:
        self.router = router
        self.jobs = jobs
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Pool:
        self.router.warm_up()  # built once here, shared by the forked workers
        self._pool = ProcessPoolExecutor(
            max_workers=self.jobs, initializer=_init_worker, initargs=(self.router, self.jobs)
        )
        # Forked workers share the parent's pages (the fitted router, the libraries) until
        # something writes to them, and the cyclic GC writes to every object it scans.
        # Freezing the parent's objects while the workers fork keeps their collections off
        # those pages (see gc.freeze); the first submit forks all of them.
        gc.freeze()
        try:
            self._pool.submit(int)
        finally:
            gc.unfreeze()
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        assert self._pool is not None
        if kind is not None:
            # Stopped early (Ctrl-C, SIGTERM, a closed stdout, an error): the results in
            # flight are not wanted, so the workers are ended now rather than after their
            # current block. (Python 3.14 has terminate_workers() for this.)
            processes = getattr(self._pool, "_processes", None) or {}
            for process in list(processes.values()):
                process.terminate()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def map(
        self, work: Callable[[Router, Any], Any], items: Iterable[tuple[Any, Any]]
    ) -> Iterator[tuple[Any, Any]]:
        assert self._pool is not None, "use Pool as a context manager"
        submit = self._pool.submit
        submitted = ((kept, submit(_in_worker, work, sent)) for kept, sent in items)
        return _results(submitted, window=2 * self.jobs, jobs=self.jobs)


class WorkerDied(RouterError):
    """A worker process died (killed, or out of memory) and took its tasks with it; the
    other workers are stopped and nothing is written."""


def _results(
    submitted: Iterable[tuple[Any, Any]], *, window: int, jobs: int
) -> Iterator[tuple[Any, Any]]:
    try:
        yield from in_order(submitted, window=window)
    except BrokenProcessPool as exc:
        raise WorkerDied(
            f"a worker process died (killed, or out of memory) while routing, so its rows "
            f"are lost and nothing was written; run again, with fewer than --jobs {jobs} "
            "if memory is short"
        ) from exc


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


def _executor(router: Router, jobs: int) -> Inline | Pool:
    if jobs < 1:
        raise InputError(f"jobs must be at least 1, got {jobs}")
    return Inline(router) if jobs == 1 else Pool(router, jobs)


# -- the jobs --------------------------------------------------------------------------------


def route_records(
    records: Iterable[Record],
    router: Router,
    *,
    jobs: int = 1,
    chunk_size: int = CHUNK_SIZE,
    alternatives: int = 3,
) -> Iterator[Result]:
    """Route records in chunks; one :class:`Result` per record, in input order.

    With ``jobs > 1`` the chunks are routed on that many worker processes (see :class:`Pool`).

    Raises:
        InputError: ``jobs`` is less than 1.
    """
    work = functools.partial(route_texts, alternatives=alternatives)
    prepared = (prepare_chunk(chunk) for chunk in _chunks(records, chunk_size))
    with _executor(router, jobs) as executor:
        for chunk, (routed, failed) in executor.map(work, prepared):
            chunk = with_failures(chunk, failed)
            it = iter(routed)
            for record in chunk:
                yield Result.of(record, None if record.text is None else next(it))


def run_batch(
    inputs: Sequence[str],
    output: str | None,
    router: Router,
    *,
    options: BatchOptions | None = None,
    stdin: IO[bytes] | None = None,
    stdout: IO[str] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> Summary:
    """Route every row of ``inputs`` and write them all to ``output`` (None: ``stdout``).

    With ``options.jobs > 1`` and files the workers can read in blocks (not stdin, not
    gzip), each worker reads, routes and encodes its own blocks; otherwise this process
    reads and the workers route chunks of ``options.chunk_size`` records. The output is the
    same either way. ``on_progress(rows, bytes_read)`` is called every chunk or so.

    Parameters:
        options: how to read, route and write (:class:`BatchOptions`); None: the defaults.
        stdin, stdout: the streams ``-`` and no output stand for (default: the process's).

    Raises:
        InputError: an input cannot be read or has no text column; nothing is written.
        BatchInterrupted: Ctrl-C; says how many rows were done; the output is not written.
    """
    check_output(output)
    options = (options or BatchOptions()).for_output(output)
    jobs, input_format, encoding = options.jobs, options.input_format, options.encoding
    executor = _executor(router, jobs)
    if jobs > 1 and splittable(inputs, input_format, encoding):
        size = options.block_size or LOCAL_BLOCK_SIZE
        blocks = (
            block
            for path in inputs
            for block in iter_blocks(
                path, input_format or detect_format(path), encoding=encoding, size=size
            )
        )
        with executor:
            return run_blocks(
                blocks, output, executor, options, stdout=stdout, on_progress=on_progress
            )
    tally = Tally()

    def seen(n: int) -> None:
        if on_progress is not None:
            on_progress(tally.rows, n)

    records = read_records(
        *inputs,
        input_format=input_format,
        text_column=options.text_column,
        text_field=options.text_field,
        encoding=encoding,
        stdin=stdin,
        progress=seen,
    )
    # Read the first record before opening the output so that a missing text column (or
    # an unreadable file) fails without leaving anything behind.
    first = next(records, None)
    stream: Iterable[Record] = () if first is None else _prepend(first, records)
    columns = output_columns(first, options.output_format)  # the parent writes the header
    work = functools.partial(encode_chunk, alternatives=options.alternatives, columns=columns)
    with executor:
        chunks = _chunks(stream, options.chunk_size)
        parts = executor.map(work, ((None, chunk) for chunk in chunks))
        write_parts(output, stdout, columns, parts, tally)
    return tally.summary()


def run_blocks(
    blocks: Iterable[Block],
    output: str | None,
    executor: Executor,
    options: BatchOptions,
    *,
    stdout: IO[str] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> Summary:
    """Route the records of ``blocks`` on ``executor`` and write them to ``output``.

    The workers read, route and encode the blocks, so this process only writes. The output
    is the same as one process reading the files. ``blocks`` may be lazy
    (:func:`~router.batch.blocks.iter_blocks`): the workers start on the first ones while
    the rest are cut. ``options.output_format`` None means from ``output``'s suffix;
    ``jobs``, ``chunk_size`` and ``block_size`` are the executor's and the cutter's business.

    Raises:
        InputError: an input cannot be read or the first block has no text column;
            nothing is written.
        BatchInterrupted: Ctrl-C; the output is not written.
    """
    options = options.for_output(output)
    tally = Tally()
    blocks = iter(blocks)
    try:
        head = next(blocks, None)
        # The first record, read here: a missing text column fails before anything is
        # written, and CSV output takes its columns from it.
        first = next(options.records(head), None) if head is not None else None
    except KeyboardInterrupt as exc:
        raise BatchInterrupted(0, file_name(output)) from exc
    columns = output_columns(first, options.output_format)
    read = 0

    def progress(block: Block) -> None:
        nonlocal read
        if on_progress is not None:
            read += (block.end or os.path.getsize(block.path)) - block.start
            on_progress(tally.rows, read)

    count = functools.partial(_count, options=options)
    work = functools.partial(encode_block, options=options, columns=columns)
    numbered = _numbered(executor, count, itertools.chain([head] if head else [], blocks))
    parts = executor.map(work, ((b, b) for b in numbered))
    write_parts(output, stdout, columns, parts, tally, done=progress)
    return tally.summary()


def _numbered(
    executor: Executor, count: Callable[[Router, Block], int], blocks: Iterable[Block]
) -> Iterator[Block]:
    """The blocks with their rows numbered across all of them (and so across files). A
    block the cutter could not count (a gzipped or remote file) is counted by a worker."""
    row = 1
    for block in blocks:
        rows = block.rows
        if rows is None:
            rows = next(iter(executor.map(count, [(block, block)])))[1]
        yield replace(block, first_row=row, rows=rows)
        row += rows


def _prepend(first: Record, rest: Iterator[Record]) -> Iterator[Record]:
    yield first
    yield from rest
