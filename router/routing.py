"""The Router: fits a pack and routes questions to units."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import scipy.sparse as sp
from rapidfuzz import fuzz, process, utils

from . import lexicon
from .answers import AnswerBook
from .encoders import get_encoder
from .errors import InputError, NotFittedError, PackError, UnknownUnitError
from .fuzzy import TermMatch, TermMatcher, prepare_normalised
from .language import detect_language
from .law import Provision, ProvisionIndex, load_provisions
from .law.articles import ArticleCiter, act_pack, act_questions
from .law.lookup import provision_for
from .linear import LinearTextModel, model_file, softmax
from .pack import Contact, Pack, Referral, Topic, Unit, bundled_dirs, load_pack
from .policy import Policy, decide_many, fuse, skips_encoder, top_k
from .results import (
    CLARIFY,
    OUT_OF_SCOPE,
    ROUTED,
    Alternative,
    Decision,
    Evidence,
    Note,
    Outcome,
)
from .text import CHUNK_SIZE, MAX_CHARS, clean_for_display, normalise, normalised_words
from .training import (
    fit_calibration,
    fit_matcher,
    fit_models,
    gate_from_calibration,
    policy_from_calibration,
)
from .validate import number_in

if TYPE_CHECKING:
    from .classifier import IntentClassifier

__all__ = ["Ranking", "Router", "StaleCalibrationWarning"]

#: Alternatives and model scores list at most this many units, best first: building a result
#: object per unit of a 150-intent pack cost more than the whole classification.
MAX_LISTED = 10


#: Without a pack setting, a topic or referral never overrides the units' decision.
NEVER = 1.01


class StaleCalibrationWarning(UserWarning):
    """The pack's stored calibration was fitted on different training data."""


class _Prepared(NamedTuple):  # a tuple: built for every text routed, so cheaply
    text: str
    normalised: str
    words: list[str]  # the normalised text's words, as the classifier takes them
    corrections: tuple[tuple[str, str], ...]
    matches: tuple[TermMatch, ...]
    truncated: bool


class _Scored(NamedTuple):
    """A chunk's scores, as plain Python values per row (and the arrays for evidence)."""

    kinds: list[str]
    first: list[Unit]  # the best in-scope unit
    second: list[Unit]
    listed_units: list[list[Unit]]  # the best units, at most MAX_LISTED, best first
    listed_scores: list[list[float]]
    confidence: list[float]
    provisions: list[tuple[Provision, ...]]
    topics: list[Topic | None]
    referrals: list[Referral | None]
    features: sp.csr_matrix
    logits: np.ndarray
    fuzzy: np.ndarray
    best: np.ndarray
    encoded: np.ndarray | None  # with the encoder gate: which rows the encoder scored


@dataclass(frozen=True)
class Ranking:
    """The units ranked for each of some texts, without decisions built: what a router over
    a derived pack (the topics, the AI Act's articles) gives the router that owns it.

    Each field holds one row per text, in the order given.
    """

    #: "routed", "clarify" or "out_of_scope", as this router's policy decides.
    kinds: list[str]
    #: The best in-scope unit.
    first: list[Unit]
    #: The confidence the decision is taken with.
    confidence: list[float]
    #: The best in-scope units (at most ``MAX_LISTED``), best first, and their fused scores.
    units: list[list[Unit]]
    scores: list[list[float]]
    #: The classifier's features of each text (a SciPy CSR matrix, one row per text).
    features: sp.csr_matrix


class Router:
    """Routes free-text questions to the unit of a pack that handles them.

    Follows scikit-learn's estimator conventions: ``__init__`` stores settings, :meth:`fit`
    learns from a :class:`~router.pack.Pack`. Most callers want :meth:`load`::

        router = Router.load()            # the bundled EU AI Office pack
        decision = router.route("who fines GPAI providers?")

    Parameters:
        classifier: an unfitted :class:`IntentClassifier`; None uses the pack's stored model
            (``intents/model.npz``) when it is current, else fits one with default settings.
        matcher: a :class:`TermMatcher` whose settings to use (fitted or not: a copy is
            fitted); None uses the pack's settings.
        policy: thresholds to use instead of the pack's stored calibration.
        encoder: the sentence encoder whose embeddings join the TF-IDF columns
            (:mod:`router.encoders`): ``"none"``, ``"minilm"``, ``"e5-small"``; None uses the
            pack's ``encoder:`` setting (``none`` unless set). The pack's model and
            calibration stored for that encoder are used (``intents/model.NAME.npz``,
            written by ``ai-office calibrate --encoder NAME``); without them one is fitted
            on load, with a warning.
        cache_size: decisions kept for the most recent distinct texts (0: none), and as
            many outcomes. Help desks and inquiry logs ask the same things again; a repeat
            is answered from here.
        encode_all: with an encoder, encode every question. By default a question whose
            words alone decide it (the pack's model without an encoder routes it with a
            margin of at least the gate fitted on held-out folds and stored with the
            encoder's calibration) is answered without the encoder: most questions are,
            at a fraction of the time (docs/encoders.md). No effect without an encoder, or
            when the pack stores no gate.
        gate: with an encoder, this gate instead of the one stored with the pack's
            calibration: a margin from 0 to 1. The higher it is, the more questions go to
            the encoder: better out-of-scope ranking, fewer questions per second (the
            trade-off on CLINC150 is in benchmarks/results/encoders.md). Needs the pack's
            model and calibration without an encoder, which ``ai-office calibrate
            --encoder NAME`` stores. No effect without an encoder.

    A fitted router may be shared by threads: its caches are filled under locks.
    """

    def __init__(
        self,
        *,
        classifier: IntentClassifier | None = None,
        matcher: TermMatcher | None = None,
        policy: Policy | None = None,
        encoder: str | None = None,
        cache_size: int = 4096,
        encode_all: bool = False,
        gate: float | None = None,
    ) -> None:
        self.classifier = classifier
        self.matcher = matcher
        self.policy = policy
        self.encoder = encoder
        self.cache_size = cache_size
        self.encode_all = encode_all
        self.gate = gate

    @classmethod
    def load(cls, pack: str | Path | Pack | None = None, **settings: object) -> Router:
        """Load a pack (None: the bundled AI Office pack; or a pack folder) and fit on it."""
        loaded = pack if isinstance(pack, Pack) else load_pack(pack)
        return cls(**settings).fit(loaded)  # type: ignore[arg-type]

    # -- fitting ------------------------------------------------------------------------

    def fit(self, pack: Pack) -> Router:
        """Fit the classifier and the term matcher on ``pack``; pick up its calibration.

        Without a stored calibration (or with a stale one) the thresholds are fitted here
        on held-out folds, which is slower; ``ai-office calibrate`` stores them.
        """
        self.pack_ = pack
        texts, labels = pack.training_data()
        normalised = [normalise(t) for t in texts]
        encoder = self.encoder if self.encoder is not None else pack.encoder
        if self.encoder is None and self.classifier is not None:
            # A classifier given with an encoder fits with it: its thresholds are that
            # encoder's (calibration.NAME.yaml), not the pack's default's.
            named = getattr(self.classifier, "encoder", None)
            encoder = named.name if hasattr(named, "name") else (named or "none")
        get_encoder(encoder)  # an unknown name is an error before any work
        self._check_gate()
        self.encoder_ = encoder
        classifier = self.classifier
        stored = None if classifier is not None else stored_model(pack, encoder=encoder)
        unfitted = stored is None or (
            self.policy is None and policy_from_calibration(pack, encoder=encoder) is None
        )
        if classifier is None and encoder != "none" and unfitted:
            _warn_unfitted(pack, encoder)
            from .classifier import IntentClassifier  # fitting needs scikit-learn anyway

            # What is not stored is fitted with the encoder (and the stored weight).
            weight = {} if stored is None else {"embedding_weight": stored.embedding_weight}
            classifier = IntentClassifier(encoder=encoder, **weight)  # type: ignore[arg-type]
        if stored is not None:
            self.classifier_: LinearTextModel = stored
            self.matcher_ = fit_matcher(pack, normalised, labels, matcher=self.matcher)
        else:
            self.classifier_, self.matcher_ = fit_models(
                pack, normalised, labels, classifier=classifier, matcher=self.matcher
            )
        self.classes_ = [str(c) for c in self.classifier_.classes_]
        self.oos_index_ = (
            self.classes_.index(pack.out_of_scope_unit)
            if pack.out_of_scope_unit in self.classes_
            else None
        )
        self._unit_index = [
            pack.unit(c) if c != pack.out_of_scope_unit else None for c in self.classes_
        ]
        self._in_scope = [i for i, u in enumerate(self._unit_index) if u is not None]
        self._in_scope_units = [self._unit_index[i] for i in self._in_scope]
        topic_pack = pack.topic_pack()
        # One warning for the pack, whichever of its stored calibrations is stale.
        stale = [p for p in (pack, topic_pack) if p is not None and _is_stale(p)]
        if stale and (self.policy is None or stale != [pack]):
            _warn_stale(stale[0], pack, stacklevel=2)
        if self.policy is not None:
            self.policy_ = self.policy
        else:
            stored = policy_from_calibration(pack, encoder=encoder)
            if stored is None:
                stored = fit_calibration(pack, classifier=classifier, matcher=self.matcher).policy
            self.policy_ = stored
        self._fit_gate(pack, encoder)
        self.answers_ = AnswerBook(pack)
        # Topics and referrals are told apart by a router of their own, over the pack's
        # topic pack: the same engine, its own fitted model and thresholds.
        self.topics_: Router | None = None if topic_pack is None else _quietly_fitted(topic_pack)
        self._topics = {t.id: t for t in pack.topics}
        self._override_floor = pack.topic_settings.get("override_floor", NEVER)
        self._referral_floor = pack.topic_settings.get("referral_floor", NEVER)
        self._referrals = {r.id: r for r in pack.referrals}
        self._unit_names = {u.id: u for u in pack.units}
        self._provision_index: ProvisionIndex | bool | None = False  # False: not built yet
        self._article_citer: ArticleCiter | bool | None = False
        self._recent: dict[tuple[str, bool], Decision] = {}
        self._recent_outcomes: dict[tuple[str, int], Outcome] = {}
        self._lock = threading.Lock()  # for the caches and what is built on first use
        return self

    def _check_gate(self) -> None:
        given = self.gate
        if given is None:
            return
        if not number_in(given, 0.0, 1.0):
            raise InputError(f"gate must be a margin from 0 to 1, got {given!r}")
        if self.encode_all:
            raise InputError(
                "gate and encode_all contradict each other: the gate skips the encoder for "
                "what the words decide, encode_all never does; give one of them"
            )

    def _fit_gate(self, pack: Pack, encoder: str) -> None:
        """Set up the encoder gate: the pack's stored model without an encoder and its
        policy decide first, and the encoder runs only for what they do not decide.

        The gate needs the stored words-only model and calibration, current, with the same
        TF-IDF columns and classes as the encoder's model (one transform serves both);
        otherwise every question is encoded.
        """
        self.gate_: float | None = None
        given = self.gate
        if encoder == "none" or self.encode_all:
            return
        gate = gate_from_calibration(pack, encoder=encoder) if given is None else float(given)
        words = None if gate is None else stored_model(pack)
        words_policy = None if words is None else policy_from_calibration(pack)
        linear = getattr(self.classifier_, "linear_", self.classifier_)
        usable = (
            gate is not None
            and words is not None
            and words_policy is not None
            and [str(c) for c in words.classes_] == self.classes_
            and words.shares_features(linear)
        )
        if not usable:
            if given is not None:
                raise PackError(
                    f"the gate {given} needs the pack's model and calibration without an "
                    f"encoder, current and fitted with the same words as the {encoder} "
                    f"model: run '{calibrate_command(pack, encoder=encoder)}'"
                )
            return
        assert gate is not None and words is not None and words_policy is not None
        self.gate_ = gate
        self.words_ = words
        self.words_policy_ = words_policy

    def __getstate__(self) -> dict[str, Any]:
        # A lock cannot be pickled (a router is shipped to Dask workers): each copy gets its own.
        return {k: v for k, v in self.__dict__.items() if k != "_lock"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    @property
    def provision_index(self) -> ProvisionIndex | None:
        """The pack's AI Act passages (None if it has none), built on first use.

        Built lazily so that loading a router, and a cold ``ai-office ask``, stay fast.
        """
        self._check_fitted()
        if self._provision_index is False:
            with self._lock:  # built once, however many threads ask at first
                if self._provision_index is False:
                    self._provision_index = (
                        load_provisions(self.pack_.corpus_dir)
                        if self.pack_.cites_provisions
                        else None
                    )
        return self._provision_index  # type: ignore[return-value]

    @property
    def article_citer(self) -> ArticleCiter | None:
        """What decides which articles a question is about: a router over the Act as a pack
        of its own (:mod:`router.law.articles`), built on first use; None without one."""
        self._check_fitted()
        if self._article_citer is False:
            index = self.provision_index  # takes the lock itself: before taking it here
            with self._lock:
                if self._article_citer is False:
                    act = None if index is None else act_pack(self.pack_, index)
                    self._article_citer = (
                        None
                        if act is None or index is None
                        else ArticleCiter(
                            self._act_router(act),
                            index,
                            act_questions(self.pack_, index) or (),
                            floor=index.settings.article_floor,
                            share=index.settings.article_share,
                        )
                    )
        return self._article_citer  # type: ignore[return-value]

    def _act_router(self, act: Pack) -> Router:
        if _is_stale(act):
            _warn_stale(act, self.pack_, stacklevel=3)
        return _quietly_fitted(act)

    def _provisions(
        self, texts: Sequence[str], kinds: Sequence[str], units: Sequence[str]
    ) -> list[tuple[Provision, ...]]:
        """The provisions that bear on each question.

        A question that names provisions gets them. Otherwise the Act router decides which
        articles it is about (or that none is) and the best paragraph of each is cited,
        refused questions included (a citizen's question about the law is often not one
        for the office); a question of fewer than two real words ("2", "recipe") gets none,
        as a wrong citation is worse than none. A pack without an Act router falls back to
        BM25 retrieval over the passages, with the routed unit's articles (``units``)
        weighing more, for the questions it routes.
        """
        index = self.provision_index
        if index is None:
            return [()] * len(texts)
        out = [index.lookup(text) for text in texts]
        citer = self.article_citer
        searched = [
            i
            for i, kind in enumerate(kinds)
            if not out[i] and (kind != OUT_OF_SCOPE or (citer is not None and _says(texts[i])))
        ]
        if not searched:
            return out
        if citer is not None:
            found = citer.cite_many([texts[i] for i in searched])
        else:
            found = index.search_many([texts[i] for i in searched], [units[i] for i in searched])
        for i, provisions in zip(searched, found):
            out[i] = provisions
        return out

    def warm_up(self) -> Router:
        """Build now what is otherwise built on first use: the AI Act index, the spelling
        index, the lexicon of real words and the features of every training word.

        Call it before forking worker processes (``ai-office batch --jobs`` does), so that
        they share these instead of each building its own; a chat or a one-off question
        need not wait for them.
        """
        self._check_fitted()
        if self.article_citer is not None:
            self.article_citer.warm_up()
        self.matcher_.warm_up()
        for language in lexicon.LANGUAGES:
            lexicon.words(language)
            lexicon.zipf("", language)
        vocabulary = sorted(self.matcher_.vocabulary_)
        for start in range(0, len(vocabulary), CHUNK_SIZE):
            # The TF-IDF columns only: the words' table is what is shared. An encoder is
            # not loaded here: each forked worker loads its own (a loaded ONNX Runtime
            # session does not survive a fork).
            self.classifier_.transform_sparse(
                [[word] for word in vocabulary[start : start + CHUNK_SIZE]]
            )
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "policy_"):
            raise NotFittedError("this Router is not fitted yet; use Router.load() or fit()")

    # -- the public surface -------------------------------------------------------------

    @property
    def units(self) -> tuple[Unit, ...]:
        """The units of the fitted pack, in pack order."""
        self._check_fitted()
        return self.pack_.units

    def unit(self, query: str) -> Unit:
        """Find a unit by id, name or alias, forgiving typos; raises UnknownUnitError."""
        self._check_fitted()
        if query in self._unit_names:
            return self._unit_names[query]
        units = self.pack_.units
        found = match_unit(query, units, scorer=fuzz.WRatio, score_cutoff=75)
        if found is None and len(query.strip()) >= 4:
            # One misspelled word of a longer name ("safty"): compare it with the best-matching
            # part of each name instead of the whole name.
            found = match_unit(query, units, scorer=fuzz.partial_ratio, score_cutoff=80)
        if found is None:
            known = ", ".join(u.id for u in units)
            raise UnknownUnitError(f"no unit matches {query!r}; known units: {known}")
        return found

    def law(self, reference: str) -> Provision:
        """The AI Act provision a reference names, quoted in full with its ELI link:
        ``law("Article 5(1)(h)")``, ``law("50")``, ``law("Annex III, point 4")``.

        Raises:
            UnknownReferenceError: no such provision; the message names the nearest ones.
            PackError: the pack cites no AI Act provisions.
        """
        index = self.provision_index
        if index is None:
            raise PackError("this pack holds no AI Act text to look provisions up in")
        return provision_for(index, reference)

    def route(self, text: str) -> Decision:
        """Route one question.

        Raises:
            InputError: ``text`` is not a string, or is empty or only whitespace.
        """
        return self._route_chunk([text], offset=0)[0]

    def route_many(
        self, texts: Iterable[str], *, chunk_size: int = CHUNK_SIZE, explain: bool = True
    ) -> Iterator[Decision]:
        """Route many questions lazily, vectorised in chunks; same results as :meth:`route`.

        Parameters:
            explain: False skips what only explains a decision (the weighing words, matched
                terms, corrections and per-class scores of :class:`Evidence`; its
                ``truncated`` and ``notes`` stay), for bulk work that never shows it. The
                decisions, scores, answers and provisions are the same.

        Raises:
            InputError: one of the texts is empty; the message gives its position.
        """
        self._check_fitted()
        chunk: list[str] = []
        offset = 0
        for text in texts:
            chunk.append(text)
            if len(chunk) >= chunk_size:
                yield from self._route_chunk(chunk, offset=offset, explain=explain)
                offset += len(chunk)
                chunk = []
        if chunk:
            yield from self._route_chunk(chunk, offset=offset, explain=explain)

    def outcomes(self, texts: Sequence[str], *, alternatives: int = 3) -> list[Outcome]:
        """Route many questions to their lean :class:`~router.results.Outcome`: where each
        goes, without the evidence and answer of a Decision (what a batch writes).

        The same scores and decisions as :meth:`route_many`: ``d.outcome(alternatives=k)``
        of its decision ``d`` equals this one. Each distinct text is scored once, and
        recent ones come from a cache.

        Parameters:
            alternatives: how many of the best units each outcome lists.

        Raises:
            InputError: one of the texts is empty or not text; the message gives its position.
        """
        self._check_fitted()
        out: list[Outcome | None] = [None] * len(texts)
        match = self._needs_terms(explain=False)
        for start in range(0, len(texts), CHUNK_SIZE):
            waiting, prepared = self._pending(
                texts,
                range(start, min(start + CHUNK_SIZE, len(texts))),
                self._recent_outcomes,
                alternatives,
                out,
                offset=0,
                match=match,
            )
            if not prepared:
                continue
            s = self._score(prepared)
            build = Outcome.build
            found = [
                build(
                    kind,
                    first if kind == ROUTED else None,
                    confidence,
                    zip(units[:alternatives], scores[:alternatives]),
                    provisions,
                    topic,
                    referral,
                )
                for kind, first, confidence, units, scores, provisions, topic, referral in zip(
                    s.kinds,
                    s.first,
                    s.confidence,
                    s.listed_units,
                    s.listed_scores,
                    s.provisions,
                    s.topics,
                    s.referrals,
                )
            ]
            self._remember(self._recent_outcomes, alternatives, waiting, found, out)
        return out  # type: ignore[return-value]

    def rank(self, texts: Sequence[str]) -> Ranking:
        """Rank the units for each text, without building decisions or answers and without
        the cache: for a router over a derived pack, whose owner needs only the ranking and
        the features (:mod:`router.law.articles`, the topic router).

        Raises:
            InputError: one of the texts is empty or not text.
        """
        self._check_fitted()
        match = self._needs_terms(explain=False)
        s = self._score([self._prepare(t, None, match=match) for t in texts])
        return Ranking(s.kinds, s.first, s.confidence, s.listed_units, s.listed_scores, s.features)

    def cache_info(self) -> dict[str, tuple[int, int]]:
        """Each cache's size and limit: ``decisions`` and ``outcomes`` (recent texts),
        ``words`` (the classifier's table of seen words), ``corrections`` and
        ``term_matches`` (the term matcher's). Every one is bounded."""
        self._check_fitted()
        return {
            "decisions": (len(self._recent), self.cache_size),
            "outcomes": (len(self._recent_outcomes), self.cache_size),
            # With the encoder gate the words-only model computes every TF-IDF row.
            "words": (self.classifier_ if self.gate_ is None else self.words_).cache_info(),
            **self.matcher_.cache_info(),
        }

    # -- internals ----------------------------------------------------------------------

    def _prepare(self, text: str, position: int | None, *, match: bool = True) -> _Prepared:
        """Clean, fold and spell-correct a question; find its key terms when ``match``
        (without evidence to show, they count only when the fuzzy weight is not 0)."""
        where = "" if position is None else f" (item {position})"
        if not isinstance(text, str):
            raise InputError(f"expected the question as text, got {type(text).__name__}{where}")
        truncated = len(text) > MAX_CHARS
        if truncated:
            text = text[:MAX_CHARS]
        shown = clean_for_display(text)
        if not shown:
            raise InputError(f"the question is empty{where}: type a question about the units' work")
        words, corrections, matches = prepare_normalised(
            self.matcher_, normalised_words(shown), match=match
        )
        return _Prepared(shown, " ".join(words), words, corrections, matches, truncated)

    def _route_chunk(
        self, texts: Sequence[str], *, offset: int, explain: bool = True
    ) -> list[Decision]:
        self._check_fitted()
        single = len(texts) == 1 and offset == 0
        out: list[Decision | None] = [None] * len(texts)
        waiting, prepared = self._pending(
            texts,
            range(len(texts)),
            self._recent,
            explain,
            out,
            offset=None if single else offset,
            match=self._needs_terms(explain=explain),
        )
        if prepared:
            self._remember(
                self._recent, explain, waiting, self._decide(prepared, explain=explain), out
            )
        return out  # type: ignore[return-value]

    def _needs_terms(self, *, explain: bool) -> bool:
        # Key terms show in the evidence, and count in a decision only through the fuzzy
        # weight: without evidence and with a weight of 0 they need not be looked for.
        if explain or self.policy_.fuzzy_weight != 0:
            return True
        return self.gate_ is not None and self.words_policy_.fuzzy_weight != 0

    def _pending(
        self,
        texts: Sequence[str],
        indices: Iterable[int],
        recent: dict[Any, Any],
        key: object,
        out: list[Any],
        *,
        offset: int | None,
        match: bool = True,
    ) -> tuple[dict[str, list[int]], list[_Prepared]]:
        """Answer from the cache what it holds (into ``out``); prepare each other distinct
        text once. Returns each such text's positions, in the order of the prepared texts.

        Inquiry logs repeat themselves ("hello", the same form text): a text routed lately
        is answered from the cache, and each other distinct text of a chunk is routed once;
        results are immutable, so sharing them is safe.
        """
        waiting: dict[str, list[int]] = {}
        prepared: list[_Prepared] = []
        for i in indices:
            text = texts[i]
            if isinstance(text, str):
                hit = recent.get((text, key))
                if hit is not None:
                    out[i] = hit
                    continue
                positions = waiting.get(text)
                if positions is not None:
                    positions.append(i)
                    continue
            prepared.append(
                self._prepare(text, None if offset is None else offset + i, match=match)
            )
            waiting[text] = [i]
        return waiting, prepared

    def _remember(
        self,
        recent: dict[Any, Any],
        key: object,
        waiting: dict[str, list[int]],
        results: Sequence[Any],
        out: list[Any],
    ) -> None:
        """Put each result at its text's positions in ``out`` and in the bounded cache."""
        for result, positions in zip(results, waiting.values()):
            for i in positions:
                out[i] = result
        if not self.cache_size:
            return
        with self._lock:  # threads filling it at once would overrun the bound
            if len(recent) + len(results) > self.cache_size:
                recent.clear()  # a clear is cheap, and leaves the lookups unlocked safe
            room = self.cache_size - len(recent)
            for result, text in zip(results[:room], waiting):
                recent[(text, key)] = result

    def _score(self, prepared: Sequence[_Prepared]) -> _Scored:
        """Score prepared texts together: the decision, units, scores and provisions."""
        words = [p.words for p in prepared]
        fuzzy = np.zeros((len(prepared), len(self.classes_)))
        for row, prep in enumerate(prepared):
            if prep.matches:  # most questions name no key term: their row stays zero
                fuzzy[row] = self.matcher_.unit_scores(prep.matches, self.classes_)
        if self.gate_ is None:
            features = self.classifier_.transform_words(words)
            logits = self.classifier_.decision_function(features)
            fused = fuse(logits, fuzzy, self.policy_)
            kinds, best, second, confidence = decide_many(fused, self.oos_index_, self.policy_)
            encoded = None
        else:
            features, logits, fused, (kinds, best, second, confidence), encoded = self._gated(
                words, fuzzy
            )
        # Plain Python values once per chunk: indexing numpy arrays item by item is slow.
        in_scope = self._in_scope
        in_scope_fused = fused[:, in_scope]
        order = top_k(in_scope_fused, MAX_LISTED)
        listed_scores = np.take_along_axis(in_scope_fused, order, axis=1).tolist()
        listed_units = [[self._in_scope_units[j] for j in row] for row in order.tolist()]
        first_units = [self._unit_index[j] for j in best.tolist()]
        second_units = [self._unit_index[j] for j in second.tolist()]
        kinds = list(kinds)
        topics, referrals = self._topics_of(prepared, kinds, first_units, listed_units, confidence)
        provisions = self._provisions(
            [p.text for p in prepared],
            kinds,
            # The routed unit, or the likelier one when asking back.
            [
                (first if kind == ROUTED else listed[0]).id  # type: ignore[union-attr]
                for kind, first, listed in zip(kinds, first_units, listed_units)
            ],
        )
        return _Scored(
            kinds,
            first_units,  # type: ignore[arg-type]
            second_units,  # type: ignore[arg-type]
            listed_units,  # type: ignore[arg-type]
            listed_scores,
            confidence.tolist(),
            provisions,
            topics,
            referrals,
            features,
            logits,
            fuzzy,
            best,
            encoded,
        )

    def _gated(
        self, words: list[list[str]], fuzzy: np.ndarray
    ) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, tuple[Any, ...], np.ndarray]:
        """Score with the encoder gate: the words-only model decides every row, and the
        rows it does not decide by the gate's margin are scored again with the encoder.

        Returns the TF-IDF features (shared by both models), the logits, fused scores and
        decisions of the model that decided each row, and which rows were encoded.
        """
        features = self.words_.transform_sparse(words)
        logits = self.words_.decision_function(features)
        fused = fuse(logits, fuzzy, self.words_policy_)
        kinds, best, second, confidence = decide_many(fused, self.oos_index_, self.words_policy_)
        encoded = ~skips_encoder(fused, kinds, best, second, self.gate_)  # type: ignore[arg-type]
        if encoded.any():
            rows = np.flatnonzero(encoded)
            full = self.classifier_.with_embeddings(features[rows], [words[i] for i in rows])
            e_logits = self.classifier_.decision_function(full)
            e_fused = fuse(e_logits, fuzzy[rows], self.policy_)
            e_kinds, e_best, e_second, e_confidence = decide_many(
                e_fused, self.oos_index_, self.policy_
            )
            logits[rows], fused[rows] = e_logits, e_fused
            best[rows], second[rows], confidence[rows] = e_best, e_second, e_confidence
            for row, kind in zip(rows.tolist(), e_kinds):
                kinds[row] = kind
        return features, logits, fused, (kinds, best, second, confidence), encoded


    def _topics_of(
        self,
        prepared: Sequence[_Prepared],
        kinds: list[str],
        first: list[Unit | None],
        listed: Sequence[Sequence[Unit]],
        confidence: np.ndarray,
    ) -> tuple[list[Topic | None], list[Referral | None]]:
        """The topic and the referral of each question, from the topic router; a sure topic
        also settles the unit (``kinds``, ``first`` and ``confidence`` are updated in place).

        A topic the topic router is sure of is the question's subject, and its unit is the
        one that handles it: this router is trained on the units' general wording, the topic
        router on the names and questions of each programme and body. A referral counts only
        when the question is refused.
        """
        n = len(prepared)
        topics: list[Topic | None] = [None] * n
        referrals: list[Referral | None] = [None] * n
        sub = self.topics_
        if sub is None:
            return topics, referrals
        scored = sub.rank([p.text for p in prepared])
        for row, kind in enumerate(kinds):
            if scored.kinds[row] != ROUTED:
                continue
            found = scored.first[row].id  # type: ignore[union-attr]
            if found in self._referrals:
                if kind == OUT_OF_SCOPE:
                    referrals[row] = self._referrals[found]
                elif scored.confidence[row] >= self._referral_floor:
                    referrals[row] = self._referrals[found]
                    kinds[row], first[row] = OUT_OF_SCOPE, None
                    confidence[row] = scored.confidence[row]
                continue
            topic = self._topics.get(found)
            if topic is None:
                continue
            unit = self._unit_names[topic.unit]
            sure = scored.confidence[row] >= self._override_floor
            if kind == ROUTED and first[row] is unit:
                topics[row] = topic
            elif (kind == CLARIFY and unit in listed[row][:2]) or (kind == OUT_OF_SCOPE and sure):
                topics[row] = topic
                kinds[row], first[row] = ROUTED, unit
                confidence[row] = scored.confidence[row]
            elif kind == ROUTED and sure and first[row].id != self.pack_.office_unit:
                topics[row] = topic
                first[row] = unit
        return topics, referrals

    def _decide(self, prepared: Sequence[_Prepared], *, explain: bool) -> list[Decision]:
        """A Decision for each prepared text, scored together."""
        s = self._score(prepared)
        if explain:
            evidence = self._evidence_many(prepared, s)
        else:
            evidence = [_bare_evidence(p) for p in prepared]
        results = []
        for row, prep in enumerate(prepared):
            kind = s.kinds[row]
            first_unit = s.first[row]
            unit: Unit | None = None
            topic = s.topics[row]
            contacts: tuple[Contact, ...] = ()
            language = detect_language(prep.text)  # the answer's wording follows the question
            if kind == ROUTED:
                unit = first_unit
                answer = self.answers_.routed(first_unit, topic, language=language)
                contacts = self.answers_.contacts(first_unit, topic)
            elif kind == CLARIFY:
                answer = self.answers_.clarify(first_unit, s.second[row], language=language)
            else:
                answer = self.answers_.out_of_scope(s.referrals[row], language=language)
            results.append(
                Decision(
                    text=prep.text,
                    decision=kind,  # type: ignore[arg-type]
                    unit=unit,
                    confidence=s.confidence[row],
                    alternatives=tuple(map(Alternative, s.listed_units[row], s.listed_scores[row])),
                    evidence=evidence[row],
                    answer=answer,
                    provisions=s.provisions[row],
                    topic=topic,
                    referral=s.referrals[row],
                    contacts=contacts,
                    language=language,
                )
            )
        return results

    def _evidence_many(self, prepared: Sequence[_Prepared], s: _Scored) -> list[Evidence]:
        features, logits, fuzzy, best = s.features, s.logits, s.fuzzy, s.best
        if s.encoded is None:
            model = softmax(logits, self.policy_.temperature)  # the classifier's own view
            top_terms = self.classifier_.top_terms_many(features, best)
        else:
            # Each row as the model that decided it sees it (the gate's words-only model, or
            # the one with the encoder); both read the same word columns.
            temperature = np.where(
                s.encoded, self.policy_.temperature, self.words_policy_.temperature
            )
            model = softmax(logits, temperature[:, None])
            top_terms: list[tuple[tuple[str, float], ...]] = [()] * len(prepared)
            for decider, rows in (
                (self.words_, np.flatnonzero(~s.encoded)),
                (self.classifier_, np.flatnonzero(s.encoded)),
            ):
                found = decider.top_terms_many(features[rows], best[rows]) if len(rows) else []
                for row, terms in zip(rows.tolist(), found):
                    top_terms[row] = terms
        # Rounded once per chunk: Python's round() on numpy scalars is slow per item.
        # The best few classes, listed in class order.
        listed = np.sort(top_k(model, MAX_LISTED), axis=1)
        scores = np.round(np.take_along_axis(model, listed, axis=1), 4).tolist()
        listed_rows = listed.tolist()
        classes = self.classes_
        fuzzy = np.round(fuzzy, 4)
        out = []
        for row, prep in enumerate(prepared):
            fuzzy_scores: tuple[tuple[str, float], ...] = ()
            if prep.matches:  # only a question with key terms has fuzzy scores
                fuzzy_row = fuzzy[row]
                fuzzy_scores = tuple(
                    (classes[i], float(fuzzy_row[i])) for i in np.flatnonzero(fuzzy_row > 0)
                )
            out.append(
                Evidence(
                    matched_terms=prep.matches,
                    weighing_terms=top_terms[row],
                    corrections=prep.corrections,
                    model_scores=tuple(zip([classes[i] for i in listed_rows[row]], scores[row])),
                    fuzzy_scores=fuzzy_scores,
                    truncated=prep.truncated,
                    notes=_notes(prep),
                )
            )
        return out


_NO_EVIDENCE = Evidence()


def _notes(prep: _Prepared) -> tuple[Note, ...]:
    notes = []
    if prep.truncated:
        notes.append(Note("truncated", (("limit", str(MAX_CHARS)),)))
    if not prep.normalised:
        notes.append(Note("no_words"))
    return tuple(notes)


def _bare_evidence(prep: _Prepared) -> Evidence:
    """Evidence with only what changes how a decision reads (truncation, no words)."""
    if not prep.truncated and prep.normalised:
        return _NO_EVIDENCE
    return Evidence(truncated=prep.truncated, notes=_notes(prep))


def _says(text: str) -> bool:
    """Whether a question has at least two words of three letters or more to go on."""
    return sum(len(w) >= 3 and w.isalpha() for w in normalised_words(text)) >= 2


def _is_stale(pack: Pack) -> bool:
    """Whether the pack has a stored calibration fitted on other training data."""
    return pack.calibration is not None and policy_from_calibration(pack) is None


def _warn_stale(stale: Pack, owner: Pack, *, stacklevel: int) -> None:
    """One plain warning that ``stale``'s stored calibration is refitted, naming the
    command that stores ``owner``'s (which stores its derived packs' too); ``stacklevel``
    counts from the caller, as ``warnings.warn``'s does."""
    warnings.warn(
        f"the calibration in {stale.intents_dir} was fitted on other training data; "
        f"refitting it now. Run '{calibrate_command(owner)}' to store it.",
        StaleCalibrationWarning,
        stacklevel=stacklevel + 1,
    )


def _warn_unfitted(pack: Pack, encoder: str) -> None:
    """One plain warning that no current model and calibration for ``encoder`` is stored,
    so they are fitted now (the encoder embeds every training example: seconds)."""
    warnings.warn(
        f"no current model fitted with the encoder {encoder!r} is stored in "
        f"{pack.intents_dir}; fitting one now. Run "
        f"'{calibrate_command(pack, encoder=encoder)}' to store it.",
        StaleCalibrationWarning,
        stacklevel=4,
    )


def _quietly_fitted(pack: Pack) -> Router:
    """A router fitted on a derived pack (topics, the Act), its staleness warned by the
    router that owns it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StaleCalibrationWarning)
        return Router(cache_size=0).fit(pack)


def calibrate_command(pack: Pack, *, encoder: str | None = None) -> str:
    """The command that stores ``pack``'s calibration: ``--pack`` names its folder unless it
    is the bundled pack (a derived topic or Act pack names its parent's); ``--encoder``
    names ``encoder`` unless it is None or ``none``."""
    option = "" if encoder in (None, "none") else f" --encoder {encoder}"
    corpus, _ = bundled_dirs()
    if pack.corpus_dir.resolve() == corpus.resolve():
        return f"ai-office calibrate{option}"
    return f"ai-office calibrate --pack {pack.corpus_dir.parent}{option}"


def match_unit(
    query: str,
    units: Iterable[Unit],
    *,
    scorer: Callable[..., float],
    score_cutoff: float,
) -> Unit | None:
    """The unit whose id, name or an alias best matches ``query`` under ``scorer``, or None."""
    labels: dict[str, Unit] = {}
    for unit in units:
        for label in (unit.id, unit.name, *unit.aliases):
            labels[label] = unit
    hit = process.extractOne(
        query,
        list(labels),
        scorer=scorer,
        processor=utils.default_process,  # rapidfuzz >= 3 does no lower-casing itself
        score_cutoff=score_cutoff,
    )
    return None if hit is None else labels[hit[0]]


def stored_model(pack: Pack, *, encoder: str = "none") -> LinearTextModel | None:
    """The pack's stored fitted model for ``encoder``, if it was fitted on the pack's
    current data.

    Raises:
        PackError: the stored file was fitted with another encoder (or another version of
            it); the message names the command that fits it again.
    """
    path = pack.intents_dir / model_file(encoder)
    if not path.is_file():
        return None
    model, fingerprint = LinearTextModel.load(path, encoder=get_encoder(encoder))
    return model if fingerprint == pack.fingerprint() else None
