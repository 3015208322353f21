"""Metrics on labelled inquiries."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from router import InputError, Router
from router.evaluate import LabelledInquiry, evaluate, read_labelled


def test_metrics_on_a_known_mix(router: Router) -> None:
    items = [
        LabelledInquiry("who fines GPAI providers?", "regulation_compliance"),
        LabelledInquiry("red teaming frontier models", "ai_safety"),
        LabelledInquiry("how do I renew my passport", "out_of_scope"),
        # Deliberately mislabelled: a passport question labelled as a unit.
        LabelledInquiry("passport renewal fees", "ai_safety"),
    ]
    result = evaluate(router, items)
    assert result.n == 4
    assert result.accuracy == pytest.approx(0.75)
    assert result.in_scope_accuracy == pytest.approx(2 / 3)
    assert result.oos_recall == 1.0
    assert result.oos_precision == pytest.approx(0.5)
    labels = list(result.labels)
    row = result.confusion[labels.index("ai_safety")]
    assert row[labels.index("ai_safety")] == 1 and row[labels.index("out_of_scope")] == 1
    assert len(result.errors) == 1 and result.errors[0]["want"] == "ai_safety"


def test_empty_input_is_an_error(router: Router) -> None:
    with pytest.raises(InputError, match="no labelled inquiries"):
        evaluate(router, [])


def test_read_labelled_rejects_unknown_kinds_and_broken_utf8(tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text("hello", "utf-8")
    with pytest.raises(InputError, match="unknown file kind"):
        read_labelled(tmp_path / "x.txt")
    (tmp_path / "x.csv").write_bytes(b"text,unit\ncaf\xe9,ai_safety\n")
    with pytest.raises(InputError, match="not valid UTF-8"):
        read_labelled(tmp_path / "x.csv")
    with pytest.raises(InputError, match="no such file"):
        read_labelled(tmp_path / "missing.yaml")


def test_deeply_nested_jsonl_record_is_one_input_error(tmp_path: Path) -> None:
    # Was a RecursionError traceback from json.loads.
    path = tmp_path / "deep.jsonl"
    path.write_text('{"text": ' + "[" * 100_000 + "]" * 100_000 + ', "unit": "x"}\n')
    with pytest.raises(InputError, match=r"deep\.jsonl, line 1: JSON nested too deeply"):
        read_labelled(path)


def test_device_or_fifo_as_labelled_file_is_refused_not_read(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    for path in (fifo, Path("/dev/zero")):
        with pytest.raises(InputError, match="is not a regular file"):
            read_labelled(path)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("bom.csv", "text,unit\nAI Act fines,regulation_compliance\n"),
        ("bom.jsonl", '{"text": "AI Act fines", "unit": "regulation_compliance"}\n'),
    ],
)
def test_utf8_bom_at_the_start_of_a_labelled_file_is_not_part_of_the_data(
    tmp_path: Path, name: str, content: str
) -> None:
    # Spreadsheet programs write a BOM; batch already skips it, eval read it as part of
    # the first header ("no 'text'") or of the first JSON line ("invalid JSON").
    path = tmp_path / name
    path.write_bytes(b"\xef\xbb\xbf" + content.encode("utf-8"))
    assert read_labelled(path) == [
        LabelledInquiry(text="AI Act fines", unit="regulation_compliance")
    ]
