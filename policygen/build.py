"""Build stage: a project folder -> ``output/`` (pages, fragments, assets, ``manifest.json``).

Runs the stages in order: load the sources, read the catalogs, localize every selected
(policy, locale), render the pages. Everything is rendered in memory first, so that any error
in any policy stops the build before a single file is written. Then the whole output folder is
published in one step (:func:`policygen.atomic.publish`): the new tree, with its
``manifest.json``, is made beside the old one and swapped in by one atomic rename, so a reader,
or a build killed at any moment, sees the old output or the new one and never a mix. Unchanged
files keep their modification times; files an earlier build did not list (a site's own) stay.

One build at a time writes into an output folder (:func:`policygen.atomic.output_lock`); PDF
worker processes end with the build that started them, even when it is killed.
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from policygen import __version__
from policygen.archive.store import Release, archived_file, latest_in_force, materialize, published_heads, releases
from policygen.atomic import contained, output_lock, publish, resolved_path, sha256, work_dir
from policygen.cache import Cache, code_digest, file_digest, files_digest, folder_digest, pack, package_version, unpack
from policygen.cache import key as cache_key
from policygen.changes import coverage
from policygen.changes.rules import load_rules, source_labels
from policygen.errors import PolicygenError
from policygen.i18n.catalogs import translations_of
from policygen.i18n.localize import LocalizedPolicy
from policygen.i18n.prepare import prepare
from policygen.memory import long_lived
from policygen.model import Project
from policygen.records import RENDER_PACKAGES, Checked, check_key, project_key, record_check, recorded_check
from policygen.render.archive_pages import ArchiveSite, data_key, render_archive
from policygen.render.html import (
    PagePaths,
    _native_name,
    asset_files,
    environment,
    relative,
    render_index,
    render_policy,
    theme_templates,
)
from policygen.render.pdf import pdf_source_html, render_pdf
from policygen.source.load import FACTS_FILE, PROSE_FILE, find_project

MANIFEST = "manifest.json"

Progress = Callable[[str, int, int], None]
"""Told ``(what, done, total)`` as long work advances (the CLI draws a progress bar with it)."""


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
    pdfs_rendered: list[str] = field(default_factory=list)
    """PDFs this build rendered (their keys were not in the cache)."""
    pdfs_cached: list[str] = field(default_factory=list)
    """PDFs taken from the build cache, unchanged inputs and all."""
    rendered: dict[str, int] = field(default_factory=dict)
    """Output kind (manifest ``format``) -> how many outputs of that kind this build rendered."""
    cached: dict[str, int] = field(default_factory=dict)
    """Output kind -> how many outputs of that kind came from the build cache."""
    seconds: float = 0.0
    """How long the build took."""


FORMATS = ("html", "pdf")


def build(
    root: Path, policies: Iterable[str] | None = None, locales: Iterable[str] | None = None,
    output_dir: Path | None = None, allow_incomplete: bool | None = None, formats: Iterable[str] = FORMATS,
    jobs: int | None = None, today: date | None = None, use_cache: bool = True, progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> BuildResult:
    """Build the site. With ``policies`` or ``locales``, only that subset is rendered and the
    manifest keeps its entries for the rest. ``formats`` chooses HTML, PDF or both; PDFs render
    in ``jobs`` worker processes (default: one per core), unless the build cache has them
    (``use_cache=False`` renders everything again). Setting ``cancel`` (from another thread)
    stops the PDFs' rendering within a tenth of a second: :class:`Cancelled` is raised, the
    workers are stopped and nothing is written (how ``serve`` puts a newer save first)."""
    began = time.monotonic()
    policies = list(policies) if policies is not None else None
    locales = list(locales) if locales is not None else None
    formats = list(formats)
    for fmt in formats:
        if fmt not in FORMATS:
            raise PolicygenError(f"unknown format '{fmt}'; choose from {', '.join(FORMATS)}")
    if not formats:
        # A full build of no format would publish nothing and prune every entry of the cache.
        raise PolicygenError(f"--format names no format; choose from {', '.join(FORMATS)} (comma-separated)")
    day = today or date.today()
    cache = Cache(find_project(root), enabled=use_cache)
    # A rebuild with the same inputs, options and output as a build recorded in the cache, whose
    # output is still as that build left it, has nothing to do: nothing is loaded or rendered.
    whole = build_key(cache.root, policies, locales, output_dir, allow_incomplete, formats, day) if use_cache else ""
    unchanged = _unchanged_build(cache, whole, resolved_path(output_dir or cache.root / "output"))
    if unchanged is not None:
        unchanged.seconds = time.monotonic() - began
        return unchanged
    assets = _assets_digest(cache.root) if use_cache and "pdf" in formats else ""
    with long_lived() as loaded:
        project, localized = prepare(root, policies, locales, allow_incomplete)
        loaded()
        out, out_root = _output_dir(project, output_dir)
        _check_output_dir(project, out)
        full = policies is None and locales is None
        with output_lock(out) as work:
            result = _build_locked(root, project, localized, out, out_root, work, full=full,
                                   allow_incomplete=allow_incomplete, formats=formats, jobs=jobs, today=day,
                                   cache=cache, progress=progress, cancel=cancel)
            if use_cache:
                if build_key(cache.root, policies, locales, output_dir, allow_incomplete, formats, day) == whole:
                    _record_build(cache, whole, out, result)
                else:
                    # An input changed while this build ran (a save while 'serve' rebuilds): it
                    # published what it read, but a page's key, the digest of its files now, may
                    # be of another text. Neither the pages nor the build are kept; the build the
                    # save starts renders them again. PDFs, keyed by the HTML they lay out, stay,
                    # unless the theme's assets, which WeasyPrint reads, changed too.
                    cache.drop_by_files("sources", *(["assets"] if _assets_digest(cache.root) != assets else []))
        if full:
            # Every full build prunes, an HTML-only one too (else each save 'serve' builds as HTML
            # stays in the cache for good); what the recent full builds of each kind used stays.
            cache.prune((), kind=",".join(sorted(set(formats))))
    # Only a build that succeeded writes its cache entries: a failed one changes nothing at all.
    cache.close()
    result.seconds = time.monotonic() - began
    return result


def build_key(root: Path, policies: list[str] | None, locales: list[str] | None, output_dir: Path | None, allow_incomplete: bool | None,
              formats: list[str], today: date) -> str:
    """The key of a whole build: the names and bytes of every input file of the project, the
    options, the date, the output folder, policygen's code and the libraries that render."""
    options = {"policies": policies, "locales": locales, "output": str(resolved_path(output_dir)) if output_dir else None,
               "allow_incomplete": allow_incomplete, "formats": sorted(formats), "today": today.isoformat()}
    return project_key("build", root, options, RENDER_PACKAGES)


def _assets_digest(root: Path) -> str:
    """The digest of the theme's assets that a PDF's key holds (:func:`pdf_key`)."""
    return folder_digest(root / "theme" / "assets", links_within=root)


def _unchanged_build(cache: Cache, whole: str, out: Path) -> BuildResult | None:
    """The result of the build recorded under ``whole``, when the output folder ``out`` is still
    exactly as it left it (its manifest and every file the manifest lists, byte for byte); else None."""
    entry = cache.get(whole) if whole else None
    # What a killed build left beside the output is removed by the next build that takes the
    # output's lock (atomic.recover): this one, though its inputs are those of the build recorded.
    if entry is None or any((work_dir(out) / name).exists() for name in ("new", "old", "tmp", "ready")):
        return None
    try:
        record = json.loads(entry)
        manifest = (out / MANIFEST).read_bytes()
        if record["output"] != str(out) or hashlib.sha256(manifest).hexdigest() != record["manifest"]:
            return None
        outputs = json.loads(manifest)["outputs"]
        for output in outputs:
            if hashlib.sha256((out / output["path"]).read_bytes()).hexdigest() != output["sha256"]:
                return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    # The files the recorded build made (a build of some policies, locales or formats makes only
    # some of the folder's files), all unchanged: counted as that build counted them.
    produced = record.get("produced", [o["path"] for o in outputs])
    return BuildResult(out, outputs, unchanged=list(produced), pages=record["pages"], pdfs_cached=record["pdfs"],
                       cached=record["kinds"], untranslated={(p, loc): n for p, loc, n in record["untranslated"]},
                       missing_labels={(p, loc): n for p, loc, n in record["missing_labels"]})


def _record_build(cache: Cache, whole: str, out: Path, result: BuildResult) -> None:
    """Record a build that published ``out`` under its key, for :func:`_unchanged_build`."""
    try:
        manifest = hashlib.sha256((out / MANIFEST).read_bytes()).hexdigest()
    except OSError:
        return
    kinds = Counter(result.cached) + Counter(result.rendered)
    record = {"output": str(out), "manifest": manifest, "pages": result.pages, "pdfs": sorted(result.pdfs_rendered + result.pdfs_cached),
              "produced": sorted(result.written + result.unchanged),
              "kinds": dict(sorted(kinds.items())), "untranslated": [[p, loc, n] for (p, loc), n in sorted(result.untranslated.items())],
              "missing_labels": [[p, loc, n] for (p, loc), n in sorted(result.missing_labels.items())]}
    cache.put({whole: json.dumps(record, sort_keys=True).encode("utf-8")})


def _build_locked(
    root: Path, project: Project, localized: list[LocalizedPolicy], out: Path, out_root: Path, work: Path, *, full: bool,
    allow_incomplete: bool | None, formats: list[str], jobs: int | None, today: date | None, cache: Cache, progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> BuildResult:
    """Render everything in memory, then publish the whole output in one step (the caller
    holds the output's lock)."""
    result = BuildResult(out, [], pages=len(localized))
    files: dict[str, bytes] = {}
    outputs: list[dict[str, Any]] = []
    renders = Renders(project, cache, today or date.today())
    renders.add(project.root, localized)
    shown: list[OnPage] = []
    archives: list[ArchiveSite] = []

    def without_pdfs() -> None:
        # What needs no PDF is rendered while worker processes render the PDFs, so that this
        # process, otherwise waiting, keeps its core busy: which version each page shows, and
        # the archive's outputs (archived PDFs come from the archive).
        shown.append(versions_on_page(project, localized, today or date.today(), renders))
        if "html" in formats:
            archives.append(renders.archive(localized))

    # PDFs before pages: a page links to its PDF with the PDF's size, so the page depends on the PDF's
    # bytes (deterministic, and keyed in the cache by their own inputs), never the other way round.
    pdf_files: dict[str, bytes] = {}
    pdf_outputs: list[dict[str, Any]] = []
    if "pdf" in formats:
        pdf_files, pdf_outputs = _pdf_files(root, project, localized, shown, without_pdfs, allow_incomplete, jobs, work, cache, full,
                                            progress, result, cancel)
    else:
        without_pdfs()
    on_page = shown[0]
    # An HTML-only build links no PDF: it builds none, and a PDF left from an earlier build may
    # belong to another version (docs/publishing.md).
    pdf_sizes = {path: len(data) for path, data in pdf_files.items()} if "pdf" in formats else None
    if "html" in formats:
        # Released versions: archive pages, archived copies, feeds, and the banner pages show.
        archive = archives[0]
        files, outputs = archive.files, archive.outputs
        site_files, site_outputs = render_site(project, on_page.current, full, archive, on_page.drafts, pdf_sizes, renders)
        files.update(site_files)
        outputs += site_outputs
    files.update(pdf_files)
    outputs += pdf_outputs

    previous = _read_manifest(out)
    # Keep what this run did not rebuild (other policies, locales or formats); an entry of a
    # format this run rebuilt in full is gone for good, and its file is pruned below. Assets
    # come with every HTML build, so an asset a theme dropped is pruned too.
    rebuilt = {(o["policy"], o["locale"], o["format"]) for o in outputs}
    families = {"html": ("html", "html-fragment", "site-index", "asset", "archive-page", "archived-html", "archived-pdf",
                         "redline", "redline-pdf", "feed", "banner-html", "banner-json", "draft-html"), "pdf": ("pdf", "draft-pdf")}
    built = {fmt for family in formats for fmt in families[family]}
    complete = built if full else ({"asset"} if "html" in formats else set())
    # A (policy, locale) this build rendered has every output of the built formats it has now:
    # an older one it no longer makes (a banner whose days are over, a draft released) goes.
    selected = {(item.policy.id, item.locale) for item in localized}
    for entry in previous:
        key = (entry.get("policy"), entry.get("locale"), entry.get("format"))
        if (key[0], key[1]) in selected and key[2] in built:
            continue
        if key not in rebuilt and entry.get("format") not in complete and (out / entry["path"]).is_file():
            outputs.append(entry)
    outputs.sort(key=lambda o: o["path"])
    manifest = {"generator": f"policygen {__version__}", "manifest_version": 1, "outputs": outputs,
                "archive": manifest_archive_entry(project)}
    manifest_bytes = (json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")
    # Only files an earlier build listed are removed: output/ may hold files of the site's own.
    current = {o["path"] for o in outputs}
    stale = {entry["path"] for entry in previous if entry["path"] not in current}

    result.outputs = outputs
    try:
        # The whole folder is swapped in at once: a reader, or a build killed at any moment,
        # sees the old output or the new one, each with its own manifest.json.
        published = publish(out, out_root, {**files, MANIFEST: manifest_bytes}, stale - {MANIFEST})
    except OSError as exc:
        raise PolicygenError(f"{exc.filename or out}: cannot write the output ({exc.strerror}); nothing was changed") from None
    result.written = [p for p in published.written if p != MANIFEST]
    result.unchanged = [p for p in published.unchanged if p != MANIFEST]
    result.removed = published.removed
    result.untranslated = {(i.policy.id, i.locale): len(i.untranslated) for i in localized if i.untranslated}
    result.missing_labels = {(i.policy.id, i.locale): len(i.missing_labels) for i in localized if i.missing_labels}
    result.rendered = dict(sorted((renders.rendered + Counter({"pdf": len(result.pdfs_rendered)})).items()))
    result.cached = dict(sorted((renders.cached + Counter({"pdf": len(result.pdfs_cached)})).items()))
    return result


def _pdf_files(
    root: Path, project: Project, localized: list[LocalizedPolicy], showing: list[OnPage], meanwhile: Callable[[], None],
    allow_incomplete: bool | None, jobs: int | None, work: Path, cache: Cache, full: bool, progress: Progress | None, result: BuildResult,
    cancel: threading.Event | None = None,
) -> tuple[dict[str, bytes], list[dict[str, Any]]]:
    """The PDFs of the sources, and of the releases in force. Where the page shows the release in
    force, its PDF is the one archived with it, and the sources' PDF belongs to the draft (or,
    when the sources are an upcoming release, to that release's own URL, where the archived copy is).
    ``meanwhile`` runs while the PDFs render, and puts into ``showing`` what each page shows."""
    files: dict[str, bytes] = {}
    outputs: list[dict[str, Any]] = []
    pdfs = cached_pdfs(root, project, localized, allow_incomplete, jobs, work / "tmp", cache, progress=progress,
                       meanwhile=meanwhile, cancel=cancel)
    on_page = showing[0]
    drafted = {(i.policy.id, i.locale) for i in on_page.drafts}
    for item, (data, was_cached) in zip(localized, pdfs, strict=True):
        pair = (item.policy.id, item.locale)
        if pair in on_page.archived and pair not in drafted:
            continue
        path = PagePaths(item.policy.id, item.locale, draft=pair in drafted).pdf
        files[path] = data
        outputs.append(_entry(item.policy.id, item.locale, "draft-pdf" if pair in drafted else "pdf", path, data, item))
        (result.pdfs_cached if was_cached else result.pdfs_rendered).append(path)
    for shown in on_page.current:
        if (shown.policy.id, shown.locale) in on_page.archived:
            path = PagePaths(shown.policy.id, shown.locale).pdf
            rel = on_page.in_force[(shown.policy.id, shown.locale)]
            data = archived_file(rel, f"output/{shown.locale}/{rel.policy}-{shown.locale}.pdf")
            files[path] = data
            outputs.append(_entry(shown.policy.id, shown.locale, "pdf", path, data, shown))
    return files, outputs


def _output_dir(project: Project, output_dir: Path | None) -> tuple[Path, Path]:
    """The output folder, and the root its writes must stay under. The default ``output/``
    must lie in the project (a symlink out of it is refused); a folder named with ``--output``
    is the user's choice, and every file then stays inside it."""
    if output_dir is None:
        return contained(project.root / "output", project.root), project.root
    out = resolved_path(output_dir)
    return out, out


def pdf_key(project: Project, source: str) -> str:
    """The cache key of a PDF: the HTML WeasyPrint lays out, ``source`` (its
    :func:`~policygen.render.pdf.pdf_source_html`, before the Khmer word breaks, a pure function
    of it through khmercut), and everything else that reaches the PDF (variant, theme assets,
    fonts, WeasyPrint, khmercut, policygen's own code)."""
    return cache_key("pdf", code_digest(), project.config.pdf_variant, folder_digest(project.theme_dir / "assets", links_within=project.root),
                     package_version("weasyprint"), package_version("fontpkg-noto-sans"), package_version("fontpkg-noto-sans-khmer"),
                     package_version("khmercut"), source)


def cached_pdfs(root: Path, project: Project, localized: list[LocalizedPolicy], allow_incomplete: bool | None, jobs: int | None,
                scratch: Path, cache: Cache, progress: Progress | None = None,
                meanwhile: Callable[[], None] | None = None, cancel: threading.Event | None = None) -> list[tuple[bytes, bool]]:
    """Every selected PDF, in order, with whether it came from ``cache``. Only PDFs whose key
    is not in the cache are rendered (the keys looked up stay through a full build's pruning).
    ``meanwhile`` runs in this process while worker processes render (else before rendering)."""
    # Without the cache (--no-cache) no key is looked up or stored: none is made, and the
    # workers start sooner. With it, the HTML a key is made of goes to the PDF's rendering,
    # which does not make it again.
    sources = [pdf_source_html(project, item) if cache.enabled else None for item in localized]
    keys = [pdf_key(project, source) if source is not None else "" for source in sources]
    found = [cache.get(k) for k in keys]
    missing = [i for i, data in enumerate(found) if data is None]
    if not missing and meanwhile is not None:
        meanwhile()
    rendered = render_pdfs(root, project, [localized[i] for i in missing], allow_incomplete, jobs, scratch, progress,
                           meanwhile, [sources[i] for i in missing], cancel) if missing else []
    # WeasyPrint reads the theme's assets after the key took their digest (build() drops these
    # entries when the assets changed while the build ran).
    cache.put({keys[i]: data for i, data in zip(missing, rendered, strict=True)}, by_files="assets")
    for i, data in zip(missing, rendered, strict=True):
        found[i] = data
    return [(data, i not in missing) for i, data in enumerate(found) if data is not None]


def render_pdfs(root: Path, project: Project, localized: list[LocalizedPolicy], allow_incomplete: bool | None, jobs: int | None,
                scratch: Path, progress: Progress | None = None, meanwhile: Callable[[], None] | None = None,
                sources: list[str | None] | None = None, cancel: threading.Event | None = None) -> list[bytes]:
    """Every selected PDF, in order. Several render at once in worker processes: WeasyPrint
    is single-threaded, and a PDF takes a second or two. WeasyPrint's temporary font folders
    go into ``scratch``, which is removed afterwards (workers end without running finalizers).
    ``meanwhile`` runs in this process while the workers render (in one process: first).
    ``sources``: each PDF's source HTML where it is made already (see :func:`cached_pdfs`).
    ``cancel``: see :func:`build` (in one process, it is seen between two PDFs)."""
    variant = project.config.pdf_variant
    sources = sources or [None] * len(localized)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(localized)))
    scratch.mkdir(parents=True, exist_ok=True)
    saved = tempfile.tempdir
    try:
        if jobs == 1:
            if meanwhile is not None:
                meanwhile()
            tempfile.tempdir = str(scratch)
            done = []
            for item, source in zip(localized, sources, strict=True):
                _check_cancel(cancel)
                done.append(render_pdf(project, item, variant, source=source))
                if progress is not None:
                    progress("PDFs", len(done), len(localized))
            return done
        return _render_in_pool(root, project, localized, allow_incomplete, jobs, scratch, progress, meanwhile, sources, cancel)
    finally:
        tempfile.tempdir = saved
        shutil.rmtree(scratch, ignore_errors=True)


def _render_in_pool(root: Path, project: Project, localized: list[LocalizedPolicy], allow_incomplete: bool | None, jobs: int,
                    scratch: Path, progress: Progress | None, meanwhile: Callable[[], None] | None,
                    sources: list[str | None], cancel: threading.Event | None = None) -> list[bytes]:
    # Imported here: only a build that renders PDFs in workers needs them.
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    keys = [(item.policy.id, item.locale) for item in localized]
    forked = "fork" in multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork") if forked else None
    policies = sorted({p for p, _ in keys})
    locales = sorted({loc for _, loc in keys})
    # A forked worker inherits what this process holds: the localized policies (nothing is
    # pickled, nothing loaded twice) and WeasyPrint, imported once here rather than in every
    # worker (it is most of a worker's start). Elsewhere each worker loads the selection itself.
    prepared = {key: (project, item) for key, item in zip(keys, localized, strict=True)} if forked else None
    if forked:
        importlib.import_module("weasyprint")
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_init_worker,
                               initargs=(root, policies, locales, allow_incomplete, os.getpid(), str(scratch), prepared))
    try:
        # Largest first, so that the last PDF to start is a short one and no core idles long.
        order = sorted(range(len(keys)), key=lambda i: (-_weight(localized[i]), i))
        futures = {i: pool.submit(_render_one_pdf, keys[i], sources[i]) for i in order}
        if meanwhile is not None:
            meanwhile()  # the workers were forked at the first submit: they do not see what it makes
        pending, count = set(futures.values()), 0
        while pending:
            # With a cancel to watch, woken every tenth of a second to look at it.
            done, pending = wait(pending, timeout=None if cancel is None else 0.1, return_when=FIRST_COMPLETED)
            _check_cancel(cancel)
            for _future in done:
                count += 1
                if progress is not None:
                    progress("PDFs", count, len(keys))
        results = [futures[i].result() for i in range(len(keys))]
    except BrokenProcessPool:
        _stop(pool)
        raise PolicygenError("a PDF worker process stopped unexpectedly; run the build again with --jobs 1 to see why") from None
    except BaseException:
        _stop(pool)  # an error in one PDF, Ctrl-C or SIGTERM: the others are not waited for
        raise
    pool.shutdown()
    return results


class Cancelled(PolicygenError):
    """A build stopped because its ``cancel`` was set; it wrote nothing."""


def _check_cancel(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled("the build was cancelled")


_KHMER = re.compile("[\u1780-\u17ff\u19e0-\u19ff]")


def _weight(item: LocalizedPolicy) -> int:
    """A PDF's expected rendering cost: the length of its text, a Khmer character counted as 1.3
    (measured on the sample: with its word breaks, shaping and text layer, a Khmer page costs a
    tenth to a third more CPU per character than a Dutch or English one; counted as 1, a long
    Khmer PDF would start after shorter ones and end last, on one core, while the others idle)."""
    return sum(len(token.content) + len(_KHMER.findall(token.content)) * 3 // 10 for token in item.tokens)


def _stop(pool: Any) -> None:
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(5)


_worker: dict[tuple[str, str], tuple[Project, LocalizedPolicy]] = {}


def _init_worker(root: Path, policies: list[str], locales: list[str], allow_incomplete: bool | None, parent: int, scratch: str,
                 prepared: dict[tuple[str, str], tuple[Project, LocalizedPolicy]] | None) -> None:
    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the parent stops the workers
    # The CLI's SIGTERM handler, inherited through the fork, would raise SystemExit, which the pool's
    # worker loop catches as a task's result: a stopped worker then lingered until _stop gave up
    # waiting (5 s). A worker holds nothing to clean up (the parent removes the scratch folder).
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    tempfile.tempdir = scratch
    if prepared is not None:
        _worker.update(prepared)
        return
    # Each worker loads the selection itself: cheaper and simpler than shipping token trees.
    # The parent has already checked the same selection, so this cannot fail on user input.
    project, localized = prepare(root, policies, locales, allow_incomplete=allow_incomplete)
    for item in localized:
        _worker[(item.policy.id, item.locale)] = (project, item)


_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """End this worker when the build that started it ends, even by kill -9: the kernel's
    parent-death signal on Linux, elsewhere a thread that watches the parent."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
                if os.getppid() != parent:  # the parent died before the signal was asked for
                    os._exit(1)
                return
        except (OSError, AttributeError):
            pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="policygen-parent-watch", daemon=True).start()


def _render_one_pdf(key: tuple[str, str], source: str | None = None) -> bytes:
    project, item = _worker[key]
    return render_pdf(project, item, project.config.pdf_variant, source=source)


@dataclass
class OnPage:
    """What each (policy, locale) shows on this date: see :func:`versions_on_page`."""

    current: list[LocalizedPolicy]
    """What the top-level page shows: the version in force (or the sources, without releases)."""
    drafts: list[LocalizedPolicy]
    """The sources, where they differ from the version in force: previewed in ``draft/``."""
    in_force: dict[tuple[str, str], Release]
    """(policy, locale) -> the release its page shows, for the pages that show a release."""
    archived: set[tuple[str, str]] = field(default_factory=set)
    """(policy, locale) pairs whose current page shows the release in force, not the sources."""


def versions_on_page(project: Project, localized: list[LocalizedPolicy], today: date, renders: Renders) -> OnPage:
    """Per policy and locale, the version the current page shows on ``today``. A policy with a
    release in force shows that release, rendered from its archived sources; when the project's
    sources differ from it (edited since, or a release still upcoming), they are only a draft,
    and only where the text a reader sees differs.
    Before the first release takes effect, the page shows that release (the text that applies
    first), and the sources, where they differ, only as a draft: with releases, unreleased text is
    never at the current URL. Without releases, the sources are the current version. Each locale
    is shown by the releases that have it: a language first released by an upcoming release shows
    that release; a locale no release has shows the sources (there is no other text)."""
    on_page = OnPage([], [], {})
    by_policy: dict[str, list[LocalizedPolicy]] = {}
    for item in localized:
        by_policy.setdefault(item.policy.id, []).append(item)
    for policy_id, items in by_policy.items():
        found = releases(project.root, policy_id)
        # Each locale shows the newest release of its own in force; before its first release
        # takes effect, that first release (the newest of its date), which applies first. A
        # language added by an upcoming release thus shows that release, not the sources.
        by_release: dict[int, tuple[Release, list[LocalizedPolicy]]] = {}
        for item in items:
            having = [r for r in found if item.locale in r.locales]
            rel = latest_in_force(having, max(today, having[0].effective_date)) if having else None
            if rel is None:
                on_page.current.append(item)
            else:
                by_release.setdefault(rel.sequence, (rel, []))[1].append(item)
        for rel, released in by_release.values():
            _show_release(project, policy_id, rel, released, found, renders, on_page)
    order = {(i.policy.id, i.locale): n for n, i in enumerate(localized)}
    on_page.current.sort(key=lambda i: order[(i.policy.id, i.locale)])
    return on_page


def _show_release(project: Project, policy_id: str, rel: Release, released: list[LocalizedPolicy], found: list[Release],
                  renders: Renders, on_page: OnPage) -> None:
    """Into ``on_page``: the pages of ``released`` (the locales whose page shows ``rel``), as
    ``rel`` froze them, and the sources as their draft where a reader would see a difference."""
    if _sources_match(project, policy_id, rel):
        on_page.current += released
        return
    old = _in_force_items(project, policy_id, rel, released, renders)
    on_page.in_force.update({(policy_id, loc): rel for loc in old})
    if _sources_match(project, policy_id, found[-1]):
        # The sources are the newest release, still upcoming: it has its own URL
        # (versions/<version>/), so there is nothing unreleased to preview.
        on_page.current += [old.get(i.locale, i) for i in released]
        on_page.archived |= {(policy_id, loc) for loc in old}
        return
    env = environment(project)
    # A language whose sources are the newest release's text (still upcoming, at its own URL) needs
    # no draft even when another language was edited since: the draft would be a second copy of it.
    newest = found[-1]
    upcoming = (_in_force_items(project, policy_id, newest, [i for i in released if i.locale in newest.locales], renders)
                if newest.sequence != rel.sequence else {})
    for item in released:
        archived = old.get(item.locale)
        # Catalogs re-wrapped or re-headed since the release change nothing a reader sees:
        # a draft is previewed only when its text differs from the version in force.
        text = renders.page(item, env, count=False)[1]
        if archived is None or renders.page(archived, env, count=False)[1] == text:
            on_page.current.append(item)
        else:
            on_page.current.append(archived)
            on_page.archived.add((policy_id, item.locale))
            ahead = upcoming.get(item.locale)
            if ahead is None or renders.page(ahead, env, count=False)[1] != text:
                on_page.drafts.append(item)


def _in_force_items(project: Project, policy_id: str, rel: Release, released: list[LocalizedPolicy],
                    renders: Renders) -> dict[str, LocalizedPolicy]:
    """locale -> ``rel`` localized from its archived sources and translations."""
    with materialize(rel, project) as old_root:
        # The release passed its own gate when it was made: pending translations stay pending.
        _old_project, old_items = prepare(old_root, [policy_id], [i.locale for i in released], allow_incomplete=True)
        renders.add(old_root, old_items)
    return {i.locale: i for i in old_items}


def _sources_match(project: Project, policy_id: str, rel: Release) -> bool:
    """Whether the project's sources and translations of ``policy_id`` are the ones ``rel`` froze."""
    policy = project.policies[policy_id]
    files = {"sources/policy.yaml": policy.facts_path.parent / "policy.yaml", "sources/policy.md": policy.facts_path.parent / "policy.md"}
    if project.glossary.path.is_file():
        files["sources/glossary.yaml"] = project.glossary.path
    for locale in policy.target_locales:
        for domain in (policy_id, "glossary"):
            po = project.catalog_path(locale, domain)
            if po.is_file():
                files[f"locales/{locale}/{domain}.po"] = po
    frozen = {k: v for k, v in rel.files.items() if k.startswith(("sources/", "locales/"))}
    try:
        current = {k: path.read_bytes() for k, path in files.items()}
    except OSError:
        return False
    if frozen.keys() != current.keys():
        return False
    # A catalog brought up to date since ('i18n update': new headers and comments, the notes of
    # releases made since) that holds the same translations is the one the release froze.
    return all(frozen[k] == sha256(data) or (k.endswith(".po") and translations_of(archived_file(rel, k)) == translations_of(data))
               for k, data in current.items())


def render_site(
    project: Project, localized: list[LocalizedPolicy], full: bool, archive: ArchiveSite | None = None,
    drafts: Iterable[LocalizedPolicy] = (), pdf_sizes: dict[str, int] | None = None, renders: Renders | None = None,
) -> tuple[dict[str, bytes], list[dict[str, Any]]]:
    """Render every page, fragment, asset and (on full builds) the index, in memory. With
    ``archive``, pages show their banner, link to their archive page and their feed. ``drafts``
    are the sources' unreleased state, each rendered as a marked, unindexed preview in
    ``draft/``. ``pdf_sizes`` (output path -> bytes) are the PDFs this build publishes: a page
    whose PDF is among them links to it, with its size (an argument of the page's render, so
    part of its cache key). With ``renders``, through the build cache."""
    env = environment(project)

    def render(item: LocalizedPolicy, *args: Any, **options: Any) -> tuple[bytes, bytes]:
        return renders.page(item, env, *args, **options) if renders else render_policy(project, item, env, *args, **options)

    files: dict[str, bytes] = {}
    outputs: list[dict[str, Any]] = []
    drafts = list(drafts)
    for item in drafts:
        has_archive = archive is not None and (item.policy.id, item.locale) in archive.archived
        drafted = [d.locale for d in drafts if d.policy.id == item.policy.id]
        draft_paths = PagePaths(item.policy.id, item.locale, draft=True)
        page, _fragment = render(item, None, has_archive, draft=True, drafted=drafted, pdf_size=(pdf_sizes or {}).get(draft_paths.pdf))
        path = draft_paths.page
        files[path] = page
        outputs.append(_entry(item.policy.id, item.locale, "draft-html", path, page, item))
    for item in localized:
        key = (item.policy.id, item.locale)
        banner = archive.banners.get(key) if archive else None
        has_archive = archive is not None and key in archive.archived
        paths = PagePaths(item.policy.id, item.locale)
        # A page in force rendered from its release links the languages the site publishes now
        # (the sources'), which a release made before a language was added or dropped does not list.
        published = project.policies[item.policy.id].locales
        languages = {"languages": published} if published != item.policy.locales else {}
        page, fragment = render(item, banner.html if banner else None, has_archive, pdf_size=(pdf_sizes or {}).get(paths.pdf), **languages)
        for fmt, path, data in (("html", paths.page, page), ("html-fragment", paths.fragment, fragment)):
            files[path] = data
            outputs.append(_entry(item.policy.id, item.locale, fmt, path, data, item))
    for path, data in asset_files(project).items():
        files[path] = data
        outputs.append({"policy": None, "locale": None, "format": "asset", "path": path, "sha256": sha256(data)})
    if full:
        entries = _index_entries(project, localized)
        index = renders.index(entries, env) if renders else render_index(project, entries, env)
        files["index.html"] = index
        outputs.append({"policy": None, "locale": None, "format": "site-index", "path": "index.html", "sha256": sha256(index)})
    return files, outputs


class Renders:
    """Renders HTML outputs through the build cache, and counts per output kind what was
    rendered and what came from the cache.

    A page's key holds the digest of the files its localized text was made from (:meth:`add`:
    the policy's ``policy.yaml`` and ``policy.md``, the locale's catalogs of the policy and of the glossary,
    the glossary labels of the facts the policy has, the configuration), the digest of the theme
    templates it is made with, and every other argument of the renderer. So an edit re-renders
    the outputs of the (policy, locale) pairs whose files it touched, a glossary label the pages
    that show it, a theme template the outputs made with it, and nothing else."""

    def __init__(self, project: Project, cache: Cache, today: date) -> None:
        self.project, self.cache, self.today = project, cache, today
        self.rendered: Counter[str] = Counter()
        self.cached: Counter[str] = Counter()
        self._units: dict[int, str] = {}
        self._templates: dict[tuple[str, ...], str] = {}
        self._reads: dict[Path, str] = {}

    def add(self, root: Path, items: Iterable[LocalizedPolicy]) -> None:
        """Note the inputs of ``items``, localized from the project (or archived sources) in ``root``."""
        for item in items:
            policy, locale, glossary = item.policy, item.locale, item.formatter.project.glossary
            # The two files the loader reads there: an editor's backup or swap file beside them
            # (policy.md~, .policy.md.swp), or a note, renders nothing again.
            files = [root / "sources" / policy.id / name for name in (FACTS_FILE, PROSE_FILE)]
            catalogs = [root / "locales" / locale / "LC_MESSAGES" / f"{domain}.po" for domain in (policy.id, "glossary")]
            labels = [[t.context, t.label] for t in policy.facts.shown_labels(glossary)]
            self._units[id(item)] = cache_key(files_digest([*files, *catalogs, root / "policygen.yaml"], root),
                                              json.dumps([glossary.locale, labels], ensure_ascii=False))

    def unit(self, item: LocalizedPolicy) -> str:
        return self._units[id(item)]

    def templates(self, *names: str) -> str:
        """The digest of the project's theme templates that rendering ``names`` reads
        (policygen's own are in :func:`~policygen.cache.code_digest`)."""
        if names not in self._templates:
            themed = theme_templates(self.project, names)
            self._templates[names] = files_digest(themed, self.project.theme_dir / "templates") if themed else ""
        return self._templates[names]

    def memo(self, kinds: Iterable[str], parts: Iterable[str],
             render: Callable[[], tuple[dict[str, bytes], Any]]) -> tuple[dict[str, bytes], Any, bool]:
        """``render()``'s files and record, and whether they came from the cache (under the key
        of ``parts``); counted per output kind in ``kinds``."""
        key = cache_key("html", code_digest(), *parts)
        entry = self.cache.get(key)
        if entry is not None:
            self.cached.update(kinds)
            files, record = unpack(entry)
            return files, record, True
        files, record = render()
        self.cache.put({key: pack(files, record)}, by_files="sources")
        self.rendered.update(kinds)
        return files, record, False

    def page(self, item: LocalizedPolicy, env: Any, *args: Any, count: bool = True, **options: Any) -> tuple[bytes, bytes]:
        """:func:`~policygen.render.html.render_policy` through the cache."""
        draft = bool(options.get("draft"))
        kinds = (["draft-html"] if draft else ["html", "html-fragment"]) if count else []
        arguments = json.dumps([args, sorted(options.items())], default=sorted, ensure_ascii=False)
        files, _, _ = self.memo(kinds, [self.templates("page.html", "fragment.html"), self.unit(item), arguments],
                             lambda: (dict(zip(("page", "fragment"), render_policy(self.project, item, env, *args, **options), strict=True)), None))
        return files["page"], files["fragment"]

    def archive(self, localized: list[LocalizedPolicy]) -> ArchiveSite:
        """:func:`~policygen.render.archive_pages.render_archive` through the cache: each archive
        output keyed by what it shows (:data:`~policygen.render.archive_pages.Memo`), so an edit
        that changes none of it (a clause of the current draft) renders none of them again."""
        return render_archive(self.project, localized, self.today, memo=self._archived)

    def _archived(self, kind: str, templates: tuple[str, ...], data: Any, reads: list[Path], render: Callable[[], bytes]) -> bytes:
        """One archive output through the cache, under the key of its kind, the theme templates
        it is made with, the data it shows and the bytes of the archived files it reads (a file
        changed in the archive, or missing, makes a new key, and rendering it reports that)."""
        for path in reads:
            if path not in self._reads:
                self._reads[path] = file_digest(path).hex()
        libraries = [package_version(name) for name in ("feedgen", "lxml")] if kind == "feed" else []
        files, _, _ = self.memo([kind], [kind, *libraries, self.templates(*templates) if templates else "", data_key(data),
                                         *(self._reads[path] for path in reads)], lambda: ({kind: render()}, None))
        return files[kind]

    def index(self, entries: list[dict[str, Any]], env: Any) -> bytes:
        """:func:`~policygen.render.html.render_index` through the cache."""
        files, _, _ = self.memo(["site-index"], [self.templates("index.html"), files_digest([self.project.config.path], self.project.root),
                                               json.dumps(entries, sort_keys=True, ensure_ascii=False)],
                             lambda: ({"index.html": render_index(self.project, entries, env)}, None))
        return files["index.html"]


def manifest_archive_entry(project: Project) -> dict[str, dict[str, Any]]:
    """``manifest.json``'s ``archive`` entry: the head of every archived policy's chain (policy ->
    SHA-256 of the newest ``release.json``, its version and sequence), published with every build
    so that anyone who saw the site can pin it (``policygen archive verify --against``)."""
    return {name: head.as_json() for name, head in published_heads(project.root).items()}


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
    except (OSError, ValueError, AttributeError, TypeError, RecursionError):  # whatever an earlier output folder holds
        return []


def check(root: Path, allow_incomplete: bool | None = None, use_cache: bool = True, unrecorded: str | None = None) -> Checked:
    """Validate sources, catalogs, config, the project's rules.yaml and theme templates without
    writing any output; warn about facts a policy does not model and prose that names what no
    fact covers.

    A check that passes is recorded (in ``.policygen/cache/check/``) under the key of every input
    file of the project, the option, policygen's code and the libraries' versions, as a whole
    build is; the next check with the same key answers from the record without loading anything
    (:func:`policygen.records.recorded_check`, which the API asks before it imports this module).
    Any changed input makes a new key, so a check that would find a problem always runs; a check
    that fails records nothing. ``use_cache=False`` checks afresh and leaves the record alone.
    ``unrecorded``: the check's key, under which the caller has just found no record (the API
    asks before it imports this module): not made, nor looked up, a second time."""
    root = find_project(root)
    whole = (unrecorded or check_key(root, allow_incomplete)) if use_cache else ""
    recorded = recorded_check(root, allow_incomplete, whole) if use_cache and unrecorded is None else None
    if recorded is not None:
        return recorded
    with long_lived() as loaded:
        project, localized = prepare(root, allow_incomplete=allow_incomplete)
        loaded()
        load_rules(project)  # a broken rules.yaml is found here, not first by 'diff' or 'release'
        render_site(project, localized, full=True)
        labels = source_labels(project)
        found = [w for policy in project.policies.values() for w in coverage.warnings(policy, labels)]
    checked = Checked(tuple(project.policies), tuple(project.config.locales), (*project.warnings, *found))
    if use_cache:
        record_check(root, whole, checked, allow_incomplete)
    return checked


__all__ = ["BuildResult", "Checked", "build", "check"]
