"""Accuracy corpus for the semantic diff: every case is a YAML file in fixtures/diff/.

A case names a base project (``mini`` or ``tonle``), lists text edits that turn a copy of it
into the new version, and says what the diff must find: the overall severity and, for each
expected change, its path and severity (and optionally the rule). With ``only: true`` the list
is complete: any other change fails the case. Adding a case is adding a file.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import FIXTURES, MINI, SAMPLE, copy_project

from policygen.changes.compare import compare

CASES = sorted((FIXTURES / "diff").glob("*.yaml"))
BASES = {"mini": MINI, "tonle": SAMPLE}


def apply(project: Path, edits: list[dict]) -> None:
    for edit in edits:
        path = project / edit["file"]
        text = path.read_text(encoding="utf-8")
        if "append" in edit:
            text += edit["append"]
        else:
            assert edit["replace"] in text, f"{edit['file']}: text to replace not found: {edit['replace']!r}"
            text = text.replace(edit["replace"], edit["with"], 1)
        path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_corpus_case(case: Path, tmp_path: Path) -> None:
    spec = yaml.safe_load(case.read_text(encoding="utf-8"))
    base = BASES[spec.get("base", "mini")]
    old = copy_project(base, tmp_path / "old")
    new = copy_project(base, tmp_path / "new")
    apply(new, spec["edits"])
    expect = spec["expect"]
    reports = compare(old, new)
    found = [(g.change.path, g.severity, g.rule.id, g.change.kind) for r in reports for g in r.graded]
    overall = max((r.severity for r in reports if r.severity), key=["editorial", "minor", "review", "major"].index, default=None)
    assert overall == expect["severity"], f"overall {overall}, found {found}"
    remaining = list(found)
    for wanted in expect.get("changes", []):
        match = next((f for f in remaining if f[0] == wanted["path"] and f[1] == wanted["severity"]
                      and wanted.get("rule", f[2]) == f[2] and wanted.get("kind", f[3]) == f[3]), None)
        assert match is not None, f"expected {wanted}, found {found}"
        remaining.remove(match)
    if expect.get("only"):
        assert remaining == [], f"unexpected changes: {remaining}"


def test_corpus_is_big_enough() -> None:
    assert len(CASES) >= 25
