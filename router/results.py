"""The public result types: frozen dataclasses with named fields."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from .catalogue import message
from .fuzzy import TermMatch
from .law import Provision
from .pack import Citation, Unit
from .topics import Contact, Referral, Topic

__all__ = [
    "CLARIFY",
    "OUT_OF_SCOPE",
    "ROUTED",
    "Alternative",
    "Answer",
    "Decision",
    "Evidence",
    "Outcome",
    "Provision",
    "Quote",
]

DecisionKind = Literal["routed", "clarify", "out_of_scope"]
#: The three decisions: to a unit, asking back between two, or not for the pack (also the
#: label of out-of-scope questions in labelled data).
ROUTED, CLARIFY, OUT_OF_SCOPE = "routed", "clarify", "out_of_scope"


@dataclass(frozen=True)
class Quote:
    """A verbatim passage from a source document, with its citation."""

    unit_id: str
    text: str
    citation: Citation


@dataclass(frozen=True)
class Answer:
    """What to tell the person: a lead sentence, then any verbatim quotes.

    ``str(answer)`` is the whole answer as plain text.
    """

    lead: str
    quotes: tuple[Quote, ...] = ()
    text: str = field(default="", compare=False)

    def __str__(self) -> str:
        return self.text or self.lead


@dataclass(frozen=True)
class Alternative:
    """A unit and its fused score, for ranking."""

    unit: Unit
    score: float


@dataclass(frozen=True)
class Note:
    """Something worth telling about a decision, worded in any reply language.

    Attributes:
        code: what it says, a stable key for programs: ``follow_up`` (``fields``:
            ``previous``, the question it follows), ``truncated`` (``limit``, the
            characters routed), ``no_words``. Its wording is the catalogue's
            ``note.<code>`` (router/catalogue.yaml).
        fields: the values the wording is filled in with, as ``(name, value)`` pairs.
    """

    code: str
    fields: tuple[tuple[str, str], ...] = ()

    def text(self, language: str = "en") -> str:
        """The note worded in ``language`` (English for a language without words)."""
        return message(f"note.{self.code}", language, **dict(self.fields))

    def __str__(self) -> str:
        return self.text()


@dataclass(frozen=True)
class Evidence:
    """Why the router decided as it did.

    Attributes:
        matched_terms: aliases and key terms found in the question (after spelling fixes).
        weighing_terms: the question's words that weighed most for the best unit.
        corrections: ``(typed, corrected)`` words fixed against the training vocabulary.
        model_scores: the classifier's calibrated probability per class (incl. out of scope).
        fuzzy_scores: the term matcher's score per unit.
        truncated: the question was longer than the limit and only its start was routed.
        notes: anything else worth telling (a follow-up, cut short, no words), each a
            :class:`Note` worded in any reply language.
    """

    matched_terms: tuple[TermMatch, ...] = ()
    weighing_terms: tuple[tuple[str, float], ...] = ()
    corrections: tuple[tuple[str, str], ...] = ()
    model_scores: tuple[tuple[str, float], ...] = ()
    fuzzy_scores: tuple[tuple[str, float], ...] = ()
    truncated: bool = False
    notes: tuple[Note, ...] = ()


class Outcome(NamedTuple):
    """Where one question goes, lean: what a batch writes per row, without the evidence
    and the answer of a :class:`Decision` (:meth:`Decision.outcome` gives a decision's).

    A named tuple rather than a dataclass: a batch builds, pickles and encodes millions.

    Attributes:
        decision: ``routed``, ``clarify`` or ``out_of_scope``.
        unit: the id of the unit responsible when routed; None otherwise.
        unit_name: that unit's name; None otherwise.
        confidence: the fused probability that the decision is right, rounded to 4 places.
        alternatives: ``(unit id, score)`` of the best units, best first, scores rounded.
        provisions: the references of the AI Act provisions cited, joined by "; " ("" for
            none), as a CSV cell holds them.
        topic: the id of the topic the question is about, or None.
        referral: the id of the referral for a question not for the pack, or None.
    """

    decision: DecisionKind
    unit: str | None
    unit_name: str | None
    confidence: float
    alternatives: tuple[tuple[str, float], ...]
    provisions: str
    topic: str | None
    referral: str | None

    @classmethod
    def build(
        cls,
        decision: DecisionKind,
        unit: Unit | None,
        confidence: float,
        alternatives: Iterable[tuple[Unit, float]],
        provisions: Sequence[Provision],
        topic: Topic | None,
        referral: Referral | None,
    ) -> Outcome:
        """The outcome of a decision's parts (``unit`` None unless routed; ``alternatives``
        the ones to list): the one place that rounds them and keeps only the ids."""
        return cls(
            decision,
            None if unit is None else unit.id,
            None if unit is None else unit.name,
            round(confidence, 4),
            tuple([(u.id, round(score, 4)) for u, score in alternatives]),
            "; ".join([p.reference for p in provisions]),
            None if topic is None else topic.id,
            None if referral is None else referral.id,
        )

    def to_dict(self) -> dict[str, Any]:
        """As JSON: ``decision, unit, unit_name, confidence, alternatives`` (a list of
        ``{"unit", "score"}``), ``provisions, topic, referral``."""
        return {
            "decision": self.decision,
            "unit": self.unit,
            "unit_name": self.unit_name,
            "confidence": self.confidence,
            "alternatives": [{"unit": u, "score": s} for u, s in self.alternatives],
            "provisions": self.provisions,
            "topic": self.topic,
            "referral": self.referral,
        }


@dataclass(frozen=True)
class Decision:
    """The router's answer to one question.

    Attributes:
        text: the question as routed, cleaned for display (cut to the length limit).
        decision: ``routed``, ``clarify`` (the best two are close) or ``out_of_scope``.
        unit: the unit responsible when routed; None otherwise.
        confidence: the fused probability, in [0, 1], that the decision is right.
        alternatives: the units with their fused scores, best first (at most ten).
        evidence: matched terms, weighing words and the scores behind the decision.
        answer: the reply, with quoted mandates and citations.
        provisions: the AI Act provisions that bear on the question, at most three (named
            in the question, or retrieved above a fitted relevance floor); often none.
        topic: the programme, body or instrument the question is about, when one is
            recognised with confidence and belongs to the routed unit (or, when asking
            back, to one of the two); None otherwise.
        referral: where to go instead, when the question is not for the pack and a
            referral rule fits it; None otherwise.
        contacts: the public channels to reach whoever handles it, from official pages.
        language: the question's language, which the answer's own wording is in: one of
            en, fr, de, it, es (English for any other language); quotes stay in English.
    """

    text: str
    decision: DecisionKind
    unit: Unit | None
    confidence: float
    alternatives: tuple[Alternative, ...]
    evidence: Evidence
    answer: Answer
    provisions: tuple[Provision, ...] = ()
    topic: Topic | None = None
    referral: Referral | None = None
    contacts: tuple[Contact, ...] = ()
    language: str = "en"

    def outcome(self, *, alternatives: int = 3) -> Outcome:
        """The lean :class:`Outcome` of this decision, listing ``alternatives`` units (the
        same as :meth:`router.routing.Router.outcomes` gives for the question)."""
        return Outcome.build(
            self.decision,
            self.unit,
            self.confidence,
            [(a.unit, a.score) for a in self.alternatives[:alternatives]],
            self.provisions,
            self.topic,
            self.referral,
        )

    @property
    def candidates(self) -> tuple[Unit, ...]:
        """The units to choose between: the two best when clarifying, else the unit."""
        if self.decision == CLARIFY:
            return tuple(a.unit for a in self.alternatives[:2])
        return (self.unit,) if self.unit is not None else ()

    def evidence_dict(self) -> dict[str, Any]:
        """The evidence as JSON: matched terms, spelling fixes, weighing words, scores;
        ``notes`` worded in the decision's language, ``note_codes`` their stable keys."""
        ev = self.evidence
        return {
            "matched_terms": [
                {"term": m.term, "unit": m.unit, "typed": m.matched, "weight": round(m.weight, 4)}
                for m in ev.matched_terms
            ],
            "corrections": [{"typed": a, "read_as": b} for a, b in ev.corrections],
            "weighing_terms": [{"term": t, "weight": round(w, 4)} for t, w in ev.weighing_terms],
            "model_scores": {k: round(v, 4) for k, v in ev.model_scores},
            "fuzzy_scores": {k: round(v, 4) for k, v in ev.fuzzy_scores},
            "truncated": ev.truncated,
            "notes": [note.text(self.language) for note in ev.notes],
            "note_codes": [note.code for note in ev.notes],
        }

    def to_dict(self, *, evidence: bool = False) -> dict[str, Any]:
        """A JSON-ready summary: ``text, decision, unit, unit_name, confidence, ...``, and
        the evidence when asked (``ask --json --why``)."""
        return {
            "text": self.text,
            "decision": self.decision,
            "unit": self.unit.id if self.unit else None,
            "unit_name": self.unit.name if self.unit else None,
            "confidence": round(self.confidence, 4),
            "alternatives": [
                {"unit": a.unit.id, "score": round(a.score, 4)} for a in self.alternatives
            ],
            "answer": str(self.answer),
            "provisions": [
                {
                    "reference": p.reference,
                    "title": p.title,
                    "text": p.text,
                    "full_text": p.full_text,
                    "lead_in": p.lead_in,
                    "url": p.url,
                }
                for p in self.provisions
            ],
            "topic": None if self.topic is None else topic_dict(self.topic),
            "referral": None if self.referral is None else referral_dict(self.referral),
            "contacts": [contact_dict(c) for c in self.contacts],
            "language": self.language,
        } | ({"evidence": self.evidence_dict()} if evidence else {})


def _citation_dict(citation: Citation | None) -> dict[str, Any] | None:
    if citation is None:
        return None
    return {
        "title": citation.title,
        "publisher": citation.publisher,
        "date": citation.date,
        "accessed": citation.accessed,
        "url": citation.url,
    }


def topic_dict(topic: Topic) -> dict[str, Any]:
    """A topic as JSON: id, name, unit, its quoted description and where it comes from."""
    return {
        "id": topic.id,
        "name": topic.name,
        "unit": topic.unit,
        "description": topic.description,
        "citation": _citation_dict(topic.citation),
        "provisions": list(topic.provisions),
    }


def referral_dict(referral: Referral) -> dict[str, Any]:
    """A referral as JSON: where to go, why, the official link and its quoted description."""
    return {
        "id": referral.id,
        "body": referral.body,
        "why": referral.why,
        "url": referral.url,
        "description": referral.description,
        "citation": _citation_dict(referral.citation),
    }


def contact_dict(contact: Contact) -> dict[str, Any]:
    """A contact as JSON: what it is, the address or link, and the page it is from."""
    return {
        "label": contact.label,
        "value": contact.value,
        "kind": contact.kind,
        "source": contact.citation.url,
    }
