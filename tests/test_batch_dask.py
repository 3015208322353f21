"""router.batch.dask on a real local Dask cluster: same rows as the single-process job."""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest
from samples import QUESTIONS

from router import InputError, Router
from router.batch import BatchOptions, Record, route_records, run_batch

needs_dask = pytest.mark.skipif(
    find_spec("dask") is None or find_spec("distributed") is None or find_spec("pandas") is None,
    reason="the dask extra is not installed",
)

# Empty, whitespace, missing and control-only texts among the real ones.
TEXTS: list[str | None] = [*QUESTIONS * 5, "", "   ", None, "\x00\x01", *QUESTIONS]


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """A real cluster: two worker processes, one thread each."""
    if find_spec("distributed") is None:
        pytest.skip("the dask extra is not installed")
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as c,
    ):
        yield c


def local_results(router: Router) -> list[tuple[Any, ...]]:
    records = [
        Record(i + 1, {}, t if t and t.strip() else None, None if t and t.strip() else "empty")
        for i, t in enumerate(TEXTS)
    ]
    return [
        (r.decision, r.unit, r.unit_name, r.confidence, [list(a) for a in r.alternatives])
        for r in route_records(records, router)
    ]


@needs_dask
def test_route_dataframe_equals_single_process_row_for_row(client: Any, router: Router) -> None:
    import dask.dataframe as dd
    import pandas as pd

    from router.batch.dask import route_dataframe

    frame = pd.DataFrame({"id": range(len(TEXTS)), "text": TEXTS, "unit": "label"})
    ddf = dd.from_pandas(frame, npartitions=4)
    routed = route_dataframe(ddf, "text", router=router)
    assert list(routed.columns) == [
        "id",
        "text",
        "input_unit",
        "unit",
        "unit_name",
        "decision",
        "confidence",
        "alternatives",
        "provisions",
        "topic",
        "referral",
        "error",
    ]
    got = client.compute(routed).result()
    assert list(got["id"]) == list(range(len(TEXTS)))  # every row, in order
    rows = []
    for r in got.to_dict("records"):
        confidence = None if pd.isna(r["confidence"]) else r["confidence"]
        alternatives = [[a["unit"], a["score"]] for a in r["alternatives"]]
        rows.append((r["decision"], r["unit"], r["unit_name"], confidence, alternatives))
    assert rows == local_results(router)
    errors = got[got["decision"] == "error"]
    assert list(errors["id"]) == [40, 41, 42, 43]
    assert list(errors["error"]) == [
        "empty 'text'",
        "empty 'text'",
        "no 'text'",
        "nothing to route once control characters are removed",
    ]
    # Both worker processes took part.
    assert len(client.scheduler_info()["workers"]) == 2


@needs_dask
def test_run_dask_writes_the_same_file_as_the_local_engine(
    client: Any, router: Router, tmp_path: Path
) -> None:
    from router.batch.dask import run_dask

    src = tmp_path / "log.csv"
    src.write_text(
        "id,message\n" + "".join(f'{i},"{q}"\n' for i, q in enumerate(QUESTIONS * 20)),
        encoding="utf-8",
    )
    local, remote = tmp_path / "local.jsonl", tmp_path / "dask.jsonl"
    run_batch([str(src)], str(local), router)
    summary = run_dask([str(src)], str(remote), router, scheduler=client.scheduler.address)
    assert remote.read_text(encoding="utf-8") == local.read_text(encoding="utf-8")
    assert summary.rows == len(QUESTIONS) * 20
    assert not list(tmp_path.glob(".*.part"))


@needs_dask
def test_route_dataframe_unknown_column(router: Router) -> None:
    import dask.dataframe as dd
    import pandas as pd

    from router.batch.dask import route_dataframe

    ddf = dd.from_pandas(pd.DataFrame({"body": ["x"]}), npartitions=1)
    with pytest.raises(InputError, match="no column 'text' \\(columns: body\\)"):
        route_dataframe(ddf, "text", router=router)


@needs_dask
def test_run_dask_refuses_stdin_and_mixed_formats(router: Router, tmp_path: Path) -> None:
    from router.batch.dask import run_dask

    with pytest.raises(InputError, match="cannot read stdin"):
        run_dask(["-"], None, router)
    (tmp_path / "a.txt").write_text("hello\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("text\nhello\n", encoding="utf-8")
    with pytest.raises(InputError, match="one format at a time"):
        run_dask([str(tmp_path / "a.txt"), str(tmp_path / "b.csv")], None, router)
    with pytest.raises(InputError, match="no file matches"):
        run_dask([str(tmp_path / "*.jsonl")], None, router)


@needs_dask
@pytest.mark.parametrize("out", ["csv", "jsonl"])
def test_run_dask_on_dirty_files_writes_what_the_local_engine_writes(
    client: Any, router: Router, tmp_path: Path, out: str, messy_csv: Path
) -> None:
    from router.batch.dask import run_dask

    messy = messy_csv
    other = tmp_path / "other.csv"
    other.write_text("id,text\n1,EDIH funding\n2,hello,extra\n", encoding="utf-8")
    lines = tmp_path / "log.txt"
    lines.write_bytes(b"who fines GPAI providers?\n\nEDIH\n\xff bad\n")
    for inputs in ([messy, other], [lines, lines]):
        local, remote = tmp_path / f"local.{out}", tmp_path / f"dask.{out}"
        want = run_batch([str(p) for p in inputs], str(local), router)
        got = run_dask(
            [str(p) for p in inputs],
            str(remote),
            router,
            scheduler=client.scheduler.address,
            options=BatchOptions(block_size=300),  # many blocks, cut between the records
        )
        assert remote.read_bytes() == local.read_bytes()
        assert (got.rows, got.errors, got.per_unit) == (want.rows, want.errors, want.per_unit)


@needs_dask
def test_run_dask_reads_files_at_urls_with_the_local_readers(
    client: Any, router: Router, tmp_path: Path, messy_csv: Path
) -> None:
    # file:// goes through fsspec as s3:// would: each file one block, read by a worker.
    import gzip

    from router.batch.dask import run_dask

    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "a.csv").write_bytes(messy_csv.read_bytes())
    (logs / "b.csv.gz").write_bytes(gzip.compress(b"id,text\n1,EDIH funding\n2,x,extra\n"))
    local, remote = tmp_path / "local.csv", tmp_path / "dask.csv"
    want = run_batch([str(logs / "a.csv"), str(logs / "b.csv.gz")], str(local), router)
    got = run_dask(
        [f"file://{logs}/*.csv*"], str(remote), router, scheduler=client.scheduler.address
    )
    # A malformed row is an error row here too, not the end of the run.
    assert remote.read_bytes() == local.read_bytes()
    assert (got.rows, got.errors) == (want.rows, want.errors) and got.errors > 0
    with pytest.raises(InputError, match="no file matches"):
        run_dask([f"file://{logs}/*.jsonl"], None, router)
    with pytest.raises(InputError, match="cannot read"):
        run_dask([f"nosuchprotocol://{logs}/a.csv"], None, router)


def test_missing_dask_says_how_to_install(monkeypatch: pytest.MonkeyPatch, router: Router) -> None:
    real_import = builtins.__import__

    def no_dask(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "dask" or name.startswith("dask."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_dask)
    from router.batch.dask import route_dataframe

    # The module imports without Dask, and says what to install when used.
    with pytest.raises(InputError, match=r"pip install 'ai-office-router\[dask\]'"):
        route_dataframe(object(), "text", router=router)


@needs_dask
def test_hostile_rows_and_a_broken_header_come_out_of_dask_as_out_of_one_process(
    client: Any, router: Router, tmp_path: Path
) -> None:
    from test_batch_properties import JSON_LINES

    from router.batch.dask import run_dask

    hostile = tmp_path / "log.jsonl"
    hostile.write_bytes(b"\n".join(JSON_LINES) + b"\n")
    quotes = tmp_path / "log.csv"
    quotes.write_bytes(
        b"note,text,note\n"
        b"1,a man 6'2\" tall asks,x\n"
        b'2,"a question\nover ""two"" lines",y\n' + "3,\u0301\u0302,z\n".encode()
    )
    for src, out in ((hostile, "jsonl"), (hostile, "csv"), (quotes, "csv")):
        local, remote = tmp_path / f"local.{out}", tmp_path / f"dask.{out}"
        run_batch([str(src)], str(local), router)
        run_dask(
            [str(src)],
            str(remote),
            router,
            scheduler=client.scheduler.address,
            options=BatchOptions(block_size=9),
        )
        assert remote.read_bytes() == local.read_bytes()
    broken = tmp_path / "broken.csv"
    broken.write_bytes(b'"id,text\n1,hello\n')
    with pytest.raises(InputError, match="the CSV header is malformed"):
        run_dask([str(broken)], str(tmp_path / "b.csv"), router, scheduler=client.scheduler.address)
    assert not (tmp_path / "b.csv").exists()
