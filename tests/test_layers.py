"""The package's layers: no stage reaches back into a later one.

Walks every module's imports (ast, not import-time tracing, so a lazy import inside a function
is seen too) and fails on

* an import of a policygen module from a higher layer;
* an import from another package of the same layer that is not listed below with its reason;
* a policygen import inside a function (a hidden cycle), except the CLI's lazy import of
  :mod:`policygen.api`, which keeps ``policygen --help`` fast, and the API's lazy imports of the
  stages each command wires, which keep every command from loading the others' stages (issue 13).
  Both sit at the top of the package: nothing imports the CLI, and only the CLI imports the API,
  so a lazy import there cannot hide a cycle.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "policygen"

LAYERS: list[tuple[str, ...]] = [
    # policygen.cache: the build cache, a store of bytes by key written through atomic (issue 13).
    # policygen.records: the key of a whole-project run and the record of the last check that passed,
    # which answers an unchanged check before any stage is imported (issue 13).
    ("policygen", "policygen.errors", "policygen.model", "policygen.resources", "policygen.atomic", "policygen.cache", "policygen.memory",
     "policygen.records"),
    # archive.sign (release signatures) sits with archive.store: verify checks signatures, and
    # the release workflow (layer 5) signs.
    ("policygen.source", "policygen.archive.store", "policygen.archive.sign"),
    ("policygen.i18n",),
    ("policygen.changes",),
    ("policygen.render",),
    # policygen.serve: the live preview, which rebuilds through policygen.build (issue 13).
    ("policygen.build", "policygen.archive.release", "policygen.archive", "policygen.importers", "policygen.scaffold", "policygen.serve"),
    ("policygen.api",),
    ("policygen.cli",),
    ("policygen.__main__",),
]
"""Lowest first. A module belongs to the group (and layer) of the longest prefix that names it.
The modules of layer 0 (the errors, the model, package data, atomic writes, the collector pause) form one group."""

SAME_LAYER = {
    # (importer's group, imported group): why the two may meet in one layer
    ("policygen.serve", "policygen.build"),  # the preview rebuilds the site on every save
    ("policygen.archive.store", "policygen.archive.sign"),  # verify checks each release's signature
}
"""Imports across groups of one layer, each with its reason."""

LAZY_TOP = {"policygen.cli": 7, "policygen.api": 6}
"""Modules allowed to import inside a function, and the layer they sit at: the CLI loads the API on
first use, the API loads the stages of the command it runs. Only modules at the top may (above
them there is nothing to close a cycle through)."""


def lazy_allowed(name: str, target: str) -> bool:
    """Whether ``name`` may import ``target`` inside a function: the CLI only the API, the API any lower layer."""
    if name == "policygen.cli":
        return target == "policygen.api"
    return name == "policygen.api" and group(target)[0] < LAZY_TOP[name]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def group(name: str) -> tuple[int, str]:
    """(layer, the group's prefix) of a module name."""
    best: tuple[int, str] = (-1, "")
    for level, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > len(best[1]):
                best = (level, prefix)
    assert best[0] >= 0, f"{name} is in no layer; add it to LAYERS in tests/test_layers.py"
    return best


def imports(tree: ast.Module, name: str, is_package: bool) -> list[tuple[str, int, bool]]:
    """(imported policygen module, line, inside a function) for every import in a module."""
    found = []
    functions = [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    nested = {id(inner) for fn in functions for inner in ast.walk(fn) if inner is not fn}
    nested |= {id(fn) for fn in functions}
    type_checking = {id(inner) for node in ast.walk(tree) if isinstance(node, ast.If)
                     and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING" for inner in ast.walk(node)}
    for node in ast.walk(tree):
        if id(node) in type_checking:
            continue
        in_function = id(node) in nested
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno, in_function) for alias in node.names if alias.name.split(".")[0] == "policygen"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module.split(".")[0] != "policygen":
                continue
            # "from policygen.archive import store" imports the module policygen.archive.store.
            targets = [f"{module}.{alias.name}" if (PACKAGE.parent / f"{module}.{alias.name}".replace(".", "/")).with_suffix(".py").exists()
                       or (PACKAGE.parent / f"{module}.{alias.name}".replace(".", "/")).is_dir() else module for alias in node.names]
            found += [(target, node.lineno, in_function) for target in targets]
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[module_name(p) for p in MODULES])
def test_no_upward_or_hidden_import(path: Path) -> None:
    name = module_name(path)
    level, prefix = group(name)
    problems = []
    for target, line, in_function in imports(ast.parse(path.read_text(encoding="utf-8")), name, path.name == "__init__.py"):
        where = f"{path.relative_to(PACKAGE.parent)}:{line}"
        if in_function and not lazy_allowed(name, target):
            problems.append(f"{where}: imports {target} inside a function (a hidden dependency); import it at the top")
        target_level, target_prefix = group(target)
        if target_level > level:
            problems.append(f"{where}: {name} (layer {level}) imports {target} (layer {target_level}): a stage reaches back")
        elif target_level == level and target_prefix != prefix and level > 0 and (prefix, target_prefix) not in SAME_LAYER:
            problems.append(f"{where}: {name} imports {target} from another group of its layer; list it in SAME_LAYER with a reason")
    assert not problems, "\n".join(problems)


def test_every_module_is_in_a_layer() -> None:
    for path in MODULES:
        group(module_name(path))


def test_the_walker_sees_what_it_must() -> None:
    """The test above can fail: an upward import, a lazy one and a relative one are all found."""
    source = "from policygen.api import build\n\ndef f():\n    from policygen.build import build\n\nfrom ..render import html\n"
    found = imports(ast.parse(source), "policygen.source.load", False)
    assert ("policygen.api", 1, False) in found
    assert ("policygen.build", 4, True) in found
    assert ("policygen.render.html", 6, False) in found
    assert group("policygen.api")[0] > group("policygen.source.load")[0]


def test_only_the_top_imports_lazily() -> None:
    """The two allowances are as narrow as their reason: the CLI may load only the API, the API
    any stage below it, and no other module anything; the top of the layers is where LAZY_TOP says."""
    assert lazy_allowed("policygen.cli", "policygen.api") and not lazy_allowed("policygen.cli", "policygen.build")
    assert lazy_allowed("policygen.api", "policygen.build") and lazy_allowed("policygen.api", "policygen.model")
    assert not lazy_allowed("policygen.api", "policygen.cli")
    assert not lazy_allowed("policygen.build", "policygen.render.pdf")
    assert not lazy_allowed("policygen.serve", "policygen.build")
    assert all(group(name)[0] == level for name, level in LAZY_TOP.items())
    assert max(group(module_name(path))[0] for path in MODULES if module_name(path) != "policygen.__main__") == LAZY_TOP["policygen.cli"]


ROLE_REFERENCE = re.compile(r":(?:mod|class|func|meth|attr|data|exc):`~?(policygen(?:\.\w+)+)`")
"""A Sphinx-style cross-reference to a policygen name in a docstring or a doc page."""


def unresolved(text: str) -> list[str]:
    """The policygen names ``text`` refers to that no module defines (a module moved, a name renamed)."""
    missing = []
    for match in ROLE_REFERENCE.finditer(text):
        parts = match.group(1).split(".")
        for split in range(len(parts), 0, -1):
            try:
                found: object = importlib.import_module(".".join(parts[:split]))
            except ImportError:
                continue
            for attribute in parts[split:]:
                found = getattr(found, attribute, None)
            if found is None:
                missing.append(match.group(1))
            break
    return missing


@pytest.mark.parametrize("path", [*MODULES, *sorted((PACKAGE.parent / "docs").glob("*.md"))],
                         ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_cross_references_name_what_exists(path: Path) -> None:
    """A newcomer who follows ``:class:`~policygen...``` from a docstring or a doc page finds the name."""
    lines = path.read_text(encoding="utf-8").splitlines()
    problems = [f"{path.relative_to(PACKAGE.parent)}:{number}: {name} does not exist; name the module it moved to"
                for number, line in enumerate(lines, 1) for name in unresolved(line)]
    assert not problems, "\n".join(problems)


def test_a_moved_name_is_seen() -> None:
    """The test above can fail: the first release's flat module names do not resolve."""
    assert unresolved(":class:`~policygen.localize.LocalizedPolicy` and :mod:`policygen.pdf_text`") == [
        "policygen.localize.LocalizedPolicy", "policygen.pdf_text"]
    assert unresolved(":class:`~policygen.i18n.localize.LocalizedPolicy`") == []


def placeholder_patterns(tree: ast.Module) -> list[int]:
    """Lines of string constants that spell a placeholder's braces as a regular expression."""
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and re.search(r"\\\{\s*\\\{", node.value)]


def test_one_placeholder_pattern() -> None:
    """``{{ ... }}`` is matched by :data:`policygen.model.PLACEHOLDER_RE` alone: a second
    pattern would let two stages disagree on what a placeholder is (issue 10)."""
    found = {module_name(path): placeholder_patterns(ast.parse(path.read_text(encoding="utf-8"))) for path in MODULES}
    assert found.pop("policygen.model") == [next(n.lineno for n in ast.walk(ast.parse((PACKAGE / "model.py").read_text(encoding="utf-8")))
                                              if isinstance(n, ast.Constant) and isinstance(n.value, str) and "\\{\\{" in n.value)]
    assert {name: lines for name, lines in found.items() if lines} == {}
    assert placeholder_patterns(ast.parse('X = re.compile(r"(?P<ph>\\{\\{\\s*[^{}]+\\}\\})")')) == [1]  # the walker sees one
