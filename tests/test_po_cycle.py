"""The translator's cycle on the standard toolchain.

A whole cycle on the sample (extract, translate, edit, update, edit again, update again,
translate, build) leaves, after every step, catalogs that GNU gettext (``msgfmt -c
--check-format``), translate-toolkit (the parser Weblate uses, and ``pofilter``) and polib all
accept; an update of a catalog saved by Poedit changes only what changed.
"""

from __future__ import annotations

import difflib
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from translate.storage import pypo

MSGFMT = shutil.which("msgfmt")
needs_gettext = pytest.mark.skipif(MSGFMT is None and "CI" not in __import__("os").environ,
                                   reason="GNU gettext (msgfmt) is not installed; scripts/setup.sh installs it")
POFILTER_TESTS = ("escapes", "newlines", "tabs", "printf", "pythonbraceformat", "xmltags", "emails")
"""pofilter's checks of a catalog's integrity (its other checks are about style and language)."""

LONG_OLD = "It does not cover other companies' websites or apps that you reach through links in our app."
LONG_NEW = ("It does not cover the websites or apps of other companies, even when you reach them through a link in our "
            "app, and it does not cover what those companies do with your data.")
LONG_NEWER = ("It does not cover websites or apps of other companies, even when you reach them through a link in our app; "
              "what those companies do with your data is up to them, and their own policies apply.")
PERCENT = "Tonlé is 100% owned by its founders, and no other company decides how we use your data."


def catalogs(project: Path) -> list[Path]:
    return sorted((project / "locales").rglob("*.po")) + sorted((project / "locales").glob("*.pot"))


def problems(project: Path) -> list[str]:
    """What GNU gettext, translate-toolkit and polib say about every catalog of ``project``."""
    found = []
    for path in catalogs(project):
        name = path.relative_to(project).as_posix()
        if MSGFMT is not None:
            args = ["-c", "--check-format"] if path.suffix == ".po" else ["--check-format", "--check-domain"]
            run = subprocess.run([MSGFMT, *args, "-o", "/dev/null", str(path)], capture_output=True, text=True)
            if run.returncode or run.stderr:
                found.append(f"msgfmt {name}: {run.stderr.strip()}")
        try:
            pypo.pofile.parsefile(str(path))
        except Exception as exc:  # any refusal is a finding
            found.append(f"translate-toolkit {name}: {exc}")
        try:
            entries = polib.pofile(str(path))
            if any("python-format" in entry.flags for entry in entries):
                found.append(f"polib {name}: a python-format flag")
        except Exception as exc:
            found.append(f"polib {name}: {exc}")
    # pofilter once over every catalog (it writes out only the catalogs it flags, keeping their
    # paths under locales/); one run per step rather than one Python start per catalog.
    out = project.parent / f"{project.name}.pofilter"
    shutil.rmtree(out, ignore_errors=True)
    tests = [arg for test in POFILTER_TESTS for arg in ("-t", test)]
    subprocess.run([str(Path(sys.executable).with_name("pofilter")), "--progress=none", *tests, "--exclude", "*.pot",
                    str(project / "locales"), str(out)], check=True, capture_output=True)
    for flagged_file in sorted(out.rglob("*.po")) if out.exists() else []:
        name = (Path("locales") / flagged_file.relative_to(out)).as_posix()
        flagged = [line for line in flagged_file.read_text(encoding="utf-8").splitlines() if line.startswith("# (pofilter)")]
        found += [f"pofilter {name}: {line}" for line in flagged]
    shutil.rmtree(out, ignore_errors=True)
    return found


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def entry(project: Path, locale: str, context: str) -> polib.POEntry:
    po = polib.pofile(str(project / "locales" / locale / "LC_MESSAGES" / "tonle-privacy.po"))
    found = [e for e in po if e.msgctxt == context and not e.obsolete]
    assert len(found) == 1, context
    return found[0]


def translate(project: Path, locale: str, context: str, text: str) -> None:
    """What a translator's tool does: set the translation, clear fuzzy and the previous msgid."""
    path = project / "locales" / locale / "LC_MESSAGES" / "tonle-privacy.po"
    po = polib.pofile(str(path), wrapwidth=79)
    for e in po:
        if e.msgctxt == context and not e.obsolete:
            e.msgstr = text
            if "fuzzy" in e.flags:
                e.flags.remove("fuzzy")
            e.previous_msgid = e.previous_msgctxt = None
    po.save(str(path))


@needs_gettext
def test_the_whole_cycle_passes_every_tool(sample_sources: Path, cli) -> None:
    sample = sample_sources  # no releases: the page shows what the cycle translated
    prose = sample / "sources" / "tonle-privacy" / "policy.md"
    steps = []

    def step(name: str) -> None:
        steps.append((name, problems(sample)))

    for po in (sample / "locales").rglob("*.po"):
        po.unlink()
    assert cli("i18n", "extract", cwd=sample).exit_code == 0
    step("extract")
    shutil.copytree(Path(__file__).parent.parent / "locales", sample / "locales", dirs_exist_ok=True)
    translate(sample, "nl", "who-scope", "Deze privacyverklaring geldt voor iedereen die een Tonlé-account aanmaakt.")
    step("translate")
    edit(prose, LONG_OLD, LONG_NEW + " " + PERCENT)
    assert cli("i18n", "update", cwd=sample).exit_code == 0
    step("update")
    changed = entry(sample, "nl", "who-scope")
    assert "fuzzy" in changed.flags and "python-format" not in changed.flags
    assert changed.previous_msgid is not None and LONG_OLD in changed.previous_msgid
    assert changed.msgstr.startswith("Deze privacyverklaring geldt")
    edit(prose, LONG_NEW, LONG_NEWER)
    assert cli("i18n", "update", cwd=sample).exit_code == 0
    step("update again")
    again = entry(sample, "nl", "who-scope")
    # The translation was made for the first text: that stays the previous msgid.
    assert "fuzzy" in again.flags and again.previous_msgid is not None and LONG_OLD in again.previous_msgid
    assert LONG_NEWER in again.msgid
    assert cli("i18n", "update", cwd=sample).exit_code == 0
    assert entry(sample, "nl", "who-scope").previous_msgid == again.previous_msgid  # an update of an update changes nothing
    translate(sample, "nl", "who-scope", "Deze privacyverklaring geldt niet voor websites of apps van andere bedrijven, ook niet als je die "
              "via een link in onze app bereikt; wat die bedrijven met je gegevens doen, bepalen zij zelf, en hun eigen "
              "privacyverklaringen zijn daarop van toepassing. Tonlé is voor 100% in handen van de oprichters, en geen ander "
              "bedrijf bepaalt hoe wij je gegevens gebruiken.")
    translate(sample, "km", "who-scope", "គោលការណ៍នេះមិនគ្របដណ្ដប់លើគេហទំព័រ ឬកម្មវិធីរបស់ក្រុមហ៊ុនផ្សេងទៀតទេ ទោះបីជាអ្នកចូលទៅកាន់វាតាមរយៈតំណនៅក្នុងកម្មវិធីរបស់យើងក៏ដោយ។ "
              "Tonlé ជាកម្មសិទ្ធិ 100% របស់ស្ថាបនិក ហើយគ្មានក្រុមហ៊ុនផ្សេងណាមួយសម្រេចពីរបៀបដែលយើងប្រើប្រាស់ទិន្នន័យរបស់អ្នកឡើយ។")
    step("translate again")
    result = cli("build", "--format", "html", cwd=sample)
    assert result.exit_code == 0, result.stderr
    step("build")
    assert "100% in handen" in (sample / "output" / "tonle-privacy" / "nl" / "index.html").read_text(encoding="utf-8")
    assert [(name, found) for name, found in steps if found] == []


def poedit_save(path: Path) -> None:
    """What Poedit does on save: wraps at 79 columns (GNU gettext's layout) and writes its own
    header fields."""
    assert MSGFMT is not None
    msgcat = Path(MSGFMT).with_name("msgcat")
    subprocess.run([str(msgcat), "--width=79", "-o", str(path), str(path)], check=True)
    text = path.read_text(encoding="utf-8")
    text = text.replace('"Last-Translator: \\n"', '"Last-Translator: Sanne de Vries <sanne@vertalers.example>\\n"')
    text = text.replace('"Language-Team: Dutch\\n"', '"Language-Team: Vertaalbureau Noord <nl@vertalers.example>\\n"')
    text = text.replace('"PO-Revision-Date: 2026-03-01 00:00+0000\\n"', '"PO-Revision-Date: 2026-04-02 14:31+0200\\n"')
    text = text.replace('"X-Generator: policygen 0.1.0\\n"', '"X-Generator: Poedit 3.4.2\\n"')
    path.write_text(text, encoding="utf-8")


@needs_gettext
def test_an_update_after_poedit_changes_only_what_changed(sample: Path, cli) -> None:
    po = sample / "locales" / "nl" / "LC_MESSAGES" / "tonle-privacy.po"
    poedit_save(po)
    before = po.read_text(encoding="utf-8").splitlines()
    assert "Poedit" in "\n".join(before)
    edit(sample / "sources" / "tonle-privacy" / "policy.md", LONG_OLD, LONG_NEW)
    edit(sample / "sources" / "tonle-privacy" / "policy.yaml", "effective_date: 2026-03-01", "effective_date: 2026-04-01")
    assert cli("i18n", "update", cwd=sample).exit_code == 0
    after = po.read_text(encoding="utf-8").splitlines()
    changed = [line for line in difflib.unified_diff(before, after, lineterm="", n=0) if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    # The header's POT date, and the one entry: fuzzy, the previous source, the new source.
    assert changed[:2] == ['-"POT-Creation-Date: 2026-03-01 00:00+0000\\n"', '+"POT-Creation-Date: 2026-04-01 00:00+0000\\n"']
    # The effective date changed too (for a new POT date): its hint says so, where it is used.
    body = [line for line in changed[2:] if not line[1:].startswith("#. {{effective_date}} renders as:")]
    hint = "#. {{effective_date}} renders as: "
    assert {line for line in changed[2:] if line not in body} == {f"-{hint}March 1, 2026", f"+{hint}April 1, 2026"}
    assert body[0] == "+#, fuzzy"
    assert all(line.startswith(("+#|", "-\"", "+\"", "-msgid", "+msgid")) for line in body[1:]), "\n".join(body)
    start = after.index('msgctxt "who-scope"')
    window = "\n".join(after[start - 12 : start + 12])
    assert all(line[1:] in window or line.startswith("-") for line in body)
    for kept in ("Last-Translator: Sanne de Vries <sanne@vertalers.example>", "Language-Team: Vertaalbureau Noord <nl@vertalers.example>",
                 "PO-Revision-Date: 2026-04-02 14:31+0200", "X-Generator: Poedit 3.4.2"):
        assert f'"{kept}\\n"' in after
    assert not any("python-format" in line or "EMAIL@ADDRESS" in line or "ORGANIZATION" in line for line in after)
    # A second update with nothing changed changes nothing.
    text = po.read_bytes()
    assert cli("i18n", "update", cwd=sample).exit_code == 0
    assert po.read_bytes() == text


def test_headers_carry_the_projects_values(sample: Path, cli) -> None:
    for po in (sample / "locales").rglob("*.po"):
        po.unlink()
    assert cli("i18n", "extract", cwd=sample).exit_code == 0
    po = polib.pofile(str(sample / "locales" / "km" / "LC_MESSAGES" / "glossary.po"))
    assert po.metadata["Plural-Forms"] == "nplurals=1; plural=0;"
    assert po.metadata["Language"] == "km" and po.metadata["Language-Team"] == "Khmer"
    assert po.metadata["POT-Creation-Date"] == "2026-03-01 00:00+0000"  # the newest effective date, not 2000-01-01
    assert po.metadata["Report-Msgid-Bugs-To"] == "privacy@tonle.example"
    assert po.header.startswith("Khmer translation of the glossary.\nCopyright (C) 2026 Tonlé Transfer B.V.")
    text = (sample / "locales" / "km" / "LC_MESSAGES" / "glossary.po").read_text(encoding="utf-8")
    for placeholder in ("FIRST AUTHOR", "EMAIL@ADDRESS", "ORGANIZATION", "VERSION", "Babel"):
        assert placeholder not in text


def test_placeholder_hints_say_what_each_placeholder_renders_to(sample: Path, cli) -> None:
    assert cli("i18n", "extract", cwd=sample).exit_code == 0
    pot = polib.pofile(str(sample / "locales" / "tonle-privacy.pot"))
    who = next(e for e in pot if e.msgctxt == "who-dpo")
    assert "{{contact.dpo-email}} renders as: dpo@tonle.example" in who.comment
    hints = "\n".join(e.comment for e in pot)
    assert "{{data.contact-details}} renders as: contact details" in hints
    # the policy written in Dutch tells its translators in Dutch where Dutch labels exist
    cookies = polib.pofile(str(sample / "locales" / "tonle-cookies.pot"))
    assert any("renders as: toestemming" in e.comment for e in cookies)
    # ... and its glossary labels in Dutch too, from the Dutch glossary catalog, as on its page:
    # never English labels joined with a Dutch 'en'.
    cookie_hints = "\n".join(e.comment for e in cookies)
    assert "{{purpose.essential-operation}} renders as: je veilig ingelogd houden en de website laten werken" in cookie_hints
    assert "our " not in cookie_hints and "provider" not in cookie_hints


def entry_lines(lines: list[str], context: str) -> list[str]:
    """The lines of the active entry with ``context``, from its first comment to its blank line."""
    start = lines.index(f'msgctxt "{context}"')
    while start > 0 and lines[start - 1].startswith("#"):
        start -= 1
    end = lines.index("", start)
    return lines[start:end]


@needs_gettext
def test_an_update_keeps_the_lines_of_a_translation_it_marks_fuzzy(sample: Path, cli) -> None:
    # The source gains a placeholder; the Dutch translation, wrapped by Poedit, becomes fuzzy but
    # is the same text: its lines stay as the translator's tool wrote them.
    po = sample / "locales" / "nl" / "LC_MESSAGES" / "tonle-privacy.po"
    poedit_save(po)
    before = entry_lines(po.read_text(encoding="utf-8").splitlines(), "children-age")
    msgstr = before[before.index('msgstr ""'):]
    assert len(msgstr) > 2 and '"{{minimum_age}} jaar oud zijn om een account te openen, en tijdens de "' in msgstr
    old = "We do not knowingly collect data from anyone younger."
    edit(sample / "sources" / "tonle-privacy" / "policy.md", old, old[:-1] + ", and you can ask {{contact.dpo-email}} about it.")
    assert cli("i18n", "update", cwd=sample).exit_code == 0
    after = entry_lines(po.read_text(encoding="utf-8").splitlines(), "children-age")
    assert "#, fuzzy" in after
    assert after[after.index('msgstr ""'):] == msgstr
    assert problems(sample) == []


@needs_gettext
def test_an_update_keeps_a_catalogs_crlf_line_ends(sample: Path, cli) -> None:
    # A catalog checked out on Windows (git's core.autocrlf) has CRLF line ends; an update
    # writes them back the same way, changing only what changed, never a mix of both.
    po = sample / "locales" / "nl" / "LC_MESSAGES" / "tonle-privacy.po"
    po.write_bytes(po.read_bytes().replace(b"\n", b"\r\n"))
    before = po.read_bytes().decode("utf-8").split("\r\n")
    edit(sample / "sources" / "tonle-privacy" / "policy.md", LONG_OLD, LONG_NEW)
    assert cli("i18n", "update", cwd=sample).exit_code == 0
    raw = po.read_bytes()
    assert raw.count(b"\n") == raw.count(b"\r\n") and raw.endswith(b"\r\n")
    after = raw.decode("utf-8").split("\r\n")
    changed = [line for line in difflib.unified_diff(before, after, lineterm="", n=0) if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert "+#, fuzzy" in changed and len(changed) < 20, changed
    assert LONG_OLD in (entry(sample, "nl", "who-scope").previous_msgid or "")
    run = subprocess.run([str(MSGFMT), "-c", "--check-format", "-o", "/dev/null", str(po)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    # An import of an unchanged export keeps them too.
    assert cli("i18n", "export", "--locale", "nl", cwd=sample).exit_code == 0
    assert cli("i18n", "import", str(sample / "xliff" / "nl" / "tonle-privacy.xlf"), cwd=sample).exit_code == 0
    assert po.read_bytes() == raw


@needs_gettext
def test_an_update_drops_the_python_format_flags_babel_wrote(sample: Path, cli) -> None:
    # A catalog written by Babel (an older policygen) flags any message with a '%' as
    # python-format, and msgfmt --check-format then refuses the right translation of "100%
    # secure" ('%' followed by 'v' is no conversion). policygen's messages are Markdown, never
    # Python format strings: an update drops the flag.
    old = "We do not knowingly collect data from anyone younger."
    new = old + " Our checks are 100% secure."
    edit(sample / "sources" / "tonle-privacy" / "policy.md", old, new)
    assert cli("i18n", "update", cwd=sample).exit_code == 0
    path = sample / "locales" / "nl" / "LC_MESSAGES" / "tonle-privacy.po"
    po = polib.pofile(str(path), wrapwidth=79)
    (babel,) = [e for e in po if e.msgctxt == "children-age" and not e.obsolete]
    babel.msgstr = "Onze diensten zijn alleen bedoeld voor volwassenen. Onze controles zijn 100% veilig."
    babel.flags = ["python-format"]
    babel.previous_msgid = None
    po.save(str(path))
    assert any("is not a valid Python format string" in found for found in problems(sample))
    assert cli("i18n", "update", cwd=sample).exit_code == 0
    assert "python-format" not in path.read_text(encoding="utf-8")
    assert entry(sample, "nl", "children-age").msgstr.endswith("100% veilig.")
    assert problems(sample) == []


def msgfmt_errors(path: Path) -> str:
    assert MSGFMT is not None
    run = subprocess.run([MSGFMT, "-c", "--check-format", "-o", "/dev/null", str(path)], capture_output=True, text=True)
    return run.stderr if run.returncode or run.stderr else ""


@needs_gettext
def test_a_renamed_clause_keeps_a_catalog_msgfmt_reads(sample: Path, cli) -> None:
    # A clause given another ID keeps its translation, fuzzy, with the old ID as '#| msgctxt'.
    # gettext reads '#| msgctxt' only with a '#| msgid' after it, as msgmerge writes them: alone,
    # msgfmt (and Poedit, which runs it) refused the whole catalog with a syntax error.
    edit(sample / "sources" / "tonle-privacy" / "policy.md", "{#who-dpo}", "{#who-dpo-contact}")
    assert cli("i18n", "update", cwd=sample).exit_code == 0
    po = sample / "locales" / "nl" / "LC_MESSAGES" / "tonle-privacy.po"
    assert msgfmt_errors(po) == ""
    renamed = entry(sample, "nl", "who-dpo-contact")
    assert renamed.fuzzy and renamed.previous_msgctxt == "who-dpo" and renamed.previous_msgid == renamed.msgid
    assert renamed.msgstr.startswith("We hebben een functionaris voor gegevensbescherming")
    assert problems(sample) == []


@needs_gettext
def test_an_item_inserted_in_a_list_moves_the_translations_with_their_text(sample: Path, cli) -> None:
    # List items are numbered by position: an item inserted at the top renumbers every item
    # below it. Each item's text keeps its own translation under its new number (fuzzy, with
    # the old number as '#| msgctxt', as msgmerge's exact match does), never the translation of
    # the item that had its number before, which an update used to put there (for review, but
    # wrong in every case).
    path = sample / "sources" / "tonle-privacy" / "policy.md"
    first = "- {{data.contact-details}}: your full name,"
    edit(path, first, "- {{data.account-credentials}}: a new first item.\n" + first)
    before = {e.msgctxt: (e.msgid, e.msgstr) for e in polib.pofile(str(sample / "locales" / "nl" / "LC_MESSAGES" / "tonle-privacy.po"))}
    assert cli("i18n", "update", cwd=sample).exit_code == 0
    assert entry(sample, "nl", "collect-list.1").msgstr == ""
    for number in range(1, 11):
        old_msgid, old_msgstr = before[f"collect-list.{number}"]
        moved = entry(sample, "nl", f"collect-list.{number + 1}")
        assert (moved.msgid, moved.msgstr) == (old_msgid, old_msgstr)
        assert moved.fuzzy and moved.previous_msgctxt == f"collect-list.{number}"
    assert problems(sample) == []


@needs_gettext
def test_an_update_keeps_an_unwrapped_catalog_unwrapped(sample: Path, cli) -> None:
    # A catalog saved without wrapping (msgcat --no-wrap, Weblate's "only wrap at newlines",
    # Poedit with wrapping off) stays so: the entries an update changes come out as gettext's
    # --no-wrap writes them, not wrapped at 79 columns in the middle of an unwrapped file.
    assert MSGFMT is not None
    msgcat = str(Path(MSGFMT).with_name("msgcat"))
    po = sample / "locales" / "nl" / "LC_MESSAGES" / "tonle-privacy.po"
    subprocess.run([msgcat, "--no-wrap", "-o", str(po), str(po)], check=True)
    edit(sample / "sources" / "tonle-privacy" / "policy.md", LONG_OLD, LONG_NEW)
    edit(sample / "sources" / "tonle-privacy" / "policy.md", "{#who-dpo}", "{#who-dpo-contact}")
    assert cli("i18n", "update", cwd=sample).exit_code == 0
    after = po.read_text(encoding="utf-8")
    assert "#, fuzzy" in after and f"{LONG_NEW}\"\n" in after
    rewritten = subprocess.run([msgcat, "--no-wrap", str(po)], check=True, capture_output=True, text=True).stdout
    assert list(difflib.unified_diff(rewritten.splitlines(), after.splitlines(), lineterm="", n=0)) == []
    # A wrapped catalog stays wrapped.
    subprocess.run([msgcat, "--width=79", "-o", str(po), str(po)], check=True)
    edit(sample / "sources" / "tonle-privacy" / "policy.md", LONG_NEW, LONG_NEWER)
    assert cli("i18n", "update", cwd=sample).exit_code == 0
    assert max(len(line) for line in po.read_text(encoding="utf-8").splitlines() if line.startswith(("msgid", '"'))) <= 79
    assert problems(sample) == []


@needs_gettext
def test_a_catalog_poedit_set_to_a_region_of_its_language_is_read(sample: Path, cli) -> None:
    # Poedit writes 'Language: nl_NL' when a translator picks "Dutch (Netherlands)" (as a CAT
    # tool writes 'nl-NL' into XLIFF, which import takes). The catalog was refused everywhere
    # ("says 'Language: nl_NL' but lives in the 'nl' folder"), though gettext reads it as Dutch.
    po = sample / "locales" / "nl" / "LC_MESSAGES" / "tonle-privacy.po"
    edit(po, '"Language: nl\\n"', '"Language: nl_NL\\n"')
    status = cli("i18n", "status", "--locale", "nl", cwd=sample)
    assert status.exit_code == 0, status.stdout + status.stderr
    edit(sample / "sources" / "tonle-privacy" / "policy.md", LONG_OLD, LONG_NEW)
    assert cli("i18n", "update", cwd=sample).exit_code == 0
    assert '"Language: nl_NL\\n"' in po.read_text(encoding="utf-8")
    assert problems(sample) == []
    # Another language in the folder of Dutch is still an error.
    edit(po, '"Language: nl_NL\\n"', '"Language: km_KH\\n"')
    status = cli("i18n", "status", "--locale", "nl", cwd=sample)
    assert status.exit_code == 1 and "the catalog says 'Language: km_KH' but lives in the 'nl' folder" in status.stderr
