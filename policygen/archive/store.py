"""The archive store: ``archive/<policy>/<version>/`` read, checked and verified.

Each release folder holds the frozen sources, translations and outputs of one version, and
``release.json``: the SHA-256 of every file, the release's sequence number, and the SHA-256 of
the previous release's ``release.json``. Those hashes chain the releases together, in the
spirit of a transparency log: changing any archived byte, or any earlier release, breaks
:func:`verify`. This module only reads; :mod:`policygen.archive.release` adds releases.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from policygen.errors import Diagnostic, PolicygenError
from policygen.model import SUPPORTED_LOCALES, Project

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
        raise PolicygenError(f"{where}: the manifest does not describe this folder safely (version, policy, sequence, file paths or locales); run "
            "'policygen archive verify'")
    return release_


def _safe_relative(rel: str) -> bool:
    parts = rel.split("/")
    return bool(rel) and not rel.startswith("/") and all(part not in ("", ".", "..") for part in parts)


def in_force(project_root: Path, policy: str, on: date) -> Release | None:
    """The release in force on ``on``: the latest whose effective date is not after it."""
    return latest_in_force(releases(project_root, policy), on)


def release_outputs(rel: Release, locale: str) -> tuple[Path, Path]:
    """Where a release keeps its page and its PDF in ``locale``."""
    folder = rel.folder / "output" / locale
    return folder / "index.html", folder / f"{rel.policy}-{locale}.pdf"


def latest_in_force(found: list[Release], on: date) -> Release | None:
    candidates = [r for r in found if r.effective_date <= on]
    return max(candidates, key=lambda r: (r.effective_date, r.sequence)) if candidates else None


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


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


def verify(project_root: Path, policy: str | None = None, heads: dict[str, str] | None = None) -> tuple[list[Release], list[Diagnostic]]:
    """Recompute every hash and the chain. Returns the releases checked and the problems found.

    ``heads`` maps a policy to the SHA-256 of its newest ``release.json`` as recorded elsewhere
    (a tag, a ticket): a newest release that was changed, removed or re-made is then caught too.
    """
    root = archive_root(project_root)
    if not root.is_dir():
        raise PolicygenError(f"{root}: there is no archive here; release a version first, or pass --project")
    if policy is not None and not (root / policy).is_dir():
        known = ", ".join(sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))) or "none"
        raise PolicygenError(f"{root / policy}: no archive for policy '{policy}' (archived: {known})")
    policies = [policy] if policy else sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    checked: list[Release] = []
    problems: list[Diagnostic] = []
    for name in policies:
        folder = root / name
        for path in sorted(folder.iterdir()) if folder.is_dir() else []:
            if not path.name.startswith(".") and path.is_dir() and not (path / RELEASE_FILE).is_file():
                problems.append(Diagnostic(path, 0, "a folder in the archive without release.json: not a release, or its manifest was removed"))
        previous: Release | None = None
        try:
            found = releases(project_root, name)
        except PolicygenError as exc:
            problems.append(Diagnostic(folder, 0, str(exc)))
            continue
        for rel in found:
            checked.append(rel)
            expected_sequence = previous.sequence + 1 if previous else 1
            if rel.sequence != expected_sequence:
                problems.append(Diagnostic(rel.folder / RELEASE_FILE, 0, f"sequence {rel.sequence}, expected {expected_sequence}: a release is "
                    "missing or was added out of order"))
            if rel.previous != (previous.digest if previous else None):
                problems.append(Diagnostic(rel.folder / RELEASE_FILE, 0, "the hash of the previous release does not match: an earlier release was "
                    "changed, removed or replaced"))
            if rel.folder.name != rel.version or rel.policy != name:
                problems.append(Diagnostic(rel.folder / RELEASE_FILE, 0, f"release.json describes {rel.policy}@{rel.version}, not this folder"))
            listed = set(rel.files)
            for file_rel, digest in sorted(rel.files.items()):
                path = rel.folder / file_rel
                if not path.is_file():
                    problems.append(Diagnostic(path, 0, "missing: listed in release.json but not in the archive"))
                elif _sha(path) != digest:
                    problems.append(Diagnostic(path, 0, "changed: its SHA-256 differs from the one recorded at release"))
            for path in sorted(rel.folder.rglob("*")):
                rel_path = path.relative_to(rel.folder).as_posix()
                if path.is_file() and rel_path != RELEASE_FILE and rel_path not in listed:
                    problems.append(Diagnostic(path, 0, "extra: not listed in release.json"))
            previous = rel
    problems += _check_heads(checked, heads or {})
    return checked, problems


def newest(checked: list[Release]) -> dict[str, Release]:
    """The newest release of each policy among ``checked``: the heads to record."""
    return {rel.policy: rel for rel in sorted(checked, key=lambda r: (r.policy, r.sequence))}


def _check_heads(checked: list[Release], heads: dict[str, str]) -> list[Diagnostic]:
    problems = []
    found = newest(checked)
    for name, digest in sorted(heads.items()):
        if name not in found:
            problems.append(Diagnostic(Path(name), 0, "no releases to compare with the given --head"))
        elif found[name].digest != digest.strip():
            problems.append(Diagnostic(found[name].folder / RELEASE_FILE, 0, f"the newest release's hash is {found[name].digest}, not the expected "
                f"head {digest.strip()}: the newest release was changed, removed or replaced"))
    return problems
