"""Citing the AI Act on questions nobody wrote for it: figures on the tuning and held-out sets.

    python benchmarks/bench_law.py          # the figures, written to results/law.md
    python benchmarks/bench_law.py --fit    # also the article floor chosen on the tuning sets

The tuning sets are tests/data/provisions.yaml and tests/data/act_tune.yaml; the held-out
set, tests/data/act_heldout.yaml, was written by a separate writer who saw only the Act,
and is measured, never tuned on. ``--fit`` picks ``article_floor`` (corpus/provisions.yaml,
``fitted:``): the lowest floor at which the tuning sets' no-provision questions get none at
least 90% of the time, since a wrong citation is worse than none.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from router import Router  # noqa: E402
from router.law.evaluate import evaluate_law, read_law_questions  # noqa: E402

DATA = ROOT / "tests" / "data"
TUNING = ("provisions.yaml", "act_tune.yaml")
HELD_OUT = ("act_heldout.yaml",)
FLOORS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.35)


def _row(name: str, router: Router) -> str:
    e = evaluate_law(router, read_law_questions(DATA / name))
    agreement = "" if e.parallel_agreement is None else f"{e.parallel_agreement:.3f}"
    return (
        f"| {name} | {e.n_with}/{e.n - e.n_with} | {e.article_at_1:.3f} | {e.paragraph_at_1:.3f} "
        f"| {e.hit_at_3:.3f} | {e.none_correct:.3f} | {agreement} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit", action="store_true", help="choose article_floor first")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    router = Router.load()
    citer = router.article_citer
    assert citer is not None
    lines = []
    if args.fit:
        tuning = [q for name in TUNING for q in read_law_questions(DATA / name)]
        chosen = None
        for floor in FLOORS:
            citer.floor = floor
            router._recent.clear()
            e = evaluate_law(router, tuning)
            lines.append(
                f"floor {floor}: article@1 {e.article_at_1:.3f} hit@3 {e.hit_at_3:.3f} "
                f"none {e.none_correct:.3f}"
            )
            if chosen is None and e.none_correct >= 0.9:
                chosen = floor
        lines.append(f"chosen article_floor: {chosen}")
        print("\n".join(lines))
        citer.floor = chosen if chosen is not None else citer.floor
        router._recent.clear()
    started = time.perf_counter()
    table = [
        "| set | with / without a provision | article@1 | paragraph@1 | hit@3 (article) "
        "| none correct | parallel agreement |",
        "|---|---|---:|---:|---:|---:|---:|",
        *(_row(name, router) for name in TUNING),
        *(_row(name, router) + " held out" for name in HELD_OUT),
    ]
    # The same questions with BM25 retrieval alone, as before the Act pack.
    plain = Router.load()
    plain._article_citer = None
    table += [_row(name, plain).replace(f"| {name}", f"| {name} (BM25 only)") for name in TUNING]
    table += [
        _row(name, plain).replace(f"| {name}", f"| {name} (BM25 only)") + " held out"
        for name in HELD_OUT
    ]
    report = "\n".join(
        [
            "# Citing the AI Act: article first, then the paragraph",
            "",
            f"- date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
            f"- machine: {platform.machine()}, {platform.python_version()}",
            "- command: `python benchmarks/bench_law.py" + (" --fit`" if args.fit else "`"),
            f"- article floor: {citer.floor}",
            "",
            *table,
            "",
            *([f"    {line}" for line in lines]),
            f"({time.perf_counter() - started:.0f} s)",
        ]
    )
    print(report)
    out = ROOT / "benchmarks" / "results" / "law.md"
    out.write_text(report + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
