"""The provisions a question names: "Article 5(1)(a)", "art. 50", "Annex III, point 4",
"Erwägungsgrund 27", in the EU languages with the most questions."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["named_references", "parent_reference"]

# -- references named in a question -------------------------------------------------------

# Characters folded to their ASCII look-alike rather than dropped (see _fold).
_FOLD = (("\u2019", "'"), ("\u00a0", " "))
_REF_ARTICLE = re.compile(
    r"\b(?:articles?|arts?|artikel[ns]?|articolo|articoli|articulos?)\b\.?\s*(\d{1,3})"
    r"((?:\s*\(\s*(?:\d{1,3}|[a-z]{1,4})\s*\))*)"
    r"(?:\s*,?\s*(?:paragraph|paragraphe|para|par|absatz|abs|comma|apartado)\.?\s*(\d{1,3}))?"
    r"(?:\s*,?\s*(?:point|punkt|lettre|lettera|letra)\s*\(?([a-z]{1,4}|\d{1,3})\)?)?"
)
_REF_ANNEX = re.compile(
    r"\b(?:annex|annexe|anhang|allegato|anexo)\s+([ivxlc]+)\b"
    r"(?:\s*,?\s*(?:point|punkt|punto|pt)\.?\s*(\d{1,3})((?:\s*\(\s*[a-z]{1,4}\s*\))*))?"
)
_REF_RECITAL = re.compile(
    r"\b(?:recital|considerant|erwagungsgrund|considerando)s?\s*\(?(\d{1,3})\)?"
)


# Every keyword of the three patterns above holds one of these: a question without any
# (nearly all) names no provision, and the patterns need not run.
_REF_STEMS = ("art", "ann", "anh", "anexo", "allegato", "recital", "consideran", "erwagungsgrund")


def _fold(text: str) -> str:
    """Case- and accent-fold ("Erwägungsgrund" -> "erwagungsgrund")."""
    text = text.casefold()
    if text.isascii():  # most questions: nothing else to do
        return text
    for char, ascii_char in _FOLD:
        text = text.replace(char, ascii_char)
    if text.isascii():
        return text
    # Decomposing then dropping what is not ASCII removes the accents (in C, fast enough
    # for the whole Act); other non-ASCII characters only ever separate words here.
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def parent_reference(reference: str) -> str:
    """A reference without its last part: "Article 5(1)" of "Article 5(1)(a)", "Annex III"
    of "Annex III, point 4", "Annex XIII" of "Annex XIII, point (f)"; a whole article or
    annex is its own."""
    if reference.endswith(")"):
        head = reference[: reference.rindex("(")].rstrip()
        return head.removesuffix(", point")
    return reference.rsplit(", ", 1)[0]


def named_references(question: str) -> list[str]:
    """The provisions a question names, as references ("Article 5(1)(a)"), in order."""
    return _named_in(_fold(question))


def _named_in(folded: str) -> list[str]:
    """:func:`named_references` of an already folded question."""
    if not any(map(folded.__contains__, _REF_STEMS)):
        return []
    found: list[tuple[int, str]] = []
    for m in _REF_ARTICLE.finditer(folded):
        parts = re.findall(r"\(\s*([^)\s]+)\s*\)", m.group(2) or "")
        parts += [g for g in (m.group(3), m.group(4)) if g]
        found.append((m.start(), f"Article {int(m.group(1))}" + "".join(f"({p})" for p in parts)))
    for m in _REF_ANNEX.finditer(folded):
        ref = f"Annex {m.group(1).upper()}"
        if m.group(2):
            parts = re.findall(r"\(\s*([a-z]{1,4})\s*\)", m.group(3) or "")
            ref += f", point {int(m.group(2))}" + "".join(f"({p})" for p in parts)
        found.append((m.start(), ref))
    for m in _REF_RECITAL.finditer(folded):
        found.append((m.start(), f"Recital {int(m.group(1))}"))
    out: list[str] = []
    for _, ref in sorted(found):
        if ref not in out:
            out.append(ref)
    return out


# The marker of the first point ("(a)", "1."), which a lead-in's slice ends with.
