"""Versions on the page, by date: the current URL shows the version in force; an upcoming release
has its own URL and a banner; the sources' unreleased state is only a marked, unindexed draft."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_archive import add_sensitive_category, placeholder_pdf, set_version

from policygen.resources import builtin


def page(project: Path, locale: str = "nl", *parts: str) -> str:
    return (project / "output" / "mini" / locale / Path(*parts, "index.html")).read_text(encoding="utf-8")


def version_of(html: str) -> str:
    return html.split('<meta name="policygen:version" content="', 1)[1].split('"', 1)[0]


@pytest.fixture
def upcoming(mini: Path, cli, monkeypatch: pytest.MonkeyPatch) -> Path:
    """mini: 1.0 in force since 2026-05-05; 1.1 (a major change) released, effective 2026-07-01
    (with placeholder PDFs, as test_archive's placeholder_pdfs)."""
    monkeypatch.setattr("policygen.archive.release.render_pdf", placeholder_pdf)
    assert cli("release", "mini", "--version", "1.0", "--effective", "2026-05-05", cwd=mini).exit_code == 0
    set_version(mini, "1.1", "2026-07-01")
    add_sensitive_category(mini)
    assert cli("release", "mini", "--version", "1.1", "--effective", "2026-07-01", cwd=mini).exit_code == 0
    return mini


def test_a_release_30_days_ahead_is_not_the_current_page(upcoming: Path, cli) -> None:
    assert cli("build", "--today", "2026-06-01", cwd=upcoming).exit_code == 0
    current = page(upcoming)
    assert version_of(current) == "1.0"
    assert "genetische gegevens" not in current.split('class="policygen-banner"', 1)[0]  # 1.1's text is not the page's
    assert "<strong>Dit beleid wijzigt op 1 juli 2026. Dit verandert er voor jou:</strong>" in current
    assert '<a href="versions/1.1/">Lees de nieuwe versie (geldt vanaf 1 juli 2026)</a>' in current
    assert version_of(page(upcoming, "nl", "versions", "1.1")) == "1.1"
    # The sources are the upcoming release: it has its own URL, there is no draft.
    assert not (upcoming / "output" / "mini" / "nl" / "draft").exists()
    banner = json.loads((upcoming / "output" / "mini" / "nl" / "banner.json").read_text(encoding="utf-8"))
    assert banner["upcoming"] is True and banner["href"] == "versions/1.1/"
    assert banner["banner"] == "Dit beleid wijzigt op 1 juli 2026. Dit verandert er voor jou:"
    manifest = json.loads((upcoming / "output" / "manifest.json").read_text(encoding="utf-8"))
    assert {o["version"] for o in manifest["outputs"] if o["format"] == "html"} == {"1.0"}


def test_the_banner_tense_follows_the_date(upcoming: Path, cli) -> None:
    assert cli("build", "--today", "2026-07-05", cwd=upcoming).exit_code == 0
    current = page(upcoming, "en")
    assert version_of(current) == "1.1"
    assert "<strong>This policy changed on July 1, 2026. What changed for you:</strong>" in current
    assert "policygen-banner-version" not in current  # the new version is this page
    banner = json.loads((upcoming / "output" / "mini" / "en" / "banner.json").read_text(encoding="utf-8"))
    assert banner["upcoming"] is False and banner["href"] == ""


def test_tense_texts_in_every_locale() -> None:
    ui = builtin()["ui"]
    for key in ("change_upcoming", "change_past", "read_upcoming", "draft_notice", "draft_current"):
        assert set(ui[key]) >= {"en", "nl", "km"}, key
        assert all("{date}" in text for text in ui[key].values()) or not key.startswith(("change", "read")), key


def test_unreleased_sources_are_only_a_draft(upcoming: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("policygen.build.render_pdf", placeholder_pdf)
    prose = upcoming / "sources" / "mini" / "policy.md"
    prose.write_text(prose.read_text(encoding="utf-8").replace("Write to", "Please write to"), encoding="utf-8")
    for locale in ("nl",):  # the translation follows the new source text; its wording stays
        po = upcoming / "locales" / locale / "LC_MESSAGES" / "mini.po"
        po.write_text(po.read_text(encoding="utf-8").replace('msgid "Write to', 'msgid "Please write to'), encoding="utf-8")
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


def test_without_releases_the_sources_are_current(mini: Path, cli) -> None:
    assert cli("build", "--today", "2026-07-05", cwd=mini).exit_code == 0
    assert version_of(page(mini)) == "1.0"  # the sources
    assert not (mini / "output" / "mini" / "nl" / "draft").exists()
    assert '<meta name="robots"' not in page(mini)
