"""The build cache: a cached build equals a cold one byte for byte, and an edit re-renders
exactly the outputs whose inputs it changes (counted per kind: PDFs, pages, fragments, archive
pages, feeds, banners, the index)."""

from __future__ import annotations

import json
import os
import shutil
import struct
import zlib
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import MINI, SAMPLE, build_once, copy_project, private_copy

from policygen import api
from policygen import build as build_module
from policygen.atomic import work_dir
from policygen.cache import CACHE_DIR, Cache, folder_digest
from policygen.i18n.prepare import prepare
from policygen.render.pdf import pdf_source_html
from policygen.resources import TEMPLATES, package_file


def _files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def _second_policy(mini: Path) -> Path:
    """The mini project with a second policy, ``other``: 2 policies x 2 locales = 4 PDFs."""
    shutil.copytree(mini / "sources" / "mini", mini / "sources" / "other")
    for po in (mini / "locales").rglob("mini.po*"):
        shutil.copyfile(po, po.with_name(po.name.replace("mini", "other")))
    pot = mini / "locales" / "mini.pot"
    (mini / "locales" / "other.pot").write_bytes(pot.read_bytes().replace(b"sources/mini/", b"sources/other/"))
    return mini


@pytest.fixture
def two(mini: Path) -> Path:
    """The mini project with a second policy (:func:`_second_policy`), never built."""
    return _second_policy(mini)


def _facts(result: api.BuildResult) -> dict[str, Any]:
    """What the tests count of a build's result, as JSON keeps it."""
    return {"pdfs_rendered": result.pdfs_rendered, "pdfs_cached": result.pdfs_cached, "rendered": result.rendered,
            "cached": result.cached, "written": result.written}


def _built_once(tmp_path_factory: pytest.TempPathFactory, name: str, make_project: Any, build: Any) -> Path:
    """A project that ``make_project(folder)`` makes and ``build(project)`` builds, with a cold
    cache, into its output/ and its cache, once per test run (:func:`conftest.build_once`);
    beside it, ``first.json``: the :func:`_facts` of that first build."""

    def make(folder: Path) -> None:
        project = make_project(folder)
        (folder / "first.json").write_text(json.dumps(_facts(build(project))), encoding="utf-8")

    return build_once(tmp_path_factory, name, make)


@pytest.fixture
def two_built(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """A private copy of :func:`two` as its first build (all four PDFs, with the cache) left it,
    and that build's :func:`_facts`: the cold build several tests start from, made once."""
    shared = _built_once(tmp_path_factory, "cache-two-built", lambda folder: _second_policy(copy_project(MINI, folder / "mini")),
                         lambda project: _build(project))
    return private_copy(shared / "mini", tmp_path / "mini"), json.loads((shared / "first.json").read_text(encoding="utf-8"))


def _build(root: Path, out: Path | None = None, use_cache: bool = True) -> api.BuildResult:
    return api.build(root, output=out, jobs=1, allow_incomplete=True, use_cache=use_cache)


PAGES = {"html": 4, "html-fragment": 4, "pdf": 4, "site-index": 1}
"""What a build of ``two`` renders: 2 policies x 2 locales, and the index."""


def png(colour: bytes) -> bytes:
    """An 8x8 PNG of one ``colour`` (three bytes, RGB): a theme image whose bytes an edit changes."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\0" + colour * 8 for _ in range(8))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


def test_cached_build_equals_cold_build(two_built: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    two, first = two_built  # built into its output/, with an empty cache
    assert len(first["pdfs_rendered"]) == 4 and first["pdfs_cached"] == []
    assert first["rendered"] == PAGES and first["cached"] == {}
    cached = _build(two, tmp_path / "b")  # another output folder: every output from the cache
    assert cached.pdfs_rendered == [] and len(cached.pdfs_cached) == 4
    assert cached.rendered == {} and cached.cached == PAGES
    cold = _build(two, tmp_path / "c", use_cache=False)
    assert len(cold.pdfs_rendered) == 4 and cold.rendered == PAGES
    assert _files(two / "output") == _files(tmp_path / "b") == _files(tmp_path / "c")
    # 4 PDFs, 4 (page, fragment) pairs, the index and the records of the last two builds that
    # used the cache ("b" and the first: a full build keeps what it and the build before it of
    # the same formats used; --no-cache neither reads nor writes).
    assert Cache(two).size() == 4 + 4 + 1 + 2


def test_a_no_op_rebuild_loads_nothing(two_built: tuple[Path, dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    """A rebuild whose inputs and output are unchanged is answered from the build's record:
    nothing is loaded; any change to an input, or to the output, makes it a real build."""
    two = two_built[0]
    _build(two)  # every output from the cache; the build's record names this output folder
    monkeypatch.setattr(build_module, "prepare", lambda *args, **kwargs: pytest.fail("the no-op rebuild loaded the project"))
    again = _build(two)
    assert again.written == [] and again.rendered == {} and again.cached == PAGES and len(again.pdfs_cached) == 4
    monkeypatch.undo()
    page = two / "output" / "mini" / "nl" / "index.html"
    page.write_bytes(page.read_bytes() + b"<!-- edited by hand -->")
    repaired = _build(two)
    assert repaired.written == ["mini/nl/index.html"] and repaired.rendered == {}
    (two / "sources" / "mini" / "notes.txt").write_text("not read by the build, but in the policy's folder\n", encoding="utf-8")
    loads: list[object] = []
    monkeypatch.setattr(build_module, "prepare", lambda *args, **kwargs: loads.append(args) or prepare(*args, **kwargs))
    noted = _build(two)
    # A real build (any file of the project is in the record's key), which renders nothing again:
    # the loader reads only policy.yaml and policy.md there, and the pages are keyed by those.
    assert loads and noted.rendered == {} and noted.written == []


DAY = date(2026, 6, 1)
"""The day of the sample's builds: 3.0 in force, the archive's pages, feeds and copies all made."""


def _sample_build(sample: Path, out: Path | None = None, today: date = DAY, use_cache: bool = True) -> api.BuildResult:
    """An HTML build of the sample as of ``today``, into ``out`` (or its output/)."""
    return api.build(sample, output=out, formats=["html"], allow_incomplete=True, use_cache=use_cache, today=today)


def _pdf_keys(root: Path) -> dict[tuple[str, str], str]:
    """The cache key of every PDF of the project in ``root`` (made without rendering one)."""
    project, localized = prepare(root, allow_incomplete=True)
    return {(item.policy.id, item.locale): build_module.pdf_key(project, pdf_source_html(project, item)) for item in localized}


def test_a_label_another_policy_shows_changes_no_pdf_of_this_one(tmp_path: Path) -> None:
    """The names a PDF keeps from hyphenation come from its own facts' labels: a label of a fact
    only the privacy policy has, edited and so untranslated (Dutch and Khmer fall back to the
    English label, which names an "ID" card), re-renders the privacy PDFs and no cookie PDF."""
    sample = copy_project(SAMPLE, tmp_path / "tonle")
    before = _pdf_keys(sample)
    glossary = sample / "glossary.yaml"
    text = glossary.read_text(encoding="utf-8")
    assert "identity-document: identity document (passport or national ID card)" in text
    assert "identity-document" not in (sample / "sources" / "tonle-cookies" / "policy.yaml").read_text(encoding="utf-8")
    glossary.write_text(text.replace("(passport or national ID card)", "(passport, national ID card or residence permit)"), encoding="utf-8")
    after = _pdf_keys(sample)
    assert before.keys() == after.keys()
    changed = sorted(item for item in before if before[item] != after[item])
    assert changed == [("tonle-privacy", locale) for locale in sorted(loc for policy, loc in before if policy == "tonle-privacy")]


@pytest.fixture
def sample_built(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """A private copy of the sample, with its archive, as its first build (:func:`_sample_build`,
    with the cache) left it, and that build's :func:`_facts`: made once per test run."""
    shared = _built_once(tmp_path_factory, "cache-sample-built", lambda folder: copy_project(SAMPLE, folder / "tonle"), _sample_build)
    return private_copy(shared / "tonle", tmp_path / "tonle"), json.loads((shared / "first.json").read_text(encoding="utf-8"))


def test_the_sample_with_its_archive_cached_equals_cold(sample_built: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    """Archive pages, archived copies, feeds, banners and redlines come from the cache too,
    byte for byte; one Dutch translation re-renders that locale's outputs only."""
    sample, first = sample_built  # built into its output/, with an empty cache
    assert first["cached"] == {} and {"archive-page", "feed", "archived-html", "archived-pdf", "redline"} <= set(first["rendered"])
    cached = _sample_build(sample, tmp_path / "b")
    assert cached.rendered == {} and cached.cached == first["rendered"]
    _sample_build(sample, tmp_path / "c", use_cache=False)
    assert _files(sample / "output") == _files(tmp_path / "b") == _files(tmp_path / "c")
    po = sample / "locales" / "nl" / "LC_MESSAGES" / "tonle-privacy.po"
    text = po.read_text(encoding="utf-8")
    edited = text.replace('msgstr "', 'msgstr "Let op: ', 1)
    assert edited != text
    po.write_text(edited, encoding="utf-8")
    after = _sample_build(sample)
    assert {(o["locale"], o["policy"]) for o in after.outputs if o["path"] in after.written} <= {("nl", "tonle-privacy")}
    assert sum(after.rendered.values()) < sum(first["rendered"].values()) / 2
    _sample_build(sample, tmp_path / "d", use_cache=False)
    assert _files(sample / "output") == _files(tmp_path / "d")


def test_an_edit_re_renders_only_what_it_touches(two_built: tuple[Path, dict[str, Any]]) -> None:
    two, first = two_built
    assert len(first["pdfs_rendered"]) == 4
    assert _build(two).pdfs_rendered == []  # a rebuild (here, of the copy) renders nothing
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


def test_a_damaged_entry_is_rendered_again(two_built: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    two = two_built[0]  # built into its output/
    entries = sorted(p for p in (two / CACHE_DIR).glob("*/*"))
    pdfs = [p for p in entries if p.read_bytes()[32:37] == b"%PDF-"]
    pages = [p for p in entries if b'"page"' in p.read_bytes()[:300]]
    assert len(pdfs) == 4 and len(pages) == 4
    for entry in pdfs[0], pages[0]:
        entry.write_bytes(entry.read_bytes()[:-10])  # torn, as by a crash of another tool
    result = _build(two, tmp_path / "b")
    assert len(result.pdfs_rendered) == 1 and len(result.pdfs_cached) == 3
    assert result.rendered == {"html": 1, "html-fragment": 1, "pdf": 1}
    assert _files(two / "output") == _files(tmp_path / "b")


def test_no_cache_from_the_command_line(two_built: tuple[Path, dict[str, Any]], cli) -> None:
    two = two_built[0]  # built once, its PDFs in the cache
    result = cli("build", "-C", str(two), "--format", "pdf", "--jobs", "1")
    assert "0 PDFs rendered, 4 from cache" in result.stdout
    result = cli("build", "-C", str(two), "--format", "pdf", "--jobs", "1", "--no-cache")
    assert "4 PDFs rendered, 0 from cache" in result.stdout


ARCHIVE = ("archive-page", "feed", "archived-html", "archived-pdf", "redline", "redline-pdf", "banner-html", "banner-json")
"""The outputs made from the archive, each keyed by what it shows."""


def _archive(rendered: dict[str, int]) -> dict[str, int]:
    return {kind: n for kind, n in rendered.items() if kind in ARCHIVE}


def _sample_run(sample: Path, tmp_path: Path, today: date, *, cold: bool = True) -> api.BuildResult:
    """An HTML build of the sample into its output/ as of ``today``; with ``cold``, checked byte
    for byte against a build that does not use the cache."""
    result = api.build(sample, formats=["html"], allow_incomplete=True, today=today)
    if cold:
        api.build(sample, output=tmp_path / "cold", formats=["html"], allow_incomplete=True, today=today, use_cache=False)
        assert _files(sample / "output") == _files(tmp_path / "cold")
    return result


def test_a_clause_edit_renders_no_archive_output_again(sample_built: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    """The archive's outputs show the title, the releases and their notes, never the draft's
    clauses: a clause edit renders again the draft pages only (the pages in force show the
    archived version, which did not change)."""
    day = DAY
    sample, first = sample_built  # built as of DAY, with an empty cache
    assert first["rendered"] == {"archive-page": 3, "feed": 3, "archived-html": 9, "archived-pdf": 9, "redline": 6, "html": 6,
                              "html-fragment": 6, "draft-html": 1, "site-index": 1}
    prose = sample / "sources" / "tonle-privacy" / "policy.md"
    prose.write_text(prose.read_text(encoding="utf-8").replace("We ", "We (1) ", 1), encoding="utf-8")
    edited = _sample_run(sample, tmp_path, day)
    # The English and Dutch pages in force showed the sources (their text was 3.0's); now they
    # show 3.0 as archived and link to a new draft, which the Khmer page already had.
    assert edited.rendered == {"draft-html": 3, "html": 2, "html-fragment": 2}
    assert {kind: n for kind, n in edited.cached.items() if kind in ARCHIVE} == _archive(first["rendered"])  # every one from the cache
    prose.write_text(prose.read_text(encoding="utf-8").replace("We (1) ", "We (2) ", 1), encoding="utf-8")
    assert _sample_run(sample, tmp_path, day, cold=False).rendered == {"draft-html": 3}


def test_what_the_archive_outputs_show_renders_them_again(sample_built: tuple[Path, dict[str, Any]], tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Each input an archive output shows makes a new key, and nothing else does; every state
    is checked against a build without the cache."""
    day = DAY
    sample = sample_built[0]  # built as of DAY
    # Another day on which nothing starts or ends: nothing.
    assert _sample_run(sample, tmp_path, date(2026, 6, 2), cold=False).rendered == {}
    # The Dutch translation of one release's notes: the Dutch archive page (and the Dutch pages,
    # keyed by the files of their catalogs, to the same bytes).
    po = sample / "locales" / "nl" / "LC_MESSAGES" / "tonle-privacy.po"
    text = po.read_text(encoding="utf-8")
    assert 'msgstr "Jaarlijkse herbeoordeling van de DPIA"' in text
    po.write_text(text.replace('msgstr "Jaarlijkse herbeoordeling van de DPIA"', 'msgstr "Jaarlijkse DPIA"'), encoding="utf-8")
    notes = _sample_run(sample, tmp_path, day)
    assert _archive(notes.rendered) == {"archive-page": 1}
    assert "Jaarlijkse DPIA" in (sample / "output" / "tonle-privacy" / "nl" / "archive" / "index.html").read_text(encoding="utf-8")
    # The policy's title, in every locale (the translations no longer match it): the archive
    # pages, feeds and archived copies that name it; not the archived PDFs and redlines.
    prose = sample / "sources" / "tonle-privacy" / "policy.md"
    prose.write_text(prose.read_text(encoding="utf-8").replace("# Privacy policy\n", "# Privacy notice\n", 1), encoding="utf-8")
    titled = _sample_run(sample, tmp_path, day)
    assert _archive(titled.rendered) == {"archive-page": 3, "feed": 3, "archived-html": 9}
    # The build's date crossing an effective date: 2.1 takes effect (3.0 is still to come).
    # The statuses on the archive pages, the feeds (which date 3.0 as of the build's date), 2.1's
    # copies and the banner about 3.0 (which linked 2.1 as a version to come, and no longer
    # does) change; 2.0's copies (out of force since 2.1 took effect, whenever that is) and
    # 3.0's (to come on its date) do not.
    _sample_run(sample, tmp_path, date(2025, 6, 30), cold=False)
    crossed = _sample_run(sample, tmp_path, date(2025, 7, 1))
    assert _archive(crossed.rendered) == {"archive-page": 3, "feed": 3, "archived-html": 3, "banner-html": 3}
    # A new release: its copies, PDFs and redlines; 3.0's copies, which now link to it; the
    # archive pages and the feeds. (Counted against a build of the same day: the cache keeps the
    # last two builds of each kind, not the copies of every day built since.)
    _sample_run(sample, tmp_path, day, cold=False)
    monkeypatch.setattr("policygen.archive.release.render_pdf", lambda project, item, variant="pdf/ua-1": b"%PDF-1.7 " + item.locale.encode())
    monkeypatch.setattr("policygen.archive.release.redline_pdf", lambda report, pages, locale: b"%PDF-1.7 redline " + locale.encode())
    facts = sample / "sources" / "tonle-privacy" / "policy.yaml"
    facts.write_text(facts.read_text(encoding="utf-8").replace('version: "3.0"', 'version: "3.1"')
                     .replace("effective_date: 2026-03-01", "effective_date: 2026-09-01"), encoding="utf-8")
    api.release(sample, "tonle-privacy", "3.1", date(2026, 9, 1), notes="A new title", allow_incomplete=True)
    released = _sample_run(sample, tmp_path, day)
    assert {kind: released.rendered.get(kind, 0) for kind in ("archive-page", "feed", "archived-html", "archived-pdf")} == \
        {"archive-page": 3, "feed": 3, "archived-html": 6, "archived-pdf": 3}
    assert released.cached.get("archived-pdf") == 9 and released.cached.get("archived-html") == 6


def test_a_cache_folder_that_leads_out_of_the_project_is_refused_first(mini: Path, tmp_path: Path, cli) -> None:
    """A .policygen/cache that is a symbolic link out of the project is refused before the build
    does anything, with the way out. Before, the build rendered and published the site and then
    failed writing its entries (exit 1 with the site changed), and a check that passed failed
    writing its record."""
    assert cli("build", "-C", str(mini)).exit_code == 0
    prose = mini / "sources" / "mini" / "policy.md"
    prose.write_text(prose.read_text(encoding="utf-8").replace("Write to", "Please write to"), encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.rmtree(mini / CACHE_DIR)
    (mini / CACHE_DIR).symlink_to(elsewhere)
    before = _files(mini / "output")
    for command in ("build", "check"):
        result = cli(command, "-C", str(mini), "--allow-incomplete")
        assert result.exit_code == 1 and result.exception is None, (command, result.stderr)
        assert ".policygen/cache" in result.stderr and "--no-cache" in result.stderr, result.stderr
    assert _files(mini / "output") == before  # nothing published
    assert list(elsewhere.iterdir()) == []
    assert cli("build", "-C", str(mini), "--allow-incomplete", "--no-cache").exit_code == 0
    assert b"Please write to" in (mini / "output" / "mini" / "en" / "index.html").read_bytes()


def test_a_link_out_of_the_project_at_the_checks_record_names_that_folder(mini: Path, tmp_path: Path, cli) -> None:
    """The check's record lives in a folder of the cache (.policygen/cache/check): a link there
    leading out is refused with that folder's name, where the link is. Before, the message named
    .policygen/cache, which is no link, so 'remove the link' pointed at the wrong folder."""
    assert cli("check", "-C", str(mini)).exit_code == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    checks = mini / CACHE_DIR / "check"
    assert checks.is_dir()
    shutil.rmtree(checks)
    checks.symlink_to(elsewhere)
    result = cli("check", "-C", str(mini))
    assert result.exit_code == 1 and result.exception is None, result.exception
    assert ".policygen/cache/check: " in result.stderr and "--no-cache" in result.stderr, result.stderr
    assert list(elsewhere.iterdir()) == []


def test_a_symlink_loop_where_the_cache_or_the_output_is_is_an_error(mini: Path, cli) -> None:
    """A loop of symbolic links at .policygen/cache or at output/ is a one-line error, not a
    traceback (Path.resolve raises RuntimeError on a loop)."""
    (mini / ".policygen").mkdir()
    (mini / CACHE_DIR).symlink_to("cache")
    for command in ("build", "check"):
        result = cli(command, "-C", str(mini))
        assert result.exit_code == 1 and result.exception is None, (command, result.exception)
        assert "symbolic link" in result.stderr, result.stderr
    (mini / CACHE_DIR).unlink()
    (mini / "output").symlink_to("output")
    result = cli("build", "-C", str(mini))
    assert result.exit_code == 1 and result.exception is None, result.exception
    assert "output: a loop of symbolic links" in result.stderr, result.stderr
    (mini / "output").unlink()
    # A loop among the inputs, which the loader reads nothing through, is only a part of the key.
    (mini / "sources" / "loopy").symlink_to("loopy")
    for command in ("build", "check"):
        result = cli(command, "-C", str(mini))
        assert result.exit_code == 0 and result.exception is None, (command, result.exception)


def test_html_only_builds_keep_the_cache_bounded_and_the_pdfs(two_built: tuple[Path, dict[str, Any]]) -> None:
    """An HTML-only build (``build -f html``, and ``serve`` on every save) prunes the cache too:
    before, only a build with PDFs did, so each edit built as HTML left its outputs in the cache
    for good (about 2 MB per save on the sample). What the last build of the other formats used
    stays: the PDFs of the policy that was not edited still come from the cache. The build
    before the last of each kind stays too: an edit undone takes its pages from the cache."""
    two = two_built[0]  # built once with its PDFs
    prose = two / "sources" / "mini" / "policy.md"
    text = prose.read_text(encoding="utf-8")
    sizes = []
    for n in range(4):
        prose.write_text(text.replace("Write to", f"Write {n} to"), encoding="utf-8")
        api.build(two, formats=["html"], allow_incomplete=True)
        sizes.append(Cache(two).size())
    assert len(set(sizes[1:])) == 1, sizes  # two edits' worth, however many edits
    prose.write_text(text.replace("Write to", "Write 2 to"), encoding="utf-8")  # the one before the last, again
    assert api.build(two, formats=["html"], allow_incomplete=True).rendered == {}
    result = _build(two)
    assert len(result.pdfs_cached) == 2 and len(result.pdfs_rendered) == 2, (result.pdfs_cached, result.pdfs_rendered)


def test_a_locale_dropped_that_a_release_has(sample: Path, tmp_path: Path) -> None:
    """A project stops publishing Khmer, which its releases in force have: the build goes on
    without the Khmer pages (the archive keeps its Khmer files), and the cached build equals a
    cold one. Before, every build failed on the archived policy.yaml's locale list, named by a
    temporary folder's path (/tmp/policygen-archived-.../sources/tonle-privacy/policy.yaml:3)."""
    api.build(sample, formats=["html"], allow_incomplete=True)
    assert (sample / "output" / "tonle-privacy" / "km" / "index.html").is_file()
    config = sample / "policygen.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("locales: [en, nl, km]", "locales: [en, nl]"), encoding="utf-8")
    for facts in (sample / "sources").glob("*/policy.yaml"):
        text = facts.read_text(encoding="utf-8")
        facts.write_text(text.replace("locales: [en, nl, km]", "locales: [en, nl]").replace("locales: [nl, en, km]", "locales: [nl, en]"),
                         encoding="utf-8")
    shutil.rmtree(sample / "locales" / "km")
    _sample_run(sample, tmp_path, DAY)
    assert not (sample / "output" / "tonle-privacy" / "km").exists()
    assert (sample / "output" / "tonle-privacy" / "nl" / "index.html").is_file()


def test_a_cache_that_cannot_be_changed_costs_only_speed(two_built: tuple[Path, dict[str, Any]], tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache on a read-only file system (a CI cache mounted read-only): a damaged entry that
    cannot be removed, and stale entries that cannot be pruned, leave the build as it would be
    without them. Before, the build failed with a traceback (OSError EROFS from unlink)."""
    import errno

    two = two_built[0]
    api.build(two, formats=["html"], allow_incomplete=True)  # the pages without PDF links, cached
    used = (two / CACHE_DIR / "kept" / "html").read_text(encoding="ascii").split()
    entries = [two / CACHE_DIR / name[:2] / name for name in used]
    page = next(p for p in entries if b'"page"' in p.read_bytes()[:300])
    page.write_bytes(page.read_bytes()[:-10])  # damaged
    stale = two / CACHE_DIR / "ab" / ("ab" + "0" * 62)
    stale.parent.mkdir(exist_ok=True)
    stale.write_bytes(b"\0" * 40)  # an entry no build uses: pruned by a full build
    cache_folder = (two / CACHE_DIR).resolve()
    real_unlink = Path.unlink

    def read_only(self: Path, missing_ok: bool = False) -> None:
        if self.resolve().is_relative_to(cache_folder):
            raise OSError(errno.EROFS, "Read-only file system", str(self))
        real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", read_only)
    result = api.build(two, output=tmp_path / "out", formats=["html"], allow_incomplete=True)
    assert result.rendered == {"html": 1, "html-fragment": 1}
    monkeypatch.setattr(Path, "unlink", real_unlink)
    assert stale.is_file() and page.is_file()
    api.build(two, output=tmp_path / "cold", formats=["html"], allow_incomplete=True, use_cache=False)
    assert _files(tmp_path / "out") == _files(tmp_path / "cold")


def test_two_links_to_one_folder_give_one_digest_whatever_the_listing_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """theme/assets/a and theme/assets/b both link to images/: the digest reads the folder once,
    under the first name, and that must be the first by name, not by the order the file system
    lists them in (on tmpfs, the order they were made). Before, the same project gave two PDF
    keys, so a copy of it (a CI checkout) missed the cache."""
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "logo.png").write_bytes(b"logo")
    assets = tmp_path / "theme" / "assets"
    assets.mkdir(parents=True)
    for name in ("a", "b"):
        (assets / name).symlink_to(Path("..") / ".." / "images")
    listed = folder_digest(assets, links_within=tmp_path)
    real_walk = os.walk

    def walk_listing_backwards(top: Any, **options: Any) -> Iterator[tuple[str, list[str], list[str]]]:
        for folder, dirs, names in real_walk(top, **options):
            dirs.reverse()  # another file system's order; the reader's changes to it still steer the walk
            yield folder, dirs, names

    monkeypatch.setattr(os, "walk", walk_listing_backwards)
    assert folder_digest(assets, links_within=tmp_path) == listed


def test_a_theme_asset_behind_a_linked_folder_is_in_the_pdf_key(mini: Path, tmp_path: Path) -> None:
    """theme/assets/img linked to a folder elsewhere in the project (the PDF's fetcher reads
    through it): a new image there renders the PDF again. Before, the key's digest of the
    theme's assets did not enter linked folders, and the cached PDF kept the old image."""
    (mini / "images").mkdir()
    (mini / "images" / "logo.png").write_bytes(png(b"\xff\0\0"))
    (mini / "theme" / "assets").mkdir(parents=True)
    (mini / "theme" / "assets" / "img").symlink_to(Path("..") / ".." / "images")
    (mini / "theme" / "templates").mkdir()
    css = package_file(TEMPLATES, "pdf.css").read_text(encoding="utf-8")
    (mini / "theme" / "templates" / "pdf.css").write_text(css + '\n@page { background: url("theme/assets/img/logo.png") no-repeat; }\n',
                                                        encoding="utf-8")

    def pdf(**options: Any) -> api.BuildResult:
        return api.build(mini, locales=["en"], formats=["pdf"], jobs=1, allow_incomplete=True, **options)

    pdf()
    (mini / "images" / "logo.png").write_bytes(png(b"\0\0\xff"))
    again = pdf()
    assert len(again.pdfs_rendered) == 1, again.pdfs_cached
    pdf(output=tmp_path / "cold", use_cache=False)
    assert (mini / "output" / "mini" / "en" / "mini-en.pdf").read_bytes() == (tmp_path / "cold" / "mini" / "en" / "mini-en.pdf").read_bytes()


def test_a_file_the_loader_does_not_read_renders_nothing_again(mini: Path, tmp_path: Path) -> None:
    """An editor's backup and swap files, or a note, in a policy's folder: the loader reads only
    policy.yaml and policy.md there, so no page is rendered again (before, the pages were keyed by
    every file of the folder, and each swap-file write re-rendered the policy's pages)."""
    def html() -> api.BuildResult:
        return api.build(mini, formats=["html"], allow_incomplete=True)

    html()
    folder = mini / "sources" / "mini"
    (folder / "policy.md~").write_bytes((folder / "policy.md").read_bytes())
    (folder / ".policy.md.swp").write_bytes(b"b0VIM 9.0\0")
    (folder / "notes.txt").write_text("ask legal about the retention period\n", encoding="utf-8")
    again = html()
    assert again.rendered == {}, again.rendered
    assert again.cached["html"] == 2 and again.cached["html-fragment"] == 2
    api.build(mini, output=tmp_path / "cold", formats=["html"], allow_incomplete=True, use_cache=False)
    assert _files(mini / "output") == _files(tmp_path / "cold")



@pytest.mark.parametrize("read_first", [True, False], ids=["saved-after-the-sources-are-read", "saved-before"])
def test_an_edit_saved_while_a_build_runs_is_never_cached_under_another_text(mini: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                             read_first: bool) -> None:
    """A save made while a build runs (serve rebuilds while you type). Saved after the build read
    the sources and before it keyed its pages by their files, the page of the text it read was
    cached under the key of the newer file: every later build, cached, published the older text
    (a cold build the newer). Saved after the build took the key of the whole project and before
    it read the sources, the build was recorded under the older files' key with the newer text:
    the save undone, the next build answered from that record and kept the newer text. Now a
    build whose inputs changed while it ran publishes what it read, and stores no page and no
    record keyed by files (its PDFs, keyed by the HTML they lay out, stay)."""
    prose = mini / "sources" / "mini" / "policy.md"
    original = prose.read_text(encoding="utf-8")
    edited = original.replace("Write to", "Please write to")
    assert edited != original
    real_prepare = build_module.prepare
    saves: list[str] = []

    def save() -> None:
        if not saves:
            saves.append("saved")
            prose.write_text(edited, encoding="utf-8")

    def prepare_with_a_save(*args: Any, **options: Any) -> Any:
        if not read_first:
            save()
        loaded = real_prepare(*args, **options)
        save()
        return loaded

    def same_as_cold() -> None:
        api.build(mini, formats=["html"], allow_incomplete=True)
        shutil.rmtree(tmp_path / "cold", ignore_errors=True)
        api.build(mini, output=tmp_path / "cold", formats=["html"], allow_incomplete=True, use_cache=False)
        assert _files(mini / "output") == _files(tmp_path / "cold")

    monkeypatch.setattr(build_module, "prepare", prepare_with_a_save)
    api.build(mini, formats=["html"], allow_incomplete=True)
    assert saves
    published = (mini / "output" / "mini" / "en" / "index.html").read_bytes()
    assert (b"Please write to" in published) != read_first  # the text it read
    same_as_cold()  # the build the save starts
    prose.write_text(original, encoding="utf-8")  # the save undone
    same_as_cold()


def test_an_empty_format_list_is_refused_and_keeps_the_cache(mini: Path, cli) -> None:
    """'--format ","' (or an empty --format, as a script with an unset variable writes it) chose
    no format: the build loaded the project, wrote nothing, and as a full build pruned the cache
    of every entry it had not used, which was every entry: the next build rendered everything
    again. It is now refused, as an unknown format is, before anything is loaded or pruned."""
    assert cli("build", "-C", str(mini), "--format", "html").exit_code == 0
    entries = Cache(mini).size()
    assert entries > 0
    for given in (",", "", " , "):
        result = cli("build", "-C", str(mini), "--format", given)
        assert result.exit_code == 1, (given, result.stdout)
        assert "--format" in result.stderr and "html, pdf" in result.stderr, result.stderr
    assert Cache(mini).size() == entries
    again = cli("build", "-v", "-C", str(mini), "--format", "html")
    assert "0 other outputs rendered" in again.stdout, again.stdout


def test_a_theme_asset_saved_while_a_pdf_renders_is_never_cached_under_the_older_asset(mini: Path, tmp_path: Path,
                                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A PDF's key holds the digest of the theme's assets, taken before WeasyPrint reads them:
    an image saved between the two was laid out in a PDF stored under the older image's key,
    and once the image was set back, every cached build published the PDF of the other image.
    Now, when the theme's assets changed while the build ran, its PDFs are not kept either."""
    logo = mini / "theme" / "assets" / "logo.png"
    logo.parent.mkdir(parents=True)
    logo.write_bytes(png(b"\xff\0\0"))
    (mini / "theme" / "templates").mkdir()
    css = package_file(TEMPLATES, "pdf.css").read_text(encoding="utf-8")
    (mini / "theme" / "templates" / "pdf.css").write_text(css + '\n@page { background: url("theme/assets/logo.png") no-repeat; }\n',
                                                        encoding="utf-8")
    real_render = build_module.render_pdf
    saves: list[str] = []

    def save_then_render(*args: Any, **options: Any) -> bytes:
        if not saves:
            saves.append("saved")
            logo.write_bytes(png(b"\0\0\xff"))  # saved after the key was taken, before WeasyPrint reads it
        return real_render(*args, **options)

    def pdf(**options: Any) -> api.BuildResult:
        return api.build(mini, locales=["en"], formats=["pdf"], jobs=1, allow_incomplete=True, **options)

    monkeypatch.setattr(build_module, "render_pdf", save_then_render)
    pdf()
    assert saves
    monkeypatch.undo()
    logo.write_bytes(png(b"\xff\0\0"))  # set back to the image the key was taken with
    pdf()
    pdf(output=tmp_path / "cold", use_cache=False)
    assert (mini / "output" / "mini" / "en" / "mini-en.pdf").read_bytes() == (tmp_path / "cold" / "mini" / "en" / "mini-en.pdf").read_bytes()


def test_what_a_killed_build_left_is_removed_by_a_rebuild_with_nothing_to_do(mini: Path) -> None:
    """A build killed (kill -9, a CI timeout) leaves its half-made tree in .output.policygen/;
    the next build removes it. When the inputs went back to those of the last build that
    succeeded (an edit undone), that next build had nothing to do and answered from its record
    without looking there: the tree (hard links of the whole site, the new files, WeasyPrint's
    scratch folder) stayed until some later build had real work. It is removed now, and the
    outputs still come from the cache."""
    def html() -> api.BuildResult:
        return api.build(mini, formats=["html"], allow_incomplete=True)

    html()
    work = work_dir(mini / "output")
    (work / "new" / "mini" / "en").mkdir(parents=True)
    (work / "new" / "mini" / "en" / "index.html").write_bytes(b"half made")
    (work / "tmp" / "fonts").mkdir(parents=True)
    again = html()
    assert again.rendered == {} and again.written == []
    assert sorted(p.name for p in work.iterdir()) == ["lock"]


def test_an_editors_own_files_in_the_theme_assets_are_neither_published_nor_keyed(mini: Path) -> None:
    """Editing theme/assets/site.css with vim leaves .site.css.swp beside it (the text being
    edited, the user's name, the machine's name and the file's path) and a site.css~ backup:
    they were published in output/assets/ for anyone to fetch, and each write changed every
    PDF's key, so each build rendered every PDF again. An editor's own files are neither now."""
    assets = mini / "theme" / "assets"
    assets.mkdir(parents=True)
    (assets / "site.css").write_text("body { color: #222; }\n", encoding="utf-8")
    before = folder_digest(assets, links_within=mini)
    (assets / ".site.css.swp").write_bytes(b"b0VIM 9.0\0\0\0\0root\0\0builder\0/srv/policies/theme/assets/site.css\0")
    (assets / "site.css~").write_text("body { color: #000; }\n", encoding="utf-8")
    (assets / "4913").write_bytes(b"")
    assert folder_digest(assets, links_within=mini) == before  # the PDFs' key
    api.build(mini, formats=["html"], allow_incomplete=True)
    published = sorted(p.name for p in (mini / "output" / "assets").iterdir() if p.is_file())
    assert "site.css" in published
    assert not {".site.css.swp", "site.css~", "4913"} & set(published), published
