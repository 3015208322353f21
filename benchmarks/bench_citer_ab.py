"""Another version of router/law/articles.py against the current one: ArticleCiter.cite_many
on the same router and the same questions, interleaved, CPU and wall medians; checks first
that both cite the same provisions.

    git show 0b3dcfa:router/law/articles.py > /tmp/articles_before.py
    python benchmarks/bench_citer_ab.py /tmp/articles_before.py

Prints the figures (benchmarks/results/layers.md holds them with machine and date).
"""

from __future__ import annotations

import importlib.util
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from machine import machine  # noqa: E402

import router.law  # noqa: E402, F401  (the package the other version's relative imports need)
from router import Router  # noqa: E402
from router.evaluate import read_labelled  # noqa: E402

DATA = ROOT / "tests" / "data"
RUNS = 7


def main() -> None:
    warnings.simplefilter("ignore")
    spec = importlib.util.spec_from_file_location("router.law.articles_other", sys.argv[1])
    assert spec is not None and spec.loader is not None
    other = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = other
    spec.loader.exec_module(other)
    sets = ("dev.yaml", "topics_tune.yaml")
    # Distinct questions, as route_many hands each chunk's distinct texts to the citer.
    texts = list(dict.fromkeys(i.text for name in sets for i in read_labelled(DATA / name)))
    current = Router.load(cache_size=0).article_citer
    assert current is not None
    current.warm_up()
    before = other.ArticleCiter(
        current.router,
        current.index,
        current.questions,
        floor=current.floor,
        share=current.share,
        limit=current.limit,
    ).warm_up()
    assert before.cite_many(texts) == current.cite_many(texts)
    wall: dict[str, list[float]] = {"given": [], "current": []}
    cpu: dict[str, list[float]] = {"given": [], "current": []}
    for _ in range(RUNS):
        for name, citer in (("given", before), ("current", current)):
            started, started_cpu = time.perf_counter(), time.process_time()
            citer.cite_many(texts)
            wall[name].append((time.perf_counter() - started) / len(texts) * 1e3)
            cpu[name].append((time.process_time() - started_cpu) / len(texts) * 1e3)
    print(f"machine: {machine()}; {len(texts)} distinct questions, median of {RUNS}")
    for name in wall:
        print(
            f"{name}: wall {statistics.median(wall[name]):.3f} ms per question, "
            f"CPU {statistics.median(cpu[name]):.3f}"
        )
    print(
        "ratio current/given: "
        f"wall {statistics.median(wall['current']) / statistics.median(wall['given']):.2f}, "
        f"CPU {statistics.median(cpu['current']) / statistics.median(cpu['given']):.2f}"
    )


if __name__ == "__main__":
    main()
