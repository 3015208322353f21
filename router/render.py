"""Plain-text rendering of decisions, units and evaluations for terminals (no printing here).

Every renderer returns text through :func:`~router.text.clean_for_terminal`: a pack's
wording, a question or a file's labels can hold escape sequences and bidi or invisible
characters, and none of them may reach the terminal (only the styles added here do).
"""

from __future__ import annotations

import shutil
import textwrap

import click

from .answers import contact_lines
from .evaluate import OUT_OF_SCOPE, Evaluation
from .law import Provision
from .pack import Citation, Unit
from .results import Decision
from .text import clean_for_display, clean_for_terminal

__all__ = [
    "confidence_words",
    "render_decision",
    "render_evaluation",
    "render_evidence",
    "render_provisions",
    "render_unit",
]


#: A refusal less sure than this says so and names the closest unit.
UNSURE_REFUSAL = 0.6


def _width(width: int | None) -> int:
    if width is None:
        width = shutil.get_terminal_size((88, 24)).columns
    return max(40, min(width, 100))


def _style(text: str, color: bool, **kwargs: object) -> str:
    # Cleaned before styling, so that with colour on, the only escape sequences in the
    # output are the ones added here.
    text = clean_for_terminal(text)
    return click.style(text, **kwargs) if color else text  # type: ignore[arg-type]


def _wrap(text: str, **kwargs: object) -> list[str]:
    """``textwrap.wrap`` of the cleaned text (widths then count only what is shown)."""
    return textwrap.wrap(clean_for_terminal(text), **kwargs)  # type: ignore[arg-type]


def confidence_words(confidence: float) -> str:
    """Say a confidence in words a person reads at a glance."""
    if confidence >= 0.85:
        return "high confidence"
    if confidence >= 0.6:
        return "fair confidence"
    return "low confidence"


def _quote_lines(unit: Unit, width: int, color: bool, indent: str = "") -> list[str]:
    if unit.mandate is None:
        return []
    return _cited_lines(unit.mandate, unit.citation, width, color, indent)


def _cited_lines(
    text: str, citation: Citation | None, width: int, color: bool, indent: str = ""
) -> list[str]:
    """A verbatim quote behind a bar, then its citation, wrapped to ``width``."""
    bar = _style("\u2502 ", color, fg="cyan")
    body = _wrap(
        f"\u201c{text}\u201d", width=width - len(indent) - 2, break_on_hyphens=False
    )
    lines = [indent + bar + _style(line, color, italic=True) for line in body]
    if citation is not None:
        cite = _wrap(
            f"\u2014 {citation}",
            width=width - len(indent) - 2,
            break_long_words=False,
            break_on_hyphens=False,
        )
        lines += [indent + "  " + _style(line, color, dim=True) for line in cite]
    return lines


def _topic_lines(decision: Decision, width: int, color: bool) -> list[str]:
    """The topic's quoted description (or why there is none), indented under the unit."""
    topic = decision.topic
    if topic is None:
        return []
    head = _style(f"  {topic.name}", color, bold=True)
    if topic.description is None:
        note = f"(No official page describing {topic.name} is stored, so none is quoted.)"
        return [head, *["  " + line for line in _wrap(note, width=width - 2)]]
    return [head, *_cited_lines(topic.description, topic.citation, width, color, indent="  ")]


def _contact_lines(decision: Decision, width: int, color: bool) -> list[str]:
    if not decision.contacts:
        return []
    lines = ["", _style("How to reach them:", color, bold=True)]
    for line in contact_lines(decision.contacts):
        lines += _wrap(
            line,
            width=width,
            subsequent_indent="    ",
            break_long_words=False,
            break_on_hyphens=False,
        )
    return lines


def render_unit(unit: Unit, *, color: bool = False, width: int | None = None) -> str:
    """A unit's name and id, then its mandate quoted with the citation."""
    w = _width(width)
    head = _style(unit.name, color, bold=True) + _style(f"  [{unit.id}]", color, dim=True)
    lines = [head, *_quote_lines(unit, w, color, indent="  ")]
    return clean_for_terminal("\n".join(lines), styled=color)


def render_decision(decision: Decision, *, color: bool = False, width: int | None = None) -> str:
    """The whole answer to one question, wrapped to the terminal width."""
    w = _width(width)
    lines: list[str] = []
    wrap = lambda s: (  # noqa: E731
        _wrap(s, width=w, break_long_words=False, break_on_hyphens=False) or [""]
    )
    confidence = f"({confidence_words(decision.confidence)}, {decision.confidence:.2f})"
    closing: list[str] = []
    if decision.decision == "routed" and decision.unit is not None:
        unit = decision.unit
        lines += wrap(decision.answer.lead)
        lines.append(
            _style("\u2192 " + unit.name, color, bold=True, fg="green")
            + " "
            + _style(confidence, color, dim=True)
        )
        topic = _topic_lines(decision, w, color)
        if topic:
            lines += [*topic, _style(f"  {unit.name}", color, bold=True)]
        lines += _quote_lines(unit, w, color, indent="  ")
    elif decision.decision == "clarify":
        # No confidence words here: the two together are likely, which is why it asks.
        lines += wrap(decision.answer.lead)
        scores = {a.unit.id: a.score for a in decision.alternatives}
        for number, unit in enumerate(decision.candidates, start=1):
            lines.append("")
            share = _style(f"({scores.get(unit.id, 0.0):.2f})", color, dim=True)
            name = _style(f"  {number}. {unit.name}", color, bold=True, fg="yellow")
            lines.append(f"{name} {share}")
            lines += _quote_lines(unit, w, color, indent="     ")
        # The question to the person is the last thing on screen.
        closing = ["", *wrap("Answer 1 or 2, or name the unit, or rephrase your question.")]
    else:
        lines += wrap(decision.answer.lead)
        if decision.confidence < UNSURE_REFUSAL and decision.alternatives:
            closest = decision.alternatives[0].unit.name
            lines += wrap(
                f"(Not sure of this: {confidence_words(decision.confidence)}, "
                f"{decision.confidence:.2f}. The closest unit is the {closest}.)"
            )
        referral = decision.referral
        if referral is not None and referral.description is not None:
            lines += _cited_lines(referral.description, referral.citation, w, color, "  ")
    lines += render_provisions(decision.provisions, color=color, width=w).splitlines()
    lines += _contact_lines(decision, w, color)
    for note in decision.evidence.notes:
        lines.append(_style(f"(note: {note})", color, dim=True))
    return clean_for_terminal("\n".join(lines + closing), styled=color)


def render_provisions(
    provisions: tuple[Provision, ...],
    *,
    color: bool = False,
    width: int | None = None,
    full: bool = False,
) -> str:
    """The AI Act provisions cited for a question, quoted with their ELI links ("" if none).

    ``full`` quotes each whole passage (the chat's /law) rather than its opening.
    """
    if not provisions:
        return ""
    w = _width(width)
    lines = ["", _style("In the AI Act (Regulation (EU) 2024/1689):", color, bold=True)]
    for p in provisions:
        head = f"  \u00a7 {p.reference}" + (f" \u2014 {p.title}" if p.title else "")
        lines += [_style(line, color, bold=True) for line in _wrap(head, width=w)]
        bar = _style("\u2502 ", color, fg="cyan")
        if p.lead_in:  # a point alone makes no sense: its paragraph's opening words first
            lead = _wrap(f"\u201c{p.lead_in} \u2026\u201d", width=w - 6)
            lines += ["    " + bar + _style(line, color, dim=True) for line in lead]
        body = _wrap(
            f"\u201c{p.full_text if full else p.text}\u201d", width=w - 6, break_on_hyphens=False
        )
        lines += ["    " + bar + _style(line, color, italic=True) for line in body]
        lines.append("      " + _style(p.url, color, dim=True))
    return clean_for_terminal("\n".join(lines), styled=color)


def render_evidence(decision: Decision) -> str:
    """Why: matched terms, spelling fixes, weighing words, and the top scores."""
    ev = decision.evidence
    lines = [f"Question: {clean_for_display(decision.text)[:200]}"]
    lines.append(f"Decision: {decision.decision} (confidence {decision.confidence:.2f})")
    if ev.matched_terms:
        terms = ", ".join(
            f"{m.term!r} -> {m.unit} (typed {m.matched!r}, weight {m.weight:.2f})"
            for m in ev.matched_terms[:8]
        )
        lines.append(f"Matched terms: {terms}")
    if ev.corrections:
        lines.append("Spelling: " + ", ".join(f"{a} -> {b}" for a, b in ev.corrections))
    if ev.weighing_terms:
        lines.append("Weighing words: " + ", ".join(f"{t} ({w:.2f})" for t, w in ev.weighing_terms))
    top = ", ".join(f"{a.unit.id} {a.score:.2f}" for a in decision.alternatives[:3])
    lines.append(f"Top units: {top}")
    model = dict(ev.model_scores)
    oos = [v for k, v in model.items() if k not in {a.unit.id for a in decision.alternatives}]
    if oos:
        lines.append(f"Out-of-scope probability (model): {oos[0]:.2f}")
    for note in ev.notes:
        lines.append(f"Note: {note}")
    return clean_for_terminal("\n".join(lines))


def render_evaluation(result: Evaluation, *, show_errors: bool = False) -> str:
    """Metrics and the confusion matrix as an aligned table."""
    lines = [
        f"inquiries           {result.n}",
        f"accuracy            {result.accuracy:.3f}",
        f"in-scope accuracy   {result.in_scope_accuracy:.3f}",
        f"macro-F1            {result.macro_f1:.3f}",
        f"out-of-scope prec.  {result.oos_precision:.3f}",
        f"out-of-scope recall {result.oos_recall:.3f}",
        f"clarify rate        {result.clarify_rate:.3f}"
        f"  (right unit among the two: {result.clarify_hit_rate:.3f})",
        f"wrong-unit rate     {result.wrong_unit_rate:.3f}",
    ]
    if result.topic_accuracy is not None:
        lines.append(
            f"topic accuracy      {result.topic_accuracy:.3f}  ({result.n_topic} labelled)"
        )
    if result.referral_accuracy is not None:
        lines.append(
            f"referral accuracy   {result.referral_accuracy:.3f}  ({result.n_referral} labelled)"
        )
    lines += ["", "confusion matrix (rows: truth, columns: prediction)"]
    # Short column labels with a legend, so that the matrix fits 100 columns.
    legend: dict[str, str] = {}
    for i, label in enumerate(result.labels):
        short = _short_label(label, i)
        legend[label] = short if short not in legend.values() else f"{short}{i}"
    head_w = max(len(v) for v in legend.values()) + 1
    cell = max(5, max(len(str(n)) for row in result.confusion for n in row) + 1)
    lines.append(" " * head_w + "".join(f"{legend[lab]:>{cell}}" for lab in result.labels))
    for label, row in zip(result.labels, result.confusion):
        if not any(row) and label.startswith("("):
            continue
        lines.append(f"{legend[label]:<{head_w}}" + "".join(f"{n:>{cell}}" for n in row))
    lines += ["", "  ".join(f"{short} = {label}" for label, short in legend.items())]
    lines = [part for line in lines for part in _fit(line, 100)]
    if show_errors and result.errors:
        lines += ["", "misrouted:"]
        for e in result.errors:
            head = f"  want {e['want']}, got {e['got']} ({e['confidence']}): "
            room = max(20, 100 - len(head))
            text = clean_for_display(e["text"])
            text = text if len(text) <= room else text[: room - 1].rstrip() + "\u2026"
            lines.append(head + text)
    return clean_for_terminal("\n".join(lines))


def _short_label(label: str, index: int) -> str:
    """A label of at most four letters for a matrix column ("RC" for
    regulation_compliance, "OOS" for out_of_scope, "?" for the clarify column)."""
    if label.startswith("("):
        return "?"
    if label == OUT_OF_SCOPE:
        return "OOS"
    words = [w for w in label.replace("-", "_").split("_") if w]
    short = "".join(w[0] for w in words).upper()[:4]
    return short if len(words) > 1 else label[:4].upper() + str(index)


def _fit(line: str, width: int) -> list[str]:
    """A legend line wrapped at ``width``; other lines as they are (they already fit)."""
    if len(line) <= width or "=" not in line:
        return [line]
    return _wrap(line, width=width, break_long_words=False) or [line]


def render_pick(unit: Unit, lead: str, *, color: bool = False, width: int | None = None) -> str:
    """The answer after the person picked ``unit`` from a question back: lead, name, quote.

    No confidence is shown: the person chose the unit, the router did not.
    """
    w = _width(width)
    lines = _wrap(lead, width=w) or [""]
    lines.append(_style("\u2192 " + unit.name, color, bold=True, fg="green"))
    lines += _quote_lines(unit, w, color, indent="  ")
    return clean_for_terminal("\n".join(lines), styled=color)
