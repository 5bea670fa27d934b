"""Read YAML while remembering the line of every value, so errors can say ``file:line``.

PyYAML's composer keeps a start mark on every node. We build plain Python data from the node
tree ourselves, recording each value's line by its path (``("purposes", 0, "data")``), and
report duplicate keys, which PyYAML would otherwise silently collapse to the last one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import Collector

LinePath = tuple[str | int, ...]


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps dates as strings: the JSON Schema validates them, not YAML."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}


class LineMap:
    """Maps a value's path to the line it starts on."""

    def __init__(self, lines: dict[LinePath, int]):
        self.lines = lines

    def line(self, path: LinePath) -> int:
        """Line of ``path``, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)


def read_yaml(path: Path, errors: Collector) -> tuple[Any, LineMap] | None:
    """Parse ``path``. Problems go to ``errors``; returns None when the file cannot be used."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        errors.add(path, line, f"not valid UTF-8 ({exc.reason} at byte {exc.start}); save the file as UTF-8")
        return None
    except OSError as exc:
        errors.add(path, 0, f"cannot read file: {exc.strerror}")
        return None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        problem = exc.problem or exc.context or "invalid YAML"
        errors.add(path, line, f"malformed YAML: {problem}")
        return None
    except yaml.YAMLError as exc:
        errors.add(path, 0, f"malformed YAML: {exc}")
        return None
    if node is None:
        loader.dispose()
        return {}, LineMap({(): 1})
    lines: dict[LinePath, int] = {}
    try:
        data = _build(node, (), lines, path, errors, loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        errors.add(path, mark.line + 1 if mark else 0, f"malformed YAML: {getattr(exc, 'problem', exc)}")
        return None
    finally:
        loader.dispose()
    return data, LineMap(lines)


def _build(node: yaml.Node, at: LinePath, lines: dict[LinePath, int], path: Path, errors: Collector, loader: _Loader) -> Any:
    lines[at] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int)):
                errors.add(path, key_node.start_mark.line + 1, f"mapping keys must be plain words, not {key!r}")
                continue
            key = str(key)
            if key in result:
                errors.add(path, key_node.start_mark.line + 1, f"duplicate key '{key}'; each key may appear only once")
                continue
            result[key] = _build(value_node, at + (key,), lines, path, errors, loader)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, at + (i,), lines, path, errors, loader) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)
