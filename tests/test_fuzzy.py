"""router.fuzzy: spelling correction to the training vocabulary, key-term matching."""

from __future__ import annotations

import random

import numpy as np
import pytest
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from router import lexicon
from router.errors import NotFittedError
from router.fuzzy import TermMatcher
from router.text import normalised_words

TEXTS = [
    "who enforces the ai act",
    "enforcement of the ai act against providers",
    "systemic risk of frontier models",
    "evaluation of systemic risk",
    "funding for robotics research",
    "the ai act and robotics",
]
LABELS = ["rules", "rules", "safety", "safety", "research", "rules"]
TERMS = {
    "rules": ["enforcement", "AI Act"],
    "safety": ["systemic risk", "frontier model"],
    "research": ["robotics", "GenAI4EU"],
}


@pytest.fixture
def matcher() -> TermMatcher:
    return TermMatcher().fit(TEXTS, LABELS, TERMS)


def test_unfitted_matcher_says_so() -> None:
    with pytest.raises(NotFittedError, match="fit"):
        TermMatcher().correct(["enforcment"])


def test_unknown_words_are_corrected_to_the_vocabulary(matcher: TermMatcher) -> None:
    words, fixes = matcher.correct(["who", "handles", "enforcment", "and", "sistemic", "risk"])
    assert words == ["who", "handles", "enforcement", "and", "systemic", "risk"]
    assert fixes == [("enforcment", "enforcement"), ("sistemic", "systemic")]


def test_short_numeric_and_far_words_are_left_alone(matcher: TermMatcher) -> None:
    words, fixes = matcher.correct(["aktt", "2024", "r1sk", "pancakes", "pancakes"])
    assert words == ["aktt", "2024", "r1sk", "pancakes", "pancakes"]
    assert fixes == []


def test_a_repeated_misspelling_is_corrected_each_time(matcher: TermMatcher) -> None:
    words, fixes = matcher.correct(["robotcs", "robotcs"])
    assert words == ["robotics", "robotics"]
    assert fixes == [("robotcs", "robotics")] * 2


def plain_correction(fitted: TermMatcher, word: str, by_length: dict[int, list[str]]) -> str | None:
    """What :meth:`TermMatcher.correct_word` is, by full scans of the vocabulary (the oracle
    of its deletion index): among words one letter shorter, as long or one longer whose
    ``ratio`` is at or over the cutoff, and the words ``word`` is with two neighbours
    swapped, the fewest edits (a swap counts as one), then the best ratio, the shorter, the
    first alphabetically; else the most frequent word within ``max_edits`` edits seen
    ``edit_min_count`` times (a tie: the closer by ``ratio``, then the first
    alphabetically); never a real word. ``by_length``: the vocabulary's words of each
    length, in alphabetical order."""
    n = len(word)
    hits = {
        candidate: fuzz.ratio(word, candidate)
        for length in (n - 1, n, n + 1)
        for candidate in by_length.get(length, [])
        if fuzz.ratio(word, candidate) >= fitted.score_cutoff
    }
    hits |= {
        candidate: fuzz.ratio(word, candidate)
        for candidate in by_length.get(n, [])
        if candidate != word
        and any(word[:i] + word[i + 1] + word[i] + word[i + 2 :] == candidate for i in range(n - 1))
    }
    key = lambda v: (OSA.distance(word, v), -hits[v], len(v), v)  # noqa: E731
    found = min(hits, key=key, default=None)
    if found is None and fitted.max_edits > 0:
        near = [
            v
            for length in range(n - fitted.max_edits, n + fitted.max_edits + 1)
            for v in by_length.get(length, [])
            if OSA.distance(word, v) <= fitted.max_edits
            and fitted.counts_.get(v, 0) >= fitted.edit_min_count
        ]
        by_count = lambda v: (-fitted.counts_[v], -fuzz.ratio(word, v), v)  # noqa: E731
        found = min(near, key=by_count, default=None)
    return None if found is not None and lexicon.known_languages(word) else found


def _typo(rng: random.Random, word: str) -> str:
    """``word`` with one letter dropped, added, changed, or two neighbours swapped."""
    i = rng.randrange(len(word) + 1)
    letter = rng.choice("abcdeilnorstuyzé")
    if not word:  # a one-letter word ("a") dropped to nothing by the first typo
        return letter
    j = min(i, len(word) - 2) if len(word) > 1 else 0
    return rng.choice(
        [
            word[:i] + word[i + 1 :],
            word[:i] + letter + word[i:],
            word[:i] + letter + word[i + 1 :],
            word[:j] + word[j + 1 : j + 2] + word[j] + word[j + 2 :],
        ]
    )


@pytest.mark.parametrize(
    ("cutoff", "max_edits"),
    # 84: the deletion index serves words of 2-8 letters, a scan longer ones; 80 and 60:
    # fewer lengths or none are indexed; max_edits 0 leaves the ratio alone to decide.
    [(84.0, 1), (84.0, 0), (80.0, 1), (60.0, 1)],
)
def test_corrections_are_those_a_full_scan_finds(cutoff: float, max_edits: int) -> None:
    from router import load_pack
    from router.text import normalise

    texts, labels = load_pack().training_data()
    fitted = TermMatcher(score_cutoff=cutoff, max_edits=max_edits).fit(
        [normalise(t) for t in texts], labels, {}
    )
    rng = random.Random(5)
    vocabulary = sorted(fitted.vocabulary_)
    by_length: dict[int, list[str]] = {}
    for w in vocabulary:
        by_length.setdefault(len(w), []).append(w)
    words = {_typo(rng, w) for w in rng.sample(vocabulary, 300)}
    words |= {_typo(rng, _typo(rng, w)) for w in rng.sample(vocabulary, 300)}
    checked = sorted(w for w in words if len(w) > 1 and w not in fitted.vocabulary_)
    assert len(checked) > 400
    assert len({len(w) for w in checked}) >= 12  # short words and long ones: both paths
    got = {w: fitted.correct_word(w) for w in checked}
    assert got == {w: plain_correction(fitted, w, by_length) for w in checked}
    assert sum(c is not None for c in got.values()) > 150  # not a comparison of Nones


def test_one_edit_under_the_cutoff_goes_to_a_frequent_word_only() -> None:
    # "modle" and "ridks" are one swap or substitution from "model" and "risks", which
    # rapidfuzz's ratio scores 80, under the cutoff; "sharp" is one from "share", seen once.
    texts = ["the model", "a model card", "model risks", "systemic risks", "risks", "share"]
    fitted = TermMatcher().fit(texts, ["a"] * 6, {})
    words, fixes = fitted.correct(["modle", "ridks", "sharp"])
    assert words == ["model", "risks", "sharp"]
    assert fixes == [("modle", "model"), ("ridks", "risks")]
    strict = TermMatcher(max_edits=0).fit(texts, ["a"] * 6, {})
    # Without the fallback a swap of neighbours is still one edit; a substitution is not.
    assert strict.correct(["modle", "ridks"]) == (["model", "ridks"], [("modle", "model")])


def test_a_real_word_wins_over_a_typo_the_texts_hold() -> None:
    # "reserach" is one swap from "research" and one deletion from the typo "reserch" that
    # the texts also hold; rapidfuzz's ratio prefers the deletion (93 to 88), so the word
    # alone goes there, but in a question the real word wins.
    texts = ["research grants", "ai research", "reserch money"]
    fitted = TermMatcher(max_edits=0).fit(texts, ["a"] * 3, {})
    assert fitted.correct_word("reserach") == "reserch"
    question = ["who", "funds", "reserach", "on", "robots"]
    assert fitted.correct(question)[1] == [("reserach", "research")]


def test_a_swap_is_one_edit_and_beats_two() -> None:
    # "regluatory" is one swap from "regulatory" and an insertion and a deletion from
    # "areluatory", both ratio 90 (which took the first alphabetically); the swap is the
    # likelier typo.
    texts = ["regulatory sandbox", "areluatory"]
    fitted = TermMatcher(max_edits=0).fit(texts, ["a", "a"], {})
    assert fitted.correct_word("regluatory") == "regulatory"


def test_the_candidate_in_the_question_language_wins() -> None:
    # The vocabulary mixes languages: "modles" is one swap from "models" and one insertion
    # from the French "modeles"; in an English question it is "models", in a French one
    # "modeles".
    texts = ["evaluation of models", "evaluation des modeles"]
    fitted = TermMatcher(max_edits=0).fit(texts, ["a", "a"], {})
    english = ["how", "do", "you", "evaluate", "these", "modles", "for", "the", "risks"]
    french = ["comment", "evaluez", "vous", "les", "modles", "pour", "les", "risques"]
    assert dict(fitted.correct(english)[1]) == {"modles": "models"}
    assert dict(fitted.correct(french)[1]) == {"modles": "modeles"}


def test_spelling_cache_is_bounded() -> None:
    small = TermMatcher(cache_size=3).fit(TEXTS, LABELS, TERMS)
    for word in ["enforcmentt", "sistemic", "robotcs", "fundingg", "evaluaton"]:
        small.correct_word(word)
        size, limit = small.cache_info()["corrections"]
        assert 1 <= size <= limit == 3


def test_multi_word_terms_match_with_what_was_typed(matcher: TermMatcher) -> None:
    typed = ["who", "tests", "sistemic", "risk", "of", "frontier", "model"]
    corrected, _ = matcher.correct(typed)
    found = {(m.unit, m.term): m for m in matcher.match(corrected, typed)}
    assert set(found) == {("safety", "systemic risk"), ("safety", "frontier model")}
    risk = found[("safety", "systemic risk")]
    assert risk.matched == "sistemic risk" and risk.score < 1.0
    assert found[("safety", "frontier model")].score == 1.0


def test_term_weight_is_how_reliably_it_points_to_its_unit(matcher: TermMatcher) -> None:
    # "robotics" is in one research text and one rules text: (1 + 1) / (2 + 2).
    robotics = matcher.match(["robotics"], ["robotics"])[0]
    assert robotics.weight == pytest.approx(0.5)
    # "systemic risk" is in two safety texts and nowhere else: (2 + 1) / (2 + 2).
    risk = matcher.match(["systemic", "risk"], ["systemic", "risk"])[0]
    assert risk.weight == pytest.approx(0.75)


def test_unit_scores_combine_matches_as_independent_evidence(matcher: TermMatcher) -> None:
    words = ["systemic", "risk", "frontier", "model", "robotics"]
    matches = matcher.match(words, words)
    scores = matcher.unit_scores(matches, ["rules", "safety", "research", "out"])
    by_unit = {m.term: m.score * m.weight for m in matches}
    want_safety = 1 - (1 - by_unit["systemic risk"]) * (1 - by_unit["frontier model"])
    assert scores.tolist() == pytest.approx([0.0, want_safety, by_unit["robotics"], 0.0])
    assert np.all((scores >= 0) & (scores <= 1))


def test_matcher_follows_scikit_learns_estimator_conventions(matcher: TermMatcher) -> None:
    from sklearn.base import clone

    tuned = TermMatcher(score_cutoff=70.0, max_edits=0)
    assert tuned.get_params() == {
        "score_cutoff": 70.0,
        "min_length": 5,
        "max_edits": 0,
        "edit_min_count": 3,
        "cache_size": 100_000,
    }
    assert tuned.set_params(min_length=4) is tuned and tuned.min_length == 4
    with pytest.raises(ValueError, match="no setting 'cutoff'"):
        tuned.set_params(cutoff=1)
    # A fitted matcher clones to an unfitted one with the same settings.
    copy = clone(matcher)
    assert copy.get_params() == matcher.get_params()
    with pytest.raises(NotFittedError):
        copy.correct(["enforcment"])
    assert copy.fit(TEXTS, LABELS, TERMS).correct(["enforcment"]) == matcher.correct(["enforcment"])


def test_matcher_caches_are_bounded() -> None:
    small = TermMatcher(cache_size=2).fit(TEXTS, LABELS, TERMS)
    typed = [["sistemic", "risk"], ["systemic", "riks"], ["frontier", "modell"], ["robotics"]]
    for words in typed:
        small.match(small.correct(words)[0], words)
        small.correct(["enforcmentt", "fundingg", "evaluaton"])
        info = small.cache_info()
        assert set(info) == {"corrections", "term_matches"}
        assert all(1 <= size <= limit == 2 for size, limit in info.values()), info


# Near neighbours of real words, as a training vocabulary can hold them (typos on purpose,
# other languages' forms): the words the corrector used to "correct" real words to.
NEIGHBOURS = [
    "the infor desk",
    "eine beschwere",
    "providers sanctioned",
    "compliance with the act",
    "systemic risk",
    "ai for climate modelling",
]


def test_real_words_are_never_corrected_but_typos_still_are() -> None:
    fitted = TermMatcher().fit(NEIGHBOURS, ["a"] * len(NEIGHBOURS), {})
    for question in (
        "can you inform me about the act",
        "wo kann ich mich beschweren",
        "qui sanctionne les fournisseurs",
    ):
        words = normalised_words(question)
        assert fitted.correct(words) == (words, [])
    words, fixes = fitted.correct(["sistemic", "risk", "and", "complience"])
    assert words == ["systemic", "risk", "and", "compliance"]
    assert fixes == [("sistemic", "systemic"), ("complience", "compliance")]


def test_a_real_word_of_another_language_is_corrected_in_an_english_question() -> None:
    # "climat" is French; among English words it is a typo of "climate". Alone, with no
    # question to tell its language, it is left alone.
    fitted = TermMatcher().fit(NEIGHBOURS, ["a"] * len(NEIGHBOURS), {})
    words = normalised_words("is the EU working with other countries on AI for climat modelling")
    assert fitted.correct(words)[1] == [("climat", "climate")]
    assert fitted.correct(["climat"]) == (["climat"], [])
    assert fitted.correct_word("climat") is None
    assert fitted.correct_word("inform") is None
    assert fitted.correct_word("sistemic") == "systemic"


# Correct words an inquiry may hold, written for this test (not drawn from any data set);
# the training vocabulary alone "corrected" about one in six of them.
CORRECT_WORDS = {
    "en": "inform informed complaint reported police cameras hospital doctors teachers "
    "schools farmers weather tomorrow vacuum passport holiday lawyer insurance salary "
    "landlord neighbour bicycle kitchen recipe guitar",
    "fr": "sanctionne sanctionnent plainte porter reconnaissance faciale policiers hôpital "
    "médecins enseignants écoles agriculteurs demain aspirateur passeport vacances avocat "
    "assurance salaire voisin cuisine recette guitare voudrais pourriez",
    "de": "beschweren Beschwerde Polizei Kameras Krankenhaus Ärzte Lehrer Schulen Landwirte "
    "morgen Staubsauger Reisepass Urlaub Anwalt Versicherung Gehalt Vermieter Nachbar "
    "Fahrrad Küche Rezept Gitarre möchte könnten",
    "it": "sanziona reclamo lamentarmi polizia telecamere ospedale medici insegnanti scuole "
    "agricoltori domani aspirapolvere passaporto vacanze avvocato assicurazione stipendio "
    "vicino cucina ricetta chitarra vorrei potreste",
    "es": "sanciona denunciarlo quejarme policía cámaras hospital médicos profesores escuelas "
    "agricultores mañana aspiradora pasaporte vacaciones abogado seguro salario vecino "
    "cocina receta guitarra quisiera podrían",
}


@pytest.mark.parametrize("language", sorted(CORRECT_WORDS))
def test_correct_words_of_each_language_are_left_alone(router, language: str) -> None:
    words = normalised_words(CORRECT_WORDS[language])
    assert len(words) >= 23
    changed = [w for w in words if router.matcher_.correct([w])[1]]
    assert changed == []
    # And the examples, in their questions, through the router.
    for question in (
        "Can you inform me about the AI Act?",
        "Wo kann ich mich beschweren?",
        "Qui sanctionne les entreprises ?",
    ):
        assert router.route(question).evidence.corrections == ()
