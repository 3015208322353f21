"""The ai-office command, driven through its real entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from router.cli import cli

BIN = Path(sys.executable).parent / "ai-office"


def run(*args: str, input: str | None = None, env: dict[str, str] | None = None):
    """Run the installed console script, as a user would."""
    return subprocess.run(
        [str(BIN), *args],
        input=input,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
        timeout=120,
    )


def test_console_script_ask_prints_unit_and_quote() -> None:
    result = run("ask", "who handles systemic-risk testing?")
    assert result.returncode == 0, result.stderr
    assert "AI Safety Unit" in result.stdout
    assert (
        "\u201cUnit on AI safety focusing on the identification of systemic risks" in result.stdout
    )
    assert "2024-05-29" in result.stdout
    assert result.stderr == ""


def test_python_dash_m_works_the_same() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "router", "ask", "--json", "GenAI4EU funding"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["unit"] == "excellence_ai_robotics"


def test_ask_json_has_the_documented_fields(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["ask", "--json", "qui sanctionne les infractions à l'AI Act ?"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) >= {
        "text",
        "decision",
        "unit",
        "unit_name",
        "confidence",
        "alternatives",
        "answer",
    }
    assert data["decision"] == "routed"
    assert data["unit"] == "regulation_compliance"
    assert data["unit_name"] == "Regulation and Compliance Unit"
    assert 0 <= data["confidence"] <= 1
    assert {"unit", "score"} == set(data["alternatives"][0])
    assert "Regulation and Compliance Unit that coordinates" in data["answer"]


def test_ask_json_out_of_scope_has_null_unit(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["ask", "--json", "how do I apply for a Schengen visa?"])
    data = json.loads(result.output)
    assert data["decision"] == "out_of_scope" and data["unit"] is None and data["unit_name"] is None


def test_ask_why_shows_evidence(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["ask", "--why", "sistemic risk evaluations of GPAI"])
    assert result.exit_code == 0
    assert "Top units:" in result.output and "Weighing words:" in result.output


def test_ask_empty_question_is_a_clear_error() -> None:
    result = run("ask", "   ")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "Error: the question is empty" in result.stderr


def test_ask_never_echoes_control_characters(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["ask", "--why", "GPAI \x1b[2J fines\x07 \x00?"])
    assert result.exit_code == 0
    assert (
        "\x1b" not in result.output and "\x07" not in result.output and "\x00" not in result.output
    )


def test_units_lists_every_mandate(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["units"])
    assert result.exit_code == 0
    for uid in ("regulation_compliance", "ai_safety", "about_office"):
        assert f"[{uid}]" in result.output
    assert "GenAI4EU initiative" in result.output
    data = json.loads(runner.invoke(cli, ["units", "--json"]).output)
    assert [u["id"] for u in data][:2] == ["regulation_compliance", "ai_safety"]


def test_eval_prints_metrics_and_confusion(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    rows = [
        {"text": "who fines GPAI providers?", "unit": "regulation_compliance"},
        {"text": "how do I renew my passport", "unit": "out_of_scope"},
        {"text": "EDIH in Portugal", "unit": "innovation_policy_coordination"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    result = runner.invoke(cli, ["eval", str(path)])
    assert result.exit_code == 0, result.output
    assert "accuracy" in result.output and "confusion matrix" in result.output
    data = json.loads(runner.invoke(cli, ["eval", "--json", str(path)]).output)
    assert data["n"] == 3 and data["accuracy"] == 1.0 and data["oos_recall"] == 1.0
    assert data["confusion"]["out_of_scope"] == {"out_of_scope": 1}


def test_eval_csv_and_yaml(runner: CliRunner, tmp_path: Path) -> None:
    csv_path = tmp_path / "l.csv"
    csv_path.write_text('text,unit\n"red teaming frontier models",ai_safety\n', encoding="utf-8")
    assert json.loads(runner.invoke(cli, ["eval", "--json", str(csv_path)]).output)["n"] == 1
    yaml_path = tmp_path / "l.yaml"
    yaml_path.write_text("- {text: 'who leads the AI Office?', unit: about_office}\n", "utf-8")
    assert json.loads(runner.invoke(cli, ["eval", "--json", str(yaml_path)]).output)["n"] == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"text": "x"}\n', "line 1: each record needs non-empty 'text' and 'unit'"),
        (
            '{"text": "y", "unit": "ai_safety"}\n{"text": "x", "unit": "nobody"}\n',
            "bad.jsonl, line 2: unknown unit 'nobody'",
        ),
        ("{not json\n", "line 1: invalid JSON"),
        ('{"text": "x", "unit": "ai_safety", "topic": "nope"}\n', "line 1: unknown topic 'nope'"),
    ],
)
def test_eval_bad_files_fail_with_exit_1(
    runner: CliRunner, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    result = runner.invoke(cli, ["eval", str(path)])
    assert result.exit_code == 1
    assert message in result.output


def test_eval_matrix_fits_100_columns_with_a_legend(runner: CliRunner) -> None:
    dev = Path(__file__).parent / "data" / "dev.yaml"
    out = runner.invoke(cli, ["eval", "--errors", str(dev)]).output
    assert max(len(line) for line in out.splitlines()) <= 100
    matrix = out.split("confusion matrix", 1)[1].split("misrouted:")[0]
    assert max(len(line) for line in matrix.splitlines()) <= 100
    assert "RC = regulation_compliance" in matrix and "OOS = out_of_scope" in matrix
    long = [line for line in out.split("misrouted:")[1].splitlines() if line.endswith("\u2026")]
    assert long, "a long question is cut with an ellipsis"


def test_bad_pack_is_exit_1_naming_file_and_line(runner: CliRunner, pack_copy: Path) -> None:
    units = pack_copy / "corpus/units.yaml"
    units.write_text(units.read_text("utf-8") + "  - id: [unclosed\n", encoding="utf-8")
    result = runner.invoke(cli, ["ask", "--pack", str(pack_copy), "hello"])
    assert result.exit_code == 1
    assert "units.yaml, line" in result.output and "invalid YAML" in result.output


def test_usage_errors_exit_2(runner: CliRunner) -> None:
    assert runner.invoke(cli, ["ask"]).exit_code == 2
    assert runner.invoke(cli, ["nonsense"]).exit_code == 2


def test_every_command_has_help(runner: CliRunner) -> None:
    for name, command in cli.commands.items():
        assert command.help, f"{name} has no help"
        result = runner.invoke(cli, [name, "-h"])
        assert result.exit_code == 0 and "Usage:" in result.output


def test_version(runner: CliRunner) -> None:
    from router import __version__

    assert __version__ in runner.invoke(cli, ["--version"]).output


def test_calibrate_check_reports_current(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["calibrate", "--check"])
    assert result.exit_code == 0 and "current" in result.output


def test_calibrate_writes_the_pack_file(runner: CliRunner, make_pack) -> None:
    root = make_pack()
    result = runner.invoke(cli, ["calibrate", "--pack", str(root), "--folds", "3"])
    assert result.exit_code == 0, result.output
    stored = (root / "intents/calibration.yaml").read_text("utf-8")
    assert "fingerprint" in stored and "floor" in stored
    assert runner.invoke(cli, ["calibrate", "--check", "--pack", str(root)]).exit_code == 0


def test_broken_pipe_is_quiet() -> None:
    proc = subprocess.run(
        f"'{BIN}' units | head -c 10",
        shell=True,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=120,
    )
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr


def test_ask_json_why_includes_the_evidence(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["ask", "--json", "--why", "sistemic risk evaluations of GPAI"])
    data = json.loads(result.output)
    assert data["evidence"]["model_scores"]["ai_safety"] > 0.5
    assert data["evidence"]["weighing_terms"]
    assert "evidence" not in json.loads(runner.invoke(cli, ["ask", "--json", "GPAI"]).output)


def test_batch_to_an_unknown_suffix_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    source = tmp_path / "q.txt"
    source.write_text("who fines GPAI providers?\n", encoding="utf-8")
    result = runner.invoke(cli, ["batch", str(source), "-o", str(tmp_path / "out.xlsx")])
    assert result.exit_code == 2
    assert "--output-format" in result.output
    assert not (tmp_path / "out.xlsx").exists()
    ok = runner.invoke(
        cli,
        ["batch", str(source), "-q", "-o", str(tmp_path / "out.xlsx"), "--output-format", "csv"],
    )
    assert ok.exit_code == 0
    assert (tmp_path / "out.xlsx").read_text(encoding="utf-8").startswith("text,unit,")


def test_batch_output_honours_the_umask(runner: CliRunner, tmp_path: Path) -> None:
    source = tmp_path / "q.txt"
    source.write_text("who fines GPAI providers?\n", encoding="utf-8")
    old = os.umask(0o022)
    try:
        assert (
            runner.invoke(
                cli, ["batch", str(source), "-q", "-o", str(tmp_path / "o.csv")]
            ).exit_code
            == 0
        )
    finally:
        os.umask(old)
    assert (tmp_path / "o.csv").stat().st_mode & 0o777 == 0o644


def test_a_stale_pack_warns_in_one_line_naming_the_command(runner: CliRunner, make_pack) -> None:
    # A tiny pack, calibrated and then edited: the same stale-pack path as the bundled
    # pack's, without refitting a large pack (the slowest step of the suite otherwise).
    root = make_pack()
    assert runner.invoke(cli, ["calibrate", "--pack", str(root), "--folds", "3"]).exit_code == 0
    path = root / "intents/billing.yaml"
    path.write_text(path.read_text("utf-8") + "  - where do I see my refund\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "router", "ask", "--pack", str(root), "refund please"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Warning: the calibration in ")
    assert f"'ai-office calibrate --pack {root}'" in lines[0]


# -- output cannot drive the terminal -----------------------------------------------------

#: What used to survive cleaning: the Arabic letter mark, invisible operators and joiners,
#: tag characters, C1 controls, and an escape sequence.
HIDDEN = ("\u061c", "\u2060", "\u2064", "\U000e0041", "\U000e007f", "\x9b", "\x1b", "\u202e")


def _raw_controls(text: str) -> list[str]:
    return [c for c in HIDDEN if c in text]


def test_ask_why_and_json_show_no_bidi_or_invisible_characters(runner: CliRunner) -> None:
    question = "who fines\u061c GPAI\u2060 providers\U000e0041\U000e007f \x9b2J?"
    why = runner.invoke(cli, ["ask", "--why", question])
    assert why.exit_code == 0
    assert "Question: who fines GPAI providers 2J?" in why.output
    assert _raw_controls(why.output) == []
    as_json = runner.invoke(cli, ["ask", "--json", "--why", question])
    assert as_json.exit_code == 0 and _raw_controls(as_json.output) == []
    assert json.loads(as_json.output)["text"] == "who fines GPAI providers 2J?"


HOSTILE_NAME = "Billing\x1b]0;owned\x07 Desk\u202e\u2066\x1b[2J"


def test_hostile_pack_wording_is_escaped_in_json_and_dropped_on_screen(make_pack) -> None:
    # A unit name from a pack goes to the screen (units, ask) and into JSON: the screen
    # gets none of its escapes, JSON gets them as \\u escapes and loses nothing.
    from conftest import TINY_UNITS

    named = TINY_UNITS.replace("name: Billing Desk", f"name: {json.dumps(HOSTILE_NAME)}")
    root = make_pack({"corpus/units.yaml": named})
    runner = CliRunner()
    shown = runner.invoke(cli, ["units", "--pack", str(root)])
    assert shown.exit_code == 0, shown.output
    assert _raw_controls(shown.output) == [] and "Billing ]0;owned  Desk [2J" in shown.output
    listed = runner.invoke(cli, ["units", "--json", "--pack", str(root)])
    assert _raw_controls(listed.output) == [] and "\\u001b]0;owned\\u0007" in listed.output
    assert json.loads(listed.output)[0]["name"] == HOSTILE_NAME
    answer = runner.invoke(cli, ["ask", "--pack", str(root), "where is my invoice"])
    assert answer.exit_code == 0, answer.output
    assert _raw_controls(answer.output) == [] and "Billing ]0;owned  Desk [2J" in answer.output
    as_json = runner.invoke(cli, ["ask", "--json", "--pack", str(root), "where is my invoice"])
    assert _raw_controls(as_json.output) == []
    assert json.loads(as_json.output)["unit_name"] == HOSTILE_NAME


def test_error_messages_do_not_echo_escape_sequences_in_file_names(
    runner: CliRunner, tmp_path: Path
) -> None:
    name = tmp_path / "inquiries\x1b[2J\u202e.yaml"
    result = runner.invoke(cli, ["eval", str(name)])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and _raw_controls(result.output) == []
    assert "inquiries [2J.yaml" in result.output


def test_ask_with_only_combining_marks_gives_one_clean_reply() -> None:
    # Was a traceback: "max() arg is an empty sequence" once the marks were dropped.
    result = run("ask", "\u0301\u0302\u0303")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "does not appear to be one for the EU AI Office" in result.stdout
    assert "(note: the question has no words to route on)" in result.stdout


@pytest.mark.parametrize(
    "command",
    [["ask", "who fines GPAI providers?"], ["ask", "--json", "AI Act"], ["units"], ["--help"],
     ["law", "Article 5"], ["chat"]],
)  # fmt: skip
def test_stdout_on_a_full_device_is_one_error_line_not_a_traceback(command: list[str]) -> None:
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [str(BIN), *command],
            input="who fines GPAI providers?\n",
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "NO_COLOR": "1"},
            timeout=120,
        )
    assert proc.returncode == 1
    assert proc.stderr == (
        "Error: cannot write standard output: No space left on device; free some space or "
        "send the output elsewhere\n"
    )


def test_more_jobs_than_four_per_core_is_a_usage_error(tmp_path: Path) -> None:
    # --jobs 10000 started thousands of processes, deaf to SIGTERM while they started.
    (tmp_path / "in.txt").write_text("AI Act fines\n", encoding="utf-8")
    too_many = 4 * (os.cpu_count() or 1) + 1
    result = CliRunner().invoke(cli, ["batch", str(tmp_path / "in.txt"), "-j", str(too_many)])
    assert result.exit_code == 2
    assert f"{too_many} is more than 4 per CPU core ({os.cpu_count()} here)" in result.output
    assert f"at most {too_many - 1}" in result.output
