"""The build cache: a cached build equals a cold one byte for byte, and an edit re-renders
exactly the outputs whose inputs it changes (counted per kind: PDFs, pages, fragments, archive
pages, feeds, banners, the index)."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from policygen import api
from policygen import build as build_module
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


PAGES = {"html": 4, "html-fragment": 4, "pdf": 4, "site-index": 1}
"""What a build of ``two`` renders: 2 policies x 2 locales, and the index."""


def test_cached_build_equals_cold_build(two: Path, tmp_path: Path) -> None:
    first = _build(two, tmp_path / "a")
    assert len(first.pdfs_rendered) == 4 and first.pdfs_cached == []
    assert first.rendered == PAGES and first.cached == {}
    cached = _build(two, tmp_path / "b")  # another output folder: every output from the cache
    assert cached.pdfs_rendered == [] and len(cached.pdfs_cached) == 4
    assert cached.rendered == {} and cached.cached == PAGES
    cold = _build(two, tmp_path / "c", use_cache=False)
    assert len(cold.pdfs_rendered) == 4 and cold.rendered == PAGES
    assert _files(tmp_path / "a") == _files(tmp_path / "b") == _files(tmp_path / "c")
    # 4 PDFs, 4 (page, fragment) pairs, the index and the record of the last build that used the
    # cache ("b": a full build keeps only what it used; --no-cache neither reads nor writes).
    assert Cache(two).size() == 4 + 4 + 1 + 1


def test_a_no_op_rebuild_loads_nothing(two: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A rebuild whose inputs and output are unchanged is answered from the build's record:
    nothing is loaded; any change to an input, or to the output, makes it a real build."""
    _build(two)
    monkeypatch.setattr(build_module, "prepare", lambda *args, **kwargs: pytest.fail("the no-op rebuild loaded the project"))
    again = _build(two)
    assert again.written == [] and again.rendered == {} and again.cached == PAGES and len(again.pdfs_cached) == 4
    monkeypatch.undo()
    page = two / "output" / "mini" / "nl" / "index.html"
    page.write_bytes(page.read_bytes() + b"<!-- edited by hand -->")
    repaired = _build(two)
    assert repaired.written == ["mini/nl/index.html"] and repaired.rendered == {}
    (two / "sources" / "mini" / "notes.txt").write_text("not read by the build, but in the policy's folder\n", encoding="utf-8")
    assert _build(two).rendered == {"html": 2, "html-fragment": 2}


def test_the_sample_with_its_archive_cached_equals_cold(sample: Path, tmp_path: Path) -> None:
    """Archive pages, archived copies, feeds, banners and redlines come from the cache too,
    byte for byte; one Dutch translation re-renders that locale's outputs only."""
    def run(out: str, use_cache: bool = True) -> api.BuildResult:
        return api.build(sample, output=tmp_path / out, formats=["html"], allow_incomplete=True, use_cache=use_cache, today=date(2026, 6, 1))

    first = run("a")
    assert first.cached == {} and {"archive-page", "feed", "archived-html", "archived-pdf", "redline"} <= set(first.rendered)
    cached = run("b")
    assert cached.rendered == {} and cached.cached == first.rendered
    assert _files(tmp_path / "a") == _files(tmp_path / "b") == _files(tmp_path / "c" if run("c", use_cache=False) else tmp_path)
    po = sample / "locales" / "nl" / "LC_MESSAGES" / "tonle-privacy.po"
    text = po.read_text(encoding="utf-8")
    edited = text.replace('msgstr "', 'msgstr "Let op: ', 1)
    assert edited != text
    po.write_text(edited, encoding="utf-8")
    after = run("a")
    assert {(o["locale"], o["policy"]) for o in after.outputs if o["path"] in after.written} <= {("nl", "tonle-privacy")}
    assert sum(after.rendered.values()) < sum(first.rendered.values()) / 2
    assert _files(tmp_path / "a") == _files(tmp_path / "d" if run("d", use_cache=False) else tmp_path)


def test_an_edit_re_renders_only_what_it_touches(two: Path) -> None:
    assert len(_build(two).pdfs_rendered) == 4
    assert _build(two).pdfs_rendered == []  # a no-op rebuild renders nothing
    # One clause of one English policy: that policy's PDFs, in every locale whose text changed
    # (the Dutch translation no longer matches, so the page falls back to English there too).
    prose = two / "sources" / "mini" / "policy.md"
    prose.write_text(prose.read_text(encoding="utf-8").replace("Write to", "Please write to"), encoding="utf-8")
    edited = _build(two)
    assert sorted(edited.pdfs_rendered) == ["mini/en/mini-en.pdf", "mini/nl/mini-nl.pdf"]
    assert edited.rendered == {"html": 2, "html-fragment": 2, "pdf": 2}  # the index shows titles only: unchanged
    # A Dutch translation of the other policy: only its Dutch PDF.
    po = two / "locales" / "nl" / "LC_MESSAGES" / "other.po"
    text = po.read_text(encoding="utf-8")
    assert 'msgstr "Schrijf binnen' in text
    po.write_text(text.replace('msgstr "Schrijf binnen', 'msgstr "Schrijf alstublieft binnen', 1), encoding="utf-8")
    edited = _build(two)
    assert edited.pdfs_rendered == ["other/nl/other-nl.pdf"]
    assert edited.rendered == {"html": 1, "html-fragment": 1, "pdf": 1}
    # A glossary label no page shows: nothing. The Dutch translation of a label both policies
    # show: the Dutch PDFs of both. The English label itself: every PDF that shows it (the Dutch
    # translation no longer matches it, so the Dutch pages fall back to the new English label).
    glossary = two / "glossary.yaml"
    glossary.write_text(glossary.read_text(encoding="utf-8").replace("running the service", "running our service"), encoding="utf-8")
    edited = _build(two)
    assert edited.pdfs_rendered == []
    # The pages are keyed by the labels of the facts a policy has (both have this purpose), the
    # PDFs by the text they show: the pages render again, to the same bytes; no PDF does.
    assert edited.rendered == {"html": 4, "html-fragment": 4}
    labels = two / "locales" / "nl" / "LC_MESSAGES" / "glossary.po"
    labels.write_text(labels.read_text(encoding="utf-8").replace('msgstr "gezondheidsgegevens"', 'msgstr "medische gegevens"'), encoding="utf-8")
    edited = _build(two)
    assert sorted(edited.pdfs_rendered) == ["mini/nl/mini-nl.pdf", "other/nl/other-nl.pdf"]
    assert edited.rendered == {"html": 2, "html-fragment": 2, "pdf": 2}
    glossary.write_text(glossary.read_text(encoding="utf-8").replace("health data", "data about health"), encoding="utf-8")
    assert _build(two).rendered == {"html": 4, "html-fragment": 4, "pdf": 4}
    # A page template: the pages, no PDF, not the index; the PDF stylesheet: every PDF (whose
    # bytes, and so the pages that give their size, stay the same).
    templates = two / "theme" / "templates"
    templates.mkdir(parents=True)
    (templates / "page.html").write_bytes(package_file(TEMPLATES, "page.html").read_bytes() + b"<!-- themed -->\n")
    # (The page and its fragment are one render: both count, the fragment's bytes stay.)
    assert _build(two).rendered == {"html": 4, "html-fragment": 4}
    (templates / "pdf.css").write_bytes(package_file(TEMPLATES, "pdf.css").read_bytes() + b"\n/* themed */\n")
    assert _build(two).rendered == {"pdf": 4}


def test_a_damaged_entry_is_rendered_again(two: Path, tmp_path: Path) -> None:
    _build(two, tmp_path / "a")
    entries = sorted(p for p in (two / CACHE_DIR).glob("*/*"))
    pdfs = [p for p in entries if p.read_bytes()[32:37] == b"%PDF-"]
    pages = [p for p in entries if b'"page"' in p.read_bytes()[:300]]
    assert len(pdfs) == 4 and len(pages) == 4
    for entry in pdfs[0], pages[0]:
        entry.write_bytes(entry.read_bytes()[:-10])  # torn, as by a crash of another tool
    result = _build(two, tmp_path / "b")
    assert len(result.pdfs_rendered) == 1 and len(result.pdfs_cached) == 3
    assert result.rendered == {"html": 1, "html-fragment": 1, "pdf": 1}
    assert _files(tmp_path / "a") == _files(tmp_path / "b")


def test_no_cache_from_the_command_line(mini: Path, cli) -> None:
    assert cli("build", "-C", str(mini), "--format", "pdf", "--jobs", "1").exit_code == 0
    result = cli("build", "-C", str(mini), "--format", "pdf", "--jobs", "1")
    assert "0 PDFs rendered, 2 from cache" in result.stdout
    result = cli("build", "-C", str(mini), "--format", "pdf", "--jobs", "1", "--no-cache")
    assert "2 PDFs rendered, 0 from cache" in result.stdout
