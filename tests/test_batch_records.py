"""router.batch.records: formats, opening, and the CSV, JSON Lines and text readers."""

from __future__ import annotations

import gzip
import io
import os
import threading
from pathlib import Path

import pytest

from router import InputError
from router.batch import (
    detect_format,
    detect_text_column,
    read_csv,
    read_jsonl,
    read_records,
    read_text,
)


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


# -- hostile rows: each is one error row, never the end of the run ---------------------------


def test_a_null_line_is_reported_as_null_not_nonetype() -> None:
    (record,) = read_jsonl(text_stream(b"null\n"))
    assert record.error == "row 1: expected a JSON object, got null"


def test_json_nested_a_thousand_levels_deep_is_an_error_row_not_a_recursion_error() -> None:
    deep = b'{"text": "hi", "x": ' + b"[" * 1000 + b"]" * 1000 + b"}\n"
    barely = b'{"text": "hi", "x": ' + b"[" * 950 + b"]" * 950 + b"}\n"  # read, not writable
    records = list(read_jsonl(text_stream(deep + barely + b'{"text": "after"}\n')))
    assert [r.error for r in records] == [
        "row 1: malformed JSON (nested more than 200 levels deep)",
        "row 2: malformed JSON (nested more than 200 levels deep)",
        None,
    ]
    assert records[0].fields == {"line": deep.decode().rstrip("\n")}  # kept as it came


def test_an_escaped_lone_surrogate_is_an_error_row_not_a_write_error() -> None:
    data = (
        b'{"text": "hi \\ud800 there"}\n'
        b'{"text": "hi", "note": {"\\uDC00": 1}}\n'  # in a key, nested
        b'{"text": "a pair is one character: \\ud83d\\ude00"}\n'
    )
    records = list(read_jsonl(text_stream(data)))
    assert [r.error for r in records] == [
        "row 1: malformed JSON (\\ud800 is half of a character, not text)",
        "row 2: malformed JSON (\\udc00 is half of a character, not text)",
        None,
    ]
    assert records[2].text == "a pair is one character: \U0001f600"
    # The row is kept as it came: the escape, which any file can hold.
    assert records[0].fields == {"line": '{"text": "hi \\ud800 there"}'}


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("1e999", "the number 1e999 is out of range"),
        ("-1e999", "the number -1e999 is out of range"),
        ("NaN", "NaN is not JSON"),
        ("Infinity", "Infinity is not JSON"),
    ],
)
def test_numbers_json_cannot_hold_are_error_rows_not_written_as_infinity(
    value: str, reason: str
) -> None:
    line = f'{{"text": "hi", "n": {value}}}\n'.encode()
    (record,) = read_jsonl(text_stream(line))
    assert record.error == f"row 1: malformed JSON ({reason})"
    assert record.fields == {"line": line.decode().rstrip("\n")}


def test_duplicate_csv_headers_are_renamed_not_dropped() -> None:
    data = b"note,text,note,note_2,other_fields\na,hi,b,c,d\n"
    (record,) = read_csv(text_stream(data))
    # The second "note" takes the first free suffix; "other_fields" names a malformed
    # row's surplus cells, so the input's own column is kept aside.
    assert record.fields == {
        "note": "a",
        "text": "hi",
        "note_3": "b",
        "note_2": "c",
        "input_other_fields": "d",
    }


def test_a_named_pipe_is_read_as_a_stream(tmp_path: Path) -> None:
    # `ai-office batch <(zcat log.gz)` or a FIFO: reading failed with "Illegal seek".
    fifo = tmp_path / "log.csv"
    os.mkfifo(fifo)
    writer = threading.Thread(
        target=lambda: fifo.write_bytes(b"text\nwho fines GPAI providers?\nAI Act\n"), daemon=True
    )
    writer.start()
    seen: list[int] = []
    records = list(read_records(str(fifo), progress=seen.append))
    writer.join(timeout=30)
    assert [(r.row, r.text) for r in records] == [(1, "who fines GPAI providers?"), (2, "AI Act")]
    assert seen == [38]  # bytes read, counted as they pass
