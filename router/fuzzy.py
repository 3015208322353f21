"""The fuzzy half of the router: spelling correction and key-term matching with rapidfuzz."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from . import lexicon
from .errors import NotFittedError
from .text import normalise

__all__ = ["TermMatch", "TermMatcher", "prepare_normalised"]

_MISSING = object()


@dataclass(frozen=True)
class TermMatch:
    """A unit's alias or key term found in a question."""

    unit: str
    term: str
    matched: str
    score: float
    weight: float


class TermMatcher:
    """Correct misspelled words to the training vocabulary, then find units' key terms.

    TF-IDF misses a key term that is misspelled badly or written as an acronym it has seen
    rarely; this matcher catches those. Each term's weight is how reliably it pointed to its
    unit in the training data (Laplace-smoothed precision), so a word that every unit uses
    ("AI Office") counts for little.

    Parameters:
        score_cutoff: the least rapidfuzz ``ratio`` (0-100) for a spelling correction.
        min_length: shorter words are never corrected (too many near neighbours).
        max_edits: a word that no vocabulary word reaches ``score_cutoff`` with is corrected
            to the most frequent training word within this many edits (insertion, deletion,
            substitution, or swap of neighbours; 0: never), if that word was seen at least
            ``edit_min_count`` times. One substitution or swap in a five- or six-letter word
            scores 80-83 on ``ratio``, under the cutoff, yet is the commonest typo; among
            several candidates the most frequent wins.
        edit_min_count: how often a word must occur in the training texts to be a correction
            by edits: a rare word is more often a near-spelling of a foreign word ("Kinder",
            "finder") than what was meant.
        cache_size: corrections remembered; inquiry logs repeat their misspellings.

    Follows scikit-learn's estimator conventions without importing it (loading a router
    fits a matcher, and must stay fast): ``__init__`` stores the settings, which
    :meth:`get_params` and :meth:`set_params` read and write, so ``sklearn.base.clone``
    gives an unfitted copy. A fitted matcher may be shared by threads.
    """

    def __init__(
        self,
        *,
        score_cutoff: float = 84.0,
        min_length: int = 5,
        max_edits: int = 1,
        edit_min_count: int = 3,
        cache_size: int = 100_000,
    ) -> None:
        self.score_cutoff = score_cutoff
        self.min_length = min_length
        self.max_edits = max_edits
        self.edit_min_count = edit_min_count
        self.cache_size = cache_size

    def get_params(self, deep: bool = True) -> dict[str, float | int]:
        """The settings ``__init__`` was given (``deep`` is for scikit-learn's protocol:
        a matcher holds no other estimator)."""
        return {
            "score_cutoff": self.score_cutoff,
            "min_length": self.min_length,
            "max_edits": self.max_edits,
            "edit_min_count": self.edit_min_count,
            "cache_size": self.cache_size,
        }

    def set_params(self, **params: float) -> TermMatcher:
        """Change settings by name; raises ValueError for an unknown one. Refit after."""
        known = self.get_params()
        for name, value in params.items():
            if name not in known:
                raise ValueError(
                    f"TermMatcher has no setting {name!r}; its settings are: {', '.join(known)}"
                )
            setattr(self, name, value)
        return self

    def cache_info(self) -> dict[str, tuple[int, int]]:
        """Each cache's size and limit: ``corrections`` (spelling fixes) and
        ``term_matches`` (key terms as typed)."""
        self._check_fitted()
        return {
            "corrections": (len(self.cache_), self.cache_size),
            "term_matches": (len(self._match_cache), self.cache_size),
        }

    def fit(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        terms: Mapping[str, Iterable[str]],
    ) -> TermMatcher:
        """Learn the vocabulary from normalised ``texts`` and weigh each unit's ``terms``."""
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(text.split())
        vocabulary: set[str] = set(counts)
        index: dict[str, list[tuple[tuple[str, ...], str, str]]] = defaultdict(list)
        for unit, unit_terms in terms.items():
            for term in unit_terms:
                words = tuple(normalise(term).split())
                if words:
                    vocabulary.update(words)
                    index[words[0]].append((words, unit, term))
        self.vocabulary_ = frozenset(vocabulary)
        self.counts_ = dict(counts)  # occurrences of each word in the training texts
        by_length: dict[int, list[str]] = defaultdict(list)
        for word in sorted(vocabulary):
            by_length[len(word)].append(word)
        self.by_length_ = dict(by_length)
        self.index_ = dict(index)
        # For matching: each first word's term lengths, longest first, and the entries of
        # each whole term, so a common first word ("ai") costs a few lookups, not a scan.
        self.lengths_ = {
            first: tuple(sorted({len(words) for words, _, _ in entries}, reverse=True))
            for first, entries in index.items()
        }
        self.terms_: dict[tuple[str, ...], list[tuple[str, str]]] = defaultdict(list)
        for entries in index.values():
            for words, unit, term in entries:
                self.terms_[words].append((unit, term))
        self.terms_ = dict(self.terms_)
        self.weights_ = self._term_weights(texts, labels)
        self.cache_: dict[str, tuple[str, ...]] = {}
        self._deletion_index: dict[str, list[str]] | None = None  # built on first use
        self._match_cache: dict[tuple[str, tuple[str, ...], str, str], TermMatch] = {}
        return self

    def _term_weights(
        self, texts: Sequence[str], labels: Sequence[str]
    ) -> dict[tuple[tuple[str, ...], str], float]:
        padded = [f" {t} " for t in texts]
        # Only the texts holding every word of a term can hold the term: scanning those
        # alone gives the same hits (a derived pack's thousands of terms over thousands of
        # texts made the plain scan a second and a half of loading).
        holding: dict[str, set[int]] = {}
        for i, text in enumerate(texts):
            for word in set(text.split()):
                holding.setdefault(word, set()).add(i)
        weights = {}
        for entries in self.index_.values():
            for words, unit, _term in entries:
                needle = f" {' '.join(words)} "
                rows = set.intersection(*(holding.get(w, set()) for w in words)) if words else ()
                hits = [labels[i] for i in sorted(rows) if needle in padded[i]]
                own = sum(1 for label in hits if label == unit)
                weights[(words, unit)] = (own + 1) / (len(hits) + 2)
        return weights

    def _check_fitted(self) -> None:
        if not hasattr(self, "vocabulary_"):
            raise NotFittedError("this TermMatcher is not fitted yet; call fit() first")

    def correct_word(self, word: str) -> str | None:
        """The closest vocabulary word to an unknown ``word``, or None.

        The candidates are the words one letter shorter, as long, or one letter longer
        whose rapidfuzz ``ratio`` is at or over ``score_cutoff``, and the words ``word`` is
        with two neighbouring letters swapped (the commonest typo, which ``ratio`` counts
        as two edits). The closest is the one with the fewest edits, a swap counting as
        one; on a tie, the best ratio, the shorter, the first in alphabetical order.
        Failing any, with ``max_edits``, it is the most frequent training word within that
        many edits (seen at least ``edit_min_count`` times). A real word of any of
        :data:`router.lexicon.LANGUAGES` is never corrected: None.
        """
        best = self._nearest(word)
        if best is not None and lexicon.known_languages(word):
            return None
        return best

    def _nearest(self, word: str) -> str | None:
        """:meth:`correct_word` without the lexicon: the vocabulary word it would be."""
        candidates = self._candidates(word)
        return candidates[0] if candidates else None

    def _candidates(self, word: str) -> tuple[str, ...]:
        """The vocabulary words ``word`` may stand for, the closest first (see
        :meth:`correct_word`); empty for none."""
        cached = self.cache_.get(word, _MISSING)  # one lookup: another thread may clear it
        if cached is not _MISSING:
            return cached  # type: ignore[return-value]
        if self._indexed(len(word)):
            hits = self._nearest_by_deletions(word)
        else:
            hits = self._nearest_by_scan(word)
        if not hits and self.max_edits > 0:
            fallback = self._nearest_by_edits(word)
            hits = (fallback,) if fallback else ()
        result = tuple(candidate for candidate, _ in hits)
        if len(self.cache_) >= self.cache_size:
            self.cache_.clear()
        self.cache_[word] = result
        return result

    def _nearest_by_scan(self, word: str) -> tuple[tuple[str, float], ...]:
        """The candidates of :meth:`correct_word` with their ``ratio``, closest first, by a
        scan of the words of each length."""
        hits: dict[str, float] = {}
        n = len(word)
        for length in (n - 1, n, n + 1):
            candidates = self.by_length_.get(length)
            if candidates:
                found = process.extract(
                    word, candidates, scorer=fuzz.ratio, score_cutoff=self.score_cutoff, limit=None
                )
                hits.update((hit[0], hit[1]) for hit in found)
        return self._ranked(word, hits)

    def _ranked(self, word: str, hits: dict[str, float]) -> tuple[tuple[str, float], ...]:
        """``hits`` (candidate -> ratio) and the swaps of ``word`` in the vocabulary, the
        closest first: the fewest edits (a swap of neighbours is one), then the best
        ratio, the shorter, the first alphabetically. Counting edits the way typists make
        them sends "modles" to "models" (a swap), not to "modeles" (an insertion ratio
        prefers); typos are mostly one such edit (Damerau 1964)."""
        vocabulary = self.vocabulary_
        for i in range(len(word) - 1):
            swapped = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
            if swapped != word and swapped in vocabulary and swapped not in hits:
                hits[swapped] = fuzz.ratio(word, swapped)
        ranked = sorted(
            hits.items(), key=lambda hit: (OSA.distance(word, hit[0]), -hit[1], len(hit[0]), hit[0])
        )
        return tuple(ranked)

    def _nearest_by_edits(self, word: str) -> tuple[str, float] | None:
        """The most frequent training word within ``max_edits`` edits of ``word`` (seen at
        least ``edit_min_count`` times), with its ``ratio``; None if there is none."""
        counts = self.counts_
        if self.max_edits == 1 and self._indexed(len(word)):
            candidates = self._one_edit_by_deletions(word)
        else:
            candidates = self._edits_by_scan(word)
        found = [c for c in candidates if counts.get(c, 0) >= self.edit_min_count]
        if not found:
            return None
        # The most frequent; then the closer by ratio; then the first in alphabetical order.
        pick = min(found, key=lambda c: (-counts[c], -fuzz.ratio(word, c), c))
        return pick, fuzz.ratio(word, pick)

    def _edits_by_scan(self, word: str) -> set[str]:
        """The vocabulary words within ``max_edits`` edits of ``word``, by a full scan."""
        n, k = len(word), self.max_edits
        found: set[str] = set()
        for length in range(n - k, n + k + 1):
            candidates = self.by_length_.get(length)
            if candidates:
                hits = process.extract(
                    word, candidates, scorer=OSA.distance, score_cutoff=k, limit=None
                )
                found.update(hit[0] for hit in hits)
        return found

    def _one_edit_by_deletions(self, word: str) -> set[str]:
        """:meth:`_edits_by_scan` for one edit, from the deletion index: a word one edit
        away is one of ``word``'s deletions, has ``word`` as a deletion, or shares a deletion
        with it (a substitution or a swap; sharing one can also be two edits: checked)."""
        return {
            c for c in self._deletion_neighbours(word) if OSA.distance(word, c, score_cutoff=1) <= 1
        }

    def _deletion_neighbours(self, word: str) -> set[str]:
        """The vocabulary words that are a deletion of ``word``, have it as a deletion, or
        share a deletion with it (one letter shorter, longer, or as long)."""
        index = self._deletions()
        forms = {word[:i] + word[i + 1 :] for i in range(len(word))}
        pool = forms & self.vocabulary_
        for form in (word, *forms):
            pool.update(index.get(form, ()))
        return pool

    def _indexed(self, n: int) -> bool:
        """Whether every word that can reach the cutoff against a word of ``n`` letters is
        within one deletion of it (one letter shorter or longer) or shares a one-deletion
        form with it (as long): then the deletion index finds all of them.

        ``ratio`` is ``1 - d / (n + m)`` for an insert/delete distance ``d`` of the same
        parity as ``n + m``; the next distances the index would miss are 3 and 4.
        """
        cutoff = self.score_cutoff - 1e-6  # a score exactly at the cutoff: scan instead
        return n > 1 and all(
            100 * (1 - d / (n + m)) < cutoff for m, d in ((n - 1, 3), (n, 4), (n + 1, 3))
        )

    def _nearest_by_deletions(self, word: str) -> tuple[tuple[str, float], ...]:
        """:meth:`_nearest_by_scan` for a word short enough for the deletion index: the same
        result, from a few candidates instead of thousands."""
        hits = {}
        for candidate in self._deletion_neighbours(word):
            score = fuzz.ratio(word, candidate, score_cutoff=self.score_cutoff)
            if score:
                hits[candidate] = score
        return self._ranked(word, hits)

    def warm_up(self) -> TermMatcher:
        """Build the spelling index now rather than at the first misspelling (before forking
        workers, so that they share it)."""
        self._check_fitted()
        self._deletions()
        return self

    def _deletions(self) -> dict[str, list[str]]:
        """Each one-deletion form of the vocabulary's words -> the words it comes from.

        Built on first use, and only for the words the index path can return."""
        index = self._deletion_index
        if index is None:
            longest = max(map(len, self.vocabulary_), default=0)
            indexed = {n for n in range(longest + 2) if self._indexed(n)}
            # A word of m letters can be returned for words of m - 1, m or m + 1 letters.
            wanted = {m for m in range(longest + 1) if {m - 1, m, m + 1} & indexed}
            forms: dict[str, list[str]] = defaultdict(list)
            for word in self.vocabulary_:
                n = len(word)
                if n in wanted:
                    for form in {word[:i] + word[i + 1 :] for i in range(n)}:
                        forms[form].append(word)
            index = self._deletion_index = dict(forms)
        return index

    def correct(self, words: Sequence[str]) -> tuple[list[str], list[tuple[str, str]]]:
        """Replace unknown words by their closest vocabulary word.

        A word that is a real word in the question's language (told by its common words,
        see :func:`router.lexicon.question_languages`) is left alone: "beschweren" in a
        German question, "inform" in an English one. A real word of another language is
        still corrected ("climat" in an English question). Among a word's candidates (see
        :meth:`correct_word`), the closest that is a word of the question's language wins:
        the training vocabulary mixes many languages, and "modles" in an English question
        means "models", not the French "modeles".

        Returns the corrected words and the ``(original, correction)`` pairs.
        """
        self._check_fitted()
        if self.vocabulary_.issuperset(words):  # the usual case, tested in one C call
            return list(words), []
        # Each unknown word is looked up once, however often it occurs; a word corrected
        # before is read from the cache here, without a method call.
        found: dict[str, tuple[str, ...]] = {}
        cache, min_length = self.cache_, self.min_length
        for word in set(words).difference(self.vocabulary_):
            if len(word) >= min_length and word.isalpha():
                candidates = cache.get(word, _MISSING)
                if candidates is _MISSING:
                    candidates = self._candidates(word)
                if candidates:
                    found[word] = candidates  # type: ignore[assignment]
        fixes: dict[str, str] = {}
        if found:  # only then: most questions need no word list loaded
            fixes = _in_question_language(words, found)
        if not fixes:
            return list(words), []
        return [fixes.get(w, w) for w in words], [(w, fixes[w]) for w in words if w in fixes]

    def match(self, words: Sequence[str], original: Sequence[str]) -> list[TermMatch]:
        """Key terms found in the corrected ``words``; ``original`` is before correction."""
        self._check_fitted()
        lengths = self.lengths_
        starts = lengths.keys() & words  # the words that start a key term: few, if any
        if not starts:
            return []
        # Their positions, found by C-level list searches rather than a loop over words.
        positions = []
        for word in starts:
            i = -1
            for _ in range(words.count(word)):
                i = words.index(word, i + 1)
                positions.append(i)
        positions.sort()
        terms = self.terms_
        found: dict[tuple[str, str], TermMatch] = {}
        for i in positions:
            for n in lengths[words[i]]:
                term_words = tuple(words[i : i + n])
                entries = terms.get(term_words)
                if entries is None:
                    continue
                typed = " ".join(original[i : i + n])
                for unit, term in entries:
                    match = self._term_match(typed, term_words, unit, term)
                    key = (unit, term)
                    if key not in found or found[key].score < match.score:
                        found[key] = match
        return sorted(found.values(), key=lambda m: -m.score * m.weight)

    def _term_match(
        self, typed: str, term_words: tuple[str, ...], unit: str, term: str
    ) -> TermMatch:
        # The same few terms, typed the same few ways, recur in every log: build each once.
        key = (typed, term_words, unit, term)
        cached = self._match_cache.get(key)
        if cached is None:
            score = fuzz.ratio(typed, " ".join(term_words)) / 100.0
            weight = self.weights_[(term_words, unit)]
            cached = TermMatch(unit, term, typed, round(score, 4), round(weight, 4))
            if len(self._match_cache) >= self.cache_size:
                self._match_cache.clear()
            self._match_cache[key] = cached
        return cached

    def unit_scores(self, matches: Iterable[TermMatch], classes: Sequence[str]) -> np.ndarray:
        """One score in [0, 1] per class: 1 - prod(1 - score * weight) over its matches."""
        # Called once per question: the class positions are remembered, not rebuilt each time.
        key = tuple(classes)
        # The key and the positions in one attribute, set at once: a thread must never
        # read one class order's key with another's positions.
        remembered = getattr(self, "_positions", None)
        if remembered is None or remembered[0] != key:
            remembered = self._positions = (key, {c: i for i, c in enumerate(classes)})
        position = remembered[1]
        miss = np.ones(len(classes))
        for m in matches:
            miss[position[m.unit]] *= 1.0 - m.score * m.weight
        return 1.0 - miss


def prepare_normalised(
    matcher: TermMatcher, words: list[str], *, match: bool = True
) -> tuple[list[str], tuple[tuple[str, str], ...], tuple[TermMatch, ...]]:
    """Spell-correct normalised words and find key terms (unless not ``match``): the words
    the classifier sees, the corrections and the key terms."""
    corrected, corrections = matcher.correct(words)
    matches = matcher.match(corrected, words) if match else ()
    return corrected, tuple(corrections), tuple(matches)


def _in_question_language(
    words: Sequence[str], candidates: Mapping[str, Sequence[str]]
) -> dict[str, str]:
    """The corrections of a question's unknown ``words`` (each with its ``candidates``,
    closest first), told by the lexicon of the question's languages."""
    languages = lexicon.question_languages(words)
    return choose_corrections(
        candidates, lambda word: lexicon.known_languages(word, languages=languages)
    )


def choose_corrections(
    candidates: Mapping[str, Sequence[str]], known: Callable[[str], object]
) -> dict[str, str]:
    """Each word's correction: none for a word ``known`` says is a real word; else its
    first candidate that is a real word, or failing that its first candidate."""
    fixes = {}
    for word, options in candidates.items():
        if not known(word):
            fixes[word] = next((c for c in options if known(c)), options[0])
    return fixes
