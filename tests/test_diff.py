"""policygen diff end to end: the sample policy with a new sensitive data category (major) and
with a typo fix (editorial), in the terminal, the JSON report, the redlines and the notices."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import jsonschema
import polib
import pytest
import yaml
from conftest import ROOT, copy_project

from policygen.changes.diff import diff_policies
from policygen.importers.files import DOCUMENT_ID, document_versions
from policygen.render.redline import tokenize
from policygen.source.load import load_project


def add_sensitive_category(project: Path) -> None:
    policy = project / "sources" / "tonle-privacy" / "policy.yaml"
    text = policy.read_text(encoding="utf-8")
    text = text.replace("data_categories:\n", "data_categories:\n  - id: health-data\n    sensitive: true\n", 1)
    used = "    data: [contact-details, account-credentials, transaction-details"
    text = text.replace(used, used.replace("[", "[health-data, "), 1)
    policy.write_text(text, encoding="utf-8")
    glossary = project / "glossary.yaml"
    text = glossary.read_text(encoding="utf-8")
    glossary.write_text(text.replace("data_category:\n", "data_category:\n  health-data: health information\n", 1), encoding="utf-8")
    for locale, label in (("nl", "gezondheidsgegevens"), ("km", "ព័ត៌មានសុខភាព")):
        po = project / "locales" / locale / "LC_MESSAGES" / "glossary.po"
        entry = f'\nmsgctxt "data_category:health-data"\nmsgid "health information"\nmsgstr "{label}"\n'
        po.write_text(po.read_text(encoding="utf-8") + entry, encoding="utf-8")


CORRECT, TYPO = "contacts our support team.", "contacts our suport team."


def replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{path.name}: expected {old!r} once"
    path.write_text(text.replace(old, new), encoding="utf-8")


def introduce_typo(project: Path) -> None:
    """The version that shipped with a typo (its translations were made from that text)."""
    replace_once(project / "sources" / "tonle-privacy" / "policy.md", CORRECT, TYPO)
    for locale in ("nl", "km"):
        replace_once(project / "locales" / locale / "LC_MESSAGES" / "tonle-privacy.po", CORRECT, TYPO)


def fix_typo(project: Path) -> None:
    """The next version: the typo corrected in the source; the translations are as they were."""
    replace_once(project / "sources" / "tonle-privacy" / "policy.md", TYPO, CORRECT)


@pytest.fixture
def versions(tmp_path: Path, sample: Path) -> tuple[Path, Path, Path, Path]:
    """The sample, the sample with a new sensitive category, and a version with a typo and
    the one that fixes it."""
    major = copy_project(sample, tmp_path / "major")
    add_sensitive_category(major)
    typo = copy_project(sample, tmp_path / "typo")
    introduce_typo(typo)
    fixed = copy_project(typo, tmp_path / "fixed")
    fix_typo(fixed)
    return sample, major, typo, fixed


def test_sensitive_category_is_major_everywhere(versions, tmp_path: Path, cli) -> None:
    old, major, _typo, _fixed = versions
    out = tmp_path / "out"
    result = cli("diff", str(old), str(major), "--output", str(out))
    assert result.exit_code == 0, result.stderr
    assert "tonle-privacy: 3.0 -> 3.0  MAJOR" in result.stdout
    assert "new-sensitive-data" in result.stdout
    flat = " ".join(result.stdout.split())
    assert "major added data_categories/health-data new-sensitive-data A new sensitive category of personal data is" in flat

    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    schema = json.loads((ROOT / "docs" / "schema" / "change-report.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(report)
    assert report["severity"] == "major"
    privacy = next(r for r in report["reports"] if r["policy"] == "tonle-privacy")
    first = privacy["changes"][0]
    assert (first["path"], first["severity"], first["rule"]) == ("data_categories/health-data", "major", "new-sensitive-data")
    assert first["reason"] == "A new sensitive category of personal data is collected: health information."
    assert "GDPR Art. 9" in first["basis"] and first["before"] is None and first["after"] == {"sensitive": True}
    used = next(c for c in privacy["changes"] if c["path"] == "purposes/send-money/data")
    assert (used["severity"], used["rule"]) == ("major", "sensitive-data-newly-used")

    notices = privacy["notices"]
    assert notices["en"]["items"][0] == "We will collect a new sensitive category of personal data: health information."
    assert "gezondheidsgegevens" in notices["nl"]["items"][0]
    assert "ព័ត៌មានសុខភាព" in notices["km"]["items"][0]
    for locale in ("en", "nl", "km"):
        assert notices[locale]["banner"] and notices[locale]["email_subject"] and "Tonlé Transfer B.V." in notices[locale]["email_body"]
        text = (out / "tonle-privacy" / f"notices.{locale}.txt").read_text(encoding="utf-8")
        assert notices[locale]["items"][0] in text

    for locale, summary in (("nl", "Belangrijke wijzigingen"), ("km", notices["km"]["items"][0])):
        page = (out / "tonle-privacy" / f"redline.{locale}.html").read_text(encoding="utf-8")
        assert f'<html lang="{locale}"' in page
        assert notices[locale]["items"][0] in page.split('class="pg-summary"')[1].split("</section>")[0]
        assert summary in page
        # the list of data categories in the text shows the new category as inserted
        assert re.search(r"<ins><span class=\"pg-sr\">\[[^\]:]+: </span>[^<]*(gezondheidsgegevens|ព័ត៌មានសុខភាព)", page)


def test_typo_fix_is_editorial(versions, cli) -> None:
    _old, _major, typo, fixed = versions
    result = cli("diff", str(typo), str(fixed), "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["severity"] == "editorial"
    privacy = next(r for r in report["reports"] if r["policy"] == "tonle-privacy")
    assert privacy["severity"] == "editorial"
    assert [(c["path"], c["severity"], c["rule"]) for c in privacy["changes"]] == [("prose/who-scope", "editorial", "editorial")]
    assert privacy["notices"]["nl"] == {"banner": "", "items": [], "email_subject": "", "email_body": ""}
    assert all(not r["changes"] for r in report["reports"] if r["policy"] != "tonle-privacy")
    terminal = cli("diff", str(typo), str(fixed))
    assert terminal.exit_code == 0 and "tonle-privacy: 3.0 -> 3.0  EDITORIAL" in terminal.stdout


def test_fail_on_major_only_for_the_major_change(versions, cli) -> None:
    old, major, typo, fixed = versions
    assert cli("diff", str(old), str(major), "--fail-on", "major").exit_code == 3
    assert cli("diff", str(typo), str(fixed), "--fail-on", "major").exit_code == 0
    assert cli("diff", str(typo), str(fixed), "--fail-on", "minor").exit_code == 0
    assert cli("diff", str(old), str(old), "--fail-on", "minor").exit_code == 0
    bad = cli("diff", str(typo), str(fixed), "--fail-on", "huge")
    assert bad.exit_code == 1 and "--fail-on takes major, review or minor" in bad.stderr


def test_a_longer_retention_fact_is_graded_once_not_again_in_each_clause_showing_it(sample: Path, tmp_path: Path) -> None:
    # The fact's period grows (5 -> 7 years) and a clause that renders it is reworded: the fact's
    # rule grades the change; the clause is a wording change, not "a period written in clause
    # summary-list got longer; it should be a retention fact" (it is one).
    old = sample
    new = copy_project(sample, tmp_path / "new")
    facts = new / "sources" / "tonle-privacy" / "policy.yaml"
    text = facts.read_text(encoding="utf-8")
    at = text.index("period: P5Y", text.index("- id: transaction-records"))
    facts.write_text(text[:at] + "period: P7Y" + text[at + len("period: P5Y"):], encoding="utf-8")
    replace_once(new / "sources" / "tonle-privacy" / "policy.md", "because anti-money-laundering law requires it.", "as anti-money-laundering law requires.")
    changes = diff_policies(load_project(old).policies["tonle-privacy"], load_project(new).policies["tonle-privacy"])
    graded = {change.path: change for change in changes}
    period = graded["retention/transaction-records/period"]
    assert (str(period.before), str(period.after)) == ("P5Y", "P7Y")  # graded by the fact's rule, longer-retention
    assert graded["prose/summary-list"].details["edit"] == "substantive"
    assert "duration" not in graded["prose/summary-list"].details  # was "longer": longer-retention-in-prose, a second major


def test_git_revisions(tmp_path: Path, mini: Path, cli) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(mini), *args], check=True, capture_output=True)

    git("init", "-q")
    git("-c", "user.email=t@example.org", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m", "empty")
    git("add", "-A")
    git("-c", "user.email=t@example.org", "-c", "user.name=t", "commit", "-q", "-m", "v1")
    policy = mini / "sources" / "mini" / "policy.yaml"
    policy.write_text(policy.read_text(encoding="utf-8").replace("minimum_age: 16", "minimum_age: 13"), encoding="utf-8")
    result = cli("diff", "git:HEAD", ".", "--format", "json", cwd=mini)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["from"] == "git:HEAD"
    change = report["reports"][0]["changes"][0]
    assert (change["path"], change["rule"], change["before"], change["after"]) == ("minimum_age", "lower-minimum-age", 16, 13)
    bad = cli("diff", "git:no-such-rev", ".", cwd=mini)
    assert bad.exit_code == 1 and "git:no-such-rev: git could not provide this revision" in bad.stderr and "Traceback" not in bad.stderr


def test_project_rules_override(tmp_path: Path, mini: Path, cli) -> None:
    new = copy_project(mini, tmp_path / "new")
    policy = new / "sources" / "mini" / "policy.yaml"
    policy.write_text(policy.read_text(encoding="utf-8").replace("minimum_age: 16", "minimum_age: 13"), encoding="utf-8")
    (new / "rules.yaml").write_text(
        "severity:\n  lower-minimum-age: review\n"
        "rules:\n  - id: no-children\n    severity: major\n    when: {subject: minimum_age, direction: lower}\n"
        "    reason: \"Children under {before} may now sign up.\"\n    basis: \"Our own promise to parents\"\n", encoding="utf-8")
    report = json.loads(cli("diff", str(mini), str(new), "--format", "json").stdout)
    change = report["reports"][0]["changes"][0]
    assert (change["rule"], change["severity"], change["reason"]) == ("no-children", "major", "Children under 16 may now sign up.")
    (new / "rules.yaml").write_text(
        "disable: [no-such-rule]\nrules:\n  - id: x\n    severity: huge\n    when: {}\n    reason: r\n    basis: b\n", encoding="utf-8")
    result = cli("diff", str(mini), str(new))
    assert result.exit_code == 1
    assert re.search(r"rules.yaml:\d+: rules\[0\].severity: 'huge' is not allowed", result.stderr)
    (new / "rules.yaml").write_text("disable: [no-such-rule]\n", encoding="utf-8")
    result = cli("diff", str(mini), str(new))
    assert "rules.yaml:1: no default rule 'no-such-rule'" in result.stderr


def printed_rules(stdout: str) -> list[tuple[str, str, str]]:
    """``policygen rules`` output as (severity, ID, basis), one rule a line."""
    rows = []
    for line in stdout.splitlines():
        severity, ident, basis = line.split(maxsplit=2)
        rows.append((severity, ident, basis))
    return rows


def test_rules_command_lists_every_rule_with_its_basis(tmp_path: Path, mini: Path, cli) -> None:
    defaults = yaml.safe_load((ROOT / "policygen" / "data" / "rules.yaml").read_text(encoding="utf-8"))["rules"]
    expected = [(r["severity"], r["id"], r["basis"]) for r in defaults]
    assert len(expected) >= 30 and len({r[1] for r in expected}) == len(expected)
    result = cli("rules", cwd=tmp_path)  # outside a project: the defaults
    assert result.exit_code == 0, result.stderr
    assert printed_rules(result.stdout) == expected
    assert cli("rules", cwd=mini).stdout == result.stdout  # a project without rules.yaml: the same

    # A project's rules.yaml disables one rule, changes the severity of another and adds its own.
    disabled, changed = expected[1][1], expected[2][1]
    assert expected[2][0] != "editorial"
    (mini / "rules.yaml").write_text(
        f"disable: [{disabled}]\nseverity:\n  {changed}: editorial\n"
        "rules:\n  - id: no-children\n    severity: major\n    when: {subject: minimum_age, direction: lower}\n"
        "    reason: \"Children under {before} may now sign up.\"\n    basis: \"Our own promise to parents\"\n", encoding="utf-8")
    result = cli("rules", cwd=mini)
    assert result.exit_code == 0, result.stderr
    adjusted = [("editorial" if ident == changed else severity, ident, basis) for severity, ident, basis in expected if ident != disabled]
    assert printed_rules(result.stdout) == [("major", "no-children", "Our own promise to parents"), *adjusted]


def test_khmer_words_come_from_the_segmenter() -> None:
    words = tokenize("ការផ្ទេរប្រាក់ទៅកាន់ប្រទេសកម្ពុជា ត្រូវបានធ្វើឡើង។", "km")
    assert "ប្រាក់" in words and "កម្ពុជា" in words and "ត្រូវបាន" in words
    assert "".join(words) == "ការផ្ទេរប្រាក់ទៅកាន់ប្រទេសកម្ពុជា ត្រូវបានធ្វើឡើង។"
    assert tokenize("two words", "en") == ["two", " ", "words"]


def test_khmer_redline_marks_words_not_the_whole_clause(tmp_path: Path, sample: Path, cli) -> None:
    new = copy_project(sample, tmp_path / "new")
    prose = new / "sources" / "tonle-privacy" / "policy.md"
    old_en = "Transfers are paid out in Cambodia by our subsidiary in Phnom Penh and by partner banks there."
    new_en = "Transfers are paid out in Cambodia by our subsidiary in Phnom Penh, by partner banks there and by mobile wallet providers."
    prose.write_text(prose.read_text(encoding="utf-8").replace(old_en, new_en), encoding="utf-8")
    assert cli("i18n", "update", cwd=new).exit_code == 0
    # The translator updates the Khmer clause and clears its fuzzy flag (read as a PO file:
    # long strings are wrapped over several lines).
    catalog = polib.pofile(str(new / "locales" / "km" / "LC_MESSAGES" / "tonle-privacy.po"), wrapwidth=0)
    entry = next(e for e in catalog if e.msgctxt == "who-subsidiary")
    assert "fuzzy" in entry.flags and "និងដោយធនាគារដៃគូនៅទីនោះ។" in entry.msgstr
    entry.msgstr = entry.msgstr.replace("និងដោយធនាគារដៃគូនៅទីនោះ។", "ដោយធនាគារដៃគូនៅទីនោះ និងដោយអ្នកផ្តល់សេវាកាបូបចល័ត។")
    entry.flags.remove("fuzzy")
    catalog.save()
    out = tmp_path / "out"
    assert cli("diff", str(sample), str(new), "--policy", "tonle-privacy", "--output", str(out)).exit_code == 0
    page = (out / "tonle-privacy" / "redline.km.html").read_text(encoding="utf-8")
    clause = page.split('id="who-subsidiary"')[1].split("</p>")[0]
    inserted = re.findall(r'<ins><span class="pg-sr">\[[^:]+: </span>(.*?)<span class="pg-sr">\]</span></ins>', clause)
    assert inserted, clause
    assert "ប្រាក់ដែលអ្នកផ្ញើ" in clause and "ប្រាក់ដែលអ្នកផ្ញើ" not in "".join(inserted)  # unchanged words stay unmarked
    assert any("កាបូប" in part for part in inserted)
    assert "<del>" in page and "[បានលុប: " in page  # deletions are named, not only coloured


def test_a_policy_that_is_one_list_in_one_version_reads_each_paragraph_as_a_part(tmp_path: Path) -> None:
    """Point 10 on a shape real pages have: one version a single list of 500 items (a page whose
    sections are items of one accordion list, as a crawl's Markdown gives it), the other the same
    text as 500 paragraphs. Each paragraph was checked as a part of the one long clause by walking
    all of its 22,000 words (difflib's quick_ratio and matching), 4.1 s of CPU for the diff alone;
    a real case (WeTransfer's policy as Markdown against the same page as HTML, 7,000 words) took
    2.5 s. Now the counts are kept per text and the matching looks first where the part's rarest
    words stand; bench/diff.py measures it, on the same two files."""
    spec = importlib.util.spec_from_file_location("diff_bench", ROOT / "bench" / "diff.py")
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    listed, paragraphs = bench.one_list_and_paragraphs(tmp_path)
    with document_versions(listed, paragraphs, "en", date(2026, 1, 1)) as (old_root, new_root, converted):
        parsed = {c.markdown: c.document for c in converted}
        old, new = load_project(old_root, parsed=parsed), load_project(new_root, parsed=parsed)
        changes = diff_policies(old.policies[DOCUMENT_ID], new.policies[DOCUMENT_ID])
    assert sum(c.kind == "split" for c in changes) == 500  # every paragraph is read as a part of the list
    # Its time is measured in bench/diff.py (tests do not time things): 0.3 s, 4.1 s before.


def _deepdiff_leaves(before, after, prefix):
    from deepdiff import DeepDiff

    kinds = {"dictionary_item_added": "added", "iterable_item_added": "added", "dictionary_item_removed": "removed", "iterable_item_removed": "removed"}
    tree = DeepDiff(before, after, ignore_order=True, view="tree", verbose_level=2)
    return [(kinds.get(t, "changed"), level.path(output_format="list"), level.t1, level.t2) for t, levels in tree.items() for level in levels]


def test_facts_are_compared_as_deepdiff_compares_them(monkeypatch) -> None:
    """Plain facts are compared without deepdiff (its import, numpy and pydantic with it, cost a
    fresh `policygen diff` 0.44 s of CPU), with the same outcome: the same
    facts and fields changed, and a whole fact added where deepdiff says so. Random pairs of
    fact-shaped data (150): values of other types, repeated and reordered names, collections that share
    too few IDs (which deepdiff reports as one changed value), NaN (which goes to deepdiff)."""
    import copy
    import random

    from policygen.changes import diff

    rng = random.Random(11)
    collections = list(diff._COLLECTIONS)[:4]

    def scalar():
        return rng.choice(["a", "b", 1, 2, 1.0, True, False, None, "P5Y", 0, "", float("nan")])

    def fact():
        return {"name": scalar(), "period": scalar(), "sensitive": scalar(), "data": [rng.choice("abcd") for _ in range(rng.randint(0, 3))]}

    def facts():
        made = {"controller": {k: scalar() for k in ("name", "email")}, "minimum_age": scalar(), "risk": {"level": scalar()},
                "locales": [rng.choice(["en", "nl", "km"]) for _ in range(rng.randint(0, 3))]}
        return made | {c: {rng.choice("pqrstu"): fact() for _ in range(rng.randint(0, 4))} for c in collections}

    def edited(old):
        new = copy.deepcopy(old)
        for _ in range(rng.randint(0, 4)):
            where = rng.choice([*collections, "controller", "minimum_age", "locales"])
            if where == "minimum_age":
                new[where] = scalar()
            elif where == "locales":
                new[where] = [rng.choice(["en", "nl", "km"]) for _ in range(rng.randint(0, 3))]
            elif where == "controller":
                new[where][rng.choice(["name", "email"])] = scalar()
            elif rng.random() < 0.3 and new[where]:
                del new[where][rng.choice(list(new[where]))]
            elif rng.random() < 0.5:
                new[where][rng.choice("pqrstuvw")] = fact()
            elif new[where]:
                item = new[where][rng.choice(list(new[where]))]
                name = rng.choice(list(item))
                item[name] = [rng.choice("abcde") for _ in range(rng.randint(0, 3))] if name == "data" else scalar()
        return new

    def grouped(old, new):
        found: dict = {}
        diff._group(old, new, [], found)
        # What _fact_change reads of a group: whether a whole fact was added (else it was removed).
        return {k: bool(v["added"]) if k[0] in diff._COLLECTIONS and k[2] is None else None for k, v in found.items()}

    compared = 0
    for _ in range(150):
        old = facts()
        new = edited(old) if rng.random() < 0.8 else facts()
        ours = grouped(old, new)
        with monkeypatch.context() as patched:
            patched.setattr(diff, "_leaves", _deepdiff_leaves)
            assert ours == grouped(old, new), (old, new)
        compared += bool(ours)
    assert compared > 100


def test_a_file_diff_does_not_import_deepdiff(tmp_path: Path) -> None:
    """A diff of two files whose facts differ (the contacts the import reads) compares them without
    deepdiff: a fresh `policygen diff` does not pay for its import."""
    (tmp_path / "a.md").write_text("# Privacy\n\nWrite to privacy@acme.example about your data, which we keep for 5 years.\n", encoding="utf-8")
    (tmp_path / "b.md").write_text("# Privacy\n\nWrite to dpo@acme.example about your data, which we keep for 7 years.\n", encoding="utf-8")
    script = ("import sys; from pathlib import Path; from policygen import api; "
              "r = api.diff(sys.argv[1], sys.argv[2], Path(sys.argv[3])); "
              "print(r.severity, any(c['path'].startswith('contacts') for c in r.report['reports'][0]['changes']), 'deepdiff' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path / "a.md"), str(tmp_path / "b.md"), str(tmp_path)],
                         capture_output=True, text=True, check=True).stdout.split()
    assert out[1:] == ["True", "False"], out
