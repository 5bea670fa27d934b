"""Every page is a page of the site, with the links a reader expects (issue 15, points 2 and 4).

Archive pages and archived copies have the site's header, language switcher and footer; an
archived copy says whether its version is archived, in force or still to come, links to the
version in force and the next one, has its own title, and shows the policy exactly as
archived; release notes are translated through the catalogs, and carry their language until
they are. Pages link their PDF (with its size), their feed, and name the publisher in the
footer; a print stylesheet numbers the pages.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import polib
import pytest
from conftest import FIXTURES, MINI, build_once, copy_project, private_copy
from test_archive import make_releases

from policygen.archive.store import releases
from policygen.build import build
from policygen.i18n.prepare import prepare
from policygen.render.archive_pages import archived_body
from policygen.render.html import file_size

TODAY = date(2026, 8, 15)  # mini: 1.0 archived (since 1 July), 1.1 in force, 1.2 upcoming (1 September)


@pytest.fixture(scope="session")
def three_releases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_once(tmp_path_factory, "mini-three-releases", make_releases) / "mini"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, three_releases: Path) -> Path:
    """The three releases' project, built as HTML on ``TODAY`` (read only)."""
    project = private_copy(three_releases, tmp_path_factory.mktemp("frame") / "mini")
    build(project, formats=["html"], today=TODAY)
    return project


@pytest.fixture
def released(tmp_path: Path, three_releases: Path) -> Path:
    return private_copy(three_releases, tmp_path / "mini")


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def frame(page: str) -> None:
    """The parts every page of the site has."""
    assert '<header class="site-header">' in page and 'class="site-title"' in page
    assert '<nav class="language-switcher"' in page
    assert '<footer class="site-footer">' in page and '<address class="site-owner">' in page
    assert 'class="skip-link" href="#_content"' in page and '<main id="_content">' in page
    assert '<link rel="stylesheet" href="' in page and 'policygen-print.css" media="print">' in page


def test_archive_page_has_the_site_frame(site: Path) -> None:
    page = read(site / "output" / "mini" / "nl" / "archive" / "index.html")
    frame(page)
    assert '<a href="../../en/archive/" hreflang="en" lang="en" rel="alternate">English</a>' in page
    assert '<a href="./" hreflang="nl" lang="nl" aria-current="page">Nederlands</a>' in page
    assert '<link rel="alternate" type="application/atom+xml" href="../feed.atom"' in page


def test_archived_copy_says_archived_with_links_and_its_own_title(site: Path) -> None:
    out = site / "output" / "mini" / "nl" / "versions"
    old = read(out / "1.0" / "index.html")
    frame(old)
    assert re.search(r"<title>[^<]+ — versie 1\.0 \(gearchiveerd\) · Mini test site</title>", old)
    assert "<strong>Gearchiveerde versie, niet meer van kracht sinds 1\u00a0juli\u00a02026.</strong>" in old
    assert '<li><a href="../../">Lees de geldende versie</a></li>' in old
    assert '<li><a href="../1.1/">Volgende versie: 1.1</a></li>' in old
    assert '<a href="mini-nl.pdf" type="application/pdf">Download als pdf (' in old
    assert '<a href="../../../en/versions/1.0/" hreflang="en" lang="en" rel="alternate">English</a>' in old
    assert '<meta name="policygen:status" content="archived">' in old

    in_force = read(out / "1.1" / "index.html")
    assert "<strong>Deze versie is van kracht sinds 1\u00a0juli\u00a02026.</strong>" in in_force
    assert re.search(r"<title>[^<]+ — versie 1\.1 · Mini test site</title>", in_force)
    assert '<li><a href="../1.2/">Volgende versie: 1.2</a></li>' in in_force

    upcoming = read(out / "1.2" / "index.html")
    assert "<strong>Toekomstige versie, nog niet van kracht: deze geldt vanaf 1\u00a0september\u00a02026.</strong>" in upcoming
    assert re.search(r"<title>[^<]+ — versie 1\.2 \(nog niet van kracht\) · Mini test site</title>", upcoming)
    assert "Volgende versie" not in upcoming


def test_archived_copy_shows_the_policy_byte_for_byte_and_the_archive_stays_untouched(site: Path, cli) -> None:
    for rel in releases(site, "mini"):
        archived = (rel.folder / "output" / "nl" / "index.html").read_text(encoding="utf-8")
        body = re.search(r'<main id="_content">\n(.*)</main>', archived, re.DOTALL)
        assert body is not None and body.group(1) in read(site / "output" / "mini" / "nl" / "versions" / rel.version / "index.html")
    # The frame is added as the site is published; the archive's files are as released.
    assert cli("archive", "verify", cwd=site).exit_code == 0


def test_a_themed_archived_page_without_main_gives_its_body() -> None:
    assert archived_body('<html><body class="acme"><div id="x">Policy</div></body></html>') == '<div id="x">Policy</div>'
    assert archived_body('<body><main id="_content">\n<article>A</article></main><footer>F</footer></body>') == "<article>A</article>"


def test_archived_copy_links_are_absolute_with_base_url(released: Path) -> None:
    config = released / "policygen.yaml"
    config.write_text(read(config).replace("  title: Mini test site\n", "  title: Mini test site\n  base_url: https://legal.mini.example/\n"),
                      encoding="utf-8")
    build(released, formats=["html"], today=TODAY)
    old = read(released / "output" / "mini" / "en" / "versions" / "1.0" / "index.html")
    assert '<li><a href="https://legal.mini.example/mini/en/">Read the version in force</a></li>' in old
    assert '<li><a href="https://legal.mini.example/mini/en/versions/1.1/">Next version: 1.1</a></li>' in old
    assert '<link rel="canonical" href="https://legal.mini.example/mini/en/versions/1.0/">' in old
    in_force = read(released / "output" / "mini" / "en" / "versions" / "1.1" / "index.html")
    assert '<link rel="canonical" href="https://legal.mini.example/mini/en/">' in in_force  # the version in force lives at the top
    # Printed, a page says where it is online.
    page = read(released / "output" / "mini" / "en" / "index.html")
    assert '<p class="print-source" hidden>Source: https://legal.mini.example/mini/en/</p>' in page
    assert '<link rel="alternate" type="application/atom+xml" href="https://legal.mini.example/mini/en/feed.atom"' in page


def test_release_notes_go_into_the_catalogs_and_carry_their_language_until_translated(released: Path, cli) -> None:
    archive_page = released / "output" / "mini" / "nl" / "archive" / "index.html"
    assert cli("i18n", "update", cwd=released).exit_code == 0
    po = released / "locales" / "nl" / "LC_MESSAGES" / "mini.po"
    catalog = polib.pofile(str(po))
    notes = {entry.msgctxt: entry for entry in catalog if entry.msgctxt and entry.msgctxt.startswith("release-notes:")}
    assert sorted(notes) == ["release-notes:1.0", "release-notes:1.1"]  # 1.2 was released without notes
    assert notes["release-notes:1.0"].msgid == "First version" and notes["release-notes:1.0"].msgstr == ""
    assert "release-notes:1.0" in read(released / "locales" / "mini.pot")
    # Untranslated notes never hold back a build; they show in English, marked as English.
    assert cli("build", "--format", "html", "--today", TODAY.isoformat(), cwd=released).exit_code == 0
    assert '<td data-label="Toelichting"><span lang="en" dir="ltr">First version</span></td>' in read(archive_page)
    # A catalog brought up to date since the release, with the same translations, is still the release's:
    # the upcoming 1.2 is the sources, so there is no draft.
    assert not (released / "output" / "mini" / "nl" / "draft").exists()
    status = cli("i18n", "status", cwd=released)
    assert re.search(r"mini\s*│\s*nl\s*│.*│\s*2\s*│", status.stdout)  # translators see them as missing

    # Translators who work in XLIFF receive them too.
    assert cli("i18n", "export", "--output", str(released / "xliff"), cwd=released).exit_code == 0
    xliff = read(released / "xliff" / "nl" / "mini.xlf")
    assert "release-notes:1.0" in xliff
    assert "First version" in xliff

    notes["release-notes:1.0"].msgstr = "Eerste versie"
    catalog.save()
    assert cli("build", "--format", "html", "--today", TODAY.isoformat(), cwd=released).exit_code == 0
    page = read(archive_page)
    assert '<td data-label="Toelichting">Eerste versie</td>' in page and '<span lang="en" dir="ltr">Genetic data</span>' in page
    assert '<td data-label="Notes">First version</td>' in read(released / "output" / "mini" / "en" / "archive" / "index.html")


def test_pages_link_their_pdf_with_its_size(released: Path) -> None:
    build(released, today=TODAY)
    out = released / "output" / "mini"
    for locale, text in (("en", "Download PDF"), ("nl", "Download als pdf")):
        size = (out / locale / f"mini-{locale}.pdf").stat().st_size
        page = read(out / locale / "index.html")
        assert f'<p class="policy-download"><a href="mini-{locale}.pdf" type="application/pdf">{text} ({round(size / 1000)}\u00a0kB)</a></p>' in page
        assert "policy-download" in read(out / locale / "fragment.html")
    first = read(out / "nl" / "index.html")
    build(released, today=TODAY, use_cache=False)
    assert read(out / "nl" / "index.html") == first  # the size comes from deterministic PDF bytes
    # An HTML-only build publishes no PDF, and links none.
    build(released, formats=["html"], today=TODAY)
    assert "policy-download" not in read(out / "nl" / "index.html")


def test_file_size_in_the_locale_digits(sample: Path) -> None:
    _project, items = prepare(sample, ["tonle-cookies"])
    by_locale = {item.locale: item.formatter for item in items}
    assert file_size(by_locale["en"], 212_400) == "212\u00a0kB"
    assert file_size(by_locale["nl"], 1_440_000) == "1,4\u00a0MB"
    assert file_size(by_locale["km"], 212_400) == "២១២\u00a0kB"
    assert file_size(by_locale["en"], 120) == "1\u00a0kB"


def test_feed_link_only_where_there_is_a_feed(site: Path, mini: Path) -> None:
    out = site / "output" / "mini" / "en"
    for page, href in ((out / "index.html", "feed.atom"), (out / "archive" / "index.html", "../feed.atom"),
                       (out / "versions" / "1.0" / "index.html", "../../feed.atom")):
        assert f'<link rel="alternate" type="application/atom+xml" href="{href}" title="Updates (Atom feed)">' in read(page)
    build(mini, formats=["html"], today=TODAY)  # no releases, no feed
    assert "application/atom+xml" not in read(mini / "output" / "mini" / "en" / "index.html")


def test_footer_names_the_controller_or_the_configured_owner(site: Path, tmp_path: Path) -> None:
    footer = read(site / "output" / "mini" / "nl" / "index.html").split('<footer class="site-footer">')[1]
    facts = read(MINI / "sources" / "mini" / "policy.yaml")
    name = re.search(r"controller:\n  name: (.+)\n", facts)
    email = re.search(r"controller:\n(?:  .+\n)*?  email: (.+)\n", facts)
    assert name is not None and email is not None
    assert f'<span class="site-owner-name">{name.group(1).strip()}</span>' in footer
    assert f'<a class="site-owner-email" href="mailto:{email.group(1).strip()}">' in footer
    assert "<p class=\"site-generator\">Gepubliceerd met policygen</p>" in footer

    plain = copy_project(FIXTURES / "projects" / "prose-only", tmp_path / "plain")
    build(plain, formats=["html"], today=TODAY)
    page = next((plain / "output").glob("*/*/index.html"))
    assert "site-owner" not in read(page)  # no facts, no owner configured: no one is named
    config = plain / "policygen.yaml"
    config.write_text(read(config).replace("site:\n", "site:\n  owner: {name: Plain Ltd, email: legal@plain.example, address: 1 Plain Street}\n", 1),
                      encoding="utf-8")
    build(plain, formats=["html"], today=TODAY)
    footer = read(page).split('<footer class="site-footer">')[1]
    assert '<span class="site-owner-name">Plain Ltd</span>' in footer and 'href="mailto:legal@plain.example"' in footer
    assert '<span class="site-owner-address">1 Plain Street</span>' in footer
    # The site index is a page of the site too; it is no one policy's, so it names the site's owner.
    index = read(plain / "output" / "index.html")
    assert '<header class="site-header">' in index and '<span class="site-owner-name">Plain Ltd</span>' in index


def test_print_layout(site: Path) -> None:
    css = read(site / "output" / "assets" / "policygen-print.css")
    assert re.search(r"\.site-header, [^{]*\{ display: none; \}", css)
    assert '.print-source[hidden] { display: block;' in css
    assert 'html[lang="nl"] > body { page: policygen-nl; }' in css
    assert '@page policygen-nl { @bottom-right { content: "Pagina " counter(page) " van " counter(pages);' in css
    assert '@page policygen-km { @bottom-right { content: "ទំព័រ " counter(page, khmer) " នៃ " counter(pages, khmer);' in css
