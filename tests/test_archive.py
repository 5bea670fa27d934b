"""Releases and the archive: append-only, hash-chained, atomic; the version in force on a date;
archive pages, banners and feeds in the built site."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import MINI, build_once, copy_project, private_copy
from typer.testing import CliRunner

from policygen.archive.store import in_force, releases
from policygen.cli import app

ATOM = "{http://www.w3.org/2005/Atom}"


def set_version(project: Path, version: str, effective: str, extra: str = "", old: str = "") -> None:
    path = project / "sources" / "mini" / "policy.yaml"
    text = path.read_text(encoding="utf-8")
    text = "\n".join(
        f'version: "{version}"' if line.startswith("version:") else f"effective_date: {effective}" if line.startswith("effective_date:") else line
        for line in text.splitlines()) + "\n"
    if old:
        text = text.replace(old, extra)
    path.write_text(text, encoding="utf-8")


def add_sensitive_category(project: Path) -> None:
    policy = project / "sources" / "mini" / "policy.yaml"
    text = policy.read_text(encoding="utf-8")
    policy.write_text(text.replace("data_categories:\n", "data_categories:\n  - id: genes\n    sensitive: true\n", 1), encoding="utf-8")
    glossary = project / "glossary.yaml"
    glossary.write_text(glossary.read_text(encoding="utf-8").replace("data_category:\n", "data_category:\n  genes: genetic data\n", 1), encoding="utf-8")
    po = project / "locales" / "nl" / "LC_MESSAGES" / "glossary.po"
    po.write_text(po.read_text(encoding="utf-8") + '\nmsgctxt "data_category:genes"\nmsgid "genetic data"\nmsgstr "genetische gegevens"\n', encoding="utf-8")


def make_releases(folder: Path) -> None:
    """Three releases of the mini policy, in ``folder/mini``; the second one is a major change."""
    mini = copy_project(MINI, folder / "mini")
    runner = CliRunner()

    def release(*args: str) -> str:
        result = runner.invoke(app, ["release", "mini", *args, "--project", str(mini)], catch_exceptions=False)
        assert result.exit_code == 0, result.stderr
        return result.stdout

    release("--version", "1.0", "--effective", "2026-05-05", "--notes", "First version")
    set_version(mini, "1.1", "2026-07-01")
    add_sensitive_category(mini)
    assert "major change against the previous release" in release("--version", "1.1", "--effective", "2026-07-01", "--notes", "Genetic data")
    set_version(mini, "1.2", "2026-09-01")
    prose = mini / "sources" / "mini" / "policy.md"
    prose.write_text(prose.read_text(encoding="utf-8").replace("Write to", "Wirte to"), encoding="utf-8")
    po = mini / "locales" / "nl" / "LC_MESSAGES" / "mini.po"
    po.write_text(po.read_text(encoding="utf-8").replace('msgid "Write to', 'msgid "Wirte to'), encoding="utf-8")
    release("--version", "1.2", "--effective", "2026-09-01")


@pytest.fixture(scope="session")
def three_releases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mini project after three releases (with their PDFs), made once per test run."""
    return build_once(tmp_path_factory, "mini-three-releases", make_releases) / "mini"


@pytest.fixture
def released(three_releases: Path, tmp_path: Path) -> Path:
    """This test's own copy of :func:`three_releases`: it may change the archive."""
    return private_copy(three_releases, tmp_path / "mini")


def placeholder_pdf(project: object, item: Any, variant: str = "pdf/ua-1", strict: bool = True, source: str | None = None) -> bytes:
    return b"%PDF-1.7 placeholder for " + item.locale.encode()


def placeholder_redline_pdf(report: object, pages: object, locale: str) -> bytes:
    return b"%PDF-1.7 placeholder redline for " + locale.encode()


@pytest.fixture
def placeholder_pdfs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Releases in this test archive a placeholder instead of a laid-out PDF: for tests about
    the archive's locking, atomicity and banners, what a PDF holds does not matter, and laying
    one out takes most of a release's time. (The releases of :func:`three_releases` have real
    PDFs, and tests/test_pdf.py tests them.)"""
    monkeypatch.setattr("policygen.archive.release.render_pdf", placeholder_pdf)
    monkeypatch.setattr("policygen.archive.release.redline_pdf", placeholder_redline_pdf)


def test_three_releases_verify(released: Path, cli) -> None:
    result = cli("archive", "verify", cwd=released)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("OK: 3 releases")
    found = releases(released, "mini")
    assert [(r.version, r.sequence, r.severity) for r in found] == [("1.0", 1, None), ("1.1", 2, "major"), ("1.2", 3, "editorial")]
    assert found[1].previous == found[0].digest and found[2].previous == found[1].digest
    listing = cli("archive", "list", "mini", cwd=released).stdout
    assert "1.1" in listing and "Genetic data" in listing
    release_dir = released / "archive" / "mini" / "1.1"
    assert (release_dir / "output" / "nl" / "mini-nl.pdf").is_file() and (release_dir / "output" / "nl" / "redline.html").is_file()
    # the redline's changes-only page and its PDF, laid out as the policies' PDFs are
    assert (release_dir / "output" / "nl" / "redline-changes.html").is_file()
    assert (release_dir / "output" / "nl" / "redline.pdf").read_bytes().startswith(b"%PDF-")
    assert json.loads((release_dir / "changes.json").read_text(encoding="utf-8"))["severity"] == "major"


def test_one_changed_byte_fails_verify(released: Path, cli) -> None:
    target = released / "archive" / "mini" / "1.0" / "output" / "en" / "index.html"
    data = bytearray(target.read_bytes())
    data[100] ^= 1
    target.write_bytes(bytes(data))
    result = cli("archive", "verify", cwd=released)
    assert result.exit_code == 1
    assert "archive/mini/1.0/output/en/index.html: changed: its SHA-256 differs" in result.stderr


def test_removed_extra_and_rewritten_history_fail_verify(released: Path, cli) -> None:
    (released / "archive" / "mini" / "1.2" / "sources" / "policy.md").unlink()
    (released / "archive" / "mini" / "1.2" / "notes.txt").write_text("added later")
    manifest = released / "archive" / "mini" / "1.0" / "release.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["notes"] = "rewritten"
    manifest.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    result = cli("archive", "verify", cwd=released)
    assert result.exit_code == 1
    assert "archive/mini/1.2/sources/policy.md: missing" in result.stderr
    assert "archive/mini/1.2/notes.txt: extra" in result.stderr
    assert "archive/mini/1.1/release.json: the hash of the previous release does not match" in result.stderr


def test_release_refusals(released: Path, cli) -> None:
    again = cli("release", "mini", "--version", "1.2", "--effective", "2026-09-01", cwd=released)
    assert again.exit_code == 1 and "version 1.2 is already released" in again.stderr
    set_version(released, "1.3", "2026-08-01")
    earlier = cli("release", "mini", "--version", "1.3", "--effective", "2026-08-01", cwd=released)
    assert earlier.exit_code == 1 and "is before that of the last release (1.2, 2026-09-01)" in earlier.stderr
    unsafe = cli("release", "mini", "--version", "../1.3", "--effective", "2026-10-01", cwd=released)
    assert unsafe.exit_code == 1 and "is not safe" in unsafe.stderr
    mismatch = cli("release", "mini", "--version", "1.4", "--effective", "2026-10-01", cwd=released)
    assert mismatch.exit_code == 1 and 'set version: "1.4"' in mismatch.stderr
    set_version(released, "1.3", "2026-10-01")
    prose = released / "sources" / "mini" / "policy.md"
    prose.write_text(prose.read_text(encoding="utf-8").replace("Wirte to", "Please write to"), encoding="utf-8")
    gated = cli("release", "mini", "--version", "1.3", "--effective", "2026-10-01", cwd=released)
    assert gated.exit_code == 1 and "[nl] clause 'rights-text' is not in the catalog" in gated.stderr
    assert [r.version for r in releases(released, "mini")] == ["1.0", "1.1", "1.2"]


def test_show_at_answers_around_an_effective_date(released: Path, cli) -> None:
    assert in_force(released, "mini", date(2026, 6, 30)).version == "1.0"
    assert in_force(released, "mini", date(2026, 7, 1)).version == "1.1"
    assert in_force(released, "mini", date(2026, 7, 2)).version == "1.1"
    assert in_force(released, "mini", date(2026, 5, 4)) is None
    result = cli("archive", "show", "mini", "--at", "2026-06-30", "--locale", "nl", cwd=released)
    assert result.exit_code == 0
    assert "mini 1.0, in force since 2026-05-05" in result.stdout and "archive/mini/1.0/output/nl/mini-nl.pdf" in result.stdout
    assert "mini 1.1" in cli("archive", "show", "mini", "--at", "2026-07-01", cwd=released).stdout
    none = cli("archive", "show", "mini", "--at", "2026-01-01", cwd=released)
    assert none.exit_code == 1 and "no release was in force on 2026-01-01" in none.stderr


def test_diff_archived_versions(released: Path, cli) -> None:
    result = cli("diff", "mini@1.0", "mini@1.1", "--format", "json", cwd=released)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["severity"] == "major"
    assert report["reports"][0]["changes"][0]["path"] == "data_categories/genes"
    bad = cli("diff", "mini@0.9", "mini@1.1", cwd=released)
    assert bad.exit_code == 1 and "no archived release 0.9 of mini (released: 1.0, 1.1, 1.2)" in bad.stderr


@pytest.mark.parametrize(("today", "shown"), [
    ("2026-06-20", True),    # before it applies: users are told in advance
    ("2026-07-01", True),    # on the effective date
    ("2026-07-31", True),    # the last day of the 30-day notice period
    ("2026-08-01", False),   # after it
])
def test_banner_only_inside_the_notice_period(released: Path, cli, today: str, shown: bool) -> None:
    result = cli("build", "--today", today, cwd=released)
    assert result.exit_code == 0, result.stderr
    page = (released / "output" / "mini" / "nl" / "index.html").read_text(encoding="utf-8")
    assert ('class="policygen-banner"' in page) is shown
    assert (released / "output" / "mini" / "nl" / "banner.json").exists() is shown
    if not shown:  # 1.2, an editorial change, is still to come: announced in one sentence
        assert "<strong>Vanaf 1\u00a0september\u00a02026 geldt een nieuwe versie van dit beleid.</strong>" in page
    if shown:
        banner = json.loads((released / "output" / "mini" / "nl" / "banner.json").read_text(encoding="utf-8"))
        assert banner["version"] == "1.1" and banner["upcoming"] is (today < "2026-07-01")
        # The list follows the date like the first sentence: as recorded before it, as it is now after.
        assert banner["items"] == (["We gaan een nieuwe categorie gevoelige persoonsgegevens verzamelen: genetische gegevens."]
                                   if today < "2026-07-01" else ["We verzamelen nu een nieuwe categorie gevoelige persoonsgegevens: genetische gegevens."])
        fragment = (released / "output" / "mini" / "nl" / "banner.html").read_text(encoding="utf-8")
        assert 'role="region"' in fragment and 'lang="nl"' in fragment


def test_no_banner_for_a_release_that_is_not_major(mini: Path, cli, placeholder_pdfs: None) -> None:
    assert cli("release", "mini", "--version", "1.0", "--effective", "2026-05-05", cwd=mini).exit_code == 0
    assert cli("build", "--today", "2026-05-06", cwd=mini).exit_code == 0
    assert 'class="policygen-banner"' not in (mini / "output" / "mini" / "en" / "index.html").read_text(encoding="utf-8")


def test_archive_pages_and_feeds(released: Path, cli) -> None:
    assert cli("build", "--today", "2026-08-15", cwd=released).exit_code == 0
    out = released / "output" / "mini" / "nl"
    page = (out / "index.html").read_text(encoding="utf-8")
    assert '<a href="archive/">Alle versies van dit beleid</a>' in page
    archive = (out / "archive" / "index.html").read_text(encoding="utf-8")
    for version in ("1.0", "1.1", "1.2"):
        assert f'<a href="../versions/{version}/">{version}</a>' in archive
        assert (out / "versions" / version / "index.html").is_file() and (out / "versions" / version / "mini-nl.pdf").is_file()
    assert "<strong>binnenkort: geldt vanaf 1\u00a0september\u00a02026</strong>" in archive   # 1.2 is upcoming on 2026-08-15
    assert '1.1</a> (<a href="../versions/1.1/mini-nl.pdf">PDF</a>) <strong>van kracht</strong>' in archive
    assert '<a href="../versions/1.1/redline.html">' in archive and "Belangrijke wijziging" in archive and "Genetic data" in archive
    redline = (out / "versions" / "1.1" / "redline.html").read_text(encoding="utf-8")
    stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+)">', redline)
    assert stylesheet and (out / "versions" / "1.1" / stylesheet.group(1)).resolve() == (released / "output" / "assets" / "policygen.css").resolve()
    assert (out / "versions" / "1.1" / stylesheet.group(1)).is_file()
    assert 'href="redline.pdf"' in redline and (out / "versions" / "1.1" / "redline.pdf").is_file()
    assert (out / "versions" / "1.1" / "redline-changes.html").is_file()
    feed = ET.fromstring((out / "feed.atom").read_bytes())
    assert feed.tag == f"{ATOM}feed"
    # RFC 4287: a feed has id, title, updated and an author; each entry id, title, updated and a link or content
    for name in ("id", "title", "updated", "author"):
        assert feed.find(f"{ATOM}{name}") is not None, name
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 3
    for entry in entries:
        for name in ("id", "title", "updated", "link", "summary"):
            assert entry.find(f"{ATOM}{name}") is not None, name
    major = next(e for e in entries if e.find(f"{ATOM}title").text.endswith("1.1"))
    assert major.find(f"{ATOM}category").get("term") == "major"
    assert "genetische gegevens" in major.find(f"{ATOM}summary").text
    assert len({e.find(f"{ATOM}id").text for e in entries}) == 3


KILL_SCRIPT = """
import os, signal, sys, threading, time
from datetime import date
from pathlib import Path
import policygen.archive.release as archive
# What the PDFs hold does not matter here, only where the process dies: a placeholder spares
# loading WeasyPrint and laying out pages in every killed process.
archive.render_pdf = lambda project, item, variant="pdf/ua-1": b"%PDF-1.7 placeholder for " + item.locale.encode()  # as placeholder_pdfs
archive.redline_pdf = lambda report, pages, locale: b"%PDF-1.7 placeholder redline for " + locale.encode()
point = sys.argv[2]
if point == "rename":
    # killed at the very last step: everything written and synced, not yet renamed into place
    archive.os.rename = lambda *a: os.kill(os.getpid(), signal.SIGKILL)
else:
    original = getattr(archive, point)
    def killer(*args, **kwargs):
        original(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)
    setattr(archive, point, killer)
archive.release(Path(sys.argv[1]), "mini", "1.3", date(2026, 10, 1))
"""


@pytest.mark.parametrize("point", ["_changes_against", "_fsync_tree", "rename"])
def test_sigkill_during_a_release_leaves_the_archive_intact(released: Path, tmp_path: Path, point: str, cli, placeholder_pdfs: None) -> None:
    set_version(released, "1.3", "2026-10-01")
    before = {p: p.read_bytes() for p in (released / "archive").rglob("*") if p.is_file() and p.name != ".lock" and ".release-" not in str(p)}
    script = tmp_path / "kill.py"
    script.write_text(KILL_SCRIPT, encoding="utf-8")
    process = subprocess.run([sys.executable, str(script), str(released), point], capture_output=True, timeout=300)
    assert process.returncode == -signal.SIGKILL, process.stderr
    after = {p: p.read_bytes() for p in (released / "archive").rglob("*") if p.is_file() and p.name != ".lock" and ".release-" not in str(p)}
    assert after == before
    result = cli("archive", "verify", cwd=released)
    assert result.exit_code == 0, result.stderr
    assert [r.version for r in releases(released, "mini")] == ["1.0", "1.1", "1.2"]
    # and the next release still works, clearing what the killed one left behind
    assert cli("release", "mini", "--version", "1.3", "--effective", "2026-10-01", cwd=released).exit_code == 0
    assert not list((released / "archive" / "mini").glob(".release-*"))
    assert cli("archive", "verify", cwd=released).exit_code == 0


HOLD_LOCK = """
import fcntl, os, select, sys
handle = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(handle, fcntl.LOCK_EX)
print("locked", flush=True)
select.select([sys.stdin], [], [], 120)  # hold it until the test says so (or two minutes pass)
"""


def test_a_concurrent_release_is_refused_while_another_holds_the_lock(released: Path, placeholder_pdfs: None) -> None:
    """A release takes the policy's archive lock without waiting: while another process holds
    it, a second release stops at once with a clear message and archives nothing; once the
    lock is free, the same release goes through."""
    from policygen.archive.release import release
    from policygen.errors import PolicygenError

    set_version(released, "1.3", "2026-10-01")
    folder = released / "archive" / "mini"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(folder / ".lock")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "locked\n"
        before = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))
        started = time.monotonic()
        with pytest.raises(PolicygenError, match="another release of this policy is running; try again when it has finished"):
            release(released, "mini", "1.3", date(2026, 10, 1))
        assert time.monotonic() - started < 30, "refused, but only after waiting"
        assert holder.poll() is None, "the lock was still held when the release was refused"
        assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) == before
    finally:
        holder.communicate("done\n", timeout=60)
    assert holder.returncode == 0
    done = release(released, "mini", "1.3", date(2026, 10, 1))
    assert done.version == "1.3" and done.sequence == 4
    assert [r.version for r in releases(released, "mini")] == ["1.0", "1.1", "1.2", "1.3"]
    assert not list(folder.glob(".release-*"))


def test_the_sample_archive_verifies(cli) -> None:
    from conftest import SAMPLE

    result = cli("archive", "verify", cwd=SAMPLE)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("OK: 3 releases")
    assert [r.version for r in releases(SAMPLE, "tonle-privacy")] == ["2.0", "2.1", "3.0"]
    assert [r.severity for r in releases(SAMPLE, "tonle-privacy")] == [None, "minor", "major"]


def test_built_site_has_no_broken_links(sample: Path, cli) -> None:
    import re

    assert cli("build", "--today", "2026-03-10", cwd=sample).exit_code == 0
    out = (sample / "output").resolve()
    broken = []
    for page in out.rglob("*.html"):
        for target in re.findall(r'(?:href|src)="([^"#][^"]*)"', page.read_text(encoding="utf-8")):
            if re.match(r"^[a-z]+:", target):
                continue
            path = (page.parent / target.split("#")[0]).resolve()
            if target.split("#")[0].endswith("/"):
                path = path / "index.html"
            if not path.exists():
                broken.append((page.relative_to(out).as_posix(), target))
    assert broken == []
    assert (out / "tonle-privacy" / "km" / "versions" / "2.0" / "index.html").is_file()


def test_tampered_archive_is_not_published(released: Path, cli) -> None:
    page = released / "archive" / "mini" / "1.0" / "output" / "en" / "index.html"
    page.write_bytes(page.read_bytes() + b"<script>alert(1)</script>")
    result = cli("build", "--today", "2026-08-15", cwd=released)
    assert result.exit_code == 1
    assert "archive/mini/1.0/output/en/index.html: differs from the hash recorded at release" in result.stderr


def test_crafted_manifest_cannot_escape(released: Path, cli) -> None:
    manifest = released / "archive" / "mini" / "1.0" / "release.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["version"] = "../../../../escaped"
    manifest.write_text(json.dumps(data), encoding="utf-8")
    result = cli("build", "--today", "2026-08-15", cwd=released)
    assert result.exit_code == 1 and "does not describe this folder safely" in result.stderr
    assert not (released.parent / "escaped").exists()
    verified = cli("archive", "verify", cwd=released)
    assert verified.exit_code == 1 and "Traceback" not in verified.stderr


def test_verify_head_pin_and_unknown_policy(released: Path, cli) -> None:
    result = cli("archive", "verify", cwd=released)
    head = next(line for line in result.stdout.splitlines() if line.startswith("head mini="))
    digest = head.split("=")[1].split()[0]
    assert cli("archive", "verify", "--head", f"mini={digest}", cwd=released).exit_code == 0
    import shutil

    shutil.rmtree(released / "archive" / "mini" / "1.2")  # the newest release disappears
    assert cli("archive", "verify", cwd=released).exit_code == 0  # the chain alone cannot tell
    pinned = cli("archive", "verify", "--head", f"mini={digest}", cwd=released)
    assert pinned.exit_code == 1 and "not the expected head" in pinned.stderr
    typo = cli("archive", "verify", "mni", cwd=released)
    assert typo.exit_code == 1 and "no archive for policy 'mni'" in typo.stderr


def add_biometrics(project: Path) -> None:
    """A new sensitive category, with its Dutch label: a major change whose notice is complete."""
    policy = project / "sources" / "mini" / "policy.yaml"
    policy.write_text(policy.read_text(encoding="utf-8").replace("data_categories:\n", "data_categories:\n  - id: biometrics\n    sensitive: true\n", 1),
                      encoding="utf-8")
    glossary = project / "glossary.yaml"
    glossary.write_text(glossary.read_text(encoding="utf-8").replace("data_category:\n", "data_category:\n  biometrics: biometric data\n", 1), encoding="utf-8")
    po = project / "locales" / "nl" / "LC_MESSAGES" / "glossary.po"
    po.write_text(po.read_text(encoding="utf-8") + '\nmsgctxt "data_category:biometrics"\nmsgid "biometric data"\nmsgstr "biometrische gegevens"\n',
                  encoding="utf-8")


def test_release_with_pending_translations_then_completed(released: Path, cli, placeholder_pdfs: None) -> None:
    """An urgent change goes out with its Dutch translation pending (release.json, archive page,
    feed and banner say so); a later release with the translation done completes it."""
    set_version(released, "1.3", "2026-10-01")
    add_biometrics(released)
    prose = released / "sources" / "mini" / "policy.md"
    prose.write_text(prose.read_text(encoding="utf-8").replace("Wirte to", "Write to"), encoding="utf-8")  # its Dutch is now missing
    refused = cli("release", "mini", "--version", "1.3", "--effective", "2026-10-01", cwd=released)
    assert refused.exit_code == 1 and "[nl] clause" in refused.stderr and not (released / "archive" / "mini" / "1.3").exists()
    done = cli("release", "mini", "--version", "1.3", "--effective", "2026-10-01", "--allow-incomplete", cwd=released)
    assert done.exit_code == 0, done.stderr
    assert "translation pending: nl (1 block and 0 glossary labels in the source language)" in done.stdout
    manifest = json.loads((released / "archive" / "mini" / "1.3" / "release.json").read_text(encoding="utf-8"))
    assert manifest["incomplete"] == {"nl": {"blocks": 1, "labels": 0}} and manifest["severity"] == "major"
    assert cli("archive", "verify", cwd=released).exit_code == 0

    # The live site too is built with the translation pending, as the release was.
    assert cli("build", "--today", "2026-10-01", cwd=released).exit_code == 1
    assert cli("build", "--today", "2026-10-01", "--allow-incomplete", cwd=released).exit_code == 0
    out = released / "output" / "mini"
    assert "Deze vertaling is onvolledig" in (out / "nl" / "index.html").read_text(encoding="utf-8")
    pending_nl = "Vertaling nog niet gereed: Nederlands."
    assert pending_nl in (out / "nl" / "banner.html").read_text(encoding="utf-8")
    assert pending_nl in (out / "nl" / "index.html").read_text(encoding="utf-8")
    assert json.loads((out / "nl" / "banner.json").read_text(encoding="utf-8"))["pending"] == ["nl"]
    assert "Translation still pending: Dutch." in (out / "en" / "banner.html").read_text(encoding="utf-8")
    archive = (out / "en" / "archive" / "index.html").read_text(encoding="utf-8")
    row = archive.split('<a href="../versions/1.3/">')[1].split("</tr>")[0]
    assert '<span class="policy-pending">Translation still pending: Dutch.' in row
    assert "pending" not in archive.split('<a href="../versions/1.2/">')[1].split("</tr>")[0]
    feed = ET.fromstring((out / "nl" / "feed.atom").read_bytes())
    entry = next(e for e in feed.findall(f"{ATOM}entry") if e.find(f"{ATOM}title").text.endswith("1.3"))
    assert pending_nl in entry.find(f"{ATOM}summary").text

    # The translators catch up; the next release, same legal text, completes Dutch.
    po = released / "locales" / "nl" / "LC_MESSAGES" / "mini.po"
    po.write_text(po.read_text(encoding="utf-8").replace('msgid "Wirte to', 'msgid "Write to'), encoding="utf-8")
    set_version(released, "1.4", "2026-10-01")
    done = cli("release", "mini", "--version", "1.4", "--effective", "2026-10-01", "--notes", "Dutch translation completed", cwd=released)
    assert done.exit_code == 0, done.stderr
    assert "translation pending" not in done.stdout
    assert "incomplete" not in json.loads((released / "archive" / "mini" / "1.4" / "release.json").read_text(encoding="utf-8"))
    assert cli("build", "--today", "2026-10-02", cwd=released).exit_code == 0
    assert "Vertaling nog niet gereed" not in (out / "nl" / "banner.html").read_text(encoding="utf-8")  # the 1.3 banner stays, complete
    assert json.loads((out / "nl" / "banner.json").read_text(encoding="utf-8"))["pending"] == []
    archive = (out / "nl" / "archive" / "index.html").read_text(encoding="utf-8")
    assert '<span class="policy-completed">Vertaling gereed: Nederlands.</span>' in archive.split('<a href="../versions/1.4/">')[1].split("</tr>")[0]
    assert "Vertaling nog niet gereed: Nederlands." in archive.split('<a href="../versions/1.3/">')[1].split("</tr>")[0]  # history is kept
    assert "Deze vertaling is onvolledig" not in (out / "nl" / "index.html").read_text(encoding="utf-8")
    assert cli("archive", "verify", cwd=released).exit_code == 0


def test_a_release_manifest_with_a_bad_incomplete_record_is_refused(released: Path, cli, placeholder_pdfs: None) -> None:
    path = released / "archive" / "mini" / "1.2" / "release.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["incomplete"] = {"km": {"blocks": 1, "labels": 0}}  # not a locale of this release
    path.write_text(json.dumps(data), encoding="utf-8")
    result = cli("archive", "list", "mini", cwd=released)
    assert result.exit_code == 1 and "release.json: the manifest does not describe this folder safely" in result.stderr


def test_a_version_label_that_differs_only_in_case_is_refused(mini: Path, cli, placeholder_pdfs: None) -> None:
    """'R1' and 'r1' are two folders on Linux but one on Windows and macOS, where a checkout of
    the archive would put the second release into the first one's folder."""
    policy = mini / "sources" / "mini" / "policy.yaml"
    policy.write_text(policy.read_text(encoding="utf-8").replace('version: "1.0"', 'version: "R1"'), encoding="utf-8")
    assert cli("release", "mini", "--version", "R1", "--effective", "2026-05-05", cwd=mini).exit_code == 0
    policy.write_text(policy.read_text(encoding="utf-8").replace('version: "R1"', 'version: "r1"'), encoding="utf-8")
    result = cli("release", "mini", "--version", "r1", "--effective", "2026-05-05", cwd=mini)
    assert result.exit_code == 1 and result.exception is None, result.exception
    assert "archive/mini/r1: version r1 differs only in case from the released R1" in result.stderr
    assert sorted(p.name for p in (mini / "archive" / "mini").iterdir()) == [".lock", "R1"]


@pytest.mark.parametrize(("notes", "says"), [("Fixed\x0ba typo", "the control character U+000B"), ("Fixed \uffff", "U+FFFF")],
                         ids=["vertical-tab", "non-character"])
def test_release_notes_with_a_control_character_are_refused(mini: Path, cli, placeholder_pdfs: None, notes: str, says: str) -> None:
    """The notes are shown on the archive page and in the feed: a control character (Word's
    Shift+Enter) got onto the page as it is, which the sources and translations may not do."""
    result = cli("release", "mini", "--version", "1.0", "--effective", "2026-05-05", "--notes", notes, cwd=mini)
    assert result.exit_code == 1 and result.exception is None, result.exception
    assert result.stderr.startswith(f"policygen: --notes holds {says}"), result.stderr
    assert not (mini / "archive" / "mini" / "1.0").exists()
