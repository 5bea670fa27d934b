"""The common ground of every command that publishes: a project folder -> localized policies.

Loads and validates the sources (:mod:`policygen.source`), reads the catalogs, localizes every
selected (policy, locale) and applies the publishing gate. ``build``, ``check``, ``release`` and
the PDF workers all start here, so they agree on what is publishable.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from policygen.archive.store import archive_root, policies_in
from policygen.errors import Collector, PolicygenError, SourceError, TranslationsIncomplete
from policygen.i18n.catalogs import Translations, load_translations
from policygen.i18n.localize import LocalizedPolicy, localize
from policygen.i18n.status import gate
from policygen.model import Project
from policygen.source.load import check_locales, load_project


def prepare(
    root: Path, policies: Iterable[str] | None = None, locales: Iterable[str] | None = None, allow_incomplete: bool | None = None,
) -> tuple[Project, list[LocalizedPolicy]]:
    """Load, validate and localize; the common ground of ``build`` and ``check``.

    Unless incomplete translations are allowed (``allow_incomplete``, else the project's
    setting), every missing or fuzzy block of a published locale is an error: the publishing
    gate. Raises :class:`~policygen.errors.SourceError` listing every problem found, or
    :class:`~policygen.errors.TranslationsIncomplete` when the gate's are the only ones.
    """
    project = load_project(root, policies)
    wanted_locales = list(locales) if locales is not None else None
    check_locales(project, wanted_locales)
    errors = Collector()
    translations: Translations = load_translations(project, wanted_locales, errors)
    _orphaned_archives(project, errors)
    localized = []
    for policy in project.policies.values():
        for loc in policy.locales:
            if wanted_locales is None or loc in wanted_locales:
                localized.append(localize(project, policy, loc, translations, errors))
    gaps = Collector()
    if not (project.config.allow_incomplete if allow_incomplete is None else allow_incomplete):
        gate(project, translations, wanted_locales, gaps)
    if errors:
        raise SourceError(errors.items + gaps.items)  # every problem at once
    if gaps:
        # Told apart from a broken source: a preview can say how to see the text meanwhile.
        raise TranslationsIncomplete(gaps.items)
    if not localized:
        raise PolicygenError(f"nothing to build: no selected policy is published in {', '.join(wanted_locales or [])}")
    return project, localized


def _orphaned_archives(project: Project, errors: Collector) -> None:
    """Releases of a policy whose sources are gone (renamed or removed): the site would publish
    them nowhere (no archive page, archived copies or feed at the old URL, none at a new one),
    and a renamed policy would show its sources as current with no history. The archive cannot
    follow a rename: each ``release.json`` records the policy's ID and is hash-chained."""
    sources = project.root / "sources"
    existing = {p.name for p in sources.iterdir() if p.is_dir()} if sources.is_dir() else set()
    for name in policies_in(archive_root(project.root)):
        folder = archive_root(project.root) / name
        if name not in existing and any(folder.glob("*/release.json")):
            errors.add(folder, 0, f"releases of policy '{name}', which has no sources/{name}/: they would be published nowhere; "
                                  f"a released policy keeps its ID (its release.json records it), so restore sources/{name}/ "
                                  f"(rename the policy back); to retire the policy, move archive/{name}/ out of the project")
