"""The record of a check that passed: a second check of the same inputs answers from it, says
exactly what the first said, and any changed input makes a real check that reports every problem a
check without the record (``--no-cache``) reports."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from conftest import FIXTURES, MINI, copy_project

from policygen import build as build_stage
from policygen.build import build, check
from policygen.cache import CACHE_DIR
from policygen.errors import SourceError


def _with_warning(tmp_path: Path) -> Path:
    """The mini project with prose that names a recipient no fact covers (a warning)."""
    project = copy_project(MINI, tmp_path / "p")
    spec = yaml.safe_load((FIXTURES / "coverage" / "recipient-named.yaml").read_text(encoding="utf-8"))
    prose = project / "sources" / "mini" / "policy.md"
    prose.write_text(prose.read_text(encoding="utf-8") + "\n" + spec["append"], encoding="utf-8")
    return project


def test_a_second_check_answers_from_the_record_with_the_same_words(tmp_path: Path, cli) -> None:
    project = _with_warning(tmp_path)
    first = check(project, allow_incomplete=True)
    again = check(project, allow_incomplete=True)
    assert not first.recorded and again.recorded
    assert first.warnings and any("the prose names" in w.message for w in first.warnings)
    assert (again.policies, again.locales, again.warnings) == (first.policies, first.locales, first.warnings)
    fresh = cli("check", "--allow-incomplete", "--no-cache", cwd=project)
    recorded = cli("check", "--allow-incomplete", cwd=project)
    assert fresh.exit_code == recorded.exit_code == 0
    assert (recorded.stdout, recorded.stderr) == (fresh.stdout, fresh.stderr)
    assert "1 warning" in recorded.stdout
    # Another option is another key: checked afresh, so the Dutch clause the catalog lacks fails it.
    with pytest.raises(SourceError, match="is not in the catalog"):
        check(project, allow_incomplete=False)


_NOT_NEEDED = ("markdown_it", "yaml", "jinja2", "babel", "translate", "lxml", "jsonschema", "weasyprint")
"""Libraries a check answered from its record has no use for: each is imported on first use."""
_RECORD_MODULES = {"policygen", "policygen.cli", "policygen.api", "policygen.records", "policygen.cache", "policygen.atomic",
                   "policygen.errors"}
"""The only policygen modules a check answered from its record imports: no stage (not even the
model), since the API asks the record before it imports the check's stages."""


def test_a_check_answered_from_the_record_loads_no_parser_or_renderer(tmp_path: Path) -> None:
    project = _with_warning(tmp_path)
    assert not check(project, allow_incomplete=True).recorded
    script = ("import sys\nfrom policygen.cli import run\n"
              f"sys.argv = ['policygen', 'check', '--allow-incomplete', '-C', {str(project)!r}]\n"
              "try:\n    run()\nexcept SystemExit as exit:\n    assert not exit.code, exit.code\n"
              f"print('loaded:', sorted(m for m in {_NOT_NEEDED!r} if m in sys.modules))\n"
              f"print('stages:', sorted(m for m in sys.modules if m.startswith('policygen') and m not in {_RECORD_MODULES!r}))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert "1 warning" in done.stdout
    assert "loaded: []" in done.stdout, done.stdout
    assert "stages: []" in done.stdout, done.stdout


def test_a_fresh_check_loads_no_stage_it_does_not_use(tmp_path: Path) -> None:
    """``check --no-cache`` loads, translates and renders pages: it imports neither the PDF
    renderer's engine, the importers, the XLIFF exchange, the release workflow nor the preview server."""
    project = copy_project(MINI, tmp_path / "p")
    unused = ("weasyprint", "policygen.importers", "policygen.i18n.xliff", "policygen.archive.release", "policygen.serve",
              "policygen.render.redline", "policygen.scaffold")
    script = ("import sys\nfrom policygen.cli import run\n"
              f"sys.argv = ['policygen', 'check', '--no-cache', '--allow-incomplete', '-C', {str(project)!r}]\n"
              "try:\n    run()\nexcept SystemExit as exit:\n    assert not exit.code, exit.code\n"
              f"print('loaded:', sorted(m for m in sys.modules if m.startswith({unused!r})))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert "OK: 1 policy" in done.stdout, done.stdout
    assert "loaded: []" in done.stdout, done.stdout


def _break_prose(project: Path) -> None:
    prose = project / "sources" / "mini" / "policy.md"
    prose.write_text(prose.read_text(encoding="utf-8") + "\nWe keep {{ data.nonexistent }}.\n", encoding="utf-8")


def _break_facts(project: Path) -> None:
    facts = project / "sources" / "mini" / "policy.yaml"
    facts.write_text(facts.read_text(encoding="utf-8") + "\nunknown_field: 1\n", encoding="utf-8")


def _break_catalog(project: Path) -> None:
    catalog = next((project / "locales").rglob("*.po"))
    catalog.write_text(catalog.read_text(encoding="utf-8") + '\nmsgid "unclosed\n', encoding="utf-8")


def _break_theme(project: Path) -> None:
    (project / "theme" / "templates").mkdir(parents=True, exist_ok=True)
    (project / "theme" / "templates" / "page.html").write_text("{% block %}\n", encoding="utf-8")


def _break_rules(project: Path) -> None:
    (project / "rules.yaml").write_text("rules:\n  - id: [\n", encoding="utf-8")


def _break_config(project: Path) -> None:
    config = project / "policygen.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "\nno_such_setting: true\n", encoding="utf-8")


def _break_through_link(project: Path) -> None:
    """The prose is a symbolic link to a file elsewhere in the project; that file changes."""
    prose = project / "sources" / "mini" / "policy.md"
    kept = project / "drafts" / "policy.md"
    kept.parent.mkdir()
    shutil.move(prose, kept)
    os.symlink(os.path.relpath(kept, prose.parent), prose)
    assert check(project, allow_incomplete=True).recorded is False
    assert check(project, allow_incomplete=True).recorded is True
    _break_prose_at(kept)


def _break_prose_at(prose: Path) -> None:
    prose.write_text(prose.read_text(encoding="utf-8") + "\nWe keep {{ data.nonexistent }}.\n", encoding="utf-8")


BREAKS: dict[str, Callable[[Path], None]] = {
    "prose": _break_prose, "facts": _break_facts, "catalog": _break_catalog, "theme": _break_theme, "rules": _break_rules,
    "config": _break_config, "linked-prose": _break_through_link,
}


@pytest.mark.parametrize("name", BREAKS)
def test_a_changed_input_is_checked_and_every_problem_reported(name: str, tmp_path: Path, cli) -> None:
    project = copy_project(MINI, tmp_path / "p")
    assert cli("check", "--allow-incomplete", cwd=project).exit_code == 0
    assert check(project, allow_incomplete=True).recorded  # the record is there
    BREAKS[name](project)
    recorded = cli("check", "--allow-incomplete", cwd=project)
    fresh = cli("check", "--allow-incomplete", "--no-cache", cwd=project)
    assert fresh.exit_code == 1, fresh.stdout + fresh.stderr
    assert (recorded.exit_code, recorded.stdout, recorded.stderr) == (fresh.exit_code, fresh.stdout, fresh.stderr)
    # A failed check records nothing: the next one fails the same way.
    again = cli("check", "--allow-incomplete", cwd=project)
    assert (again.exit_code, again.stderr) == (1, fresh.stderr)


def test_a_build_keeps_the_record_and_an_altered_record_is_not_believed(tmp_path: Path) -> None:
    project = copy_project(MINI, tmp_path / "p")
    check(project, allow_incomplete=True)
    build(project, allow_incomplete=True, formats=["html"])  # a full build prunes its own entries, not the check's
    assert check(project, allow_incomplete=True).recorded
    record = next((project / CACHE_DIR / "check").rglob("*/*"))
    record.write_bytes(record.read_bytes().replace(b'"mini"', b'"else"'))
    redone = check(project, allow_incomplete=True)
    assert not redone.recorded and redone.policies == ("mini",)
    assert check(project, allow_incomplete=True, use_cache=False).recorded is False


def test_a_check_during_which_an_input_changed_records_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The record is kept under the key of the files as they were when the check began; one that
    read other bytes (a file saved while it ran) must not answer for them."""
    project = copy_project(MINI, tmp_path / "p")
    prose = project / "sources" / "mini" / "policy.md"
    original = prose.read_text(encoding="utf-8")
    named = _with_warning(tmp_path / "named") / "sources" / "mini" / "policy.md"
    real_prepare = build_stage.prepare

    def saved_meanwhile(*args: object, **options: object) -> object:
        prose.write_text(named.read_text(encoding="utf-8"), encoding="utf-8")  # the editor saves while check loads
        return real_prepare(*args, **options)

    monkeypatch.setattr(build_stage, "prepare", saved_meanwhile)
    assert check(project, allow_incomplete=True).warnings  # it read the saved file, which names a recipient
    monkeypatch.setattr(build_stage, "prepare", real_prepare)
    prose.write_text(original, encoding="utf-8")  # back to the bytes the key was made of
    again = check(project, allow_incomplete=True)
    assert not again.recorded and not again.warnings


@pytest.mark.skipif(not hasattr(__import__("socket"), "AF_UNIX"), reason="Unix sockets")
def test_a_socket_or_unreadable_file_in_the_project_is_no_traceback(mini: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Unix socket that a tool left in the project (an agent's, an editor server's) and a file
    policygen may not read (one an editor run with sudo left, to another user): the keys of a
    check and a build open every input file, and opening a socket fails (ENXIO), as opening a
    file of another user does (EACCES). Both ended in an OSError traceback. They are counted
    as such now; a file the loader needs and cannot read is still its error."""
    import socket

    monkeypatch.chdir(mini / "sources" / "mini")
    with socket.socket(socket.AF_UNIX) as listening:
        listening.bind("agent.sock")  # relative: a socket's path is short
        for args in (("check",), ("check", "--no-cache"), ("build", "--format", "html")):
            result = cli(*args, "-C", str(mini), "--allow-incomplete")
            assert result.exit_code == 0 and result.exception is None, (args, result.exception, result.stderr)
    (mini / "theme" / "assets").mkdir(parents=True)
    (mini / "theme" / "assets" / "site.css").write_text("body { color: #222; }\n", encoding="utf-8")
    real_open = os.open

    def refused(path: object, flags: int, *args: object, **options: object) -> int:
        if str(path).endswith(("notes.txt", "site.css")):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args, **options)  # type: ignore[arg-type]

    (mini / "sources" / "mini" / "notes.txt").write_text("legal's notes\n", encoding="utf-8")
    monkeypatch.setattr(os, "open", refused)
    from policygen.cache import file_digest, folder_digest

    assert file_digest(mini / "sources" / "mini" / "notes.txt") != file_digest(mini / "sources" / "mini" / "policy.md")
    assert folder_digest(mini / "theme" / "assets", links_within=mini)
