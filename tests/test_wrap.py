"""The one wrapping function every renderer uses: widths, hanging indents, colours, wide text."""

from __future__ import annotations

import re

import click
import pytest
import wcwidth
from hypothesis import given
from hypothesis import strategies as st

from router.wrap import MAX_WIDTH, MIN_WIDTH, fit, line_width, strip_ansi, visible_width, wrap

SGR = re.compile(r"\x1b\[[0-9;]*m")
UNIT = "AI Innovation and Policy Coordination Unit"
URL = "https://digital-strategy.ec.europa.eu/en/news/commission-establishes-ai-office-strengthen"

#: Words of at most 10 columns: every line leaves at least that much room.
words = st.text(
    alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzéü—“”→質問한글"), min_size=1, max_size=5
)
texts = st.lists(words, min_size=1, max_size=60).map(" ".join)
#: Indents of up to half the narrowest width are never shortened.
spaces = st.integers(0, MIN_WIDTH // 2).map(lambda n: " " * n)


def text_of(line: str, prefix: str) -> str:
    assert line.startswith(prefix), (line, prefix)
    return line[len(prefix) :]


@given(text=texts, width=st.integers(MIN_WIDTH, 160), indent=spaces, hang=spaces)
def test_lines_fit_keep_every_word_and_hang(text: str, width: int, indent: str, hang: str) -> None:
    lines = wrap(text, width, indent=indent, hang=hang)
    assert all(visible_width(line) <= width for line in lines)
    assert text_of(lines[0], indent)[:1] not in ("", " ")
    rest = [text_of(line, hang) for line in lines[1:]]
    assert all(r[:1] not in ("", " ") for r in rest)  # text starts right at the hang
    assert " ".join([lines[0][len(indent) :], *rest]).split() == text.split()


@given(text=texts, width=st.integers(MIN_WIDTH, 160), hang=spaces)
def test_colour_codes_take_no_room_and_do_not_leak(text: str, width: int, hang: str) -> None:
    styled = " ".join(
        click.style(w, fg="green", bold=i % 3 == 0) for i, w in enumerate(text.split())
    )
    lines = wrap(click.style(styled, italic=True), width, hang=hang)
    assert [strip_ansi(line) for line in lines] == wrap(text, width, hang=hang)
    for line in lines:
        assert SGR.findall(line)[-1] == "\x1b[0m"  # every line ends unstyled
    for line in lines[1:]:
        assert line.startswith(hang + "\x1b[")  # the indent itself is never styled


def test_a_style_open_at_a_break_is_reopened_after_the_indent() -> None:
    lines = wrap(click.style("one two three four", fg="red"), 9, hang="  ")
    assert lines == ["\x1b[31mone two\x1b[0m", "  \x1b[31mthree\x1b[0m", "  \x1b[31mfour\x1b[0m"]


def test_measuring_without_wcwidth_agrees_with_it() -> None:
    # Latin text and the renderers' punctuation are measured without importing wcwidth.
    punctuation = "\u2018\u2019\u201c\u201d\u201e\u2013\u2014\u2026\u2022\u2192\u2502\u20ac"
    chars = [chr(c) for c in range(0x20, 0x300) if chr(c).isprintable()] + list(punctuation)
    assert [visible_width(ch) for ch in chars] == [wcwidth.wcwidth(ch) for ch in chars]


def test_wide_characters_take_two_columns() -> None:
    assert visible_width("質問") == 4
    assert visible_width("e\u0301") == 1  # a combining accent takes none
    assert visible_width(click.style("→ “Unit” — §", bold=True)) == 12
    lines = wrap("質問 " * 12, 20)
    assert [visible_width(line) for line in lines] == [19, 19, 19]


def test_a_unit_name_moves_to_the_next_line_rather_than_split() -> None:
    text = f"This question is for the {UNIT}, it seems."
    lines = wrap(text, 60, keep=[UNIT])
    assert lines == ["This question is for the", f"{UNIT}, it seems."]
    assert wrap(text, 60) == [
        "This question is for the AI Innovation and Policy",
        "Coordination Unit, it seems.",
    ]


def test_a_name_wider_than_any_line_breaks_as_words_from_where_it_starts() -> None:
    lines = wrap(f"\u2192 {UNIT} (high confidence, 0.96)", 40, hang="  ", keep=[UNIT])
    assert lines == [
        "\u2192 AI Innovation and Policy Coordination",
        "  Unit (high confidence, 0.96)",
    ]


def test_a_url_longer_than_the_line_stays_whole_on_a_line_of_its_own() -> None:
    lines = wrap(f"— European Commission, 2024-05-29, {URL}, seen", 40, indent="  ", hang="    ")
    assert lines == ["  — European Commission, 2024-05-29,", f"    {URL},", "    seen"]


def test_other_words_longer_than_the_line_are_cut_to_fit() -> None:
    lines = wrap("see " + "x" * 50 + " end", 20, indent="> ", hang="  ")
    assert lines == ["> see", "  " + "x" * 18, "  " + "x" * 18, "  " + "x" * 14 + " end"]
    cut = wrap(click.style("質" * 25, fg="red"), 20)
    assert [visible_width(line) for line in cut] == [20, 20, 10]
    assert "".join(strip_ansi(line) for line in cut) == "質" * 25


@given(
    word=st.text(alphabet=st.sampled_from("ab質é"), min_size=1, max_size=90),
    width=st.integers(MIN_WIDTH, 60),
    indent=spaces,
)
def test_long_words_are_cut_into_pieces_that_fit(word: str, width: int, indent: str) -> None:
    lines = wrap(word, width, indent=indent, hang=indent)
    assert all(visible_width(line) <= width for line in lines)
    assert "".join(line.lstrip(" ") for line in lines) == word


def test_a_hang_too_wide_for_the_line_is_shortened() -> None:
    lines = wrap("a " * 30, 40, indent="Out-of-scope probability (model): ", hang=" " * 34)
    assert all(visible_width(line) <= 40 for line in lines)
    assert lines[1].startswith(" " * 20 + "a")


def test_blank_text_gives_no_lines_and_a_fitting_line_is_unchanged() -> None:
    assert wrap("  \n ", 40) == []
    line = "Top units:  ai_safety 0.99,   about_office 0.01"
    assert wrap(line, 100) == [line]  # inner spaces kept when nothing breaks


def test_fit_hangs_each_line_under_its_bullet_or_number() -> None:
    text = "Intro line that is long enough to wrap here\n- a bulleted item that wraps too"
    text += "\n\n 2. numbered"
    assert fit(text, 24) == (
        "Intro line that is long\nenough to wrap here\n"
        "- a bulleted item that\n  wraps too\n\n 2. numbered"
    )


@pytest.mark.parametrize(("given", "want"), [(10, MIN_WIDTH), (60, 60), (160, MAX_WIDTH)])
def test_line_width_is_kept_within_bounds(given: int, want: int) -> None:
    assert line_width(given) == want


def test_line_width_follows_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "57")
    assert line_width() == 57
