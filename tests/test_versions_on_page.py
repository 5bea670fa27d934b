"""Versions on the page, by date: the current URL shows the version in force; an upcoming release
has its own URL and a banner; the sources' unreleased state is only a marked, unindexed draft."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import feedparser
import pytest
from conftest import MINI, build_once, built_sample, copy_project, private_copy
from test_archive import add_sensitive_category, placeholder_pdf, placeholder_redline_pdf, set_version
from test_serve import get
from typer.testing import CliRunner

from policygen.cli import app
from policygen.resources import builtin
from policygen.serve import Preview


def page(project: Path, locale: str = "nl", *parts: str) -> str:
    return (project / "output" / "mini" / locale / Path(*parts, "index.html")).read_text(encoding="utf-8")


def version_of(html: str) -> str:
    return html.split('<meta name="policygen:version" content="', 1)[1].split('"', 1)[0]


def please_write_to(project: Path) -> None:
    """An editorial change: 'Write to' becomes 'Please write to' in the prose, and the Dutch
    catalog's msgid follows it (its translation stays, so the locale stays publishable)."""
    prose = project / "sources" / "mini" / "policy.md"
    prose.write_text(prose.read_text(encoding="utf-8").replace("Write to", "Please write to"), encoding="utf-8")
    po = project / "locales" / "nl" / "LC_MESSAGES" / "mini.po"
    po.write_text(po.read_text(encoding="utf-8").replace('msgid "Write to', 'msgid "Please write to'), encoding="utf-8")


def _release_twice(folder: Path) -> None:
    mini = copy_project(MINI, folder / "mini")
    runner = CliRunner()

    def release(version: str, effective: str) -> None:
        args = ["release", "mini", "--version", version, "--effective", effective, "--project", str(mini)]
        result = runner.invoke(app, args, catch_exceptions=False)
        assert result.exit_code == 0, result.stderr

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("policygen.archive.release.render_pdf", placeholder_pdf)
        patch.setattr("policygen.archive.release.redline_pdf", placeholder_redline_pdf)
        release("1.0", "2026-05-05")
        set_version(mini, "1.1", "2026-07-01")
        add_sensitive_category(mini)
        release("1.1", "2026-07-01")


@pytest.fixture(scope="session")
def upcoming_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """mini: 1.0 in force since 2026-05-05; 1.1 (a major change) released, effective 2026-07-01
    (with placeholder PDFs, as test_archive's placeholder_pdfs); made once per test run and
    shared (:func:`conftest.build_once`): tests use :func:`upcoming`, their own copy."""
    return build_once(tmp_path_factory, "mini-upcoming", _release_twice) / "mini"


@pytest.fixture
def upcoming(upcoming_once: Path, tmp_path: Path) -> Path:
    """This test's own copy of :func:`upcoming_once`."""
    return private_copy(upcoming_once, tmp_path / "mini")


def test_a_release_30_days_ahead_is_not_the_current_page(upcoming: Path, cli) -> None:
    assert cli("build", "--today", "2026-06-01", cwd=upcoming).exit_code == 0
    current = page(upcoming)
    assert version_of(current) == "1.0"
    assert "genetische gegevens" not in current.split('class="policygen-banner"', 1)[0]  # 1.1's text is not the page's
    assert "<strong>Dit beleid wijzigt op 1\u00a0juli\u00a02026. Dit verandert er voor jou:</strong>" in current
    assert '<a href="versions/1.1/">Lees de nieuwe versie (geldt vanaf 1\u00a0juli\u00a02026)</a>' in current
    assert version_of(page(upcoming, "nl", "versions", "1.1")) == "1.1"
    # The sources are the upcoming release: it has its own URL, there is no draft.
    assert not (upcoming / "output" / "mini" / "nl" / "draft").exists()
    banner = json.loads((upcoming / "output" / "mini" / "nl" / "banner.json").read_text(encoding="utf-8"))
    assert banner["upcoming"] is True and banner["href"] == "versions/1.1/"
    assert banner["banner"] == "Dit beleid wijzigt op 1\u00a0juli\u00a02026. Dit verandert er voor jou:"
    manifest = json.loads((upcoming / "output" / "manifest.json").read_text(encoding="utf-8"))
    assert {o["version"] for o in manifest["outputs"] if o["format"] == "html"} == {"1.0"}


def test_a_theme_banner_written_for_one_version_link_still_links_the_next_version(upcoming: Path, cli) -> None:
    # banner.html receives version_links (every upcoming version) since 94f04b6; a theme's own
    # banner.html written against the one version_link it received before lost its link silently.
    theme = upcoming / "theme" / "templates"
    theme.mkdir(parents=True, exist_ok=True)
    (theme / "banner.html").write_text('<aside class="policygen-banner"><p>{{ banner }}</p>{% if version_link %}'
                                       '<a class="ours" href="{{ version_link.href }}">{{ version_link.text }}</a>{% endif %}</aside>\n',
                                       encoding="utf-8")
    assert cli("build", "--today", "2026-06-01", "--format", "html", cwd=upcoming).exit_code == 0
    banner = (upcoming / "output" / "mini" / "nl" / "banner.html").read_text(encoding="utf-8")
    assert '<a class="ours" href="versions/1.1/">Lees de nieuwe versie (geldt vanaf 1\u00a0juli\u00a02026)</a>' in banner, banner


def test_the_banner_tense_follows_the_date(upcoming: Path, cli) -> None:
    assert cli("build", "--today", "2026-07-05", cwd=upcoming).exit_code == 0
    current = page(upcoming, "en")
    assert version_of(current) == "1.1"
    assert "<strong>This policy changed on July\u00a01, 2026. What changed for you:</strong>" in current
    assert "policygen-banner-version" not in current  # the new version is this page
    banner = json.loads((upcoming / "output" / "mini" / "en" / "banner.json").read_text(encoding="utf-8"))
    assert banner["upcoming"] is False and banner["href"] == ""


def _release(project: Path, cli, version: str, effective: str, monkeypatch: pytest.MonkeyPatch, today: str = "") -> None:
    monkeypatch.setattr("policygen.archive.release.render_pdf", placeholder_pdf)
    monkeypatch.setattr("policygen.archive.release.redline_pdf", placeholder_redline_pdf)
    set_version(project, version, effective)
    result = cli("release", "mini", "--version", version, "--effective", effective, *(("--today", today) if today else ()), cwd=project)
    assert result.exit_code == 0, result.stderr


def banner_of(project: Path, locale: str = "en") -> dict[str, Any]:
    return json.loads((project / "output" / "mini" / locale / "banner.json").read_text(encoding="utf-8"))


def test_two_upcoming_major_releases_the_banner_announces_the_next(upcoming: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """1.1 (a sensitive category, 2026-07-01) and 1.2 (a longer retention, 2026-09-01) are both
    released ahead: a reader under 1.0 must be told of 1.1 first (its list is what changes
    against the text they have), never only of 1.2, whose list compares it with 1.1."""
    policy = upcoming / "sources" / "mini" / "policy.yaml"
    policy.write_text(policy.read_text(encoding="utf-8").replace("period: P5Y", "period: P10Y"), encoding="utf-8")
    _release(upcoming, cli, "1.2", "2026-09-01", monkeypatch)
    assert cli("build", "--today", "2026-06-01", cwd=upcoming).exit_code == 0
    banner = banner_of(upcoming)
    assert (banner["version"], banner["effective_date"], banner["upcoming"]) == ("1.1", "2026-07-01", True)
    assert banner["href"] == "versions/1.1/" and banner["redline"] == "versions/1.1/redline.html"
    assert any("genetic data" in item for item in banner["items"]), banner["items"]
    assert '<a href="versions/1.1/">Read the new version (applies from July\u00a01, 2026)</a>' in page(upcoming, "en")
    # Once 1.1 is in force, the next change is 1.2's.
    assert cli("build", "--today", "2026-07-05", cwd=upcoming).exit_code == 0
    assert version_of(page(upcoming, "en")) == "1.1"
    banner = banner_of(upcoming)
    assert (banner["version"], banner["upcoming"], banner["href"]) == ("1.2", True, "versions/1.2/")
    assert any("10\u00a0years instead of 5\u00a0years" in item for item in banner["items"]), banner["items"]


def test_a_release_made_again_on_the_same_date_is_the_one_announced(upcoming: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """1.2 re-releases 1.1's date with an editorial fix (as docs/archive.md's translations
    catch-up does): 1.1 never takes effect, so the banner links 1.2, the version readers get on
    that date, and still lists 1.1's major change, before and after the date."""
    please_write_to(upcoming)
    _release(upcoming, cli, "1.2", "2026-07-01", monkeypatch)
    assert cli("build", "--today", "2026-06-01", cwd=upcoming).exit_code == 0
    for locale in ("en", "nl"):
        banner = banner_of(upcoming, locale)
        assert (banner["version"], banner["effective_date"], banner["href"]) == ("1.2", "2026-07-01", "versions/1.2/"), locale
        assert banner["redline"] == "versions/1.1/redline.html"  # against the text in force now
        assert any("genet" in item for item in banner["items"]), banner["items"]
    assert '<a href="versions/1.2/">Read the new version (applies from July\u00a01, 2026)</a>' in page(upcoming, "en")
    assert cli("build", "--today", "2026-07-05", cwd=upcoming).exit_code == 0
    assert version_of(page(upcoming, "en")) == "1.2"
    banner = banner_of(upcoming)
    assert (banner["version"], banner["upcoming"], banner["href"]) == ("1.2", False, "")
    assert banner["banner"] == "This policy changed on July\u00a01, 2026. What changed for you:"
    assert any("genetic data" in item for item in banner["items"]), banner["items"]


def test_a_release_replaced_on_its_own_date_says_so(upcoming: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """1.2 takes 1.1's date: from 2026-07-01 the page is 1.2, so 1.1's copy and archive row must
    say it was replaced, never that it applies from that date, nor that it was in force until
    then; 1.0's "next version" is 1.2, the one readers get. (Whether 1.2 was made before or after
    that date the archive does not record: the notice says only what is true either way.)"""
    please_write_to(upcoming)
    _release(upcoming, cli, "1.2", "2026-07-01", monkeypatch)
    notices = {"en": "Replaced by version 1.2, which applies from the same date (July\u00a01, 2026).",
               "nl": "Vervangen door versie 1.2, die vanaf dezelfde datum geldt (1\u00a0juli\u00a02026)."}
    for today in ("2026-06-01", "2026-07-05"):
        assert cli("build", "--today", today, cwd=upcoming).exit_code == 0
        for locale, notice in notices.items():
            copy = page(upcoming, locale, "versions", "1.1")
            assert f"<strong>{notice}</strong>" in copy, (today, locale)
            assert '<meta name="policygen:status" content="archived">' in copy
            assert 'href="../1.2/"' in page(upcoming, locale, "versions", "1.0")
            assert 'href="../1.1/"' not in page(upcoming, locale, "versions", "1.0")
        archive = page(upcoming, "en", "archive")
        row = archive.split('href="../versions/1.1/"', 1)[1].split("</tr>", 1)[0]
        assert "<strong>replaced by 1.2</strong>" in row, (today, row)
    assert "Archived version, not in force since" not in page(upcoming, "en", "versions", "1.1")
    assert "Upcoming version" not in page(upcoming, "en", "versions", "1.1")


def test_an_upcoming_release_that_is_not_major_is_announced_on_the_page(tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """1.1 only rewords a sentence (editorial) and applies from 2026-07-01: no notice period, no
    banner.json for a site's pop-up, but the page still says that a new version applies from
    that date and links it, so no upcoming release is reachable only through the archive page."""
    project = copy_project(MINI, tmp_path / "mini", archive=False)
    _release(project, cli, "1.0", "2026-05-05", monkeypatch)
    please_write_to(project)
    _release(project, cli, "1.1", "2026-07-01", monkeypatch)
    assert cli("build", "--today", "2026-06-01", cwd=project).exit_code == 0
    texts = {"en": ("A new version of this policy applies from July\u00a01, 2026.", "Read the new version (applies from July\u00a01, 2026)"),
             "nl": ("Vanaf 1\u00a0juli\u00a02026 geldt een nieuwe versie van dit beleid.", "Lees de nieuwe versie (geldt vanaf 1\u00a0juli\u00a02026)")}
    for locale, (sentence, read) in texts.items():
        current = page(project, locale)
        assert version_of(current) == "1.0"
        assert f"<strong>{sentence}</strong>" in current, locale
        assert 'class="policygen-banner policygen-banner-next"' in current  # for a site's CSS: not a major change
        assert f'<a href="versions/1.1/">{read}</a>' in current
        assert "<ul>\n</ul>" not in current  # no empty list of changes
        fragment = (project / "output" / "mini" / locale / "fragment.html").read_text(encoding="utf-8")
        assert f"<strong>{sentence}</strong>" in fragment
        assert not (project / "output" / "mini" / locale / "banner.json").exists()  # a site's pop-up is for major changes
        assert not (project / "output" / "mini" / locale / "banner.html").exists()
    assert cli("build", "--today", "2026-07-01", cwd=project).exit_code == 0
    assert "A new version of this policy" not in page(project, "en")


def test_the_changed_banner_links_a_version_still_to_come(upcoming: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """1.1 (major) took effect on 2026-07-01; 1.2, an editorial fix, applies from 2026-09-01. In
    1.1's notice period the banner says what changed, and still leads to the version to come
    (the page has room for one banner), while banner.json stays about 1.1."""
    please_write_to(upcoming)
    _release(upcoming, cli, "1.2", "2026-09-01", monkeypatch)
    assert cli("build", "--today", "2026-07-05", cwd=upcoming).exit_code == 0
    current = page(upcoming, "en")
    assert "<strong>This policy changed on July\u00a01, 2026. What changed for you:</strong>" in current
    assert '<a href="versions/1.2/">Read the new version (applies from September\u00a01, 2026)</a>' in current
    banner = banner_of(upcoming)
    assert (banner["version"], banner["upcoming"], banner["href"]) == ("1.1", False, "")


def test_every_upcoming_version_is_linked_nearest_first(tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """1.1 (editorial, 2026-06-20), 1.2 (a major change, 2026-07-01) and 1.3 (editorial,
    2026-09-01) are all released ahead of 1.0's page. The banner announces the major change
    (as banner.json does, for a site's pop-up), and the page links every version to come in the
    order they apply, so the nearer editorial 1.1 is not reachable only through the archive."""
    project = copy_project(MINI, tmp_path / "mini", archive=False)
    _release(project, cli, "1.0", "2026-05-05", monkeypatch)
    prose = project / "sources" / "mini" / "policy.md"
    po = project / "locales" / "nl" / "LC_MESSAGES" / "mini.po"

    def reword(old: str, new: str) -> None:
        prose.write_text(prose.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
        po.write_text(po.read_text(encoding="utf-8").replace(f'msgid "{old}', f'msgid "{new}'), encoding="utf-8")

    reword("Write to", "Please write to")
    _release(project, cli, "1.1", "2026-06-20", monkeypatch)
    add_sensitive_category(project)
    _release(project, cli, "1.2", "2026-07-01", monkeypatch)
    reword("Please write to", "Kindly write to")
    _release(project, cli, "1.3", "2026-09-01", monkeypatch)

    def links(html: str) -> list[str]:
        return [part.split('"', 1)[0] for part in html.split('<p class="policygen-banner-version"><a href="')[1:]]

    assert cli("build", "--today", "2026-06-01", cwd=project).exit_code == 0
    current = page(project, "en")
    assert version_of(current) == "1.0"
    assert "<strong>This policy will change on July\u00a01, 2026. What changes for you:</strong>" in current
    assert links(current) == ["versions/1.1/", "versions/1.2/", "versions/1.3/"]
    assert '<a href="versions/1.1/">Read the new version (applies from June\u00a020, 2026)</a>' in current
    assert links(page(project, "nl")) == ["versions/1.1/", "versions/1.2/", "versions/1.3/"]
    fragment = (project / "output" / "mini" / "en" / "fragment.html").read_text(encoding="utf-8")
    assert links(fragment) == ["versions/1.1/", "versions/1.2/", "versions/1.3/"]
    banner = banner_of(project)
    assert (banner["version"], banner["upcoming"], banner["href"]) == ("1.2", True, "versions/1.2/")
    # Once 1.1 is in force, the versions still to come; after 1.2's notice period, the next-version notice links 1.3.
    assert cli("build", "--today", "2026-06-25", cwd=project).exit_code == 0
    assert links(page(project, "en")) == ["versions/1.2/", "versions/1.3/"]
    assert cli("build", "--today", "2026-08-15", cwd=project).exit_code == 0
    current = page(project, "en")
    assert "<strong>A new version of this policy applies from September\u00a01, 2026.</strong>" in current
    assert links(current) == ["versions/1.3/"]


def test_tense_texts_in_every_locale() -> None:
    ui = builtin()["ui"]
    for key in ("change_upcoming", "change_past", "read_upcoming", "draft_notice", "draft_current"):
        assert set(ui[key]) >= {"en", "nl", "km"}, key
        assert all("{date}" in text for text in ui[key].values()) or not key.startswith(("change", "read")), key


def test_unreleased_sources_are_only_a_draft(upcoming: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("policygen.build.render_pdf", placeholder_pdf)
    please_write_to(upcoming)  # the translation follows the new source text; its wording stays
    assert cli("build", "--today", "2026-07-05", "--format", "html,pdf", "--jobs", "1", "--no-cache", cwd=upcoming).exit_code == 0
    out = upcoming / "output" / "mini" / "en"
    current, draft = page(upcoming, "en"), page(upcoming, "en", "draft")
    assert "Please write to" not in current and "Please write to" in draft
    assert '<meta name="robots" content="noindex">' in draft and '<meta name="robots"' not in current
    assert "<strong>Draft, not in force: a preview of changes that have not been released.</strong>" in draft
    assert '<a href="../">Read the version in force</a>' in draft
    # The current PDF is the one archived with the release in force; the sources' PDF is the draft's.
    assert (out / "mini-en.pdf").read_bytes() == (upcoming / "archive" / "mini" / "1.1" / "output" / "en" / "mini-en.pdf").read_bytes()
    assert (out / "draft" / "mini-en.pdf").is_file()
    # The translations read the same: nl shows what is in force, and has no draft.
    assert not (upcoming / "output" / "mini" / "nl" / "draft").exists()


def test_before_the_first_release_takes_effect_unreleased_edits_are_only_a_draft(upcoming: Path, cli) -> None:
    """Built before 1.0 takes effect (2026-05-05), with edits made since 1.1: no release is in
    force yet, but the project has releases, so its unreleased text is only a draft; the current
    page shows the first release, the text that applies first, never the sources."""
    please_write_to(upcoming)
    assert cli("build", "--today", "2026-04-01", cwd=upcoming).exit_code == 0
    current = page(upcoming, "en")
    assert version_of(current) == "1.0"
    assert "Please write to" not in current and "genetic data" not in current.split('class="policygen-banner"', 1)[0]
    assert "Please write to" in page(upcoming, "en", "draft")
    assert '<meta name="robots" content="noindex">' in page(upcoming, "en", "draft")
    manifest = json.loads((upcoming / "output" / "manifest.json").read_text(encoding="utf-8"))
    assert {o["version"] for o in manifest["outputs"] if o["format"] == "html"} == {"1.0"}


def test_a_language_first_released_ahead_shows_that_release_not_the_sources(tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """1.0 is English only; 1.1 (2026-07-01, upcoming) adds Dutch; the sources were edited since.
    No Dutch text is in force yet, but the Dutch page must show the text released for Dutch, 1.1,
    never the unreleased edits, which are only a Dutch draft."""
    project = copy_project(MINI, tmp_path / "mini", archive=False)
    policy = project / "sources" / "mini" / "policy.yaml"
    policy.write_text(policy.read_text(encoding="utf-8").replace("locales: [en, nl]", "locales: [en]"), encoding="utf-8")
    _release(project, cli, "1.0", "2026-05-05", monkeypatch)
    policy.write_text(policy.read_text(encoding="utf-8").replace("locales: [en]", "locales: [en, nl]"), encoding="utf-8")
    _release(project, cli, "1.1", "2026-07-01", monkeypatch)
    prose = project / "sources" / "mini" / "policy.md"
    prose.write_text(prose.read_text(encoding="utf-8").replace("Write to", "Please write to"), encoding="utf-8")
    po = project / "locales" / "nl" / "LC_MESSAGES" / "mini.po"
    po.write_text(po.read_text(encoding="utf-8").replace('msgid "Write to', 'msgid "Please write to').replace(
        'msgstr "Schrijf binnen', 'msgstr "Schrijf alstublieft binnen'), encoding="utf-8")
    assert cli("build", "--today", "2026-06-01", cwd=project).exit_code == 0
    assert version_of(page(project, "en")) == "1.0"
    dutch = page(project, "nl")
    assert version_of(dutch) == "1.1"
    assert "alstublieft" not in dutch
    assert "alstublieft" in page(project, "nl", "draft")
    # The Dutch page is 1.1: it announces no new version (1.1 is the one it shows); the English
    # page, still 1.0, announces 1.1.
    assert "policygen-banner" not in dutch
    assert '<a href="versions/1.1/">Read the new version (applies from July\u00a01, 2026)</a>' in page(project, "en")


def test_without_releases_the_sources_are_current(mini: Path, cli) -> None:
    assert cli("build", "--today", "2026-07-05", cwd=mini).exit_code == 0
    assert version_of(page(mini)) == "1.0"  # the sources
    assert not (mini / "output" / "mini" / "nl" / "draft").exists()
    assert '<meta name="robots"' not in page(mini)


# -- feeds: IDs under the publisher's own authority, rel="self", no future <updated>, valid -----

ATOM = "{http://www.w3.org/2005/Atom}"


def check_feed(data: bytes, today: str) -> ET.Element:
    """The feed parses with no bozo flag (feedparser), carries RFC 4287's required elements, and
    no <updated> lies after ``today``."""
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    feed = ET.fromstring(data)
    # RFC 4287 4.1.1: atom:feed has exactly one id, title, updated; an author (or every entry has
    # one); at most one rel="alternate" per type and hreflang; SHOULD have one rel="self".
    for name in ("id", "title", "updated"):
        assert len(feed.findall(f"{ATOM}{name}")) == 1, name
    assert feed.find(f"{ATOM}author/{ATOM}name") is not None
    assert len([link for link in feed.findall(f"{ATOM}link") if link.get("rel") == "self"]) == 1
    ids = [feed.findtext(f"{ATOM}id")]
    stamps = [feed.findtext(f"{ATOM}updated")]
    for entry in feed.findall(f"{ATOM}entry"):
        # 4.1.2: an entry has exactly one id, title, updated; content or a rel="alternate" link.
        for name in ("id", "title", "updated"):
            assert len(entry.findall(f"{ATOM}{name}")) == 1, name
        assert entry.find(f"{ATOM}content") is not None or any(link.get("rel", "alternate") == "alternate" for link in entry.findall(f"{ATOM}link"))
        ids.append(entry.findtext(f"{ATOM}id"))
        stamps.append(entry.findtext(f"{ATOM}updated"))
    assert len(set(ids)) == len(ids)
    assert all(":" in i and not i.startswith("tag:policygen,") for i in ids)  # absolute IRIs, the publisher's own
    assert all(stamp and stamp[:10] <= today for stamp in stamps), stamps
    return feed


def test_feed_ids_under_the_publishers_authority_and_no_future_updated(upcoming: Path, cli) -> None:
    assert cli("build", "--today", "2026-06-01", cwd=upcoming).exit_code == 0
    feed = check_feed((upcoming / "output" / "mini" / "nl" / "feed.atom").read_bytes(), "2026-06-01")
    assert feed.findtext(f"{ATOM}id") == "tag:mini.example,2026:mini/nl/feed.atom"
    assert next(link.get("href") for link in feed.findall(f"{ATOM}link") if link.get("rel") == "self") == "feed.atom"
    upcoming_entry = next(e for e in feed.findall(f"{ATOM}entry") if e.findtext(f"{ATOM}id").endswith("versions/1.1/"))
    assert upcoming_entry.findtext(f"{ATOM}updated").startswith("2026-06-01")  # announced as of the build, not 2026-07-01
    assert cli("build", "--today", "2026-07-05", cwd=upcoming).exit_code == 0
    feed = check_feed((upcoming / "output" / "mini" / "nl" / "feed.atom").read_bytes(), "2026-07-05")
    assert feed.findtext(f"{ATOM}updated").startswith("2026-07-01")


def test_an_upcoming_release_is_dated_by_its_release(tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """1.1 is released on 2026-05-20 (release --today), effective 2026-07-01. Its feed entry is
    dated 2026-05-20 on every daily build until it takes effect (a feed reader must not see it
    updated each day), never later than the build's date, and by its effective date from then
    on. release.json records the day as released_on, and the archive verifies."""
    project = copy_project(MINI, tmp_path / "mini", archive=False)
    _release(project, cli, "1.0", "2026-05-05", monkeypatch, today="2026-04-20")
    add_sensitive_category(project)
    _release(project, cli, "1.1", "2026-07-01", monkeypatch, today="2026-05-20")
    record = json.loads((project / "archive" / "mini" / "1.1" / "release.json").read_text(encoding="utf-8"))
    assert record["released_on"] == "2026-05-20"
    assert cli("archive", "verify", cwd=project).exit_code == 0

    def feed_on(day: str) -> tuple[bytes, dict[str, str]]:
        assert cli("build", "--today", day, cwd=project).exit_code == 0
        data = (project / "output" / "mini" / "nl" / "feed.atom").read_bytes()
        feed = check_feed(data, day)
        return data, {e.findtext(f"{ATOM}id").rsplit("/", 2)[1]: e.findtext(f"{ATOM}updated")[:10] for e in feed.findall(f"{ATOM}entry")}

    first, updated = feed_on("2026-06-01")
    assert updated == {"1.0": "2026-05-05", "1.1": "2026-05-20"}
    second, _ = feed_on("2026-06-02")
    assert second == first  # nothing changed between the two builds, and the feed says so
    assert feed_on("2026-05-10")[1] == {"1.0": "2026-05-05", "1.1": "2026-05-10"}  # never after the build's date
    assert feed_on("2026-07-05")[1] == {"1.0": "2026-05-05", "1.1": "2026-07-01"}  # in force: its effective date
    # A day that is not a date is refused like any other unsound value of release.json.
    path = project / "archive" / "mini" / "1.1" / "release.json"
    path.write_text(path.read_text(encoding="utf-8").replace('"released_on": "2026-05-20"', '"released_on": 20260520'), encoding="utf-8")
    result = cli("archive", "list", "mini", cwd=project)
    assert result.exit_code == 1 and "release.json: not a valid release manifest" in result.stderr


def test_release_today_must_be_a_date(tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    project = copy_project(MINI, tmp_path / "mini", archive=False)
    set_version(project, "1.0", "2026-05-05")
    result = cli("release", "mini", "--version", "1.0", "--effective", "2026-05-05", "--today", "2026-13-01", cwd=project)
    assert result.exit_code == 1 and "--today: '2026-13-01' is not a date; write YYYY-MM-DD" in result.stderr
    assert not (project / "archive" / "mini" / "1.0").exists()


def test_feed_with_base_url(upcoming: Path, cli) -> None:
    config = upcoming / "policygen.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("site:\n", "site:\n  base_url: https://legal.mini.example/\n"), encoding="utf-8")
    assert cli("build", "--today", "2026-06-01", cwd=upcoming).exit_code == 0
    feed = check_feed((upcoming / "output" / "mini" / "en" / "feed.atom").read_bytes(), "2026-06-01")
    assert feed.findtext(f"{ATOM}id") == "https://legal.mini.example/mini/en/feed.atom"
    assert next(link.get("href") for link in feed.findall(f"{ATOM}link") if link.get("rel") == "self") == "https://legal.mini.example/mini/en/feed.atom"


def test_feeds_need_an_authority_without_base_url(upcoming: Path, cli) -> None:
    config = upcoming / "policygen.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("feed:\n  id_authority: mini.example\n", ""), encoding="utf-8")
    result = cli("build", "--today", "2026-06-01", cwd=upcoming)
    assert result.exit_code != 0 and result.exception is None
    assert "policygen.yaml:1: mini has releases, so its feeds need IDs under an authority you own" in result.stderr


def test_the_sample_feeds_are_valid(tmp_path_factory: pytest.TempPathFactory) -> None:
    sample = built_sample(tmp_path_factory, "2026-11-22")  # shared with tests/test_golden.py
    for locale in ("en", "nl", "km"):
        feed = check_feed((sample / "output" / "tonle-privacy" / locale / "feed.atom").read_bytes(), "2026-11-22")
        assert feed.findtext(f"{ATOM}id").startswith(f"tag:tonle.example,2025:tonle-privacy/{locale}/")


# -- embedding: absolute links with base_url, UTF-8, the docs' example ---------------------------

BASE = "https://legal.mini.example/"


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.links += [value or "" for name, value in attrs if name in ("href", "src", "action")]


def links_in(html: str) -> list[str]:
    parser = Links()
    parser.feed(html)
    return parser.links


def embeddable(link: str) -> bool:
    """A link that means the same wherever the fragment is embedded."""
    return link.startswith((BASE, "#", "mailto:", "tel:"))


def with_base_url(project: Path) -> Path:
    config = project / "policygen.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("site:\n", f"site:\n  base_url: {BASE}\n"), encoding="utf-8")
    return project


def test_with_base_url_fragments_and_banners_link_absolutely(upcoming: Path, cli) -> None:
    with_base_url(upcoming)
    assert cli("build", "--today", "2026-06-01", cwd=upcoming).exit_code == 0
    for locale in ("en", "nl"):
        out = upcoming / "output" / "mini" / locale
        fragment = (out / "fragment.html").read_text(encoding="utf-8")
        banner = (out / "banner.html").read_text(encoding="utf-8")
        assert 'class="policygen-banner"' in fragment and f'{BASE}mini/{locale}/archive/' in fragment
        for link in links_in(fragment) + links_in(banner):
            assert embeddable(link), (locale, link)
        payload = json.loads((out / "banner.json").read_text(encoding="utf-8"))
        assert payload["href"] == f"{BASE}mini/{locale}/versions/1.1/"
        assert payload["redline"] == f"{BASE}mini/{locale}/versions/1.1/redline.html"


def test_fragments_are_utf8_and_the_preview_serves_the_charset(mini: Path, cli) -> None:
    assert cli("build", cwd=mini).exit_code == 0
    data = (mini / "output" / "mini" / "nl" / "fragment.html").read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf")  # no BOM: it would become a stray character when included mid-page
    data.decode("utf-8")
    assert b"<meta" not in data  # a <meta charset> is not valid in a <body>: the charset comes from the header
    docs = (Path(__file__).resolve().parent.parent / "docs" / "publishing.md").read_text(encoding="utf-8")
    assert "Content-Type: text/html; charset=utf-8" in docs
    # The preview serves the fragment with the header docs/publishing.md tells sites to send.
    running = Preview(mini, port=0, say=lambda _message: None, pdf=False)
    running.start()
    try:
        _status, headers, _body = get(running, "/mini/nl/fragment.html")
    finally:
        running.close()
    assert headers["Content-Type"] == "text/html; charset=utf-8"


def test_the_embedding_example_in_the_docs(upcoming: Path, cli) -> None:
    """docs/publishing.md's host page, with the fragment where it says: a page of another site's
    layout whose every link out of the policy is absolute, and whose policy keeps its language."""
    with_base_url(upcoming)
    assert cli("build", "--today", "2026-06-01", cwd=upcoming).exit_code == 0
    docs = (Path(__file__).resolve().parent.parent / "docs" / "publishing.md").read_text(encoding="utf-8")
    host = docs.split("<!-- embedding example -->\n```html\n", 1)[1].split("```", 1)[0]
    assert "<!-- the fragment -->" in host
    fragment = (upcoming / "output" / "mini" / "nl" / "fragment.html").read_text(encoding="utf-8")
    page = host.replace("<!-- the fragment -->", fragment)
    policy_part = page.split('<article class="policygen-policy"', 1)[1].split("</article>", 1)[0]
    assert all(embeddable(link) for link in links_in(policy_part))
    assert 'lang="nl"' in page.split('<article class="policygen-policy"', 1)[1][:200]
    assert '<meta charset="utf-8">' in page.split("<body", 1)[0]


def test_a_released_policy_renamed_is_an_error_not_a_site_without_its_history(upcoming: Path, cli) -> None:
    # Renaming sources/mini/ (and its catalogs, as the catalog check asks) built a site where the
    # renamed policy showed its sources as current, with no archive page, archived copies or feed,
    # and archive/mini/ published nowhere, without a word: its release.json records the ID, so
    # the archive cannot follow the rename.
    (upcoming / "sources" / "mini").rename(upcoming / "sources" / "mini2")
    for po in upcoming.glob("locales/*/LC_MESSAGES/mini.po"):
        po.rename(po.with_name("mini2.po"))
    for command in ("check", "build"):
        result = cli(command, *(("--today", "2026-06-01", "--format", "html") if command == "build" else ()), cwd=upcoming)
        assert result.exit_code != 0 and result.exception is None, result.stdout
        assert ("archive/mini: releases of policy 'mini', which has no sources/mini/: they would be published nowhere; "
                "a released policy keeps its ID") in result.stderr, result.stderr
    assert not (upcoming / "output" / "mini2").exists()


def test_archived_copies_link_no_language_the_site_no_longer_publishes(upcoming: Path, cli) -> None:
    # A policy that drops a language (nl here) publishes no nl pages any more; the language switcher
    # of its archived copies still linked every language of the release (../../../nl/versions/1.0/),
    # links that led nowhere. The archive page already listed only the languages published.
    policy = upcoming / "sources" / "mini" / "policy.yaml"
    policy.write_text(policy.read_text(encoding="utf-8").replace("locales: [en, nl]", "locales: [en]"), encoding="utf-8")
    (upcoming / "locales" / "nl" / "LC_MESSAGES" / "mini.po").unlink()
    assert cli("build", "--today", "2026-07-05", "--format", "html", cwd=upcoming).exit_code == 0
    assert not (upcoming / "output" / "mini" / "nl").exists()
    for version in ("1.0", "1.1"):
        copy = page(upcoming, "en", "versions", version)
        assert f"/nl/versions/{version}/" not in copy and 'hreflang="nl"' not in copy, version


def test_the_page_in_force_links_the_languages_the_site_publishes_not_those_of_its_release(upcoming: Path, cli) -> None:
    # The page in force is rendered from its release's sources: its language switcher listed the
    # release's languages, so with nl dropped from the sources the English page linked ../nl/,
    # which the build no longer writes.
    policy = upcoming / "sources" / "mini" / "policy.yaml"
    policy.write_text(policy.read_text(encoding="utf-8").replace("locales: [en, nl]", "locales: [en]"), encoding="utf-8")
    (upcoming / "locales" / "nl" / "LC_MESSAGES" / "mini.po").unlink()
    assert cli("build", "--today", "2026-06-01", "--format", "html", cwd=upcoming).exit_code == 0
    current = page(upcoming, "en")
    assert version_of(current) == "1.0"  # the release in force, not the sources
    assert not (upcoming / "output" / "mini" / "nl").exists()
    assert 'href="../nl/"' not in current and 'hreflang="nl"' not in current


def test_a_language_whose_sources_are_the_upcoming_release_has_no_draft(upcoming: Path, cli) -> None:
    # The sources are 1.1 (upcoming) except for a Dutch translation edited since. The English
    # sources are exactly 1.1's, published at versions/1.1/, yet an English draft was made (the
    # sources as a whole differ from 1.1, and the English text from 1.0's): a second, "not in
    # force" copy of a released version. Only the Dutch page has a draft.
    po = upcoming / "locales" / "nl" / "LC_MESSAGES" / "mini.po"
    po.write_text(po.read_text(encoding="utf-8").replace('msgstr "Over ons"', 'msgstr "Over ons bedrijf"'), encoding="utf-8")
    assert cli("build", "--today", "2026-06-01", "--format", "html", cwd=upcoming).exit_code == 0
    assert version_of(page(upcoming, "en")) == "1.0" and version_of(page(upcoming, "nl")) == "1.0"
    assert "Over ons bedrijf" in page(upcoming, "nl", "draft")
    assert not (upcoming / "output" / "mini" / "en" / "draft").exists()
    manifest = json.loads((upcoming / "output" / "manifest.json").read_text(encoding="utf-8"))
    assert [(o["locale"], o["path"]) for o in manifest["outputs"] if o["format"] == "draft-html"] == [("nl", "mini/nl/draft/index.html")]
