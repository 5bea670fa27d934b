"""Bad input is reported as ``path:line: message``, every problem at once, with no traceback.

Each folder in ``fixtures/bad/`` is one case: its files are laid over a copy of the valid
``fixtures/projects/mini`` project, and ``expected.txt`` lists the exact diagnostics that
``policygen check`` and ``policygen build`` must print. Adding a case is adding a folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, MINI, copy_project

CASES = sorted(p for p in (FIXTURES / "bad").iterdir() if p.is_dir())


def overlay(case: Path, project: Path) -> None:
    for path in case.rglob("*"):
        if path.is_file() and path.name != "expected.txt":
            target = project / path.relative_to(case)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@pytest.mark.parametrize("command", ["check", "build"])
def test_bad_input(case: Path, command: str, tmp_path: Path, cli) -> None:
    project = copy_project(MINI, tmp_path / "project")
    overlay(case, project)
    expected = (case / "expected.txt").read_text(encoding="utf-8").splitlines()
    assert expected, f"{case.name}/expected.txt is empty"
    result = cli(command, cwd=project)
    assert result.exception is None, f"crashed instead of reporting: {result.exception!r}"
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr + result.stdout
    reported = [line for line in result.stderr.splitlines() if not line.startswith("policygen: ")]
    assert reported == expected
    assert result.stderr.splitlines()[-1] == f"policygen: {len(expected)} error{'s' if len(expected) != 1 else ''}"
    if command == "build":
        assert not (project / "output").exists(), "a failed build must not write output"


def test_every_case_has_expectations() -> None:
    for case in CASES:
        assert (case / "expected.txt").is_file(), case.name
