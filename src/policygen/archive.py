"""Archive stage: releases of a policy, frozen, append-only and hash-chained.

``release`` takes a project whose policy is ready to publish and freezes one version into
``archive/<policy-id>/<version>/``: the sources (facts, prose, glossary), the translations, the
rendered HTML and PDF of every locale, a redline and notices against the previous release, and
``release.json``: the SHA-256 of every file, the release's sequence number, and the SHA-256 of
the previous release's ``release.json``. Those hashes chain the releases together, in the
spirit of a transparency log: changing any archived byte, or any earlier release, breaks
``verify``.

A release is written into a temporary folder beside its final place and renamed into place in
one step, under a lock: a crash at any point leaves the archive as it was (at worst with a
temporary folder, which is not part of the archive and is cleared by the next release). An
archived file is never rewritten.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from .errors import PolicygenError
from .model import SUPPORTED_LOCALES, Project

ARCHIVE_DIR = "archive"
RELEASE_FILE = "release.json"
VERSION_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
"""A safe version label; always used with ``fullmatch`` (``$`` would accept a final newline)."""


@dataclass(frozen=True, slots=True)
class Release:
    """One archived version, as its ``release.json`` describes it."""

    policy: str
    version: str
    effective_date: date
    sequence: int
    released_notes: str
    severity: str | None
    previous: str | None
    """SHA-256 of the previous release's ``release.json`` (None for the first release)."""
    files: dict[str, str]
    locales: tuple[str, ...]
    folder: Path
    digest: str
    """SHA-256 of this release's ``release.json``: what the next release chains to."""


def archive_root(project_root: Path) -> Path:
    return project_root / ARCHIVE_DIR


def releases(project_root: Path, policy: str) -> list[Release]:
    """The releases of ``policy``, in order. Temporary folders of interrupted releases are not releases."""
    folder = archive_root(project_root) / policy
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or not (path / RELEASE_FILE).is_file():
            continue
        raw = (path / RELEASE_FILE).read_bytes()
        found.append(_parse_release(path, raw, policy))
    return sorted(found, key=lambda r: r.sequence)


def _parse_release(path: Path, raw: bytes, policy: str) -> Release:
    """A ``release.json``, checked: every value that becomes a path or an order must be sound,
    whatever is written in the file."""
    where = path / RELEASE_FILE
    try:
        data = json.loads(raw)
        files = data["files"]
        release_ = Release(
            str(data["policy"]), str(data["version"]), date.fromisoformat(data["effective_date"]), data["sequence"],
            str(data.get("notes") or ""), data.get("severity"), data.get("previous"), dict(files), tuple(data["locales"]),
            path, hashlib.sha256(raw).hexdigest(),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise PolicygenError(f"{where}: not a valid release manifest ({exc}); run 'policygen archive verify'") from None
    if (not VERSION_RE.fullmatch(release_.version) or release_.version != path.name or release_.policy != policy
            or not isinstance(release_.sequence, int) or isinstance(release_.sequence, bool)
            or not all(isinstance(k, str) and isinstance(v, str) and _safe_relative(k) for k, v in release_.files.items())
            or not all(loc in SUPPORTED_LOCALES for loc in release_.locales)):
        raise PolicygenError(f"{where}: the manifest does not describe this folder safely (version, policy, sequence, file paths or locales); run 'policygen archive verify'")
    return release_


def _safe_relative(rel: str) -> bool:
    parts = rel.split("/")
    return bool(rel) and not rel.startswith("/") and all(part not in ("", ".", "..") for part in parts)


def in_force(project_root: Path, policy: str, on: date) -> Release | None:
    """The release in force on ``on``: the latest whose effective date is not after it."""
    return latest_in_force(releases(project_root, policy), on)


def latest_in_force(found: list[Release], on: date) -> Release | None:
    candidates = [r for r in found if r.effective_date <= on]
    return max(candidates, key=lambda r: (r.effective_date, r.sequence)) if candidates else None


@contextlib.contextmanager
def _lock(folder: Path) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    handle = os.open(folder / ".lock", os.O_CREAT | os.O_RDWR, 0o644)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PolicygenError(f"{folder}: another release of this policy is running; try again when it has finished") from None
        yield
    finally:
        os.close(handle)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


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


def release(project_root: Path, policy_id: str, version: str, effective: date, notes: str = "", today: date | None = None) -> Release:
    """Freeze ``policy_id`` at ``version`` into the archive. See the module docstring."""
    from .build import prepare
    from .load import load_project
    from .render_pdf import render_pdf
    from .render_html import render_policy

    if not VERSION_RE.fullmatch(version):
        raise PolicygenError(f"version label '{version}' is not safe: use letters, digits, '.', '-' and '_' (at most 32), like 3.1 or 2026-03")
    project = load_project(project_root, [policy_id])
    policy = project.policies[policy_id]
    if policy.version != version or policy.effective_date != effective:
        raise PolicygenError(
            f"{policy.facts_path}: policy.yaml says version {policy.version}, effective {policy.effective_date.isoformat()}; "
            f"set version: \"{version}\" and effective_date: {effective.isoformat()} there, so the sources and the archive agree")
    folder = archive_root(project.root) / policy_id
    with _lock(folder):
        for stale in folder.glob(".release-*"):
            shutil.rmtree(stale, ignore_errors=True)  # left by an interrupted release
        previous = releases(project.root, policy_id)
        if any(r.version == version for r in previous):
            raise PolicygenError(f"{folder / version}: version {version} is already released; archived versions are never replaced")
        if (folder / version).exists():
            raise PolicygenError(f"{folder / version}: a folder of that name is already in the archive; it is not a release (see 'policygen archive verify'): move it away first")
        if previous and effective < previous[-1].effective_date:
            raise PolicygenError(f"effective date {effective.isoformat()} is before that of the last release ({previous[-1].version}, {previous[-1].effective_date.isoformat()})")
        # The publishing gate applies: a locale with missing or fuzzy translations is refused.
        files: dict[str, bytes] = _snapshot(project, policy_id)
        project, localized = prepare(project.root, [policy_id], allow_incomplete=False)
        staging = Path(tempfile.mkdtemp(prefix=f".release-{version}-", dir=folder))
        os.chmod(staging, 0o755)
        for item in localized:
            page, _fragment = render_policy(project, item, version=version)
            files[f"output/{item.locale}/index.html"] = page
            files[f"output/{item.locale}/{policy_id}-{item.locale}.pdf"] = render_pdf(project, item, project.config.pdf_variant)
        severity = None
        if previous:
            severity = _changes_against(previous[-1], project, policy_id, files, staging)
        if _snapshot(project, policy_id) != {k: v for k, v in files.items() if k.startswith(("sources/", "locales/"))}:
            shutil.rmtree(staging, ignore_errors=True)
            raise PolicygenError(f"{policy.facts_path.parent}: the sources changed while the release was being made; nothing was archived, run it again")
        for rel, data in files.items():
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            os.chmod(target, 0o644)
        manifest = {
            "policy": policy_id, "version": version, "effective_date": effective.isoformat(),
            "sequence": (previous[-1].sequence + 1) if previous else 1,
            "previous": previous[-1].digest if previous else None,
            "notes": notes, "severity": severity, "locales": list(policy.locales),
            "files": {rel: hashlib.sha256(data).hexdigest() for rel, data in sorted(files.items())},
        }
        (staging / RELEASE_FILE).write_bytes((json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8"))
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
    from .report import compare, redline, report_json

    with materialize(last, project) as old_root:
        reports = compare(old_root, project.root, [policy_id])
        data = report_json(reports, f"{policy_id}@{last.version}", "release")
        files["changes.json"] = (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
        for locale in reports[0].new.locales:
            files[f"output/{locale}/redline.html"] = redline(reports[0], locale)
    return reports[0].severity


@contextlib.contextmanager
def materialize(archived: Release, project: Project) -> Iterator[Path]:
    """A temporary project holding an archived release's sources, for diffs."""
    with tempfile.TemporaryDirectory(prefix="policygen-archived-") as tmp:
        root = Path(tmp)
        shutil.copyfile(project.config.path, root / "policygen.yaml")
        if (project.root / "rules.yaml").is_file():
            shutil.copyfile(project.root / "rules.yaml", root / "rules.yaml")
        source = archived.folder / "sources"
        (root / "sources" / archived.policy).mkdir(parents=True)
        for name in ("policy.yaml", "policy.md"):
            shutil.copyfile(source / name, root / "sources" / archived.policy / name)
        if (source / "glossary.yaml").is_file():
            shutil.copyfile(source / "glossary.yaml", root / "glossary.yaml")
        locales = archived.folder / "locales"
        if locales.is_dir():
            for po in locales.glob("*/*.po"):
                target = root / "locales" / po.parent.name / "LC_MESSAGES" / po.name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(po, target)
        yield root


@dataclass(frozen=True, slots=True)
class Problem:
    path: Path
    message: str


def verify(project_root: Path, policy: str | None = None) -> tuple[list[Release], list[Problem]]:
    """Recompute every hash and the chain. Returns the releases checked and the problems found."""
    root = archive_root(project_root)
    if not root.is_dir():
        raise PolicygenError(f"{root}: there is no archive here; release a version first, or pass --project")
    if policy is not None and not (root / policy).is_dir():
        known = ", ".join(sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))) or "none"
        raise PolicygenError(f"{root / policy}: no archive for policy '{policy}' (archived: {known})")
    policies = [policy] if policy else sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    checked: list[Release] = []
    problems: list[Problem] = []
    for name in policies:
        folder = root / name
        for path in sorted(folder.iterdir()) if folder.is_dir() else []:
            if not path.name.startswith(".") and path.is_dir() and not (path / RELEASE_FILE).is_file():
                problems.append(Problem(path, "a folder in the archive without release.json: not a release, or its manifest was removed"))
        previous: Release | None = None
        try:
            found = releases(project_root, name)
        except PolicygenError as exc:
            problems.append(Problem(folder, str(exc)))
            continue
        for rel in found:
            checked.append(rel)
            expected_sequence = previous.sequence + 1 if previous else 1
            if rel.sequence != expected_sequence:
                problems.append(Problem(rel.folder / RELEASE_FILE, f"sequence {rel.sequence}, expected {expected_sequence}: a release is missing or was added out of order"))
            if rel.previous != (previous.digest if previous else None):
                problems.append(Problem(rel.folder / RELEASE_FILE, "the hash of the previous release does not match: an earlier release was changed, removed or replaced"))
            if rel.folder.name != rel.version or rel.policy != name:
                problems.append(Problem(rel.folder / RELEASE_FILE, f"release.json describes {rel.policy}@{rel.version}, not this folder"))
            listed = set(rel.files)
            for file_rel, digest in sorted(rel.files.items()):
                path = rel.folder / file_rel
                if not path.is_file():
                    problems.append(Problem(path, "missing: listed in release.json but not in the archive"))
                elif _sha(path) != digest:
                    problems.append(Problem(path, "changed: its SHA-256 differs from the one recorded at release"))
            for path in sorted(rel.folder.rglob("*")):
                rel_path = path.relative_to(rel.folder).as_posix()
                if path.is_file() and rel_path != RELEASE_FILE and rel_path not in listed:
                    problems.append(Problem(path, "extra: not listed in release.json"))
            previous = rel
    return checked, problems
