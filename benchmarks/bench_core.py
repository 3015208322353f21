"""Core benchmark: dev-set accuracy against two baselines, latency, throughput, start-up.

Run from the repository root:

    python benchmarks/bench_core.py [--write benchmarks/results/core.md]

Accuracy, load and fit times are measured in this process; the routing speed (latency
and route_many rates) in a fresh interpreter that imports only the router, as a user's
process would, because the baselines' scikit-learn objects slow every garbage collection
of this one (by 10-15%); the cold `ai-office ask` in new processes. Medians over repeats,
not single timings.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from machine import machine
from rapidfuzz import fuzz, process, utils

from router import Router, load_pack
from router.evaluate import OUT_OF_SCOPE, evaluate, read_labelled

REPO = Path(__file__).resolve().parents[1]
DEV = REPO / "tests/data/dev.yaml"


def metrics(truth: list[str], predicted: list[str]) -> dict[str, float]:
    in_scope = [(t, p) for t, p in zip(truth, predicted) if t != OUT_OF_SCOPE]
    oos = [(t, p) for t, p in zip(truth, predicted) if t == OUT_OF_SCOPE]
    return {
        "accuracy": float(np.mean([t == p for t, p in zip(truth, predicted)])),
        "in_scope_accuracy": float(np.mean([t == p for t, p in in_scope])),
        "oos_recall": float(np.mean([p == OUT_OF_SCOPE for _, p in oos])),
    }


def baselines(texts: list[str], truth: list[str]) -> dict[str, dict[str, float]]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    train_texts, train_labels = load_pack().training_data()
    plain = make_pipeline(TfidfVectorizer(), LogisticRegression())
    plain.fit(train_texts, train_labels)
    tfidf_pred = list(plain.predict(texts))
    fuzzy_pred = []
    for text in texts:
        # token_sort_ratio is the best of rapidfuzz's stock scorers here; WRatio's partial
        # matching lets one-word training utterances ("ok", "AI") match everything.
        hit = process.extractOne(
            text, train_texts, scorer=fuzz.token_sort_ratio, processor=utils.default_process
        )
        fuzzy_pred.append(train_labels[hit[2]] if hit else OUT_OF_SCOPE)
    return {
        "TF-IDF + LogisticRegression (argmax)": metrics(truth, tfidf_pred),
        "rapidfuzz nearest training utterance (token_sort_ratio)": metrics(truth, fuzzy_pred),
    }


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def routing_speed(texts: list[str]) -> dict[str, list[float]]:
    """Latencies (ms) and route_many rates (/s), measured in the calling process."""
    # Latency and the distinct-text rates are measured with the decision cache off, so
    # that a repeated question never counts as routed.
    uncached = Router(cache_size=0).fit(load_pack())

    # Single-query latency after warm-up.
    for text in texts[:50]:
        uncached.route(text)
    latencies = []
    for _ in range(3):
        for text in texts:
            t0 = time.perf_counter()
            uncached.route(text)
            latencies.append((time.perf_counter() - t0) * 1000)

    # route_many throughput: a log that repeats the dev questions (as real logs repeat
    # themselves; the cache and each chunk's dedupe answer repeats), and one where every
    # text is distinct (a number appended), the worst case: with the full evidence, and
    # without it (explain=False, what batch jobs use).
    log = (texts * (20_000 // len(texts) + 1))[:20_000]
    distinct = [f"{t} ({i})" for i, t in enumerate(log)]
    rates: list[float] = []
    distinct_rates: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(3):
        fresh = Router().fit(load_pack())  # an empty decision cache each time
        t0 = time.perf_counter()
        n = sum(1 for _ in fresh.route_many(log))
        rates.append(n / (time.perf_counter() - t0))
        for explain in (True, False):
            t0 = time.perf_counter()
            n = sum(1 for _ in uncached.route_many(distinct, explain=explain))
            distinct_rates[explain].append(n / (time.perf_counter() - t0))

    return {
        "latencies": latencies,
        "rates": rates,
        "distinct_with_evidence": distinct_rates[True],
        "distinct_bulk": distinct_rates[False],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", type=Path, help="Write a Markdown report here.")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--speed-json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.speed_json:  # the fresh interpreter of the routing-speed measurements
        print(json.dumps(routing_speed([i.text for i in read_labelled(DEV)])))
        return

    # Load + fit (the library's start-up), median of repeats.
    load_times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        router = Router.load()
        load_times.append(time.perf_counter() - t0)

    # Load + a full fit (no stored model): what a changed pack or another pack costs.
    from router.classifier import IntentClassifier

    fit_times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        Router(classifier=IntentClassifier()).fit(load_pack())
        fit_times.append(time.perf_counter() - t0)

    labelled = read_labelled(DEV)
    texts = [i.text for i in labelled]
    truth = [i.unit for i in labelled]
    ours = evaluate(router, labelled)
    ours_row = {
        "accuracy": ours.accuracy,
        "in_scope_accuracy": ours.in_scope_accuracy,
        "oos_recall": ours.oos_recall,
    }
    rows = {"ai-office-router (this project)": ours_row, **baselines(texts, truth)}

    speed = json.loads(
        subprocess.run(
            [sys.executable, __file__, "--speed-json"], check=True, capture_output=True, text=True
        ).stdout
    )
    latencies, rates = speed["latencies"], speed["rates"]
    distinct_rates = {True: speed["distinct_with_evidence"], False: speed["distinct_bulk"]}

    # Cold `ai-office ask` wall time, a new process each time.
    exe = Path(sys.executable).parent / "ai-office"
    cold = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        subprocess.run(
            [str(exe), "ask", "who fines GPAI providers?"], check=True, capture_output=True
        )
        cold.append(time.perf_counter() - t0)

    lines = [
        "# Core benchmark",
        "",
        f"- date: {dt.date.today().isoformat()}",
        f"- machine: {machine()}",
        "- command: `python benchmarks/bench_core.py --write benchmarks/results/core.md`",
        f"- dev set: `tests/data/dev.yaml`, {len(texts)} inquiries "
        f"({truth.count(OUT_OF_SCOPE)} out of scope)",
        "",
        "## Accuracy on the development set (same data, same process)",
        "",
        "| router | accuracy | in-scope accuracy | out-of-scope recall |",
        "|---|---|---|---|",
    ]
    for name, row in rows.items():
        lines.append(
            f"| {name} | {row['accuracy']:.3f} | {row['in_scope_accuracy']:.3f} | "
            f"{row['oos_recall']:.3f} |"
        )
    lines += [
        "",
        f"This project: macro-F1 {ours.macro_f1:.3f}, out-of-scope precision "
        f"{ours.oos_precision:.3f}, clarify rate {ours.clarify_rate:.3f}. "
        "Both baselines are trained on the same `intents/` data, with out-of-scope as a class.",
        "",
        "## Speed",
        "",
        "| measure | median | other | target |",
        "|---|---|---|---|",
        f"| `Router.load()`, stored model | {statistics.median(load_times):.3f} s | "
        f"min {min(load_times):.3f} s | ≤ 1 s |",
        f"| pack load + full fit (no stored model) | {statistics.median(fit_times):.3f} s | "
        f"min {min(fit_times):.3f} s | ≤ 1 s |",
        f"| `route()` latency after warm-up | {statistics.median(latencies):.3f} ms | "
        f"p99 {percentile(latencies, 99):.3f} ms | p99 ≤ 2 ms |",
        f"| `route_many()`, 20,000 inquiries repeating the dev set | "
        f"{statistics.median(rates):,.0f} /s | each distinct text routed once, then the "
        "decision cache | ≥ 20,000 /s |",
        f"| `route_many()`, 20,000 distinct inquiries | "
        f"{statistics.median(distinct_rates[True]):,.0f} /s | single process, cache off "
        "| ≥ 20,000 /s |",
        f"| `route_many(explain=False)`, 20,000 distinct inquiries | "
        f"{statistics.median(distinct_rates[False]):,.0f} /s | single process, cache off "
        "| ≥ 20,000 /s |",
        f"| cold `ai-office ask` wall time | {statistics.median(cold):.3f} s | "
        f"min {min(cold):.3f} s | ≤ 1.5 s |",
    ]
    lines += [
        "",
        "Latency and the `route_many` rates are measured in a fresh interpreter that imports "
        "only the router (`--speed-json`), as a user's process would: in this one, the "
        "baselines' scikit-learn objects slow every garbage collection by 10-15%.",
    ]
    report = "\n".join(lines) + "\n"
    print(report)
    if args.write:
        args.write.write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
