"""A conversation: questions asked in turn, a follow-up read in its context.

``route()`` and batch stay stateless; a chat keeps a :class:`Conversation`::

    talk = Conversation(router)
    talk.ask("Who enforces the rules for general-purpose AI models?")
    talk.ask("and who do I contact?")      # read as a follow-up: the same unit answers

What marks a follow-up ("and ...", a pronoun pointing back, a request about the last answer,
a language asked for) and what closes a thread ("thanks. unrelated, but ...") are word
lists in ``router/conversation.yaml``, with the thresholds fitted on the tuning dialogues
(benchmarks/fit_conversation.py).
"""

from __future__ import annotations

import dataclasses
import functools
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import InputError, PackError
from .language import LANGUAGES, detect_language
from .results import Note
from .text import normalised_words
from .yamlio import read_yaml

if TYPE_CHECKING:
    from .pack import Unit
    from .results import Decision
    from .routing import Router

__all__ = ["Conversation", "FollowUpRules", "Turn"]

Phrase = tuple[str, ...]


@dataclass(frozen=True)
class Turn:
    """One question and its answer; ``context`` is the text it was routed as (the question
    before it and itself, for a follow-up)."""

    text: str
    context: str
    decision: Decision


@dataclass(frozen=True)
class FollowUpRules:
    """What tells a follow-up from a new question (``router/conversation.yaml``).

    Attributes:
        sure: a turn with no cue word whose own refusal is at least this sure is new.
        follow_up_words: the most words of a follow-up without a cue word.
        cued_words: the most words of a follow-up with a cue word (pronoun, request).
        routed_below: a turn routed on its own to another unit than the last is read as a
            follow-up only below this confidence.
        openers, anaphora, requests, asks, shifts, small_talk: phrases (tuples of normalised words)
            of each kind; see the YAML file for what each means.
        languages: reply language -> the phrases naming it.
    """

    sure: float
    follow_up_words: int
    cued_words: int
    routed_below: float
    openers: frozenset[Phrase]
    anaphora: frozenset[Phrase]
    requests: frozenset[Phrase]
    asks: frozenset[Phrase]
    shifts: frozenset[Phrase]
    small_talk: frozenset[Phrase]
    languages: Mapping[str, frozenset[Phrase]]

    @functools.cached_property
    def plain(self) -> frozenset[Phrase]:
        """The words that say nothing of a subject on their own: a turn made only of them
        ("since when?", "how much?") is a follow-up."""
        return self.openers | self.anaphora | self.requests | self.asks

    @classmethod
    def load(cls, path: Path | None = None) -> FollowUpRules:
        """The rules from ``path``, by default the shipped ``router/conversation.yaml``.

        Raises:
            PackError: the file is missing a section or a threshold.
        """
        if path is None:
            return _shipped()
        return _rules_from_data(read_yaml(path), path)


def _rules_from_data(data: Any, path: Path) -> FollowUpRules:
    """The rules in ``data`` (read from ``path``, which errors name)."""
    try:
        fitted = data["fitted"]
        lists = {key: _phrases(data[key].values()) for key in
                 ("openers", "anaphora", "requests", "asks", "shifts", "small_talk")}
        languages = {code: _phrases([data["languages"][code]]) for code in LANGUAGES}
        return FollowUpRules(
            sure=float(fitted["sure"]),
            follow_up_words=int(fitted["follow_up_words"]),
            cued_words=int(fitted["cued_words"]),
            routed_below=float(fitted["routed_below"]),
            languages=languages,
            **lists,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PackError(
            f"missing or malformed entry {exc}; see the shipped router/conversation.yaml",
            path=path,
        ) from exc


def _phrases(groups: Iterable[Iterable[str]]) -> frozenset[Phrase]:
    """Each entry normalised as questions are, so lists and questions meet."""
    return frozenset(
        phrase for group in groups for entry in group
        if (phrase := tuple(normalised_words(str(entry))))
    )


@functools.cache
def _shipped() -> FollowUpRules:
    path = Path(str(files("router") / "conversation.yaml"))
    return _rules_from_data(read_yaml(path), path)


def _has(words: list[str], phrases: frozenset[Phrase]) -> bool:
    """Whether any of ``phrases`` occurs in ``words`` (single words looked up directly)."""
    if any((w,) in phrases for w in words):
        return True
    return any(
        len(p) > 1 and any(tuple(words[i : i + len(p)]) == p for i in range(len(words)))
        for p in phrases
    )


def _starts(words: list[str], phrases: frozenset[Phrase]) -> bool:
    return any(tuple(words[: len(p)]) == p for p in phrases)


class Conversation:
    """Questions asked in turn, keeping the last few turns.

    A question that carries no subject of its own ("and who do I contact?", "which
    article?", "is it free to use?", "in French please") is routed together with the
    question before it, and its evidence says so; one that names its own unit or topic, a
    sure refusal without a word pointing back ("recipe for lasagne"), or one that closes the
    thread ("thanks. unrelated, but ...") starts afresh. A follow-up to a question that was
    not for the AI Office is not for it either.

    Parameters:
        router: a fitted router.
        memory: how many turns to keep.
        rules: what tells a follow-up; by default the shipped ``router/conversation.yaml``.
    """

    def __init__(
        self, router: Router, *, memory: int = 5, rules: FollowUpRules | None = None
    ) -> None:
        self.router = router
        self.memory = memory
        self.rules = rules if rules is not None else FollowUpRules.load()
        self._turns: deque[Turn] = deque(maxlen=memory)

    @property
    def turns(self) -> tuple[Turn, ...]:
        """The kept turns, oldest first."""
        return tuple(self._turns)

    def reset(self) -> None:
        """Forget the turns: the next question starts afresh."""
        self._turns.clear()

    def settle(self, unit: Unit) -> None:
        """The person picked ``unit`` when asked back: the last turn counts as answered by
        it, so a follow-up ("and who do I contact?") continues with that unit.

        Raises:
            InputError: there is no turn yet.
        """
        if not self._turns:
            raise InputError("no question to settle yet: ask one first")
        last = self._turns[-1]
        topic = last.decision.topic
        if topic is not None and topic.unit != unit.id:
            topic = None  # the topic was the other candidate's
        book = self.router.answers_
        language = last.decision.language
        decision = dataclasses.replace(
            last.decision,
            decision="routed",
            unit=unit,
            topic=topic,
            answer=book.routed(unit, topic, language=language),
            contacts=book.contacts(unit, topic),
        )
        self._turns[-1] = Turn(last.text, last.context, decision)

    def ask(self, text: str) -> Decision:
        """Answer ``text`` in the conversation's context; raises as :meth:`Router.route`."""
        own = self.router.route(text)
        previous = self._turns[-1] if self._turns else None
        words = normalised_words(text)
        decision, context = own, text
        if previous is not None and self._follows(words, own, previous.decision):
            decision, context = self._in_context(text, own, previous)
        if previous is not None:
            decision = self._language(words, own, decision, previous, context != text)
        self._turns.append(Turn(text, context, decision))
        return decision

    def _in_context(self, text: str, own: Decision, previous: Turn) -> tuple[Decision, str]:
        """``text`` routed with the previous turn's context, or on its own when that does
        not hold; and the context it was routed as."""
        context = f"{previous.context} {text}"
        joined = self.router.route(context)
        kept = previous.decision.unit
        if kept is None:
            # After a refusal, a follow-up stays refused ("and in Germany?" after a
            # passport question); the joined text finds the fitting referral.
            if joined.decision != "out_of_scope" or own.decision != "out_of_scope":
                return own, text
        elif joined.decision == "clarify" and kept in joined.candidates:
            # Asked back between the previous turn's unit and another: the thread of the
            # conversation is what tips it, so the follow-up stays with that unit.
            book = self.router.answers_
            joined = dataclasses.replace(
                joined,
                decision="routed",
                unit=kept,
                answer=book.routed(kept, joined.topic, language=joined.language),
                contacts=book.contacts(kept, joined.topic),
            )
        elif joined.decision != "routed":
            return own, text
        if own.decision == "routed" and joined.unit != own.unit and (
            own.confidence >= self.rules.routed_below
        ):
            return own, text
        note = Note("follow_up", (("previous", previous.text),))
        evidence = dataclasses.replace(joined.evidence, notes=(*joined.evidence.notes, note))
        return dataclasses.replace(joined, text=own.text, evidence=evidence), context

    def _language(
        self, words: list[str], own: Decision, decision: Decision, previous: Turn,
        follows: bool,
    ) -> Decision:
        """``decision`` worded in the language asked for ("in French please"), else the
        turn's own; a turn too short to tell ("ok", "GPAI?") keeps the conversation's."""
        named = [code for code, names in self.rules.languages.items() if _has(words, names)]
        if follows and len(named) == 1:
            language = named[0]
        else:
            language = detect_language(own.text, default=previous.decision.language)
        if language != decision.language:
            decision = self.router.answers_.in_language(decision, language)
        return decision

    def _follows(self, words: list[str], own: Decision, previous: Decision) -> bool:
        """Whether a turn of ``words``, routed alone as ``own``, reads as a follow-up to a
        turn answered ``previous``."""
        rules = self.rules
        if not words or previous.decision == "clarify" or _has(words, rules.shifts):
            return False
        if own.topic is not None and own.unit != previous.unit:
            return False  # it names its own programme or body
        # Words that name a subject: a referral found on one of them alone ("et qui
        # dois-je contacter ?" meets a referral's "qui dois-je contacter") is no subject.
        subject = [w for w in words if (w,) not in rules.plain]
        if own.decision == "out_of_scope" and previous.unit is not None and (
            (own.referral is not None and len(subject) > 1) or _has(words, rules.small_talk)
        ):
            # A refusal that finds its own referral ("who certifies our medical device?")
            # or speaks of the weather or lunch names its own subject: it is new, and
            # refused, whatever pronoun it holds.
            return False
        opener = _starts(words, rules.openers)
        cued = (
            _has(words, rules.anaphora)
            or _has(words, rules.requests)
            or any(_has(words, names) for names in rules.languages.values())
        )
        bare = all((w,) in rules.plain for w in words)
        if (
            own.decision == "routed"
            and own.unit != previous.unit
            and own.confidence >= rules.routed_below
        ):
            return False  # sure of another unit, it stands alone ("who handles the AI pact?")
        if cued and len(words) <= rules.cued_words:
            return True
        if len(words) > rules.follow_up_words:
            return False
        # A sure refusal of words that say something ("recipe for lasagne") is a new
        # question; "how much?" or "since when?" say nothing on their own.
        return opener or bare or own.confidence < rules.sure
