"""XLIFF exchange for agencies: catalogs -> XLIFF 1.1 files, and XLIFF files -> catalogs.

Agencies work in CAT tools (Trados, memoQ) that speak XLIFF rather than PO. translate-toolkit
reads and writes the XLIFF. Export writes one file per catalog and locale; each unit's ``id`` is
the message context (the clause ID), its source the Markdown source text, its target the
translation, and a fuzzy message is marked not approved.

Import merges translations back into the existing PO catalogs and nothing else: comments,
locations and previous source texts stay in the PO files, where translators' tools expect
them. An export followed by an import of the unchanged files leaves every catalog
byte-identical. A unit whose source text no longer matches the catalog was translated from an
older source: it is reported, not merged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from translate.storage import xliff as ttk_xliff

from policygen.atomic import write_all
from policygen.errors import Collector, PolicygenError
from policygen.i18n.catalogs import domains, read_catalog, render_catalog
from policygen.model import SUPPORTED_LOCALES, Project, is_safe_slug
from policygen.source.files import inside


def export(project: Project, output: Path, locales: list[str] | None = None) -> list[Path]:
    """Write ``output/<locale>/<catalog>.xlf`` for every catalog. Returns the written paths."""
    errors = Collector()
    planned: dict[Path, bytes] = {}
    for domain, _template, targets in domains(project):
        source_locale = project.glossary.locale if domain == "glossary" else project.policies[domain].source_locale
        for locale in targets:
            if locales is not None and locale not in locales:
                continue
            po = project.catalog_path(locale, domain)
            if not po.exists():
                errors.add(po, 0, "no catalog yet; run 'policygen i18n extract' first")
                continue
            catalog = read_catalog(po, locale, errors, project.root)
            if catalog is None:
                continue
            store: Any = ttk_xliff.xlifffile(sourcelanguage=source_locale, targetlanguage=locale)
            store.setfilename(store.getfilenode("NoName"), domain)
            for message in catalog:
                if not message.id:
                    continue
                unit = ttk_xliff.xliffunit(str(message.id))
                unit.setid(message.context or "")
                if isinstance(message.string, str) and message.string:
                    unit.target = message.string
                    unit.markfuzzy(message.fuzzy)
                    if not message.fuzzy:
                        unit.markapproved(True)
                for comment in message.auto_comments:
                    unit.addnote(comment, origin="developer")
                store.addunit(unit)
            planned[output / locale / f"{domain}.xlf"] = bytes(store)
    errors.raise_if_any()
    return write_all(planned)


def import_files(project: Project, files: list[Path]) -> list[Path]:
    """Merge the translations of XLIFF files into their catalogs. All or nothing."""
    errors = Collector()
    catalogs: dict[Path, Catalog] = {}
    known = {domain: targets for domain, _t, targets in domains(project)}
    for path in files:
        try:
            store = ttk_xliff.xlifffile.parsestring(path.read_bytes())
        except OSError as exc:
            errors.add(path, 0, f"cannot read: {exc.strerror}")
            continue
        except Exception as exc:  # lxml and translate-toolkit raise many kinds for bad XML
            errors.add(path, getattr(exc, "lineno", 0) or 0, f"not a readable XLIFF file: {exc}")
            continue
        locale = store.gettargetlanguage() or ""
        names = store.getfilenames()
        domain = names[0] if len(names) == 1 else ""
        if locale not in SUPPORTED_LOCALES:
            errors.add(path, 0, f"target-language '{locale}' is not a locale policygen publishes ({', '.join(SUPPORTED_LOCALES)})")
            continue
        if not (domain == "glossary" or is_safe_slug(domain)) or domain not in known:
            errors.add(path, 0, f"<file original='{domain}'> names no catalog of this project; expected one of: {', '.join(sorted(known))}")
            continue
        if locale not in known[domain]:
            errors.add(path, 0, f"catalog '{domain}' is not translated into '{locale}' in this project")
            continue
        po = project.catalog_path(locale, domain)
        if not po.exists() or not inside(po, project.root, errors):
            errors.add(po, 0, "no catalog to merge into; run 'policygen i18n extract' first")
            continue
        catalog = catalogs.get(po) or read_catalog(po, locale, errors, project.root)
        if catalog is None:
            continue
        catalogs[po] = catalog
        by_context = {m.context or "": m for m in catalog if m.id}
        for unit in store.units:
            if unit.isheader():
                continue
            context = unit.getid().split("\x04", 1)[-1]
            message = by_context.get(context)
            if message is None:
                errors.add(path, 0, f"unit '{context}' is not in {po.name}; it was removed from the source, or the file belongs to another project")
                continue
            if str(unit.source) != str(message.id):
                errors.add(path, 0, f"unit '{context}' was translated from an older source text; export again and translate the current text")
                continue
            target = str(unit.target or "")
            message.string = target
            if target and not unit.isfuzzy():
                message.flags.discard("fuzzy")
            elif target:
                message.flags.add("fuzzy")
    errors.raise_if_any()
    if not catalogs:
        raise PolicygenError("no XLIFF files given")
    return write_all({po: render_catalog(catalog) for po, catalog in catalogs.items()})
