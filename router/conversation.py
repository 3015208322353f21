"""A conversation: questions asked in turn, a short follow-up read in its context.

``route()`` and batch stay stateless; a chat keeps a :class:`Conversation`::

    talk = Conversation(router)
    talk.ask("Who enforces the rules for general-purpose AI models?")
    talk.ask("and who do I contact?")      # read as a follow-up: the same unit answers
"""

from __future__ import annotations

import dataclasses
import re
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .language import detect_language
from .results import Note
from .text import normalised_words

if TYPE_CHECKING:
    from .results import Decision
    from .routing import Router

__all__ = ["Conversation", "Turn"]

#: A follow-up is short: "and who do I contact?", "which article?", "und auf Deutsch?".
FOLLOW_UP_WORDS = 6

#: A question whose own decision is at least this sure is not read as a follow-up.
SURE = 0.9

#: A sure refusal of at least this many words is a new question, not a follow-up.
NEW_QUESTION_WORDS = 4

# Openings that tie a question to the one before, in the five languages with most data.
_CONTINUES = re.compile(
    r"^(?:and|also|what about|how about|plus|et|aussi|und|auch|e|anche|y|también|tambien)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Turn:
    """One question and its answer; ``context`` is the text it was routed as (the question
    before it and itself, for a follow-up)."""

    text: str
    context: str
    decision: Decision


class Conversation:
    """Questions asked in turn, keeping the last few turns.

    A short question that carries no unit of its own ("and who do I contact?", "which
    article?", "what about funding?") is routed together with the question before it, and
    its evidence says so; a question that names its own unit, a topic, or is long starts
    afresh.

    Parameters:
        router: a fitted router.
        memory: how many turns to keep.
    """

    def __init__(self, router: Router, *, memory: int = 5) -> None:
        self.router = router
        self.memory = memory
        self._turns: deque[Turn] = deque(maxlen=memory)

    @property
    def turns(self) -> tuple[Turn, ...]:
        """The kept turns, oldest first."""
        return tuple(self._turns)

    def reset(self) -> None:
        """Forget the turns: the next question starts afresh."""
        self._turns.clear()

    def ask(self, text: str) -> Decision:
        """Answer ``text`` in the conversation's context; raises as :meth:`Router.route`."""
        own = self.router.route(text)
        previous = self._turns[-1] if self._turns else None
        decision, context = own, text
        if previous is not None and previous.decision.unit is not None and self._follows(
            text, own
        ):
            context = f"{previous.context} {text}"
            joined = self.router.route(context)
            kept = previous.decision.unit
            if joined.decision == "clarify" and joined.candidates[:1] == (kept,):
                # Asked back between the previous turn's unit and another: the thread of
                # the conversation is what tips it, so the follow-up stays with that unit.
                book = self.router.answers_
                joined = dataclasses.replace(
                    joined,
                    decision="routed",
                    unit=kept,
                    answer=book.routed(kept, joined.topic, language=joined.language),
                    contacts=book.contacts(kept, joined.topic),
                )
            if joined.decision == "routed":
                note = Note("follow_up", (("previous", previous.text),))
                evidence = dataclasses.replace(
                    joined.evidence, notes=(*joined.evidence.notes, note)
                )
                decision = dataclasses.replace(joined, text=own.text, evidence=evidence)
            else:
                context = text
        if previous is not None:
            # A follow-up too short to tell its language ("ok", "GPAI?") keeps the
            # conversation's; one in another language ("und auf Deutsch?") switches to it.
            language = detect_language(own.text, default=previous.decision.language)
            if language != decision.language:
                decision = self.router.answers_.in_language(decision, language)
        self._turns.append(Turn(text, context, decision))
        return decision

    @staticmethod
    def _follows(text: str, own: Decision) -> bool:
        """Whether ``text`` reads as a follow-up rather than a question of its own."""
        words = normalised_words(text)
        if not words or len(words) > FOLLOW_UP_WORDS or own.topic is not None:
            return False
        if _CONTINUES.match(text):
            return True
        if own.decision == "routed":
            # Sure of its own unit, it stands alone ("who handles the AI pact?").
            return own.confidence < SURE
        # A refusal of a few words that says something ("recipe for a chocolate cake") is a
        # new question; "how much?" or "tell me more" say nothing on their own.
        return own.confidence < SURE or len(words) < NEW_QUESTION_WORDS
