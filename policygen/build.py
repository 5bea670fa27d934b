"""Build stage: a project folder -> ``output/`` (pages, fragments, assets, ``manifest.json``).

Runs the stages in order: load the sources, read the catalogs, localize every selected
(policy, locale), render the pages. Everything is rendered in memory first, so that any error
in any policy stops the build before a single file is written. Then each file is written
atomically, unchanged files are left alone, and ``manifest.json`` is written last: a website
step that reads the manifest never sees a file list that does not match the files.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from policygen import __version__
from policygen.atomic import sha256, write_all
from policygen.errors import PolicygenError
from policygen.i18n.localize import LocalizedPolicy
from policygen.i18n.prepare import prepare
from policygen.model import Project
from policygen.render.archive_pages import ArchiveSite, render_archive
from policygen.render.html import (
    PagePaths,
    _native_name,
    asset_files,
    environment,
    relative,
    render_index,
    render_policy,
)
from policygen.render.pdf import render_pdf

MANIFEST = "manifest.json"


@dataclass
class BuildResult:
    """What a build produced."""

    output_dir: Path
    outputs: list[dict[str, Any]]
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    pages: int = 0
    """How many (policy, locale) pages this build rendered."""
    missing_labels: dict[tuple[str, str], int] = field(default_factory=dict)
    """``(policy, locale) -> glossary labels shown in the glossary's language``."""
    untranslated: dict[tuple[str, str], int] = field(default_factory=dict)
    """``(policy, locale) -> segments shown in the source language``."""


FORMATS = ("html", "pdf")


def build(
    root: Path, policies: Iterable[str] | None = None, locales: Iterable[str] | None = None,
    output_dir: Path | None = None, allow_incomplete: bool | None = None, formats: Iterable[str] = FORMATS,
    jobs: int | None = None, today: date | None = None,
) -> BuildResult:
    """Build the site. With ``policies`` or ``locales``, only that subset is rendered and the
    manifest keeps its entries for the rest. ``formats`` chooses HTML, PDF or both; PDFs render
    in ``jobs`` worker processes (default: one per core)."""
    policies = list(policies) if policies is not None else None
    locales = list(locales) if locales is not None else None
    formats = list(formats)
    for fmt in formats:
        if fmt not in FORMATS:
            raise PolicygenError(f"unknown format '{fmt}'; choose from {', '.join(FORMATS)}")
    project, localized = prepare(root, policies, locales, allow_incomplete)
    out = output_dir or (project.root / "output")
    _check_output_dir(project, out)
    full = policies is None and locales is None
    files: dict[str, bytes] = {}
    outputs: list[dict[str, Any]] = []
    if "html" in formats:
        # Released versions: archive pages, archived copies, feeds, and the banner pages show.
        archive = render_archive(project, localized, today or date.today())
        files, outputs = archive.files, archive.outputs
        site_files, site_outputs = render_site(project, localized, full, archive)
        files.update(site_files)
        outputs += site_outputs
    if "pdf" in formats:
        for item, data in zip(localized, render_pdfs(root, project, localized, allow_incomplete, jobs), strict=True):
            path = PagePaths(item.policy.id, item.locale).pdf
            files[path] = data
            outputs.append(_entry(item.policy.id, item.locale, "pdf", path, data, item))

    previous = _read_manifest(out)
    # Keep what this run did not rebuild (other policies, locales or formats); an entry of a
    # format this run rebuilt in full is gone for good, and its file is pruned below. Assets
    # come with every HTML build, so an asset a theme dropped is pruned too.
    rebuilt = {(o["policy"], o["locale"], o["format"]) for o in outputs}
    families = {"html": ("html", "html-fragment", "site-index", "asset", "archive-page", "archived-html", "archived-pdf",
                         "redline", "feed", "banner-html", "banner-json"), "pdf": ("pdf",)}
    complete = {fmt for family in formats for fmt in families[family]} if full else ({"asset"} if "html" in formats else set())
    for entry in previous:
        key = (entry.get("policy"), entry.get("locale"), entry.get("format"))
        if key not in rebuilt and entry.get("format") not in complete and (out / entry["path"]).is_file():
            outputs.append(entry)
    outputs.sort(key=lambda o: o["path"])
    manifest = {"generator": f"policygen {__version__}", "manifest_version": 1, "outputs": outputs}
    manifest_bytes = (json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")

    for path in files:
        if not _inside(out, out / path):  # paths come from IDs and labels that are validated; never trust that alone
            raise PolicygenError(f"{path}: would be written outside the output folder; nothing was written")
    result = BuildResult(out, outputs, pages=len(localized))
    try:
        written = write_all({out / path: data for path, data in files.items()})
        # The manifest goes last: a reader never sees it list a file that is not there yet.
        write_all({out / MANIFEST: manifest_bytes})
    except OSError as exc:
        raise PolicygenError(f"{exc.filename or out}: cannot write the output ({exc.strerror}); nothing was changed") from None
    result.written = sorted(p.relative_to(out).as_posix() for p in written)
    result.unchanged = sorted(set(files) - set(result.written))
    # Only files an earlier build listed are removed: output/ may hold files of the site's own.
    current = {o["path"] for o in outputs}
    for entry in previous:
        stale = entry.get("path", "")
        if stale not in current and _inside(out, out / stale) and (out / stale).is_file():
            (out / stale).unlink()
            result.removed.append(stale)
    result.untranslated = {(i.policy.id, i.locale): len(i.untranslated) for i in localized if i.untranslated}
    result.missing_labels = {(i.policy.id, i.locale): len(i.missing_labels) for i in localized if i.missing_labels}
    return result


def render_pdfs(root: Path, project: Project, localized: list[LocalizedPolicy], allow_incomplete: bool | None, jobs: int | None) -> list[bytes]:
    """Every selected PDF, in order. Several render at once in worker processes: WeasyPrint
    is single-threaded, and a PDF takes a second or two."""
    variant = project.config.pdf_variant
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(localized)))
    if jobs == 1:
        return [render_pdf(project, item, variant) for item in localized]
    keys = [(item.policy.id, item.locale) for item in localized]
    context = multiprocessing.get_context("fork") if "fork" in multiprocessing.get_all_start_methods() else None
    policies = sorted({p for p, _ in keys})
    locales = sorted({loc for _, loc in keys})
    try:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_init_worker,
                                 initargs=(root, policies, locales, allow_incomplete)) as pool:
            return list(pool.map(_render_one_pdf, keys))
    except BrokenProcessPool:
        raise PolicygenError("a PDF worker process stopped unexpectedly; run the build again with --jobs 1 to see why") from None


_worker: dict[tuple[str, str], tuple[Project, LocalizedPolicy]] = {}


def _init_worker(root: Path, policies: list[str], locales: list[str], allow_incomplete: bool | None) -> None:
    # Each worker loads the selection itself: cheaper and simpler than shipping token trees.
    # The parent has already checked the same selection, so this cannot fail on user input.
    project, localized = prepare(root, policies, locales, allow_incomplete=allow_incomplete)
    for item in localized:
        _worker[(item.policy.id, item.locale)] = (project, item)


def _render_one_pdf(key: tuple[str, str]) -> bytes:
    project, item = _worker[key]
    return render_pdf(project, item, project.config.pdf_variant)


def render_site(
    project: Project, localized: list[LocalizedPolicy], full: bool, archive: ArchiveSite | None = None,
) -> tuple[dict[str, bytes], list[dict[str, Any]]]:
    """Render every page, fragment, asset and (on full builds) the index, in memory. With
    ``archive``, pages show their banner and link to their archive page."""
    env = environment(project)
    files: dict[str, bytes] = {}
    outputs: list[dict[str, Any]] = []
    for item in localized:
        key = (item.policy.id, item.locale)
        banner = archive.banners.get(key) if archive else None
        has_archive = archive is not None and key in archive.archived
        page, fragment = render_policy(project, item, env, banner.html if banner else None, has_archive)
        paths = PagePaths(item.policy.id, item.locale)
        for fmt, path, data in (("html", paths.page, page), ("html-fragment", paths.fragment, fragment)):
            files[path] = data
            outputs.append(_entry(item.policy.id, item.locale, fmt, path, data, item))
    for path, data in asset_files(project).items():
        files[path] = data
        outputs.append({"policy": None, "locale": None, "format": "asset", "path": path, "sha256": sha256(data)})
    if full:
        index = render_index(project, _index_entries(project, localized), env)
        files["index.html"] = index
        outputs.append({"policy": None, "locale": None, "format": "site-index", "path": "index.html", "sha256": sha256(index)})
    return files, outputs


def _check_output_dir(project: Project, out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise PolicygenError(f"{out}: the output folder is a file; choose another --output")
    resolved = out.resolve()
    for source in ("sources", "locales", "theme", "archive"):
        folder = (project.root / source).resolve()
        if resolved == folder or resolved.is_relative_to(folder) or folder.is_relative_to(resolved):
            raise PolicygenError(f"{out}: the output folder overlaps the project's {source}/ folder; choose another --output")


def _entry(policy: str, locale: str, fmt: str, path: str, data: bytes, item: LocalizedPolicy) -> dict[str, Any]:
    return {
        "policy": policy, "locale": locale, "format": fmt, "path": path, "sha256": sha256(data),
        "version": item.policy.version, "effective_date": item.policy.effective_date.isoformat(),
        "title": item.title_text, "source_locale": item.policy.source_locale,
    }


def _index_entries(project: Project, localized: list[LocalizedPolicy]) -> list[dict[str, Any]]:
    entries = []
    for policy in project.policies.values():
        pages = [
            {"locale": i.locale, "title": i.title_text, "language": _native_name(i.locale),
             "href": relative("index.html", PagePaths(policy.id, i.locale).folder)}
            for i in localized if i.policy.id == policy.id
        ]
        entries.append({"policy": policy.id, "pages": pages})
    return entries


def _read_manifest(out: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        return [o for o in data.get("outputs", []) if isinstance(o, dict) and isinstance(o.get("path"), str)]
    except (OSError, ValueError, AttributeError):
        return []


def _inside(root: Path, path: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def check(root: Path, allow_incomplete: bool | None = None) -> Project:
    """Validate sources, catalogs, config and theme templates without writing anything."""
    project, localized = prepare(root, allow_incomplete=allow_incomplete)
    render_site(project, localized, full=True)
    return project


__all__ = ["BuildResult", "build", "check"]
