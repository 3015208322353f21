"""router.batch.engine: the routing job on one process, on worker processes, in blocks."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from samples import QUESTIONS as SAMPLES

from router import InputError, Router
from router.batch import (
    ERROR,
    BatchInterrupted,
    BatchOptions,
    Pool,
    Record,
    engine,
    route_block,
    route_records,
    run_batch,
    splittable,
)
from router.encoders import THREADS_VARIABLE, threads_per_process
from router.render import render_batch_summary

#: The tests below count rows and positions of exactly these 6.
QUESTIONS = SAMPLES[:6]


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


def _encoder_threads(router: Router, item: object) -> str | None:
    return os.environ.get(THREADS_VARIABLE)


def test_each_worker_gives_an_encoder_its_share_of_the_cores(
    router: Router, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two workers each running a two-thread model would be four threads on two cores.
    monkeypatch.delenv(THREADS_VARIABLE, raising=False)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert threads_per_process(2) == 1 and threads_per_process(1) == 2
    assert threads_per_process(3) == 1  # never none
    with Pool(router, jobs=2) as pool:
        seen = [value for _, value in pool.map(_encoder_threads, [(i, i) for i in range(4)])]
    assert seen == ["1"] * 4


def test_route_records_rejects_zero_jobs(router: Router) -> None:
    with pytest.raises(InputError, match="jobs must be at least 1"):
        list(route_records([], router, jobs=0))


# -- the whole job ---------------------------------------------------------------------------


def test_run_batch_csv_to_jsonl_summary(router: Router, tmp_path: Path) -> None:
    src = tmp_path / "log.csv"
    src.write_text(
        "id,message\n" + "".join(f'{i},"{q}"\n' for i, q in enumerate(QUESTIONS, 1)) + "99,\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    summary = run_batch([str(src)], str(out), router, options=BatchOptions(chunk_size=3))
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == [str(i) for i in range(1, len(QUESTIONS) + 1)] + ["99"]
    assert rows[-1]["decision"] == "error" and rows[-1]["error"] == "row 7: empty 'message'"
    assert summary.rows == 7 and summary.errors == 1
    assert summary.routed + summary.clarify + summary.out_of_scope == 6
    assert sum(n for _, n in summary.per_unit) == summary.routed
    assert summary.to_dict()["rows"] == 7
    text = render_batch_summary(summary, names={"ai_safety": "AI Safety Unit"})
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
    real = engine.route_block

    def route_then_ctrl_c(router, texts, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(router, texts, **kwargs)

    monkeypatch.setattr(engine, "route_block", route_then_ctrl_c)
    out = tmp_path / "out.csv"
    with pytest.raises(BatchInterrupted) as info:
        run_batch([str(src)], str(out), router, options=BatchOptions(chunk_size=4))
    assert info.value.rows == 8
    assert str(info.value) == f"interrupted after 8 rows; {out} was not written"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.txt"]


@pytest.mark.parametrize("fuzzy_weight", [None, 0.3])
def test_outcomes_hold_what_the_decisions_hold(router: Router, fuzzy_weight: float | None) -> None:
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
        got = route_block(fresh, texts, alternatives=alternatives)
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
    lines = tmp_path / "log.txt"
    lines.write_bytes(b"who fines GPAI providers?\n\nEDIH\n\xff bad\n")
    assert splittable([str(messy_csv), str(lines)], None, "utf-8")
    assert not splittable(["-"], None, "utf-8")
    assert not splittable([str(messy_csv)], None, "utf-16")
    seen: list[tuple[int, int]] = []
    for inputs, out in (([messy_csv], "csv"), ([messy_csv, lines], "jsonl")):
        one, two = tmp_path / f"one.{out}", tmp_path / f"two.{out}"
        seen.clear()
        want = run_batch([str(p) for p in inputs], str(one), router)
        got = run_batch(
            [str(p) for p in inputs],
            str(two),
            router,
            options=BatchOptions(jobs=2, block_size=300),  # many blocks, cut between records
            on_progress=lambda rows, read: seen.append((rows, read)),
        )
        assert two.read_bytes() == one.read_bytes()
        assert (got.rows, got.errors, got.per_unit) == (want.rows, want.errors, want.per_unit)
        assert seen and seen[-1][0] == got.rows  # progress after each block


def test_a_row_of_only_combining_marks_comes_back_on_every_engine(
    router: Router, tmp_path: Path
) -> None:
    # Only combining marks: the router raised "max() arg is an empty sequence" on it and the
    # whole run stopped. It now folds to no words: a refusal, the same with one or two jobs.
    marks = "\u0301\u0302\u0303"
    src = tmp_path / "log.txt"
    src.write_text(f"{QUESTIONS[0]}\n{marks}\n{QUESTIONS[1]}\n", encoding="utf-8")
    outputs = []
    for jobs in (1, 2):
        out = tmp_path / f"out{jobs}.jsonl"
        summary = run_batch([str(src)], str(out), router, options=BatchOptions(jobs=jobs))
        outputs.append(out.read_bytes())
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        assert [r["decision"] for r in rows][1] == "out_of_scope"
        assert rows[1]["text"] == marks and summary.errors == 0 and summary.rows == 3
    assert outputs[0] == outputs[1]
    results = list(route_records(records_of([QUESTIONS[0], marks]), router, jobs=2))
    assert [r.decision for r in results][1] == "out_of_scope"


def test_an_unclosed_quote_in_the_header_fails_alike_with_jobs(
    router: Router, tmp_path: Path
) -> None:
    # Under --jobs 2 this exited 0 with an empty output: the header took the whole file.
    src = tmp_path / "log.csv"
    src.write_bytes(b'"id,text\n1,hello\n2,there\n')
    errors = []
    for jobs in (1, 2):
        with pytest.raises(InputError) as info:
            run_batch(
                [str(src)], str(tmp_path / "out.csv"), router, options=BatchOptions(jobs=jobs)
            )
        errors.append(str(info.value))
    assert errors[0] == errors[1] == f"{src}: the CSV header is malformed (unexpected end of data)"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.csv"]


def test_a_row_of_only_invisible_characters_is_one_error_row_not_the_end_of_the_run(
    router: Router, tmp_path: Path
) -> None:
    # Word joiners and a bidi isolate: the cleaner removes them all, and the router used to
    # stop the whole run with "the question is empty".
    hidden = "\u2060\u2060\u2066"
    src = tmp_path / "log.txt"
    src.write_text(f"{QUESTIONS[0]}\n{hidden}\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    summary = run_batch([str(src)], str(out), router, options=BatchOptions(jobs=1))
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["decision"] == ERROR for r in rows] == [False, True]
    assert rows[1]["error"].startswith("row 2: ") and summary.errors == 1
