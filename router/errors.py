"""The exceptions the router raises: one hierarchy under :class:`RouterError`."""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "EncoderError",
    "InputError",
    "NotFittedError",
    "PackError",
    "QuoteNotFoundError",
    "RouterError",
    "UnknownReferenceError",
    "UnknownUnitError",
]


class RouterError(Exception):
    """Base class of every error this library raises on purpose."""


class PackError(RouterError):
    """A knowledge pack is missing, malformed or inconsistent.

    The message names the file and, where known, the line or the unit id.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        unit: str | None = None,
    ) -> None:
        self.path = str(path) if path is not None else None
        self.line = line
        self.unit = unit
        where = ""
        if self.path is not None:
            where = self.path if line is None else f"{self.path}, line {line}"
            where += ": "
        super().__init__(where + message)


class EncoderError(RouterError):
    """A sentence encoder cannot be used: its extra is not installed, its name is unknown,
    or its model file is not the one pinned (see :mod:`router.encoders`)."""


class QuoteNotFoundError(PackError):
    """A unit's mandate quote does not occur verbatim in its source document."""


class UnknownUnitError(RouterError, KeyError):
    """A unit id or name that the pack does not define."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class UnknownReferenceError(RouterError, LookupError):
    """A reference to a provision the AI Act does not have, or text that is no reference."""


class InputError(RouterError, ValueError):
    """The text given to route cannot be routed (for example, it is empty)."""


class NotFittedError(RouterError, AttributeError):
    """An estimator was used before ``fit`` was called."""
