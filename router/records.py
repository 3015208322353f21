"""The plain records a pack is made of (sources, citations, training utterances) and the
checks their YAML readers share; :mod:`router.pack` and :mod:`router.topics` build on them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from .errors import PackError
from .text import clean_for_display
from .yamlio import Mapping, line_of

__all__ = ["Citation", "Example", "Source", "optional_str", "read_examples", "require"]


@dataclass(frozen=True)
class Citation:
    """Where a quote comes from."""

    source_id: str
    title: str
    publisher: str | None = None
    date: str | None = None
    url: str | None = None
    #: ``date`` is the day the page was read, not one the page shows (it shows none).
    accessed: bool = False

    def __str__(self) -> str:
        date = f"accessed {self.date}" if self.accessed and self.date else self.date
        parts = [self.publisher, f"\u201c{self.title}\u201d", date, self.url]
        return ", ".join(p for p in parts if p)


@dataclass(frozen=True)
class Source:
    """A source document kept verbatim in the pack."""

    id: str
    path: Path
    citation: Citation
    text: str = field(repr=False)

    @cached_property
    def _collapsed(self) -> str:
        return " ".join(self.text.split())

    def says(self, words: str) -> bool:
        """Whether ``words`` occur in the text verbatim, a line break reading as a space
        (a page stored wrapped, such as the Act, breaks sentences across lines)."""
        return " ".join(words.split()) in self._collapsed


@dataclass(frozen=True)
class Example:
    """One training utterance."""

    text: str
    lang: str | None = None


def require(data: Any, key: str, kind: type, path: Path, *, unit: str | None = None) -> Any:
    """``data[key]`` checked to be a ``kind``; a PackError naming the file and line if not."""
    if not isinstance(data, dict) or key not in data:
        raise PackError(f"missing required key {key!r}", path=path, line=line_of(data), unit=unit)
    value = data[key]
    if not isinstance(value, kind):
        raise PackError(
            f"{key!r} must be a {kind.__name__}, not {type(value).__name__}",
            path=path,
            line=line_of(data),
            unit=unit,
        )
    return value


def optional_str(item: dict[str, Any], key: str) -> str | None:
    """``item[key]`` as text, or None when absent."""
    value = item.get(key)
    return None if value is None else str(value)


def read_examples(data: Mapping, path: Path, uid: str) -> Iterator[Example]:
    """The ``examples`` of an intent or topic: a list, or a mapping of language to list."""
    raw = data.get("examples")
    groups: list[tuple[str | None, Any]]
    if isinstance(raw, list):
        groups = [(None, raw)]
    elif isinstance(raw, dict):
        groups = [(str(lang), items) for lang, items in raw.items()]
    else:
        raise PackError(
            "'examples' must be a list or a mapping of language to list",
            path=path,
            line=line_of(data),
            unit=uid,
        )
    for lang, items in groups:
        if not isinstance(items, list):
            raise PackError(
                f"examples for {lang!r} must be a list", path=path, line=line_of(raw), unit=uid
            )
        for index, text in enumerate(items):
            if not isinstance(text, str) or not clean_for_display(text):
                raise PackError(
                    f"example must be non-empty text, got {text!r}",
                    path=path,
                    line=line_of(items, index),
                    unit=uid,
                )
            yield Example(text=text, lang=lang)
