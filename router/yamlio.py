"""Safe YAML reading that keeps line numbers, so pack errors can name the line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import PackError

__all__ = ["Mapping", "Sequence", "line_of", "read_yaml"]


class Mapping(dict):  # type: ignore[type-arg]
    """A YAML mapping that remembers the line it started on (1-based)."""

    line: int = 0


class Sequence(list):  # type: ignore[type-arg]
    """A YAML sequence that remembers the line of each item (1-based)."""

    line: int = 0
    item_lines: list[int]


# libyaml's parser, where PyYAML was built with it, reads a pack several times faster; the
# constructors below are the same either way, so line numbers are kept.
class _LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> Mapping:
    result = Mapping(loader.construct_mapping(node, deep=True))
    result.line = node.start_mark.line + 1
    return result


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> Sequence:
    result = Sequence(loader.construct_sequence(node, deep=True))
    result.line = node.start_mark.line + 1
    result.item_lines = [item.start_mark.line + 1 for item in node.value]
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def line_of(value: Any, index: int | None = None) -> int | None:
    """The 1-based line where ``value`` (or its item ``index``) starts, if known."""
    if index is not None and isinstance(value, Sequence):
        return value.item_lines[index]
    return getattr(value, "line", None) or None


def read_yaml(path: Path) -> Any:
    """Read one YAML document with the safe loader; errors name the file and line."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PackError(f"cannot read the file ({exc.strerror})", path=path) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise PackError("is not valid UTF-8; save the file as UTF-8", path=path, line=line) from exc
    try:
        return yaml.load(text, Loader=_LineLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or "invalid YAML"
        raise PackError(f"invalid YAML: {problem}", path=path, line=line) from exc
    except yaml.YAMLError as exc:
        raise PackError(f"invalid YAML: {exc}", path=path) from exc
