"""Benchmark ``ai-office chat``: time to the first prompt, to the first answer, per answer.

Run from the repository root (re-runnable; overwrites the results file):

    python benchmarks/bench_chat.py [--starts 5] [--write benchmarks/results/chat.md]

- First prompt: ``ai-office chat -q`` spawned in a real pseudo-terminal (pexpect), from
  spawn until ``ai-office>`` is on screen; with TERM=xterm-256color (the full prompt-toolkit
  application) and TERM=dumb (its simple line prompt).
- First answer: the same, typing a question as soon as the prompt shows, until the quoted
  mandate is on screen. It includes waiting for the router's fit, which starts in the
  background once the prompt is drawn; a person typing the question hides part of it.
- Per answer: in-process, ``Chat.handle`` (route + render) on every development-set
  question after one warm-up pass, and over the pty (line sent to the next prompt) for a
  few questions. Medians, with the 95th percentile where there are enough samples.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pexpect
import yaml
from machine import machine as describe_machine

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "chat.md"
QUESTIONS = [
    "who fines GPAI providers?",
    "who handles sistemic risk testing?",
    "Qui finance la recherche en robotique ?",
    "what is the weather in Paris?",
    "What does the AI Office do?",
]


def command() -> list[str]:
    script = shutil.which("ai-office")
    return [script] if script else [sys.executable, "-m", "router"]


def spawn(term: str, history: Path) -> pexpect.spawn:
    env = {**os.environ, "TERM": term, "AI_OFFICE_HISTORY": str(history), "NO_COLOR": "1"}
    env.pop("AI_OFFICE_PACK", None)
    cmd = command()
    return pexpect.spawn(cmd[0], [*cmd[1:], "chat", "-q"], env=env, encoding="utf-8", timeout=120)


def finish(child: pexpect.spawn) -> None:
    time.sleep(0.3)  # let prompt-toolkit put the pty in raw mode so Ctrl-D reaches it
    child.send("\x04")
    child.expect(pexpect.EOF)
    child.close()


def first_prompt(term: str, history: Path) -> float:
    start = time.perf_counter()
    child = spawn(term, history)
    child.expect_exact("ai-office>")
    elapsed = time.perf_counter() - start
    finish(child)
    return elapsed


def import_floor() -> float:
    """Starting Python and importing the chat's modules, before anything is drawn."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import router.cli, router.repl"], check=True)
    return time.perf_counter() - start


def first_answer(term: str, history: Path) -> float:
    start = time.perf_counter()
    child = spawn(term, history)
    child.expect_exact("ai-office>")
    child.sendline(QUESTIONS[0])
    child.expect_exact("\u2502 \u201cRegulation and Compliance Unit")
    elapsed = time.perf_counter() - start
    finish(child)
    return elapsed


def pty_answers(history: Path) -> list[float]:
    child = spawn("dumb", history)
    child.delaybeforesend = None  # pexpect's default 50 ms pause would count as latency
    child.expect_exact("ai-office> ")
    child.sendline(QUESTIONS[0])  # waits for the fit; not timed
    child.expect_exact("ai-office> ")
    times = []
    for question in QUESTIONS * 4:
        start = time.perf_counter()
        child.sendline(question)
        child.expect_exact("ai-office> ")
        times.append(time.perf_counter() - start)
    finish(child)
    return times


def in_process_answers() -> tuple[list[float], float]:
    from router.repl import Chat, RouterLoader
    from router.routing import Router

    start = time.perf_counter()
    router = Router.load()
    fit = time.perf_counter() - start
    data = yaml.safe_load((REPO / "tests" / "data" / "dev.yaml").read_text(encoding="utf-8"))
    items = data if isinstance(data, list) else next(iter(data.values()))
    texts = [item["text"] for item in items]
    chat = Chat(router.pack_, RouterLoader.ready(router), width=88)
    for text in texts[:20]:
        chat.handle(text)
    times = []
    for text in texts:
        start = time.perf_counter()
        chat.handle(text)
        chat.pending = None  # each question on its own, not as a reply to a question back
        times.append(time.perf_counter() - start)
    return times, fit


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.1f} ms"


def p95(values: list[float]) -> str:
    return f"{sorted(values)[int(0.95 * (len(values) - 1))] * 1000:.1f} ms"


def machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{describe_machine()}; load average at start {load:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=5, help="cold starts per measurement")
    parser.add_argument("--write", type=Path, default=RESULTS, help="results file")
    args = parser.parse_args()
    where = machine()
    with tempfile.TemporaryDirectory() as tmp:
        history = Path(tmp) / "history"
        prompt_xterm = [first_prompt("xterm-256color", history) for _ in range(args.starts)]
        floor = [import_floor() for _ in range(args.starts)]
        prompt_dumb = [first_prompt("dumb", history) for _ in range(args.starts)]
        answer_first = [first_answer("xterm-256color", history) for _ in range(args.starts)]
        over_pty = pty_answers(history)
    in_process, fit = in_process_answers()
    rows = [
        ("first prompt, TERM=xterm-256color", ms(prompt_xterm), "", "1.5 s", args.starts),
        ("first prompt, TERM=dumb", ms(prompt_dumb), "", "1.5 s", args.starts),
        ("python + import router.cli, router.repl", ms(floor), "", "", args.starts),
        ("first answer from start (incl. fit)", ms(answer_first), "", "", args.starts),
        (
            "answer, in-process (route + render)",
            ms(in_process),
            p95(in_process),
            "50 ms",
            len(in_process),
        ),
        (
            "answer over the pty (line to next prompt)",
            ms(over_pty),
            p95(over_pty),
            "50 ms",
            len(over_pty),
        ),
        ("router fit alone, in-process", f"{fit * 1000:.0f} ms", "", "", 1),
    ]
    today = dt.date.today().isoformat()
    lines = [
        "# `ai-office chat` speed",
        "",
        f"Measured {today} with `python benchmarks/bench_chat.py --starts {args.starts}`.",
        "",
        f"Machine: {where}. The machine is shared; figures are medians.",
        "",
        "| measurement | median | p95 | target | samples |",
        "|---|---|---|---|---|",
        *[f"| {a} | {b} | {c} | {d} | {e} |" for a, b, c, d, e in rows],
        "",
        "The prompt appears before the router is fitted: fitting starts in a background",
        "thread once the first prompt is drawn (it holds the GIL much of the time, so starting",
        "it earlier slows the prompt down). The first answer waits for the fit if the question",
        "comes sooner; later answers are route + render only. The router loads its stored",
        "model (intents/model.npz) without importing scikit-learn.",
        "",
    ]
    args.write.parent.mkdir(parents=True, exist_ok=True)
    args.write.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
