"""XLIFF 1.2 and 2.0: protected inline codes, fuzzy states, context through translate-toolkit's
converters, and the refusals of import (another project, a stale source, a broken code)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

XLF = Path("xliff/nl/tonle-privacy.xlf")


def po_bytes(sample: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted((sample / "locales").rglob("*.po"))}


@pytest.mark.parametrize("fmt", ["xliff12", "xliff20"])
def test_export_import_round_trip_is_byte_identical(sample: Path, cli, fmt: str) -> None:
    before = po_bytes(sample)
    assert cli("i18n", "export", "--format", fmt, cwd=sample).exit_code == 0
    text = (sample / XLF).read_text(encoding="utf-8")
    if fmt == "xliff12":
        assert 'version="1.2"' in text and '<ph id="1" ctype="x-placeholder">{{controller.name}}</ph>' in text
        assert '<bpt id="4" ctype="italic">*</bpt>controller<ept id="4">*</ept>' in text
    else:
        assert 'version="2.0"' in text and '<data id="d1">{{controller.name}}</data>' in text
        assert '<pc id="4" dataRefStart="d4s" canDelete="no" type="fmt" subType="xlf:i" dataRefEnd="d4e">controller</pc>' in text
    assert "{{contact.dpo-email}} renders as: dpo@tonle.example" in text  # the source comment, hints included
    result = cli("i18n", "import", *map(str, sorted((sample / "xliff").rglob("*.xlf"))), cwd=sample)
    assert result.exit_code == 0, result.stderr
    assert po_bytes(sample) == before


def test_fuzzy_units_keep_their_old_target(sample: Path, cli) -> None:
    prose = sample / "sources" / "tonle-privacy" / "policy.md"
    old = "It does not cover other companies' websites or apps that you reach through links in our app."
    prose.write_text(prose.read_text(encoding="utf-8").replace(old, "It does not cover other websites."), encoding="utf-8")
    assert cli("i18n", "update", cwd=sample).exit_code == 0
    assert cli("i18n", "export", "--format", "xliff12", "--locale", "nl", cwd=sample).exit_code == 0
    assert cli("i18n", "export", "--format", "xliff20", "--locale", "nl", "-o", str(sample / "x20"), cwd=sample).exit_code == 0
    v12 = (sample / XLF).read_text(encoding="utf-8")
    unit = v12[v12.index('<trans-unit id="who-scope"'):]
    unit = unit[: unit.index("</trans-unit>")]
    assert '<target state="needs-review-translation">Deze privacyverklaring geldt' in unit and 'approved="no"' in unit
    v20 = (sample / "x20" / "nl" / "tonle-privacy.xlf").read_text(encoding="utf-8")
    unit = v20[v20.index('<unit id="who-scope"'):]
    unit = unit[: unit.index("</unit>")]
    assert '<segment id="s1" state="initial">' in unit and "<target xml:space=\"preserve\">Deze privacyverklaring geldt" in unit


def test_context_survives_translate_toolkits_converters(sample: Path, cli, tmp_path: Path) -> None:
    assert cli("i18n", "export", "--locale", "nl", cwd=sample).exit_code == 0
    converted = tmp_path / "agency.po"
    subprocess.run([str(Path(sys.executable).with_name("xliff2po")), str(sample / XLF), str(converted)], check=True, capture_output=True)
    assert "#. context: who-intro" in converted.read_text(encoding="utf-8")
    # po2xliff drops msgctxt; import finds each message by its note, its unique text or its location
    back = sample / "back.xlf"
    po = sample / "locales" / "nl" / "LC_MESSAGES" / "tonle-privacy.po"
    subprocess.run([str(Path(sys.executable).with_name("po2xliff")), str(po), str(back)], check=True, capture_output=True)
    before = po_bytes(sample)
    result = cli("i18n", "import", str(back), cwd=sample)
    assert result.exit_code == 0, result.stderr
    assert po_bytes(sample) == before


def test_import_refuses_another_project_a_stale_source_and_a_broken_code(sample: Path, cli) -> None:
    assert cli("i18n", "export", "--locale", "nl", cwd=sample).exit_code == 0
    xlf = sample / XLF
    text = xlf.read_text(encoding="utf-8")
    before = po_bytes(sample)

    def attempt(changed: str) -> str:
        xlf.write_text(changed, encoding="utf-8")
        result = cli("i18n", "import", str(xlf), cwd=sample)
        assert result.exit_code == 1
        assert po_bytes(sample) == before
        return result.stderr

    other = text.replace('pg:project="Tonlé Transfer · Legal"', 'pg:project="Another Company · Legal"')
    assert "xliff/nl/tonle-privacy.xlf:3: this file belongs to the project 'Another Company · Legal'" in attempt(other)
    stale = text.replace("<source>Who we are</source>", "<source>Who we were</source>")
    line = stale[: stale.index("<source>Who we were</source>")].count("\n")
    assert f"xliff/nl/tonle-privacy.xlf:{line}: unit 'who-we-are' was translated from an older source text" in attempt(stale)
    broken = text.replace('<ph id="2" ctype="x-placeholder">{{controller.registration}}</ph>, en ons', "{{controller.registratie}}, en ons", 1)
    line = broken[: broken.index("{{controller.registratie}}")].count("\n") + 1
    message = attempt(broken)
    assert f"xliff/nl/tonle-privacy.xlf:{line}: unit 'who-intro': the target drops <ph id='2'>" in message
    # A placeholder typed as text, beside the codes: the same check and words as a PO file's.
    typed = text.replace('<ph id="2" ctype="x-placeholder">{{controller.registration}}</ph>, en ons',
                         '<ph id="2" ctype="x-placeholder">{{controller.registration}}</ph> ({{controller.name}}), en ons', 1)
    line = typed[: typed.index("({{controller.name}})")].count("\n") + 1
    # (The source has {{controller.name}} once, as <ph id="1">: typed again, it is repeated, not new.)
    assert (f"xliff/nl/tonle-privacy.xlf:{line}: unit 'who-intro': the target repeats the placeholder {{{{controller.name}}}}: "
            "the translation has it twice, the source once") in attempt(typed)


@pytest.mark.parametrize("fmt", ["xliff12", "xliff20"])
def test_an_unchanged_export_imports_after_a_source_edit_adds_a_placeholder(sample: Path, cli, fmt: str) -> None:
    # A source edit that adds a placeholder leaves the old translation fuzzy, without it: the
    # export carries that old target for review, and handing the file back untouched (or with
    # only other units translated) must not be refused for it; it stays fuzzy, unpublished.
    prose = sample / "sources" / "tonle-privacy" / "policy.md"
    old = "We do not knowingly collect data from anyone younger."
    prose.write_text(prose.read_text(encoding="utf-8").replace(old, old[:-1] + ", and you can ask {{contact.dpo-email}} about it."),
                     encoding="utf-8")
    assert cli("i18n", "update", cwd=sample).exit_code == 0
    before = po_bytes(sample)
    assert cli("i18n", "export", "--format", fmt, cwd=sample).exit_code == 0
    result = cli("i18n", "import", *map(str, sorted((sample / "xliff").rglob("*.xlf"))), cwd=sample)
    assert result.exit_code == 0, result.stderr
    assert po_bytes(sample) == before
    # Approving that old target as it is (no longer fuzzy) is refused: it would be published.
    xlf = sample / XLF
    text = xlf.read_text(encoding="utf-8")
    start = text.index('<trans-unit id="children-age"' if fmt == "xliff12" else '<unit id="children-age"')
    unit = text[start:]
    unit = unit[: unit.index("</trans-unit>" if fmt == "xliff12" else "</unit>")]
    approved = (unit.replace('state="needs-review-translation"', 'state="translated"').replace('approved="no"', 'approved="yes"')
                if fmt == "xliff12" else unit.replace('state="initial"', 'state="translated"'))
    xlf.write_text(text.replace(unit, approved), encoding="utf-8")
    result = cli("i18n", "import", str(xlf), cwd=sample)
    assert result.exit_code == 1
    assert "unit 'children-age': the target drops <ph id='2'>" in result.stderr
    assert po_bytes(sample) == before


@pytest.mark.parametrize("fmt", ["xliff12", "xliff20"])
def test_import_reports_every_problem_of_a_file_at_once(sample: Path, cli, fmt: str) -> None:
    assert cli("i18n", "export", "--format", fmt, "--locale", "nl", cwd=sample).exit_code == 0
    xlf = sample / XLF
    lines = xlf.read_text(encoding="utf-8").split("\n")
    before = po_bytes(sample)

    def spoil(unit: str, old: str, new: str, in_target: bool) -> int:
        start = next(i for i, line in enumerate(lines) if f'id="{unit}"' in line and "unit" in line)
        number = next(i for i in range(start, len(lines)) if old in lines[i] and ("<target" in lines[i]) == in_target)
        lines[number] = lines[number].replace(old, new, 1)
        return number + 1

    if fmt == "xliff12":
        first = spoil("who-intro", '<ph id="2" ctype="x-placeholder">{{controller.registration}}</ph>', "", True)
        second = spoil("who-dpo", '<ph id="2" ctype="x-placeholder">{{contact.postal-address}}</ph>', "", True)
    else:
        first = spoil("who-intro", '<ph id="2" dataRef="d2"', '<ph id="9" dataRef="d2"', True)
        second = spoil("who-dpo", '<ph id="2" dataRef="d2"', '<ph id="9" dataRef="d2"', True)
    spoil("who-we-are", "Who we are", "Who we were", False)
    xlf.write_text("\n".join(lines), encoding="utf-8")
    result = cli("i18n", "import", str(xlf), cwd=sample)
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    assert f"xliff/nl/tonle-privacy.xlf:{first}: unit 'who-intro': the target" in result.stderr
    assert f"xliff/nl/tonle-privacy.xlf:{second}: unit 'who-dpo': the target" in result.stderr
    assert "unit 'who-we-are' was translated from an older source text" in result.stderr
    assert "3 errors" in result.stderr
    assert po_bytes(sample) == before


def test_an_agency_round_trip_through_xliff2po_and_po2xliff_imports(sample: Path, cli, tmp_path: Path) -> None:
    # An agency that works in PO converts our XLIFF with xliff2po, translates, and converts back
    # with po2xliff. xliff2po writes no Language header, so the file comes back without a
    # target-language; handed back where the export put it (xliff/<locale>/), it imports.
    import polib

    assert cli("i18n", "export", "--locale", "nl", cwd=sample).exit_code == 0
    agency = tmp_path / "agency" / "tonle-privacy.po"
    agency.parent.mkdir()
    bin_dir = Path(sys.executable).parent
    subprocess.run([str(bin_dir / "xliff2po"), str(sample / XLF), str(agency)], check=True, capture_output=True)
    po = polib.pofile(str(agency))
    (unit,) = [e for e in po if "context: who-we-are" in e.comment]
    unit.msgstr = "Wie wij zijn"
    po.save(str(agency))
    (sample / XLF).unlink()
    subprocess.run([str(bin_dir / "po2xliff"), str(agency), str(sample / XLF)], check=True, capture_output=True)
    assert "target-language" not in (sample / XLF).read_text(encoding="utf-8")
    result = cli("i18n", "import", str(sample / XLF), cwd=sample)
    assert result.exit_code == 0, result.stderr
    catalog = polib.pofile(str(sample / "locales" / "nl" / "LC_MESSAGES" / "tonle-privacy.po"))
    assert catalog.find("Who we are", msgctxt="who-we-are").msgstr == "Wie wij zijn"
    # Elsewhere, nothing says which language the file is in: the import says how to tell it.
    elsewhere = tmp_path / "tonle-privacy.xlf"
    elsewhere.write_bytes((sample / XLF).read_bytes())
    result = cli("i18n", "import", str(elsewhere), cwd=sample)
    assert result.exit_code == 1
    assert "tonle-privacy.xlf:3: the file names no target language; set target-language on <file> to the locale" in result.stderr
    assert "xliff/<locale>/" in result.stderr


def test_xliff20_codes_have_types_the_standard_defines(sample: Path, cli) -> None:
    # XLIFF 2.0 allows only these values of 'type' on <ph>, <pc>, <sc> and <ec>; a CAT tool that
    # validates the file refuses any other (the cookie policy's table has code spans).
    from lxml import etree

    assert cli("i18n", "export", "--format", "xliff20", "--locale", "km", cwd=sample).exit_code == 0
    root = etree.parse(str(sample / "xliff" / "km" / "tonle-cookies.xlf")).getroot()
    ns = "{urn:oasis:names:tc:xliff:document:2.0}"
    codes = [e for tag in ("ph", "pc", "sc", "ec") for e in root.iter(ns + tag)]
    assert any("`" in (e.get("equiv") or "") for e in codes)
    assert {e.get("type") for e in codes} <= {"fmt", "ui", "quote", "link", "image", "other"}
    # xlf: subtypes belong to type fmt or ui; any subType needs a type.
    assert all(e.get("type") for e in codes if e.get("subType"))
    assert all(e.get("type") in ("fmt", "ui") for e in codes if (e.get("subType") or "").startswith("xlf:"))


@pytest.mark.parametrize("fmt", ["xliff12", "xliff20"])
def test_a_link_target_changed_in_the_source_exports_and_imports(sample: Path, cli, fmt: str) -> None:
    # The old translation, now fuzzy, still links to the old target: its link is another code
    # than the source's (XLIFF 2.0's originalData cannot give one code two texts).
    prose = sample / "sources" / "tonle-privacy" / "policy.md"
    prose.write_text(prose.read_text(encoding="utf-8").replace("(#face-check-alternative)", "(#sensitive-face-check)"), encoding="utf-8")
    assert cli("i18n", "update", cwd=sample).exit_code == 0
    before = po_bytes(sample)
    result = cli("i18n", "export", "--format", fmt, "--locale", "nl", cwd=sample)
    assert result.exit_code == 0, result.stderr
    text = (sample / XLF).read_text(encoding="utf-8")
    assert "](#sensitive-face-check)" in text and "](#face-check-alternative)" in text
    result = cli("i18n", "import", str(sample / XLF), cwd=sample)
    assert result.exit_code == 0, result.stderr
    assert po_bytes(sample) == before


def test_a_control_character_in_a_source_text_of_a_catalog_is_an_error_not_a_traceback(sample: Path, cli) -> None:
    # Release notes and hand-edited catalogs do not pass the prose reader: a control character
    # in a source text (Word's U+000B) is reported, where XML cannot hold it.
    po = sample / "locales" / "nl" / "LC_MESSAGES" / "tonle-privacy.po"
    po.write_text(po.read_text(encoding="utf-8").replace('msgid "Who we are"', 'msgid "Who we\x0bare"', 1), encoding="utf-8")
    result = cli("i18n", "export", "--locale", "nl", cwd=sample)
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    assert "locales/nl/LC_MESSAGES/tonle-privacy.po: the source text of 'who-we-are' holds the control character U+000B" in result.stderr
    assert "remove it from sources/tonle-privacy/policy.md:3" in result.stderr
    assert not (sample / "xliff" / "nl" / "tonle-privacy.xlf").exists()


def test_broken_xml_and_unknown_units_say_what_to_do(sample: Path, cli) -> None:
    assert cli("i18n", "export", "--locale", "nl", cwd=sample).exit_code == 0
    xlf = sample / XLF
    text = xlf.read_text(encoding="utf-8")
    unknown = text.replace("who-we-are", "who-we-were").replace("<source>Who we are</source>", "<source>Who we were</source>")
    broken = sample / "xliff" / "nl" / "glossary.xlf"
    broken.write_text(broken.read_text(encoding="utf-8").replace("</target>", "", 1), encoding="utf-8")
    xlf.write_text(unknown, encoding="utf-8")
    result = cli("i18n", "import", str(xlf), str(broken), cwd=sample)
    assert result.exit_code == 1
    assert "xliff/nl/glossary.xlf:" in result.stderr and "not a readable XLIFF file: " in result.stderr
    assert "repair the XML there (a CAT tool can save it again), or export the file again" in result.stderr
    assert "unit 'who-we-were' is not in tonle-privacy.po" in result.stderr and "export again and translate the current units" in result.stderr


def test_an_xliff_file_with_entities_is_refused(sample: Path, cli) -> None:
    """Entities are never resolved (no file is read, no expansion); a reference to one was
    dropped from the text instead, so '<target>Wie &xxe; zijn</target>' imported 'Wie  zijn'
    without a word. A DOCTYPE has no place in an XLIFF file a CAT tool writes."""
    assert cli("i18n", "export", "--locale", "nl", cwd=sample).exit_code == 0
    xlf = sample / XLF
    po = sample / "locales" / "nl" / "LC_MESSAGES" / "tonle-privacy.po"
    before = po.read_bytes()
    text = xlf.read_text(encoding="utf-8")
    xlf.write_text(text.replace("?>", '?>\n<!DOCTYPE xliff [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>', 1)
                   .replace(">Wie we zijn</target>", ">Wie &xxe; zijn</target>"), encoding="utf-8")
    result = cli("i18n", "import", str(xlf), cwd=sample)
    assert result.exit_code == 1 and result.exception is None, result.exception
    assert "xliff/nl/tonle-privacy.xlf:2: a DOCTYPE" in result.stderr, result.stderr
    assert po.read_bytes() == before


@pytest.mark.parametrize("fmt", ["xliff12", "xliff20"])
def test_a_cat_tool_that_writes_a_region_code_imports(sample: Path, cli, fmt: str) -> None:
    # A CAT project set up for Dutch (Netherlands) writes the file back with target-language
    # "nl-NL" (trgLang in 2.0): that is the Dutch catalog; a language policygen does not publish
    # stays an error.
    assert cli("i18n", "export", "--format", fmt, "--locale", "nl", cwd=sample).exit_code == 0
    xlf = sample / XLF
    attribute = 'target-language="nl"' if fmt == "xliff12" else 'trgLang="nl"'
    text = xlf.read_text(encoding="utf-8")
    assert attribute in text
    xlf.write_text(text.replace(attribute, attribute.replace('"nl"', '"nl-NL"')).replace(">Wie we zijn</target>", ">Wie wij zijn</target>"),
                   encoding="utf-8")
    result = cli("i18n", "import", str(xlf), cwd=sample)
    assert result.exit_code == 0, result.stderr
    assert 'msgstr "Wie wij zijn"' in (sample / "locales" / "nl" / "LC_MESSAGES" / "tonle-privacy.po").read_text(encoding="utf-8")
    xlf.write_text(text.replace(attribute, attribute.replace('"nl"', '"fr-BE"')), encoding="utf-8")
    result = cli("i18n", "import", str(xlf), cwd=sample)
    assert result.exit_code == 1 and "target language 'fr-BE' is not a locale policygen publishes" in result.stderr


def test_a_unit_a_cat_tool_split_into_segments_imports(sample: Path, cli) -> None:
    # XLIFF 2.0 lets a tool split a unit into sentences: segments, with the space between them
    # an <ignorable>. The unit's text is its parts in document order.
    assert cli("i18n", "export", "--format", "xliff20", "--locale", "nl", cwd=sample).exit_code == 0
    xlf = sample / XLF
    text = xlf.read_text(encoding="utf-8")
    start = text.index('<segment id="s1" state="translated">\n        <source xml:space="preserve">This summary gives you')
    end = text.index("</segment>", start) + len("</segment>")
    split = ('<segment id="s1" state="translated">\n'
             '        <source xml:space="preserve">This summary gives you the main points.</source>\n'
             '        <target xml:space="preserve">Deze samenvatting geeft je de hoofdpunten.</target>\n'
             '      </segment>\n      <ignorable>\n        <source xml:space="preserve"> </source>\n      </ignorable>\n'
             '      <segment id="s2" state="final">\n'
             '        <source xml:space="preserve">The rest of the policy explains each of them in more detail, and the full text is what applies.</source>\n'
             '        <target xml:space="preserve">De rest licht elk punt toe; de volledige tekst is bepalend.</target>\n'
             '      </segment>')
    xlf.write_text(text[:start] + split + text[end:], encoding="utf-8")
    result = cli("i18n", "import", str(xlf), cwd=sample)
    assert result.exit_code == 0, result.stderr
    import polib

    catalog = polib.pofile(str(sample / "locales" / "nl" / "LC_MESSAGES" / "tonle-privacy.po"))
    (message,) = [e for e in catalog if e.msgctxt == "summary-intro" and not e.obsolete]
    assert message.msgstr == "Deze samenvatting geeft je de hoofdpunten. De rest licht elk punt toe; de volledige tekst is bepalend."
    assert not message.fuzzy
    # A placeholder may move to another sentence of the unit: codes are the unit's, not a segment's.
    assert cli("i18n", "export", "--format", "xliff20", "--locale", "nl", cwd=sample).exit_code == 0
    text = xlf.read_text(encoding="utf-8")
    start = text.index('<unit id="who-dpo"')
    start = text.index('<segment id="s1"', start)
    end = text.index("</segment>", start) + len("</segment>")
    ph1 = '<ph id="1" dataRef="d1" equiv="{{contact.dpo-email}}" type="other" subType="policygen:placeholder" canDelete="no"/>'
    ph2 = '<ph id="2" dataRef="d2" equiv="{{contact.postal-address}}" type="other" subType="policygen:placeholder" canDelete="no"/>'
    moved = ('<segment id="s1" state="translated">\n'
             '        <source xml:space="preserve">We have appointed a data protection officer (DPO) who monitors how we handle personal data and is your '
             'point of contact for any question about this policy.</source>\n'
             f'        <target xml:space="preserve">Schrijf naar {ph1} of {ph2}: onze FG beantwoordt elke vraag.</target>\n'
             '      </segment>\n      <ignorable>\n        <source xml:space="preserve"> </source>\n      </ignorable>\n'
             '      <segment id="s2" state="translated">\n'
             f'        <source xml:space="preserve">You can reach the DPO at {ph1} or by post at {ph2}.</source>\n'
             '        <target xml:space="preserve">Zo bereik je de FG.</target>\n'
             '      </segment>')
    xlf.write_text(text[:start] + moved + text[end:], encoding="utf-8")
    result = cli("i18n", "import", str(xlf), cwd=sample)
    assert result.exit_code == 0, result.stderr


def test_import_refuses_codes_that_are_all_there_but_make_wrong_markdown(sample: Path, cli) -> None:
    # The codes of a target are compared as a set, so two targets a CAT tool lets a translator
    # write passed: a link's closing code put before its opening one ("](#x)text["), and a
    # fuzzy unit revised with the codes of its old target, which link to a target the source no
    # longer has. Both were imported as translated, and the page published the broken text and
    # the old link ('policygen check' and 'build' do not compare link targets). Import now
    # checks a target as 'i18n check' checks a PO translation, in the same words.
    assert cli("i18n", "export", "--locale", "nl", cwd=sample).exit_code == 0
    xlf = sample / XLF
    text = xlf.read_text(encoding="utf-8")
    before = po_bytes(sample)
    link = ('Wil je dat liever niet, dan kun je <bpt id="1" ctype="link">[</bpt>je identiteit op een andere manier laten verifiëren'
            '<ept id="1">](#face-check-alternative)</ept>.</target>')
    assert link in text
    swapped = ('Wil je dat liever niet, dan kun je <ept id="1">](#face-check-alternative)</ept>je identiteit op een andere manier laten '
               'verifiëren<bpt id="1" ctype="link">[</bpt>.</target>')
    xlf.write_text(text.replace(link, swapped), encoding="utf-8")
    line = text[: text.index(link)].count("\n") + 1
    result = cli("i18n", "import", str(xlf), cwd=sample)
    assert result.exit_code == 1
    assert (f"xliff/nl/tonle-privacy.xlf:{line}: unit 'summary-list.3': the target drops or changes the link target "
            "'#face-check-alternative'; link targets are never translated") in result.stderr
    assert po_bytes(sample) == before

    prose = sample / "sources" / "tonle-privacy" / "policy.md"
    prose.write_text(prose.read_text(encoding="utf-8").replace("(#face-check-alternative)", "(#sensitive-face-check)"), encoding="utf-8")
    assert cli("i18n", "update", cwd=sample).exit_code == 0
    assert cli("i18n", "export", "--locale", "nl", cwd=sample).exit_code == 0
    text = xlf.read_text(encoding="utf-8")
    start = text.index('<trans-unit id="summary-list.3"')
    unit = text[start : text.index("</trans-unit>", start)]
    assert 'state="needs-review-translation"' in unit and "](#face-check-alternative)</ept>" in unit
    revised = (unit.replace('approved="no"', 'approved="yes"').replace('state="needs-review-translation"', 'state="translated"')
               .replace("alleen als je daarvoor uitdrukkelijk toestemming geeft", "uitsluitend met je uitdrukkelijke toestemming"))
    xlf.write_text(text.replace(unit, revised), encoding="utf-8")
    before = po_bytes(sample)
    result = cli("i18n", "import", str(xlf), cwd=sample)
    assert result.exit_code == 1
    assert "unit 'summary-list.3': the target links to '#face-check-alternative', which the source does not" in result.stderr
    assert po_bytes(sample) == before


def test_a_2_0_target_with_a_pc_written_as_sc_and_ec_imports(sample: Path, cli) -> None:
    # XLIFF 2.0 lets a tool write a <pc> as an <sc>/<ec startRef> pair (to split a unit into
    # sentences, say): the same code, the same text. It was refused as "drops <pc id='4'> and
    # adds <ec id=''>, <sc id='4'>". A pair that loses its <ec> is still refused.
    assert cli("i18n", "export", "--format", "xliff20", "--locale", "nl", cwd=sample).exit_code == 0
    xlf = sample / XLF
    text = xlf.read_text(encoding="utf-8")
    pc = ('<pc id="4" dataRefStart="d4s" canDelete="no" type="fmt" subType="xlf:i" dataRefEnd="d4e">verwerkingsverantwoordelijke</pc>: '
          "wij bepalen")
    assert pc in text
    pair = ('<sc id="4" dataRef="d4s" canDelete="no" type="fmt" subType="xlf:i"/>verwerkingsverantwoordelijke'
            '<ec startRef="4" dataRef="d4e" canDelete="no" type="fmt" subType="xlf:i"/>: wij bepalen')
    xlf.write_text(text.replace(pc, pair).replace("beheert de app", "exploiteert de app"), encoding="utf-8")
    result = cli("i18n", "import", str(xlf), cwd=sample)
    assert result.exit_code == 0, result.stderr
    po = (sample / "locales" / "nl" / "LC_MESSAGES" / "tonle-privacy.po").read_text(encoding="utf-8")
    assert "exploiteert de app" in po and "*verwerkingsverantwoordelijke*:" in po
    before = po_bytes(sample)
    unclosed = pair.replace('<ec startRef="4" dataRef="d4e" canDelete="no" type="fmt" subType="xlf:i"/>', "")
    xlf.write_text(text.replace(pc, unclosed), encoding="utf-8")
    result = cli("i18n", "import", str(xlf), cwd=sample)
    assert result.exit_code == 1
    assert "unit 'who-intro': the target has 0 emphasis (*…*) where the source has 1; keep the same markup" in result.stderr
    assert po_bytes(sample) == before


@pytest.mark.parametrize("fmt", ["xliff12", "xliff20"])
def test_a_target_with_markup_policygen_does_not_know_is_refused_not_dropped(mini: Path, cli, fmt: str) -> None:
    """'Over <b>vet</b> ons' (a tool's own markup, or a hand edit) was imported as 'Over  ons':
    the element and the words in it dropped without a word, exit 0, and 'check' passed."""
    assert cli("i18n", "export", "--locale", "nl", "--format", fmt, cwd=mini).exit_code == 0
    xlf = mini / "xliff" / "nl" / "mini.xlf"
    text = xlf.read_text(encoding="utf-8")
    assert text.count(">Over ons</target>") == 1
    xlf.write_text(text.replace(">Over ons</target>", ">Over <b>vet</b> ons</target>"), encoding="utf-8")
    line = text[: text.index(">Over ons</target>")].count("\n") + 1
    before = po_bytes(mini)
    result = cli("i18n", "import", str(xlf), cwd=mini)
    assert result.exit_code == 1 and result.exception is None, result.exception
    assert (f"xliff/nl/mini.xlf:{line}: unit 'about': the target holds <b>, which is no inline element of this XLIFF version (a tool's own "
            "markup?); its text would be lost: keep the words, remove the tags, or export again") in result.stderr, result.stderr
    assert po_bytes(mini) == before


def test_a_unit_twice_with_different_translations_is_refused(mini: Path, cli) -> None:
    """A file that holds one unit twice (a merge of two translators' files) with two translations
    was imported with the last one, without a word."""
    assert cli("i18n", "export", "--locale", "nl", cwd=mini).exit_code == 0
    xlf = mini / "xliff" / "nl" / "mini.xlf"
    text = xlf.read_text(encoding="utf-8")
    start = text.index('<trans-unit id="about"')
    end = text.index("</trans-unit>", start) + len("</trans-unit>")
    xlf.write_text(text[:end] + "\n      " + text[start:end].replace(">Over ons<", ">Over ONS<") + text[end:], encoding="utf-8")
    before = po_bytes(mini)
    result = cli("i18n", "import", str(xlf), cwd=mini)
    assert result.exit_code == 1 and result.exception is None, result.exception
    first = text[:start].count("\n") + 1
    assert (f"unit 'about' is in this file twice, with different translations (the other on line {first}); keep the one you mean"
            in result.stderr), result.stderr
    assert po_bytes(mini) == before


@pytest.mark.parametrize("fmt", ["xliff12", "xliff20"])
def test_a_file_handed_back_partly_translated_imports(sample: Path, cli, fmt: str) -> None:
    # CAT tools write a unit (or a sentence) left untranslated with an empty target:
    # '<target state="new"/>' in 1.2, '<target/>' in a segment still 'initial' in 2.0. One such
    # unit whose source has a placeholder made the import refuse the whole batch ("the target
    # drops <ph id='1'>"), so a partial delivery could not be taken back at all. An empty target
    # is no translation: the message stays as it was, and the other units are imported.
    prose = sample / "sources" / "tonle-privacy" / "policy.md"
    prose.write_text(prose.read_text(encoding="utf-8").replace(
        "{#who-dpo}\n", "{#who-questions}\nWrite to {{contact.dpo-email}} with any question.\n\n{#who-dpo}\n"), encoding="utf-8")
    assert cli("i18n", "update", cwd=sample).exit_code == 0
    assert cli("i18n", "export", "--format", fmt, "--locale", "nl", cwd=sample).exit_code == 0
    xlf = sample / XLF
    text = xlf.read_text(encoding="utf-8")
    source = '{{contact.dpo-email}}</ph> with any question.</source>' if fmt == "xliff12" else ' with any question.</source>'
    assert text.count(source) == 1
    empty = '<target state="new"/>' if fmt == "xliff12" else "<target/>"
    text = text.replace(source, source + empty)
    text = text.replace(">Wie we zijn</target>", ">Wie wij zijn</target>")
    xlf.write_text(text, encoding="utf-8")
    result = cli("i18n", "import", str(xlf), cwd=sample)
    assert result.exit_code == 0, result.stderr
    import polib

    catalog = polib.pofile(str(sample / "locales" / "nl" / "LC_MESSAGES" / "tonle-privacy.po"))
    messages = {e.msgctxt: e for e in catalog if not e.obsolete}
    assert messages["who-questions"].msgstr == "" and not messages["who-questions"].fuzzy
    assert messages["who-we-are"].msgstr == "Wie wij zijn"


@pytest.mark.parametrize("fmt", ["xliff12", "xliff20"])
def test_units_whose_items_were_renumbered_since_the_export_import(sample: Path, cli, fmt: str) -> None:
    # The agency works on an export; meanwhile the legal team inserts an item at the top of a
    # list, which renumbers every item below it ('i18n update' moves each translation with its
    # text). Every unit of that list was refused as "translated from an older source text",
    # and so the whole delivery, though each unit's text is current. A unit is now found by
    # its text when its context has another one; a text found nowhere is still stale.
    assert cli("i18n", "export", "--format", fmt, "--locale", "nl", cwd=sample).exit_code == 0
    xlf = sample / XLF
    text = xlf.read_text(encoding="utf-8")
    assert text.count(": het bedrag, de valuta,") == 1
    xlf.write_text(text.replace(": het bedrag, de valuta,", ": het overgemaakte bedrag, de valuta,"), encoding="utf-8")
    prose = sample / "sources" / "tonle-privacy" / "policy.md"
    first = "- {{data.contact-details}}: your full name,"
    prose.write_text(prose.read_text(encoding="utf-8").replace(first, "- {{data.account-credentials}}: a new first item.\n" + first),
                     encoding="utf-8")
    assert cli("i18n", "update", cwd=sample).exit_code == 0
    result = cli("i18n", "import", str(xlf), cwd=sample)
    assert result.exit_code == 0, result.stderr
    import polib

    catalog = polib.pofile(str(sample / "locales" / "nl" / "LC_MESSAGES" / "tonle-privacy.po"))
    messages = {e.msgctxt: e for e in catalog if not e.obsolete}
    assert messages["collect-list.7"].msgid.startswith("{{data.transaction-details}}: the amount")
    assert messages["collect-list.7"].msgstr.startswith("{{data.transaction-details}}: het overgemaakte bedrag, de valuta,")
    assert messages["collect-list.1"].msgstr == ""
    assert not [e.msgctxt for e in messages.values() if e.fuzzy]
    # A unit whose text changed since the export is still refused.
    prose.write_text(prose.read_text(encoding="utf-8").replace("the amount, currency,", "the amount, the currency,"), encoding="utf-8")
    assert cli("i18n", "update", cwd=sample).exit_code == 0
    result = cli("i18n", "import", str(xlf), cwd=sample)
    assert result.exit_code == 1
    assert "unit 'collect-list.6' was translated from an older source text" in result.stderr
