"""Routing past one machine: Dask DataFrames, and the batch job on a Dask cluster.

Needs the optional extra: ``pip install 'ai-office-router[dask]'``. Nothing here imports
Dask until it is used, so ``import router.batch.dask`` is cheap and fails only when called::

    import dask.dataframe as dd
    from distributed import Client
    from router.batch.dask import route_dataframe

    client = Client("tcp://scheduler:8786")
    df = dd.read_parquet("s3://bucket/inquiries/")
    routed = route_dataframe(df, "text")   # lazy; the fitted router goes to each worker once
    routed.to_parquet("s3://bucket/routed/")

The routed rows are the same, field for field, as those of :func:`router.batch.route_records`
(the partitions go through the same code), in the same order. Files of CSV, JSON Lines and
text go through the same block runner as ``--jobs`` (:func:`router.batch.engine.run_blocks`),
with a Dask client as its executor.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from types import ModuleType
from typing import TYPE_CHECKING, Any

from .. import encoders
from ..errors import InputError
from .blocks import BLOCK_SIZE, Block, iter_blocks
from .encode import ADDED_FIELDS, ERROR, Result, iter_csv, iter_jsonl, output_names
from .engine import BatchOptions, in_order, route_chunk, run_blocks
from .output import (
    BatchInterrupted,
    Summary,
    Tally,
    atomic_output,
    check_output,
    file_name,
    stdout_escape,
)
from .records import OVERFLOW, Record, detect_format, detect_text_column

if TYPE_CHECKING:
    import pandas as pd

    from ..routing import Router

__all__ = ["DaskExecutor", "route_dataframe", "run_dask"]

_INSTALL = "the Dask engine needs Dask: pip install 'ai-office-router[dask]'"


def _require() -> tuple[ModuleType, ModuleType]:
    """dask and dask.dataframe, or an InputError that says how to install them."""
    try:
        import dask
        import dask.dataframe as dd
    except ImportError as exc:
        raise InputError(f"{_INSTALL} ({exc})") from exc
    return dask, dd


def _renamed(columns: Sequence[str]) -> dict[str, str]:
    # The columns output_names renames: one named like an added column is kept aside.
    names = output_names(tuple(map(str, columns)))
    return {c: n for c, n in zip(columns, names) if n != c}


def _route_partition(
    part: pd.DataFrame, router: Router, text_column: str, alternatives: int
) -> pd.DataFrame:
    """Route one pandas partition; the added columns go on the end."""
    import pandas as pd

    records = []
    for i, text in enumerate(part[text_column].tolist()):
        if not isinstance(text, str):
            records.append(Record(i, {}, None, f"no {text_column!r}"))
        elif not text.strip():
            records.append(Record(i, {}, None, f"empty {text_column!r}"))
        else:
            records.append(Record(i, {}, text))
    # Rows are numbered per partition here, so the messages carry no row number.
    chunk, routed = route_chunk(router, records, alternatives=alternatives, numbered=False)
    it = iter(routed)
    rows = [Result.of(r, None if r.text is None else next(it)).added() for r in chunk]
    out = part.rename(columns=_renamed(list(part.columns)))
    columns = list(zip(*rows)) if rows else [()] * len(ADDED_FIELDS)
    for name, values in zip(ADDED_FIELDS, columns):
        if name == "confidence":
            values = [float("nan") if v is None else v for v in values]
            out[name] = pd.Series(pd.array(values, dtype="float64"), index=part.index)
        else:
            out[name] = pd.Series(list(values), index=part.index, dtype=object)
    return out


def route_dataframe(
    df: Any,
    text_column: str,
    *,
    router: Router | None = None,
    alternatives: int = 3,
) -> Any:
    """Route a Dask DataFrame lazily, partition by partition.

    Args:
        df: a ``dask.dataframe.DataFrame`` with a text column.
        text_column: the column to route; missing or empty values give ``decision="error"``.
        router: a fitted router (default: the bundled AI Office pack). It becomes a single
            task in the graph, so each worker receives it once, not once per partition.
        alternatives: how many ranked units to keep per row.

    Returns:
        A Dask DataFrame: the input columns (one named like an added column is renamed
        ``input_<name>``), then :data:`~router.batch.ADDED_FIELDS`. Compute it, or write it
        with ``to_parquet``/``to_csv``.

    Raises:
        InputError: Dask is not installed, or ``text_column`` is not a column of ``df``.
    """
    dask, _dd = _require()
    import pandas as pd

    if text_column not in df.columns:
        raise InputError(
            f"no column {text_column!r} (columns: {', '.join(map(str, df.columns))}); "
            "pass the name of the column that holds the text"
        )
    if router is None:
        from ..routing import Router

        router = Router.load()
    shipped = dask.delayed(router, pure=True)
    meta = df._meta.rename(columns=_renamed(list(df.columns)))
    for name in ADDED_FIELDS:
        meta[name] = pd.Series([], dtype="float64" if name == "confidence" else object)
    return df.map_partitions(_route_partition, shipped, text_column, alternatives, meta=meta)


@contextlib.contextmanager
def _client(scheduler: str | None, jobs: int) -> Iterator[Any]:
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise InputError(f"{_INSTALL} ({exc})") from exc
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="20s")
        except OSError as exc:
            raise InputError(
                f"cannot reach the Dask scheduler at {scheduler}: {exc}; "
                "check the address (tcp://host:8786) and that it is running"
            ) from exc
        with client:
            yield client
        return
    with (
        LocalCluster(
            n_workers=jobs,
            threads_per_worker=1,
            processes=True,
            # The workers share this machine's cores: an encoder gets each one's share.
            env={
                encoders.THREADS_VARIABLE: str(encoders.threads_per_process(jobs)),
            },
            dashboard_address=None,
            # Closing the cluster can log a worker's missed heartbeat as an ERROR: noise.
            silence_logs=logging.CRITICAL,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


class DaskExecutor:
    """The executor of a Dask client: the fitted router is sent to each worker once, and
    at most two tasks per worker are in flight (see :class:`router.batch.engine.Executor`)."""

    def __init__(self, client: Any, router: Router) -> None:
        self.client = client
        self.router = router
        self._shipped: Any = None

    def __enter__(self) -> DaskExecutor:
        self._shipped = self.client.scatter(self.router, broadcast=True)  # once per worker
        return self

    def __exit__(self, *exc: object) -> None:
        self._shipped = None

    def map(
        self, work: Callable[[Router, Any], Any], items: Iterable[tuple[Any, Any]]
    ) -> Iterator[tuple[Any, Any]]:
        submit, shipped = self.client.submit, self._shipped
        submitted = ((kept, submit(work, shipped, sent, pure=False)) for kept, sent in items)
        return in_order(submitted, window=_window(self.client))


def run_dask(
    inputs: Sequence[str],
    output: str | None,
    router: Router,
    *,
    options: BatchOptions | None = None,
    scheduler: str | None = None,
) -> Summary:
    """The batch job on Dask: read ``inputs``, route on the cluster, write ``output``.

    ``options`` are those of :func:`router.batch.run_batch` (:class:`BatchOptions`; None:
    the defaults). Without ``scheduler`` a local cluster of ``options.jobs`` worker
    processes is started; ``options.chunk_size`` is not used (workers read whole blocks).

    CSV, JSON Lines and text files are cut into blocks of whole records
    (:func:`~router.batch.split_blocks`) that the workers read with the local engine's
    readers, route and encode, so the output is the same, byte for byte, as
    :func:`router.batch.run_batch`'s: malformed rows become error rows, quoted line breaks
    stay inside their row, and rows are numbered across the files. A file at a URL
    (``s3://...``, through fsspec) is one block, read whole by a worker. Parquet is read by
    Dask and routed with :func:`route_dataframe`. Quoted globs (``'logs/*.csv'``, local or
    at URLs) are expanded, in name order. Results come back in order, at most
    ``2 * workers`` blocks at a time, and are written atomically when ``output`` is a file.

    Raises:
        InputError: Dask is missing, the scheduler cannot be reached, or an input cannot be
            read.
        BatchInterrupted: Ctrl-C.
    """
    _dask, dd = _require()
    if "-" in inputs:
        raise InputError("the Dask engine cannot read stdin; give file names")
    options = options or BatchOptions()
    inputs = [p for pattern in inputs for p in _expand(pattern)]
    formats = {options.input_format or detect_format(p) for p in inputs}
    if len(formats) != 1:
        raise InputError("the Dask engine reads inputs of one format at a time")
    fmt = formats.pop()
    check_output(output)
    options = replace(options.for_output(output), input_format=fmt)
    jobs, size = options.jobs, options.block_size or BLOCK_SIZE
    if fmt == "parquet":
        return _run_parquet(dd, inputs, output, router, options, scheduler=scheduler, jobs=jobs)
    if fmt not in ("csv", "jsonl", "text"):
        raise InputError(f"the Dask engine reads CSV, JSON Lines, text and Parquet, not {fmt}")
    blocks = (
        b
        for path in inputs
        # A file at a URL is one block, read whole by one worker (cut it into files to spread it).
        for b in (
            [Block(path, fmt, 0, None)]
            if "://" in path
            else iter_blocks(path, fmt, encoding=options.encoding, size=size)
        )
    )
    with _client(scheduler, jobs) as client, DaskExecutor(client, router) as executor:
        return run_blocks(blocks, output, executor, options)


def _run_parquet(
    dd: ModuleType,
    inputs: list[str],
    output: str | None,
    router: Router,
    options: BatchOptions,
    *,
    scheduler: str | None,
    jobs: int,
) -> Summary:
    """Parquet, read by Dask itself into a DataFrame and routed with :func:`route_dataframe`."""
    df = dd.read_parquet(inputs)
    column = options.text_column or detect_text_column([str(c) for c in df.columns])
    if column is None:
        raise InputError(
            f"no text column (columns: {', '.join(map(str, df.columns))}); pass --text-column NAME"
        )
    tally = Tally()
    with _client(scheduler, jobs) as client:
        rows = _frame_rows(client, df, column, router, options.alternatives, tally)
        if options.output_format == "csv":
            lines = iter_csv(rows, overflow=OVERFLOW)
        else:
            lines = iter_jsonl(rows)
        try:
            with atomic_output(output) as stream:
                escape = stdout_escape(output, stream, options.output_format)
                stream.writelines(map(escape, lines) if escape else lines)
        except KeyboardInterrupt as exc:
            raise BatchInterrupted(tally.rows, file_name(output)) from exc
    return tally.summary()


def _expand(pattern: str) -> list[str]:
    """A quoted glob ('logs/*.csv', 's3://bucket/logs/*.csv') as its files, sorted; a
    local path or a URL as it is (a URL must exist)."""
    if "://" in pattern:
        return _expand_url(pattern)
    if os.path.exists(pattern) or not glob.has_magic(pattern):
        return [pattern]
    found = sorted(glob.glob(pattern))
    if not found:
        raise InputError(f"no file matches {pattern}")
    return found


def _expand_url(pattern: str) -> list[str]:
    import fsspec

    try:
        fs, _, paths = fsspec.get_fs_token_paths(pattern)
        found = sorted(fs.unstrip_protocol(p) for p in paths if fs.isfile(p))
    except ImportError as exc:
        raise InputError(f"cannot read {pattern}: {exc}; install the package it names") from exc
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read {pattern}: {exc}") from exc
    if not found:
        raise InputError(f"no file matches {pattern}")
    return found


def _window(client: Any) -> int:
    """Blocks in flight: two per worker, enough to keep each busy, few enough for memory."""
    return 2 * max(1, len(client.scheduler_info().get("workers", {})))


def _frame_rows(
    client: Any, df: Any, column: str, router: Router, alternatives: int, tally: Tally
) -> Iterator[dict[str, Any]]:
    """The routed rows of a Dask DataFrame, partition by partition, in order."""
    routed = route_dataframe(df, column, router=router, alternatives=alternatives)
    submitted = ((None, client.compute(part)) for part in routed.to_delayed())
    for _, frame in in_order(submitted, window=_window(client)):
        for row in frame.to_dict("records"):
            tally.add(row["decision"], row["unit"] if row["decision"] != ERROR else None)
            yield row
