"""The fixed wording of replies and of the chat, in the five reply languages.

The words are data (``router/catalogue.yaml``): one entry per key, each in English,
French, German, Italian and Spanish with the same ``{placeholders}``. A language without
an entry falls back to English, so a reply is never left without words.
"""

from __future__ import annotations

import functools
from importlib.resources import files
from pathlib import Path
from typing import Any

from .errors import PackError
from .language import LANGUAGES
from .yamlio import read_yaml

__all__ = ["catalogue", "message"]


@functools.cache
def catalogue() -> dict[str, dict[str, str]]:
    """Every key with its wording per language, read once from the shipped catalogue."""
    path = Path(str(files("router") / "catalogue.yaml"))
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise PackError("expected a mapping of message keys", path=path, line=1)
    return {str(k): {str(lang): str(text) for lang, text in v.items()} for k, v in data.items()}


def message(key: str, language: str = "en", /, **fields: Any) -> str:
    """The wording of ``key`` in ``language`` (English if it has none), filled in.

    Raises:
        KeyError: no such key (a bug: the keys are fixed in the code).
    """
    entry = catalogue()[key]
    text = entry.get(language if language in LANGUAGES else "en") or entry["en"]
    return text.format(**fields) if fields else text
