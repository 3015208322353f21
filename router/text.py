"""Text hygiene: normalising questions for matching and cleaning them for display."""

from __future__ import annotations

import functools
import re
import unicodedata

__all__ = ["MAX_CHARS", "clean_for_display", "normalise", "normalised_words", "tokens"]

#: Questions longer than this are routed on their first ``MAX_CHARS`` characters.
MAX_CHARS = 5000

# C0/C1 controls, DEL, and the Unicode bidi overrides/isolates that can reorder a terminal
# line; tab and newline are mapped to spaces rather than kept.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_SPACES = re.compile(r"\s+")
_SURROGATE = re.compile("[\ud800-\udfff]")
# Letters and digits of any script; everything else separates words.
_WORD = re.compile(r"[^\W_]+")


def clean_for_display(text: str) -> str:
    """Return ``text`` safe to print: no control characters, whitespace collapsed.

    Lone surrogates (one per undecodable byte read with ``errors="surrogateescape"``)
    become U+FFFD, so the result always encodes.
    """
    if text.isprintable() and "  " not in text:
        # The usual case, tested in C: no control, format, surrogate or space character
        # but the plain space (all are "not printable"), and no run of spaces.
        return text.strip()
    text = _SURROGATE.sub("\ufffd", text)
    text = _CONTROL.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def normalise(text: str) -> str:
    """Fold ``text`` for matching: compatibility forms, case, accents, punctuation.

    "Qu'est-ce que l'AI Office ?" -> "qu est ce que l ai office".
    """
    return " ".join(normalised_words(text))


def normalised_words(text: str) -> list[str]:
    """The words of :func:`normalise`'s result (without building it and splitting it)."""
    text = text.casefold()
    if not text.isascii():  # most questions are ASCII; skip the per-character work for them
        text = unicodedata.normalize("NFKD", text)
        # Drop combining marks so "sécurité" and "securite" meet; typed questions often
        # lack accents.
        text = _combining_marks().sub("", text)
        if text and max(text) > "\uffff":  # the BMP is covered; beyond it, rare, ask each
            text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _WORD.findall(text)


@functools.cache
def _combining_marks() -> re.Pattern[str]:
    """A character class of the BMP's combining marks, from this Python's Unicode data.

    Built on first use (a few milliseconds) rather than at import; a regex removes them
    several times faster than testing each character in Python.
    """
    marks = [chr(c) for c in range(0x300, 0x10000) if unicodedata.combining(chr(c))]
    return re.compile("[" + "".join(re.escape(m) for m in marks) + "]")


def tokens(normalised: str) -> list[str]:
    """Split normalised text into words."""
    return normalised.split()
