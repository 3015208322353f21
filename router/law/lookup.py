"""Looking up a provision by the reference a lawyer types: "Article 5(1)(h)", "50",
"art. 26", "Annex III, point 4", "Recital 27"."""

from __future__ import annotations

import re

from rapidfuzz import process

from ..errors import UnknownReferenceError
from .parse import Passage
from .references import named_references, parent_reference
from .retrieval import Provision, ProvisionIndex

__all__ = ["look_up", "provision_for"]

_BARE = re.compile(r"\s*(\d{1,3})\s*((?:\(\s*[0-9a-z]{1,4}\s*\)\s*)*)", re.IGNORECASE)
_ANNEX_ONLY = re.compile(r"\s*([IVXLC]+)\s*", re.IGNORECASE)


def _reference(text: str) -> str | None:
    """The reference ``text`` stands for, written as the index writes them; None if none."""
    bare = _BARE.fullmatch(text)
    if bare:  # "50", "5(1)(h)": an article
        parts = re.findall(r"\(\s*([0-9a-z]{1,4})\s*\)", bare.group(2).lower())
        return f"Article {int(bare.group(1))}" + "".join(f"({p})" for p in parts)
    named = named_references(text)
    if named:
        return named[0]
    roman = _ANNEX_ONLY.fullmatch(text)
    return f"Annex {roman.group(1).upper()}" if roman else None


def look_up(index: ProvisionIndex, text: str) -> Passage:
    """The passage ``text`` refers to.

    A point of an article without numbered paragraphs is found as the Act writes it
    ("Article 113(a)" is "Article 113, point (a)").

    Raises:
        UnknownReferenceError: ``text`` is no reference, or the Act has no such provision;
            the message names the nearest provisions that exist.
    """
    ref = _reference(text)
    if ref is not None:
        passage = index.get(ref)
        plain = re.fullmatch(r"(Article \d+)\(([a-z]+)\)", ref)
        if passage is None and plain:
            passage = index.get(f"{plain.group(1)}, point ({plain.group(2)})")
        if passage is not None:
            return passage
    how = "write references as 'Article 5(1)(h)', '50', 'Annex III, point 4' or 'Recital 27'"
    if ref is None:
        raise UnknownReferenceError(f"{text!r} is not a reference to the AI Act; {how}")
    known = [p.reference for p in index.passages]
    holder = parent_reference(ref)
    while index.get(holder) is None and parent_reference(holder) != holder:
        holder = parent_reference(holder)
    if index.get(holder) is not None:  # the article exists: its own parts are nearest
        known = [r for r in known if r == holder or r.startswith((holder + "(", holder + ","))]
    nearest = [m[0] for m in process.extract(ref, known, limit=3)]
    raise UnknownReferenceError(
        f"no provision {ref!r} in the AI Act; the nearest that exist: {', '.join(nearest)} "
        f"({how})"
    )


def provision_for(index: ProvisionIndex, text: str) -> Provision:
    """:func:`look_up` as a citable :class:`Provision`, quoted in full with its lead-in."""
    return index.provision(look_up(index, text), named=True)
