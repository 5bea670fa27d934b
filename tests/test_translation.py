"""The translator workflow on the sample project: staleness, status, checks, XLIFF, the
publishing gate and the prevailing-language statement."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polib
import pytest
from conftest import built_sample

OLD = "It does not cover other companies' websites or apps that you reach through links in our app."
NEW = "It does not cover websites or apps of other companies, even when you reach them through our app."


def edit_clause(sample: Path) -> None:
    prose = sample / "sources" / "tonle-privacy" / "policy.md"
    text = prose.read_text(encoding="utf-8")
    assert OLD in text
    prose.write_text(text.replace(OLD, NEW), encoding="utf-8")


def po_path(sample: Path, locale: str, domain: str = "tonle-privacy") -> Path:
    return sample / "locales" / locale / "LC_MESSAGES" / f"{domain}.po"


def fuzzy_contexts(path: Path) -> list[str]:
    return sorted(e.msgctxt for e in polib.pofile(str(path)) if "fuzzy" in e.flags and not e.obsolete)


def line_of(path: Path, context: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return lines.index(f'msgctxt "{context}"') + 2  # the msgid line, which Babel reports


def test_one_edit_makes_exactly_that_clause_fuzzy(sample: Path, cli) -> None:
    edit_clause(sample)
    assert cli("i18n", "update", cwd=sample).exit_code == 0
    for locale in ("nl", "km"):
        assert fuzzy_contexts(po_path(sample, locale)) == ["who-scope"]
        changed = next(e for e in polib.pofile(str(po_path(sample, locale))) if e.msgctxt == "who-scope")
        assert changed.previous_msgid.startswith("This policy applies to everyone")  # the previous source, for the translator
        assert OLD in changed.previous_msgid
    assert fuzzy_contexts(po_path(sample, "en", "tonle-cookies")) == []


def test_build_refuses_the_stale_clause_and_names_it(sample: Path, cli) -> None:
    edit_clause(sample)
    assert cli("i18n", "update", cwd=sample).exit_code == 0
    result = cli("build", cwd=sample)
    assert result.exit_code == 1
    for locale in ("nl", "km"):
        path = f"locales/{locale}/LC_MESSAGES/tonle-privacy.po"
        line = line_of(po_path(sample, locale), "who-scope")
        assert f"{path}:{line}: [{locale}] clause 'who-scope' is fuzzy: its source text changed since it was translated" in result.stderr
    assert result.stderr.strip().endswith("policygen: 2 errors")
    assert not (sample / "output").exists()


def test_a_clause_missing_from_the_catalog_is_named_with_its_source_line(sample: Path, cli) -> None:
    edit_clause(sample)  # without 'i18n update': the catalog has no message for the new text
    result = cli("check", cwd=sample)
    assert result.exit_code == 1
    assert ("locales/nl/LC_MESSAGES/tonle-privacy.po: [nl] clause 'who-scope' is not in the catalog "
            "(source: sources/tonle-privacy/policy.md:12)") in result.stderr


def test_allow_incomplete_shows_the_source_clause_with_a_notice(sample_sources: Path, cli) -> None:
    sample = sample_sources  # no releases: the page shows the edited sources
    edit_clause(sample)
    assert cli("i18n", "update", cwd=sample).exit_code == 0
    result = cli("build", "--allow-incomplete", cwd=sample)
    assert result.exit_code == 0, result.stderr
    page = (sample / "output" / "tonle-privacy" / "nl" / "index.html").read_text(encoding="utf-8")
    assert '<p id="who-scope"><span lang="en">This policy applies to everyone' in page
    assert "Deze vertaling is onvolledig: de delen die nog niet vertaald zijn, worden getoond in het Engels." in page
    assert '<a href="../en/" hreflang="en">Lees de versie in het Engels</a>' in page
    # the stale Dutch text is not shown as current
    assert "Deze privacyverklaring geldt voor iedereen" not in page
    # the same version and date as the source
    assert '<dd class="policy-version">3.0</dd>' in page and 'datetime="2026-03-01"' in page


def test_allow_incomplete_from_the_config(sample: Path, cli) -> None:
    edit_clause(sample)
    config = sample / "policygen.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "translation:\n  allow_incomplete: true\n", encoding="utf-8")
    assert cli("build", cwd=sample).exit_code == 0
    assert cli("build", "--no-allow-incomplete", cwd=sample).exit_code == 1


def test_status_table_and_json(sample: Path, cli) -> None:
    result = cli("i18n", "status", cwd=sample)
    assert result.exit_code == 0, result.stdout
    assert "tonle-privacy" in result.stdout and "100%" in result.stdout
    edit_clause(sample)
    assert cli("i18n", "update", cwd=sample).exit_code == 0
    result = cli("i18n", "status", "--format", "json", cwd=sample)
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["complete"] is False
    rows = {(r["catalog"], r["locale"]): r for r in data["catalogs"]}
    nl = rows[("tonle-privacy", "nl")]
    assert (nl["fuzzy"], nl["missing"], nl["translated"]) == (1, 0, 245)
    assert 0.98 < nl["publishable_share"] < 1.0
    assert rows[("tonle-cookies", "en")]["complete"] is True
    assert [g["context"] for g in data["gaps"]] == ["who-scope", "who-scope"]
    table = cli("i18n", "status", cwd=sample)
    assert table.exit_code == 1
    assert re.search(r"tonle-privacy\s*│\s*nl\s*│\s*245\s*│\s*1\s*│\s*0\s*│\s*0", table.stdout)


def test_i18n_check_catches_structure_changes(mini: Path, cli) -> None:
    po = mini / "locales" / "nl" / "LC_MESSAGES" / "mini.po"
    text = po.read_text(encoding="utf-8")
    text = text.replace("bewaart {{data.*}} gedurende {{retention.account}}", "bewaart {{data.*}} lang")
    text = text.replace("zie [je rechten](#rights).", "zie [je rechten](#about).")
    text = text.replace("is **gevoelig**;", "is gevoelig;")
    po.write_text(text, encoding="utf-8")
    result = cli("i18n", "check", cwd=mini)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert any(re.match(r"locales/nl/LC_MESSAGES/mini.po:\d+: clause 'about-intro': drops the placeholder \{\{retention.account\}\}", line) for line in lines)
    assert any(re.match(r"locales/nl/LC_MESSAGES/mini.po:\d+: clause 'about-list.2': drops or changes the link target '#rights'", line) for line in lines)
    assert any(re.match(r"locales/nl/LC_MESSAGES/mini.po:\d+: clause 'about-list.1': has 0 bold \(\*\*…\*\*\) where the source has 1", line) for line in lines)


def test_i18n_check_passes_on_the_sample(sample: Path, cli) -> None:
    result = cli("i18n", "check", cwd=sample)
    assert result.exit_code == 0, result.stderr


def test_xliff_round_trip_is_byte_identical(sample: Path, cli) -> None:
    before = {p: p.read_bytes() for p in (sample / "locales").rglob("*.po")}
    result = cli("i18n", "export", "--format", "xliff", cwd=sample)
    assert result.exit_code == 0, result.stderr
    files = sorted((sample / "xliff").rglob("*.xlf"))
    assert [f.relative_to(sample / "xliff").as_posix() for f in files] == [
        "en/tonle-cookies.xlf", "km/glossary.xlf", "km/tonle-cookies.xlf", "km/tonle-privacy.xlf",
        "nl/glossary.xlf", "nl/tonle-privacy.xlf",
    ]
    result = cli("i18n", "import", *map(str, files), cwd=sample)
    assert result.exit_code == 0, result.stderr
    assert {p: p.read_bytes() for p in (sample / "locales").rglob("*.po")} == before


def test_xliff_carries_a_translation_back(sample: Path, cli) -> None:
    edit_clause(sample)
    assert cli("i18n", "update", cwd=sample).exit_code == 0
    assert cli("i18n", "export", "--locale", "nl", cwd=sample).exit_code == 0
    xlf = sample / "xliff" / "nl" / "tonle-privacy.xlf"
    text = xlf.read_text(encoding="utf-8")
    unit = re.search(r'<trans-unit[^>]*id="who-scope"[^>]*>.*?</trans-unit>', text, re.S)
    assert unit and 'approved="no"' in unit.group(0)
    fixed = re.sub(r"<target[^>]*>.*?</target>", "<target state=\"translated\">Deze privacyverklaring geldt voor iedereen die een Tonlé-account "
        "aanmaakt. Zij geldt niet voor websites of apps van andere bedrijven, ook niet als je die via onze app bereikt.</target>", unit.group(0), flags=re.S)
    fixed = fixed.replace(' approved="no"', ' approved="yes"')
    xlf.write_text(text.replace(unit.group(0), fixed), encoding="utf-8")
    result = cli("i18n", "import", str(xlf), cwd=sample)
    assert result.exit_code == 0, result.stderr
    assert fuzzy_contexts(po_path(sample, "nl")) == []
    # km is still stale, so the build still refuses, now only for km
    result = cli("build", cwd=sample)
    assert result.exit_code == 1 and "[km] clause 'who-scope'" in result.stderr and "[nl]" not in result.stderr


def test_xliff_from_an_older_source_is_refused(sample: Path, cli) -> None:
    assert cli("i18n", "export", "--locale", "nl", cwd=sample).exit_code == 0
    edit_clause(sample)
    assert cli("i18n", "update", cwd=sample).exit_code == 0
    before = po_path(sample, "nl").read_bytes()
    result = cli("i18n", "import", str(sample / "xliff" / "nl" / "tonle-privacy.xlf"), cwd=sample)
    assert result.exit_code == 1
    assert "unit 'who-scope' was translated from an older source text" in result.stderr
    assert po_path(sample, "nl").read_bytes() == before


def test_prevailing_language_statement(tmp_path_factory: pytest.TempPathFactory) -> None:
    out = built_sample(tmp_path_factory, "2026-11-22") / "output"  # the sample as built for tests/test_golden.py
    en = (out / "tonle-privacy" / "en" / "index.html").read_text(encoding="utf-8")
    nl = (out / "tonle-privacy" / "nl" / "index.html").read_text(encoding="utf-8")
    km = (out / "tonle-privacy" / "km" / "index.html").read_text(encoding="utf-8")
    cookies_en = (out / "tonle-cookies" / "en" / "index.html").read_text(encoding="utf-8")
    assert "prevailing-language" not in en
    assert "Dit is een vertaling. Als deze afwijkt van de versie in het Engels, dan geldt de versie in het Engels." in nl
    assert "កំណែជាភាសាអង់គ្លេសត្រូវយកជាការ" in km
    # the cookie policy was written in Dutch: its English page says Dutch prevails
    assert "If it differs from the Dutch version, the Dutch version prevails." in cookies_en
    assert '<a href="../nl/" hreflang="nl">Read the Dutch version</a>' in cookies_en


def test_prevailing_statement_is_configurable(sample: Path, cli) -> None:
    config = sample / "policygen.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "translation:\n  prevailing_statement:\n    nl: \"Bij verschil geldt de tekst in het "
        "{language}.\"\n", encoding="utf-8")
    assert cli("build", cwd=sample).exit_code == 0
    nl = (sample / "output" / "tonle-privacy" / "nl" / "index.html").read_text(encoding="utf-8")
    assert "Bij verschil geldt de tekst in het Engels." in nl


def test_missing_glossary_label_blocks_publishing(sample: Path, cli) -> None:
    glossary = sample / "glossary.yaml"
    glossary.write_text(glossary.read_text(encoding="utf-8").replace("contact-details: contact details", "contact-details: contact "
        "information"), encoding="utf-8")
    assert cli("i18n", "update", cwd=sample).exit_code == 0
    result = cli("build", cwd=sample)
    assert result.exit_code == 1
    for locale in ("nl", "km"):
        assert re.search(rf"locales/{locale}/LC_MESSAGES/glossary.po:\d+: \[{locale}\] glossary label 'data_category:contact-details' is (fuzzy|not "
            r"translated)", result.stderr)


@pytest.mark.parametrize("locale", ["nl", "km"])
def test_translators_full_round_trip(sample: Path, cli, locale: str) -> None:
    """Change the source, update, status shows it, translate, check, build."""
    edit_clause(sample)
    assert cli("i18n", "update", cwd=sample).exit_code == 0
    assert cli("i18n", "status", "--locale", locale, cwd=sample).exit_code == 1
    po = po_path(sample, locale)
    lines = po.read_text(encoding="utf-8").splitlines()
    at = lines.index('msgctxt "who-scope"')
    flag = max(i for i in range(at) if lines[i] == "#, fuzzy")
    assert all(line.startswith("#|") for line in lines[flag + 1 : at])
    del lines[flag]
    po.write_text("\n".join(lines) + "\n", encoding="utf-8")  # the translator reviewed it and cleared the flag
    assert cli("i18n", "status", "--locale", locale, cwd=sample).exit_code == 0
    assert cli("i18n", "check", "--locale", locale, cwd=sample).exit_code == 0
    result = cli("build", "--locale", locale, "--locale", "en", cwd=sample)
    assert result.exit_code == 0, result.stderr
