"""The release workflow: a project whose policy is ready to publish -> one more archived release.

``release`` freezes one version into ``archive/<policy-id>/<version>/``: the sources (facts,
prose, glossary), the translations, the rendered HTML and PDF of every locale, a redline and
notices against the previous release, and ``release.json`` (see :mod:`policygen.archive.store`).

A release is written into a temporary folder beside its final place and renamed into place in
one step, under a lock: a crash at any point leaves the archive as it was (at worst with a
temporary folder, which is not part of the archive and is cleared by the next release). The
lock is the operating system's (through ``filelock``, on Linux, macOS and Windows alike), so a
release killed with kill -9 never leaves a lock that blocks the next one. Every file goes
through :func:`policygen.atomic.write_all`, which refuses a path that leads out of the project.
An archived file is never rewritten.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date
from pathlib import Path

from policygen.archive import sign
from policygen.archive.store import (
    LOCK_FILE,
    POLICY_DIR_RE,
    RELEASE_FILE,
    TEMP_PREFIX,
    VERSION_RE,
    Release,
    archive_root,
    materialize,
    releases,
    verify,
)
from policygen.atomic import contained, lock, write_all
from policygen.changes.compare import compare
from policygen.changes.report import report_json
from policygen.errors import PolicygenError
from policygen.i18n.prepare import prepare
from policygen.model import Project, quoted, version_problem
from policygen.render.html import render_policy
from policygen.render.pdf import render_pdf
from policygen.render.redline import redline_pages, redline_pdf
from policygen.source.files import CONTROL_CHARACTERS, holds_control
from policygen.source.load import load_project


def _lock(folder: Path) -> AbstractContextManager[None]:
    """The release lock of one policy's folder (see the module docstring)."""
    folder.mkdir(parents=True, exist_ok=True)
    return lock(folder / LOCK_FILE, f"{folder}: another release of this policy is running; try again when it has finished")


def _fsync_tree(folder: Path) -> None:
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    for path in sorted([folder, *[p for p in folder.rglob("*") if p.is_dir()]], reverse=True):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def release(project_root: Path, policy_id: str, version: str, effective: date, notes: str = "", today: date | None = None, *,
            signing_key: Path | None = None, allow_incomplete: bool = False, progress: Callable[[str, int, int], None] | None = None,
            ) -> Release:
    """Freeze ``policy_id`` at ``version`` into the archive. See the module docstring. With
    ``signing_key`` (required when the project has public keys) ``release.sig`` signs ``release.json``.
    With ``allow_incomplete`` a locale with missing or fuzzy translations is released with those
    blocks in the source language, and ``release.json`` records it under ``incomplete``; a
    later release with the translations complete records nothing there. ``progress`` is told
    ``(what, done, total)`` as the PDFs are laid out (the CLI draws a progress bar with it).
    ``release.json`` records ``today`` (default: the system's date) as ``released_on``."""
    if not VERSION_RE.fullmatch(version):
        raise PolicygenError(f"version label {quoted(version)} {version_problem(version) or 'is not safe'}")
    found = CONTROL_CHARACTERS.search(notes)
    if found is not None:  # the notes are shown on the archive page and in the feed, as the sources are
        raise PolicygenError(f"--notes {holds_control(found)}; remove it")
    project = load_project(project_root, [policy_id])
    policy = project.policies[policy_id]
    if policy.version != version or policy.effective_date != effective:
        raise PolicygenError(
            f"{policy.facts_path}: policy.yaml says version {policy.version}, effective {policy.effective_date.isoformat()}; "
            f"set version: \"{version}\" and effective_date: {effective.isoformat()} there, so the sources and the archive agree")
    folder = contained(archive_root(project.root) / policy_id, project.root)
    signer = sign.signer_for(archive_root(project.root), project.root, signing_key)
    with _lock(folder):
        for stale in folder.glob(f"{TEMP_PREFIX}*"):
            shutil.rmtree(stale, ignore_errors=True)  # left by an interrupted release
        previous = releases(project.root, policy_id)
        if any(r.version == version for r in previous):
            raise PolicygenError(f"{folder / version}: version {version} is already released; archived versions are never replaced")
        same = next((r.version for r in previous if r.version.casefold() == version.casefold()), None)
        if same is not None:  # one folder on Windows and macOS: a checkout there would mix the two releases
            raise PolicygenError(f"{folder / version}: version {version} differs only in case from the released {same}; the archive must "
                                 "check out on systems that do not tell them apart: choose another label")
        if (folder / version).exists():
            raise PolicygenError(f"{folder / version}: a folder of that name is already in the archive; it is not a release (see 'policygen archive "
                "verify'): move it away first")
        if previous and effective < previous[-1].effective_date:
            raise PolicygenError(f"effective date {effective.isoformat()} is before that of the last release ({previous[-1].version}, "
                f"{previous[-1].effective_date.isoformat()})")
        # The publishing gate applies (a locale with missing or fuzzy translations is refused)
        # unless the release is asked to go out with translations pending.
        files: dict[str, bytes] = _snapshot(project, policy_id)
        project, localized = prepare(project.root, [policy_id], allow_incomplete=allow_incomplete)
        incomplete = {item.locale: {"blocks": len(item.untranslated), "labels": len(item.missing_labels)}
                      for item in localized if item.untranslated or item.missing_labels}
        staging = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{version}-", dir=folder))
        os.chmod(staging, 0o755)
        for done, item in enumerate(localized, start=1):
            page, _fragment = render_policy(project, item, version=version)
            files[f"output/{item.locale}/index.html"] = page
            files[f"output/{item.locale}/{policy_id}-{item.locale}.pdf"] = render_pdf(project, item, project.config.pdf_variant)
            if progress is not None:
                progress("PDFs", done, len(localized))
        severity = None
        if previous:
            severity = _changes_against(previous[-1], project, policy_id, files, staging)
        if _snapshot(project, policy_id) != {k: v for k, v in files.items() if k.startswith(("sources/", "locales/"))}:
            shutil.rmtree(staging, ignore_errors=True)
            raise PolicygenError(f"{policy.facts_path.parent}: the sources changed while the release was being made; nothing was archived, run it again")
        write_all({staging / rel: data for rel, data in files.items()}, project.root)
        manifest = {
            "policy": policy_id, "version": version, "effective_date": effective.isoformat(),
            "sequence": (previous[-1].sequence + 1) if previous else 1,
            "previous": previous[-1].digest if previous else None,
            "notes": notes, "severity": severity, "locales": list(policy.locales),
            "files": {rel: hashlib.sha256(data).hexdigest() for rel, data in sorted(files.items())},
            **({"incomplete": incomplete} if incomplete else {}),
            # The day the release was made: the feed announces an upcoming release by it.
            "released_on": (today or date.today()).isoformat(),
        }
        manifest_bytes = (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
        final = {staging / RELEASE_FILE: manifest_bytes}
        if signer is not None:
            final[staging / sign.SIGNATURE_FILE] = sign.signature(signer, manifest_bytes)
        write_all(final, project.root)
        _fsync_tree(staging)
        try:
            os.rename(staging, folder / version)  # the release appears whole, or not at all
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise PolicygenError(f"{folder / version}: cannot put the release in place ({exc.strerror}); nothing was archived") from None
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    return next(r for r in releases(project.root, policy_id) if r.version == version)


def _snapshot(project: Project, policy_id: str) -> dict[str, bytes]:
    """The sources and translations a release freezes, read once."""
    policy_dir = project.root / "sources" / policy_id
    files = {"sources/policy.yaml": (policy_dir / "policy.yaml").read_bytes(), "sources/policy.md": (policy_dir / "policy.md").read_bytes()}
    if project.glossary.path.is_file():
        files["sources/glossary.yaml"] = project.glossary.path.read_bytes()
    policy = project.policies.get(policy_id)
    for locale in policy.target_locales if policy else ():
        for domain in (policy_id, "glossary"):
            po = project.catalog_path(locale, domain)
            if po.is_file():
                files[f"locales/{locale}/{domain}.po"] = po.read_bytes()
    return files


def _changes_against(last: Release, project: Project, policy_id: str, files: dict[str, bytes], staging: Path) -> str | None:
    """Diff the release against the previous one; store the report, redlines and notices."""
    with materialize(last, project) as old_root:
        reports = compare(old_root, project.root, [policy_id])
        data = report_json(reports, f"{policy_id}@{last.version}", "release")
        files["changes.json"] = (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
        for locale in reports[0].new.locales:
            # Published at <policy>/<locale>/versions/<version>/, four folders below the site's assets.
            pages = redline_pages(reports[0], locale, assets="../../../../assets/", pdf_href="redline.pdf",
                                  changes_href="redline-changes.html", full_href="redline.html")
            files[f"output/{locale}/redline.html"] = pages.full
            files[f"output/{locale}/redline-changes.html"] = pages.changes
            files[f"output/{locale}/redline.pdf"] = redline_pdf(reports[0], pages, locale)
    return reports[0].severity


def sign_head(project_root: Path, policy_id: str, signing_key: Path | None) -> Release:
    """Sign the newest release of ``policy_id`` if it is not signed: how a project with an
    unsigned archive starts signing (the chain ties the earlier releases to this signature).
    Only ``release.sig`` is added; the archive must verify otherwise, or nothing is written."""
    if signing_key is None:
        raise PolicygenError(f"give the private key with --signing-key or {sign.PRIVATE_KEY_ENV}")
    root = archive_root(project_root)
    if not POLICY_DIR_RE.fullmatch(policy_id) or not (root / policy_id).is_dir():
        raise PolicygenError(f"{root / policy_id}: no archive for policy '{policy_id}'")
    signer = sign.signer_for(root, project_root, signing_key)
    assert signer is not None
    with _lock(root / policy_id):
        found = releases(project_root, policy_id)
        if not found:
            raise PolicygenError(f"{root / policy_id}: no releases of '{policy_id}' to sign")
        head = found[-1]
        target = head.folder / sign.SIGNATURE_FILE
        if target.exists() or target.is_symlink():
            raise PolicygenError(f"{target}: the newest release is already signed; a signature is never replaced")
        target = contained(target, project_root)  # archive/<policy> may not lead outside the project
        data = (head.folder / RELEASE_FILE).read_bytes()
        try:
            with target.open("xb") as handle:
                handle.write(sign.signature(signer, data))
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise PolicygenError(f"{target}: cannot write the signature ({exc.strerror})") from None
        problems = verify(project_root, policy_id).problems
        if problems:
            target.unlink()  # our own file, just written: the archive is left as it was
            raise PolicygenError("the archive does not verify, so its head was not signed:\n" + "\n".join(d.format() for d in sorted(problems)))
    return head
