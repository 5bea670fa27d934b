"""Property-based fuzzing: whatever a source file holds, policygen answers with ``path:line``
diagnostics (a :class:`~policygen.errors.PolicygenError`), never another exception.

Three targets, each with a fixed seed (``derandomize``) and a bounded budget, so CI runs the
same examples every time and the whole file takes a few seconds on one core:

* the YAML loader (:func:`policygen.source.files.read_yaml`), on YAML-like text and raw bytes;
* the Markdown prose parser (:func:`policygen.source.prose.parse_prose`);
* a whole project whose ``policy.yaml`` and ``policy.md`` are mutations of a valid pair,
  loaded, localized and rendered (``check`` with incomplete translations allowed), so the
  examples get past the first error and reach the later stages.

The PO, XLIFF and importer readers have fuzz tests of their own, next to their other tests.
A longer run, to look for new failures: ``POLICYGEN_FUZZ_EXAMPLES=20000 pytest tests/test_fuzz.py``
(still derandomized: the same examples each time, more of them).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import MINI, copy_project
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from policygen.build import check
from policygen.errors import Collector, Diagnostic, PolicygenError
from policygen.source.files import read_yaml
from policygen.source.prose import parse_prose

EXAMPLES = int(os.environ.get("POLICYGEN_FUZZ_EXAMPLES", "0")) or None


def budget(examples: int) -> settings:
    """A fixed, seeded budget (``POLICYGEN_FUZZ_EXAMPLES`` overrides the number of examples)."""
    return settings(max_examples=EXAMPLES or examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])


YAML_PIECES = [
    "- ", ": ", "? ", "[", "]", "{", "}", ", ", "&a ", "*a", "!!int ", "!!float ", "!!binary ", "!!timestamp ", "!!set ", "!!omap ",
    "!!python/object:os.system ", "!<tag:x> ", "|", ">-", "'", '"', "\\", "\\x00", "\\u2028", "\n", "  ", "    ", "\t", "#", "<<: ", "---\n",
    "...\n", "%YAML 1.1\n", "%TAG ! tag:x\n", "\x00", "\x1b", "\ufeff", "\u2028", "\ufffe", "1e999", "-.inf", ".nan", "0x1F", "0o17", "1_000",
    "9" * 5000, "~", "null", "yes", "no", "2026-13-01", "2026-05-05", "id", "version", "locales", "data_categories", "é", "а", "\u200b",
    "key", "value",
]
PROSE_PIECES = [
    "# ", "## ", "### ", "###### ", "{#", "}", "{#a}", "{#about}", "{#con}", "{#x\u200b}", "{{", "}}", "{{data.*}}", "{{data.health}}",
    "{{ data. }}", "{{controller.name}}", "{{nope.x}}", "[", "](", ")", "](#about)", "](javascript:x)", "](http://x)", "<a>", "<script>",
    "![", "- ", "* ", "1. ", "1) ", "| a | b |\n|---|---|\n", "|", "---", "***", "> ", ">> ", "```", "~~~", "    ", ": ", "Term\n: ", "*",
    "**", "_", "`", "\\", "&amp;", "&#0;", "&#x110000;", "\n", "\n\n", "\r\n", "\u2028", "\x00", "\t", "text", "word ", "é", "ក្រុម",
    "<!--", "-->", "<![CDATA[", "[a]: http://x\n", "[a]",
]


def _pieces(pieces: list[str]) -> st.SearchStrategy[str]:
    return st.lists(st.one_of(st.sampled_from(pieces), st.text(max_size=6)), max_size=40).map("".join)


def _assert_diagnostics(errors: Collector) -> None:
    for diagnostic in errors.items:
        assert isinstance(diagnostic, Diagnostic)
        assert diagnostic.line >= 0
        assert "\n" not in diagnostic.message, f"a message that breaks the path:line format: {diagnostic.message!r}"


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@budget(400)
@given(text=st.one_of(_pieces(YAML_PIECES), st.text(max_size=200)))
def test_yaml_loader_text(scratch: Path, text: str) -> None:
    path = scratch / "fuzz.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    errors = Collector()
    loaded = read_yaml(path, errors)
    assert loaded is not None or errors
    _assert_diagnostics(errors)


@budget(150)
@given(data=st.binary(max_size=200))
def test_yaml_loader_bytes(scratch: Path, data: bytes) -> None:
    path = scratch / "fuzz-bytes.yaml"
    path.write_bytes(data)
    errors = Collector()
    loaded = read_yaml(path, errors)
    assert loaded is not None or errors
    _assert_diagnostics(errors)


@budget(400)
@given(text=st.one_of(_pieces(PROSE_PIECES), st.text(max_size=200)))
@example(text="# T\n\n{#| a | b |\n|---|---|\nabout-list}\n- x\n")  # found by this test: a stray ID over three lines, quoted on one
def test_prose_parser(text: str) -> None:
    errors = Collector()
    known = {"data.*", "data.health", "controller.name"}
    document = parse_prose(Path("policy.md"), text, lambda name: None if name in known else f"unknown fact '{name}'", errors)
    assert document is not None or errors
    _assert_diagnostics(errors)


FACTS = (MINI / "sources" / "mini" / "policy.yaml").read_text(encoding="utf-8")
PROSE = (MINI / "sources" / "mini" / "policy.md").read_text(encoding="utf-8")


@st.composite
def mutated(draw: st.DrawFn, text: str, pieces: list[str]) -> str:
    """``text`` with a few edits: pieces inserted, spans deleted, lines duplicated or swapped."""
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(text)))
        edit = draw(st.sampled_from(["insert", "delete", "duplicate", "replace"]))
        if edit == "insert":
            text = text[:at] + draw(st.sampled_from(pieces)) + text[at:]
        elif edit == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 40)):]
        elif edit == "duplicate":
            lines = text.splitlines(keepends=True) or [""]
            i = draw(st.integers(0, len(lines) - 1))
            lines.insert(i, lines[i])
            text = "".join(lines)
        else:
            text = text[:at] + draw(st.text(max_size=5)) + text[at + draw(st.integers(0, 5)):]
    return text


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_project(MINI, tmp_path_factory.mktemp("fuzz-project") / "mini")


@budget(120)
@given(facts=mutated(FACTS, YAML_PIECES), prose=mutated(PROSE, PROSE_PIECES))
def test_whole_project(project: Path, facts: str, prose: str) -> None:
    folder = project / "sources" / "mini"
    (folder / "policy.yaml").write_text(facts, encoding="utf-8", errors="surrogatepass")
    (folder / "policy.md").write_text(prose, encoding="utf-8", errors="surrogatepass")
    shutil.rmtree(project / "output", ignore_errors=True)
    try:
        check(project, allow_incomplete=True)
    except PolicygenError as exc:
        for diagnostic in exc.diagnostics():
            assert "\n" not in diagnostic.message, f"a message that breaks the path:line format: {diagnostic.message!r}"
