"""Scoring with a fitted TF-IDF linear model, using only NumPy and SciPy.

Fitting needs scikit-learn (:mod:`router.classifier`), but importing it costs most of a
second, which a chat or a one-shot ``ai-office ask`` should not pay. A fitted model is
therefore also stored with the pack as plain arrays (``intents/model.npz``, no pickle) and
scored here.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from itertools import chain, pairwise
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from .errors import PackError

if TYPE_CHECKING:
    from .encoders import Encoder

__all__ = ["MODEL_FILE", "LinearTextModel", "char_wb_ngrams", "model_file", "softmax"]

MODEL_FILE = "model.npz"


def model_file(encoder: str | None = None) -> str:
    """The stored model's file name for an encoder: ``model.npz`` without one (``none``),
    ``model.NAME.npz`` with one, so that a pack keeps a model per encoder."""
    return MODEL_FILE if encoder in (None, "none") else f"model.{encoder}.npz"

#: Words whose character n-gram columns are kept (about 350 bytes each); logs repeat a
#: small vocabulary, and past this many the table starts afresh, so memory stays flat.
WORD_CACHE_SIZE = 50_000


def softmax(logits: np.ndarray, temperature: float | np.ndarray = 1.0) -> np.ndarray:
    """Row-wise softmax of ``logits / temperature`` (one temperature, or a column of one
    per row)."""
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


def _tfidf_rows(rows: np.ndarray, cols: np.ndarray, n_rows: int, idf: np.ndarray) -> sp.csr_matrix:
    """Sublinear TF-IDF rows, l2-normalised, from each occurrence's row and column
    (repeats are counted); ``idf`` is float32."""
    n_cols = len(idf)
    # One sort of (row, column) keys counts the repeats and orders the matrix: NumPy's
    # vectorised sort of 32-bit keys is several times faster than SciPy's sum_duplicates,
    # which sorts each row on its own.
    dtype = np.int32 if n_rows * n_cols < 2**31 else np.int64
    keys = rows.astype(dtype) * dtype(n_cols) + cols.astype(dtype)
    keys.sort()
    first = np.empty(len(keys), dtype=bool)
    first[:1] = True
    np.not_equal(keys[1:], keys[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    unique = keys[starts]
    repeats = np.empty(len(starts), dtype=np.float32)
    np.subtract(starts[1:], starts[:-1], out=repeats[:-1], casting="unsafe")
    repeats[-1:] = len(keys) - starts[-1:]
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(unique // n_cols, minlength=n_rows), out=indptr[1:])
    counts = sp.csr_matrix(
        ((np.log(repeats) + 1.0).astype(np.float32), (unique % n_cols).astype(np.int32), indptr),
        shape=(n_rows, n_cols),
    )
    counts.has_sorted_indices = True
    counts.data *= idf[counts.indices]
    norms = np.sqrt(np.asarray(counts.power(2).sum(axis=1), dtype=np.float64).ravel())
    norms[norms == 0] = 1.0
    counts.data /= np.repeat(norms, np.diff(counts.indptr)).astype(np.float32)
    return counts


def _pair_table(vocabulary: dict[str, int]) -> tuple[np.ndarray | None, np.ndarray]:
    """Each word pair's key (first word's column * vocabulary size + second's), sorted,
    and the pair's column; None when a pair has a word that is not in the vocabulary."""
    size = len(vocabulary)
    keys, cols = [], []
    for gram, col in vocabulary.items():
        if " " in gram:
            first, _, second = gram.partition(" ")
            a, b = vocabulary.get(first), vocabulary.get(second)
            if a is None or b is None:
                return None, np.empty(0, dtype=np.int64)
            keys.append(a * size + b)
            cols.append(col)
    key_array = np.array(keys, dtype=np.int64)
    order = np.argsort(key_array)
    return key_array[order], np.array(cols, dtype=np.int64)[order]


class _WordTable:
    """Words seen so far: each one's id, own column, and run of character n-gram columns
    in one flat pool (arrays, so a chunk's lookups are NumPy indexing)."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.own = np.empty(1024, dtype=np.int64)
        self.start = np.empty(1024, dtype=np.int64)
        self.size = np.empty(1024, dtype=np.int64)
        self.pool = np.empty(16384, dtype=np.int32)
        self._used = 0

    def add(self, word: str, own: int, grams: list[int]) -> int:
        i = len(self.ids)
        if i == len(self.own):
            self.own, self.start, self.size = (
                np.resize(a, 2 * len(a)) for a in (self.own, self.start, self.size)
            )
        end = self._used + len(grams)
        if end > len(self.pool):
            self.pool = np.resize(self.pool, max(2 * len(self.pool), end))
        self.pool[self._used : end] = grams
        self.own[i], self.start[i], self.size[i] = own, self._used, len(grams)
        self._used = end
        self.ids[word] = i
        return i


class _ScoringState:
    """Lookup state :meth:`LinearTextModel.transform` derives from a fitted model, and the
    table of words seen so far, which threads share under ``lock``."""

    def __init__(
        self,
        vocabulary: dict[str, int],
        word_idf: np.ndarray,
        char_idf: np.ndarray,
        pairs: tuple[np.ndarray, np.ndarray] | None = None,
    ):
        # The pair table comes with a stored model (building it is a loop over the
        # vocabulary, tens of milliseconds on a large pack), else it is built here.
        self.pair_keys, self.pair_cols = pairs if pairs is not None else _pair_table(vocabulary)
        self.word_idf = np.asarray(word_idf).astype(np.float32)
        self.char_idf = np.asarray(char_idf).astype(np.float32)
        self.words = _WordTable()
        self.lock = threading.Lock()

    def __getstate__(self) -> dict[str, object]:
        # A lock cannot be pickled (a router is shipped to Dask workers): each copy gets its own.
        return {k: v for k, v in self.__dict__.items() if k != "lock"}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self.lock = threading.Lock()


class LinearTextModel:
    """A fitted linear model over word (1-2) and character n-gram TF-IDF features, scored
    with NumPy and SciPy alone.

    :class:`router.classifier.IntentClassifier` fits one (its ``linear_``); :meth:`load`
    reads a stored one. One model may be shared by threads: the table of words it has seen
    is filled under a lock.

    Parameters and attributes:
        classes_: class labels, in column order of the scores.
        word_vocab_, char_vocab_: n-gram to column, for each feature block.
        word_idf_, char_idf_: inverse document frequencies of each block.
        coef_, intercept_: the linear model (one row per class, or one row for two classes).
        char_ngram_range, char_weight: the character block's n-gram lengths and scale.
        pairs: the word-pair table as stored (see :meth:`save`); built when None.
        encoder: the sentence encoder whose embedding columns follow the character block
            (:mod:`router.encoders`), or None (no such columns: the TF-IDF model alone).
        embedding_weight: the scale of the embedding columns, fitted on held-out folds.
    """

    def __init__(
        self,
        classes_: np.ndarray,
        word_vocab_: dict[str, int],
        char_vocab_: dict[str, int],
        word_idf_: np.ndarray,
        char_idf_: np.ndarray,
        coef_: np.ndarray,
        intercept_: np.ndarray,
        *,
        char_ngram_range: tuple[int, int] = (2, 5),
        char_weight: float = 1.0,
        pairs: tuple[np.ndarray, np.ndarray] | None = None,
        encoder: Encoder | None = None,
        embedding_weight: float = 0.0,
    ) -> None:
        self.classes_ = classes_
        self.word_vocab_ = word_vocab_
        self.char_vocab_ = char_vocab_
        self.word_idf_ = word_idf_
        self.char_idf_ = char_idf_
        self.coef_ = coef_
        self.intercept_ = intercept_
        self.char_ngram_range = char_ngram_range
        self.char_weight = char_weight
        self.encoder = encoder
        self.embedding_weight = embedding_weight
        self._state = _ScoringState(word_vocab_, word_idf_, char_idf_, pairs)

    @property
    def n_word_features_(self) -> int:
        return len(self.word_vocab_)

    @property
    def word_names_(self) -> np.ndarray:
        names = getattr(self, "_word_names", None)
        if names is None:  # two threads may both build it: the same array either way
            names = np.empty(len(self.word_vocab_), dtype=object)
            for gram, col in self.word_vocab_.items():
                names[col] = gram
            self._word_names = names
        return names

    def cache_info(self) -> tuple[int, int]:
        """How many words the table of seen words holds, and the most it holds before it
        starts afresh."""
        return len(self._state.words.ids), WORD_CACHE_SIZE

    # -- scoring ------------------------------------------------------------------------

    def transform(self, X: Sequence[str]) -> sp.csr_matrix:
        """The feature matrix of normalised texts (words separated by single spaces).

        Each word's columns are computed once and kept in flat arrays: words repeat, and
        building character n-grams in Python is the dominant cost otherwise. Everything
        after looking the words up is NumPy over the whole chunk.
        """
        return self.transform_words([text.split() for text in X])

    def transform_words(self, texts: Sequence[list[str]]) -> sp.csr_matrix:
        """:meth:`transform` of texts already split into words.

        With an encoder, its embeddings of the normalised texts (scaled by
        ``embedding_weight``) follow the TF-IDF columns.
        """
        return self.with_embeddings(self.transform_sparse(texts), texts)

    def with_embeddings(self, features: sp.csr_matrix, texts: Sequence[list[str]]) -> sp.csr_matrix:
        """The TF-IDF columns ``features`` of ``texts`` (from :meth:`transform_sparse`)
        followed by the encoder's embedding columns; ``features`` itself without an encoder."""
        if self.encoder is None:
            return features
        dense = self.encoder.encode([" ".join(words) for words in texts])
        dense *= np.float32(self.embedding_weight)
        return sp.hstack([features, sp.csr_matrix(dense)], format="csr")

    def shares_features(self, other: LinearTextModel) -> bool:
        """Whether ``other``'s TF-IDF columns are this model's (the same n-grams, weights and
        settings): then one :meth:`transform_sparse` serves both. Two models fitted on the
        same texts, one with an encoder and one without, do."""
        return (
            tuple(self.char_ngram_range) == tuple(other.char_ngram_range)
            and self.char_weight == other.char_weight
            and np.array_equal(self.word_idf_, other.word_idf_)
            and np.array_equal(self.char_idf_, other.char_idf_)
            and self.word_vocab_ == other.word_vocab_
            and self.char_vocab_ == other.char_vocab_
        )

    def transform_sparse(self, texts: Sequence[list[str]]) -> sp.csr_matrix:
        """The word and character TF-IDF columns of texts split into words (without the
        embedding columns: nothing is encoded)."""
        state = self._state
        counts = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        tokens = list(chain.from_iterable(texts))
        # Words are added to the table, and looked up, under the lock; the arrays taken here
        # stay valid after it is released (the table only appends, and grows into new
        # arrays), so the rest runs unlocked. Threads adding one word each at once would
        # otherwise give it two ids, or read a table another thread replaced.
        with state.lock:
            if len(state.words.ids) >= WORD_CACHE_SIZE:  # bound memory on endless streams
                state.words = _WordTable()
            words = state.words
            known = words.ids
            if not known.keys() >= set(tokens):  # set operations: C loops, not Python ones
                for token in set(tokens).difference(known):
                    self._add_word(words, token)
            ids = np.fromiter(map(known.__getitem__, tokens), dtype=np.int64, count=len(tokens))
            own_of, start_of, size_of, pool = words.own, words.start, words.size, words.pool
        text_of = np.repeat(np.arange(len(texts)), counts)  # each token's text
        # Word block: each token's own column, then the pairs of neighbours in one text.
        own = own_of[ids]
        pairs = self._pair_columns(state, own, tokens)
        pairs[text_of[1:] != text_of[:-1]] = -1  # a pair across two texts is no pair
        rows = np.concatenate([text_of, text_of[1:]])
        cols = np.concatenate([own, pairs])
        keep = cols >= 0
        word = _tfidf_rows(rows[keep], cols[keep], len(texts), state.word_idf)
        # Character block: each token's run of n-gram columns, gathered from the pool.
        sizes = size_of[ids]
        ends = np.cumsum(sizes)
        gather = np.arange(int(ends[-1]) if len(ends) else 0) + np.repeat(
            start_of[ids] - (ends - sizes), sizes
        )
        char = _tfidf_rows(np.repeat(text_of, sizes), pool[gather], len(texts), state.char_idf)
        if self.char_weight != 1.0:
            char.data *= self.char_weight
        return sp.hstack([word, char], format="csr")

    def _add_word(self, words: _WordTable, token: str) -> None:
        """Add a word's own column (-1 if none) and its character n-gram columns."""
        vocab = self.char_vocab_
        low, high = self.char_ngram_range
        found = map(vocab.get, char_wb_ngrams(token, low, high))
        words.add(token, self.word_vocab_.get(token, -1), [c for c in found if c is not None])

    def _pair_columns(self, state: _ScoringState, own: np.ndarray, tokens: list[str]) -> np.ndarray:
        """The column of each pair of neighbouring tokens (-1 if none)."""
        if state.pair_keys is None:  # a vocabulary with pairs of unknown words: by strings
            return np.fromiter(
                (
                    -1 if c is None else c
                    for c in map(self.word_vocab_.get, map(" ".join, pairwise(tokens)))
                ),
                dtype=np.int64,
                count=max(len(tokens) - 1, 0),
            )
        if len(state.pair_keys) == 0 or len(own) < 2:
            return np.full(max(len(own) - 1, 0), -1, dtype=np.int64)
        # Both words of a known pair are known words (the vocabulary is every n-gram seen),
        # so a pair is found by its two columns in a sorted array, not built as a string.
        first, second = own[:-1], own[1:]
        keys = first * len(self.word_vocab_) + second
        at = np.searchsorted(state.pair_keys, keys)
        at[at == len(state.pair_keys)] = 0
        hit = (first >= 0) & (second >= 0) & (state.pair_keys[at] == keys)
        return np.where(hit, state.pair_cols[at], -1)

    def decision_function(self, X: Sequence[str] | sp.csr_matrix) -> np.ndarray:
        """Class scores (logits or margins), one row per text, columns in ``classes_`` order."""
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
        meta: dict[str, object] = {
            "fingerprint": fingerprint,
            "char_ngram_range": list(self.char_ngram_range),
            "char_weight": self.char_weight,
        }
        if self.encoder is not None:  # absent without one: stored models stay byte-identical
            meta["encoder"] = {**self.encoder.identity, "dim": self.encoder.dim}
            meta["embedding_weight"] = self.embedding_weight
        word_terms = sorted(self.word_vocab_, key=self.word_vocab_.__getitem__)
        char_terms = sorted(self.char_vocab_, key=self.char_vocab_.__getitem__)
        state = self._state
        pairs = {}
        if state.pair_keys is not None:
            pairs = {"pair_keys": state.pair_keys, "pair_cols": state.pair_cols}
        with path.open("wb") as handle:
            np.savez_compressed(
                handle,
                **pairs,
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
    def load(
        cls, path: Path, *, encoder: Encoder | None = None
    ) -> tuple[LinearTextModel, str]:
        """Load a stored model; returns it and the fingerprint it was fitted on.

        ``encoder`` is the encoder to score with: it must be the one the model was fitted
        with (name, version and checksum), or None for a model fitted without one.

        Raises:
            PackError: the file is not a stored model, or a damaged one (see
                :mod:`router.validate`), or one fitted with another encoder; the message
                names the command that writes it.
        """
        from .validate import calibrate_hint, check_model, check_model_file

        check_model_file(path)
        wanted = "none" if encoder is None else encoder.name
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                stored = meta.get("encoder")
                fitted_with = stored.get("name") if isinstance(stored, dict) else "none"
                expected = None if encoder is None else {**encoder.identity, "dim": encoder.dim}
                if stored != expected:
                    raise PackError(
                        f"the stored model was fitted with the encoder {fitted_with!r} "
                        f"({stored or 'no embedding columns'}), not with {wanted!r}"
                        f"{'' if encoder is None else ' ' + str(encoder.identity)}; "
                        f"{calibrate_hint(path, encoder=wanted)}",
                        path=path,
                    )
                model = cls(
                    data["classes"].astype(object),
                    {str(t): i for i, t in enumerate(data["word_terms"])},
                    {str(t): i for i, t in enumerate(data["char_terms"])},
                    data["word_idf"],
                    data["char_idf"],
                    data["coef"],
                    data["intercept"],
                    char_ngram_range=tuple(meta["char_ngram_range"]),  # type: ignore[arg-type]
                    char_weight=float(meta["char_weight"]),
                    # Absent from models stored before it was kept: then it is built.
                    pairs=(
                        (data["pair_keys"], data["pair_cols"])
                        if "pair_keys" in data.files
                        else None
                    ),
                    encoder=encoder,
                    embedding_weight=float(meta.get("embedding_weight", 0.0)),
                )
            fingerprint = meta["fingerprint"]
            if not isinstance(fingerprint, str):
                raise ValueError("its fingerprint is not text")
        except (OSError, ValueError, KeyError, TypeError, EOFError, AttributeError) as exc:
            raise PackError(
                f"cannot read the stored model ({exc}); {calibrate_hint(path, encoder=wanted)}",
                path=path,
            ) from exc
        check_model(model, path)
        return model, fingerprint
