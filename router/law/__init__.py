"""The AI Act: its passages, references to them, and the provisions that answer a question.

- :mod:`router.law.index`: parsing the Act into citable passages, the references a question
  names, a BM25 index over the passages, and measuring citations on labelled questions.
- :mod:`router.law.articles`: the Act as a routed pack of its own (each article and annex a
  unit, trained on people's questions), which decides which article a question is about,
  then the paragraph within it.
"""

from __future__ import annotations

from .index import (
    SETTINGS_FILE,
    Passage,
    Provision,
    ProvisionIndex,
    Settings,
    collapse,
    load_provisions,
    named_references,
    parse_act,
    quote_cut,
)

__all__ = [
    "SETTINGS_FILE",
    "Passage",
    "Provision",
    "ProvisionIndex",
    "Settings",
    "collapse",
    "load_provisions",
    "named_references",
    "parse_act",
    "quote_cut",
]
