"""For comparison only (benchmarks/spelling.py): a lexicon read from pyspellchecker's
dictionaries (MIT; maintained; word counts from OpenSubtitles 2018, cleaned of misspellings
and completed with dictionary words by its authors), folded and voted on as router.lexicon
does (its :func:`zipf` is given to ``router.lexicon.question_languages``, which votes).
pyspellchecker is not a dependency: install it to get this row."""

from __future__ import annotations

import functools
import gzip
import json
import math
from collections.abc import Iterable
from importlib.util import find_spec
from pathlib import Path

# The shipped lexicon's own folding, so that both word lists are compared folded alike.
from router.lexicon import _PLAIN, _fold

__all__ = ["LANGUAGES", "VOTE_ZIPF", "known_languages", "words", "zipf"]

#: The languages whose real words are never corrected (ISO 639-1 codes).
LANGUAGES: tuple[str, ...] = ("en", "fr", "de", "it", "es")

#: Words at least this frequent (Zipf: log10 of occurrences per billion words) vote for the
#: language they are most frequent in when :func:`question_languages` tells a question's
#: language: "the" is in French subtitles too, but far less often than in English. The
#: commonest few thousand words of each language are enough to vote.
VOTE_ZIPF = 4.0


def words(language: str) -> frozenset[str]:
    """The words of ``language``, folded as the router folds a question
    (:func:`router.text.normalised_words`: case, accents, apostrophes split).

    Raises:
        ValueError: ``language`` is not one of :data:`LANGUAGES`.
    """
    _check(language)
    return _lexicon(language)[0]


def zipf(word: str, language: str) -> float:
    """How frequent the folded ``word`` is in ``language`` on the Zipf scale, if at least
    :data:`VOTE_ZIPF`; else 0.0."""
    _check(language)
    return _lexicon(language)[1].get(word, 0.0)


def _check(language: str) -> None:
    if language not in LANGUAGES:
        raise ValueError(
            f"no word list for language {language!r}; use one of {', '.join(LANGUAGES)}"
        )


@functools.cache
def _lexicon(language: str) -> tuple[frozenset[str], dict[str, float]]:
    """The folded words of ``language`` and the Zipf frequency of its common ones (the
    most frequent spelling's, where several fold alike)."""
    # The data file, read directly: `import spellchecker` would be quick too, but its
    # SpellChecker keeps the counts of every word (a dict per language) that this needs
    # only once, to build a set.
    path = _data_dir() / f"{language}.json.gz"
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        counts: dict[str, int] = json.load(stream)
    if not isinstance(counts, dict):
        raise RuntimeError(
            f"pyspellchecker's {path.name} is not the word -> count table this version "
            "reads; install a pyspellchecker version this package supports (pyproject.toml)"
        )
    # Most words are their own folded form (lower-case ASCII letters): found by one regex
    # over the whole list rather than a test per word. The rest ("l'ai", "sécurité") are
    # folded together, in one call.
    text = "\n".join(counts)
    known = set(_PLAIN.findall(text))
    known.update(_fold(_PLAIN.sub("", text)))
    total = sum(counts.values())
    least = total * 10 ** (VOTE_ZIPF - 9.0)
    frequency: dict[str, float] = {}
    common = sorted(((c, w) for w, c in counts.items() if c >= least), reverse=True)
    for count, word in common:  # the most frequent spelling first, where several fold alike
        zipf_value = round(math.log10(count / total) + 9.0, 2)
        for folded in [word] if _PLAIN.fullmatch(word) else _fold(word):
            frequency.setdefault(folded, zipf_value)
    return frozenset(known), frequency


def _data_dir() -> Path:
    # find_spec locates the package without running its __init__ (files() would import it).
    spec = find_spec("spellchecker")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "pyspellchecker is not installed; pip install pyspellchecker to get this row"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "resources"


def known_languages(word: str, *, languages: Iterable[str] = LANGUAGES) -> tuple[str, ...]:
    """The ``languages`` in which the folded ``word`` is a known word, in order."""
    return tuple(lang for lang in languages if word in words(lang))
