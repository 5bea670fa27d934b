"""The build cache: a cached build equals a cold one byte for byte, and an edit re-renders
exactly the PDFs whose inputs it changes (counted)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from policygen import api
from policygen.cache import CACHE_DIR, Cache
from policygen.resources import TEMPLATES, package_file


def _files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}


@pytest.fixture
def two(mini: Path) -> Path:
    """The mini project with a second policy, ``other``: 2 policies x 2 locales = 4 PDFs."""
    shutil.copytree(mini / "sources" / "mini", mini / "sources" / "other")
    for po in (mini / "locales").rglob("mini.po*"):
        shutil.copyfile(po, po.with_name(po.name.replace("mini", "other")))
    pot = mini / "locales" / "mini.pot"
    (mini / "locales" / "other.pot").write_bytes(pot.read_bytes().replace(b"sources/mini/", b"sources/other/"))
    return mini


def _build(root: Path, out: Path | None = None, use_cache: bool = True) -> api.BuildResult:
    return api.build(root, output=out, jobs=1, allow_incomplete=True, use_cache=use_cache)


def test_cached_build_equals_cold_build(two: Path, tmp_path: Path) -> None:
    first = _build(two, tmp_path / "a")
    assert len(first.pdfs_rendered) == 4 and first.pdfs_cached == []
    cached = _build(two, tmp_path / "b")
    assert cached.pdfs_rendered == [] and len(cached.pdfs_cached) == 4
    cold = _build(two, tmp_path / "c", use_cache=False)
    assert len(cold.pdfs_rendered) == 4
    assert _files(tmp_path / "a") == _files(tmp_path / "b") == _files(tmp_path / "c")
    assert Cache(two).size() == 4


def test_an_edit_re_renders_only_what_it_touches(two: Path) -> None:
    assert len(_build(two).pdfs_rendered) == 4
    assert _build(two).pdfs_rendered == []  # a no-op rebuild renders nothing
    # One clause of one English policy: that policy's PDFs, in every locale whose text changed
    # (the Dutch translation no longer matches, so the page falls back to English there too).
    prose = two / "sources" / "mini" / "policy.md"
    prose.write_text(prose.read_text(encoding="utf-8").replace("Write to", "Please write to"), encoding="utf-8")
    assert sorted(_build(two).pdfs_rendered) == ["mini/en/mini-en.pdf", "mini/nl/mini-nl.pdf"]
    # A Dutch translation of the other policy: only its Dutch PDF.
    po = two / "locales" / "nl" / "LC_MESSAGES" / "other.po"
    text = po.read_text(encoding="utf-8")
    assert 'msgstr "Schrijf binnen' in text
    po.write_text(text.replace('msgstr "Schrijf binnen', 'msgstr "Schrijf alstublieft binnen', 1), encoding="utf-8")
    assert _build(two).pdfs_rendered == ["other/nl/other-nl.pdf"]
    # A glossary label no page shows: nothing. The Dutch translation of a label both policies
    # show: the Dutch PDFs of both. The English label itself: every PDF that shows it (the Dutch
    # translation no longer matches it, so the Dutch pages fall back to the new English label).
    glossary = two / "glossary.yaml"
    glossary.write_text(glossary.read_text(encoding="utf-8").replace("running the service", "running our service"), encoding="utf-8")
    assert _build(two).pdfs_rendered == []
    labels = two / "locales" / "nl" / "LC_MESSAGES" / "glossary.po"
    labels.write_text(labels.read_text(encoding="utf-8").replace('msgstr "gezondheidsgegevens"', 'msgstr "medische gegevens"'), encoding="utf-8")
    assert sorted(_build(two).pdfs_rendered) == ["mini/nl/mini-nl.pdf", "other/nl/other-nl.pdf"]
    glossary.write_text(glossary.read_text(encoding="utf-8").replace("health data", "data about health"), encoding="utf-8")
    assert len(_build(two).pdfs_rendered) == 4
    # A page template: HTML only, no PDF; the PDF stylesheet: every PDF.
    templates = two / "theme" / "templates"
    templates.mkdir(parents=True)
    (templates / "page.html").write_bytes(package_file(TEMPLATES, "page.html").read_bytes() + b"<!-- themed -->\n")
    assert _build(two).pdfs_rendered == []
    (templates / "pdf.css").write_bytes(package_file(TEMPLATES, "pdf.css").read_bytes() + b"\n/* themed */\n")
    assert len(_build(two).pdfs_rendered) == 4


def test_a_damaged_entry_is_rendered_again(two: Path, tmp_path: Path) -> None:
    _build(two, tmp_path / "a")
    entries = sorted(p for p in (two / CACHE_DIR).glob("*/*"))
    assert len(entries) == 4
    entries[0].write_bytes(entries[0].read_bytes()[:-10])  # torn, as by a crash of another tool
    result = _build(two, tmp_path / "b")
    assert len(result.pdfs_rendered) == 1 and len(result.pdfs_cached) == 3
    assert _files(tmp_path / "a") == _files(tmp_path / "b")


def test_no_cache_from_the_command_line(mini: Path, cli) -> None:
    assert cli("build", "-C", str(mini), "--format", "pdf", "--jobs", "1").exit_code == 0
    result = cli("build", "-C", str(mini), "--format", "pdf", "--jobs", "1")
    assert "0 PDFs rendered, 2 from cache" in result.stdout
    result = cli("build", "-C", str(mini), "--format", "pdf", "--jobs", "1", "--no-cache")
    assert "2 PDFs rendered, 0 from cache" in result.stdout
