"""Translation catalogs: gettext PO files read and written through ``babel.messages``.

Takes a loaded :class:`~policygen.model.Project` and produces templates (``.pot``) and
catalogs (``.po``): one message per translatable block, its clause ID as ``msgctxt``, its
Markdown source as ``msgid``. Reading a catalog yields :class:`Translations`, the lookup the
``localize`` stage uses; broken files are reported as ``file:line``.

Files are written deterministically (the creation date is the policy's effective date, never
the clock) and atomically, so a crash never leaves a half-written catalog.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import PoFileError, read_po, write_po

from policygen import __version__
from policygen.atomic import write_all
from policygen.errors import Collector
from policygen.model import Policy, Project
from policygen.source.files import inside

GLOSSARY_DOMAIN = "glossary"
_KIND_NOTES = {
    "title": "policy title", "heading": "section heading", "paragraph": "paragraph", "item": "list item",
    "cell": "table cell", "term": "defined term", "definition": "definition of a term",
}


@dataclass(frozen=True, slots=True)
class Entry:
    """One message of a catalog and where it is written."""

    text: str
    path: Path
    line: int
    fuzzy: bool = False

    @property
    def usable(self) -> bool:
        """Publishable: translated, and not marked fuzzy (a fuzzy one was made for an older source)."""
        return not self.fuzzy and bool(self.text.strip())


@dataclass
class Translations:
    """Every translated message of a project, by domain and locale."""

    entries: dict[tuple[str, str], dict[tuple[str, str], Entry]] = field(default_factory=dict)
    """``(domain, locale) -> (msgctxt, msgid) -> Entry``, every active message."""
    obsolete: dict[tuple[str, str], int] = field(default_factory=dict)
    """``(domain, locale) ->`` how many obsolete (``#~``) messages the catalog keeps."""
    paths: dict[tuple[str, str], Path] = field(default_factory=dict)
    """``(domain, locale) ->`` the catalog file, whether or not it exists yet."""
    unreadable: set[tuple[str, str]] = field(default_factory=set)
    """Catalogs that could not be read (their errors are already reported)."""

    def get(self, domain: str, locale: str, context: str, msgid: str) -> Entry | None:
        """The publishable translation of a message, if there is one."""
        entry = self.entry(domain, locale, context, msgid)
        return entry if entry is not None and entry.usable else None

    def entry(self, domain: str, locale: str, context: str, msgid: str) -> Entry | None:
        """The catalog's message for this source text, fuzzy or empty ones included."""
        return self.entries.get((domain, locale), {}).get((context, msgid))


def _date(policy_or_none: Policy | None) -> datetime:
    # A fixed date keeps templates byte-identical across runs; the effective date is the
    # one date that means something to the people who read the header.
    if policy_or_none is None:
        return datetime(2000, 1, 1, tzinfo=UTC)
    d = policy_or_none.effective_date
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def policy_template(project: Project, policy: Policy) -> Catalog:
    """The template of a policy's prose: one message per segment, in document order."""
    catalog = Catalog(
        project=f"{policy.id}", version=policy.version, copyright_holder=policy.facts.controller.name if policy.facts.controller else "",
        creation_date=_date(policy), revision_date=_date(policy), fuzzy=False,
        msgid_bugs_address="", charset="utf-8",
    )
    catalog.locale = None
    rel = policy.prose_path.relative_to(project.root).as_posix()
    doc = policy.document
    for segment in (doc.title, *doc.segments):
        catalog.add(
            segment.text, context=segment.context, locations=[(rel, segment.line)],
            auto_comments=[f"{_KIND_NOTES[segment.kind]} in clause '{segment.clause}'; source language: {policy.source_locale}"],
        )
    return catalog


def glossary_template(project: Project) -> Catalog:
    """The template of the shared glossary: one message per label, context ``kind:id``."""
    catalog = Catalog(project=GLOSSARY_DOMAIN, version="", creation_date=_date(None), revision_date=_date(None),
                      fuzzy=False, msgid_bugs_address="", charset="utf-8")
    rel = project.glossary.path.relative_to(project.root).as_posix()
    for key in sorted(project.glossary.terms):
        term = project.glossary.terms[key]
        catalog.add(term.label, context=term.context, locations=[(rel, term.line)],
                    auto_comments=[f"label of a {term.kind.replace('_', ' ')}; source language: {project.glossary.locale}"])
    return catalog


def domains(project: Project) -> list[tuple[str, Catalog, list[str]]]:
    """Every catalog domain of the project with its template and target locales."""
    result = []
    glossary_targets = [loc for loc in project.config.locales if loc != project.glossary.locale]
    result.append((GLOSSARY_DOMAIN, glossary_template(project), glossary_targets))
    for policy in project.policies.values():
        result.append((policy.id, policy_template(project, policy), list(policy.target_locales)))
    return result


def render_catalog(catalog: Catalog) -> bytes:
    """Serialize a catalog the same way every time (previous msgids kept for translators)."""
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=0, include_previous=True, sort_output=False, sort_by_file=False)
    data = buffer.getvalue()
    # Babel stamps its own version into the header; ours is the one that matters.
    return data.replace(b"Generated-By: Babel", f"Generated-By: policygen {__version__}, Babel".encode())


def _new_catalog(template: Catalog, locale: str) -> Catalog:
    catalog = Catalog(locale=locale, project=template.project, version=template.version,
                      copyright_holder=template.copyright_holder, creation_date=template.creation_date,
                      revision_date=template.creation_date, fuzzy=False, msgid_bugs_address="", charset="utf-8")
    for message in template:
        if message.id:
            catalog[message.id] = Message(message.id, "", locations=message.locations, auto_comments=message.auto_comments, context=message.context)
    return catalog


def extract(project: Project) -> list[Path]:
    """Write every template, and create the catalogs that do not exist yet. Returns written paths."""
    planned: dict[Path, bytes] = {}
    for domain, template, targets in domains(project):
        planned[project.template_path(domain)] = render_catalog(template)
        for locale in targets:
            po = project.catalog_path(locale, domain)
            if not po.exists():
                planned[po] = render_catalog(_new_catalog(template, locale))
    return write_all(planned)


def update(project: Project, errors: Collector | None = None) -> list[Path]:
    """Merge the current templates into every catalog.

    A changed source text keeps its old translation, marked fuzzy with the previous ``msgid``
    beside it; a removed block becomes obsolete; a new block arrives empty. Every catalog is
    read and merged before anything is written, so a broken catalog changes no file.
    """
    errors = Collector() if errors is None else errors
    planned: dict[Path, bytes] = {}
    for domain, template, targets in domains(project):
        planned[project.template_path(domain)] = render_catalog(template)
        for locale in targets:
            po = project.catalog_path(locale, domain)
            if not po.exists():
                catalog = _new_catalog(template, locale)
            else:
                existing = read_catalog(po, locale, errors, project.root)
                if existing is None:
                    continue
                catalog = existing
                catalog.update(template, no_fuzzy_matching=False, update_header_comment=False, keep_user_comments=True, update_creation_date=True)
                catalog.revision_date = template.creation_date
            planned[po] = render_catalog(catalog)
    errors.raise_if_any()
    return write_all(planned)


_STRING = r'"(?:[^"\\]|\\.)*"'
_PO_LINE = re.compile(rf"^(?:#~\s*)?(?:(?:msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?)\s+{_STRING}|{_STRING})\s*$")


def lint_po(text: str) -> list[tuple[int, str]]:
    """Syntax errors Babel's lenient reader would let through (it drops the character before a
    missing closing quote, for one). Returns ``(line, message)`` pairs."""
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or (stripped.startswith("#") and not stripped.startswith("#~")):
            continue
        if stripped.startswith("#~") and not stripped[2:].strip():
            continue
        if not _PO_LINE.match(stripped):
            if stripped.count('"') % 2 == 1 or '"' not in stripped:
                problems.append((number, f"broken PO file: {stripped[:60]!r} is not a keyword followed by a quoted string (a missing or extra '\"'?)"))
            else:
                problems.append((number, f"broken PO file: unknown or misformatted line {stripped[:60]!r}"))
    return problems


def read_catalog(path: Path, locale: str, errors: Collector, root: Path | None = None) -> Catalog | None:
    """Read a PO file strictly; every syntax error becomes a diagnostic at its line."""
    if root is not None and not inside(path, root, errors):
        return None
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        errors.add(path, exc.object[: exc.start].count(b"\n") + 1, f"broken PO file: not valid UTF-8 ({exc.reason}); save it as UTF-8")
        return None
    except OSError as exc:
        errors.add(path, 0, f"cannot read: {exc.strerror}")
        return None
    problems = lint_po(text)
    for line, message in problems:
        errors.add(path, line, message + "; fix the entry, or delete the file and run 'policygen i18n update'")
    if problems:
        return None
    try:
        catalog = read_po(io.BytesIO(text.encode("utf-8")), locale=locale, abort_invalid=True)
    except PoFileError as exc:
        errors.add(path, exc.lineno + 1, f"broken PO file: {str(exc).rsplit(' on ', 1)[0].lower()} ({exc.line.strip()!r})")
        return None
    except (ValueError, LookupError) as exc:
        errors.add(path, 0, f"broken PO file: {exc}")
        return None
    declared = str(catalog.locale) if catalog.locale else None
    if declared and declared != locale:
        errors.add(path, _header_line(text, "Language"), f"the catalog says 'Language: {declared}' but lives in the '{locale}' folder; fix the header")
    seen: dict[tuple[str, str], int] = {}
    for number, key in _entries(text):
        if key in seen:
            errors.add(path, number, f"duplicate message (context {key[0] or 'none'}); it already appears on line {seen[key]}; delete one of them")
        seen.setdefault(key, number)
    return catalog


def _header_line(text: str, field_name: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith(f'"{field_name}:'):
            return number
    return 1


def _entries(text: str) -> list[tuple[int, tuple[str, str]]]:
    """(line, (msgctxt, msgid)) of every active single-line entry, to find duplicates."""
    found, context = [], ""
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("msgctxt "):
            context = line[8:].strip()
        elif line.startswith("msgid ") and line[6:].strip() != '""':
            found.append((number, (context, line[6:].strip())))
            context = ""
    return found


def load_translations(project: Project, locales: list[str] | None, errors: Collector) -> Translations:
    """Read every catalog the selected locales need. A missing catalog just means no translations."""
    translations = Translations()
    for domain, _template, targets in domains(project):
        for locale in targets:
            if locales is not None and locale not in locales:
                continue
            path = project.catalog_path(locale, domain)
            translations.paths[(domain, locale)] = path
            if not path.exists():
                continue
            catalog = read_catalog(path, locale, errors, project.root)
            if catalog is None:
                translations.unreadable.add((domain, locale))
                continue
            entries: dict[tuple[str, str], Entry] = {}
            for message in catalog:
                if not message.id or not isinstance(message.id, str):
                    continue
                text = message.string if isinstance(message.string, str) else ""
                entries[(message.context or "", message.id)] = Entry(text, path, message.lineno or 0, message.fuzzy)
            translations.entries[(domain, locale)] = entries
            translations.obsolete[(domain, locale)] = len(catalog.obsolete)
    _stray_catalogs(project, errors, locales)
    return translations


def _stray_catalogs(project: Project, errors: Collector, locales: list[str] | None) -> None:
    """Catalogs nobody reads are usually a mistake (a typo in a folder name, a renamed policy)."""
    if not project.locales_dir.is_dir():
        return
    expected = {project.catalog_path(loc, domain) for domain, _t, targets in domains(project) for loc in targets}
    sources = project.root / "sources"
    existing_policies = {p.name for p in sources.iterdir() if p.is_dir()} if sources.is_dir() else set()
    for po in sorted(project.locales_dir.glob("*/LC_MESSAGES/*.po")):
        locale, domain = po.parent.parent.name, po.stem
        if po in expected or (locales is not None and locale not in locales):
            continue
        if domain != GLOSSARY_DOMAIN and domain not in existing_policies:
            errors.add(po, 0, f"catalog for unknown policy '{domain}'; remove it or restore sources/{domain}/")
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
