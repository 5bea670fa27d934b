"""Prose against facts: every case in fixtures/coverage/ appends prose to the mini project (and
may edit its facts), and lists the warnings ``policygen check`` must give for what the prose names
that no fact covers, each at the line that names it. Adding a case is adding a file. The diff
side (a new sentence that names an uncovered recipient is graded as the new recipient fact
would be) is in fixtures/diff/ and below."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import FIXTURES, MINI, copy_project

from policygen import api
from policygen.changes.compare import compare

CASES = sorted((FIXTURES / "coverage").glob("*.yaml"))


def _project(tmp_path: Path, spec: dict) -> Path:
    project = copy_project(MINI, tmp_path / "p")
    facts = project / "sources" / "mini" / "policy.yaml"
    text = facts.read_text(encoding="utf-8")
    for edit in spec.get("edits", []):
        assert edit["replace"] in text, edit
        text = text.replace(edit["replace"], edit["with"], 1)
    facts.write_text(text, encoding="utf-8")
    for name in spec.get("remove", []):  # a file the edit makes wrong (the catalog of a new source language)
        (project / name).unlink()
    prose = project / "sources" / "mini" / "policy.md"
    prose.write_text(prose.read_text(encoding="utf-8") + "\n" + spec["append"], encoding="utf-8")
    return project


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_coverage_case(case: Path, tmp_path: Path) -> None:
    spec = yaml.safe_load(case.read_text(encoding="utf-8"))
    project = _project(tmp_path, spec)
    found = [w for w in api.check(project, allow_incomplete=True).warnings if "the prose names" in w.message]
    lines = (project / "sources" / "mini" / "policy.md").read_text(encoding="utf-8").splitlines()
    assert len(found) == len(spec["expect"]), [w.format() for w in found]
    for wanted, warning in zip(spec["expect"], found, strict=True):
        assert warning.path.name == "policy.md"
        assert wanted["quote"] in lines[warning.line - 1], (warning.line, wanted)  # the line that names it
        assert f'{wanted["what"]} "{wanted["quote"]}"' in warning.message, warning.message
        assert f"add it to {wanted['facts']} in policy.yaml" in warning.message


def test_check_prints_the_warning_with_its_place(tmp_path: Path, cli) -> None:
    spec = yaml.safe_load((FIXTURES / "coverage" / "recipient-named.yaml").read_text(encoding="utf-8"))
    project = _project(tmp_path, spec)
    result = cli("check", "--allow-incomplete", cwd=project)
    assert result.exit_code == 0
    assert any(line.startswith("sources/mini/policy.md:18: warning: the prose names the recipient \"Brightmetrics Analytics Ltd\"")
               for line in result.stderr.splitlines()), result.stderr


def _diff(tmp_path: Path, addition: str, rules: str | None = None) -> list:
    old = copy_project(MINI, tmp_path / "old")
    new = copy_project(MINI, tmp_path / "new")
    prose = new / "sources" / "mini" / "policy.md"
    prose.write_text(prose.read_text(encoding="utf-8") + "\n" + addition, encoding="utf-8")
    if rules is not None:
        (new / "rules.yaml").write_text(rules, encoding="utf-8")
    [report] = compare(old, new)
    return [g for g in report.graded if g.change.subject == "clause"]


def test_diff_grades_an_uncovered_recipient_as_the_fact_rules_would(tmp_path: Path) -> None:
    addition = "{#sharing}\nWe share your email address with Brightmetrics Analytics Ltd, which measures how our newsletter is read.\n"
    [graded] = _diff(tmp_path / "a", addition)
    assert graded.severity == "major" and graded.rule.id == "prose-new-recipient"
    assert '"Brightmetrics Analytics Ltd"' in graded.reason and "add it to recipients in policy.yaml" in graded.reason
    # A project that grades a new recipient fact as 'review' gets 'review' for the prose too.
    [graded] = _diff(tmp_path / "b", addition, "severity:\n  new-recipient: review\n")
    assert graded.severity == "review"


def test_diff_leaves_a_covered_recipient_to_the_facts(tmp_path: Path) -> None:
    [graded] = _diff(tmp_path, "{#sharing}\nWe share your email address with Hostwerk GmbH, our hosting company.\n")
    assert graded.severity != "major", graded.reason  # the recipient fact 'host' ("hosting company") covers it
