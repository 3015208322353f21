"""Known-correct words of the five supported languages, so that spelling correction leaves
a real word alone.

The words come from wordfreq's "large" lists (code Apache-2.0; data CC-BY-SA 4.0, from
Wikipedia, subtitles, news, books, web text and more), which ship inside its wheel: nothing
is downloaded. Lists built from running text also hold misspellings, the common ones about
as often as rare real words ("recieve" and "seperate" near 2.8 on the Zipf scale in English,
"tomorow" 1.8, "hollows" 2.3), so a frequency floor trades one for the other: at
:data:`MIN_ZIPF` most inflected forms of French, Italian or Spanish verbs count as known,
and misspellings under it are still corrected (benchmarks/results/spelling.md).

Each language's set is built on first use and kept, only when a question has a word to
correct and only for the question's languages; ``Router.warm_up`` builds them all before
batch workers fork."""

from __future__ import annotations

import functools
import gzip
import re
from collections.abc import Callable, Iterable, Sequence
from importlib.util import find_spec
from pathlib import Path

from .text import normalised_words

__all__ = [
    "LANGUAGES",
    "MIN_ZIPF",
    "VOTE_ZIPF",
    "known_languages",
    "question_languages",
    "words",
    "zipf",
]

#: The languages whose real words are never corrected (ISO 639-1 codes).
LANGUAGES: tuple[str, ...] = ("en", "fr", "de", "it", "es")

#: The least frequency, on the Zipf scale (log10 of occurrences per billion words), of a
#: word that counts as known; chosen on the Debian word lists and on typos made in training
#: sentences (benchmarks/spelling.py), not on the held-out sets.
MIN_ZIPF = 2.0


#: Words at least this frequent (Zipf) vote for the language they are most frequent in when
#: :func:`question_languages` tells a question's language: "the" is in French web text too,
#: but far less often than in English. The commonest few thousand words of each language
#: are enough to vote, and quick to read.
VOTE_ZIPF = 4.0


def words(language: str, *, min_zipf: float = MIN_ZIPF) -> frozenset[str]:
    """The words of ``language`` at or over ``min_zipf``, folded as the router folds a
    question (:func:`router.text.normalised_words`: case, accents, apostrophes split).

    Built on first use for each language and floor, then kept.

    Raises:
        ValueError: ``language`` is not one of :data:`LANGUAGES`.
    """
    _check(language)
    return _words(language, round(min_zipf, 2))


def zipf(word: str, language: str) -> float:
    """How frequent the folded ``word`` is in ``language`` on the Zipf scale, if at least
    :data:`VOTE_ZIPF`; else 0.0."""
    _check(language)
    return _frequencies(language).get(word, 0.0)


def _check(language: str) -> None:
    if language not in LANGUAGES:
        raise ValueError(
            f"no word list for language {language!r}; use one of {', '.join(LANGUAGES)}"
        )


@functools.cache
def _words(language: str, min_zipf: float) -> frozenset[str]:
    # wordfreq's lists are lower-case already, so a word of ASCII letters and digits is its
    # own folded form: found by one regex over the whole list rather than a test per word.
    # The rest ("l'ai", "sécurité") are folded together, in one call.
    text = "\n".join(w for bucket in _read(language, min_zipf) for w in bucket)
    known = set(_PLAIN.findall(text))
    known.update(_fold(_PLAIN.sub("", text)))
    return frozenset(known)


@functools.cache
def _frequencies(language: str) -> dict[str, float]:
    frequency: dict[str, float] = {}
    for centibels, bucket in enumerate(_read(language, VOTE_ZIPF)):
        if bucket:
            for word in _fold("\n".join(bucket)):
                frequency.setdefault(word, 9.0 - centibels / 100)  # the most frequent first
    return frequency


def _read(language: str, min_zipf: float) -> list[list[str]]:
    """wordfreq's list for ``language``, one list of words per centibel from the most
    frequent (0 cB, Zipf 9) down to ``min_zipf``."""
    import msgpack  # a dependency of wordfreq; imported here so `import router` stays quick

    # Read wordfreq's data file directly rather than through `import wordfreq`, which loads
    # ftfy and langcodes (a second) to offer tokenisers this module does not need. The
    # file is wordfreq's documented "cBpack": a header, then one list of words per
    # centibel of frequency, the most frequent first; only the lists over the floor are
    # decoded, not the long tail of rare words.
    path = _data_dir() / f"large_{language}.msgpack.gz"
    last = round((9.0 - min_zipf) * 100)
    with gzip.open(path) as stream:
        unpacker = msgpack.Unpacker(stream, raw=False)
        count = unpacker.read_array_header()
        header = unpacker.unpack()
        if not isinstance(header, dict) or header.get("format") != "cB":
            raise RuntimeError(
                f"wordfreq's {path.name} is not in the format this version reads; "
                "install a wordfreq version this package supports (see pyproject.toml)"
            )
        return [unpacker.unpack() for _ in range(min(count - 1, last + 1))]


_PLAIN = re.compile(r"^[a-z0-9]+$", re.MULTILINE)
# Emoji and other characters beyond the Basic Multilingual Plane: no supported language's
# letters, and they would send the folding down its slow per-character path.
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _fold(text: str) -> list[str]:
    """The folded words of ``text``, in one call of :func:`normalised_words`."""
    return normalised_words(_ASTRAL.sub(" ", text))


def _data_dir() -> Path:
    # find_spec locates the package without running its __init__ (files() would import it).
    spec = find_spec("wordfreq")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "wordfreq is not installed; reinstall ai-office-router, which depends on it"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def known_languages(
    word: str, *, languages: Iterable[str] = LANGUAGES, min_zipf: float = MIN_ZIPF
) -> tuple[str, ...]:
    """The ``languages`` in which the folded ``word`` is a known word, in order."""
    return tuple(lang for lang in languages if word in words(lang, min_zipf=min_zipf))


def question_languages(
    question: Sequence[str], *, frequency: Callable[[str, str], float] = zipf
) -> tuple[str, ...]:
    """The languages a question's folded words most likely are in: each common word votes
    for the language it is most frequent in (all of them on a tie); the languages with the
    most votes win. All five when no word is common in any.

    ``frequency(word, language)``: a common word's Zipf frequency, 0.0 for the others
    (:func:`zipf`; another word list's in the spelling benchmark's comparison).
    """
    votes = dict.fromkeys(LANGUAGES, 0)
    for word in set(question):
        scores = {lang: frequency(word, lang) for lang in LANGUAGES}
        best = max(scores.values())
        if best:
            for lang, score in scores.items():
                votes[lang] += score == best
    most = max(votes.values())
    return tuple(lang for lang, n in votes.items() if n == most)
