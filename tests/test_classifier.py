"""The TF-IDF + linear model classifier."""

from __future__ import annotations

import random
import string
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse as sp

from router import NotFittedError, load_pack
from router.classifier import IntentClassifier
from router.linear import LinearTextModel, softmax
from router.text import normalise


@pytest.fixture(scope="module")
def fitted() -> IntentClassifier:
    texts, labels = load_pack().training_data()
    return IntentClassifier().fit([normalise(t) for t in texts], labels)


def test_fast_transform_equals_scikit_learns(fitted: IntentClassifier) -> None:
    texts = [
        normalise(t)
        for t in [
            "who fines GPAI providers",
            "sécurité des modèles à risque systémique",
            "",
            "a",
            "zzzz qqqq unknownword",
            "EDIH EDIH EDIH repeated words repeated",
        ]
    ]
    fast = fitted.transform(texts)
    slow = sp.hstack(
        [fitted.word_.transform(texts), fitted.char_weight * fitted.char_.transform(texts)],
        format="csr",
    )
    assert fast.shape == slow.shape
    assert abs(fast - slow).max() < 1e-6
    # Cached words give the same columns the second time.
    assert abs(fitted.transform(texts) - fast).max() == 0


def clone_fitted(model: IntentClassifier) -> LinearTextModel:
    """A fresh copy of a fitted model's linear part, with an empty table of seen words."""
    linear = model.linear_
    return LinearTextModel(
        linear.classes_,
        linear.word_vocab_,
        linear.char_vocab_,
        linear.word_idf_,
        linear.char_idf_,
        linear.coef_,
        linear.intercept_,
        char_ngram_range=linear.char_ngram_range,
        char_weight=linear.char_weight,
    )


def _sklearn_features(model: IntentClassifier, texts: list[str]) -> sp.csr_matrix:
    return sp.hstack(
        [model.word_.transform(texts), model.char_weight * model.char_.transform(texts)],
        format="csr",
    )


def test_transform_follows_a_refit_and_a_full_word_table(
    fitted: IntentClassifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = [normalise(t) for t in ["who fines GPAI providers", "funding for robots", "hello"]]
    model = IntentClassifier().fit(
        ["fines for providers", "robots and funding", "hello there"], ["a", "b", "c"]
    )
    before = model.transform(texts)
    assert abs(before - _sklearn_features(model, texts)).max() < 1e-6
    # A new fit brings a new vocabulary: the words' columns learned before must go.
    texts_all, labels = load_pack().training_data()
    model.fit([normalise(t) for t in texts_all], labels)
    assert abs(model.transform(texts) - _sklearn_features(model, texts)).max() < 1e-6
    # Past the word table's cap it starts again, with the same columns.
    monkeypatch.setattr("router.linear.WORD_CACHE_SIZE", 2)
    many = [f"{t} extra{i}" for i, t in enumerate(texts * 3)]
    for start in range(0, len(many), 2):
        part = many[start : start + 2]
        assert abs(model.transform(part) - _sklearn_features(model, part)).max() < 1e-6
        size, limit = model.cache_info()
        assert limit == 2 and size <= 2 + 2 * 5


def test_pairs_of_unknown_words_are_looked_up_as_text() -> None:
    # A vocabulary trimmed by hand can hold a pair whose words it lacks; transform must
    # still find the pair (this takes the path that joins the words).
    fitted = IntentClassifier().fit(["ai office fines", "robot funding calls"], ["a", "b"])
    linear = fitted.linear_
    vocab = dict(linear.word_vocab_)
    del vocab["office"]
    model = LinearTextModel(
        linear.classes_,
        vocab,
        linear.char_vocab_,
        linear.word_idf_,
        linear.char_idf_,
        linear.coef_,
        linear.intercept_,
    )
    got = model.transform(["ai office fines"]).toarray()[0]
    assert got[fitted.word_.vocabulary_["office"]] == 0
    assert got[vocab["ai office"]] > 0 and got[vocab["office fines"]] > 0


def test_the_classifier_owns_its_linear_model(fitted: IntentClassifier) -> None:
    from sklearn.base import clone

    assert not isinstance(fitted, LinearTextModel)
    assert isinstance(fitted.linear_, LinearTextModel)
    texts = [normalise(t) for t in ["who fines GPAI providers", "pasta"]]
    assert np.array_equal(fitted.decision_function(texts), fitted.linear_.decision_function(texts))
    assert list(fitted.classes_) == list(fitted.linear_.classes_)
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params()
    with pytest.raises(NotFittedError):
        copy.decision_function(texts)


def test_one_model_shared_by_threads_transforms_as_one_thread_does(
    fitted: IntentClassifier,
) -> None:
    # Every thread brings words the model has not seen: they are added to the shared table
    # at once. Each transform must equal a fresh model's, and the table stay right after.
    rng = random.Random(7)
    base = ["who fines gpai providers", "funding for robots", "systemic risk tests"]

    def unseen() -> str:
        return "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 12)))

    # Enough new words that the table grows into new arrays several times meanwhile.
    batches = [
        [f"{rng.choice(base)} {unseen()} {unseen()} {unseen()}" for _ in range(rng.randint(1, 6))]
        for _ in range(800)
    ]
    shared = clone_fitted(fitted)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns often, as on a busy many-core server
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            got = list(pool.map(shared.transform, batches))
    finally:
        sys.setswitchinterval(interval)
    reference = clone_fitted(fitted)
    for batch, features in zip(batches, got):
        assert abs(features - reference.transform(batch)).max() == 0
    for batch in batches[:50]:  # later single-threaded calls are still right
        assert abs(shared.transform(batch) - reference.transform(batch)).max() == 0


def test_probabilities_are_a_distribution(fitted: IntentClassifier) -> None:
    proba = fitted.predict_proba(["red teaming of frontier models", "pasta recipe"])
    assert proba.shape == (2, len(fitted.classes_))
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert list(fitted.predict(["red teaming of frontier models"])) == ["ai_safety"]


def test_temperature_flattens(fitted: IntentClassifier) -> None:
    logits = fitted.decision_function(["GPAI fines"])
    assert softmax(logits, 5.0).max() < softmax(logits, 1.0).max()


def test_top_terms_are_words_that_favour_the_class(fitted: IntentClassifier) -> None:
    features = fitted.transform(["who enforces the ai act and its fines"])
    index = list(fitted.classes_).index("regulation_compliance")
    terms = fitted.top_terms(features, 0, index)
    assert terms and all(weight > 0 for _, weight in terms)
    assert {"fines", "enforces", "ai act"} & {t for t, _ in terms}


def test_unfitted_classifier_raises() -> None:
    with pytest.raises(NotFittedError):
        IntentClassifier().transform(["x"])


def test_needs_two_labels() -> None:
    with pytest.raises(ValueError, match="two distinct labels"):
        IntentClassifier().fit(["a", "b"], ["x", "x"])


def test_char_wb_ngrams_match_scikit_learn() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    from router.linear import char_wb_ngrams

    analyzer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5)).build_analyzer()
    for word in ["a", "ab", "abc", "gpai", "sicherheitsprüfung", "x1"]:
        assert char_wb_ngrams(word, 2, 5) == analyzer(word)


def test_stored_model_round_trips(fitted: IntentClassifier, tmp_path) -> None:
    path = fitted.save(tmp_path / "model.npz", fingerprint="abc")
    loaded, fingerprint = LinearTextModel.load(path)
    assert fingerprint == "abc"
    texts = [normalise(t) for t in ["who fines GPAI providers", "EDIH", "", "pasta"]]
    assert np.allclose(loaded.decision_function(texts), fitted.decision_function(texts), atol=1e-5)
    assert list(loaded.classes_) == list(fitted.classes_)
    feats = loaded.transform(texts[:1])
    assert loaded.top_terms(feats, 0, 0) == fitted.top_terms(fitted.transform(texts[:1]), 0, 0)
    # A model stored without the word-pair table (before it was kept) builds it and gives
    # the same features.
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files if not k.startswith("pair_")}
    older = tmp_path / "older.npz"
    np.savez_compressed(older, **arrays)
    rebuilt, _ = LinearTextModel.load(older)
    pairs_text = [normalise("the ai office and the ai act for general purpose models")]
    assert abs(rebuilt.transform(pairs_text) - loaded.transform(pairs_text)).max() == 0
    assert abs(loaded.transform(pairs_text) - fitted.transform(pairs_text)).max() == 0


def test_broken_stored_model_is_a_pack_error(tmp_path) -> None:
    from router import PackError

    path = tmp_path / "model.npz"
    path.write_bytes(b"not a zip")
    with pytest.raises(PackError, match="ai-office calibrate"):
        LinearTextModel.load(path)
