"""ai-office-router: route questions to the EU AI Office unit responsible, quoting its mandate.

>>> from router import Router
>>> router = Router.load()
>>> decision = router.route("who fines companies that break the AI Act?")
>>> decision.unit.id
'regulation_compliance'
"""

from .errors import (
    InputError,
    NotFittedError,
    PackError,
    QuoteNotFoundError,
    RouterError,
    UnknownUnitError,
)
from .pack import Citation, Pack, Unit, load_pack
from .results import Alternative, Answer, Decision, Evidence, Quote
from .routing import Router, StaleCalibrationWarning

__version__ = "0.1.0"

__all__ = [
    "Alternative",
    "Answer",
    "Citation",
    "Decision",
    "Evidence",
    "InputError",
    "NotFittedError",
    "Pack",
    "PackError",
    "Quote",
    "QuoteNotFoundError",
    "Router",
    "RouterError",
    "StaleCalibrationWarning",
    "Unit",
    "UnknownUnitError",
    "__version__",
    "load_pack",
]
