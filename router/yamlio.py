"""Safe YAML reading that keeps line numbers, so pack errors can name the line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import PackError
from .packfiles import MAX_YAML_BYTES, read_limited

__all__ = ["MAX_ALIAS_VALUES", "Mapping", "Sequence", "line_of", "read_yaml"]


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


#: How many values aliases may add to a YAML file, over the ones written out: ample for
#: anchors that share a block of settings, far below an alias bomb ("billion laughs"),
#: whose few lines stand for billions of values that every reader would walk.
MAX_ALIAS_VALUES = 100_000


def read_yaml(path: Path) -> Any:
    """Read one YAML document with the safe loader; errors name the file and line.

    The file must be a regular file of at most :data:`~router.packfiles.MAX_YAML_BYTES`,
    and its aliases may add at most :data:`MAX_ALIAS_VALUES` values.
    """
    raw = read_limited(path, limit=MAX_YAML_BYTES)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise PackError("is not valid UTF-8; save the file as UTF-8", path=path, line=line) from exc
    try:
        data = yaml.load(text, Loader=_LineLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or "invalid YAML"
        raise PackError(f"invalid YAML: {problem}", path=path, line=line) from exc
    except yaml.YAMLError as exc:
        raise PackError(f"invalid YAML: {exc}", path=path) from exc
    except RecursionError as exc:
        raise PackError("invalid YAML: nested too deeply", path=path) from exc
    _check_aliases(data, path)
    return data


def _check_aliases(data: Any, path: Path) -> None:
    """Refuse a document whose aliases expand it by more than MAX_ALIAS_VALUES values.

    PyYAML builds each anchored value once and shares it, so loading is quick; the cost
    comes later, in every reader that walks the values. Counting the values once per
    distinct container (a memo by identity) measures the expansion without doing it.
    """
    sizes: dict[int, int] = {}
    distinct = 1  # the values as written: the root, and each distinct container's items

    def size(value: Any) -> int:
        nonlocal distinct
        if not isinstance(value, dict | list):
            return 1
        key = id(value)
        if key not in sizes:
            distinct += 2 * len(value) if isinstance(value, dict) else len(value)
            items = value.items() if isinstance(value, dict) else enumerate(value)
            sizes[key] = 1 + sum(size(k) + size(v) for k, v in items)
        return sizes[key]

    try:
        total = size(data)
    except RecursionError as exc:
        raise PackError("invalid YAML: nested too deeply", path=path) from exc
    if total - distinct > MAX_ALIAS_VALUES:
        raise PackError(
            f"its aliases (*name) expand it to {total:,} values, more than "
            f"{MAX_ALIAS_VALUES:,} over the ones written out; write the values out instead",
            path=path,
        )
