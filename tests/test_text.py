"""router.text: folding questions for matching, cleaning them for display."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from router.text import clean_for_display, normalise, normalised_words, tokens


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


@given(_MIXED)
@example("a  b ")
@example(" a\u00a0b")
@example("\x1b[31mred")
def test_clean_for_display_fast_path_equals_the_full_cleaning(text: str) -> None:
    # The full cleaning, written out: the fast path for printable text must agree with it.
    full = re.sub(r"[\ud800-\udfff]", "\ufffd", text)
    full = re.sub("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]", " ", full)
    assert clean_for_display(text) == re.sub(r"\s+", " ", full).strip()


@given(_MIXED)
def test_normalised_words_are_normalise_split(text: str) -> None:
    assert normalised_words(text) == normalise(text).split()
