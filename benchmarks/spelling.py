"""Spelling: how often the corrector changes a correct word, and how often it recovers a typo.

    apt-get install -y wamerican wfrench wngerman witalian wspanish   # once, for the word lists
    python benchmarks/spelling.py            # the figures, written to results/spelling.md

Correct words come from sources independent of wordfreq and of the training data: the
Debian word lists (``/usr/share/dict``; ``--per-language`` words of each language that the
corrector could touch: five letters or more, letters only, not in the training vocabulary),
each looked up alone, and the words of the held-out parallel questions
(tests/data/parallel.yaml), in their questions. Any change to one of them is a false
correction.

Typos: the dev set's questions tagged ``typo`` (tests/data/dev.yaml), with the word each
misspelling stands for written down below by hand (measured, never tuned on); and, for
choosing the lexicon, one-edit typos of common training words put back in their training
sentence (``--synthetic``, seeded).

Every row runs in the same command: the baseline is the corrector without a lexicon (the
training vocabulary alone, as before); the shipped row is router.lexicon (wordfreq's lists
at ``MIN_ZIPF``), checked against ``TermMatcher.correct`` itself; then the same lists at
other floors and, when pyspellchecker is installed, its dictionaries instead.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import yaml  # noqa: E402
from machine import machine  # noqa: E402

from router import Router, fuzzy, lexicon  # noqa: E402
from router.evaluate import evaluate, read_labelled  # noqa: E402
from router.fuzzy import TermMatcher  # noqa: E402
from router.text import normalise, normalised_words  # noqa: E402

DATA = ROOT / "tests" / "data"
DICTS = {
    "en": "/usr/share/dict/american-english",
    "fr": "/usr/share/dict/french",
    "de": "/usr/share/dict/ngerman",
    "it": "/usr/share/dict/italian",
    "es": "/usr/share/dict/spanish",
}
#: The wordfreq floors compared with the shipped one (router.lexicon.MIN_ZIPF).
FLOORS = (1.5, 2.5, 3.0, 3.5)
try:
    import pyspellchecker_lexicon

    pyspellchecker_lexicon._data_dir()
    OTHERS: tuple[str, ...] = ("pyspellchecker",)
except ModuleNotFoundError:  # pyspellchecker is not installed: no comparison row
    OTHERS = ()

#: The dev set's misspellings and the word each stands for, read off the questions tagged
#: ``typo`` by hand. Misspellings that are another real word ("were" for "where", "there" for
#: "their", "dose" for "does") are listed too: no lexicon can catch them.
DEV_TYPOS = {
    "selecionar": "seleccionar", "aply": "apply", "militray": "military",
    "wich": "which", "guidlines": "guidelines", "comission": "commission",
    "compny": "company", "evalute": "evaluate", "modles": "models", "teeming": "teaming",
    "sytemic": "systemic", "ther": "there", "capabilites": "capabilities",
    "reserach": "research", "robotcs": "robotics", "workin": "working",
    "countrys": "countries", "climat": "climate", "diagnosys": "diagnosis",
    "were": "where", "innovaton": "innovation", "acess": "access", "trainning": "training",
    "factorys": "factories", "regualtory": "regulatory", "sanbox": "sandbox",
    "ofice": "office", "dose": "does", "directer": "director", "bord": "board",
    "emial": "email", "studing": "studying", "newsleter": "newsletter", "vaccum": "vacuum",
    "wheather": "weather", "forcast": "forecast", "tomorow": "tomorrow", "leagal": "legal",
    "employes": "employees", "evalution": "evaluation", "methodolgy": "methodology",
    "reseach": "research", "digtal": "digital", "invloved": "involved",
    "internationaly": "internationally", "artifical": "artificial",
    "inteligence": "intelligence", "versoin": "version", "offce": "office",
    "complant": "complaint", "gmae": "game",
}  # fmt: skip


#: The lexicons compared: None is the baseline (no lexicon); "shipped" is router.lexicon;
#: a number is router.lexicon's wordfreq lists at that Zipf floor; "pyspellchecker" is
#: benchmarks/pyspellchecker_lexicon.py.
Lexicon = str | float | None


def corrections(matcher: TermMatcher, words: Sequence[str], which: Lexicon) -> dict[str, str]:
    """``TermMatcher.correct``'s fixes with the lexicon ``which``."""
    candidates = {}
    for word in set(words).difference(matcher.vocabulary_):
        if len(word) >= matcher.min_length and word.isalpha():
            found = matcher._candidates(word)
            if found:
                candidates[word] = found
    if not candidates or which is None:
        return {w: c[0] for w, c in candidates.items()}
    if which == "pyspellchecker":
        languages = lexicon.question_languages(words, frequency=pyspellchecker_lexicon.zipf)
        return fuzzy.choose_corrections(
            candidates, lambda w: pyspellchecker_lexicon.known_languages(w, languages=languages)
        )
    floor = lexicon.MIN_ZIPF if which == "shipped" else float(which)
    languages = lexicon.question_languages(words)
    return fuzzy.choose_corrections(
        candidates, lambda w: lexicon.known_languages(w, languages=languages, min_zipf=floor)
    )


def name_of(which: Lexicon) -> str:
    if which is None:
        return "baseline (no lexicon)"
    if which == "shipped":
        return f"wordfreq, Zipf >= {lexicon.MIN_ZIPF} (shipped)"
    return "pyspellchecker" if which == "pyspellchecker" else f"wordfreq, Zipf >= {which}"


def dictionary_words(matcher: TermMatcher, per_language: int, seed: int) -> dict[str, list[str]]:
    """``per_language`` words of each Debian list that the corrector could change."""
    out = {}
    for lang, path in DICTS.items():
        eligible = set()
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            # English lists hold names and possessives; German nouns are capitalised.
            if "'" in line or (lang == "en" and line[:1].isupper()):
                continue
            words = normalised_words(line)
            if len(words) == 1:
                (word,) = words
                if len(word) >= matcher.min_length and word.isalpha():
                    eligible.add(word)
        eligible -= matcher.vocabulary_
        out[lang] = random.Random(seed).sample(sorted(eligible), per_language)
    return out


def parallel_questions() -> dict[str, list[list[str]]]:
    items = yaml.safe_load((DATA / "parallel.yaml").read_text(encoding="utf-8"))
    return {lang: [normalised_words(item[lang]) for item in items] for lang in DICTS}


def dev_typos() -> list[tuple[list[str], str, str]]:
    """(question words, typo, intended) for every listed misspelling in a dev typo question."""
    items = yaml.safe_load((DATA / "dev.yaml").read_text(encoding="utf-8"))
    out = []
    for item in items:
        if "typo" in item.get("tags", ()):
            words = normalised_words(item["text"])
            out.extend((words, w, normalise(DEV_TYPOS[w])) for w in words if w in DEV_TYPOS)
    return out


def synthetic_typos(
    matcher: TermMatcher, texts: Sequence[str], n: int, seed: int
) -> list[tuple[list[str], str, str]]:
    """One-edit typos of common training words (Zipf >= 3.5 in a supported language, six
    letters or more), each put back in a training sentence that holds the word."""
    rng = random.Random(seed)
    holding: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        for word in set(text.split()):
            holding.setdefault(word, []).append(i)
    common = sorted(
        w
        for w in holding
        if len(w) >= 6 and w.isalpha() and lexicon.known_languages(w, min_zipf=3.5)
    )
    out = []
    for word in rng.sample(common, min(n, len(common))):
        i = rng.randrange(1, len(word) - 1)
        letter = rng.choice("abcdeilmnorstu")
        typo = rng.choice(
            [
                word[:i] + word[i + 1 :],
                word[:i] + letter + word[i:],
                word[:i] + letter + word[i + 1 :],
                word[:i] + word[i + 1] + word[i] + word[i + 2 :],
            ]
        )
        if typo == word or typo in matcher.vocabulary_:
            continue
        sentence = texts[rng.choice(holding[word])].split()
        out.append(([typo if w == word else w for w in sentence], typo, word))
    return out


@contextmanager
def without_lexicon() -> Iterator[None]:
    """The baseline: ``TermMatcher.correct`` keeps every correction (each word's closest
    candidate), as before the lexicon."""
    keep = fuzzy._in_question_language
    fuzzy._in_question_language = lambda words, candidates: {
        w: c[0] for w, c in candidates.items()
    }
    try:
        yield
    finally:
        fuzzy._in_question_language = keep


def routing_rows() -> list[str]:
    """Accuracy on the dev and held-out sets, and the parallel set's agreement with English,
    without and with the lexicon (each with a fresh router: decisions are cached)."""
    items = yaml.safe_load((DATA / "parallel.yaml").read_text(encoding="utf-8"))
    dev = read_labelled(DATA / "dev.yaml")
    raw = yaml.safe_load((DATA / "dev.yaml").read_text(encoding="utf-8"))
    typed = {item["text"] for item in raw if "typo" in item.get("tags", ())}
    typo = [i for i in dev if i.text in typed]
    multilingual = read_labelled(DATA / "multilingual.yaml")
    rows = []
    for name, baseline in (("baseline (no lexicon)", True), ("lexicon (shipped)", False)):
        with without_lexicon() if baseline else _nothing():
            router = Router.load()
            cells = [f"{evaluate(router, s).accuracy:.3f}" for s in (dev, typo, multilingual)]

            def got(text: str, router: Router = router) -> str:
                d = router.route(text)
                return d.unit.id if d.unit is not None else d.decision

            answers = {lang: [got(item[lang]) for item in items] for lang in DICTS}
        for lang in DICTS:
            right = sum(a == item["unit"] for a, item in zip(answers[lang], items))
            cells.append(f"{right / len(items):.3f}")
        agree = sum(
            a == e for lang in DICTS if lang != "en" for a, e in zip(answers[lang], answers["en"])
        )
        cells.append(f"{agree / (len(items) * (len(DICTS) - 1)):.3f}")
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return rows


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def cold_timings(runs: int = 3) -> tuple[float, float, float]:
    """Medians over fresh processes: ``import router.lexicon``; the first check of an
    English question's word (the five languages' vote tables and the English set: what the
    first question with a word to correct waits for); then the other four sets."""
    code = (
        "import time; t = time.perf_counter(); from router import lexicon; "
        "i = time.perf_counter() - t; t = time.perf_counter(); "
        "q = lexicon.question_languages('can you inform me about the act'.split()); "
        "lexicon.known_languages('inform', languages=q); f = time.perf_counter() - t; "
        "t = time.perf_counter(); lexicon.known_languages('inform'); "
        "print(i, f, time.perf_counter() - t)"
    )
    timings: list[list[float]] = [[], [], []]
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.split()
        for column, value in zip(timings, out):
            column.append(float(value))
    a, b, c = (statistics.median(column) for column in timings)
    return a, b, c


def rate(n: int, d: int) -> str:
    return f"{n}/{d} ({100 * n / d:.2f}%)" if d else "0/0"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-language", type=int, default=600)
    parser.add_argument("--synthetic", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("-o", "--output", default=str(ROOT / "benchmarks/results/spelling.md"))
    args = parser.parse_args()

    started = time.perf_counter()
    router = Router.load()
    matcher = router.matcher_
    texts, _labels = router.pack_.training_data()
    normalised = [normalise(t) for t in texts]
    by_lang = dictionary_words(matcher, args.per_language, args.seed)
    parallel = parallel_questions()
    dev = dev_typos()
    synthetic = synthetic_typos(matcher, normalised, args.synthetic, args.seed)

    # The shipped row must be what TermMatcher.correct does.
    for words in [*(q for qs in parallel.values() for q in qs), *(w for w, _, _ in dev)]:
        assert dict(matcher.correct(words)[1]) == corrections(matcher, words, "shipped")

    lines = [
        "# Spelling: false corrections of correct words, recovery of typos",
        "",
        f"- date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {machine()}",
        "- command: `python benchmarks/spelling.py"
        f" --per-language {args.per_language} --synthetic {args.synthetic} --seed {args.seed}`",
        f"- shipped: `router.lexicon`, wordfreq's \"large\" lists at Zipf >= {lexicon.MIN_ZIPF}",
        "- baseline: the same corrector without a lexicon (the training vocabulary alone)",
        "",
        "## False corrections (lower is better; target under 0.5%)",
        "",
        "Debian word lists: words of five letters or more, letters only, not in the training",
        "vocabulary (the only ones the corrector can change), sampled with the seed, each alone.",
        "Parallel set: every word of the held-out questions in each language, in its question.",
        "",
    ]
    header = "| lexicon | " + " | ".join(f"dict {lang}" for lang in DICTS) + " | dict all |"
    header += " parallel all |"
    lines += [header, "|---" * (len(DICTS) + 3) + "|"]
    per_language: list[str] = []
    for floor in (None, "shipped", *FLOORS, *OTHERS):
        cells, total_bad, total = [], 0, 0
        for words in by_lang.values():
            bad = sum(1 for w in words if corrections(matcher, [w], floor))
            cells.append(rate(bad, len(words)))
            total_bad, total = total_bad + bad, total + len(words)
        by_question = {
            lang: (sum(len(corrections(matcher, q, floor)) for q in qs), sum(map(len, qs)))
            for lang, qs in parallel.items()
        }
        changed = sum(n for n, _ in by_question.values())
        n_words = sum(n for _, n in by_question.values())
        name = name_of(floor)
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {rate(total_bad, total)} | "
                     f"{rate(changed, n_words)} |")  # fmt: skip
        per_language.append(
            f"| {name} | " + " | ".join(rate(*by_question[lang]) for lang in DICTS) + " |"
        )
    lines += [
        "",
        "The parallel set per language (words changed / words of its 70 questions):",
        "",
        "| lexicon | " + " | ".join(f"parallel {lang}" for lang in DICTS) + " |",
        "|---" * (len(DICTS) + 1) + "|",
        *per_language,
    ]
    lines += ["", "Examples of false corrections with the shipped lexicon, per language:", ""]
    for lang, words in by_lang.items():
        fixed = {w: corrections(matcher, [w], "shipped").get(w) for w in words}
        bad = [f"{w} -> {f}" for w, f in fixed.items() if f is not None]
        lines.append(f"- {lang}: {', '.join(bad[:8]) or 'none'}")
    changed = sorted(
        {
            f"{w} -> {f} ({lang})"
            for lang, qs in parallel.items()
            for q in qs
            for w, f in corrections(matcher, q, "shipped").items()
        }
    )
    lines.append(f"- parallel set: {', '.join(changed) or 'none'}")

    lines += [
        "",
        "## Typo recovery (higher is better; must not drop)",
        "",
        "Recovered: corrected to the intended word, in its question. Known: the misspelling is",
        "itself in the training vocabulary (the training data holds some typos on purpose), so",
        "it needs no correction. Wrong: corrected to another word.",
        "",
        "| lexicon | dev typos recovered | dev known | dev wrong | synthetic recovered "
        "| synthetic wrong |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for floor in (None, "shipped", *FLOORS, *OTHERS):
        cells = []
        for cases in (dev, synthetic):
            got = [corrections(matcher, words, floor).get(typo) for words, typo, _ in cases]
            ok = sum(g == want for g, (_, _, want) in zip(got, cases))
            wrong = sum(g is not None and g != want for g, (_, _, want) in zip(got, cases))
            known = sum(typo in matcher.vocabulary_ for _, typo, _ in cases)
            cells.append((rate(ok, len(cases)), str(known), str(wrong)))
        (dev_ok, dev_known, dev_wrong), (syn_ok, _, syn_wrong) = cells
        name = name_of(floor)
        lines.append(f"| {name} | {dev_ok} | {dev_known} | {dev_wrong} | {syn_ok} | {syn_wrong} |")
    lost = [
        f"{typo} -> {want}"
        for words, typo, want in dev
        if corrections(matcher, words, None).get(typo) == want
        and corrections(matcher, words, "shipped").get(typo) != want
    ]
    lines += ["", f"Dev typos the baseline recovers and the shipped lexicon does not: "
              f"{', '.join(lost) or 'none'}."]  # fmt: skip
    lines += [
        "",
        "## Routing accuracy, without and with the lexicon",
        "",
        "dev: tests/data/dev.yaml (typo: its questions tagged typo); multilingual: the held-out",
        "tests/data/multilingual.yaml; parallel: the held-out tests/data/parallel.yaml, right unit",
        "per language, and agreement of the other four with English.",
        "",
        "| corrector | dev | dev typo | multilingual | parallel en | fr | de | it | es "
        "| agreement |",
        "|---" * 10 + "|",
        *routing_rows(),
    ]
    imported, first, rest = cold_timings()
    load = Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"
    lines += [
        "",
        "## Cost",
        "",
        f"Fresh processes, median of 3 (load average {load} on this shared machine when",
        "measured: the times are several times an idle machine's).",
        "",
        f"- `import router.lexicon`: {imported * 1000:.0f} ms; it never imports wordfreq.",
        f"- first check of a word in an English question: {first:.2f} s (the five languages'"
        " vote tables and the English set), once per process, only when a question has a"
        " word the corrector would change.",
        f"- the other four languages' sets: {rest:.2f} s more, each only if a question needs it"
        f" (words kept in all five: "
        f"{sum(len(lexicon.words(lang)) for lang in lexicon.LANGUAGES):,}).",
        "- wordfreq 3.1.1 wheel: 57 MB (58 MB installed, all languages' lists), plus its",
        "  dependencies ftfy, langcodes, msgpack, regex, locate (about 7 MB);"
        " pyspellchecker 0.9.1: 7 MB.",
        "",
        f"({time.perf_counter() - started:.0f} s)",
        "",
    ]
    Path(args.output).write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
