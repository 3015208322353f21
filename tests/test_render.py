"""Every kind of chat output fits the terminal: 40, 60, 100 and 160 columns.

Each output is rendered twice: at the width under test and with no width limit at all
(the reference). Wrapping may only move line breaks, so the two hold the same words in
the same order (no word split, nothing lost); every line fits; each reference line's
continuation rows start with its hanging indent; a unit's name is split across rows
only when it cannot fit on one.
"""

from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import Iterator

import pytest

from router import Router
from router.render import render_decision
from router.repl import Chat, RouterLoader, greeting, run_lines
from router.wrap import line_width, strip_ansi, visible_width

WIDTHS = [40, 60, 100, 160]
LONG_QUESTION = (
    "我想问 一下 关于 人工智能 的 问题 see https://digital-strategy.ec.europa.eu/en/policies/"
    "european-approach-artificial-intelligence and tell me who handles systemic risk testing"
)
#: (kind, line typed into the chat), in order: /why and /law answer the line before them.
SCRIPT = [
    ("routed with a topic and contacts", "who handles the AI pact?"),
    ("AI Act provisions", "do deployers of emotion recognition systems have to inform people?"),
    ("/why", "/why"),
    ("/law", "/law"),
    ("/law REF", "/law Article 5(1)(h)"),
    ("/law unknown", "/law Article 999"),
    ("refusal with a referral", "who regulates medical devices?"),
    ("refusal", "what is the weather in Paris tomorrow?"),
    ("topic without a page", "cloud computing"),
    ("long question", LONG_QUESTION),
    ("/why long", "/why"),
    ("clarify", "who handles AI for cancer diagnosis research funding?"),
    ("pick hint", "3"),
    ("pick", "2"),
    ("/why picked", "/why"),
    ("/help", "/help"),
    ("/units", "/units"),
    ("/unit", "/unit innovation"),
    ("/unit unknown", "/unit xylophone"),
    ("/unit usage", "/unit"),
    ("unknown command", "/hlep"),
]


def chat_outputs(router: Router, width: int) -> dict[str, str]:
    """What the chat prints for each kind of output, at ``width``."""
    chat = Chat(router.pack_, RouterLoader.ready(router), width=width)
    outputs = {"greeting": greeting(router.pack_, width=width)}
    outputs.update((kind, chat.handle(line).text) for kind, line in SCRIPT)
    refusal = router.route("regulation of fishing quotas")
    unsure = dataclasses.replace(refusal, confidence=0.41)  # the unsure-refusal branch
    outputs["unsure refusal"] = render_decision(unsure, width=width)
    outputs["clarify, coloured"] = render_decision(chat.last, color=True, width=width)  # type: ignore[arg-type]
    return outputs


@pytest.fixture(scope="module")
def reference(router: Router) -> dict[str, str]:
    """Every output with no width limit: one row per logical line."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("router.wrap.MAX_WIDTH", 10**6)
        return chat_outputs(router, 10**6)


@pytest.fixture(scope="module", params=WIDTHS)
def at_width(request: pytest.FixtureRequest, router: Router) -> tuple[int, dict[str, str]]:
    """The width answers are wrapped to (at most 100 columns, the chat's limit) and the
    outputs on a terminal ``request.param`` columns wide."""
    return line_width(request.param), chat_outputs(router, request.param)


def words(text: str) -> list[str]:
    return [w for w in strip_ansi(text).split() if w != "\u2502"]


def rows_per_line(reference: str, wrapped: str) -> Iterator[tuple[str, list[str]]]:
    """Each reference line with the wrapped rows that hold its words."""
    rows = wrapped.split("\n")
    for line in reference.split("\n"):
        want, group = len(words(line)), [rows.pop(0)]
        while len(words("\n".join(group))) < want:
            group.append(rows.pop(0))
        yield line, group
    assert rows == []


def hang(line: str, kind: str, width: int) -> str:
    """The indent a logical line's continuation rows must start with."""
    plain = strip_ansi(line)
    bar = re.match(r" *\u2502 ", plain)
    if bar:
        return bar.group(0)  # a quote repeats its bar
    marker = (
        re.match(r" *(?:[-\u2192\u00a7>\u2014] |\d\. |\()", plain)
        or re.match(r"  /\S+(?: [A-Z]+)? +|Keys: ", plain)
        or (kind.startswith("/why") and re.match(r"[A-Z][\w() -]*: ", plain))
        or re.match(r" *", plain)
    )
    assert marker is not None
    # A hang that would leave the text too little room is shortened (router.wrap.MIN_ROOM).
    return " " * min(len(marker.group(0)), width - min(20, width // 2))


def overflow_allowed(row: str) -> bool:
    """A row may be wider than the screen only to hold one URL or path, whole."""
    text = strip_ansi(row).strip().lstrip("\u2502\u2014- ")
    return " " not in text and "/" in text


def test_the_script_covers_every_kind_of_answer(reference: dict[str, str]) -> None:
    assert "\u2192 Regulation and Compliance Unit" in reference["routed with a topic and contacts"]
    assert "How to reach them:" in reference["routed with a topic and contacts"]
    assert "\u00a7 Article 50(3)" in reference["AI Act provisions"]
    assert "Matched terms: " in reference["/why"]
    assert reference["clarify"].endswith("or rephrase your question.")
    assert reference["pick hint"] == "Answer 1 or 2, or name the unit, or rephrase your question."
    assert "(No official page describing" in reference["topic without a page"]
    assert "(Not sure of this" in reference["unsure refusal"]
    assert "no provision 'Article 999'" in reference["/law unknown"]
    assert "\x1b[" in reference["clarify, coloured"]


def test_every_line_fits_the_width(at_width: tuple[int, dict[str, str]]) -> None:
    width, outputs = at_width
    for kind, text in outputs.items():
        for row in text.split("\n"):
            assert visible_width(row) <= width or overflow_allowed(row), (kind, row)


def test_wrapping_moves_line_breaks_only(
    at_width: tuple[int, dict[str, str]], reference: dict[str, str]
) -> None:
    _, outputs = at_width
    for kind, text in outputs.items():
        assert words(text) == words(reference[kind]), kind  # no word split, none lost


def test_continuation_rows_hang_under_the_text(
    at_width: tuple[int, dict[str, str]], reference: dict[str, str]
) -> None:
    width, outputs = at_width
    for kind, text in outputs.items():
        for line, group in rows_per_line(reference[kind], text):
            indent = hang(line, kind, width)
            for row in map(strip_ansi, group[1:]):
                # A word too wide to fit under the hang has a row of its own, pushed left.
                start = indent if row.startswith(indent) else " " * (width - len(row.lstrip()))
                assert row.startswith(start), (kind, width, line, row)
                assert row[len(start) : len(start) + 1] not in ("", " "), (kind, row)


def test_unit_names_stay_on_one_row_where_they_fit(
    router: Router, at_width: tuple[int, dict[str, str]], reference: dict[str, str]
) -> None:
    width, outputs = at_width
    for kind, text in outputs.items():
        for line, group in rows_per_line(reference[kind], text):
            rows = [strip_ansi(row) for row in group]
            room = width - len(hang(line, kind, width)) - 2  # a quote mark or ";" beside it
            names = [u.name for u in router.units if len(u.name) <= room]
            whole = [sum(row.count(name) for row in rows) for name in names]
            assert whole == [strip_ansi(line).count(name) for name in names], (kind, width)


@pytest.mark.parametrize("width", WIDTHS)
def test_line_mode_echo_fits(router: Router, width: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    out = io.StringIO()
    run_lines(router, iter([LONG_QUESTION]), out=out, err=io.StringIO())
    rows = out.getvalue().splitlines()
    assert rows[0].startswith("> \u6211\u60f3\u95ee")
    assert all(visible_width(row) <= width or overflow_allowed(row) for row in rows)
