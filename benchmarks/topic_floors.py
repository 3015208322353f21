"""Choose how sure the topic router must be to override the units' router.

Routes the dev set (tests/data/dev.yaml) and the topic tuning set
(tests/data/topics_tune.yaml) at each pair of floors and prints the accuracies. The chosen
pair is the best tuning-set accuracy among those that keep the dev set's accuracy within
one point of never overriding; put it in corpus/pack.yaml under ``topics:``. The held-out
set (tests/data/topics.yaml) is never read here.

    python benchmarks/topic_floors.py
"""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

from router import Router, load_pack
from router.evaluate import evaluate, read_labelled

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
GRID = (0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 1.01)


def main() -> None:
    warnings.simplefilter("ignore")
    pack = load_pack()
    dev = read_labelled(DATA / "dev.yaml")
    tune = read_labelled(DATA / "topics_tune.yaml")
    rows = []
    for override in GRID:
        for referral in GRID:
            settings = {"override_floor": override, "referral_floor": referral}
            router = Router.load(dataclasses.replace(pack, topic_settings=settings))
            d, t = evaluate(router, dev), evaluate(router, tune)
            rows.append((override, referral, d.accuracy, t.accuracy, t.wrong_unit_rate))
            print(
                f"override {override:<5} referral {referral:<5} dev {d.accuracy:.3f}  "
                f"tune {t.accuracy:.3f} (wrong unit {t.wrong_unit_rate:.3f})",
                flush=True,
            )
    never = next(r for r in rows if r[0] == r[1] == 1.01)
    allowed = [r for r in rows if r[2] >= never[2] - 0.01]
    best = max(allowed, key=lambda r: (r[3], r[2], -r[4]))
    print(f"chosen: override_floor {best[0]}, referral_floor {best[1]}")


if __name__ == "__main__":
    main()
