"""Benchmark ``ai-office batch``: rows/s and peak memory on generated inquiry logs.

Generates CSV logs of 100,000 and 1,000,000 rows in a temporary folder from varied,
realistic texts (the pack's training utterances and the development set, in five
languages, wrapped in greetings, signatures, ticket numbers and typos, with 1% bad rows),
then runs the real command single-process, with ``--jobs 2`` and on the Dask engine, and
writes the figures to ``benchmarks/results/batch.md``.

    python benchmarks/bench_batch.py                     # both sizes, all three engines
    python benchmarks/bench_batch.py --sizes 100000      # a quick run

Peak memory is measured two ways: the largest resident set of any one process of the run
(``getrusage`` of the children), and the peak of the proportional set size (PSS, which
splits pages shared after fork fairly) summed over the whole process tree, sampled every
0.1 s from /proc. The second is what the machine actually had to hold.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml
from machine import machine

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "batch.md"

GREETINGS = [
    "",
    "",
    "Hello, ",
    "Hi team, ",
    "Dear AI Office, ",
    "Good morning. ",
    "Bonjour, ",
    "Guten Tag, ",
    "Buongiorno, ",
    "Hola, ",
    "Quick question: ",
    "RE: your reply of last week. ",
]
SIGN_OFFS = [
    "",
    "",
    " Thanks in advance.",
    " Best regards, {name}",
    " Kind regards, {name} ({org})",
    " Merci d'avance, {name}",
    " Mit freundlichen Grüßen, {name}",
    " Cordiali saluti, {name}",
    " Saludos, {name}",
    " Ticket #{ticket}",
    " Sent from my phone",
]
NAMES = ["Anna", "Marek", "Sofia", "Jean-Luc", "Ingrid", "Pablo", "Giulia", "Tomás", "Eva"]
ORGS = ["Acme GmbH", "Univ. of Ghent", "city of Lyon", "a start-up", "ministry", "an SME"]
CHANNELS = ["email", "web-form", "chat", "phone-note"]


def source_texts() -> list[str]:
    """The pack's training utterances and the development set's questions."""
    from router.pack import load_pack

    texts, _labels = load_pack().training_data()
    dev = yaml.safe_load((REPO / "tests" / "data" / "dev.yaml").read_text(encoding="utf-8"))
    return [*texts, *(item["text"] for item in dev)]


def typo(text: str, rng: random.Random) -> str:
    """Swap two neighbouring letters of one word, as people do."""
    words = text.split()
    i = rng.randrange(len(words))
    w = words[i]
    if len(w) > 3:
        j = rng.randrange(len(w) - 1)
        words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    return " ".join(words)


def generate(path: Path, rows: int, *, seed: int = 7) -> float:
    """Write a CSV log of ``rows`` inquiries; returns the share of distinct texts."""
    rng = random.Random(seed)
    base = source_texts()
    seen: set[int] = set()
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "received", "channel", "message"])
        start = dt.datetime(2024, 6, 1)
        for i in range(rows):
            when = (start + dt.timedelta(seconds=37 * i)).isoformat(timespec="seconds")
            roll = rng.random()
            if roll < 0.005:
                text = ""  # an empty web-form submission
            elif roll < 0.01:
                text = "   \t "
            else:
                body = rng.choice(base)
                if rng.random() < 0.3:
                    body = typo(body, rng)
                if rng.random() < 0.15:
                    body = body + " " + rng.choice(base)  # two questions in one mail
                if rng.random() < 0.1:
                    body = body.lower()
                sign = rng.choice(SIGN_OFFS).format(
                    name=rng.choice(NAMES), org=rng.choice(ORGS), ticket=rng.randrange(10**6)
                )
                text = rng.choice(GREETINGS) + body + sign
            seen.add(hash(text))
            writer.writerow([i + 1, when, rng.choice(CHANNELS), text])
    return len(seen) / rows


def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, ()))
    return out


def _proc_kb(pid: int, path: str, key: str) -> int:
    try:
        with open(f"/proc/{pid}/{path}") as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass
class Run:
    label: str
    rows: int
    seconds: float
    job_rate: float
    max_rss_mb: float
    tree_pss_mb: float
    command: str

    @property
    def rate(self) -> float:
        return self.rows / self.seconds


def run(label: str, args: list[str], rows: int) -> Run:
    """Run the command, sampling the memory of its process tree; time from start to end."""
    started = time.perf_counter()
    # stderr goes to a file: a pipe nobody reads would block the command once full.
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=err)
        peak_tree = peak_one = 0
        while proc.poll() is None:
            pids = _tree(proc.pid)
            peak_tree = max(peak_tree, sum(_proc_kb(p, "smaps_rollup", "Pss:") for p in pids))
            # VmHWM is each process's own high-water mark, so no peak between samples is lost.
            peak_one = max([peak_one, *(_proc_kb(p, "status", "VmHWM:") for p in pids)])
            time.sleep(0.1)
        seconds = time.perf_counter() - started
        err.seek(0)
        stderr = err.read().decode()
    if proc.returncode != 0:
        raise SystemExit(f"{label} failed ({proc.returncode}):\n{stderr}")
    # The command's own summary: "N rows in S s (R rows/s)", the rate without start-up.
    first = stderr.strip().splitlines()[0] if stderr.strip() else ""
    match = re.search(r"\(([\d,]+) rows/s\)", first)
    job_rate = float(match.group(1).replace(",", "")) if match else float("nan")
    command = " ".join(a if " " not in a else repr(a) for a in args)
    print(f"{label}: {rows / seconds:,.0f} rows/s, {seconds:.1f} s; {first}", file=sys.stderr)
    return Run(label, rows, seconds, job_rate, peak_one / 1024, peak_tree / 1024, command)


def _commit() -> str:
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--engines", nargs="+", default=["local", "jobs2", "dask"])
    parser.add_argument("--out", type=Path, default=RESULTS)
    opts = parser.parse_args()
    exe = shutil.which("ai-office") or "ai-office"
    runs: list[Run] = []
    notes: list[str] = [f"commit: {_commit()}", f"load average before: {os.getloadavg()[0]:.1f}"]
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        for size in opts.sizes:
            log = Path(tmp) / f"log-{size}.csv"
            t = time.perf_counter()
            distinct = generate(log, size)
            notes.append(
                f"{size:,} rows: {log.stat().st_size / 1e6:.0f} MB CSV, "
                f"{distinct:.0%} distinct texts, generated in {time.perf_counter() - t:.0f} s"
            )
            out = str(Path(tmp) / "out.csv")
            plans = {
                "local": ("single process", [exe, "batch", str(log), "-o", out]),
                "jobs2": ("--jobs 2", [exe, "batch", str(log), "-o", out, "--jobs", "2"]),
                "dask": (
                    "Dask, LocalCluster of 2 workers",
                    [exe, "batch", str(log), "-o", out, "--engine", "dask", "--jobs", "2"],
                ),
            }
            for engine in opts.engines:
                label, args = plans[engine]
                runs.append(run(f"{label}, {size:,} rows", args, size))
    notes.append(f"load average after: {os.getloadavg()[0]:.1f} (2 cores shared with other work)")
    write_report(opts.out, runs, notes)
    print(f"wrote {opts.out}", file=sys.stderr)


def write_report(path: Path, runs: list[Run], notes: list[str]) -> None:
    lines = [
        "# Batch classification benchmark",
        "",
        f"Date: {dt.date.today().isoformat()}  ",
        f"Machine: {machine()}  ",
        "Produced by: `python benchmarks/bench_batch.py`",
        "",
        "*Seconds* and *rows/s* are wall clock for the whole command, including start-up "
        "and fitting the router; *job rows/s* is the command's own summary, without them. "
        "*Peak RSS* is the largest high-water mark (VmHWM) of any one process of the run; "
        "*tree PSS* is the peak of the proportional set size summed over the command and "
        "all its workers (pages shared after fork counted once), sampled every 0.1 s.",
        "",
        "| run | rows | seconds | rows/s | job rows/s | peak RSS, one process (MB) "
        "| tree PSS (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        lines.append(
            f"| {r.label} | {r.rows:,} | {r.seconds:.1f} | {r.rate:,.0f} | {r.job_rate:,.0f} | "
            f"{r.max_rss_mb:.0f} | {r.tree_pss_mb:.0f} |"
        )
    lines += ["", "Inputs and conditions:", ""] + [f"- {n}" for n in notes]
    lines += ["", "Commands (paths shortened):", ""]
    seen = set()
    for r in runs:
        cmd = " ".join(
            Path(a).name if a.startswith(("/tmp", tempfile.gettempdir())) else a
            for a in r.command.split()
        )
        cmd = cmd.replace(shutil.which("ai-office") or "\0", "ai-office")
        if cmd not in seen:
            seen.add(cmd)
            lines.append(f"    {cmd}")
    path.parent.mkdir(parents=True, exist_ok=True)
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    marker = "\n## Analysis"
    analysis = existing[existing.index(marker) :] if marker in existing else ""
    path.write_text("\n".join(lines) + "\n" + analysis, encoding="utf-8")


if __name__ == "__main__":
    main()
