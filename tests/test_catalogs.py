"""Translation catalogs: one message per block with its clause ID as context, created by
``i18n extract``, refreshed by ``i18n update``, and used by the build."""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po


def catalog(project: Path, locale: str, domain: str):
    with (project / "locales" / locale / "LC_MESSAGES" / f"{domain}.po").open("rb") as handle:
        return read_po(handle, locale=locale)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_extract_creates_templates_and_catalogs(tmp_path: Path, cli) -> None:
    assert cli("init", str(tmp_path / "p")).exit_code == 0
    project = tmp_path / "p"
    for po in (project / "locales").rglob("*.po"):
        po.unlink()
    result = cli("i18n", "extract", "--project", str(project))
    assert result.exit_code == 0, result.stderr
    with (project / "locales" / "example-privacy.pot").open("rb") as handle:
        pot = read_po(handle)
    contexts = [m.context for m in pot if m.id]
    assert contexts[:3] == ["title", "who-we-are", "who-intro"]
    assert "purpose-list.2" in contexts
    message = pot.get("{{controller.name}}, {{controller.address}}, is responsible for the personal data described in this policy. Questions go to "
        "{{controller.email}}.", context="who-intro")
    assert message is not None and message.locations == [("sources/example-privacy/policy.md", 6)]
    for locale in ("nl", "km"):
        created = catalog(project, locale, "example-privacy")
        assert all(not m.string for m in created if m.id)
        assert (project / "locales" / locale / "LC_MESSAGES" / "glossary.po").is_file()
    assert not (project / "locales" / "en").exists()  # the source language needs no catalog


def test_extract_is_deterministic_and_keeps_catalogs(mini: Path, cli) -> None:
    po = mini / "locales" / "nl" / "LC_MESSAGES" / "mini.po"
    before = po.read_bytes()
    assert cli("i18n", "extract", cwd=mini).exit_code == 0
    pot = (mini / "locales" / "mini.pot").read_bytes()
    assert cli("i18n", "extract", cwd=mini).exit_code == 0
    assert (mini / "locales" / "mini.pot").read_bytes() == pot
    assert po.read_bytes() == before
    assert b"POT-Creation-Date: 2026-05-05 00:00+0000" in pot


def test_update_marks_changed_block_fuzzy_keeps_previous_text(mini: Path, cli) -> None:
    edit(mini / "sources" / "mini" / "policy.md", "Write to {{contact.mail}}", "Please write to {{contact.mail}}")
    edit(mini / "sources" / "mini" / "policy.md", "- see [your rights](#rights).", "- see [your rights](#rights);\n- a new item.")
    result = cli("i18n", "update", cwd=mini)
    assert result.exit_code == 0, result.stderr
    nl = catalog(mini, "nl", "mini")
    changed = nl.get("Please write to {{contact.mail}} within {{right.access.response_time}}.", context="rights-text")
    assert changed.fuzzy
    assert changed.string == "Schrijf binnen {{right.access.response_time}} naar {{contact.mail}}."
    fuzzy = sorted(m.context for m in nl if m.id and m.fuzzy)
    assert fuzzy == ["about-list.2", "rights-text"]
    assert nl.get("a new item.", context="about-list.3").string == ""
    text = (mini / "locales" / "nl" / "LC_MESSAGES" / "mini.po").read_text(encoding="utf-8")
    assert '#| msgid "Write to {{contact.mail}} within {{right.access.response_time}}."' in text


def test_update_makes_removed_blocks_obsolete(mini: Path, cli) -> None:
    edit(mini / "sources" / "mini" / "policy.md", "{#rights-text}\nWrite to {{contact.mail}} within {{right.access.response_time}}.\n", "")
    edit(mini / "sources" / "mini" / "policy.md", "## Your rights {#rights}\n", "## Your rights {#rights}\n\n{#rights-none}\nNone.\n")
    assert cli("i18n", "update", cwd=mini).exit_code == 0
    nl = catalog(mini, "nl", "mini")
    assert [m.context for m in nl.obsolete.values()] == ["rights-text"]
    assert nl.get("None.", context="rights-none").string == ""
    text = (mini / "locales" / "nl" / "LC_MESSAGES" / "mini.po").read_text(encoding="utf-8")
    assert '#~ msgctxt "rights-text"' in text


def test_a_removed_block_that_comes_back_unchanged_is_translated_again(mini: Path, cli) -> None:
    # As msgmerge does: an obsolete message whose context and source come back as they were is
    # revived with its translation, not fuzzy (a reverted deletion needs no review).
    prose = mini / "sources" / "mini" / "policy.md"
    original = prose.read_text(encoding="utf-8")
    po = mini / "locales" / "nl" / "LC_MESSAGES" / "mini.po"
    before = po.read_bytes()
    edit(prose, "{#rights-text}\nWrite to {{contact.mail}} within {{right.access.response_time}}.\n", "")
    assert cli("i18n", "update", cwd=mini).exit_code == 0
    assert [m.context for m in catalog(mini, "nl", "mini").obsolete.values()] == ["rights-text"]
    prose.write_text(original, encoding="utf-8")
    assert cli("i18n", "update", cwd=mini).exit_code == 0
    back = catalog(mini, "nl", "mini").get("Write to {{contact.mail}} within {{right.access.response_time}}.", context="rights-text")
    assert back is not None and not back.fuzzy
    assert back.string == "Schrijf binnen {{right.access.response_time}} naar {{contact.mail}}."
    assert po.read_bytes() == before
    assert cli("build", "--locale", "nl", cwd=mini).exit_code == 0


def test_a_paragraph_wrapped_in_the_editor_keeps_its_translation(mini: Path, cli) -> None:
    # A soft line break renders as a space: wrapping a paragraph changes nothing a reader sees,
    # so its message is the same, one line, and the translation stays publishable (a msgid with
    # a line break would also make pofilter flag every translation without one).
    po = mini / "locales" / "nl" / "LC_MESSAGES" / "mini.po"
    before = po.read_bytes()
    edit(mini / "sources" / "mini" / "policy.md", "Write to {{contact.mail}} within", "Write to {{contact.mail}}\n  within")
    assert cli("i18n", "update", cwd=mini).exit_code == 0
    assert po.read_bytes().replace(b"policy.md:15", b"") == before.replace(b"policy.md:15", b"")
    result = cli("build", "--locale", "nl", "--format", "html", cwd=mini)
    assert result.exit_code == 0, result.stderr
    assert "Schrijf binnen" in (mini / "output" / "mini" / "nl" / "index.html").read_text(encoding="utf-8")
    # A catalog made before, with the line break in its msgid, takes the one-line text as it is.
    po.write_text(po.read_text(encoding="utf-8").replace('msgid "Write to {{contact.mail}} within', 'msgid "Write to {{contact.mail}}\\n  within'),
                  encoding="utf-8")
    assert cli("i18n", "update", cwd=mini).exit_code == 0
    nl = catalog(mini, "nl", "mini")
    message = nl.get("Write to {{contact.mail}} within {{right.access.response_time}}.", context="rights-text")
    assert message is not None and not message.fuzzy and message.string.startswith("Schrijf binnen")
    # A hard break (two spaces, or a backslash, at the end of the line) is kept: it renders.
    edit(mini / "sources" / "mini" / "policy.md", "{{contact.mail}}\n  within", "{{contact.mail}}\\\nwithin")
    assert cli("i18n", "update", cwd=mini).exit_code == 0
    assert catalog(mini, "nl", "mini").get("Write to {{contact.mail}}\\\nwithin {{right.access.response_time}}.", context="rights-text").fuzzy


def test_a_catalog_made_before_flowed_msgids_publishes_before_its_update(mini: Path, cli) -> None:
    # A catalog written by an older policygen keys a wrapped paragraph by its lines. Until the
    # next 'i18n update' rewrites it, the page, the status and the publishing gate all find its
    # translation (the gate once called it missing while the page would have shown it).
    edit(mini / "sources" / "mini" / "policy.md", "Write to {{contact.mail}} within", "Write to {{contact.mail}}\n  within")
    po = mini / "locales" / "nl" / "LC_MESSAGES" / "mini.po"
    po.write_text(po.read_text(encoding="utf-8").replace('msgid "Write to {{contact.mail}} within', 'msgid "Write to {{contact.mail}}\\n  within'),
                  encoding="utf-8")
    status = cli("i18n", "status", "--locale", "nl", cwd=mini)  # exits 1 while anything is missing
    assert status.exit_code == 0, status.stdout + status.stderr
    result = cli("build", "--locale", "nl", "--format", "html", cwd=mini)
    assert result.exit_code == 0, result.stderr
    assert "Schrijf binnen" in (mini / "output" / "mini" / "nl" / "index.html").read_text(encoding="utf-8")


def test_untranslated_block_falls_back_with_source_lang(mini: Path, cli) -> None:
    edit(mini / "sources" / "mini" / "policy.md", "Write to {{contact.mail}}", "Please write to {{contact.mail}}")
    assert cli("i18n", "update", cwd=mini).exit_code == 0
    result = cli("build", "--allow-incomplete", cwd=mini)
    assert result.exit_code == 0
    assert "note: mini [nl]: 1 block not translated" in result.stderr
    page = (mini / "output" / "mini" / "nl" / "index.html").read_text(encoding="utf-8")
    assert '<p id="rights-text"><span lang="en">Please write to <a href="mailto:privacy@mini.example">' in page
    assert "Deze vertaling is onvolledig: de delen die nog niet vertaald zijn, worden getoond in het Engels." in page
    assert "Schrijf binnen" not in page  # a fuzzy translation is never shown as current


def test_translations_are_used(mini: Path, cli) -> None:
    assert cli("build", cwd=mini).exit_code == 0
    page = (mini / "output" / "mini" / "nl" / "index.html").read_text(encoding="utf-8")
    assert '<h1 class="policy-title">Mini-beleid</h1>' in page
    assert "bewaart e-mailadres en" in page
    assert "untranslated-notice" not in page


def test_glossary_label_without_translation_falls_back(mini: Path, cli) -> None:
    edit(mini / "glossary.yaml", "email: email address", "email: e-mail address")
    assert cli("i18n", "update", cwd=mini).exit_code == 0
    assert cli("build", "--allow-incomplete", cwd=mini).exit_code == 0
    page = (mini / "output" / "mini" / "nl" / "index.html").read_text(encoding="utf-8")
    assert 'bewaart <span lang="en">e-mail address</span> en' in page
    assert "untranslated-notice" in page


def test_definition_lists_translate_term_by_term(mini: Path, cli) -> None:
    prose = mini / "sources" / "mini" / "policy.md"
    prose.write_text(prose.read_text(encoding="utf-8") + "\n{#defs}\nController\n: decides why **data** is used.\n\nProcessor\n: acts for the "
        "controller.\n", encoding="utf-8")
    assert cli("i18n", "update", cwd=mini).exit_code == 0
    nl = catalog(mini, "nl", "mini")
    contexts = {m.context: m.id for m in nl if m.id}
    assert contexts["defs.1"] == "Controller"
    assert contexts["defs.1.def"] == "decides why **data** is used."
    assert contexts["defs.2.def"] == "acts for the controller."
    assert cli("build", "--locale", "en", cwd=mini).exit_code == 0
    page = (mini / "output" / "mini" / "en" / "index.html").read_text(encoding="utf-8")
    assert '<dl id="defs">\n<dt id="defs.1">Controller</dt>\n<dd>decides why <strong>data</strong> is used.</dd>' in page
