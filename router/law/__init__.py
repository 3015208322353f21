"""The AI Act: its passages, references to them, and the provisions that answer a question.

- :mod:`router.law.parse`: the Act's text as citable passages.
- :mod:`router.law.references`: the provisions a question names.
- :mod:`router.law.retrieval`: the provisions for a question, named or by BM25.
- :mod:`router.law.lookup`: a provision from the reference a lawyer types.
- :mod:`router.law.evaluate`: measuring citations on labelled questions.
- :mod:`router.law.articles`: the Act as a routed pack of its own (each article and annex a
  unit, trained on people's questions), which decides which article a question is about,
  then the paragraph within it.
"""

from __future__ import annotations

from .parse import Passage, collapse, parse_act, quote_cut
from .references import named_references
from .retrieval import SETTINGS_FILE, Provision, ProvisionIndex, Settings, load_provisions

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
