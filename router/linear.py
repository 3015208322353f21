"""Scoring with a fitted TF-IDF linear model, using only NumPy and SciPy.

Fitting needs scikit-learn (:mod:`router.classifier`), but importing it costs most of a
second, which a chat or a one-shot ``ai-office ask`` should not pay. A fitted model is
therefore also stored with the pack as plain arrays (``intents/model.npz``, no pickle) and
scored here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import chain, pairwise
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from .errors import NotFittedError, PackError

__all__ = ["MODEL_FILE", "LinearTextModel", "char_wb_ngrams", "softmax"]

MODEL_FILE = "model.npz"

#: Words whose character n-gram columns are kept; logs repeat a small vocabulary.
WORD_CACHE_SIZE = 200_000


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of ``logits / temperature``."""
    z = logits / temperature
    z = z - z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def char_wb_ngrams(word: str, low: int, high: int) -> list[str]:
    """Character n-grams of one word padded with spaces, as scikit-learn's ``char_wb``."""
    padded = f" {word} "
    size = len(padded)
    grams: list[str] = []
    for n in range(low, high + 1):
        grams += [padded[i : i + n] for i in range(max(size - n, 0) + 1)]
        if size <= n:  # the word is shorter than n: counted once, as scikit-learn does
            break
    return grams


def _tfidf_rows(indices: np.ndarray, lengths: np.ndarray, idf: np.ndarray) -> sp.csr_matrix:
    """Sublinear TF-IDF rows, l2-normalised: row i has the next ``lengths[i]`` column
    ``indices`` (with repeats, which are counted)."""
    indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    counts = sp.csr_matrix(
        (np.ones(len(indices), dtype=np.float32), indices, indptr), shape=(len(lengths), len(idf))
    )
    counts.sum_duplicates()
    counts.data = (np.log(counts.data) + 1.0).astype(np.float32)
    counts.data *= idf[counts.indices].astype(np.float32)
    norms = np.sqrt(np.asarray(counts.power(2).sum(axis=1), dtype=np.float64).ravel())
    norms[norms == 0] = 1.0
    counts.data /= np.repeat(norms, np.diff(counts.indptr)).astype(np.float32)
    return counts


class LinearTextModel:
    """A fitted linear model over word (1-2) and character n-gram TF-IDF features.

    Attributes (set by :class:`router.classifier.IntentClassifier` or :meth:`load`):
        classes_: class labels, in column order of the scores.
        word_vocab_, char_vocab_: n-gram to column, for each feature block.
        word_idf_, char_idf_: inverse document frequencies of each block.
        coef_, intercept_: the linear model (one row per class, or one row for two classes).
    """

    char_ngram_range: tuple[int, int] = (2, 5)
    char_weight: float = 1.0

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit() first")

    @property
    def n_word_features_(self) -> int:
        return len(self.word_vocab_)

    @property
    def word_names_(self) -> np.ndarray:
        if not hasattr(self, "_word_names"):
            names = np.empty(len(self.word_vocab_), dtype=object)
            for gram, col in self.word_vocab_.items():
                names[col] = gram
            self._word_names = names
        return self._word_names

    # -- scoring ------------------------------------------------------------------------

    def transform(self, X: Sequence[str]) -> sp.csr_matrix:
        """The feature matrix of normalised texts (words separated by single spaces).

        Each word's columns are computed once and cached: words repeat, and building
        character n-grams in Python is the dominant cost otherwise.
        """
        self._check_fitted()
        if not hasattr(self, "_word_cache"):
            self._word_cache: dict[str, tuple[int, np.ndarray, int]] = {}
        # Per-token work is the cost here: the chunk's tokens are handled as one flat list
        # with C-level map() calls, and grouped back into texts with NumPy.
        texts = [text.split() for text in X]
        counts = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        tokens = list(chain.from_iterable(texts))
        entries = list(map(self._word_cache.get, tokens))
        if None in entries:
            # A new word may occur several times in the chunk: build its entry once.
            cache = self._word_cache
            entries = [
                e if e is not None else cache.get(t) or self._word_entry(t)
                for t, e in zip(tokens, entries)
            ]
        text_of = np.repeat(np.arange(len(texts)), counts)  # each token's text
        # Word block: each token's own column, then the pairs of neighbours in one text.
        own = np.fromiter((e[0] for e in entries), dtype=np.int64, count=len(entries))
        pairs = np.fromiter(
            (
                -1 if c is None else c
                for c in map(self.word_vocab_.get, map(" ".join, pairwise(tokens)))
            ),
            dtype=np.int64,
            count=max(len(tokens) - 1, 0),
        )
        pairs[text_of[1:] != text_of[:-1]] = -1  # a pair across two texts is no pair
        rows = np.concatenate([text_of, text_of[1:]])
        cols = np.concatenate([own, pairs])
        keep = cols >= 0
        rows, cols = rows[keep], cols[keep]
        order = np.argsort(rows, kind="stable")
        word = _tfidf_rows(
            cols[order].astype(np.int32), np.bincount(rows, minlength=len(texts)), self.word_idf_
        )
        # Character block: the tokens' n-gram columns are already in text order.
        gram_counts = np.fromiter((e[2] for e in entries), dtype=np.int64, count=len(entries))
        char = _tfidf_rows(
            np.concatenate([e[1] for e in entries]) if entries else np.empty(0, dtype=np.int32),
            np.bincount(text_of, weights=gram_counts, minlength=len(texts)).astype(np.int64),
            self.char_idf_,
        )
        if self.char_weight != 1.0:
            char.data *= self.char_weight
        return sp.hstack([word, char], format="csr")

    def _word_entry(self, token: str) -> tuple[int, np.ndarray, int]:
        """A word's own column (-1 if none), its character n-gram columns and their count."""
        vocab = self.char_vocab_
        low, high = self.char_ngram_range
        found = map(vocab.get, char_wb_ngrams(token, low, high))
        chars = np.array([c for c in found if c is not None], dtype=np.int32)
        entry = (self.word_vocab_.get(token, -1), chars, len(chars))
        if len(self._word_cache) >= WORD_CACHE_SIZE:  # bound memory on endless streams
            self._word_cache.clear()
        self._word_cache[token] = entry
        return entry

    def decision_function(self, X: Sequence[str] | sp.csr_matrix) -> np.ndarray:
        """Class scores (logits or margins), one row per text, columns in ``classes_`` order."""
        self._check_fitted()
        features = X if sp.issparse(X) else self.transform(X)  # type: ignore[arg-type]
        scores = np.asarray(features @ self.coef_.T, dtype=np.float64) + self.intercept_
        if scores.shape[1] == 1:
            # Two classes: one score, for class 1; softmax([0, z]) is its sigmoid.
            scores = np.column_stack([np.zeros(len(scores)), scores[:, 0]])
        return scores

    def predict_proba(self, X: Sequence[str], *, temperature: float = 1.0) -> np.ndarray:
        """Class probabilities; ``temperature`` rescales the scores (fitted on held-out folds)."""
        return softmax(self.decision_function(X), temperature)

    def predict(self, X: Sequence[str]) -> np.ndarray:
        """The most probable label of each text."""
        return self.classes_[np.argmax(self.decision_function(X), axis=1)]

    def _class_weights(self) -> np.ndarray:
        coef = self.coef_
        if coef.shape[0] == 1:  # two classes: class 1 has the weights, class 0 their negation
            coef = np.vstack([-coef[0], coef[0]])
        return coef

    def top_terms_many(
        self, features: sp.csr_matrix, classes: np.ndarray, *, k: int = 5
    ) -> list[tuple[tuple[str, float], ...]]:
        """The words and word pairs of each text that weigh most for its class ``classes[i]``."""
        self._check_fitted()
        word = features[:, : self.n_word_features_].tocsr()
        rows = np.repeat(np.arange(word.shape[0]), np.diff(word.indptr))
        coef = self._class_weights()
        weights = word.data.astype(np.float64) * coef[np.asarray(classes)[rows], word.indices]
        # Sort by row, then by weight descending; then keep the first k positive per row.
        order = np.lexsort((-weights, rows))
        names = self.word_names_
        out: list[tuple[tuple[str, float], ...]] = []
        for r in range(word.shape[0]):
            start, end = word.indptr[r], word.indptr[r + 1]
            picked = [i for i in order[start : min(end, start + k)] if weights[i] > 0]
            out.append(
                tuple(
                    (str(names[word.indices[i]]), w)
                    for i, w in zip(picked, np.round(weights[picked], 4).tolist())
                )
            )
        return out

    def top_terms(
        self, features: sp.csr_matrix, row: int, class_index: int, *, k: int = 5
    ) -> list[tuple[str, float]]:
        """The words and word pairs of one text that weigh most for one class."""
        return list(self.top_terms_many(features[row : row + 1], np.array([class_index]), k=k)[0])

    # -- storage ------------------------------------------------------------------------

    def save(self, path: Path, *, fingerprint: str) -> Path:
        """Store the fitted state as plain arrays (no pickle) with the pack's fingerprint."""
        self._check_fitted()
        meta = {
            "fingerprint": fingerprint,
            "char_ngram_range": list(self.char_ngram_range),
            "char_weight": self.char_weight,
        }
        word_terms = sorted(self.word_vocab_, key=self.word_vocab_.__getitem__)
        char_terms = sorted(self.char_vocab_, key=self.char_vocab_.__getitem__)
        with path.open("wb") as handle:
            np.savez_compressed(
                handle,
                meta=np.array(json.dumps(meta)),
                classes=np.asarray(self.classes_, dtype=str),
                word_terms=np.asarray(word_terms, dtype=str),
                char_terms=np.asarray(char_terms, dtype=str),
                word_idf=np.asarray(self.word_idf_, dtype=np.float64),
                char_idf=np.asarray(self.char_idf_, dtype=np.float64),
                coef=np.asarray(self.coef_, dtype=np.float32),
                intercept=np.asarray(self.intercept_, dtype=np.float64),
            )
        return path

    @classmethod
    def load(cls, path: Path) -> tuple[LinearTextModel, str]:
        """Load a stored model; returns it and the fingerprint it was fitted on."""
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                model = cls()
                model.classes_ = data["classes"].astype(object)
                model.word_vocab_ = {str(t): i for i, t in enumerate(data["word_terms"])}
                model.char_vocab_ = {str(t): i for i, t in enumerate(data["char_terms"])}
                model.word_idf_ = data["word_idf"]
                model.char_idf_ = data["char_idf"]
                model.coef_ = data["coef"]
                model.intercept_ = data["intercept"]
        except (OSError, ValueError, KeyError) as exc:
            raise PackError(
                f"cannot read the stored model ({exc}); run 'ai-office calibrate'", path=path
            ) from exc
        model.char_ngram_range = tuple(meta["char_ngram_range"])  # type: ignore[assignment]
        model.char_weight = float(meta["char_weight"])
        return model, str(meta["fingerprint"])
