"""Nothing is lost and nothing leaks: failed runs change no file, symlinks cannot pull files
from outside the project into the site, output never lands in the sources."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def snapshot(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_symlinked_theme_asset_folder_is_refused(mini: Path, tmp_path: Path, cli) -> None:
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "key.txt").write_text("do not publish")
    (mini / "theme").mkdir()
    os.symlink(secret, mini / "theme" / "assets")
    result = cli("build", cwd=mini)
    assert result.exit_code == 1
    # The link is named, where the fix is, not each file behind it (their names stay unread).
    assert "theme/assets: leads outside the project" in result.stderr
    assert "key.txt" not in result.stderr
    assert not (mini / "output").exists()


def test_symlinked_template_is_refused(mini: Path, tmp_path: Path, cli) -> None:
    outside = tmp_path / "outside.html"
    outside.write_text("{{ fragment }}")
    (mini / "theme" / "templates").mkdir(parents=True)
    os.symlink(outside, mini / "theme" / "templates" / "page.html")
    result = cli("check", cwd=mini)
    assert result.exit_code == 1
    assert "theme/templates/page.html: theme template leads outside the project" in result.stderr


def test_symlinked_prose_is_refused(mini: Path, tmp_path: Path, cli) -> None:
    outside = tmp_path / "elsewhere.md"
    outside.write_text("# Secret\n")
    prose = mini / "sources" / "mini" / "policy.md"
    prose.unlink()
    os.symlink(outside, prose)
    result = cli("check", cwd=mini)
    assert result.exit_code == 1
    assert "sources/mini/policy.md: leads outside the project" in result.stderr


def test_output_may_not_overlap_sources(mini: Path, cli) -> None:
    for target in ("sources", "sources/x", "locales", "."):
        result = cli("build", "--output", target, cwd=mini)
        assert result.exit_code == 1, target
        assert "overlaps the project's" in result.stderr
    (mini / "afile").write_text("x")
    result = cli("build", "--output", "afile", cwd=mini)
    assert result.exit_code == 1 and "the output folder is a file" in result.stderr


def test_failed_write_changes_no_file(mini: Path, cli) -> None:
    assert cli("build", cwd=mini).exit_code == 0
    policy = mini / "sources" / "mini" / "policy.yaml"
    policy.write_text(policy.read_text(encoding="utf-8").replace('version: "1.0"', 'version: "2.0"'), encoding="utf-8")
    # A folder where a page must go makes that one write fail; no other page may change.
    page = mini / "output" / "mini" / "nl" / "index.html"
    page.unlink()
    page.mkdir()
    before = snapshot(mini / "output")
    result = cli("build", cwd=mini)
    assert result.exit_code == 1
    assert "cannot write the output" in result.stderr and "Traceback" not in result.stderr
    assert snapshot(mini / "output") == before
    assert not list((mini / "output").rglob("*.tmp"))


def test_update_with_a_broken_catalog_changes_no_file(mini: Path, cli) -> None:
    prose = mini / "sources" / "mini" / "policy.md"
    prose.write_text(prose.read_text(encoding="utf-8") + "\n{#new}\nA new paragraph.\n", encoding="utf-8")
    glossary_po = mini / "locales" / "km" / "LC_MESSAGES" / "glossary.po"
    glossary_po.write_text(glossary_po.read_text(encoding="utf-8") + '\nmsgid "broken\n', encoding="utf-8")
    before = snapshot(mini / "locales")
    result = cli("i18n", "update", cwd=mini)
    assert result.exit_code == 1
    assert "locales/km/LC_MESSAGES/glossary.po:" in result.stderr
    assert snapshot(mini / "locales") == before


def test_fallback_block_formats_facts_in_its_own_language(mini: Path, cli) -> None:
    po = mini / "locales" / "nl" / "LC_MESSAGES" / "mini.po"
    po.write_text(po.read_text(encoding="utf-8").replace('msgstr "Schrijf binnen {{right.access.response_time}} naar '
        '{{contact.mail}}."', 'msgstr ""'), encoding="utf-8")
    assert cli("build", "--allow-incomplete", cwd=mini).exit_code == 0
    page = (mini / "output" / "mini" / "nl" / "index.html").read_text(encoding="utf-8")
    assert '<span lang="en">Write to <a href="mailto:privacy@mini.example">privacy@mini.example</a> within 30\u00a0days.</span>' in page
    assert "bewaart e-mailadres en" in page  # the translated blocks keep Dutch facts


def test_build_selecting_nothing_is_an_error(mini: Path, cli) -> None:
    result = cli("build", "--locale", "km", cwd=mini)
    assert result.exit_code == 1
    assert "nothing to build: no selected policy is published in km" in result.stderr


def test_project_without_policies_is_an_error(tmp_path: Path, cli) -> None:
    (tmp_path / "sources").mkdir()
    (tmp_path / "policygen.yaml").write_text("site:\n  title: Empty\nlocales: [en]\n")
    result = cli("check", cwd=tmp_path)
    assert result.exit_code == 1
    assert "sources: no policies" in result.stderr


def test_many_placeholders_in_one_block(mini: Path, cli) -> None:
    # Placeholder context is computed in one pass; this used to be quadratic.
    prose = mini / "sources" / "mini" / "policy.md"
    prose.write_text("# Mini policy\n\n## About {#about}\n\n" + " and ".join(["{{data.email}}"] * 3000) + ".\n", encoding="utf-8")
    po = mini / "locales" / "nl" / "LC_MESSAGES" / "mini.po"
    po.unlink()
    result = cli("build", "--locale", "en", cwd=mini)
    assert result.exit_code == 0, result.stderr
    page = (mini / "output" / "mini" / "en" / "index.html").read_text(encoding="utf-8")
    assert page.count("email address") == 2999 and page.count("Email address") == 1


def test_a_previous_manifest_nested_too_deep_is_no_traceback(mini: Path, cli) -> None:
    """A build reads the manifest the output folder already has (whatever it holds: the folder
    may be a stale copy) to find what it can keep; JSON nested beyond Python's parser is no
    manifest, not a RecursionError."""
    (mini / "output").mkdir()
    (mini / "output" / "manifest.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    result = cli("build", cwd=mini)
    assert result.exit_code == 0 and result.exception is None, result.exception
    assert (mini / "output" / "manifest.json").read_text(encoding="utf-8").startswith("{")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
@pytest.mark.parametrize("where", ["sources/mini/policy.md", "sources/mini/policy.yaml", "policygen.yaml", "locales/nl/LC_MESSAGES/mini.po",
                                   "theme/templates/page.html", "sources/mini/notes.txt"])
@pytest.mark.parametrize("command", ["check", "build"])
def test_a_named_pipe_in_the_project_is_an_error_not_a_hang(mini: Path, where: str, command: str) -> None:
    """Reading a named pipe that nobody writes to blocks forever: the cache key of a check or
    build read every file of the project whole, FIFOs included, and so did the loaders. A pipe
    is no file: where policygen must read one it names it, anywhere else it is passed over."""
    pipe = mini / where
    pipe.parent.mkdir(parents=True, exist_ok=True)
    pipe.unlink(missing_ok=True)
    os.mkfifo(pipe)
    try:
        done = subprocess.run([sys.executable, "-m", "policygen", command, *(["--format", "html"] if command == "build" else [])], cwd=mini,
                              capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"'policygen {command}' hung on the named pipe {where}")
    assert "Traceback" not in done.stderr, done.stderr
    if where.endswith(("notes.txt", "page.html")):  # read by nobody; a theme template the loader passes over for the package's
        assert done.returncode == 0, done.stderr
    else:
        assert done.returncode == 1 and Path(where).name in done.stderr, done.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
@pytest.mark.parametrize("command", [("import", "{pipe}", "--policy", "piped", "--lang", "en"), ("i18n", "import", "{pipe}"),
                                     ("archive", "verify", "--against", "{pipe}"), ("archive", "verify", "--key", "{pipe}")])
def test_a_file_named_on_the_command_line_must_be_a_file(mini: Path, tmp_path: Path, command: tuple[str, ...]) -> None:
    """A named pipe (or a device: '--key /dev/zero' read until memory ran out, as did import and
    i18n import) is no file to import or to read a key or manifest from; the size limits these
    readers have looked at a size such files do not have."""
    pipe = tmp_path / "input.fifo"
    os.mkfifo(pipe)
    args = [arg.replace("{pipe}", str(pipe)) for arg in command]
    try:
        done = subprocess.run([sys.executable, "-m", "policygen", *args], cwd=mini, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"'policygen {' '.join(command)}' hung on a named pipe")
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert str(pipe) in done.stderr and "not a regular file" in done.stderr, done.stderr
