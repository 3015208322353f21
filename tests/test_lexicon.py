"""router.lexicon: the real words of en/fr/de/it/es that spelling correction leaves alone."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest

from router import lexicon
from router.text import normalise, normalised_words


@pytest.mark.parametrize(
    ("word", "language"),
    [("inform", "en"), ("beschweren", "de"), ("sanctionne", "fr"), ("sanziona", "it"),
     ("denunciarlo", "es")],
)  # fmt: skip
def test_words_corrected_wrongly_before_are_known(word: str, language: str) -> None:
    # The first three are the issue's: "inform" -> "infor", "beschweren" -> "beschwere",
    # "sanctionne" -> "sanctioned".
    assert language in lexicon.known_languages(word)


@pytest.mark.parametrize(
    "typo", ["complience", "sistemic", "enforcment", "guidlines", "methodolgy", "regualtory"]
)
def test_misspellings_of_common_words_are_not_known(typo: str) -> None:
    assert lexicon.known_languages(typo) == ()


def test_words_are_folded_as_questions_are() -> None:
    # Accents, case and apostrophes as router.text folds them, so a question's words meet
    # them: "sécurité", "Straße", "aujourd'hui".
    assert {"securite", "aujourd", "hui"} <= lexicon.words("fr")
    assert "strasse" in lexicon.words("de")
    for language in lexicon.LANGUAGES:
        sample = random.Random(3).sample(sorted(lexicon.words(language)), 500)
        assert all(normalised_words(w) == [w] for w in sample), language


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("Can you inform me about the AI Act?", "en"),
        ("is the eu workin with other countrys on ai for climat modelling", "en"),
        ("Qui sanctionne les entreprises qui utilisent des systèmes interdits ?", "fr"),
        ("Wo kann ich mich über die Polizei beschweren?", "de"),
        ("A chi posso fare reclamo per il riconoscimento facciale?", "it"),
        ("¿Dónde puedo denunciar el uso de cámaras por la policía?", "es"),
    ],
)
def test_a_question_language_is_voted_by_its_common_words(question: str, language: str) -> None:
    assert lexicon.question_languages(normalised_words(question)) == (language,)


def test_a_question_with_no_common_word_could_be_in_any_language() -> None:
    assert lexicon.question_languages(["xqztw", "2024"]) == lexicon.LANGUAGES
    assert lexicon.question_languages([]) == lexicon.LANGUAGES


def test_common_words_have_their_frequency_and_rare_ones_none() -> None:
    assert lexicon.zipf("the", "en") > lexicon.zipf("the", "fr") > 0
    assert lexicon.zipf(normalise("sécurité"), "fr") > 4
    assert lexicon.zipf("complience", "en") == 0.0


def test_an_unsupported_language_is_an_error_naming_the_supported_ones() -> None:
    with pytest.raises(ValueError, match="use one of en, fr, de, it, es"):
        lexicon.words("nl")
    with pytest.raises(ValueError, match="'pt'"):
        lexicon.zipf("obrigado", "pt")


def test_the_lexicon_does_not_import_wordfreq() -> None:
    # wordfreq's own import loads ftfy and langcodes (about a second); the lexicon reads
    # its data files without it, so the chat starts and first corrects without that wait.
    code = (
        "import sys; from router import lexicon; lexicon.known_languages('inform'); "
        "print('wordfreq' in sys.modules, 'ftfy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
