"""router.batch: readers, the routing job, writers, the atomic write and the summary."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections import Counter
from pathlib import Path

import pytest
from samples import QUESTIONS as SAMPLES

from router import InputError, Router
from router.batch import (
    ADDED_FIELDS,
    ERROR,
    BatchInterrupted,
    Record,
    Result,
    atomic_output,
    detect_format,
    detect_text_column,
    iter_csv,
    iter_jsonl,
    read_csv,
    read_jsonl,
    read_records,
    read_text,
    render_summary,
    route_records,
    run_batch,
)

#: The tests below count rows and positions of exactly these 6.
QUESTIONS = SAMPLES[:6]


def text_stream(data: bytes, encoding: str = "utf-8") -> io.TextIOWrapper:
    """Open bytes the way the batch job does: bad bytes survive as surrogates."""
    return io.TextIOWrapper(
        io.BytesIO(data), encoding=encoding, errors="surrogateescape", newline=""
    )


# -- readers ---------------------------------------------------------------------------------


def test_read_csv_detects_the_text_column_and_keeps_every_field() -> None:
    data = "id,Question,channel\n1,who fines GPAI providers?,email\n2,hello,chat\n"
    records = list(read_csv(text_stream(data.encode())))
    assert [r.row for r in records] == [1, 2]
    assert records[0].fields == {
        "id": "1",
        "Question": "who fines GPAI providers?",
        "channel": "email",
    }
    assert records[0].text == "who fines GPAI providers?" and records[0].error is None


@pytest.mark.parametrize(
    ("header", "want"),
    [
        (["id", "text"], "text"),
        (["Subject", "Body"], "Body"),  # body ranks before subject
        (["MESSAGE"], "MESSAGE"),
        (["id", "when"], None),
    ],
)
def test_detect_text_column(header: list[str], want: str | None) -> None:
    assert detect_text_column(header) == want


def test_read_csv_without_a_text_column_says_to_pass_one() -> None:
    with pytest.raises(
        InputError, match=r"no text column \(columns: id, when\); pass --text-column"
    ):
        list(read_csv(text_stream(b"id,when\n1,today\n"), source="log.csv"))


def test_read_csv_named_column_missing() -> None:
    with pytest.raises(InputError, match="no column 'msg'"):
        list(read_csv(text_stream(b"id,text\n1,hi\n"), text_column="msg"))


def test_read_csv_bad_rows_are_kept_with_a_reason() -> None:
    data = (
        b"id,text,channel\n"
        b'1,"broken "quote,x\n'  # malformed quoting
        b"2,,chat\n"  # empty text
        b"3,too,many,cells\n"
        b"4,short\n"
        b"5,caf\xe9 au lait,mail\n"  # latin-1 byte in a UTF-8 file
        b"\n"  # blank lines are not CSV rows
        b"6,who fines GPAI providers?,mail\n"
    )
    records = list(read_csv(text_stream(data)))
    assert [r.row for r in records] == [1, 2, 3, 4, 5, 6]
    errors = [r.error for r in records]
    assert errors[0] is not None and errors[0].startswith("row 1: malformed CSV near line 2")
    assert errors[1] == "row 2: empty 'text'"
    assert errors[2] == "row 3: malformed CSV: expected 3 fields, found 4"
    assert records[2].fields["other_fields"] == ["cells"]  # surplus cells are kept
    assert errors[3] == "row 4: malformed CSV: expected 3 fields, found 2"
    assert records[3].fields == {"id": "4", "text": "short", "channel": ""}
    assert errors[4] == "row 5: not valid UTF-8 (byte 0xe9); try --encoding=latin-1"
    assert records[4].fields["text"] == "caf\ufffd au lait"  # still writable
    assert errors[5] is None and records[5].text == "who fines GPAI providers?"
    assert all(r.text is None for r in records[:5])


def test_read_csv_with_the_right_encoding_reads_the_legacy_row() -> None:
    records = list(read_csv(text_stream(b"text\ncaf\xe9\n", "latin-1"), encoding="latin-1"))
    assert records[0].text == "café" and records[0].error is None


def test_read_csv_drops_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbftext\nhello\n")
    (record,) = read_records(str(path))
    assert record.fields == {"text": "hello"}


def test_read_jsonl_every_kind_of_bad_line() -> None:
    data = (
        b'{"text": "who fines GPAI providers?", "id": 1}\n'
        b'{"text": "unterminated\n'
        b"\n"
        b"[1, 2]\n"
        b'{"id": 5}\n'
        b'{"text": 42}\n'
        b'{"text": "   "}\n'
        b'{"text": "caf\xe9"}\n'
    )
    records = list(read_jsonl(text_stream(data)))
    assert [r.row for r in records] == list(range(1, 9))
    assert records[0].error is None and records[0].fields == {
        "text": "who fines GPAI providers?",
        "id": 1,
    }
    reasons = [r.error for r in records[1:]]
    assert reasons[0] is not None and reasons[0].startswith("row 2: malformed JSON")
    assert records[1].fields == {"line": '{"text": "unterminated'}  # the raw line is kept
    assert reasons[1] == "row 3: empty line"
    assert reasons[2] == "row 4: expected a JSON object, got a list"
    assert reasons[3] == "row 5: no 'text' field; pass --text-field NAME"
    assert reasons[4] == "row 6: 'text' is a number, not text"
    assert reasons[5] == "row 7: empty 'text'"
    assert reasons[6] == "row 8: not valid UTF-8 (byte 0xe9); try --encoding=latin-1"


def test_read_jsonl_other_text_field() -> None:
    (record,) = read_jsonl(text_stream(b'{"body": "hello"}\n'), text_field="body")
    assert record.text == "hello"


def test_read_text_one_inquiry_per_line_blank_lines_are_rows() -> None:
    records = list(read_text(text_stream(b"first\r\n\nthird\n")))
    assert [(r.row, r.text, r.error) for r in records] == [
        (1, "first", None),
        (2, None, "row 2: empty line"),
        (3, "third", None),
    ]


@pytest.mark.parametrize(
    ("name", "want"),
    [
        ("log.csv", "csv"),
        ("log.CSV.gz", "csv"),
        ("log.jsonl", "jsonl"),
        ("log.ndjson.gz", "jsonl"),
        ("log.txt", "text"),
        ("log.parquet", "parquet"),
    ],
)
def test_detect_format(name: str, want: str) -> None:
    assert detect_format(name) == want


def test_detect_format_unknown_says_what_to_pass() -> None:
    with pytest.raises(InputError, match="pass --format csv, jsonl or text"):
        detect_format("log.xlsx")


def test_read_records_gzip_and_numbering_across_files(tmp_path: Path) -> None:
    first = tmp_path / "a.csv.gz"
    with gzip.open(first, "wt", encoding="utf-8") as f:
        f.write("text\none\ntwo\n")
    second = tmp_path / "b.txt"
    second.write_text("three\n", encoding="utf-8")
    records = list(read_records(str(first), str(second)))
    assert [(r.row, r.text) for r in records] == [(1, "one"), (2, "two"), (3, "three")]


def test_read_records_stdin_is_text_unless_told(tmp_path: Path) -> None:
    records = list(read_records("-", stdin=io.BytesIO(b"hello\nworld\n")))
    assert [r.text for r in records] == ["hello", "world"]
    records = list(read_records("-", input_format="jsonl", stdin=io.BytesIO(b'{"text": "x"}\n')))
    assert records[0].fields == {"text": "x"}


def test_read_records_missing_file() -> None:
    with pytest.raises(InputError, match=r"cannot read nowhere\.csv"):
        list(read_records("nowhere.csv"))


def test_read_records_parquet_needs_dask(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="--engine dask"):
        list(read_records(str(tmp_path / "x.parquet")))


# -- routing ---------------------------------------------------------------------------------


def records_of(texts: list[str | None]) -> list[Record]:
    return [
        Record(i + 1, {"text": t or ""}, t, None if t else f"row {i + 1}: empty")
        for i, t in enumerate(texts)
    ]


def test_route_records_matches_route_row_for_row(router: Router) -> None:
    results = list(route_records(records_of(QUESTIONS), router, chunk_size=4))
    assert [r.row for r in results] == list(range(1, len(QUESTIONS) + 1))
    for question, result in zip(QUESTIONS, results):
        d = router.route(question)
        assert result.decision == d.decision
        assert result.unit == (d.unit.id if d.unit else None)
        assert result.confidence == round(d.confidence, 4)
        assert result.alternatives == tuple(
            (a.unit.id, round(a.score, 4)) for a in d.alternatives[:3]
        )


def test_route_records_errors_keep_their_place(router: Router) -> None:
    texts: list[str | None] = [QUESTIONS[0], None, QUESTIONS[1], "\x00\x01 \u200b", QUESTIONS[2]]
    results = list(route_records(records_of(texts), router, chunk_size=2))
    assert [r.row for r in results] == [1, 2, 3, 4, 5]
    assert [r.decision == ERROR for r in results] == [False, True, False, True, False]
    assert results[1].error == "row 2: empty"
    # Only control characters: the router would refuse it, so it is an error row here.
    assert results[3].error == "row 4: nothing to route once control characters are removed"
    assert results[3].confidence is None and results[3].alternatives == ()


def test_route_records_with_two_processes_equals_one(router: Router) -> None:
    records = records_of([*QUESTIONS * 30, None, *QUESTIONS])
    one = list(route_records(records, router, chunk_size=16))
    two = list(route_records(records, router, jobs=2, chunk_size=16))
    assert one == two
    assert len(two) == len(records)


def test_route_records_rejects_zero_jobs(router: Router) -> None:
    with pytest.raises(InputError, match="jobs must be at least 1"):
        list(route_records([], router, jobs=0))


def test_result_to_dict_keeps_colliding_input_fields() -> None:
    fields = {"text": "hi", "unit": "truth"}
    alternatives = (("ai_safety", 0.9),)
    result = Result(3, fields, "routed", "ai_safety", "AI Safety Unit", 0.9, alternatives)
    out = result.to_dict()
    assert list(out) == ["text", "input_unit", *ADDED_FIELDS]
    assert out["input_unit"] == "truth" and out["unit"] == "ai_safety"
    assert out["alternatives"] == [{"unit": "ai_safety", "score": 0.9}]


# -- writers ---------------------------------------------------------------------------------


def test_iter_jsonl_one_line_per_row_unicode_kept() -> None:
    lines = list(iter_jsonl([{"text": "Qui sanctionne ?", "confidence": float("nan")}]))
    assert lines == ['{"text": "Qui sanctionne ?", "confidence": null}\n']


def test_iter_csv_header_lists_as_json_and_overflow() -> None:
    rows = [
        {"text": "a", "alternatives": [{"unit": "x", "score": 1.0}], "error": None},
        {"text": "b", "alternatives": [], "error": "bad", "late": 1},
    ]
    got = list(csv.reader(io.StringIO("".join(iter_csv(rows, overflow="other_fields")))))
    assert got == [
        ["text", "alternatives", "error", "other_fields"],
        ["a", '[{"unit": "x", "score": 1.0}]', "", ""],
        ["b", "[]", "bad", '{"late": 1}'],
    ]


def test_atomic_output_appears_only_when_complete(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    with pytest.raises(RuntimeError), atomic_output(str(target)) as stream:
        stream.write("half a row")
        assert not target.exists()
        raise RuntimeError("stop")
    assert list(tmp_path.iterdir()) == []  # no temporary file left either
    with atomic_output(str(target)) as stream:
        stream.write("done\n")
        assert not target.exists()
    assert target.read_text() == "done\n"
    assert list(tmp_path.iterdir()) == [target]


def test_atomic_output_gzip(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl.gz"
    with atomic_output(str(target)) as stream:
        stream.write("x\n")
    assert gzip.decompress(target.read_bytes()) == b"x\n"


# -- the whole job ---------------------------------------------------------------------------


def test_run_batch_csv_to_jsonl_summary(router: Router, tmp_path: Path) -> None:
    src = tmp_path / "log.csv"
    src.write_text(
        "id,message\n" + "".join(f'{i},"{q}"\n' for i, q in enumerate(QUESTIONS, 1)) + "99,\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    summary = run_batch([str(src)], str(out), router, chunk_size=3)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == [str(i) for i in range(1, len(QUESTIONS) + 1)] + ["99"]
    assert rows[-1]["decision"] == "error" and rows[-1]["error"] == "row 7: empty 'message'"
    assert summary.rows == 7 and summary.errors == 1
    assert summary.routed + summary.clarify + summary.out_of_scope == 6
    assert sum(n for _, n in summary.per_unit) == summary.routed
    assert summary.to_dict()["rows"] == 7
    text = render_summary(summary, names={"ai_safety": "AI Safety Unit"})
    assert text.startswith("7 rows in ")
    assert "error rows (see the error field)" in text and "14.3%" in text


def test_run_batch_missing_column_writes_nothing(router: Router, tmp_path: Path) -> None:
    src = tmp_path / "log.csv"
    src.write_text("id,when\n1,now\n", encoding="utf-8")
    with pytest.raises(InputError, match="pass --text-column"):
        run_batch([str(src)], str(tmp_path / "out.csv"), router)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.csv"]


def test_run_batch_interrupted_leaves_no_output(
    router: Router, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "log.txt"
    src.write_text("\n".join(QUESTIONS * 5) + "\n", encoding="utf-8")
    calls = {"n": 0}
    real = router._route_rows

    def route_then_ctrl_c(texts, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(texts, **kwargs)

    monkeypatch.setattr(router, "_route_rows", route_then_ctrl_c)
    out = tmp_path / "out.csv"
    with pytest.raises(BatchInterrupted) as info:
        run_batch([str(src)], str(out), router, chunk_size=4)
    assert info.value.rows == 8
    assert str(info.value) == f"interrupted after 8 rows; {out} was not written"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.txt"]


def test_worker_csv_lines_equal_iter_csv_of_to_dict(router: Router) -> None:
    from router.batch import OVERFLOW, _format_chunk

    records = [
        Record(1, {"id": "1", "unit": "x", "text": QUESTIONS[0]}, QUESTIONS[0]),
        Record(2, {"id": "2", "unit": "y", "text": ""}, None, "row 2: empty 'text'"),
        # A malformed row: its surplus cells are a field the columns do not have.
        Record(3, {"id": "3", "unit": "z", "text": "hi", OVERFLOW: ["a", "b"]}, None, "bad"),
        Record(4, {"id": "4", "unit": "w", "text": 'say "hi",\nthere'}, 'say "hi",\nthere'),
        Record(5, {"id": "5", "text": QUESTIONS[2]}, QUESTIONS[2]),  # fewer keys (JSONL)
    ]
    columns = [*Result(1, records[0].fields, ERROR).to_dict(), OVERFLOW]
    # JSON Lines only: a JSON value that is not text (NaN is written as null), and a
    # question that cites provisions.
    article = "What does Article 50 say about chatbots?"
    json_only = [Record(6, {"id": 6, "score": float("nan"), "text": article}, article)]
    text, counts = _format_chunk(router, list(records), alternatives=2, columns=columns)
    results = list(route_records(records, router, alternatives=2))
    want = "".join(iter_csv([r.to_dict() for r in results], fieldnames=columns, overflow=OVERFLOW))
    assert want.split("\n", 1)[1] == text  # all but the header line
    assert sum(counts.values()) == len(records) and counts[(ERROR, None)] == 2
    records += json_only
    jsonl, counts = _format_chunk(router, list(records), alternatives=2, columns=None)
    results = list(route_records(records, router, alternatives=2))
    assert jsonl == "".join(iter_jsonl(r.to_dict() for r in results))
    assert counts == Counter((r.decision, r.unit) for r in results)
    assert '"score": null' in jsonl.splitlines()[-1] and results[-1].provisions


@pytest.mark.parametrize("fuzzy_weight", [None, 0.3])
def test_outcomes_hold_what_the_decisions_hold(router: Router, fuzzy_weight: float | None) -> None:
    from router.batch import outcomes
    from router.policy import Policy

    texts = [
        *QUESTIONS,
        "What does Article 50 say about chatbots?",  # provisions
        "who at the AI Office deals with fines and systemic risk",  # close units
        "recipe for pancakes",
        QUESTIONS[0],  # a repeat, answered from the cache
    ]
    # With a fuzzy weight, key terms count and must be looked for (the bundled pack's is 0).
    policy = None if fuzzy_weight is None else Policy(fuzzy_weight=fuzzy_weight)
    fresh = Router(policy=policy).fit(router.pack_)
    for alternatives in (0, 2, 3):
        got = outcomes(fresh, texts, alternatives=alternatives)
        want = [
            (
                d.decision,
                d.unit.id if d.unit else None,
                d.unit.name if d.unit else None,
                round(d.confidence, 4),
                tuple((a.unit.id, round(a.score, 4)) for a in d.alternatives[:alternatives]),
                "; ".join(p.reference for p in d.provisions),
                d.topic.id if d.topic else None,
                d.referral.id if d.referral else None,
            )
            for d in Router(policy=policy).fit(router.pack_).route_many(texts)
        ]
        assert got == want
    assert any(row[5] for row in got) and {row[0] for row in got} >= {"routed", "out_of_scope"}


def test_jobs_read_files_in_blocks_and_write_what_one_process_writes(
    router: Router, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, messy_csv: Path
) -> None:
    import router.batch as batch

    monkeypatch.setattr(batch, "LOCAL_BLOCK_SIZE", 300)  # many blocks, cut between records
    lines = tmp_path / "log.txt"
    lines.write_bytes(b"who fines GPAI providers?\n\nEDIH\n\xff bad\n")
    assert batch._in_blocks([str(messy_csv), str(lines)], None, "utf-8")
    assert not batch._in_blocks(["-"], None, "utf-8")
    assert not batch._in_blocks([str(messy_csv)], None, "utf-16")
    seen: list[tuple[int, int]] = []
    for inputs, out in (([messy_csv], "csv"), ([messy_csv, lines], "jsonl")):
        one, two = tmp_path / f"one.{out}", tmp_path / f"two.{out}"
        seen.clear()
        want = run_batch([str(p) for p in inputs], str(one), router)
        got = run_batch(
            [str(p) for p in inputs],
            str(two),
            router,
            jobs=2,
            on_progress=lambda rows, read: seen.append((rows, read)),
        )
        assert two.read_bytes() == one.read_bytes()
        assert (got.rows, got.errors, got.per_unit) == (want.rows, want.errors, want.per_unit)
        assert seen and seen[-1][0] == got.rows  # progress after each block


@pytest.mark.parametrize("fmt", ["jsonl", "text"])
def test_counting_a_block_counts_the_records_it_reads(tmp_path: Path, fmt: str) -> None:
    from router.batch import _count_block, block_records, split_blocks

    path = tmp_path / f"log.{fmt}"
    # Blank lines, a lone CR (a line end when read), CRLF, a bad byte, a last line with no
    # newline: each is a record of its own.
    path.write_bytes(b'{"text": "a"}\n\n{"text": "b"}\r{"x": 1}\r\n\xff\n[1]\n{"text": "c"}')
    options = {"text_column": None, "text_field": "text", "encoding": "utf-8"}
    for size in (1, 10, 1 << 20):
        for block in split_blocks(str(path), fmt, size=size):
            assert _count_block(block, options=options) == len(
                list(block_records(block, **options))
            )
