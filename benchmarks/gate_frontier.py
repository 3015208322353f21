"""The encoder gate's trade-off on CLINC150: out-of-scope ranking against batch speed.

    python benchmarks/clinc150.py --encoder minilm --weights 1.5 --svm-c 1 --out-pack DIR
    python benchmarks/gate_frontier.py --pack DIR [--gates 0.9 0.95 0.99] [--rows 40000]

A higher gate sends more questions to the encoder: better out-of-scope ranking (AUROC),
fewer rows per second. For the pack's own gate (fitted on train's folds by ``ai-office
calibrate``), each ``--gates`` value (``Router(gate=...)``, ``--gate``) and encoding every
question (``--encode-all``), it reports:

- on ``test`` + ``oos_test`` when the data has them, else on ``val`` + ``oos_val``: in-scope
  accuracy and out-of-scope recall with the floor chosen on ``val`` by the paper's rule
  (as ``clinc150.py`` chooses it, afresh for each gate), AUROC, and the share of questions
  encoded; on ``val`` also the in-scope accuracy and recall with the floor chosen on the
  other half (``clinc150.split_threshold``);
- ``ai-office batch --jobs 2`` on ``--rows`` distinct rows (the val questions with a varied
  greeting and closing, as ``encoder_jobs.py`` builds them): rows per second of the real
  command, start-up included, and the share of those rows encoded (counted in this
  process on the first ``SHARE_SAMPLE`` rows).

The gates other than the pack's own are read off this table, not fitted: the table shows
what each costs, and choosing one on ``val`` makes its ``val`` figures optimistic.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from clinc150 import (
    DEFAULT_DATA,
    OOS,
    _count_encoded,
    _route,
    _scores,
    paper_threshold,
    read_clinc,
    split_threshold,
)
from encoder_jobs import rows_per_second
from encoders import questions

from router import Router
from router.pack import load_pack

#: Rows of the batch file whose encoded share is counted in this process.
SHARE_SAMPLE = 5000
#: The label of the setting that encodes every question.
ALL = "all"


def evaluate(
    pack: Path, encoder: str, data: dict[str, list[tuple[str, str]]], gate: float | None
) -> dict[str, Any]:
    """The figures of one gate (None: encode every question) on CLINC150 (see the module's
    docstring)."""
    loaded = load_pack(pack)
    stored = Router.load(loaded, encoder=encoder)
    open_policy = replace(stored.policy_, floor=0.0, margin=0.0)
    settings = _setting(gate)

    def routed(texts: list[str]) -> tuple[list[str], np.ndarray, list[str], float]:
        router = Router.load(loaded, encoder=encoder, policy=open_policy, **settings)
        seen = _count_encoded(router)
        best, scores, decisions = _route(router, texts)
        return best, scores, decisions, len(seen) / len(texts)

    val_in = [(t, y) for t, y in data["val"] if y != OOS]
    val_oos = [t for t, _ in data.get("oos_val", [])] + [t for t, y in data["val"] if y == OOS]
    best, scores, _, val_share = routed([t for t, _ in val_in] + val_oos)
    n = len(val_in)
    correct = np.array([p == y for p, (_, y) in zip(best[:n], val_in)])
    floor, _ = paper_threshold(scores[:n], correct, scores[n:])
    figures: dict[str, Any] = {"floor": round(floor, 4)}

    split = "test" if "test" in data else "val"
    if split == "val":
        eval_in, texts, share = val_in, [t for t, _ in val_in] + val_oos, val_share
        figures["val_halves_floor"] = split_threshold(scores[:n], correct, scores[n:])
    else:
        eval_in = [(t, y) for t, y in data[split] if y != OOS]
        eval_oos = [t for t, _ in data.get(f"oos_{split}", [])]
        eval_oos += [t for t, y in data[split] if y == OOS]
        texts = [t for t, _ in eval_in] + eval_oos
        best, scores, _, share = routed(texts)
    decisions = ["routed" if s >= floor else "out_of_scope" for s in scores]
    figures.update(_scores(best, scores, decisions, eval_in))
    figures["evaluated_on"] = f"{split} + oos_{split}"
    figures["encoded_share"] = round(share, 4)
    return figures


def _setting(gate: float | None) -> dict[str, Any]:
    return {"encode_all": True} if gate is None else {"gate": gate}


def batch_share(pack: Path, encoder: str, texts: list[str], gate: float | None) -> float:
    """The share of ``texts`` the router sends to its encoder."""
    router = Router.load(load_pack(pack), encoder=encoder, **_setting(gate))
    seen = _count_encoded(router)
    for _ in router.route_many(texts, explain=False):
        pass
    return len(seen) / len(texts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pack", required=True, help="CLINC150 pack (clinc150.py --out-pack)")
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="CLINC150 JSON file")
    parser.add_argument("--encoder", default="minilm")
    parser.add_argument("--gates", type=float, nargs="*", default=[0.9, 0.95, 0.99])
    parser.add_argument("--rows", type=int, default=40000, help="rows of the batch file")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)

    pack = Path(args.pack)
    data = read_clinc(args.data)
    own = Router.load(load_pack(pack), encoder=args.encoder).gate_
    if own is None:
        parser.error(f"{pack} has no gate for {args.encoder}: run clinc150.py --encoder first")
    settings: list[tuple[str, float | None]] = [(f"{own} (fitted on train's folds)", own)]
    settings += [(str(g), g) for g in args.gates if g != own]
    settings.append((ALL, None))

    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        val_texts = Path(tmp) / "val.txt"
        val_texts.write_text(
            "".join(t + "\n" for t, _ in data["val"] + data.get("oos_val", [])), encoding="utf-8"
        )
        rows = questions(args.rows, seed=11, texts=str(val_texts))
        rows_file = Path(tmp) / "rows.csv"
        with rows_file.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text"])
            writer.writerows([q] for q in rows)
        for label, gate in settings:
            figures = {"gate": label, **evaluate(pack, args.encoder, data, gate)}
            figures["batch_encoded_share"] = round(
                batch_share(pack, args.encoder, rows[:SHARE_SAMPLE], gate), 4
            )
            figures["batch_rows_per_second"] = round(
                rows_per_second(
                    rows_file, args.rows, str(pack), args.encoder, 2, None, gate is None, gate
                )
            )
            results.append(figures)
            print(json.dumps(figures), file=sys.stderr, flush=True)

    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    where = results[0]["evaluated_on"]
    print(
        f"{args.encoder} on CLINC150 ({where}, floor from val); batch: {args.rows} distinct "
        f"rows, --jobs 2; load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n"
    )
    print(
        "| gate | encoded | in-scope accuracy | out-of-scope recall | AUROC "
        "| floor from the other half of val: in-scope / recall "
        "| batch rows encoded | batch --jobs 2 (rows/s) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        halves = r.get("val_halves_floor")
        other = f"{halves['in_scope_accuracy']:.2f} / {halves['oos_recall']:.2f}" if halves else ""
        print(
            f"| {r['gate']} | {100 * r['encoded_share']:.1f}% | {r['in_scope_accuracy']:.2f} "
            f"| {r['oos_recall']:.1f} | {r['auroc']:.2f} | {other} "
            f"| {100 * r['batch_encoded_share']:.1f}% | {r['batch_rows_per_second']:,} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
