"""Two commits side by side: the core, chat and batch speed of a baseline and of this tree.

Run from the repository root (re-runnable; a Markdown report is written):

    python benchmarks/compare.py --baseline f629250 [--against REF] [--rounds 3]
        [--rows 100000] [--write benchmarks/results/compare.md]

Why a separate script: a refactor must show "no slowdown beyond noise", and on a shared
two-core machine two runs of the same code made minutes apart differ by more than that. So
both trees are measured in the same command, in fresh processes, *interleaved* (baseline,
this tree, this tree, baseline, ...), and the report gives each measure's median per tree
and their ratio. The baseline is checked out with ``git worktree add --detach`` into a
temporary folder and imported through ``PYTHONPATH`` (ahead of the editable install), with
the same virtual environment (``--against REF`` checks out a second commit the same way
instead of measuring this working tree). Both trees route with the *same* pack: the
editable install serves ``router.corpus`` and ``router.intents`` from this checkout to any
``router`` package, so the comparison is of code on the same data (what a refactor needs).
An older tree must be able to read today's pack for that.

Measures (each a median over rounds, each round a fresh process):

- core: the measures of ``benchmarks/bench_core.py --speed-json`` (that tree's own script):
  ``route()`` latency, ``route_many`` on a log with repeats, on distinct texts with and
  without evidence; and a cold ``ai-office ask`` (spawn to exit);
- chat: time to the first prompt of ``ai-office chat -q`` in a pseudo-terminal
  (TERM=dumb), and ``Chat.handle`` (route and render) per dev-set question in-process;
- batch: ``ai-office batch`` on a generated CSV log (``bench_batch.generate``), single
  process and ``--jobs 2``: wall-clock rows/s and CPU seconds of the command.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import pexpect

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_batch import generate
from machine import machine

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "compare.md"

#: Chat.handle per question, in the tree's own process (its own Chat and Router): the
#: measure of ``bench_chat.in_process_answers``, imported from this checkout's benchmarks.
CHAT_SNIPPET = (
    f"import json, sys; sys.path.insert(0, {str(Path(__file__).resolve().parent)!r}); "
    "from bench_chat import in_process_answers; "
    "print(json.dumps(in_process_answers()[0]))"
)


def env_for(tree: Path) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(tree), "NO_COLOR": "1"}
    env.pop("AI_OFFICE_PACK", None)
    return env


def core(tree: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "benchmarks/bench_core.py", "--speed-json"],
        cwd=tree, env=env_for(tree), check=True, capture_output=True, text=True,
    ).stdout
    speed = json.loads(out)
    return {
        "route() latency, median (ms)": statistics.median(speed["latencies"]),
        "route_many, log with repeats (q/s)": statistics.median(speed["rates"]),
        "route_many, distinct, with evidence (q/s)": statistics.median(
            speed["distinct_with_evidence"]
        ),
        "route_many, distinct, explain=False (q/s)": statistics.median(speed["distinct_bulk"]),
    }


def cold_ask(tree: Path) -> dict[str, float]:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "router", "ask", "who fines GPAI providers?"],
        cwd=tree, env=env_for(tree), check=True, capture_output=True,
    )
    return {"cold `ai-office ask` (s)": time.perf_counter() - start}


def chat(tree: Path, history: Path) -> dict[str, float]:
    env = {**env_for(tree), "TERM": "dumb", "AI_OFFICE_HISTORY": str(history)}
    start = time.perf_counter()
    child = pexpect.spawn(
        sys.executable, ["-m", "router", "chat", "-q"], cwd=str(tree), env=env,
        encoding="utf-8", timeout=120,
    )
    child.expect_exact("ai-office>")
    first_prompt = time.perf_counter() - start
    time.sleep(0.3)  # let prompt-toolkit put the pty in raw mode so Ctrl-D reaches it
    child.send("\x04")
    child.expect(pexpect.EOF)
    child.close()
    out = subprocess.run(
        [sys.executable, "-c", CHAT_SNIPPET],
        cwd=tree, env=env_for(tree), check=True, capture_output=True, text=True,
    ).stdout
    return {
        "chat: first prompt, TERM=dumb (s)": first_prompt,
        "chat: Chat.handle per question, median (ms)": 1000
        * statistics.median(json.loads(out)),
    }


def batch(tree: Path, log: Path, rows: int, jobs: int) -> dict[str, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "router", "batch", str(log), "-o", f"{tmp}/out.jsonl",
             "--jobs", str(jobs)],
            cwd=tree, env=env_for(tree), check=True, capture_output=True,
        )
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        f"batch --jobs {jobs}: rows/s, wall clock": rows / seconds,
        f"batch --jobs {jobs}: CPU s per 100k rows": cpu * 100_000 / rows,
    }


def commit_of(ref: str) -> str:
    return subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", ref],
        check=True, capture_output=True, text=True,
    ).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="commit or ref to compare with")
    parser.add_argument("--against", help="commit to measure instead of this working tree")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--write", type=Path, default=RESULTS)
    args = parser.parse_args()

    baseline = commit_of(args.baseline)
    head = commit_of(args.against or "HEAD")
    dirty = "" if args.against else subprocess.run(
        ["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True, text=True,
    ).stdout.strip()
    results: dict[str, dict[str, list[float]]] = {
        "baseline": defaultdict(list), "this tree": defaultdict(list)
    }
    loads: list[float] = []
    started = dt.datetime.now(dt.UTC)
    with tempfile.TemporaryDirectory() as tmp:
        old, new = Path(tmp) / "baseline", Path(tmp) / "against"
        checked_out = [(old, baseline)] + ([(new, head)] if args.against else [])
        for folder, commit in checked_out:
            subprocess.run(
                ["git", "-C", str(REPO), "worktree", "add", "-q", "--detach", str(folder), commit],
                check=True,
            )
        try:
            log = Path(tmp) / "log.csv"
            generate(log, args.rows)
            trees = {"baseline": old, "this tree": new if args.against else REPO}
            for round_ in range(args.rounds):
                # Alternate who goes first, so that a slow stretch of the machine falls on
                # both trees alike.
                order = list(trees) if round_ % 2 == 0 else list(reversed(trees))
                for name in order:
                    tree = trees[name]
                    loads.append(os.getloadavg()[0])
                    measured = {
                        **core(tree),
                        **cold_ask(tree),
                        **chat(tree, Path(tmp) / f"history-{name}"),
                        **batch(tree, log, args.rows, 1),
                        **batch(tree, log, args.rows, 2),
                    }
                    for key, value in measured.items():
                        results[name][key].append(value)
                    print(f"round {round_ + 1}, {name}: done", file=sys.stderr)
        finally:
            for folder, _commit in checked_out:
                subprocess.run(
                    ["git", "-C", str(REPO), "worktree", "remove", "--force", str(folder)],
                    check=False,
                )

    lines = [
        "# Baseline and this tree, side by side",
        "",
        f"- date: {started:%Y-%m-%d %H:%M} UTC",
        f"- machine: {machine()}",
        f"- load average (1 min) at each measurement: {min(loads):.2f}-{max(loads):.2f}",
        f"- command: `python benchmarks/compare.py --baseline {args.baseline} "
        f"{' --against ' + args.against if args.against else ''} "
        f"--rounds {args.rounds} --rows {args.rows}`",
        f"- baseline: {baseline}; this tree: {head}{' with uncommitted changes' if dirty else ''}",
        f"- {args.rounds} rounds, interleaved; each figure is the median over rounds; the "
        "ratio is this tree / baseline (above 1 is faster for rates, slower for times).",
        "",
        f"| measure | baseline ({baseline}) | {head} | ratio | rounds |",
        "|---|---:|---:|---:|---:|",
    ]
    for key in results["baseline"]:
        before = statistics.median(results["baseline"][key])
        after = statistics.median(results["this tree"][key])
        lines.append(
            f"| {key} | {before:,.3f} | {after:,.3f} | {after / before:.2f}x | "
            f"{len(results['baseline'][key])} |"
        )
    args.write.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
