"""Notices users read: every notice of every major rule in en, nl and km, rendered from the sample
(or a fixture project a case names) with one change per rule (cases in fixtures/notice_cases.yaml,
texts in golden/notices/); notices
never show an untranslated label; diff reasons read periods in words.

After an intended change, regenerate the texts with ``POLICYGEN_UPDATE_GOLDEN=1 pytest
tests/test_notices.py`` and read the diff."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import FIXTURES, GOLDEN, SAMPLE, copy_project

from policygen.changes.compare import compare
from policygen.changes.notices import notices
from policygen.resources import default_rules

UPDATE = os.environ.get("POLICYGEN_UPDATE_GOLDEN") == "1"
CASES: dict[str, Any] = yaml.safe_load((FIXTURES / "notice_cases.yaml").read_text(encoding="utf-8"))
LOCALES = ("en", "nl", "km")


def edits_of(case: str) -> list[dict[str, str]]:
    """A case is a list of edits to the sample, or ``{project, edits}`` for a fixture project."""
    spec = CASES[case]
    return spec["edits"] if isinstance(spec, dict) else spec


def base_of(case: str) -> Path | None:
    """The fixture project a case edits (``tests/fixtures/projects/<project>``), or None for the sample."""
    spec = CASES[case]
    return FIXTURES / "projects" / spec["project"] if isinstance(spec, dict) else None


def apply(project: Path, edits: list[dict[str, str]]) -> None:
    for edit in edits:
        path = project / edit["file"]
        text = path.read_text(encoding="utf-8")
        if "append" in edit:
            text += edit["append"]
        else:
            assert edit["replace"] in text, f"{edit['file']}: text to replace not found: {edit['replace']!r}"
            text = text.replace(edit["replace"], edit["with"], 1)
        path.write_text(text, encoding="utf-8")


def rendered(notice: dict[str, object]) -> str:
    items = "".join(f"- {line}\n" for line in notice["items"])  # type: ignore[attr-defined]
    return f"banner: {notice['banner']}\n{items}subject: {notice['email_subject']}\n\n{notice['email_body']}\n"


@pytest.fixture(scope="module")
def old(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_project(SAMPLE, tmp_path_factory.mktemp("notices") / "old")


def test_every_major_rule_has_a_case() -> None:
    major = {r["id"] for r in default_rules() if r["severity"] == "major"}
    cased = {case.split(".")[0] for case in CASES}
    assert not major - cased, (f"major rules without a notice case: {sorted(major - cased)}; give each a sentence in "
                               "policygen/data/notices (notices.pot, nl.po, km.po) and a case in tests/fixtures/notice_cases.yaml, "
                               "then regenerate tests/golden/notices with POLICYGEN_UPDATE_GOLDEN=1")
    assert not cased - major, f"cases for rules that are not major defaults: {sorted(cased - major)}"


@pytest.mark.parametrize("case", sorted(CASES))
def test_notice(case: str, old: Path, tmp_path: Path) -> None:
    if (base := base_of(case)) is not None:
        old = copy_project(base, tmp_path / "old")
    new = copy_project(old, tmp_path / "new")
    edits = edits_of(case)
    apply(new, edits)
    policy = edits[0]["file"].split("/")[1]
    [report] = compare(old, new, [policy])
    rule = case.split(".")[0]
    assert rule in {g.rule.id for g in report.major}, [(g.rule.id, g.severity, g.change.path) for g in report.graded]
    for locale in LOCALES:
        text = rendered(notices(report, locale))
        assert "{" not in text and "}" not in text, text
        golden = GOLDEN / "notices" / f"{case}.{locale}.txt"
        if UPDATE:
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_text(text, encoding="utf-8")
        assert golden.read_text(encoding="utf-8") == text, f"{golden.name} differs; regenerate with POLICYGEN_UPDATE_GOLDEN=1 and read the diff"


def test_no_golden_without_a_case() -> None:
    names = {p.name.rsplit(".", 2)[0] for p in (GOLDEN / "notices").glob("*.txt")}
    assert names == set(CASES)


def test_notices_name_the_policy_with_its_own_grammar() -> None:
    """Dutch de/het words agree ('onze privacyverklaring', 'ons cookiebeleid'); no title is
    capitalised mid-sentence; a purpose's verb phrase never sits in a noun slot."""
    text = {p.name: p.read_text(encoding="utf-8") for p in (GOLDEN / "notices").glob("*.txt")}
    assert "Op 1\u00a0maart\u00a02026 wijzigt onze privacyverklaring." in text["high-risk.nl.txt"]
    assert "wijzigt ons cookiebeleid" in text["purpose-uses-more-data.purpose.nl.txt"]
    assert "On March\u00a01, 2026, our privacy policy changes." in text["high-risk.en.txt"]
    assert "for customer support:" in text["sensitive-data-newly-used.en.txt"]
    assert "voor onze klantenservice:" in text["sensitive-data-newly-used.nl.txt"]
    assert "for this purpose: remembering your cookie choices" in text["purpose-uses-more-data.purpose.en.txt"]
    assert "ថ្ងៃទី១\u00a0ខែមីនា ឆ្នាំ២០២៦" in text["high-risk.km.txt"]
    joined = "".join(text.values())
    assert not re.search(r"[Oo]nze (Privacy|Cookie)|onze cookiebeleid|[Oo]ur Privacy", joined)
    assert not re.search(r"(?i)voor je helpen|for helping you", joined)


def test_untranslated_label_in_a_notice_is_an_error_at_its_glossary_line(old: Path, tmp_path: Path, cli) -> None:
    new = copy_project(old, tmp_path / "new")
    apply(new, edits_of("sensitive-data-newly-used"))
    po = new / "locales" / "nl" / "LC_MESSAGES" / "glossary.po"
    po.write_text(po.read_text(encoding="utf-8").replace('msgstr "onze klantenservice"', 'msgstr ""'), encoding="utf-8")
    result = cli("diff", str(old), str(new), "--policy", "tonle-privacy")
    assert result.exit_code == 1
    line = next(i for i, text in enumerate((new / "glossary.yaml").read_text(encoding="utf-8").splitlines(), 1)
                if text.strip() == "noun: customer support")
    assert f"glossary.yaml:{line}: 'purpose:customer-support:noun' has no Dutch translation" in result.stderr
    assert "Traceback" not in result.stderr


def test_reasons_read_periods_in_words_and_agree(old: Path, tmp_path: Path, cli) -> None:
    new = copy_project(old, tmp_path / "new")
    apply(new, edits_of("longer-retention"))
    result = cli("diff", str(old), str(new), "--policy", "tonle-privacy", "--format", "json")
    [change] = json.loads(result.stdout)["reports"][0]["changes"]
    assert change["reason"] == ("The retention period for messages and calls with our support team is now longer: "
                                "3 years instead of 1 year.")
