"""`ai-office chat` through its real entry point: line mode on pipes, the REPL on a terminal."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pexpect
import pytest

from router.wrap import strip_ansi, visible_width

QUESTION = "who fines GPAI providers?"
# The entry point as installed; `python -m router` where the script is not on PATH.
COMMAND = [shutil.which("ai-office") or sys.executable] + (
    [] if shutil.which("ai-office") else ["-m", "router"]
)


def run_chat(
    args: list[str], stdin: bytes, tmp_path: Path, **env: str
) -> subprocess.CompletedProcess[bytes]:
    environ = {**os.environ, "AI_OFFICE_HISTORY": str(tmp_path / "history"), **env}
    environ.pop("AI_OFFICE_PACK", None)
    return subprocess.run(
        [*COMMAND, "chat", *args], input=stdin, capture_output=True, env=environ, timeout=120
    )


def test_piped_questions_one_answer_each(tmp_path: Path) -> None:
    stdin = f"{QUESTION}\n\nwhat is the weather in Paris?\n".encode()
    result = run_chat([], stdin, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == b""
    out = result.stdout.decode()
    answers = out.split("\n\n> ")
    assert len(answers) == 2
    assert answers[0].startswith(f"> {QUESTION}\n")
    assert "\n\u2192 Regulation and Compliance Unit (" in answers[0]
    assert "\u2502 \u201cRegulation and Compliance Unit that coordinates" in answers[0]
    assert answers[1].startswith("what is the weather in Paris?\nThis question does not appear")
    assert "\x1b" not in out  # not a terminal: no colour, no prompt
    assert "ai-office>" not in out
    assert not (tmp_path / "history").exists()  # line mode keeps no history


def test_piped_json_one_object_per_line(tmp_path: Path) -> None:
    stdin = f"{QUESTION}\n\n  \nsistemic risk\nQu'est-ce que l'AI Office ?\n".encode()
    result = run_chat(["--json"], stdin, tmp_path)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [(r["decision"], r["unit"]) for r in rows] == [
        ("routed", "regulation_compliance"),
        ("routed", "ai_safety"),
        ("routed", "about_office"),
    ]
    assert rows[0]["text"] == QUESTION
    assert "\u201cRegulation and Compliance Unit that coordinates" in rows[0]["answer"]


def test_piped_hostile_bytes_are_cleaned(tmp_path: Path) -> None:
    stdin = b"who fines \x1b[2J\x07GPAI \xff\xfe providers?\n"
    result = run_chat(["--json"], stdin, tmp_path)
    assert result.returncode == 0, result.stderr
    row = json.loads(result.stdout)
    assert row["unit"] == "regulation_compliance"
    assert "\x1b" not in row["text"] and "\x07" not in row["text"]
    assert "\ufffd" in row["text"]  # undecodable bytes are shown, not dropped or crashed on


def test_other_pack_and_bad_pack(tmp_path: Path, make_pack: Callable[..., Path]) -> None:
    pack = make_pack()
    result = run_chat(["--json", "--pack", str(pack)], b"I want a refund\n", tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["unit"] == "billing"

    broken = make_pack({"corpus/units.yaml": "units: 3\n"})
    result = run_chat(["--pack", str(broken)], b"hello\n", tmp_path)
    assert result.returncode == 1
    assert result.stdout == b""
    assert result.stderr.startswith(b"Error: ")


def test_chat_help(tmp_path: Path) -> None:
    result = run_chat(["-h"], b"", tmp_path)
    assert result.returncode == 0
    out = result.stdout.decode()
    for option in ("-q, --quiet", "--json", "--pack"):
        assert option in out


def spawn_chat(
    tmp_path: Path, *args: str, dimensions: tuple[int, int] = (40, 100), **env: str
) -> pexpect.spawn:
    environ = {**os.environ, "TERM": "dumb", "AI_OFFICE_HISTORY": str(tmp_path / "history")}
    for name in ("NO_COLOR", "AI_OFFICE_PACK", "COLUMNS", "LINES"):  # the window's size rules
        environ.pop(name, None)
    # The greeting follows the locale: English unless a test asks for another.
    for name in ("LC_ALL", "LC_MESSAGES"):
        environ.pop(name, None)
    environ["LANG"] = "C.UTF-8"
    environ.update(env)
    return pexpect.spawn(
        COMMAND[0],
        [*COMMAND[1:], "chat", *args],
        env=environ,
        encoding="utf-8",
        timeout=60,
        dimensions=dimensions,
    )


def test_terminal_session_question_and_quit(tmp_path: Path) -> None:
    child = spawn_chat(tmp_path, NO_COLOR="1")
    child.expect_exact("Type /help for commands")
    child.expect_exact("ai-office> ")
    child.sendline(QUESTION)
    child.expect_exact("\u2192 Regulation and Compliance Unit (high confidence")
    child.expect_exact("\u2502 \u201cRegulation and Compliance Unit that coordinates")
    child.expect_exact("ai-office> ")
    answer = child.before
    quote = " ".join(line.strip(" \u2502\r") for line in answer.splitlines())
    assert "possible infringements, administering sanctions\u201d" in quote
    assert "\u2014 European Commission" in answer
    assert "\x1b[" not in answer  # NO_COLOR: no styling in the answer
    child.sendline("/quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert QUESTION in (tmp_path / "history").read_text(encoding="utf-8")


def test_terminal_session_in_french(tmp_path: Path) -> None:
    child = spawn_chat(tmp_path, NO_COLOR="1", LANG="fr_FR.UTF-8")
    child.expect_exact("Tapez /help pour les commandes, Ctrl-D pour quitter.")
    child.expect_exact("ai-office> ")
    child.sendline("Qui sanctionne les entreprises qui ne respectent pas les règles sur l'IA ?")
    child.expect_exact("Cette question relève du Bureau européen de l'IA")
    child.expect_exact("\u2192 Regulation and Compliance Unit (confiance")
    child.expect_exact("(cité en anglais)")  # the mandate is quoted in English, and says so
    child.expect_exact("ai-office> ")
    child.sendline("/hlep")
    child.expect_exact("Commande inconnue : /hlep. Vouliez-vous dire /help ?")
    child.expect_exact("ai-office> ")
    child.sendline("/quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_terminal_session_colour_quiet_and_ctrl_d(tmp_path: Path) -> None:
    child = spawn_chat(tmp_path, "-q")
    child.expect_exact("ai-office> ")
    assert "Type /help" not in child.before  # -q: no greeting
    child.sendline("who handles sistemic risk?")
    child.expect_exact("AI Safety Unit")
    child.expect_exact("ai-office> ")
    assert "\x1b[3m" in child.before  # the quote is styled (italic) on a terminal
    # The pty is in cooked mode until prompt-toolkit has drawn the prompt and switched it
    # to raw; a Ctrl-D sent earlier would be eaten by the line discipline, not the chat.
    time.sleep(0.5)
    child.send("\x04")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert child.before.strip() == ""  # Ctrl-D leaves without a word


def test_terminal_unwritable_history_warns_once(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("", encoding="utf-8")
    child = spawn_chat(tmp_path, "-q", AI_OFFICE_HISTORY=str(blocker / "history"), NO_COLOR="1")
    child.expect_exact("ai-office> ")
    assert child.before.count("warning: cannot write the history file") == 1
    child.sendline("/units")
    child.expect_exact("The AI Office  [about_office]")
    child.expect_exact("ai-office> ")
    child.sendline("exit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


@pytest.mark.slow
@pytest.mark.parametrize("columns", [60, 120])
def test_terminal_session_fits_the_window(tmp_path: Path, columns: int) -> None:
    child = spawn_chat(tmp_path, dimensions=(40, columns), NO_COLOR="1")
    child.expect_exact("Ctrl-D to quit.")
    child.expect_exact("ai-office> ")
    shown = child.before
    child.sendline(QUESTION)
    child.expect_exact("\u2192 Regulation and Compliance Unit (high confidence")
    child.expect_exact("ai-office> ")
    answer = child.before
    child.sendline("/help")
    child.expect_exact("Ctrl-D quits.")
    child.expect_exact("ai-office> ")
    shown += answer + child.before
    child.sendline("/quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0

    assert "\u2502 \u201cRegulation and Compliance Unit that coordinates" in answer
    rows = [strip_ansi(row.rstrip("\r")) for row in shown.split("\n")]
    rows = [row for row in rows if "ai-office> " not in row]  # the prompt and what was typed
    # Answers follow the window up to 100 columns; only a URL too long for it overflows.
    width = min(columns, 100)
    too_wide = [r for r in rows if visible_width(r) > width and " " in r.strip()]
    assert too_wide == []
    assert max(visible_width(r) for r in rows if " " in r.strip()) > width - 10


def test_piped_chat_echo_and_json_carry_no_bidi_or_invisible_characters(tmp_path: Path) -> None:
    hidden = ("\u061c", "\u2060", "\U000e0041", "\x9b", "\x1b", "\u202e", "\u2066")
    question = "who fines\u061c GPAI\u2060 providers\U000e0041 \u202e\u2066\x9b2J?"
    result = run_chat([], f"{question}\n".encode(), tmp_path)
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr
    assert out.startswith("> who fines GPAI providers 2J?\n")
    assert [c for c in hidden if c in out] == []
    as_json = run_chat(["--json"], f"{question}\n".encode(), tmp_path).stdout.decode()
    assert [c for c in hidden if c in as_json] == []
    assert json.loads(as_json)["text"] == "who fines GPAI providers 2J?"
