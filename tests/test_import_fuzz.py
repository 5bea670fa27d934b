"""The importer under fuzzing: any text, HTML or Markdown either imports into a skeleton that
``policygen check`` accepts, or is refused with a PolicygenError; nothing else escapes. Seeded
and bounded (a few seconds), so it runs in every test run."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from policygen.errors import Collector, PolicygenError
from policygen.importers.project import convert
from policygen.source.prose import parse_prose

REFUSALS = ("the file is empty", "no text found", "binary file", "not text, HTML or Markdown", "not valid UTF-8", "cannot read this HTML")
"""The reasons an import may refuse a file. Anything else (such as a skeleton that fails its
own check) is a bug."""

MARKDOWN_PIECES = ["# ", "## ", "### ", "- ", "* ", "1. ", "   - ", "> ", "```\n", "    ", "![a](b.png)", "[x](#y)", "[x](javascript:z)",
                   "[t](https://e.org/a b)", "**", "*", "_", "`", "{{", "}}", "{#id}", "{#", "|", " | ", "---", "\n", "\n\n", "<b>", "</b>",
                   "<div>", "<!--", "-->", "&amp;", "&#123;", "\\", "Last updated: 5 May 2026", "privacy@x.org", "+31 20 123 4567",
                   "Acme Ltd (\"we\")", "Term\n: definition", "===\n", "\u2028", "\x0b", "\ufeff"]
HTML_PIECES = ["<html>", "<body>", "<h1>", "</h1>", "<h2>", "<p>", "</p>", "<ul>", "<ol>", "<li>", "</li>", "</ul>", "<a href='#x'>",
               "<a href='mailto:a@b.org'>", "</a>", "<b>", "</b>", "<strong>", "<script>", "</script>", "<![", "<!--", "-->", "<!DOCTYPE html>",
               "<br>", "<img src=x>", "<table><tr><td>", "</td></tr></table>", "&lt;", "&#0;", "&#x110000;", "<a ", "<", ">", "{{", "\n",
               "<nav>", "</nav>", "<pre>", "<![CDATA[", "]]>", "<?php", "?>"]
TEXT_PIECES = ["Privacy\n", "\n\n", "1. ", "(1) ", "1、", "- ", "• ", "Part one: ", "Deel 2 ", "   ", "we collect:\n", "5 years", "{{", "#",
               "Effective date: 1 May 2026", "under 13 years old", "privacy@x.org", "www.x.org", "~~~", "`", "*", "\u00a0", "\t"]


def _document(pieces: list[str]) -> st.SearchStrategy[str]:
    return st.lists(st.one_of(st.sampled_from(pieces), st.text(max_size=10)), max_size=40).map("".join)


def _import(tmp_path: Path, name: str, content: str | bytes) -> None:
    source = tmp_path / name
    if isinstance(content, str):
        source.write_text(content, encoding="utf-8", errors="surrogatepass")
    else:
        source.write_bytes(content)
    try:
        converted = convert(source, "fuzz", "en", date(2026, 1, 1))
    except PolicygenError as exc:
        assert any(reason in str(exc) for reason in REFUSALS), f"unexpected refusal: {exc}"
        return
    errors = Collector()
    parse_prose(Path("policy.md"), converted.markdown, lambda name: "no placeholders", errors)
    assert not errors, errors.items


FUZZ = settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
                database=None)


@seed(20261201)
@FUZZ
@given(_document(MARKDOWN_PIECES))
def test_fuzz_markdown(tmp_path: Path, text: str) -> None:
    _import(tmp_path, "fuzz.md", text.encode("utf-8", "replace"))


@seed(20261202)
@FUZZ
@given(_document(HTML_PIECES))
def test_fuzz_html(tmp_path: Path, text: str) -> None:
    _import(tmp_path, "fuzz.html", text.encode("utf-8", "replace"))


@seed(20261203)
@FUZZ
@given(st.one_of(_document(TEXT_PIECES).map(lambda t: t.encode("utf-8", "replace")), st.binary(max_size=300)))
def test_fuzz_text(tmp_path: Path, raw: bytes) -> None:
    _import(tmp_path, "fuzz.txt", raw)


@pytest.mark.parametrize("name", ["a.md", "a.html", "a.txt"])
def test_fuzz_refusals_are_real(tmp_path: Path, name: str) -> None:
    """The refusal list is not a blanket: an empty file is refused, a sentence is not."""
    with pytest.raises(PolicygenError, match="the file is empty"):
        convert(_write(tmp_path / name, "  \n"), "x", "en", date(2026, 1, 1))
    assert convert(_write(tmp_path / name, "<p>We keep your name.</p>" if name.endswith("html") else "We keep your name.\n"), "x", "en",
                   date(2026, 1, 1)).markdown


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
