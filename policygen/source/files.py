"""Reading source files: containment, UTF-8, and YAML with a line for every value.

Every file a build reads from a project goes through :func:`inside` first: a symlink that
leads out of the project is refused, so building never publishes a file from elsewhere.

YAML is read while remembering the line of every value, so errors can say ``file:line``.

PyYAML's composer keeps a start mark on every node. We build plain Python data from the node
tree ourselves, recording each value's line by its path (``("purposes", 0, "data")``), and
report duplicate keys, which PyYAML would otherwise silently collapse to the last one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from policygen.errors import Collector

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


def inside(path: Path, root: Path, errors: Collector) -> bool:
    """True when ``path`` really lies under ``root`` (after following symlinks); else an error."""
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        errors.add(path, 0, "leads outside the project (through a symlink?); policygen reads only files inside the project")
        return False


def read_source(path: Path, errors: Collector) -> str | None:
    """Read a UTF-8 source file; a byte-order mark is tolerated, as Windows editors write one."""
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        errors.add(path, line, f"not valid UTF-8 ({exc.reason} at byte {exc.start}); save the file as UTF-8")
    except OSError as exc:
        errors.add(path, 0, f"cannot read file: {exc.strerror}")
    return None


def read_yaml(path: Path, errors: Collector) -> tuple[Any, LineMap] | None:
    """Parse ``path``. Problems go to ``errors``; returns None when the file cannot be used."""
    text = read_source(path, errors)
    if text is None:
        return None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark is not None and "end of stream" in (exc.problem or ""):
            # An unclosed quote is found at the end of the file; where it opened is more useful.
            mark = exc.context_mark
        line = mark.line + 1 if mark else 0
        problem = " ".join(filter(None, [exc.context, exc.problem])) or "invalid YAML"
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
        data = _build(node, (), lines, path, errors, loader, set())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        errors.add(path, mark.line + 1 if mark else 0, f"malformed YAML: {getattr(exc, 'problem', exc)}")
        return None
    finally:
        loader.dispose()
    return data, LineMap(lines)


def _build(node: yaml.Node, at: LinePath, lines: dict[LinePath, int], path: Path, errors: Collector, loader: _Loader, seen: set[int]) -> Any:
    lines[at] = node.start_mark.line + 1
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
        # The composer turns an alias into the same node object. Sources have no use for
        # aliases, and following them allows self-reference and exponential "billion laughs"
        # expansion, so a node met twice is an error.
        if id(node) in seen:
            errors.add(path, node.start_mark.line + 1, "YAML anchors and aliases (&name, *name) are not supported; write the values out")
            return None
        seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                errors.add(path, key_node.start_mark.line + 1, "YAML merge keys ('<<') are not supported; write the values out")
                continue
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int)):
                errors.add(path, key_node.start_mark.line + 1, f"mapping keys must be plain words, not {key!r}")
                continue
            key = str(key)
            if key in result:
                errors.add(path, key_node.start_mark.line + 1, f"duplicate key '{key}'; each key may appear only once")
                continue
            result[key] = _build(value_node, at + (key,), lines, path, errors, loader, seen)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, at + (i,), lines, path, errors, loader, seen) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)
