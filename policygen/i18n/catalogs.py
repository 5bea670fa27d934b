"""Translation catalogs: gettext PO files, read and written through translate-toolkit's ``pypo``.

Takes a loaded :class:`~policygen.model.Project` and produces templates (``.pot``) and
catalogs (``.po``): one message per translatable block, its clause ID as ``msgctxt``, its
Markdown source as ``msgid``, and comments that say what kind of block it is and what each
placeholder renders to. Reading a catalog yields :class:`Translations`, the lookup the
``localize`` stage uses; broken files are reported as ``file:line``.

Why ``pypo``: it is the parser and writer Weblate uses, it reads and writes previous msgids
(``#|``) the way GNU gettext does, and it keeps the lines of every message it did not change
byte for byte, so a catalog wrapped by Poedit or msgmerge keeps its wrapping. Merging follows
``msgmerge``: a message whose source changed keeps its translation, marked fuzzy, with the
previous source text beside it; messages no longer in the template become obsolete (``#~``).

Files are written deterministically (dates are the policies' effective dates, never the clock)
and atomically, so a crash never leaves a half-written catalog.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from policygen import __version__
from policygen.archive.store import RELEASE_FILE, releases
from policygen.atomic import write_all
from policygen.errors import Collector
from policygen.i18n.localize import Formatter
from policygen.i18n.translations import GLOSSARY_DOMAIN, NOTES_PREFIX, Entry, Translations, flowed, is_notes, notes_context
from policygen.model import PLACEHOLDER_RE, Policy, Project, Term
from policygen.source.files import CONTROL_CHARACTERS, NOT_A_FILE, holds_control, inside, not_a_file

__all__ = ["GLOSSARY_DOMAIN", "Entry", "Translations", "domains", "extract", "load_translations", "read_catalog", "render_catalog", "update"]

if TYPE_CHECKING:
    from translate.storage.pypo import pofile as Catalog
    from translate.storage.pypo import pounit as Unit


def _pypo() -> ModuleType:
    """translate-toolkit's PO storage, imported when a catalog is first read or made (a command
    that reads none, such as a check answered from its record, does not pay for it)."""
    from translate.storage import pypo

    return pypo

_KIND_NOTES = {
    "title": "policy title", "heading": "section heading", "paragraph": "paragraph", "item": "list item",
    "cell": "table cell", "term": "defined term", "definition": "definition of a term",
}
MAX_PLURALS = 6
"""No language has more plural forms than this (Arabic has six); more is a broken header."""
MAX_CATALOG_BYTES = 32 * 1024 * 1024
"""A catalog larger than this is not a catalog of policies; refuse it rather than exhaust memory."""

# Values Babel (and older policygen) wrote into headers where it knew nothing better; an update
# replaces them with the project's real values. A value a translator or a tool set is kept.
_PLACEHOLDER_VALUES = re.compile(r"FULL NAME <EMAIL@ADDRESS>|EMAIL@ADDRESS|<LL@li\.org>|YEAR-MO-DA|LANGUAGE")
# Babel read ``#| msgid "..."`` as a translator comment and wrote it back as ``# | msgid``: lines
# of no use to anyone, which an update removes.
_MANGLED_PREVIOUS = re.compile(r'^# ?\| ?(?:(?:msgctxt|msgid|msgid_plural) )?"')
_BABEL_COMMENT = re.compile(r"FIRST AUTHOR <EMAIL@ADDRESS>|Copyright \(C\) \d+ ORGANIZATION|PACKAGE")


def _stamp(day: date) -> str:
    return f"{day.isoformat()} 00:00+0000"


def _glossary_date(project: Project) -> date:
    # The newest effective date of the project: a real date that changes only with the sources.
    dates = [policy.effective_date for policy in project.policies.values()]
    return max(dates) if dates else date(2000, 1, 1)


def _language_name(locale: str) -> str:
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(locale).get_display_name("en") or locale
    except (ValueError, UnknownLocaleError):
        return locale


def _plural_forms(locale: str) -> str:
    from babel.messages.plurals import get_plural

    forms = get_plural(locale)
    return f"nplurals={forms.num_plurals}; plural={forms.plural_expr};"


def _header(fields: list[tuple[str, str]], comments: list[str], fuzzy: bool = False) -> Unit:
    unit = _pypo().pounit("")
    unit.target = "".join(f"{key}: {value}\n" for key, value in fields)
    for comment in comments:
        unit.addnote(comment, origin="translator")
    unit.markfuzzy(fuzzy)
    return unit


def _template(domain: str, title: str, version: str, day: date, holder: str, bugs_to: str) -> Catalog:
    store = _pypo().pofile()
    store.units = []
    comments = [f"Translation template of {title}.", f"Copyright (C) {day.year} {holder}"]
    # A template's header is fuzzy and keeps gettext's blanks for the translator's fields, the
    # way xgettext writes it; msginit, Poedit and Weblate fill them in for each language.
    store.addunit(_header([
        ("Project-Id-Version", f"{domain} {version}".strip()),
        ("Report-Msgid-Bugs-To", bugs_to),
        ("POT-Creation-Date", _stamp(day)),
        ("PO-Revision-Date", "YEAR-MO-DA HO:MI+ZONE"),
        ("Last-Translator", "FULL NAME <EMAIL@ADDRESS>"),
        ("Language-Team", "LANGUAGE <LL@li.org>"),
        ("Language", ""),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=UTF-8"),
        ("Content-Transfer-Encoding", "8bit"),
        ("X-Generator", f"policygen {__version__}"),
    ], comments, fuzzy=True))
    return store


def _message(context: str, msgid: str, location: str, notes: list[str]) -> Unit:
    unit = _pypo().pounit(msgid)
    unit.setcontext(context)
    for note in notes:
        unit.addnote(note, origin="developer")
    unit.addlocation(location)
    return unit


def placeholder_hints(formatter: Formatter, text: str) -> list[str]:
    """What each placeholder of ``text`` renders to in the source language, for translators."""
    hints = []
    for name in dict.fromkeys(match.group(1) for match in PLACEHOLDER_RE.finditer(text)):
        # The no-break spaces that hold numbers to their units are for pages; a translator
        # reads the hint, and copies spaces they can see.
        rendered = formatter.render(name, as_html=False).replace("\u00a0", " ")
        hints.append(f"{{{{{name}}}}} renders as: {rendered}")
    return hints


def policy_template(project: Project, policy: Policy) -> Catalog:
    """The template of a policy's prose: one message per segment, in document order."""
    day = policy.effective_date
    store = _template(policy.id, f"the policy {policy.id}", policy.version, day, *_holder(policy))
    rel = policy.prose_path.relative_to(project.root).as_posix()
    formatter = Formatter(project, policy, policy.source_locale, _glossary_in(project, policy.source_locale))
    doc = policy.document
    for segment in (doc.title, *doc.segments):
        notes = [f"{_KIND_NOTES[segment.kind]} in clause '{segment.clause}'; source language: {policy.source_locale}"]
        notes += placeholder_hints(formatter, segment.text)
        store.addunit(_message(segment.context, flowed(segment.text), f"{rel}:{segment.line}", notes))
    for context, text, path, _line in release_notes(project, policy):
        version = context.removeprefix(NOTES_PREFIX)
        store.addunit(_message(context, text, path.relative_to(project.root).as_posix(), [
            f"notes of the release of version {version}, shown on the policy's archive page; source language: {policy.source_locale}; "
            f"until translated, the page shows them in {policy.source_locale}"]))
    return store


def _glossary_in(project: Project, locale: str) -> Translations:
    """The glossary's translations into ``locale``, for the hints of a policy written in it: its
    placeholders render with these labels on its pages (a policy in Dutch with a glossary in
    English), and a hint of English labels joined by a Dutch 'en' tells its translators nothing
    true. A catalog that cannot be read gives none; its problems are reported where catalogs
    are read for use."""
    translations = Translations()
    path = project.catalog_path(locale, GLOSSARY_DOMAIN)
    if locale == project.glossary.locale or not path.exists():
        return translations
    parsed = _read_catalog(path, locale, Collector(), project.root)
    if parsed is not None:
        translations.entries[(GLOSSARY_DOMAIN, locale)] = _entries(path, parsed[1])
    return translations


def _entries(path: Path, keyed: list[tuple[Unit, str, str, int]]) -> dict[tuple[str, str], Entry]:
    """A catalog's messages by ``(msgctxt, msgid)``. A msgid with a soft line break (written by
    a policygen from before msgids were flowed, or archived so) is keyed by its flowed form, the
    msgid the sources give now: the pages, the status and the publishing gate then find the same
    translation, until the next ``i18n update`` rewrites the msgid (a message already written
    flowed comes first)."""
    entries = {(context, source): Entry(unit.target or "", path, line, unit.isfuzzy()) for unit, context, source, line in keyed}
    for context, source in [key for key in entries if "\n" in key[1]]:
        if (one_line := flowed(source)) != source and (context, one_line) not in entries:
            entries[(context, one_line)] = entries.pop((context, source))
    return entries


def release_notes(project: Project, policy: Policy) -> list[tuple[str, str, Path, int]]:
    """The notes of every release of ``policy`` (``release --notes``), as catalog messages
    ``(context, text, release.json, 0)``: the archive pages show them in every language, so
    translators receive them with the policy's own text."""
    return [(notes_context(rel.version), rel.released_notes, rel.folder / RELEASE_FILE, 0)
            for rel in releases(project.root, policy.id) if rel.released_notes.strip()]


def glossary_template(project: Project) -> Catalog:
    """The template of the shared glossary: one message per label, context ``kind:id``."""
    holders = sorted({_holder(policy)[0] for policy in project.policies.values()} - {""})
    emails = sorted({_holder(policy)[1] for policy in project.policies.values()} - {""})
    store = _template(GLOSSARY_DOMAIN, "the glossary", "", _glossary_date(project), ", ".join(holders), emails[0] if emails else "")
    rel = project.glossary.path.relative_to(project.root).as_posix()
    for term in project.glossary.all_terms():
        store.addunit(_message(term.context, term.label, f"{rel}:{term.line}", [_term_note(project, term)]))
    return store


def _term_note(project: Project, term: Term) -> str:
    """What a glossary message is for, so a translator can give it the right grammar."""
    language = f"source language: {project.glossary.locale}"
    if term.kind == "policy":
        return (f"how notices and e-mails name the policy '{term.id}' mid-sentence, with its possessive or "
                f"article ('onze privacyverklaring', 'ons cookiebeleid'); {language}")
    kind = term.kind.replace("_", " ")
    if term.form == "noun":
        label = project.glossary.terms[term.kind, term.id].label
        return f"noun-phrase form of the {kind} '{label}', for sentences such as 'We use sensitive data for …'; {language}"
    return f"label of a {kind}; {language}"


def targets(project: Project) -> list[tuple[str, list[str]]]:
    """Every catalog domain of the project with its target locales (no templates built)."""
    result = [(GLOSSARY_DOMAIN, [loc for loc in project.config.locales if loc != project.glossary.locale])]
    result += [(policy.id, list(policy.target_locales)) for policy in project.policies.values()]
    return result


def sources(project: Project) -> dict[str, list[tuple[str, str, Path, int]]]:
    """For each catalog domain: its current messages as ``(context, msgid, source file, line)``."""
    result: dict[str, list[tuple[str, str, Path, int]]] = {}
    glossary = project.glossary
    result[GLOSSARY_DOMAIN] = [(term.context, term.label, glossary.path, term.line) for term in glossary.all_terms()]
    for policy in project.policies.values():
        doc = policy.document
        result[policy.id] = [(segment.context, flowed(segment.text), policy.prose_path, segment.line) for segment in (doc.title, *doc.segments)]
        result[policy.id] += release_notes(project, policy)
    return result


def domains(project: Project) -> list[tuple[str, Catalog, list[str]]]:
    """Every catalog domain of the project with its template and target locales."""
    result = []
    glossary_targets = [loc for loc in project.config.locales if loc != project.glossary.locale]
    result.append((GLOSSARY_DOMAIN, glossary_template(project), glossary_targets))
    for policy in project.policies.values():
        result.append((policy.id, policy_template(project, policy), list(policy.target_locales)))
    return result


def translations_of(raw: bytes) -> frozenset[tuple[str, str, str, bool]] | bytes:
    """What a catalog gives the pages: each active message's context, source, translation and
    fuzzy flag, without the releases' notes (they join a catalog after each release) and
    without headers, comments and wrapping, which change nothing a reader sees. Bytes that are
    no catalog come back as they are, so they compare only with themselves."""
    from translate.storage.poparser import PoParseError

    store = _pypo().pofile()
    try:
        store.parse(raw)
    except (PoParseError, ValueError, LookupError, UnicodeError):
        return raw
    return frozenset((unit.getcontext(), unit.source, unit.target or "", unit.isfuzzy()) for unit in messages(store)
                     if not is_notes(unit.getcontext()))


def render_catalog(store: Catalog, like: Path | None = None) -> bytes:
    """Serialize a catalog: translate-toolkit's writer, gettext's conventions (79 columns), and
    the line ends of the file at ``like`` if there is one: CRLF where it has them (a catalog
    checked out on Windows), so that rewriting it changes only what changed."""
    data = bytes(store)
    return data.replace(b"\n", b"\r\n") if like is not None and _has_crlf(like) else data


def _has_crlf(path: Path) -> bool:
    """Whether the file at ``path`` ends its first line with CRLF (read as catalogs are read:
    with CRLF made LF, so every line feed written out is a line end)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(64 * 1024)
    except OSError:
        return False
    end = head.find(b"\n")
    return end > 0 and head[end - 1 : end] == b"\r"


def messages(store: Catalog) -> Iterator[Unit]:
    """The active, singular messages of a catalog (no header, no obsolete or plural ones)."""
    for unit in store.units:
        if not (unit.isheader() or unit.isobsolete() or unit.hasplural()):
            yield unit


def header_fields(store: Catalog) -> dict[str, str]:
    return dict(store.parseheader())


def _set_header(store: Catalog, changes: dict[str, str]) -> None:
    """Change some header fields in place, keeping the others and their order."""
    header = store.header()
    assert header is not None
    lines = header.target.split("\n")
    done = set()
    for index, line in enumerate(lines):
        key = line.split(":", 1)[0].strip()
        if key in changes and ":" in line:
            lines[index] = f"{key}: {changes[key]}"
            done.add(key)
    missing = [f"{key}: {value}" for key, value in changes.items() if key not in done]
    if missing:
        if lines and lines[-1] == "":
            lines = lines[:-1] + missing + [""]
        else:
            lines += missing
    new = "\n".join(lines)
    if new != header.target:
        header.target = new


def new_catalog(template: Catalog, locale: str) -> Catalog:
    """A catalog for ``locale`` with every message of ``template`` untranslated (what msginit makes)."""
    fields = header_fields(template)
    store = _pypo().pofile()
    store.units = []
    comments = [line for line in template.header().getnotes("translator").split("\n")]
    comments[0] = comments[0].replace("Translation template", f"{_language_name(locale)} translation")
    day = fields.get("POT-Creation-Date", "")
    store.addunit(_header([
        ("Project-Id-Version", fields.get("Project-Id-Version", "")),
        ("Report-Msgid-Bugs-To", fields.get("Report-Msgid-Bugs-To", "")),
        ("POT-Creation-Date", day),
        ("PO-Revision-Date", day),
        ("Last-Translator", ""),
        ("Language-Team", _language_name(locale)),
        ("Language", locale),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=UTF-8"),
        ("Content-Transfer-Encoding", "8bit"),
        ("Plural-Forms", _plural_forms(locale)),
        ("X-Generator", f"policygen {__version__}"),
    ], comments))
    for unit in messages(template):
        store.addunit(_copy(unit))
    return store


def _copy(unit: Unit, wrapper: object = None) -> Unit:
    # Made with the catalog's wrapper, so its msgid is quoted in the catalog's layout.
    fresh = _pypo().pounit(unit.source, wrapper=wrapper)
    fresh.setcontext(unit.getcontext())
    fresh.automaticcomments = list(unit.automaticcomments)
    fresh.sourcecomments = list(unit.sourcecomments)
    return fresh


def merge(existing: Catalog, template: Catalog, locale: str) -> Catalog:
    """``msgmerge existing template``: the catalog brought up to date with the template.

    A message whose context and source are unchanged is kept as it is (its lines, flags and
    translator comments), with the template's comments and references. A message whose context
    remains but whose source changed keeps its translation, marked fuzzy, with the source the
    translation was made for as the previous msgid (``#|``); a message found by its source under
    another context does the same with the previous context, and is taken before a message of its
    context with another text (an item inserted above it in a list renumbers it). Messages no longer in the template
    become obsolete; obsolete ones stay, unless they come back: with the same context and source,
    as they were (translated, or fuzzy if they were); otherwise as a fuzzy match.
    """
    active: dict[tuple[str, str], Unit] = {}
    by_context: dict[str, Unit] = {}
    by_source: dict[str, list[Unit]] = {}
    obsolete: dict[tuple[str, str], Unit] = {}
    for unit in existing.units:
        if unit.isheader() or unit.hasplural():
            continue
        key = (unit.getcontext(), unit.source)
        if unit.isobsolete():
            by_context.setdefault(key[0], unit)
            obsolete.setdefault(key, unit)
            continue
        active[key] = unit
        by_context[key[0]] = unit
        by_source.setdefault(key[1], []).append(unit)
    # A catalog written unwrapped (msgcat --no-wrap, Weblate's "only wrap at newlines", Poedit
    # with wrapping off) gets its new and changed messages unwrapped too, not a mix of layouts:
    # a wrapper without a column limit breaks a string only after a line feed, as gettext's
    # --no-wrap does. Its messages take the same wrapper, so adding one requotes nothing.
    merged = _pypo().pofile(width=_NO_WRAP if _unwrapped(existing) else None)
    merged.units = []
    for unit in existing.units:
        unit.wrapper = merged.wrapper
    # Text that only moved to another context (an item inserted above it in its list renumbers
    # it) keeps the translation of that text, as msgmerge's exact msgid match does, rather than
    # take the translation of whatever text had its context before: each message with the same
    # text in the old catalog, not kept as it is by the template, goes to the first message of
    # the template that has the text under another context.
    wanted = [(tunit.getcontext(), tunit.source) for tunit in messages(template)]
    claimed = {id(active[key]) for key in wanted if key in active}
    moved: dict[tuple[str, str], Unit] = {}
    for key in wanted:
        if key in active or (key in obsolete and obsolete[key].target):
            continue
        found = next((unit for unit in by_source.get(key[1], ()) if unit.target and id(unit) not in claimed), None)
        if found is not None:
            claimed.add(id(found))
            moved[key] = found
    header = existing.header()
    merged.addunit(header if header is not None else new_catalog(template, locale).units[0])
    used: set[int] = set()
    for tunit in messages(template):
        context, source = tunit.getcontext(), tunit.source
        kept = active.get((context, source))
        revived = obsolete.get((context, source)) if kept is None else None
        if revived is not None and revived.target and id(revived) not in used:
            # A removed message back as it was (a reverted deletion): msgmerge revives it with
            # its translation and flags as they were, and so do we.
            revived.resurrect()
            kept = revived
        if kept is not None:
            used.add(id(kept))
            _drop_mangled_comments(kept)
            if kept.hastypecomment("python-format"):
                # Babel's: it flagged any text with a '%' ("100% secure"), and msgfmt
                # --check-format then refuses the right translation. A policy's text is Markdown,
                # never a Python format string.
                kept.settypecomment("python-format", False)
            if kept.automaticcomments != tunit.automaticcomments:
                kept.automaticcomments = list(tunit.automaticcomments)
            if kept.sourcecomments != tunit.sourcecomments:
                kept.sourcecomments = list(tunit.sourcecomments)
            if not kept.isfuzzy() and (kept.prev_msgid or kept.prev_msgctxt):
                kept.prev_source = None
                kept.prev_context = None
            merged.addunit(kept)
            continue
        fresh = _copy(tunit, merged.wrapper)
        old = moved.get((context, source))
        if old is None:
            old = by_context.get(context)
            if old is not None and (id(old) in used or id(old) in claimed):
                old = None
        if (old is not None and old.target and not old.isfuzzy() and not old.isobsolete() and old.getcontext() == context
                and flowed(old.source) == source):
            # The same text with its soft line breaks made spaces (a catalog made when msgids
            # kept them): the translation is still the translation of this text.
            used.add(id(old))
            fresh.wrapper = merged.wrapper
            fresh.msgstr = old.msgstr.copy()
            fresh.othercomments = [line for line in old.othercomments if not _MANGLED_PREVIOUS.match(line)]
            merged.addunit(fresh)
            continue
        if old is not None and old.target:
            used.add(id(old))
            # The translation is the same text: its lines stay as the translator's tool wrapped
            # them (set raw, with the catalog's wrapper, so adding the unit does not rewrap them).
            fresh.wrapper = merged.wrapper
            fresh.msgstr = old.msgstr.copy()
            fresh.othercomments = [line for line in old.othercomments if not _MANGLED_PREVIOUS.match(line)]
            fresh.markfuzzy(True)
            # The translation was made for the old message's previous source if it was already
            # fuzzy, else for its source; that is the text a translator must compare against.
            already = old.isfuzzy() and bool(old.prev_msgid)
            made_for = old.prev_source if already else old.source
            if made_for != source:
                if already:
                    fresh.prev_msgid = list(old.prev_msgid)  # its lines as they were, too
                else:
                    fresh.prev_source = made_for
            old_context = old.prev_context if (old.isfuzzy() and old.prev_msgctxt) else old.getcontext()
            if old_context != context:
                fresh.prev_context = old_context
                if not fresh.prev_msgid:
                    # gettext reads '#| msgctxt' only before a '#| msgid' (msgmerge writes
                    # both): alone, msgfmt and Poedit refuse the file with a syntax error.
                    fresh.prev_source = made_for
        merged.addunit(fresh)
    for unit in existing.units:
        if unit.isheader() or id(unit) in used:
            continue
        if unit.hasplural() and not unit.isobsolete():
            continue
        if not unit.isobsolete():
            if not unit.target:
                continue  # msgmerge drops untranslated messages rather than keep them obsolete
            unit.makeobsolete()
        merged.addunit(unit)
    _refresh_header(merged, template, locale)
    return merged


_NO_WRAP = 1 << 30
"""A width no line reaches: translate-toolkit then breaks strings where gettext's --no-wrap does."""


def _unwrapped(store: Catalog) -> bool:
    """Whether a catalog's strings are written unwrapped: some string runs past gettext's 79
    columns and none is broken over lines except after a line feed (``\\n``), which is where
    gettext breaks a string it does not wrap."""
    long = False
    for unit in store.units:
        if unit.isheader():
            continue
        strings = [unit.msgctxt, unit.msgid, unit.msgid_plural, unit.prev_msgid]
        strings += list(unit.msgstr.values()) if isinstance(unit.msgstr, dict) else [unit.msgstr]
        for lines in strings:
            if any(line != '""' and not line.endswith('\\n"') for line in lines[:-1]):
                return False
            long = long or any(len(line) > 79 - len("msgid ") for line in lines)
    return long


def _drop_mangled_comments(unit: Unit) -> None:
    kept = [line for line in unit.othercomments if not _MANGLED_PREVIOUS.match(line)]
    if kept != unit.othercomments:
        unit.othercomments = kept


def _refresh_header(store: Catalog, template: Catalog, locale: str) -> None:
    """The template's creation date and version; the project's values where only placeholders
    were; every field a translator or a tool set (Last-Translator, Language-Team,
    PO-Revision-Date, X-Generator, ...) kept as it is."""
    fields = header_fields(store)
    source = header_fields(template)
    changes = {key: source[key] for key in ("POT-Creation-Date", "Project-Id-Version") if fields.get(key) != source.get(key)}
    defaults = header_fields(new_catalog(template, locale))
    for key, value in fields.items():
        if _PLACEHOLDER_VALUES.search(value) and key in defaults:
            changes[key] = defaults[key]
    for key in ("Language", "Plural-Forms", "Content-Type", "Content-Transfer-Encoding", "MIME-Version"):
        if key not in fields:
            changes[key] = defaults[key]
    if "Generated-By" in fields and "Babel" in fields["Generated-By"]:
        changes.pop("Generated-By", None)
        _drop_header_field(store, "Generated-By")
        if "X-Generator" not in fields:
            changes["X-Generator"] = defaults["X-Generator"]
    if changes:
        _set_header(store, changes)
    header = store.header()
    assert header is not None
    notes = header.getnotes("translator")
    if _BABEL_COMMENT.search(notes):
        header.othercomments = []
        for line in new_catalog(template, locale).header().getnotes("translator").split("\n"):
            header.addnote(line, origin="translator")


def _drop_header_field(store: Catalog, key: str) -> None:
    header = store.header()
    assert header is not None
    header.target = "\n".join(line for line in header.target.split("\n") if line.split(":", 1)[0].strip() != key)


def extract(project: Project) -> list[Path]:
    """Write every template, and create the catalogs that do not exist yet. Returns written paths."""
    planned: dict[Path, bytes] = {}
    for domain, template, targets in domains(project):
        planned[project.template_path(domain)] = render_catalog(template)
        for locale in targets:
            po = project.catalog_path(locale, domain)
            if not po.exists():
                planned[po] = render_catalog(new_catalog(template, locale))
    return write_all(planned, project.root)


def update(project: Project, errors: Collector | None = None) -> list[Path]:
    """Merge the current templates into every catalog (see :func:`merge`).

    Every catalog is read and merged before anything is written, so a broken catalog changes
    no file.
    """
    errors = Collector() if errors is None else errors
    planned: dict[Path, bytes] = {}
    for domain, template, targets in domains(project):
        planned[project.template_path(domain)] = render_catalog(template)
        for locale in targets:
            po = project.catalog_path(locale, domain)
            if not po.exists():
                planned[po] = render_catalog(new_catalog(template, locale))
                continue
            existing = read_catalog(po, locale, errors, project.root)
            if existing is not None:
                planned[po] = render_catalog(merge(existing, template, locale), like=po)
    errors.raise_if_any()
    return write_all(planned, project.root)


_STRING = r'"(?:[^"\\]|\\.)*"'
_PO_LINE = re.compile(rf"^(?:(?:msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?)\s+{_STRING}|{_STRING})\s*$")


def lines_of(text: str) -> list[str]:
    """A PO file's lines. Only a line feed ends a line (with an optional carriage return before
    it): gettext reads U+2028, U+0085 and form feeds as characters of the text, and so must we."""
    return [line.removesuffix("\r") for line in text.split("\n")]


def lint_po(text: str) -> list[tuple[int, str]]:
    """Syntax errors, the way GNU gettext would report them. Returns ``(line, message)`` pairs."""
    problems = []
    number, position = 1, 0
    while position <= len(text):
        # One match (in C) passes over the run of plainly well-formed lines; only a line that
        # ends it is read by itself (a catalog of thousands of lines usually has none).
        plain = _PLAIN_LINES.match(text, position).end()  # type: ignore[union-attr]  # it matches the empty run too
        number += text.count("\n", position, plain)
        end = text.find("\n", plain)
        end = len(text) if end < 0 else end
        problem = _line_problem(text[plain:end].removesuffix("\r"))
        if problem is not None:
            problems.append((number, problem))
        number, position = number + 1, end + 1
    return problems


def _line_problem(line: str) -> str | None:
    """What is wrong with one line of a PO file (see :func:`lines_of`), or None."""
    stripped = line.strip(" \t")
    if not stripped:
        return None
    if stripped.startswith("#~|"):
        stripped = stripped[3:].strip(" \t")
    elif stripped.startswith("#~"):
        stripped = stripped[2:].strip(" \t")
    elif stripped.startswith("#|"):
        stripped = stripped[2:].strip(" \t")
    elif stripped.startswith("#"):
        return None
    if not stripped or _PO_LINE.match(stripped):
        return None
    if stripped.count('"') % 2 == 1 or '"' not in stripped:
        return f"broken PO file: {stripped[:60]!r} is not a keyword followed by a quoted string (a missing or extra '\"'?)"
    return f"broken PO file: unknown or misformatted line {stripped[:60]!r}"


# Lines :func:`_line_problem` accepts, in their plainest forms: blank, a comment, or a keyword and
# its string (or a string alone), possibly obsolete (#~) or previous (#|), with a carriage return
# before the line feed; a run of them. Any other line is read by :func:`_line_problem` itself.
_LINE_STRING = r'"[^"\\\n]*(?:\\[^\n][^"\\\n]*)*"'
_PLAIN_LINES = re.compile(
    r"(?:[ \t]*(?:#(?![~|])[^\n]*|(?:(?:#~\|?|#\|)[ \t]*)?(?:(?:msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?)[ \t]+"
    + _LINE_STRING + "|" + _LINE_STRING + r")[ \t]*\r?|\r?)\n)*")


_CHARSET = re.compile(r"charset\s*=\s*([^\s;\\\"]*)", re.IGNORECASE)
_NPLURALS = re.compile(r"nplurals\s*=\s*([^;\\\"]*)")


def _header_problems(text: str, lines: list[str]) -> list[tuple[int, str]]:
    """The header fields policygen depends on: a UTF-8 charset and a sane number of plurals."""
    problems = []
    for number, line in enumerate(lines[:80], start=1):
        if line.startswith('"Content-Type:'):
            found = _CHARSET.search(line)
            charset = found.group(1) if found else ""
            if charset.lower().replace("_", "-") not in ("utf-8", "utf8", "charset"):
                problems.append((number, f"the catalog says charset={charset or '(nothing)'}; policygen reads catalogs as UTF-8 only: "
                                         "convert the file (msgconv --to-code=UTF-8) or, if it is UTF-8 already, fix the header to 'charset=UTF-8'"))
        elif line.startswith('"Plural-Forms:'):
            found = _NPLURALS.search(line)
            value = found.group(1).strip() if found else ""
            if not (value.isascii() and value.isdigit() and 1 <= int(value) <= MAX_PLURALS):
                problems.append((number, f"Plural-Forms says nplurals={value or '(nothing)'}; a language has from 1 to {MAX_PLURALS} plural forms: "
                                         "fix the header, or delete the line and run 'policygen i18n update'"))
        elif line.startswith("msgid ") and number > 1 and not line.startswith('msgid ""'):
            break
    return problems


def read_catalog(path: Path, locale: str, errors: Collector, root: Path | None = None) -> Catalog | None:
    """Read a PO file strictly; every problem becomes a diagnostic at its line."""
    parsed = _read_catalog(path, locale, errors, root)
    return parsed[0] if parsed is not None else None


def _read_catalog(path: Path, locale: str, errors: Collector, root: Path | None) -> tuple[Catalog, list[tuple[Unit, str, str, int]]] | None:
    """:func:`read_catalog`, with each message keyed as :func:`_parse_catalog` keys it."""
    raw = _catalog_bytes(path, errors, root)
    return _parse_catalog(raw, path, locale, errors) if raw is not None else None


def _catalog_bytes(path: Path, errors: Collector, root: Path | None) -> bytes | None:
    """The bytes of the catalog at ``path``; ``None`` (with a diagnostic) if it may not or cannot be read."""
    if root is not None and not inside(path, root, errors):
        return None
    if not_a_file(path):
        errors.add(path, 0, NOT_A_FILE)
        return None
    try:
        if path.stat().st_size > MAX_CATALOG_BYTES:
            errors.add(path, 0, f"catalog larger than {MAX_CATALOG_BYTES // (1024 * 1024)} MB; policygen does not read it")
            return None
        return path.read_bytes()
    except OSError as exc:
        errors.add(path, 0, f"cannot read: {exc.strerror}")
        return None


def parse_catalog(raw: bytes, path: Path, locale: str | None, errors: Collector) -> Catalog | None:
    """Parse the bytes of a PO file read from ``path``; ``None`` (with diagnostics) if broken."""
    parsed = _parse_catalog(raw, path, locale, errors)
    return parsed[0] if parsed is not None else None


def _parse_catalog(raw: bytes, path: Path, locale: str | None, errors: Collector) -> tuple[Catalog, list[tuple[Unit, str, str, int]]] | None:
    """:func:`parse_catalog`, and each message with its context, its source and the line of its
    ``msgid`` (worked out once: translate-toolkit unquotes a unit's text anew on every read)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        errors.add(path, exc.object[: exc.start].count(b"\n") + 1, f"broken PO file: not valid UTF-8 ({exc.reason}); save it as UTF-8")
        return None
    lines = lines_of(text)
    hint = "; fix the entry, or delete the file and run 'policygen i18n update'"
    problems = [(line, message + hint) for line, message in lint_po(text)]
    if "\x00" in text:
        problems.append((text[: text.index("\x00")].count("\n") + 1, "broken PO file: a NUL character; save the file as text"))
    problems += _header_problems(text, lines)
    for line, message in problems:
        errors.add(path, line, message)
    if problems:
        return None
    from translate.storage.poparser import PoParseError

    store = _pypo().pofile()
    try:
        # Parsed with LF line ends only: translate-toolkit keeps each comment line with the line
        # end it was read with, and writes new lines with one line end, which would mix both in
        # a CRLF catalog; render_catalog gives the file its CRLF back.
        store.parse(text.replace("\r\n", "\n").encode("utf-8"))
    except PoParseError as exc:
        errors.add(path, exc.parse_state.lineno, f"broken PO file: {str(exc).split(' on line ', 1)[0].lower()}{hint}")
        return None
    except (ValueError, LookupError, UnicodeError) as exc:
        errors.add(path, 0, f"broken PO file: {exc}")
        return None
    if locale is not None:
        declared = header_fields(store).get("Language", "").strip()
        # A region of the folder's language is that language: Poedit writes 'nl_NL' when a
        # translator picks "Dutch (Netherlands)", as a CAT tool writes 'nl-NL' into XLIFF.
        if declared and declared.replace("-", "_") != locale and declared.replace("-", "_").split("_", 1)[0].lower() != locale:
            errors.add(path, _header_line(lines, "Language"), f"the catalog says 'Language: {declared}' but lives in the '{locale}' folder; fix the header")
    seen: dict[tuple[str, str], int] = {}
    keyed = []
    controls = CONTROL_CHARACTERS.search(text) is not None
    for unit in messages(store):
        key = (unit.getcontext(), unit.source)
        number = msgid_line(unit, lines)
        if key in seen:
            errors.add(path, number, f"duplicate message (context \"{key[0]}\"); it already appears on line {seen[key]}; delete one of them")
        seen.setdefault(key, number)
        keyed.append((unit, *key, number))
        if controls:
            _control_characters(unit, path, lines, number, errors)
    return store, keyed


def _control_characters(unit: Unit, path: Path, lines: list[str], number: int, errors: Collector) -> None:
    """A control character in a translation, at its ``msgstr`` (one in a source text is the
    source's to report: the prose reader refuses it)."""
    found = CONTROL_CHARACTERS.search(unit.target or "")
    if found is not None:
        what = f"term '{unit.getcontext()}'" if path.stem == GLOSSARY_DOMAIN else f"clause '{unit.getcontext()}'"
        line = next((n for n in range(number, len(lines) + 1) if lines[n - 1].startswith("msgstr")), number)
        errors.add(path, line, f"the translation of {what} {holds_control(found)}; replace it with a space")


def msgid_line(unit: Unit, lines: list[str]) -> int:
    """The line of a message's ``msgid`` keyword (its unit starts at its first comment)."""
    start = unit.line_number or 1
    for number in range(start, len(lines) + 1):
        if lines[number - 1].lstrip("#~ ").startswith("msgid ") and not lines[number - 1].startswith("#|"):
            return number
    return start


def _header_line(lines: list[str], field_name: str) -> int:
    for number, line in enumerate(lines, start=1):
        if line.startswith(f'"{field_name}:'):
            return number
    return 1


def load_translations(project: Project, locales: list[str] | None, errors: Collector) -> Translations:
    """Read every catalog the selected locales need. A missing catalog just means no translations."""
    translations = Translations()
    for domain, locales_of in targets(project):
        for locale in locales_of:
            if locales is not None and locale not in locales:
                continue
            path = project.catalog_path(locale, domain)
            translations.paths[(domain, locale)] = path
            if not path.exists():
                continue
            parsed = _read_catalog(path, locale, errors, project.root)
            if parsed is None:
                translations.unreadable.add((domain, locale))
                continue
            catalog, keyed = parsed
            translations.entries[(domain, locale)] = _entries(path, keyed)
            translations.obsolete[(domain, locale)] = sum(1 for unit in catalog.units if unit.isobsolete())
    _stray_catalogs(project, errors, locales)
    return translations


def _stray_catalogs(project: Project, errors: Collector, locales: list[str] | None) -> None:
    """Catalogs nobody reads are usually a mistake (a typo in a folder name, a renamed policy)."""
    if not project.locales_dir.is_dir():
        return
    expected = {project.catalog_path(loc, domain) for domain, locales_of in targets(project) for loc in locales_of}
    sources = project.root / "sources"
    existing_policies = {p.name for p in sources.iterdir() if p.is_dir()} if sources.is_dir() else set()
    for po in sorted(project.locales_dir.glob("*/LC_MESSAGES/*.po")):
        locale, domain = po.parent.parent.name, po.stem
        if po in expected or (locales is not None and locale not in locales):
            continue
        if domain != GLOSSARY_DOMAIN and domain not in existing_policies:
            errors.add(po, 0, f"catalog for unknown policy '{domain}'; if the policy was renamed, rename this file after its new ID and run "
                              f"'policygen i18n update' (its translations are kept); otherwise remove it or restore sources/{domain}/")
        elif domain != GLOSSARY_DOMAIN and domain not in project.policies:
            continue  # a policy that exists but was not selected for this run
        elif locale not in project.config.locales:
            errors.add(po, 0, f"catalog for locale '{locale}', which the project does not publish; remove it or add '{locale}' to policygen.yaml")
        elif domain == GLOSSARY_DOMAIN:
            errors.add(po, 0, f"the glossary is written in '{locale}' and needs no catalog for it; remove this file")
        elif locale == project.policies[domain].source_locale:
            errors.add(po, 0, f"policy '{domain}' is written in '{locale}' and needs no catalog for it; remove this file")
        # Otherwise the policy is not published in this locale right now; its catalog keeps the
        # translation work for when it is again.


def _holder(policy: Policy) -> tuple[str, str]:
    """The controller's name and e-mail for catalog headers ("" when the facts name none)."""
    controller = policy.facts.controller
    return (controller.name, controller.email or "") if controller else ("", "")
