"""What the topic router and the Act router cost per question, against the router without
them, in one process and one command.

    python benchmarks/bench_layers.py      # writes benchmarks/results/layers.md

Routes the dev and topic tuning sets' questions (2,400, repeated from 810) with
``route_many(explain=False)``, the cache off, after a warm-up; the median of 5 runs per
variant, the variants interleaved so that the machine's speed moving hits them alike. Wall
and CPU time (this process's) are both given: on a shared machine the CPU time moves less.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from machine import machine  # noqa: E402

from router import Router  # noqa: E402
from router.evaluate import read_labelled  # noqa: E402

DATA = ROOT / "tests" / "data"
RUNS = 5


def _variants() -> dict[str, Router]:
    full = Router.load(cache_size=0)
    no_act = Router.load(cache_size=0)
    no_act._article_citer = None  # BM25 retrieval, as before the Act pack
    no_topics = Router.load(cache_size=0)
    no_topics.topics_ = None
    baseline = Router.load(cache_size=0)
    baseline.topics_ = None
    baseline._article_citer = None
    return {
        "without topic and Act routers (baseline)": baseline,
        "with the topic router": no_act,
        "with the Act router": no_topics,
        "with both (as shipped)": full,
    }


def main() -> None:
    warnings.simplefilter("ignore")
    sets = ("dev.yaml", "topics_tune.yaml")
    texts = [i.text for name in sets for i in read_labelled(DATA / name)]
    texts = (texts * 3)[:2400]
    routers = _variants()
    for r in routers.values():
        r.warm_up()
        list(r.route_many(texts[:200], explain=False))
    times: dict[str, list[float]] = {name: [] for name in routers}
    cpu: dict[str, list[float]] = {name: [] for name in routers}
    load = os.getloadavg()[0]
    for _ in range(RUNS):
        for name, r in routers.items():
            started, started_cpu = time.perf_counter(), time.process_time()
            list(r.route_many(texts, explain=False))
            times[name].append((time.perf_counter() - started) / len(texts) * 1e3)
            cpu[name].append((time.process_time() - started_cpu) / len(texts) * 1e3)
    load = max(load, os.getloadavg()[0])
    baseline = "without topic and Act routers (baseline)"
    base, base_cpu = statistics.median(times[baseline]), statistics.median(cpu[baseline])
    rows = [
        f"| {name} | {statistics.median(t):.3f} | {statistics.median(t) - base:+.3f} "
        f"| {statistics.median(t) / base:.2f}x | {statistics.median(cpu[name]):.3f} "
        f"| {statistics.median(cpu[name]) / base_cpu:.2f}x |"
        for name, t in times.items()
    ]
    report = "\n".join(
        [
            "# What the topic and Act routers cost per question",
            "",
            f"- date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
            f"- machine: {machine()}",
            "- command: `python benchmarks/bench_layers.py`",
            f"- {len(texts)} questions, route_many(explain=False), cache off, median of {RUNS}",
            f"- load average (1 min, the higher of start and end): {load:.2f}",
            "",
            "| router | ms per question | added | ratio | CPU ms per question | CPU ratio |",
            "|---|---:|---:|---:|---:|---:|",
            *rows,
        ]
    )
    print(report)
    (ROOT / "benchmarks" / "results" / "layers.md").write_text(report + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
