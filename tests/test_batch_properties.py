"""Every engine writes the same bytes for any input, hostile ones included (hypothesis)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from router import InputError, Router
from router.batch import BatchOptions, Inline, iter_blocks, run_batch, run_blocks

# Pieces of hostile rows: quotes in and around fields, line breaks of every kind, bad
# bytes, combining marks alone, control characters, deep or broken JSON, numbers JSON
# cannot hold, escaped lone surrogates, null and non-object lines.
CSV_PIECES = [
    b"who fines GPAI providers?",
    b"EDIH funding",
    b",",
    b'"',
    b'""',
    b'a"b',
    b'"multi\nline"',
    b"\n",
    b"\r\n",
    b"\r",
    b"\xff",
    "\u0301\u0302".encode(),
    b"\x00\x01",
    b" ",
    b"text",
]
JSON_LINES = [
    b'{"text": "who fines GPAI providers?", "id": 1}',
    b'{"text": "EDIH funding", "unit": "x", "input_unit": "y"}',
    b"null",
    b"[1, 2]",
    b'{"text": "hi", "n": 1e999}',
    b'{"text": "hi", "n": NaN}',
    b'{"text": "hi \\ud800"}',
    b'{"text": "\xcc\x81\xcc\x82"}',
    b'{"text": "hi", "x": ' + b"[" * 1000 + b"]" * 1000 + b"}",
    b'{"text": "unterminated',
    b'{"text": 42}',
    b"",
    b"\xff",
    b'{"text": "a\\r\\nb"}',
]

csv_files = st.builds(
    lambda header, rows: header + b"".join(rows),
    st.sampled_from([b"id,text\n", b"text,note,note\n", b"unit,text,other_fields\n"]),
    st.lists(st.lists(st.sampled_from(CSV_PIECES), max_size=6).map(b"".join), max_size=8),
)
jsonl_files = st.lists(
    st.tuples(st.sampled_from(JSON_LINES), st.sampled_from([b"\n", b"\r\n", b"\r"])).map(b"".join),
    max_size=8,
).map(b"".join)


def outputs(router: Router, data: bytes, fmt: str, out: str) -> list[bytes | str]:
    """What one process writes, and what the block runner writes with many small blocks
    (the same code as --jobs N and Dask, with this process as the executor)."""
    got: list[bytes | str] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"log.{fmt}"
        path.write_bytes(data)
        target = Path(tmp) / f"out.{out}"
        for engine in ("stream", "blocks"):
            try:
                if engine == "stream":
                    run_batch([str(path)], str(target), router)
                else:
                    with Inline(router) as executor:
                        blocks = iter_blocks(str(path), fmt, size=7)
                        run_blocks(blocks, str(target), executor, BatchOptions(output_format=out))
                got.append(target.read_bytes() if target.exists() else b"")
                target.unlink(missing_ok=True)
            except InputError as exc:
                got.append(str(exc))
    return got


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=csv_files, out=st.sampled_from(["csv", "jsonl"]))
def test_hostile_csv_gives_the_same_bytes_on_every_engine(
    router: Router, data: bytes, out: str
) -> None:
    one, blocks = outputs(router, data, "csv", out)
    assert blocks == one


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=jsonl_files)
def test_hostile_json_lines_give_the_same_bytes_on_every_engine(
    router: Router, data: bytes
) -> None:
    one, blocks = outputs(router, data, "jsonl", "jsonl")
    assert blocks == one
    assert isinstance(one, bytes)  # JSON Lines never fail as a whole
    assert one.count(b"\n") == len(data.splitlines())  # one row per line, whatever it holds
    one, blocks = outputs(router, data, "jsonl", "csv")
    assert blocks == one
