"""Measuring a router on labelled inquiries: accuracy, macro-F1, out-of-scope recall, confusion."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import InputError, PackError
from .results import CLARIFY, OUT_OF_SCOPE, ROUTED
from .yamlio import read_yaml

if TYPE_CHECKING:
    from .routing import Router  # only a type here: importing it pulls in SciPy

__all__ = ["Evaluation", "LabelledInquiry", "evaluate", "read_labelled"]

CLARIFY_LABEL = "(clarify)"


#: A labelled inquiry that says nothing of topics (or of referrals): not counted for them.
UNLABELLED = "(unlabelled)"


@dataclass(frozen=True)
class LabelledInquiry:
    """One question with the unit that should handle it (or ``out_of_scope``), and where
    labelled, the topic it is about and the referral it needs (None: none)."""

    text: str
    unit: str
    topic: str | None = UNLABELLED
    referral: str | None = UNLABELLED
    #: Where the record was read: the file and its line (or CSV row), for error messages.
    source: str | None = field(default=None, compare=False)
    line: int | None = field(default=None, compare=False)

    def where(self) -> str:
        """"FILE, line N: " where known, else the start of the text."""
        if self.source is not None:
            return f"{self.source}, line {self.line}: "
        return f"{self.text[:60]!r}: "


@dataclass(frozen=True)
class Evaluation:
    """Metrics of a router on labelled inquiries.

    A ``clarify`` counts as wrong for accuracy (the router did not name one unit), but is
    reported on its own: ``clarify_rate`` and ``clarify_hit_rate`` (the right unit was one of
    the two offered).
    """

    n: int
    accuracy: float
    in_scope_accuracy: float
    macro_f1: float
    oos_precision: float
    oos_recall: float
    clarify_rate: float
    clarify_hit_rate: float
    labels: tuple[str, ...]
    confusion: tuple[tuple[int, ...], ...]
    errors: tuple[dict[str, Any], ...] = field(default=(), repr=False)
    #: Inquiries sent to a unit other than their own (an out-of-scope one to any unit).
    wrong_unit_rate: float = 0.0
    #: Over the inquiries labelled with a topic (or with none): the topic found is the
    #: labelled one, None included; and how many were labelled.
    topic_accuracy: float | None = None
    n_topic: int = 0
    #: Over the out-of-scope inquiries labelled with a referral (or with none).
    referral_accuracy: float | None = None
    n_referral: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready metrics, with the confusion matrix as ``{truth: {predicted: n}}``."""
        return {
            "n": self.n,
            "accuracy": round(self.accuracy, 4),
            "in_scope_accuracy": round(self.in_scope_accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "oos_precision": round(self.oos_precision, 4),
            "oos_recall": round(self.oos_recall, 4),
            "clarify_rate": round(self.clarify_rate, 4),
            "clarify_hit_rate": round(self.clarify_hit_rate, 4),
            "wrong_unit_rate": round(self.wrong_unit_rate, 4),
            "topic_accuracy": _rounded(self.topic_accuracy),
            "n_topic": self.n_topic,
            "referral_accuracy": _rounded(self.referral_accuracy),
            "n_referral": self.n_referral,
            "labels": list(self.labels),
            "confusion": {
                truth: {pred: n for pred, n in zip(self.labels, row) if n}
                for truth, row in zip(self.labels, self.confusion)
            },
            "errors": list(self.errors),
        }


def read_labelled(path: str | Path) -> list[LabelledInquiry]:
    """Read labelled inquiries from YAML (a list), JSONL or CSV, each with ``text`` and ``unit``.

    Raises:
        InputError: the file is missing, of an unknown kind, or a record lacks a field;
            the message names the file and the record (line or row number).
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if not p.is_file():
        # A folder, device or pipe "exists" too: /dev/zero would be read for ever.
        what = "is not a regular file" if p.exists() else "no such file"
        raise InputError(f"{p}: {what}")
    records: list[tuple[int, Any]]
    if suffix in (".yaml", ".yml"):
        try:
            data = read_yaml(p)
        except PackError as exc:
            raise InputError(str(exc)) from exc
        if not isinstance(data, list):
            raise InputError(f"{p}: expected a YAML list of {{text, unit}} records")
        records = [(getattr(item, "line", i + 1), item) for i, item in enumerate(data)]
    elif suffix in (".jsonl", ".ndjson"):
        records = []
        for number, line in enumerate(_read_text(p).splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append((number, json.loads(line)))
            except json.JSONDecodeError as exc:
                raise InputError(f"{p}, line {number}: invalid JSON ({exc.msg})") from exc
            except RecursionError as exc:  # "[[[[..." a thousand levels deep
                raise InputError(
                    f"{p}, line {number}: JSON nested too deeply; a record is one flat object"
                ) from exc
    elif suffix == ".csv":
        reader = csv.DictReader(io.StringIO(_read_text(p), newline=""))
        records = [(reader.line_num, row) for row in reader]
    else:
        raise InputError(f"{p}: unknown file kind {suffix!r}; use .yaml, .jsonl or .csv")
    out = []
    for line, record in records:
        if not isinstance(record, dict) or not record.get("text") or not record.get("unit"):
            raise InputError(f"{p}, line {line}: each record needs non-empty 'text' and 'unit'")
        labels = {
            key: (None if record[key] in (None, "") else str(record[key]))
            for key in ("topic", "referral")
            if key in record
        }
        out.append(
            LabelledInquiry(
                text=str(record["text"]),
                unit=str(record["unit"]),
                **labels,
                source=str(p),
                line=line,
            )
        )
    return out


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _read_text(path: Path) -> str:
    try:
        # utf-8-sig: a leading BOM (spreadsheet exports) is not part of the first field.
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not valid UTF-8 ({exc.reason} at byte {exc.start})") from exc


def evaluate(router: Router, inquiries: Sequence[LabelledInquiry]) -> Evaluation:
    """Route every inquiry and compare with its label."""
    if not inquiries:
        raise InputError("no labelled inquiries to evaluate")
    known = {u.id for u in router.units} | {OUT_OF_SCOPE}
    topics = {t.id for t in router.pack_.topics} | {None, UNLABELLED}
    referrals = {r.id for r in router.pack_.referrals} | {None, UNLABELLED}
    for item in inquiries:
        if item.unit not in known:
            raise InputError(
                f"{item.where()}unknown unit {item.unit!r}; known: {', '.join(sorted(known))}"
            )
        if item.topic not in topics:
            raise InputError(f"{item.where()}unknown topic {item.topic!r}; see corpus/topics.yaml")
        if item.referral not in referrals:
            raise InputError(
                f"{item.where()}unknown referral {item.referral!r}; see corpus/referrals.yaml"
            )
    decisions = list(router.route_many(i.text for i in inquiries))
    predicted = [
        d.unit.id
        if d.decision == ROUTED and d.unit
        else (CLARIFY_LABEL if d.decision == CLARIFY else OUT_OF_SCOPE)
        for d in decisions
    ]
    truth = [i.unit for i in inquiries]
    labels = tuple([u.id for u in router.units] + [OUT_OF_SCOPE, CLARIFY_LABEL])
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for t, p in zip(truth, predicted):
        matrix[index[t]][index[p]] += 1
    n = len(truth)
    correct = sum(t == p for t, p in zip(truth, predicted))
    in_scope = [(t, p) for t, p in zip(truth, predicted) if t != OUT_OF_SCOPE]
    clarified = [(d, t) for d, t in zip(decisions, truth) if d.decision == CLARIFY]
    hits = sum(t in {u.id for u in d.candidates} for d, t in clarified)
    oos_tp = sum(t == OUT_OF_SCOPE and p == OUT_OF_SCOPE for t, p in zip(truth, predicted))
    oos_pred = predicted.count(OUT_OF_SCOPE)
    oos_true = truth.count(OUT_OF_SCOPE)
    errors = tuple(
        {"text": i.text, "want": t, "got": p, "confidence": round(d.confidence, 3)}
        for i, t, p, d in zip(inquiries, truth, predicted, decisions)
        if t != p
    )
    wrong = sum(p not in (t, OUT_OF_SCOPE, CLARIFY_LABEL) for t, p in zip(truth, predicted))
    topical = [
        (i.topic, None if d.topic is None else d.topic.id)
        for i, d in zip(inquiries, decisions)
        if i.topic != UNLABELLED and i.unit != OUT_OF_SCOPE
    ]
    referred = [
        (i.referral, None if d.referral is None else d.referral.id)
        for i, d in zip(inquiries, decisions)
        if i.referral != UNLABELLED and i.unit == OUT_OF_SCOPE
    ]
    return Evaluation(
        n=n,
        accuracy=correct / n,
        in_scope_accuracy=_ratio(sum(t == p for t, p in in_scope), len(in_scope)),
        macro_f1=_macro_f1(truth, predicted, [lab for lab in labels if lab != CLARIFY_LABEL]),
        oos_precision=_ratio(oos_tp, oos_pred),
        oos_recall=_ratio(oos_tp, oos_true),
        clarify_rate=len(clarified) / n,
        clarify_hit_rate=_ratio(hits, len(clarified)),
        labels=labels,
        confusion=tuple(tuple(row) for row in matrix),
        errors=errors,
        wrong_unit_rate=wrong / n,
        topic_accuracy=_ratio(sum(a == b for a, b in topical), len(topical)) if topical else None,
        n_topic=len(topical),
        referral_accuracy=(
            _ratio(sum(a == b for a, b in referred), len(referred)) if referred else None
        ),
        n_referral=len(referred),
    )


def _ratio(a: int, b: int) -> float:
    return a / b if b else 0.0


def _macro_f1(truth: Sequence[str], predicted: Sequence[str], labels: Iterable[str]) -> float:
    scores = []
    for label in labels:
        tp = sum(t == label and p == label for t, p in zip(truth, predicted))
        fp = sum(t != label and p == label for t, p in zip(truth, predicted))
        fn = sum(t == label and p != label for t, p in zip(truth, predicted))
        if tp + fp + fn == 0:
            continue
        scores.append(2 * tp / (2 * tp + fp + fn))
    return sum(scores) / len(scores) if scores else 0.0
