"""A prose-only policy (no facts modelled) is a valid policy: it checks, builds, diffs and
releases; ``check`` lists each missing fact as a warning with its place, and the project setting
``facts: required`` turns them into errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FIXTURES, copy_project

PROSE_ONLY = FIXTURES / "projects" / "prose-only"


@pytest.fixture
def plain(tmp_path: Path) -> Path:
    return copy_project(PROSE_ONLY, tmp_path / "plain")


def test_check_passes_with_a_warning_per_missing_fact(plain: Path, cli) -> None:
    result = cli("check", cwd=plain)
    assert result.exit_code == 0, result.stderr
    warnings = result.stderr.splitlines()
    assert len(warnings) == 11
    assert all(w.startswith("sources/plain/policy.yaml:1: warning: ") for w in warnings)
    assert any("minimum_age is not modelled" in w for w in warnings)
    assert "11 warnings" in result.stdout


def test_partial_controller_and_an_empty_list(plain: Path, cli) -> None:
    facts = plain / "sources" / "plain" / "policy.yaml"
    facts.write_text(facts.read_text(encoding="utf-8") + "transfers: []\ncontroller:\n  name: Harbour Lantern Books\n", encoding="utf-8")
    result = cli("check", cwd=plain)
    assert result.exit_code == 0, result.stderr
    assert "transfers is not" not in result.stderr  # an empty list says "none"
    assert "sources/plain/policy.yaml:8: warning: controller.address is not modelled" in result.stderr
    assert "sources/plain/policy.yaml:8: warning: controller.email (or phone or url) is not modelled" in result.stderr


def test_facts_required_makes_them_errors(plain: Path, cli) -> None:
    config = plain / "policygen.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "facts: required\n", encoding="utf-8")
    result = cli("check", cwd=plain)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == "policygen: 11 errors"
    assert "warning" not in result.stderr


def test_a_placeholder_needs_its_fact(plain: Path, cli) -> None:
    prose = plain / "sources" / "plain" / "policy.md"
    prose.write_text(prose.read_text(encoding="utf-8") + "\n{#contact-2}\nWe are {{controller.name}}, from {{minimum_age}}.\n", encoding="utf-8")
    result = cli("check", cwd=plain)
    assert result.exit_code == 1
    assert "'controller.name' is used but policy.yaml names no controller" in result.stderr
    assert "'minimum_age' is used but policy.yaml gives no minimum_age" in result.stderr


def test_builds_diffs_and_releases(plain: Path, tmp_path: Path, cli) -> None:
    assert cli("build", cwd=plain).exit_code == 0
    assert (plain / "output" / "plain" / "en" / "index.html").is_file()
    old = copy_project(plain, tmp_path / "old")
    prose = plain / "sources" / "plain" / "policy.md"
    prose.write_text(prose.read_text(encoding="utf-8").replace("within 6 months", "within 2 years"), encoding="utf-8")
    result = cli("diff", str(old), str(plain), "--format", "json", cwd=plain)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["severity"] == "major"
    released = cli("release", "plain", "--version", "1.0", "--effective", "2026-03-01", cwd=plain)
    assert released.exit_code == 0, released.stderr
    assert cli("archive", "verify", cwd=plain).exit_code == 0
