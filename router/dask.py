"""Routing past one machine: Dask DataFrames, partition by partition.

Needs the optional extra: ``pip install 'ai-office-router[dask]'``. Nothing here imports
Dask until it is used, so ``import router.dask`` is cheap and fails only when called::

    import dask.dataframe as dd
    from distributed import Client
    from router.dask import route_dataframe

    client = Client("tcp://scheduler:8786")
    df = dd.read_parquet("s3://bucket/inquiries/")
    routed = route_dataframe(df, "text")   # lazy; the fitted router goes to each worker once
    routed.to_parquet("s3://bucket/routed/")

The routed rows are the same, field for field, as those of :func:`router.batch.route_records`
(the partitions go through the same code), in the same order.
"""

from __future__ import annotations

import contextlib
import logging
from collections import deque
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

from .batch import (
    ADDED_FIELDS,
    ERROR,
    OVERFLOW,
    BatchInterrupted,
    Record,
    Summary,
    Tally,
    _prepare_chunk,
    _results,
    atomic_output,
    detect_format,
    detect_text_column,
    iter_csv,
    iter_jsonl,
    outcomes,
    output_format_for,
)
from .errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from .routing import Router

__all__ = ["route_dataframe", "run_dask"]

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
    # Same rule as Result.to_dict: an input column named like an added one is kept aside.
    return {c: f"input_{c}" for c in columns if c in ADDED_FIELDS}


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
    chunk, texts = _prepare_chunk(records, numbered=False)
    results = list(_results(chunk, outcomes(router, texts, alternatives=alternatives)))
    out = part.rename(columns=_renamed(list(part.columns)))
    added: dict[str, Any] = {
        "unit": [r.unit for r in results],
        "unit_name": [r.unit_name for r in results],
        "decision": [r.decision for r in results],
        "confidence": pd.array(
            [r.confidence if r.confidence is not None else float("nan") for r in results],
            dtype="float64",
        ),
        "alternatives": [[{"unit": u, "score": s} for u, s in r.alternatives] for r in results],
        "provisions": [r.provisions for r in results],
        "error": [r.error for r in results],
    }
    for name, values in added.items():
        out[name] = pd.Series(
            values, index=part.index, dtype=None if name == "confidence" else object
        )
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
        ``input_<name>``), then ``unit, unit_name, decision, confidence, alternatives,
        error``. Compute it, or write it with ``to_parquet``/``to_csv``.

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
        from .routing import Router

        router = Router.load()
    shipped = dask.delayed(router, pure=True)
    meta = df._meta.rename(columns=_renamed(list(df.columns)))
    for name in ADDED_FIELDS:
        meta[name] = pd.Series([], dtype="float64" if name == "confidence" else object)
    return df.map_partitions(_route_partition, shipped, text_column, alternatives, meta=meta)


def _read(dd: ModuleType, paths: list[str], fmt: str, encoding: str) -> Any:
    compressed = any(p.lower().endswith(".gz") for p in paths)
    # A gzip stream cannot be split, so a compressed file is one partition. 4 MB (some
    # 25,000 inquiries) keeps every worker busy on a modest log and a partition small.
    blocksize = None if compressed else "4MB"
    if fmt == "csv":
        return dd.read_csv(
            paths,
            dtype=object,
            keep_default_na=False,
            encoding=encoding,
            blocksize=blocksize,
            compression="infer",
        )
    if fmt == "jsonl":
        return dd.read_json(
            paths,
            lines=True,
            orient="records",
            dtype=False,
            encoding=encoding,
            blocksize=blocksize,
            compression="infer",
        )
    if fmt == "parquet":
        return dd.read_parquet(paths)
    raise InputError(
        f"the Dask engine reads CSV, JSON Lines and Parquet, not {fmt}; "
        "use the local engine (drop --engine dask)"
    )


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
            dashboard_address=None,
            # Closing the cluster can log a worker's missed heartbeat as an ERROR: noise.
            silence_logs=logging.CRITICAL,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def run_dask(
    inputs: Sequence[str],
    output: str | None,
    router: Router,
    *,
    scheduler: str | None = None,
    input_format: str | None = None,
    output_format: str | None = None,
    text_column: str | None = None,
    text_field: str = "text",
    encoding: str = "utf-8",
    jobs: int = 1,
    alternatives: int = 3,
) -> Summary:
    """The batch job on Dask: read ``inputs``, route on the cluster, write ``output``.

    Without ``scheduler`` a local cluster of ``jobs`` worker processes is started. Partitions
    come back in order, at most ``2 * workers`` at a time, and are written through the same
    writers as :func:`router.batch.run_batch` (atomically when ``output`` is a file).

    Unlike the local engine, the input is parsed by pandas: a malformed CSV line stops the
    run with pandas' error instead of becoming an error row.

    Raises:
        InputError: Dask is missing, the scheduler cannot be reached, or the input cannot
            be read by Dask.
        BatchInterrupted: Ctrl-C.
    """
    _dask, dd = _require()
    if "-" in inputs:
        raise InputError("the Dask engine cannot read stdin; give file names")
    formats = {input_format or detect_format(p) for p in inputs}
    if len(formats) != 1:
        raise InputError("the Dask engine reads inputs of one format at a time")
    fmt = formats.pop()
    out_fmt = output_format_for(output, output_format)
    df = _read(dd, list(inputs), fmt, encoding)
    column = text_field if fmt == "jsonl" else text_column
    if column is None:
        column = detect_text_column([str(c) for c in df.columns])
        if column is None:
            raise InputError(
                f"no text column (columns: {', '.join(map(str, df.columns))}); "
                "pass --text-column NAME"
            )
    tally = Tally()
    with _client(scheduler, jobs) as client:
        routed = route_dataframe(df, column, router=router, alternatives=alternatives)
        parts = routed.to_delayed()
        window = 2 * max(1, len(client.scheduler_info().get("workers", {})))

        def rows() -> Iterator[dict[str, Any]]:
            pending: deque[Any] = deque()
            queue = iter(parts)
            for part in queue:
                pending.append(client.compute(part))
                if len(pending) >= window:
                    break
            while pending:
                frame = pending.popleft().result()
                nxt = next(queue, None)
                if nxt is not None:
                    pending.append(client.compute(nxt))
                for row in frame.to_dict("records"):
                    tally.add(row["decision"], row["unit"] if row["decision"] != ERROR else None)
                    yield row

        lines = iter_csv(rows(), overflow=OVERFLOW) if out_fmt == "csv" else iter_jsonl(rows())
        try:
            with atomic_output(output) as stream:
                for line in lines:
                    stream.write(line)
                stream.flush()
        except KeyboardInterrupt as exc:
            raise BatchInterrupted(
                tally.rows, output if output not in (None, "-") else None
            ) from exc
    return tally.summary()
