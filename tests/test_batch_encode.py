"""router.batch.encode: output rows, and one encoder equal to the dict writers."""

from __future__ import annotations

import csv
import io
from collections import Counter

from samples import QUESTIONS as SAMPLES

from router import Router
from router.batch import (
    ADDED_FIELDS,
    ERROR,
    OVERFLOW,
    Outcome,
    Record,
    Result,
    encode_rows,
    iter_csv,
    iter_jsonl,
    output_columns,
    route_block,
    route_records,
)

QUESTIONS = SAMPLES[:6]


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


def outcomes_of(router: Router, records: list[Record]) -> list[Outcome]:
    return route_block(router, [r.text for r in records if r.text is not None], alternatives=2)


def test_encode_rows_writes_what_iter_csv_and_iter_jsonl_write_of_to_dict(router: Router) -> None:
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
    text, counts = encode_rows(records, outcomes_of(router, records), columns)
    results = list(route_records(records, router, alternatives=2))
    want = "".join(iter_csv([r.to_dict() for r in results], fieldnames=columns, overflow=OVERFLOW))
    assert want.split("\n", 1)[1] == text  # all but the header line
    assert sum(counts.values()) == len(records) and counts[(ERROR, None)] == 2
    records += json_only
    jsonl, counts = encode_rows(records, outcomes_of(router, records), None)
    results = list(route_records(records, router, alternatives=2))
    assert jsonl == "".join(iter_jsonl(r.to_dict() for r in results))
    assert counts == Counter((r.decision, r.unit) for r in results)
    assert '"score": null' in jsonl.splitlines()[-1] and results[-1].provisions


def test_input_fields_named_like_output_fields_are_all_kept() -> None:
    fields = {"unit": "a", "input_unit": "b", "error": "c", "other_fields": ["d"]}
    result = Result(1, fields, ERROR, error="row 1: bad")
    out = result.to_dict()
    assert list(out)[:4] == ["input_unit", "input_unit_2", "input_error", "other_fields"]
    assert [out[k] for k in list(out)[:4]] == ["a", "b", "c", ["d"]]
    record = Record(1, fields, None, "row 1: bad")
    columns = output_columns(record, "csv")
    assert columns is not None and columns[-1] == OVERFLOW and columns.count(OVERFLOW) == 1
    text, _ = encode_rows([record], [], columns)
    (cells,) = csv.reader(io.StringIO(text))
    assert cells[:3] == ["a", "b", "c"] and cells[-1] == '["d"]' and cells[-2] == "row 1: bad"
