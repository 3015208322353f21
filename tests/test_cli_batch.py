"""ai-office batch, driven through its real entry point."""

from __future__ import annotations

import csv
import ctypes
import gzip
import io
import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from samples import QUESTIONS as SAMPLES

from router.cli import cli

#: The tests below count rows and positions of exactly these 5.
QUESTIONS = SAMPLES[:5]

BIN = Path(sys.executable).parent / "ai-office"


def run(*args: str, input: bytes | None = None, cwd: Path | None = None):
    """Run the installed console script, as a user would."""
    return subprocess.run(
        [str(BIN), *args],
        input=input,
        capture_output=True,
        env={**os.environ, "NO_COLOR": "1"},
        cwd=cwd,
        timeout=300,
    )


def jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


@pytest.mark.slow  # starts the command in a process of its own
def test_stdin_text_to_jsonl_stdout_summary_on_stderr() -> None:
    data = ("\n".join(QUESTIONS) + "\n\n").encode()
    result = run("batch", "-", input=data)
    assert result.returncode == 0, result.stderr
    rows = jsonl(result.stdout.decode())
    assert [r["text"] for r in rows] == [*QUESTIONS, ""]
    assert rows[0]["decision"] == "routed" and rows[0]["unit"] == "regulation_compliance"
    assert rows[0]["unit_name"] == "Regulation and Compliance Unit"
    assert rows[-1] == {
        "text": "",
        "unit": None,
        "unit_name": None,
        "decision": "error",
        "confidence": None,
        "alternatives": [],
        "provisions": "",
        "topic": None,
        "referral": None,
        "error": "row 6: empty line",
    }
    stderr = result.stderr.decode()
    # Not a terminal: no progress line, only the summary.
    assert "\r" not in stderr and "\x1b" not in stderr
    assert stderr.startswith("6 rows in ")
    assert "Regulation and Compliance Unit" in stderr
    assert re.search(r"error rows \(see the error field\) +1 +16\.7%", stderr)


def test_csv_to_csv_keeps_fields_order_and_bad_rows(runner: CliRunner, tmp_path: Path) -> None:
    src = tmp_path / "log.csv"
    src.write_bytes(
        b"id,subject,unit\n"
        + b"".join(f'{i},"{q}",x\n'.encode() for i, q in enumerate(QUESTIONS, 1))
        + b'6,"bad "quote,x\n'
        + b"7,,x\n"
        + b"8,caf\xe9,x\n"
        + b"9,a,b,c\n"
    )
    out = tmp_path / "out.csv"
    result = runner.invoke(cli, ["batch", str(src), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert [r["id"] for r in rows] == ["1", "2", "3", "4", "5", "", "7", "8", "9"]
    assert list(rows[0]) == [
        "id",
        "subject",
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
        "other_fields",
    ]
    assert [r["decision"] for r in rows[5:]] == ["error"] * 4
    assert "malformed CSV" in rows[5]["error"]
    assert rows[6]["error"] == "row 7: empty 'subject'"
    assert rows[7]["error"] == "row 8: not valid UTF-8 (byte 0xe9); try --encoding=latin-1"
    assert rows[8]["other_fields"] == '["c"]'
    assert json.loads(rows[0]["alternatives"])[0]["unit"] == rows[0]["unit"]
    assert re.search(r"error rows \(see the error field\) +4 +44\.4%", result.stderr)


def test_jsonl_gzip_input_with_text_field(runner: CliRunner, tmp_path: Path) -> None:
    src = tmp_path / "log.jsonl.gz"
    with gzip.open(src, "wt", encoding="utf-8") as f:
        for i, q in enumerate(QUESTIONS):
            f.write(json.dumps({"n": i, "body": q, "meta": {"lang": "x"}}) + "\n")
        f.write("not json\n")
    result = runner.invoke(cli, ["batch", str(src), "--text-field", "body"])
    assert result.exit_code == 0, result.output
    rows = jsonl(result.stdout)
    assert [r.get("n") for r in rows] == [0, 1, 2, 3, 4, None]
    assert rows[0]["meta"] == {"lang": "x"}  # nested fields survive
    assert rows[-1]["line"] == "not json" and rows[-1]["decision"] == "error"


def test_format_option_and_gzip_output(runner: CliRunner, tmp_path: Path) -> None:
    src = tmp_path / "inquiries.dat"
    src.write_text("\n".join(QUESTIONS) + "\n", encoding="utf-8")
    out = tmp_path / "out.csv.gz"
    result = runner.invoke(cli, ["batch", str(src), "--format", "text", "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""  # --quiet
    rows = list(csv.DictReader(io.StringIO(gzip.decompress(out.read_bytes()).decode())))
    assert [r["text"] for r in rows] == QUESTIONS


def test_encoding_option_reads_legacy_file(runner: CliRunner, tmp_path: Path) -> None:
    src = tmp_path / "old.txt"
    src.write_bytes("Qui sanctionne les infractions à l'AI Act ?\n".encode("latin-1"))
    result = runner.invoke(cli, ["batch", str(src), "--encoding", "latin-1"])
    assert result.exit_code == 0, result.output
    (row,) = jsonl(result.stdout)
    assert row["text"] == "Qui sanctionne les infractions à l'AI Act ?"
    assert row["error"] is None


def test_missing_text_column_is_exit_1_and_no_output(runner: CliRunner, tmp_path: Path) -> None:
    src = tmp_path / "log.csv"
    src.write_text("id,when\n1,now\n", encoding="utf-8")
    result = runner.invoke(cli, ["batch", str(src), "-o", str(tmp_path / "out.csv")])
    assert result.exit_code == 1
    assert "no text column (columns: id, when); pass --text-column NAME" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.csv"]


def test_unknown_suffix_and_usage_errors(runner: CliRunner, tmp_path: Path) -> None:
    src = tmp_path / "log.xlsx"
    src.write_text("x", encoding="utf-8")
    result = runner.invoke(cli, ["batch", str(src)])
    assert result.exit_code == 1
    assert "pass --format csv, jsonl or text" in result.stderr
    assert runner.invoke(cli, ["batch"]).exit_code == 2
    assert runner.invoke(cli, ["batch", str(src), "--jobs", "0"]).exit_code == 2


def test_help(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["batch", "-h"])
    assert result.exit_code == 0
    assert "Classify every inquiry in INPUT" in result.output
    assert "--scheduler ADDRESS" in result.output


@pytest.mark.slow  # starts the command in a process of its own
def test_jobs_2_gives_the_same_output_as_one(tmp_path: Path) -> None:
    src = tmp_path / "log.txt"
    lines = [*QUESTIONS * 200, "", *QUESTIONS]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    first = run("batch", str(src), "-o", str(one))
    second = run("batch", str(src), "-o", str(two), "--jobs", "2")
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert one.read_bytes() == two.read_bytes()
    assert len(one.read_text(encoding="utf-8").splitlines()) == len(lines)


@pytest.mark.slow  # starts the command in a process of its own
def test_ctrl_c_stops_cleanly_and_leaves_no_file(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen(
        [str(BIN), "batch", "-", "-o", str(out), "--jobs", "2"],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert proc.stdin is not None and proc.stderr is not None
    proc.stdin.write(("\n".join(QUESTIONS * 1000) + "\n").encode())
    proc.stdin.flush()  # stdin stays open: the job is mid-stream when Ctrl-C comes
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".out.jsonl.*.part")):
        assert time.monotonic() < deadline, "the job never started writing"
        time.sleep(0.1)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 130
    assert "Traceback" not in stderr
    assert stderr.startswith("Stopped: interrupted after ")
    assert stderr.rstrip().endswith(f"rows; {out} was not written")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow  # starts the command in a process of its own
def test_progress_only_on_a_terminal(tmp_path: Path) -> None:
    src = tmp_path / "log.txt"
    src.write_text("\n".join(QUESTIONS * 10) + "\n", encoding="utf-8")
    code, text = on_a_terminal("batch", str(src), "-o", str(tmp_path / "out.jsonl"), cwd=tmp_path)
    assert code == 0
    assert "\r" in text and "rows/s" in text and "100.0%  ETA 0:00" in text
    assert "50 rows in " in text  # then the summary


# -- faults: one Error line, exit 1, checked before the run where it can be ------------------


def test_output_naming_a_folder_is_refused_before_the_run(
    runner: CliRunner, tmp_path: Path
) -> None:
    src = tmp_path / "log.txt"
    src.write_text("who fines GPAI providers?\n", encoding="utf-8")
    result = runner.invoke(cli, ["batch", str(src), "-o", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"Error: {tmp_path} is a folder; give -o a file name, such as {tmp_path}/routed.jsonl"
    )
    result = runner.invoke(cli, ["batch", str(src), "-o", str(tmp_path / "no" / "out.csv")])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: cannot write {tmp_path}/no/out.csv: there is no")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.txt"]


def as_an_ordinary_user() -> None:
    """Run in the child before exec: file permissions then apply to it as to any user.

    The suite runs as root here and in CI, and root writes into any folder (the capability
    CAP_DAC_OVERRIDE). Dropping it, and CAP_DAC_READ_SEARCH, from the bounding set keeps
    them from the program exec'd next, which stays root and so can still run the
    interpreter under /root. A failing prctl raises, failing the test: never a silent skip.
    """
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "cannot drop root's permission override")


@pytest.mark.parametrize(
    "engine", [["-j", "1"], ["-j", "2", "--output-format", "csv"], ["--engine", "dask"]]
)
def test_output_folder_not_writable_is_refused_before_anything_is_read(
    tmp_path: Path, engine: list[str]
) -> None:
    src = tmp_path / "in.txt"
    os.mkfifo(src)  # no writer: reading it would block, so the run must not start
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    out = locked / "out.jsonl"
    try:
        cannot = subprocess.run(
            [sys.executable, "-c", f"import os, sys; sys.exit(os.access({str(locked)!r}, 2))"],
            preexec_fn=as_an_ordinary_user,
            timeout=60,
        )
        assert cannot.returncode == 0, "the child can still write the folder"
        result = subprocess.run(
            [str(BIN), "batch", str(src), "-o", str(out), *engine],
            capture_output=True,
            env={**os.environ, "NO_COLOR": "1"},
            preexec_fn=as_an_ordinary_user,
            timeout=120,  # a read of the FIFO would hang here
        )
    finally:
        locked.chmod(0o755)
    assert result.returncode == 1
    assert result.stdout == b""
    assert result.stderr.decode() == (
        f"Error: cannot write {out}: the folder {locked} is not writable; choose another -o\n"
    )
    assert list(locked.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.txt", "locked"]


def test_a_damaged_gzip_is_one_error_line_not_a_traceback(
    runner: CliRunner, tmp_path: Path
) -> None:
    whole = gzip.compress(("text\n" + "who fines GPAI providers?\n" * 50).encode())
    damaged = whole[:12] + b"\xff" * 10 + whole[22:]
    for name, data in (("cut.csv.gz", whole[: len(whole) // 2]), ("bad.csv.gz", damaged)):
        (tmp_path / name).write_bytes(data)
        result = runner.invoke(cli, ["batch", str(tmp_path / name), "-o", str(tmp_path / "o.csv")])
        assert result.exit_code == 1
        assert "Traceback" not in result.output and len(result.output.splitlines()) == 1
        assert result.output.startswith(f"Error: cannot read {tmp_path / name}: ")
        assert "the gzip file is damaged or incomplete" in result.output
        assert not (tmp_path / "o.csv").exists()


def test_utf16_with_an_odd_number_of_bytes_is_one_error_line(
    runner: CliRunner, tmp_path: Path
) -> None:
    src = tmp_path / "log.txt"
    src.write_bytes("who fines GPAI providers?\n".encode("utf-16") + b"x")
    for jobs in ("1", "2"):
        result = runner.invoke(cli, ["batch", str(src), "--encoding", "utf-16", "-j", jobs])
        assert result.exit_code == 1
        assert result.output.startswith(f"Error: cannot read {src}: it ends in the middle of")


# -- signals and pipes -----------------------------------------------------------------------


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def started_workers(proc: subprocess.Popen, n: int = 2) -> None:  # type: ignore[type-arg]
    deadline = time.monotonic() + 240
    while len(children(proc.pid)) < n:
        assert proc.poll() is None and time.monotonic() < deadline, "no workers started"
        time.sleep(0.2)


@pytest.mark.slow
def test_sigterm_stops_like_ctrl_c_keeps_the_old_output_and_exits_143(tmp_path: Path) -> None:
    src = tmp_path / "log.txt"
    src.write_text("\n".join(QUESTIONS * 4000) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n", encoding="utf-8")
    proc = subprocess.Popen(
        [str(BIN), "batch", str(src), "-o", str(out), "--jobs", "2"],
        stderr=subprocess.PIPE,
        env={**os.environ, "NO_COLOR": "1"},
    )
    started_workers(proc)
    workers = children(proc.pid)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 143
    stderr = proc.stderr.read().decode()  # type: ignore[union-attr]
    assert "Traceback" not in stderr and stderr.startswith("Stopped: interrupted after ")
    assert out.read_text(encoding="utf-8") == "previous\n"  # the previous output is kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.txt", "out.jsonl"]  # no .part
    assert not [w for w in workers if Path(f"/proc/{w}").exists()]


@pytest.mark.slow
def test_a_closed_stdout_stops_every_worker_quietly(tmp_path: Path) -> None:
    src = tmp_path / "log.txt"
    src.write_text("\n".join(QUESTIONS * 4000) + "\n", encoding="utf-8")
    proc = subprocess.Popen(
        [str(BIN), "batch", str(src), "--jobs", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "NO_COLOR": "1"},
    )
    started_workers(proc)
    workers = children(proc.pid)
    assert proc.stdout is not None
    assert proc.stdout.readline().startswith(b"{")  # `| head -1`
    proc.stdout.close()
    assert proc.wait(timeout=60) == 141
    assert proc.stderr.read() == b""  # type: ignore[union-attr]
    deadline = time.monotonic() + 10
    while [w for w in workers if Path(f"/proc/{w}").exists()]:
        assert time.monotonic() < deadline, "workers left running after stdout closed"
        time.sleep(0.1)


@pytest.mark.slow
def test_a_killed_worker_is_one_error_line_and_stops_the_others(tmp_path: Path) -> None:
    src = tmp_path / "log.txt"
    src.write_text("\n".join(QUESTIONS * 4000) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen(
        [str(BIN), "batch", str(src), "-o", str(out), "--jobs", "2"],
        stderr=subprocess.PIPE,
        env={**os.environ, "NO_COLOR": "1"},
    )
    started_workers(proc)
    first, *others = children(proc.pid)
    os.kill(first, signal.SIGKILL)
    assert proc.wait(timeout=60) == 1
    stderr = proc.stderr.read().decode()  # type: ignore[union-attr]
    assert stderr.startswith("Error: a worker process died") and len(stderr.splitlines()) == 1
    assert not [w for w in others if Path(f"/proc/{w}").exists()]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.txt"]


def _run_with_closed_fd(fd: int, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run the console script with standard stream ``fd`` closed, as `<&-` or `>&-` do."""
    redirect = "0<&-" if fd == 0 else "1>&-"
    return subprocess.run(
        ["sh", "-c", f'exec "$0" "$@" {redirect}', str(BIN), *args],
        stderr=subprocess.PIPE,
        stdout=None if fd == 1 else subprocess.PIPE,
        env={**os.environ, "NO_COLOR": "1"},
        cwd=cwd,
        timeout=300,
    )

@pytest.mark.parametrize("command", [["batch", "-q", "-"], ["chat"]])
def test_closed_stdin_is_one_error_line_not_a_traceback(
    tmp_path: Path, command: list[str]
) -> None:
    proc = _run_with_closed_fd(0, *command, cwd=tmp_path)
    err = proc.stderr.decode()
    assert proc.returncode == 1
    assert "Traceback" not in err
    assert err.strip().splitlines() == ["Error: " + err.split("Error: ", 1)[1].strip()]
    assert "stdin" in err and "closed" in err


@pytest.mark.parametrize("command", [["ask", "AI Act fines"], ["batch", "-q", "in.csv"]])
def test_closed_stdout_is_one_error_line_not_a_traceback(
    tmp_path: Path, command: list[str]
) -> None:
    (tmp_path / "in.csv").write_text("text\nAI Act fines\n", encoding="utf-8")
    proc = _run_with_closed_fd(1, *command, cwd=tmp_path)
    err = proc.stderr.decode()
    assert proc.returncode == 1
    assert "Traceback" not in err
    assert err.strip() == "Error: standard output is closed; redirect it (> FILE or > /dev/null)"


def test_batch_jsonl_on_stdout_escapes_c1_controls_and_bidi_overrides(tmp_path: Path) -> None:
    line = "AI Act fines \u009b31m red \u202e x"
    proc = run("batch", "-q", "-", input=(line + "\n").encode("utf-8"), cwd=tmp_path)
    out = proc.stdout.decode("utf-8")
    assert proc.returncode == 0
    assert "\u009b" not in out and "\u202e" not in out
    assert "\\u009b" in out and "\\u202e" in out
    assert jsonl(out)[0]["text"] == line  # lossless
    # A file keeps the data as it came.
    written = run("batch", "-q", "-", "-o", "o.jsonl", input=(line + "\n").encode(), cwd=tmp_path)
    assert written.returncode == 0
    assert line in (tmp_path / "o.jsonl").read_text("utf-8")


# -- CSV on stdout: escaped on a terminal, unchanged in a pipe --------------------------------

#: A cell and a header that would drive or hide things on a terminal: a C1 CSI (U+009B)
#: starting a colour, an ESC sequence setting the window title, an RTL override, an isolate,
#: a zero-width joiner and a tag character (beyond U+FFFF).
HOSTILE_CELL = "AI Act fines \u009b31m red \x1b]0;pwned\x07 \u202e x \u2066y\u200d \U000e0041"
HOSTILE_HEADER = "note\x1b[2J\u202e"


def hostile_csv(folder: Path) -> Path:
    src = folder / "in.csv"
    with src.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(
            [["text", HOSTILE_HEADER], [HOSTILE_CELL, "ok"]]
        )
    return src


def on_a_terminal(*args: str, cwd: Path) -> tuple[int, str]:
    """Run the console script with stdout and stderr on one pseudo-terminal, as a user at a
    terminal would; returns the exit code and everything the terminal received."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [str(BIN), *args], stdout=follower, stderr=follower, cwd=cwd,
        env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    os.close(follower)
    seen = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 120)
        if not ready:
            break
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the command is done
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    return proc.wait(timeout=60), seen.decode("utf-8")


def hidden(text: str) -> set[str]:
    """The characters in ``text`` that the terminal would act on or not show, but the line
    ends a terminal writes."""
    return {c for c in text.replace("\r\n", "") if not c.isprintable()}


@pytest.mark.slow  # starts the command in a process of its own
def test_batch_csv_on_a_terminal_escapes_c1_controls_bidi_and_invisible_characters(
    tmp_path: Path,
) -> None:
    src = hostile_csv(tmp_path)
    for jobs in ("1", "2"):
        code, seen = on_a_terminal("batch", str(src), "--output-format", "csv", "-j", jobs,
                                   cwd=tmp_path)  # fmt: skip
        assert code == 0, seen
        assert hidden(seen) == set()
        header, row = seen.splitlines()[:2]
        assert header.startswith("text,note\\u001b[2J\\u202e,unit,")
        assert row.startswith(
            "AI Act fines \\u009b31m red \\u001b]0;pwned\\u0007 \\u202e x \\u2066y\\u200d "
            "\\udb40\\udc41,ok,regulation_compliance,"
        )
        assert "ETA" not in seen  # no progress line drawn into the rows
        assert "1 rows in " in seen  # the summary, after them


@pytest.mark.slow  # starts the command in a process of its own
def test_batch_csv_to_a_pipe_or_file_keeps_the_bytes_unchanged(tmp_path: Path) -> None:
    src = hostile_csv(tmp_path)
    piped = run("batch", "-q", str(src), "--output-format", "csv", cwd=tmp_path)
    assert piped.returncode == 0, piped.stderr
    rows = list(csv.reader(io.StringIO(piped.stdout.decode("utf-8"), newline="")))
    assert rows[0][:2] == ["text", HOSTILE_HEADER]
    assert rows[1][:3] == [HOSTILE_CELL, "ok", "regulation_compliance"]
    written = run("batch", "-q", str(src), "-o", "out.csv", cwd=tmp_path)
    assert written.returncode == 0, written.stderr
    assert (tmp_path / "out.csv").read_bytes() == piped.stdout
