"""The PO and XLIFF readers on hostile input: every problem a ``path:line: message``, never a
traceback (issue 16: F09, F15, F16 and the nplurals header), and a seeded, bounded fuzz of both
readers where anything escaping as a non-PolicygenError exception fails."""

from __future__ import annotations

from pathlib import Path

import polib
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from policygen.errors import Collector, PolicygenError
from policygen.i18n.catalogs import parse_catalog
from policygen.i18n.xliff import read_xliff

NL = Path("locales/nl/LC_MESSAGES/example-privacy.po")


@pytest.fixture
def starter(tmp_path: Path, cli) -> Path:
    assert cli("init", str(tmp_path / "p")).exit_code == 0
    return tmp_path / "p"


def test_u2028_in_a_source_sentence_makes_readable_catalogs(starter: Path, cli) -> None:
    """F09: U+2028 and U+0085 are characters of a PO string, not line ends."""
    policy = starter / "sources" / "example-privacy" / "policy.md"
    policy.write_text(policy.read_text(encoding="utf-8").replace("We do not sell personal data", "We do not\u2028sell\u0085personal data"), encoding="utf-8")
    assert cli("i18n", "update", "-C", str(starter)).exit_code == 0
    result = cli("check", "-C", str(starter), "--allow-incomplete")
    assert result.exit_code == 0, result.stderr
    assert cli("i18n", "update", "-C", str(starter)).exit_code == 0
    entries = [e for e in polib.pofile(str(starter / NL)) if "\u2028" in e.msgid]
    assert len(entries) == 1 and "\u0085personal" in entries[0].msgid


def test_u2028_in_an_xliff_target_is_carried_and_readable(starter: Path, cli) -> None:
    assert cli("i18n", "export", "-C", str(starter), "--locale", "nl").exit_code == 0
    xlf = starter / "xliff" / "nl" / "example-privacy.xlf"
    xlf.write_text(xlf.read_text(encoding="utf-8").replace(">Wie we zijn</target>", ">Wie\u2028we zijn</target>"), encoding="utf-8")
    result = cli("i18n", "import", str(xlf), "-C", str(starter))
    assert result.exit_code == 0, result.stderr
    assert cli("check", "-C", str(starter)).exit_code == 0
    assert any(e.msgstr == "Wie\u2028we zijn" for e in polib.pofile(str(starter / NL)))


def test_a_control_character_in_a_translation_is_an_error_at_its_line(starter: Path, cli) -> None:
    """Word writes U+000B for a line break typed with Shift+Enter, and a translator pastes it
    with the text: no page (HTML) and no XLIFF file can hold it. 'i18n export' stopped with a
    traceback from lxml, and 'check' let it through to the pages."""
    po = starter / NL
    po.write_text(po.read_text(encoding="utf-8").replace('msgstr "Wie we zijn"', 'msgstr "Wie we\x0bzijn"'), encoding="utf-8")
    line = po.read_text(encoding="utf-8").split("\n").index('msgstr "Wie we\x0bzijn"') + 1
    for command in (["i18n", "export", "--locale", "nl"], ["check"], ["build", "--format", "html", "--locale", "nl"]):
        result = cli(*command, "-C", str(starter))
        assert result.exit_code == 1, command
        assert "Traceback" not in result.stderr
        assert f"{NL.as_posix()}:{line}: the translation of clause 'who-we-are' holds the control character U+000B" in result.stderr, command
    assert not (starter / "xliff").exists() and not (starter / "output").exists()


def test_a_charset_other_than_utf8_is_an_error(starter: Path, cli) -> None:
    """F15: a header that says ISO-8859-1 over UTF-8 bytes would publish mojibake."""
    po = starter / NL
    text = po.read_text(encoding="utf-8").replace("charset=utf-8", "charset=ISO-8859-1").replace("charset=UTF-8", "charset=ISO-8859-1")
    po.write_text(text.replace('msgstr "Wie we zijn"', 'msgstr "Wie we zijn — café"'), encoding="utf-8")
    line = po.read_text(encoding="utf-8").splitlines().index('"Content-Type: text/plain; charset=ISO-8859-1\\n"') + 1
    result = cli("build", "-C", str(starter), "--format", "html", "--locale", "nl")
    assert result.exit_code == 1
    assert f"{NL.as_posix()}:{line}: the catalog says charset=ISO-8859-1; policygen reads catalogs as UTF-8 only" in result.stderr
    assert not (starter / "output").exists()


@pytest.mark.parametrize("duplicate", ['msgctxt "who-we-are"\nmsgid ""\n"Who we are"\nmsgstr "TWEEDE"\n',
                                       'msgctxt "who-we-are"\nmsgid "Who we are"\nmsgstr "DERDE"\n',
                                       'msgctxt ""\n"who-we-are"\nmsgid "Who "\n"we are"\nmsgstr "VIERDE"\n'])
def test_a_duplicate_entry_is_caught_however_it_is_wrapped(starter: Path, cli, duplicate: str) -> None:
    """F16: the duplicate check reads parsed entries, not single lines."""
    po = starter / NL
    text = po.read_text(encoding="utf-8")
    first = text.splitlines().index('msgctxt "who-we-are"') + 2
    po.write_text(text + "\n" + duplicate, encoding="utf-8")
    second = len(text.splitlines()) + 2 + duplicate.splitlines().index(next(line for line in duplicate.splitlines() if line.startswith("msgid")))
    result = cli("check", "-C", str(starter))
    assert result.exit_code == 1
    assert f'{NL.as_posix()}:{second}: duplicate message (context "who-we-are"); it already appears on line {first}; delete one of them' in result.stderr


@pytest.mark.parametrize("value", ["99999999999", "0", "x", "7"])
def test_a_silly_nplurals_is_an_error_not_a_memory_error(starter: Path, cli, value: str) -> None:
    po = starter / NL
    text = po.read_text(encoding="utf-8").replace("nplurals=2; plural=(n != 1);", f"nplurals={value}; plural=(n != 1);")
    text += '\nmsgctxt "extra"\nmsgid "x"\nmsgid_plural "xs"\nmsgstr[0] "y"\n'
    po.write_text(text, encoding="utf-8")
    line = text.splitlines().index(f'"Plural-Forms: nplurals={value}; plural=(n != 1);\\n"') + 1
    result = cli("check", "-C", str(starter))
    assert result.exit_code == 1
    assert f"{NL.as_posix()}:{line}: Plural-Forms says nplurals={value}; a language has from 1 to 6 plural forms" in result.stderr


def test_the_reproducers_layout_unterminated_previous_msgid_is_reported(tmp_path: Path) -> None:
    """The old bug's output (a ``#|`` line without its closing quote) is a syntax error at its line."""
    errors = Collector()
    raw = (b'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
           b'#, fuzzy\n#| msgid "an old text that was\n#| wrapped"\nmsgid "new"\nmsgstr "nieuw"\n')
    assert parse_catalog(raw, tmp_path / "x.po", "nl", errors) is None
    assert [(d.line, d.message.split(":")[0]) for d in errors.items] == [(6, "broken PO file"), (7, "broken PO file")]


# -- fuzzing ---------------------------------------------------------------------------------

PO_PIECES = ['msgid ""\n', 'msgstr ""\n', '"Content-Type: text/plain; charset=UTF-8\\n"\n', '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n',
             'msgctxt "a"\n', 'msgid "x"\n', 'msgstr "y"\n', '#, fuzzy\n', '#| msgid "old"\n', '#~ msgid "gone"\n', '#~ msgstr "weg"\n',
             'msgid_plural "xs"\n', 'msgstr[0] "a"\n', 'msgstr[9] "b"\n', '"continued"\n', '#. note\n', '#: file.md:1\n', '\n', '"\\\n',
             '"Plural-Forms: nplurals=99999999999;\\n"\n', '"Content-Type: text/plain; charset=latin-1\\n"\n', '\u2028', '\r\n', '\x00', '\ufeff']


def _po_text() -> st.SearchStrategy[bytes]:
    pieces = st.lists(st.one_of(st.sampled_from(PO_PIECES), st.text(max_size=12)), max_size=30)
    return st.one_of(pieces.map(lambda parts: "".join(parts).encode("utf-8")), st.binary(max_size=200))


@seed(20261201)
@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow], database=None)
@given(_po_text())
def test_fuzz_po_reader(raw: bytes) -> None:
    errors = Collector()
    catalog = parse_catalog(raw, Path("fuzz.po"), "nl", errors)
    assert catalog is not None or errors.items  # refused only with a reason
    for diagnostic in errors.items:
        assert diagnostic.line >= 0 and diagnostic.message


XLIFF_PIECES = ['<?xml version="1.0"?>', '<xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2">',
                '<xliff version="2.0" xmlns="urn:oasis:names:tc:xliff:document:2.0" trgLang="nl">', '<file original="p" target-language="nl">',
                '<file id="f">', '<body>', '<trans-unit id="a">', '<unit id="a">', '<segment state="initial">', '<source>', '</source>',
                '<target state="translated">', '</target>', '<ph id="1">{{x}}</ph>', '<ph id="1" dataRef="d1"/>', '<pc id="2" dataRefStart="q">',
                '</pc>', '<bpt id="2">*</bpt>', '<ept id="2">*</ept>', '<originalData><data id="d1">{{x}}</data></originalData>',
                '</trans-unit>', '</unit>', '</body>', '</file>', '</xliff>', '<!DOCTYPE x [<!ENTITY e "ee">]>', '&e;', '\u2028', '<note>context: a</note>']


@seed(20261201)
@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow], database=None)
@given(st.lists(st.one_of(st.sampled_from(XLIFF_PIECES), st.text(max_size=8)), max_size=25).map(lambda parts: "".join(parts).encode("utf-8")))
def test_fuzz_xliff_reader(raw: bytes) -> None:
    try:
        read_xliff(raw)
    except PolicygenError as exc:
        assert str(exc)
