"""Plain-text rendering of decisions, units and evaluations for terminals (no printing here).

Every renderer returns text through :func:`~router.text.clean_for_terminal`: a pack's
wording, a question or a file's labels can hold escape sequences and bidi or invisible
characters, and none of them may reach the terminal (only the styles added here do).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import click

from .answers import contact_lines, quote_marker
from .catalogue import message
from .evaluate import Evaluation
from .law import Provision
from .pack import Citation, Unit
from .results import CLARIFY, OUT_OF_SCOPE, ROUTED, Decision
from .text import clean_for_display, clean_for_terminal
from .wrap import line_width, wrap

if TYPE_CHECKING:
    from .batch import Summary

__all__ = [
    "confidence_words",
    "render_batch_progress",
    "render_batch_summary",
    "render_decision",
    "render_evaluation",
    "render_evidence",
    "render_provisions",
    "render_unit",
]


#: A refusal less sure than this says so and names the closest unit.
UNSURE_REFUSAL = 0.6


def _width(width: int | None) -> int:
    return line_width(width)


def _style(text: str, color: bool, **kwargs: object) -> str:
    # Cleaned before styling, so that with colour on, the only escape sequences in the
    # output are the ones added here.
    text = clean_for_terminal(text)
    return click.style(text, **kwargs) if color else text  # type: ignore[arg-type]


def confidence_words(confidence: float, language: str = "en") -> str:
    """Say a confidence in words a person reads at a glance (in ``language``)."""
    if confidence >= 0.85:
        return message("confidence.high", language)
    if confidence >= 0.6:
        return message("confidence.fair", language)
    return message("confidence.low", language)


def _quote_lines(
    unit: Unit, width: int, color: bool, indent: str = "", language: str = "en"
) -> list[str]:
    if unit.mandate is None:
        return []
    return _cited_lines(unit.mandate, unit.citation, width, color, indent, language)


def _cited_lines(
    text: str,
    citation: Citation | None,
    width: int,
    color: bool,
    indent: str = "",
    language: str = "en",
) -> list[str]:
    """A verbatim quote behind a bar, then its citation, wrapped to ``width``; in a reply
    in another language the citation says the quote is in English."""
    bar = indent + _style("\u2502 ", color, fg="cyan")
    lines = wrap(_style(f"\u201c{text}\u201d", color, italic=True), width, indent=bar)
    if citation is not None:
        cite = _style(f"\u2014 {citation}{quote_marker(language)}", color, dim=True)
        lines += wrap(cite, width, indent=indent + "  ", hang=indent + "    ")
    return lines


def _topic_lines(decision: Decision, width: int, color: bool) -> list[str]:
    """The topic's quoted description (or why there is none), indented under the unit."""
    topic = decision.topic
    if topic is None:
        return []
    language = decision.language
    keep = (topic.name,)
    head = wrap(_style(topic.name, color, bold=True), width, indent="  ", keep=keep)
    if topic.description is None:
        note = message("topic_unquoted", language, topic=topic.name)
        return [*head, *wrap(note, width, indent="  ", hang="   ", keep=keep)]
    return [
        *head,
        *_cited_lines(topic.description, topic.citation, width, color, "  ", language),
    ]


def _contact_lines(decision: Decision, width: int, color: bool) -> list[str]:
    if not decision.contacts:
        return []
    language = decision.language
    lines = ["", *wrap(_style(message("contacts_heading", language), color, bold=True), width)]
    for line in contact_lines(decision.contacts, language=language):
        # "- label: address": the address goes under the label, not under the dash.
        lines += wrap(line.removeprefix("- "), width, indent="- ", hang="  ")
    return lines


def _names(decision: Decision) -> tuple[str, ...]:
    """Unit and topic names in a decision: kept whole on one line where they fit."""
    units = [decision.unit, *decision.candidates, *(a.unit for a in decision.alternatives)]
    names = [u.name for u in units if u is not None]
    if decision.topic is not None:
        names.append(decision.topic.name)
    return tuple(dict.fromkeys(names))


def render_unit(
    unit: Unit, *, color: bool = False, width: int | None = None, language: str = "en"
) -> str:
    """A unit's name and id, then its mandate quoted with the citation."""
    w = _width(width)
    head = _style(unit.name, color, bold=True) + _style(f"  [{unit.id}]", color, dim=True)
    lines = wrap(head, w, keep=(unit.name,))
    shown = "\n".join([*lines, *_quote_lines(unit, w, color, "  ", language)])
    return clean_for_terminal(shown, styled=color)


def render_decision(decision: Decision, *, color: bool = False, width: int | None = None) -> str:
    """The whole answer to one question, wrapped to the terminal width, its own wording in
    the question's language (``decision.language``); quotes stay verbatim, marked."""
    w = _width(width)
    language = decision.language
    lines: list[str] = []
    sureness = f"{confidence_words(decision.confidence, language)}, {decision.confidence:.2f}"
    confidence = f"({sureness})"
    keep = (*_names(decision), confidence)

    def para(text: str, indent: str = "", hang: str | None = None) -> list[str]:
        return wrap(text, w, indent=indent, hang=hang, keep=keep) or [""]

    closing: list[str] = []
    if decision.decision == ROUTED and decision.unit is not None:
        unit = decision.unit
        lines += para(decision.answer.lead)
        arrow = _style("\u2192 " + unit.name, color, bold=True, fg="green")
        lines += para(arrow + " " + _style(confidence, color, dim=True), hang="  ")
        topic = _topic_lines(decision, w, color)
        if topic:
            lines += [*topic, *para(_style(unit.name, color, bold=True), indent="  ")]
        lines += _quote_lines(unit, w, color, "  ", language)
    elif decision.decision == CLARIFY:
        # No confidence words here: the two together are likely, which is why it asks.
        lines += para(decision.answer.lead)
        scores = {a.unit.id: a.score for a in decision.alternatives}
        for number, unit in enumerate(decision.candidates, start=1):
            lines.append("")
            share = _style(f"({scores.get(unit.id, 0.0):.2f})", color, dim=True)
            name = _style(unit.name, color, bold=True, fg="yellow")
            number_style = _style(f"{number}.", color, bold=True, fg="yellow")
            lines += para(f"{name} {share}", indent=f"  {number_style} ", hang="     ")
            lines += _quote_lines(unit, w, color, "     ", language)
        # The question to the person is the last thing on screen.
        closing = ["", *para(message("clarify_closing", language))]
    else:
        lines += para(decision.answer.lead)
        if decision.confidence < UNSURE_REFUSAL and decision.alternatives:
            closest = decision.alternatives[0].unit.name
            lines += para(
                message("unsure_refusal", language, confidence=sureness, closest=closest),
                hang=" ",
            )
        referral = decision.referral
        if referral is not None and referral.description is not None:
            lines += _cited_lines(
                referral.description, referral.citation, w, color, "  ", language
            )
    provisions = render_provisions(decision.provisions, color=color, width=w, language=language)
    lines += provisions.splitlines()
    lines += _contact_lines(decision, w, color)
    for note in decision.evidence.notes:
        worded = message("note", language, note=note.text(language))
        lines += para(_style(worded, color, dim=True), hang=" ")
    return clean_for_terminal("\n".join(lines + closing), styled=color)


def render_provisions(
    provisions: tuple[Provision, ...],
    *,
    color: bool = False,
    width: int | None = None,
    full: bool = False,
    language: str = "en",
) -> str:
    """The AI Act provisions cited for a question, quoted with their ELI links ("" if none).

    ``full`` quotes each whole passage (the chat's /law) rather than its opening. The
    passages are the Act's English text; in another ``language`` each link says so.
    """
    if not provisions:
        return ""
    w = _width(width)
    head = _style(message("act_heading", language), color, bold=True)
    lines = ["", *wrap(head, w)]
    for p in provisions:
        head = f"{p.reference}" + (f" \u2014 {p.title}" if p.title else "")
        # The heading's continuation goes under the reference, not under the section sign.
        lines += wrap(_style(head, color, bold=True), w, indent="  \u00a7 ", hang="    ")
        bar = "    " + _style("\u2502 ", color, fg="cyan")
        if p.lead_in:  # a point alone makes no sense: its paragraph's opening words first
            lead = _style(f"\u201c{p.lead_in} \u2026\u201d", color, dim=True)
            lines += wrap(lead, w, indent=bar)
        body = _style(f"\u201c{p.full_text if full else p.text}\u201d", color, italic=True)
        lines += wrap(body, w, indent=bar)
        lines += wrap(_style(p.url + quote_marker(language), color, dim=True), w, indent="      ")
    return clean_for_terminal("\n".join(lines), styled=color)


def render_evidence(
    decision: Decision, *, width: int | None = None, language: str | None = None
) -> str:
    """Why: matched terms, spelling fixes, weighing words, and the top scores.

    Each line is wrapped to ``width`` (None: the terminal's) under the text after its label.
    The labels are in ``language`` (default: the decision's); terms, ids and scores are not
    words to translate.
    """
    lang = decision.language if language is None else language
    ev = decision.evidence
    lines = [f"{message('why.question', lang)} {clean_for_display(decision.text)[:200]}"]
    confidence = f"{decision.confidence:.2f}"
    decided = message(f"why.decision.{decision.decision}", lang)
    lines.append(message("why.decision", lang, decision=decided, confidence=confidence))
    if ev.matched_terms:
        terms = ", ".join(
            message(
                "why.matched_term",
                lang,
                term=repr(m.term),
                unit=m.unit,
                typed=repr(m.matched),
                weight=f"{m.weight:.2f}",
            )
            for m in ev.matched_terms[:8]
        )
        lines.append(f"{message('why.matched', lang)} {terms}")
    if ev.corrections:
        fixes = ", ".join(f"{a} -> {b}" for a, b in ev.corrections)
        lines.append(f"{message('why.spelling', lang)} {fixes}")
    if ev.weighing_terms:
        weighing = ", ".join(f"{t} ({w:.2f})" for t, w in ev.weighing_terms)
        lines.append(f"{message('why.weighing', lang)} {weighing}")
    top = ", ".join(f"{a.unit.id} {a.score:.2f}" for a in decision.alternatives[:3])
    lines.append(f"{message('why.top', lang)} {top}")
    model = dict(ev.model_scores)
    oos = [v for k, v in model.items() if k not in {a.unit.id for a in decision.alternatives}]
    if oos:
        lines.append(f"{message('why.out_of_scope', lang)} {oos[0]:.2f}")
    for note in ev.notes:
        lines.append(f"{message('why.note', lang)} {note.text(lang)}")
    return clean_for_terminal("\n".join(_labelled(line, _width(width)) for line in lines))


def _labelled(line: str, width: int) -> str:
    """A "Label: text" line wrapped with its continuation under the text, not the label."""
    label, sep, text = line.partition(": ")
    indent = label + sep
    return "\n".join(wrap(text, width, indent=indent, hang=" " * len(indent)) or [indent])


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
    return wrap(line, width) or [line]


def render_pick(
    unit: Unit,
    lead: str,
    *,
    color: bool = False,
    width: int | None = None,
    language: str = "en",
) -> str:
    """The answer after the person picked ``unit`` from a question back: lead, name, quote.

    No confidence is shown: the person chose the unit, the router did not.
    """
    w = _width(width)
    keep = (unit.name,)
    lines = wrap(lead, w, keep=keep) or [""]
    arrow = _style("\u2192 " + unit.name, color, bold=True, fg="green")
    lines += wrap(arrow, w, hang="  ", keep=keep)
    lines += _quote_lines(unit, w, color, "  ", language)
    return clean_for_terminal("\n".join(lines), styled=color)


# -- batch: the progress line and the summary ------------------------------------------------


def render_batch_progress(rows: int, elapsed: float, fraction: float | None) -> str:
    """A batch run's one-line progress: rows, rows/s and, when the size is known, % and ETA."""
    rate = rows / elapsed if elapsed > 0 else 0.0
    line = f"{rows:>12,} rows  {rate:>9,.0f} rows/s"
    if fraction is not None and 0 < fraction <= 1:
        remaining = elapsed * (1 - fraction) / fraction
        minutes, seconds = divmod(int(remaining), 60)
        line += f"  {fraction:6.1%}  ETA {minutes:d}:{seconds:02d}"
    return line


def render_batch_summary(summary: Summary, *, names: Mapping[str, str] | None = None) -> str:
    """A batch run's summary as plain text lines, for stderr: rows, speed, rows per unit
    (``names`` maps unit ids to the names shown) and per decision."""
    s = summary
    lines = [f"{s.rows:,} rows in {s.seconds:.1f} s ({s.rows_per_second:,.0f} rows/s)"]
    for unit, count in s.per_unit:
        label = (names or {}).get(unit, unit)
        lines.append(f"  {label:<44} {count:>10,}  {s.share(count):6.1%}")
    lines.append(
        f"  {'clarify (two units about equally likely)':<44} {s.clarify:>10,}  "
        f"{s.share(s.clarify):6.1%}"
    )
    lines.append(f"  {'out of scope':<44} {s.out_of_scope:>10,}  {s.share(s.out_of_scope):6.1%}")
    lines.append(
        f"  {'error rows (see the error field)':<44} {s.errors:>10,}  {s.share(s.errors):6.1%}"
    )
    return "\n".join(lines)
