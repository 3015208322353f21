"""Measure (and optionally refit) the AI Act citations on tests/data/provisions.yaml.

    python benchmarks/bench_provisions.py         # figures, written to results/provisions.md
    python benchmarks/bench_provisions.py --fit   # refit floor and ratio, then the figures

Figures: precision at 1, recall at 3, the share of no-provision questions given none, each
with the labelled unit and end to end (the unit the router picks); a 5-fold held-out
estimate of the fitted floor; the time retrieval adds per question.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import platform
import random
import re
import statistics
import sys
import time
from pathlib import Path

from router import Router
from router.law.evaluate import evaluate_provisions, fit_floor, read_labelled_provisions
from router.law.retrieval import SETTINGS_FILE, load_provisions
from router.pack import bundled_dirs

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "provisions.yaml"
RESULTS = ROOT / "benchmarks" / "results" / "provisions.md"


def write_fitted(path: Path, floor: float, ratio: float) -> None:
    """Replace the numbers under ``fitted:`` in provisions.yaml, keeping its comments."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(
        r"(?m)^(fitted:\n  floor: )[0-9.]+\n(  ratio: )[0-9.]+",
        rf"\g<1>{floor}\n\g<2>{ratio}",
        text,
    )
    path.write_text(text, encoding="utf-8")


def held_out(index, questions, folds: int = 5, seed: int = 0):  # type: ignore[no-untyped-def]
    """Fit floor and ratio on 4/5 of the questions, cite on the fifth; pooled figures."""
    order = list(range(len(questions)))
    random.Random(seed).shuffle(order)
    cited: list[list[str]] = [[] for _ in questions]
    for k in range(folds):
        test = [i for n, i in enumerate(order) if n % folds == k]
        train = [questions[i] for n, i in enumerate(order) if n % folds != k]
        floor, ratio = fit_floor(index, train)
        fold_index = dataclasses.replace(index.settings, floor=floor, ratio=ratio)
        found = type(index)(index.passages, fold_index).search_many(
            [questions[i].text for i in test], [questions[i].unit for i in test]
        )
        for i, provisions in zip(test, found):
            cited[i] = [p.reference for p in provisions]
    return evaluate_provisions(index, questions, cited)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit", action="store_true", help="refit the floor and store it")
    args = parser.parse_args()
    corpus, _ = bundled_dirs()
    questions = read_labelled_provisions(DATA)
    index = load_provisions(corpus)
    assert index is not None
    if args.fit:
        floor, ratio = fit_floor(index, questions)
        write_fitted(corpus / SETTINGS_FILE, floor, ratio)
        print(f"fitted floor {floor}, ratio {ratio} -> {corpus / SETTINGS_FILE}", file=sys.stderr)
        index = load_provisions(corpus)
        assert index is not None

    labelled = evaluate_provisions(index, questions)
    cv = held_out(index, questions)

    router = Router.load()
    decisions = list(router.route_many([q.text for q in questions]))
    units = [d.unit.id if d.unit else None for d in decisions]
    routed_cited = [
        [p.reference for p in ps] for ps in index.search_many([q.text for q in questions], units)
    ]
    end_to_end = evaluate_provisions(index, questions, routed_cited)

    # Latency: retrieval alone, one question at a time, index warm (it is built once).
    texts = [q.text for q in questions]
    times = []
    for _ in range(5):
        for text, unit in zip(texts, units):
            t0 = time.perf_counter()
            index.search(text, unit)
            times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    load_provisions(corpus)
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(5):
        index.search_many(texts, units)
    batch = (time.perf_counter() - t0) / (5 * len(texts))

    def row(name: str, e) -> str:  # type: ignore[no-untyped-def]
        return (
            f"| {name} | {e.precision_at_1:.3f} | {e.recall_at_3:.3f} | {e.hit_at_3:.3f} | "
            f"{e.none_accuracy:.3f} | {e.coverage:.3f} |"
        )

    s = index.settings
    lines = [
        "# AI Act citations: benchmark",
        "",
        f"- date: {datetime.date.today()}; Python {platform.python_version()} on "
        f"{platform.machine()} ({platform.system()}), shared machine",
        f"- data: `tests/data/provisions.yaml`, {labelled.n} questions, {labelled.n_with} "
        f"with provisions, {labelled.n - labelled.n_with} with none",
        f"- settings: floor (coverage) {s.floor}, ratio {s.ratio}, unit boost {s.unit_boost}, "
        f"k1 {s.k1}, b {s.b}",
        "- command: `python benchmarks/bench_provisions.py`",
        "",
        "| setting | precision@1 | recall@3 | hit@3 | no-provision given none | coverage |",
        "|---|---|---|---|---|---|",
        row("labelled unit, floor fitted on all", labelled),
        row("labelled unit, 5-fold held-out floor", cv),
        row("router's unit (end to end)", end_to_end),
        "",
        "precision@1: of the questions given any provision, the share whose first is right "
        "(a citation for a no-provision question is wrong); recall@3: mean share of the "
        "labelled provisions cited; hit@3: any cited one right; coverage: questions with "
        "provisions given at least one.",
        "",
        "| latency | value |",
        "|---|---|",
        f"| retrieval per question, median (one at a time) | "
        f"{statistics.median(times) * 1000:.3f} ms |",
        f"| retrieval per question, p95 | {sorted(times)[int(0.95 * len(times))] * 1000:.3f} ms |",
        f"| retrieval per question in `search_many` | {batch * 1000:.3f} ms |",
        f"| building the index (first use, once per process) | {build * 1000:.0f} ms |",
        "",
        "Errors with the labelled unit (question, cited, labelled):",
        "",
        *[f"- {t!r}: cited {list(c)}, labelled {list(w)}" for t, c, w in labelled.errors],
        "",
    ]
    RESULTS.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
