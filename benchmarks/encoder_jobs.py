"""``ai-office batch`` with an encoder: one process against ``--jobs 2``, and ``--jobs 2``
with the workers' share of the cores (one thread each on two cores, the default) against
two threads each (what the workers did before they were told their share).

    python benchmarks/encoder_jobs.py --pack DIR --rows 40000 --encoders minilm

The rows are the questions of ``encoders.py`` (``--texts FILE``, the labelled sets for the
bundled pack, else the pack's training utterances) with a varied greeting and closing (each
a distinct text); a file needs several blocks of about 3,500 rows for two workers to share
it. ``--encode-all`` measures with every question encoded (no gate) as well. Each figure
is rows per second of the real command (load included), the median over ``--rounds``, the
configurations interleaved.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from encoders import questions


def rows_per_second(
    path: Path,
    rows: int,
    pack: str | None,
    encoder: str,
    jobs: int,
    threads: int | None,
    encode_all: bool = False,
    gate: float | None = None,
) -> float:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    env.pop("AI_OFFICE_ENCODER_THREADS", None)
    if threads:
        env["AI_OFFICE_ENCODER_THREADS"] = str(threads)
    command = [str(Path(sys.executable).parent / "ai-office"), "batch", "-q"]
    command += ["--pack", pack] if pack else []
    command += ["--encoder", encoder, "--jobs", str(jobs), str(path)]
    command += ["--encode-all"] if encode_all else []
    command += ["--gate", str(gate)] if gate is not None else []
    command += ["-o", str(path.with_suffix(".jsonl"))]
    started = time.perf_counter()
    subprocess.run(command, check=True, env=env, capture_output=True)
    return rows / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pack", help="pack folder (default: the bundled pack)")
    parser.add_argument("--rows", type=int, default=40000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--encoders", nargs="+", default=["minilm"])
    parser.add_argument("--texts", help="a file of questions, one per line")
    parser.add_argument("--encode-all", action="store_true", help="also without the gate")
    parser.add_argument(
        "--no-forced", action="store_true", help="skip the runs with two threads forced"
    )
    args = parser.parse_args(argv)
    shares = ((1, None), (2, None)) if args.no_forced else ((1, None), (2, None), (2, 2))
    configs = [
        (name, jobs, threads, every)
        for name in args.encoders
        for every in ((False, True) if args.encode_all and name != "none" else (False,))
        for jobs, threads in shares
        if not (name == "none" and threads)
    ]
    figures: dict[tuple, list[float]] = {c: [] for c in configs}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text"])
            writer.writerows(
                [q] for q in questions(args.rows, seed=11, pack=args.pack, texts=args.texts)
            )
        for _ in range(args.rounds):
            for config in configs:
                figures[config].append(rows_per_second(path, args.rows, args.pack, *config))
    print(f"{args.rows} distinct rows, pack {args.pack or 'bundled'}, {args.rounds} round(s); "
          f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    print("| encoder | jobs | encoder threads per process | rows/s |")
    print("|---|---:|---|---:|")
    for (name, jobs, threads, every), values in figures.items():
        told = f"{threads} (forced)" if threads else "default (its share)"
        label = f"{name} --encode-all" if every else name
        print(f"| {label} | {jobs} | {told} | {statistics.median(values):,.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
