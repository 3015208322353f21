"""ai-office-router: route questions to the EU AI Office unit responsible, quoting its mandate.

>>> from router import Router
>>> router = Router.load()
>>> decision = router.route("who fines companies that break the AI Act?")
>>> decision.unit.id
'regulation_compliance'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (
    InputError,
    NotFittedError,
    PackError,
    QuoteNotFoundError,
    RouterError,
    UnknownReferenceError,
    UnknownUnitError,
)

__version__ = "0.1.0"

# The rest of the public surface imports scikit-learn, which costs most of a second; it is
# loaded on first use so the chat can draw its prompt before that (PEP 562).
_LAZY = {
    "Citation": "pack",
    "Conversation": "conversation",
    "Pack": "pack",
    "Unit": "pack",
    "load_pack": "pack",
    "Alternative": "results",
    "Answer": "results",
    "Decision": "results",
    "Evidence": "results",
    "Outcome": "results",
    "Quote": "results",
    "Router": "routing",
    "StaleCalibrationWarning": "routing",
}

if TYPE_CHECKING:
    from .conversation import Conversation
    from .pack import Citation, Pack, Unit, load_pack
    from .results import Alternative, Answer, Decision, Evidence, Outcome, Quote
    from .routing import Router, StaleCalibrationWarning


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "Alternative",
    "Answer",
    "Citation",
    "Conversation",
    "Decision",
    "Evidence",
    "InputError",
    "NotFittedError",
    "Outcome",
    "Pack",
    "PackError",
    "Quote",
    "QuoteNotFoundError",
    "Router",
    "RouterError",
    "StaleCalibrationWarning",
    "Unit",
    "UnknownReferenceError",
    "UnknownUnitError",
    "__version__",
    "load_pack",
]
