"""router.batch.blocks: byte blocks of whole records read the same records as a file."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from router import InputError
from router.batch import block_records, count_block, read_records, split_blocks


@pytest.mark.parametrize("fmt", ["jsonl", "text"])
def test_counting_a_block_counts_the_records_it_reads(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"log.{fmt}"
    # Blank lines, a lone CR (a line end when read), CRLF, a bad byte, a last line with no
    # newline: each is a record of its own.
    path.write_bytes(b'{"text": "a"}\n\n{"text": "b"}\r{"x": 1}\r\n\xff\n[1]\n{"text": "c"}')
    sizes = [1, 10, 1 << 20]
    counts = [
        [
            (count_block(block, text_column=None, encoding="utf-8"), len(list(read(block))))
            for block in split_blocks(str(path), fmt, size=size)
        ]
        for size in sizes
    ]
    assert [sum(c for c, _ in per_size) for per_size in counts] == [7, 7, 7]
    assert all(count == read for per_size in counts for count, read in per_size)


def read(block):  # type: ignore[no-untyped-def]
    return block_records(block, text_column=None, text_field="text", encoding="utf-8")


def test_blocks_cut_between_records_and_read_the_same_records(
    tmp_path: Path, messy_csv: Path
) -> None:
    messy = messy_csv
    want = [(r.row, r.fields, r.text, r.error) for r in read_records(str(messy))]
    for size in (1, 64, 1000, 1 << 30):
        blocks = split_blocks(str(messy), "csv", size=size)
        got, row = [], 1
        for block in blocks:
            records = list(read(replace(block, first_row=row)))
            # the lean count
            assert count_block(block, text_column=None, encoding="utf-8") == len(records)
            row += len(records)
            got += [(r.row, r.fields, r.text, r.error) for r in records]
        assert got == want, size
        assert len(blocks) > 1 or size == 1 << 30
        # Every cut is at a record's end: an even number of quotes before it.
        data = messy.read_bytes()
        assert all(data[: b.start].count(b'"') % 2 == 0 for b in blocks)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert split_blocks(str(empty), "csv") == []


def test_a_literal_quote_in_an_unquoted_field_moves_no_cut(tmp_path: Path) -> None:
    # A quote inside an unquoted field is a character, not the start of quoting: counting
    # quote bytes took the rest of the file for one quoted field and cut mid-record.
    path = tmp_path / "log.csv"
    path.write_bytes(
        b"id,text\n"
        b"1,a man 6'2\" tall asks\n"
        b'2,"a question\nover ""two"" lines"\n'
        b'3,"and\nanother"\n'
        b"4,plain\n"
    )
    want = [(r.row, r.fields, r.text, r.error) for r in read_records(str(path))]
    assert [w[3] for w in want] == [None] * 4
    for size in (1, 5, 30, 1 << 20):
        blocks = split_blocks(str(path), "csv", size=size)
        got = [(r.row, r.fields, r.text, r.error) for b in blocks for r in read(b)]
        assert got == want, size
        assert [b.rows for b in blocks] == [len(list(read(b))) for b in blocks]


def test_an_unclosed_quote_in_the_csv_header_is_the_same_error_as_reading_the_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "log.csv"
    path.write_bytes(b'"id,text\n1,hello\n2,there\n')
    with pytest.raises(InputError) as whole:
        list(read_records(str(path)))
    with pytest.raises(InputError) as cut:
        split_blocks(str(path), "csv", size=4)
    assert str(cut.value) == str(whole.value)
    assert "the CSV header is malformed" in str(whole.value)


def test_a_named_pipe_is_refused_by_the_block_cutter_without_opening_it(tmp_path: Path) -> None:
    # The Dask engine cut a FIFO (emptying it), then its workers opened it again and waited
    # for ever. No writer here: opening it would block this test.
    fifo = tmp_path / "log.csv"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match=r"log.csv into blocks: it is a pipe or a device, which"):
        split_blocks(str(fifo), "csv")
