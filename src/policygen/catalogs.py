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
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import PoFileError, read_po, write_po

from . import __version__
from .errors import Collector
from .model import Policy, Project
from .output import write_atomic

GLOSSARY_DOMAIN = "glossary"
_KIND_NOTES = {"title": "policy title", "heading": "section heading", "paragraph": "paragraph", "item": "list item", "cell": "table cell"}


@dataclass(frozen=True, slots=True)
class Entry:
    """A usable translation and where it is written."""

    text: str
    path: Path
    line: int


@dataclass
class Translations:
    """Every translated message of a project, by domain and locale."""

    entries: dict[tuple[str, str], dict[tuple[str, str], Entry]] = field(default_factory=dict)
    """``(domain, locale) -> (msgctxt, msgid) -> Entry``; fuzzy and empty messages are left out."""
    paths: dict[tuple[str, str], Path] = field(default_factory=dict)

    def get(self, domain: str, locale: str, context: str, msgid: str) -> Entry | None:
        return self.entries.get((domain, locale), {}).get((context, msgid))


def _date(policy_or_none: Policy | None) -> datetime:
    # A fixed date keeps templates byte-identical across runs; the effective date is the
    # one date that means something to the people who read the header.
    if policy_or_none is None:
        return datetime(2000, 1, 1, tzinfo=timezone.utc)
    d = policy_or_none.effective_date
    return datetime(d.year, d.month, d.day, tzinfo=timezone.utc)


def policy_template(project: Project, policy: Policy) -> Catalog:
    """The template of a policy's prose: one message per segment, in document order."""
    catalog = Catalog(
        project=f"{policy.id}", version=policy.version, copyright_holder=policy.facts.controller.name,
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
    written = []
    for domain, template, targets in domains(project):
        path = project.template_path(domain)
        if write_atomic(path, render_catalog(template)):
            written.append(path)
        for locale in targets:
            po = project.catalog_path(locale, domain)
            if not po.exists():
                write_atomic(po, render_catalog(_new_catalog(template, locale)))
                written.append(po)
    return written


def update(project: Project, errors: Collector | None = None) -> list[Path]:
    """Merge the current templates into every catalog.

    A changed source text keeps its old translation, marked fuzzy with the previous ``msgid``
    beside it; a removed block becomes obsolete; a new block arrives empty.
    """
    errors = errors or Collector()
    written = []
    for domain, template, targets in domains(project):
        path = project.template_path(domain)
        if write_atomic(path, render_catalog(template)):
            written.append(path)
        for locale in targets:
            po = project.catalog_path(locale, domain)
            if not po.exists():
                catalog = _new_catalog(template, locale)
            else:
                existing = read_catalog(po, locale, errors)
                if existing is None:
                    continue
                catalog = existing
                catalog.update(template, no_fuzzy_matching=False, update_header_comment=False, keep_user_comments=True, update_creation_date=True)
                catalog.revision_date = template.creation_date
            if write_atomic(po, render_catalog(catalog)):
                written.append(po)
    errors.raise_if_any()
    return written


def read_catalog(path: Path, locale: str, errors: Collector) -> Catalog | None:
    """Read a PO file; a syntax error becomes a diagnostic at its line."""
    try:
        with path.open("rb") as handle:
            return read_po(handle, locale=locale, abort_invalid=True)
    except PoFileError as exc:
        errors.add(path, exc.lineno + 1, f"broken PO file: {str(exc).rsplit(' on ', 1)[0].lower()} ({exc.line.strip()!r}); fix the entry or regenerate it with 'policygen i18n update'")
    except UnicodeDecodeError as exc:
        errors.add(path, 0, f"broken PO file: not valid UTF-8 ({exc.reason}); save it as UTF-8")
    except (ValueError, OSError) as exc:
        errors.add(path, 0, f"broken PO file: {exc}")
    return None


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
            catalog = read_catalog(path, locale, errors)
            if catalog is None:
                continue
            entries: dict[tuple[str, str], Entry] = {}
            for message in catalog:
                if not message.id or message.fuzzy or not isinstance(message.string, str) or not message.string.strip():
                    continue
                entries[(message.context or "", str(message.id))] = Entry(message.string, path, message.lineno)
            translations.entries[(domain, locale)] = entries
    return translations
