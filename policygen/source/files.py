"""Reading source files: containment, UTF-8, and YAML with a line for every value.

Every file a build reads from a project goes through :func:`inside` first: a symlink that
leads out of the project is refused, so building never publishes a file from elsewhere.

YAML is read while remembering the line of every value, so errors can say ``file:line``.

Limits, so that no file, however written, can exhaust the machine or end in a traceback:

* a source file (YAML or Markdown) is at most :data:`MAX_SOURCE_BYTES` (4 MB); a policy is a few
  tens of kilobytes;
* YAML collections nest at most :data:`MAX_NESTING` (32) levels deep; a policy needs four;
* YAML anchors, aliases and merge keys are refused (no "billion laughs").

PyYAML's composer keeps a start mark on every node. We build plain Python data from the node
tree ourselves, recording each value's line by its path (``("purposes", 0, "data")``), and
report duplicate keys, which PyYAML would otherwise silently collapse to the last one.

The events come from libyaml when PyYAML has it (scanning and parsing in C were two thirds of
loading a project); the composer stays PyYAML's own, in Python, with the nesting limit. A file
libyaml refuses is read again by the pure-Python parser, so every problem is reported in its
words, at its line, whichever parser is installed.
"""

from __future__ import annotations

import re
import stat
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policygen.errors import Collector

if TYPE_CHECKING:
    import yaml

LinePath = tuple[str | int, ...]


MAX_SOURCE_BYTES = 4 * 1024 * 1024
"""The largest source file policygen reads."""
MAX_NESTING = 32
"""How deep YAML collections may nest. PyYAML composes nested collections by recursion, so
without a limit ``[[[[...]]]]`` 100,000 deep would exhaust Python's stack."""


class _Limits:
    """Refuses collections nested deeper than :data:`MAX_NESTING` while composing."""

    _depth = 0

    def _enter(self) -> None:
        self._depth += 1
        if self._depth > MAX_NESTING:
            import yaml

            mark = self.peek_event().start_mark
            raise yaml.composer.ComposerError(None, None, f"collections nested more than {MAX_NESTING} levels deep; policygen's files need a few", mark)

    def compose_sequence_node(self, anchor: Any) -> Any:
        self._enter()
        try:
            return super().compose_sequence_node(anchor)  # type: ignore[misc]
        finally:
            self._depth -= 1

    def compose_mapping_node(self, anchor: Any) -> Any:
        self._enter()
        try:
            return super().compose_mapping_node(anchor)  # type: ignore[misc]
        finally:
            self._depth -= 1

    peek_event: Any


@cache
def _loaders() -> tuple[Any, Any]:
    """(the pure-Python loader, the libyaml one or None), made on the first read: PyYAML is not
    imported by a command that reads no YAML (a check answered from its record, ``--help``).

    Both keep dates as strings (the JSON Schema validates them, not YAML) and refuse
    collections nested deeper than :data:`MAX_NESTING`; the libyaml one scans and parses in C
    (its composer and constructors are PyYAML's)."""
    import yaml

    resolvers = {
        key: [(tag, regexp) for tag, regexp in found if tag != "tag:yaml.org,2002:timestamp"]
        for key, found in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
    }

    class _Loader(_Limits, yaml.SafeLoader):
        yaml_implicit_resolvers = resolvers

    c_parser: Any = getattr(getattr(yaml, "_yaml", None), "CParser", None)
    if c_parser is None:
        return _Loader, None

    class _FastLoader(_Limits, yaml.composer.Composer, c_parser, yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
        yaml_implicit_resolvers = resolvers

        def __init__(self, stream: str) -> None:
            c_parser.__init__(self, stream)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)

    return _Loader, _FastLoader


def _fast_node(text: str) -> tuple[Any, Any] | None:
    """(loader, node) through libyaml, or None: without libyaml, for text with a character YAML
    refuses, or when libyaml finds a problem (the pure-Python parser then names it)."""
    import yaml

    fast = _loaders()[1]
    if fast is None or yaml.reader.Reader.NON_PRINTABLE.search(text):
        return None
    loader = fast(text)
    try:
        return loader, loader.get_single_node()
    except yaml.YAMLError:
        loader.dispose()
        return None


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


CONTROL_CHARACTERS = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
"""Control characters no page (HTML) and no XLIFF file (XML) can hold; tabs and line ends are
text. Word writes U+000B for a line break typed with Shift+Enter, and it comes along when its
text is pasted into a policy or a translation. U+FFFE and U+FFFF are not characters at all
(XML refuses them: an export to XLIFF would fail). (NUL is not here: the Markdown reader
replaces it, and the YAML and PO readers refuse it.)"""


def holds_control(found: re.Match[str]) -> str:
    """The words of every message about a control character :data:`CONTROL_CHARACTERS` found."""
    code = ord(found.group())
    if code >= 0xFFFE:
        return f"holds U+{code:04X}, which is not a character (a broken copy or conversion?) and which no page or XLIFF file can hold"
    return (f"holds the control character U+{code:04X} (a line break pasted from a word processor?), "
            "which no page or XLIFF file can hold")


def control_characters(path: Path, text: str, errors: Collector) -> None:
    """Report each line of ``text`` (read from ``path``) that holds a control character."""
    for found in CONTROL_CHARACTERS.finditer(text):
        line = text.count("\n", 0, found.start()) + 1
        errors.add(path, line, f"this line {holds_control(found)}; replace it with a space")


NOT_A_FILE = "not a regular file (a named pipe or a device?); policygen reads only files: put the file itself here"


def not_a_file(path: Path) -> bool:
    """True when ``path`` is there but is neither a regular file nor a folder: reading a named
    pipe nobody writes to blocks forever, and a device may never end."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False  # the read reports it
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def read_source(path: Path, errors: Collector) -> str | None:
    """Read a UTF-8 source file; a byte-order mark is tolerated, as Windows editors write one."""
    if not_a_file(path):
        errors.add(path, 0, NOT_A_FILE)
        return None
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_SOURCE_BYTES + 1)
        if len(data) > MAX_SOURCE_BYTES:
            errors.add(path, 0, f"larger than {MAX_SOURCE_BYTES // (1024 * 1024)} MB, the most policygen reads from one source file; split it or remove "
                       "what does not belong in it")
            return None
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        errors.add(path, line, f"not valid UTF-8 ({exc.reason} at byte {exc.start}); save the file as UTF-8")
    except OSError as exc:
        errors.add(path, 0, f"cannot read file: {exc.strerror}")
    return None


def read_yaml(path: Path, errors: Collector) -> tuple[Any, LineMap] | None:
    """Parse ``path``. Problems go to ``errors``; returns None when the file cannot be used."""
    import yaml

    text = read_source(path, errors)
    if text is None:
        return None
    fast = _fast_node(text)
    if fast is not None:
        return _data(*fast, path, errors)
    try:
        loader = _loaders()[0](text)
    except yaml.reader.ReaderError as exc:
        # The reader refuses control characters (a NUL byte, ESC) before parsing anything.
        line = text[: exc.position].count("\n") + 1
        code = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
        what = "a NUL byte" if code == 0 else "a control character" if code < 0x20 or 0x7F <= code <= 0x9F else "the character"
        what = f"{what} U+{code:04X}" if what == "the character" else f"{what} (U+{code:04X})"
        errors.add(path, line, f"contains {what}, which YAML does not allow; remove it (was the file saved as text?)")
        return None
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
    return _data(loader, node, path, errors)


def _data(loader: Any, node: yaml.Node | None, path: Path, errors: Collector) -> tuple[Any, LineMap] | None:
    """The plain data of a composed document, with the line of every value."""
    import yaml

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
    except _BadValue as exc:
        errors.add(path, exc.line, f"malformed YAML: {exc.message}")
        return None
    finally:
        loader.dispose()
    return data, LineMap(lines)


class _BadValue(Exception):
    """A value PyYAML parsed but cannot construct (``!!int x``, ``!!timestamp 2026-13-01``, a number of 5,000 digits)."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line, self.message = line, message


def _construct(loader: Any, node: Any) -> Any:
    try:
        value = loader.construct_object(node, deep=True)
    except (ValueError, TypeError, OverflowError, KeyError, AttributeError, IndexError) as exc:
        # PyYAML's constructors call int(), float(), date() and base64 on the text as written.
        text = node.value if node.id == "scalar" else ""
        shown = repr(text[:40] + ("…" if len(text) > 40 else "")) if text else "this value"
        reason = str(exc).split(";")[0][:120]
        raise _BadValue(node.start_mark.line + 1, f"cannot read {shown} as {node.tag.rsplit(':', 1)[-1]} ({reason})") from None
    if node.id == "scalar" and type(value) not in (str, int, float, bool, type(None)):
        # Explicit tags such as !!binary or !!timestamp make bytes and dates; sources hold text and numbers.
        raise _BadValue(node.start_mark.line + 1, f"the tag {node.tag.replace('tag:yaml.org,2002:', '!!')} is not supported; write the value as plain text")
    if type(value) is str:
        # The reader refuses these characters in the file, but a double-quoted string makes them
        # from escapes ("\x01", "\0", "\uffff", "\ud800"): a page, a catalog or an XLIFF file
        # could not hold them (a lone surrogate cannot even be written as UTF-8).
        import yaml

        found = yaml.reader.Reader.NON_PRINTABLE.search(value)
        if found is not None:
            raise _BadValue(node.start_mark.line + 1, f"an escape in this value makes the character U+{ord(found.group()):04X}, which is "
                            "not text (a control character, a lone surrogate or a non-character); remove it")
    return value


def _build(node: Any, at: LinePath, lines: dict[LinePath, int], path: Path, errors: Collector, loader: Any, seen: set[int]) -> Any:
    lines[at] = node.start_mark.line + 1
    # Node kinds by their ``id`` ("scalar", "sequence", "mapping"), as PyYAML names them.
    if node.id != "scalar":
        # The composer turns an alias into the same node object. Sources have no use for
        # aliases, and following them allows self-reference and exponential "billion laughs"
        # expansion, so a node met twice is an error.
        if id(node) in seen:
            errors.add(path, node.start_mark.line + 1, "YAML anchors and aliases (&name, *name) are not supported; write the values out")
            return None
        seen.add(id(node))
    if node.id == "mapping":
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                errors.add(path, key_node.start_mark.line + 1, "YAML merge keys ('<<') are not supported; write the values out")
                continue
            key = _construct(loader, key_node)
            if not isinstance(key, (str, int)):
                errors.add(path, key_node.start_mark.line + 1, f"mapping keys must be plain words, not {key!r}")
                continue
            key = str(key)
            if key in result:
                errors.add(path, key_node.start_mark.line + 1, f"duplicate key '{key}'; each key may appear only once")
                continue
            result[key] = _build(value_node, at + (key,), lines, path, errors, loader, seen)
        return result
    if node.id == "sequence":
        return [_build(item, at + (i,), lines, path, errors, loader, seen) for i, item in enumerate(node.value)]
    return _construct(loader, node)
