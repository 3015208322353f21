"""router.text: folding questions for matching, cleaning them for display."""

from __future__ import annotations

import json
import re
import unicodedata

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from router.text import (
    clean_for_display,
    clean_for_terminal,
    json_for_terminal,
    normalise,
    normalised_words,
    tokens,
)


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Qu'est-ce que l'AI Office ?", "qu est ce que l ai office"),
        ("Sécurité & SANCTIONS!!", "securite sanctions"),
        ("Straße Größe", "strasse grosse"),  # casefold, not lower
        ("ŁÓDŹ", "łodz"),  # ł has no decomposition: kept, accents on the rest dropped
        ("Ελληνικά άέ", "ελληνικα αε"),
        ("\uff21\uff29\u3000\uff2f\uff46\uff46\uff49\uff43\uff45", "ai office"),  # full-width
        ("under_score-and/slash", "under score and slash"),
        ("   ", ""),
    ],
)
def test_normalise_folds_case_accents_and_punctuation(text: str, folded: str) -> None:
    assert normalise(text) == folded


def test_normalise_drops_every_combining_mark() -> None:
    # Marks inside and beyond the Basic Multilingual Plane, on Latin and other letters.
    marks = [chr(c) for c in (0x301, 0x308, 0x1DC0, 0x20D7, 0xFE20, 0x1D167, 0x1E8D0)]
    assert all(unicodedata.combining(m) for m in marks)
    text = "".join(f"a{m}" for m in marks) + " ж\u0301"
    assert normalise(text) == "a" * len(marks) + " ж"


def test_text_of_combining_marks_alone_folds_to_no_words() -> None:
    # Nothing is left once the marks are dropped: no words, not an error.
    assert normalised_words("\u0301\u0308") == []
    assert normalise("\u0301 \u0327") == ""


def test_tokens_split_normalised_text() -> None:
    assert tokens(normalise("Who fines GPAI providers?")) == ["who", "fines", "gpai", "providers"]


def test_clean_for_display_removes_controls_and_bidi_and_collapses_space() -> None:
    nasty = "who\x1b[31m fines\x00\tGPAI\u202e providers?\r\n\u200b"
    assert clean_for_display(nasty) == "who [31m fines GPAI providers?"


def test_clean_for_display_makes_lone_surrogates_printable() -> None:
    # Undecodable bytes read with errors="surrogateescape" arrive as lone surrogates.
    shown = clean_for_display(b"caf\xe9 ok".decode("utf-8", "surrogateescape"))
    assert shown == "caf\ufffd ok"  # one replacement for the one bad byte
    assert clean_for_display("a\ud800b") == "a\ufffdb"
    shown.encode("utf-8")  # always encodable


# Characters that exercise both paths of clean_for_display: plain text, spaces, every kind
# of whitespace, controls, bidi and zero-width formats, surrogates, and non-ASCII letters.
_MIXED = st.text(
    st.sampled_from(
        [
            *"ab Zé1?",
            *(" ", "\t", "\n", "\r", "\x00", "\x1b", "\x7f", "\x85", "\xa0"),
            *("\u200b", "\u202e", "\u2066", "\ufeff", "\u3000", "\u2028", "\udc80"),
            "\U0001f600",
        ]
    ),
    max_size=30,
)


def _full_cleaning(text: str) -> str:
    # The cleaning written out character by character: the oracle of the fast paths.
    out = []
    for char in text:
        category = unicodedata.category(char)
        if category == "Cs":
            out.append("\ufffd")
        elif category in ("Cc", "Zl", "Zp"):
            out.append(" ")
        elif category != "Cf" and char not in INVISIBLE:
            out.append(char)
    return re.sub(r"\s+", " ", "".join(out)).strip()


INVISIBLE = {"\u034f", "\u115f", "\u1160", "\u3164", "\uffa0", "\U000e0100"}


@given(_MIXED)
@example("a  b ")
@example(" a\u00a0b")
@example("\x1b[31mred")
@example("a\u200bb")
def test_clean_for_display_fast_path_equals_the_full_cleaning(text: str) -> None:
    assert clean_for_display(text) == _full_cleaning(text)


@pytest.mark.parametrize(
    "hidden",
    [
        "\u061c",  # Arabic letter mark (bidi)
        "\u200e", "\u200f", "\u202a", "\u202e", "\u2066", "\u2069",  # bidi marks, isolates
        "\u2060", "\u2061", "\u2064", "\u206a", "\u206f",  # word joiner, invisible operators
        "\u00ad", "\u180e", "\ufeff", "\ufff9",  # soft hyphen, Mongolian separator, BOM
        "\U000e0001", "\U000e0041", "\U000e007f",  # tag characters
        "\u3164", "\u115f", "\u034f", "\U000e0100",  # invisible letters and marks
        "\x85", "\x9b", "\u2028", "\u2029",  # C1 controls, line and paragraph separators
    ],
)
def test_bidi_and_invisible_format_characters_do_not_survive_cleaning(hidden: str) -> None:
    # U+061C, U+2060-206F and tag characters used to survive into ask --why and the chat.
    text = f"who{hidden}fines {hidden}GPAI"
    assert hidden not in clean_for_display(text)
    assert hidden not in clean_for_terminal(f"  {text}\n  next")
    assert clean_for_display(hidden * 3) == ""


def test_clean_for_terminal_keeps_lines_indentation_and_only_its_own_styles() -> None:
    styled = "\x1b[1mUnit\x1b[0m\n  \u2502 \u201cquote\x1b]0;title\x07\u202e\u201d\n\x9b2J"
    shown = clean_for_terminal(styled, styled=True)
    assert shown == "\x1b[1mUnit\x1b[0m\n  \u2502 \u201cquote ]0;title \u201d\n 2J"
    plain = clean_for_terminal(styled)
    assert "\x1b" not in plain and plain.splitlines()[0] == " [1mUnit [0m"


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | _MIXED,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_MIXED, inner, max_size=3),
        max_leaves=8,
    )
)
def test_json_for_terminal_is_lossless_and_escapes_what_a_terminal_acts_on(data: object) -> None:
    for indent in (None, 2):
        text = json_for_terminal(data, indent=indent)
        assert json.loads(text) == data
        hidden = [c for c in text if c != "\n" and _full_cleaning(f"a{c}b") != f"a{c}b"]
        assert hidden == [] or set(hidden) <= set(" \t\xa0\u3000")


def test_json_for_terminal_escapes_tags_as_surrogate_pairs() -> None:
    assert json_for_terminal("a\U000e0041\u061c\x85") == '"a\\udb40\\udc41\\u061c\\u0085"'


def test_only_combining_marks_normalise_to_no_words() -> None:
    # "max() arg is an empty sequence": a text of only combining marks is empty once they go.
    assert normalised_words("\u0301\u0302\u0303") == []
    assert normalise("\u0301 \U0001d167") == ""


@given(_MIXED)
def test_normalised_words_are_normalise_split(text: str) -> None:
    assert normalised_words(text) == normalise(text).split()
