"""The archive store: ``archive/<policy>/<version>/`` read, checked and verified.

Each release folder holds the frozen sources, translations and outputs of one version, and
``release.json``: the SHA-256 of every file, the release's sequence number, and the SHA-256 of
the previous release's ``release.json``. Those hashes chain the releases together, in the
spirit of a transparency log: changing any archived byte, or any earlier release, breaks
:func:`verify`, which also reports every file, folder and symbolic link that no release lists,
checks release signatures (:mod:`policygen.archive.sign`) when the project has public keys,
and compares the chain with heads recorded elsewhere (``--head``) or published with a build
(``--against``; see :func:`published_heads`). This module only reads;
:mod:`policygen.archive.release` adds releases.

What else may lie in the archive is defined here, and the release workflow uses these names:
``archive/_keys/*.pub`` (public keys), ``archive/<policy>/.lock`` (the release lock) and
``archive/<policy>/.release-<version>-<random>/`` (a release being assembled; left behind by an
interrupted release, it is ignored and noted: nothing reads or publishes it, and the next
release removes it).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from policygen.archive import sign
from policygen.errors import Diagnostic, PolicygenError
from policygen.model import SUPPORTED_LOCALES, Project, quoted, slug_problem

ARCHIVE_DIR = "archive"
RELEASE_FILE = "release.json"
VERSION_RE = re.compile(r"(?!(?i:con|prn|aux|nul|com[0-9]|lpt[0-9])(?:\.|\Z))[A-Za-z0-9](?:[A-Za-z0-9._-]{0,30}[A-Za-z0-9_-])?")
"""A safe version label; always used with ``fullmatch`` (``$`` would accept a final newline).
The labels :func:`policygen.model.version_problem` accepts: at most 32 letters, digits, ``.``,
``-`` and ``_``, no final dot, no device name Windows reserves (``CON``, ``com1.2``)."""
POLICY_DIR_RE = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
"""A policy's folder in the archive is named by its ID (the schema's pattern for IDs)."""
LOCK_FILE = ".lock"
"""``archive/<policy>/.lock``: the release lock (see :mod:`policygen.archive.release`)."""
TEMP_PREFIX = ".release-"
"""A release is assembled in ``archive/<policy>/.release-<version>-<random>/``, then renamed."""
TEMP_RE = re.compile(r"\.release-[A-Za-z0-9][A-Za-z0-9._-]{0,31}-[A-Za-z0-9_]{1,32}")


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
    incomplete: dict[str, dict[str, int]] = field(default_factory=dict)
    """Locales released with pending translations (``release --allow-incomplete``): locale ->
    ``{"blocks": n, "labels": m}``, how many blocks and glossary labels fell back to the source
    language. Empty for a complete release."""
    released_on: date | None = None
    """The day ``release`` ran (``release --today``), which the feed dates an upcoming release
    by; None for a release made before ``release.json`` recorded it."""


def archive_root(project_root: Path) -> Path:
    return project_root / ARCHIVE_DIR


class _BadRelease(PolicygenError):
    """A ``release.json`` that does not describe its folder: where, and what is wrong with it."""

    def __init__(self, where: Path, detail: str):
        super().__init__(f"{where}: {detail}; run 'policygen archive verify'")
        self.where, self.detail = where, detail


def releases(project_root: Path, policy: str, bad: list[Diagnostic] | None = None) -> list[Release]:
    """The releases of ``policy``, in order. Temporary folders of interrupted releases, and
    symbolic links, are not releases. ``policy`` is an ID (a command line may name any text):
    never a path that leads to another folder's releases.

    A ``release.json`` that cannot be read as its folder's release is an error; with ``bad``
    (``archive verify``, which reports every problem it finds), it is added there and left out."""
    problem = slug_problem(policy)
    if problem:
        raise PolicygenError(f"policy ID {quoted(policy)} {problem}")
    folder = archive_root(project_root) / policy
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.is_symlink() or not (path / RELEASE_FILE).is_file():
            continue  # a symbolic link is not a release (verify reports it)
        try:
            raw = (path / RELEASE_FILE).read_bytes()
        except OSError as exc:
            raise PolicygenError(f"{path / RELEASE_FILE}: cannot be read ({exc.strerror})") from None
        try:
            found.append(_parse_release(path, raw, policy))
        except _BadRelease as exc:
            if bad is None:
                raise
            bad.append(Diagnostic(exc.where, 0, exc.detail))
    found.sort(key=lambda r: r.sequence)
    for before, rel in zip(found, found[1:], strict=False):
        # release refuses an earlier date, so only an edit makes one; every page that says which
        # version was in force when rests on this order.
        if rel.effective_date < before.effective_date:
            edited = _BadRelease(rel.folder / RELEASE_FILE, f"effective {rel.effective_date.isoformat()}, before {before.version} (effective "
                                  f"{before.effective_date.isoformat()}): releases take effect in the order they were made, so this "
                                  "release.json was edited")
            if bad is None:
                raise edited
            bad.append(Diagnostic(edited.where, 0, edited.detail))
    return found


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
            path, hashlib.sha256(raw).hexdigest(), {str(k): dict(v) for k, v in (data.get("incomplete") or {}).items()},
            date.fromisoformat(data["released_on"]) if "released_on" in data else None,
        )
    except (ValueError, KeyError, TypeError, RecursionError) as exc:  # RecursionError: JSON nested too deep for Python's parser
        raise _BadRelease(where, f"not a valid release manifest ({exc})") from None
    if (not VERSION_RE.fullmatch(release_.version) or release_.version != path.name or release_.policy != policy
            or not isinstance(release_.sequence, int) or isinstance(release_.sequence, bool)
            or not all(isinstance(k, str) and isinstance(v, str) and _safe_relative(k) for k, v in release_.files.items())
            or not all(loc in SUPPORTED_LOCALES for loc in release_.locales)
            or not all(loc in release_.locales and all(isinstance(n, int) and not isinstance(n, bool) for n in counts.values())
                       for loc, counts in release_.incomplete.items())):
        raise _BadRelease(where, "the manifest does not describe this folder safely (version, policy, sequence, file paths or locales)")
    return release_


def _safe_relative(rel: str) -> bool:
    parts = rel.split("/")
    return bool(rel) and not rel.startswith("/") and all(part not in ("", ".", "..") for part in parts)


def in_force(project_root: Path, policy: str, on: date) -> Release | None:
    """The release in force on ``on``: the latest whose effective date is not after it."""
    return latest_in_force(releases(project_root, policy), on)


def archived_file(rel: Release, file_rel: str) -> bytes:
    """An archived file of ``rel``, checked against the hash recorded at release: what is
    published from the archive must be what was released."""
    path = rel.folder / file_rel
    try:
        if not path.is_file():  # a named pipe would block the read forever
            raise FileNotFoundError
        data = path.read_bytes()
    except OSError:
        raise PolicygenError(f"{path}: missing from the archive; run 'policygen archive verify'") from None
    if rel.files.get(file_rel) != hashlib.sha256(data).hexdigest():
        raise PolicygenError(f"{path}: differs from the hash recorded at release; run 'policygen archive verify'")
    return data


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
    """A temporary project holding an archived release's sources, for diffs. Its configuration
    is the project's, publishing the release's locales too: a locale the project no longer
    publishes is still one of the release's."""
    with tempfile.TemporaryDirectory(prefix="policygen-archived-") as tmp:
        root = Path(tmp)
        shutil.copyfile(project.config.path, root / "policygen.yaml")
        dropped = [loc for loc in archived.locales if loc not in project.config.locales]
        if dropped:
            import yaml  # only when the project has dropped a locale of the release

            # The project's loader has read this file already, within its limits.
            config = yaml.safe_load(project.config.path.read_text(encoding="utf-8"))
            config["locales"] = [*project.config.locales, *dropped]
            (root / "policygen.yaml").write_text(json.dumps(config, ensure_ascii=False, default=str), encoding="utf-8")
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
class Verification:
    """What :func:`verify` checked and found."""

    releases: list[Release]
    problems: list[Diagnostic]
    ignored: list[Path]
    """Temporary folders of interrupted releases: not part of the archive, removed by the next release."""
    signed: int
    """How many of ``releases`` carry a signature that verified."""


def policies_in(root: Path) -> list[str]:
    """The policies with a folder in the archive ``root`` (symbolic links are not followed)."""
    if not root.is_dir():
        return []
    try:
        return sorted(p.name for p in root.iterdir() if POLICY_DIR_RE.fullmatch(p.name) and p.is_dir() and not p.is_symlink())
    except OSError as exc:
        raise PolicygenError(f"{root}: cannot be read ({exc.strerror})") from None


def verify(project_root: Path, policy: str | None = None, heads: dict[str, str] | None = None,
           keys: dict[str, sign.PublicKey] | None = None) -> Verification:
    """Recompute every hash and the chain; report anything in the archive that no release lists,
    and every symbolic link; check signatures when there are public keys (``keys``, default: the
    project's ``archive/_keys/``).

    ``heads`` maps a policy to the SHA-256 of its newest ``release.json`` as recorded elsewhere
    (a tag, a ticket): a newest release that was changed, removed or re-made is then caught too.
    """
    root = archive_root(project_root)
    if root.is_symlink():
        raise PolicygenError(f"{root}: the archive is a symbolic link; it must be a folder of the project")
    if not root.is_dir():
        raise PolicygenError(f"{root}: there is no archive here; release a version first, or pass --project")
    known = policies_in(root)
    if policy is not None and policy not in known:
        raise PolicygenError(f"{root / policy}: no archive for policy '{policy}' (archived: {', '.join(known) or 'none'})")
    trusted, problems = (keys, []) if keys is not None else sign.project_keys(root)
    ignored: list[Path] = []
    if policy is None:
        problems += _strays_at_top(root)
    checked: list[Release] = []
    signed = 0
    for name in [policy] if policy else known:
        folder = root / name
        problems += _strays_in_policy(folder, ignored)
        try:
            found = releases(project_root, name, problems)  # a release.json that is not a release's is reported, the others checked
        except PolicygenError as exc:
            problems.append(Diagnostic(folder, 0, str(exc)))
            continue
        checked += found
        problems += _check_chain(found, name)
        for rel in found:
            problems += _check_files(rel)
        chain_signed, sig_problems = _check_signatures(found, trusted)
        signed += chain_signed
        problems += sig_problems
    problems += _check_heads(checked, heads or {})
    return Verification(checked, problems, ignored, signed)


def _check_chain(found: list[Release], name: str) -> list[Diagnostic]:
    problems = []
    previous: Release | None = None
    for rel in found:
        expected_sequence = previous.sequence + 1 if previous else 1
        if rel.sequence != expected_sequence:
            problems.append(Diagnostic(rel.folder / RELEASE_FILE, 0, f"sequence {rel.sequence}, expected {expected_sequence}: a release is "
                "missing or was added out of order"))
        if rel.previous != (previous.digest if previous else None):
            problems.append(Diagnostic(rel.folder / RELEASE_FILE, 0, "the hash of the previous release does not match: an earlier release was "
                "changed, removed or replaced"))
        if rel.folder.name != rel.version or rel.policy != name:
            problems.append(Diagnostic(rel.folder / RELEASE_FILE, 0, f"release.json describes {rel.policy}@{rel.version}, not this folder"))
        previous = rel
    return problems


def _symlink(path: Path) -> Diagnostic:
    return Diagnostic(path, 0, f"a symbolic link (to {os.readlink(path)}): everything in the archive must be a regular file or folder")


def _entries(folder: Path, problems: list[Diagnostic]) -> list[Path]:
    try:
        return sorted(folder.iterdir())
    except OSError as exc:
        problems.append(Diagnostic(folder, 0, f"cannot be read ({exc.strerror}): verify cannot see what it holds"))
        return []


def _strays_at_top(root: Path) -> list[Diagnostic]:
    """``archive/`` holds one folder per policy, and ``_keys/`` with public keys; nothing else."""
    problems: list[Diagnostic] = []
    for path in _entries(root, problems):
        if path.is_symlink():
            problems.append(_symlink(path))
        elif path.name == sign.KEYS_DIR and path.is_dir():
            for key in _entries(path, problems):
                if key.is_symlink():
                    problems.append(_symlink(key))
                elif not (key.is_file() and sign.is_key_file(key)):
                    problems.append(Diagnostic(key, 0, f"not a public key: {sign.KEYS_DIR}/ holds only <name>.pub files"))
        elif not (path.is_dir() and POLICY_DIR_RE.fullmatch(path.name)):
            problems.append(Diagnostic(path, 0, f"not part of the archive: {ARCHIVE_DIR}/ holds one folder per policy (named by its ID) and "
                f"{sign.KEYS_DIR}/, nothing else"))
    return problems


def _strays_in_policy(folder: Path, ignored: list[Path]) -> list[Diagnostic]:
    """``archive/<policy>/`` holds releases, the release lock, and temporary folders of releases."""
    problems: list[Diagnostic] = []
    for path in _entries(folder, problems):
        if path.is_symlink():
            problems.append(_symlink(path))
        elif path.name == LOCK_FILE and path.is_file():
            continue
        elif TEMP_RE.fullmatch(path.name) and path.is_dir():
            ignored.append(path)
        elif path.is_dir() and not path.name.startswith(".") and (path / RELEASE_FILE).is_file():
            continue  # a release: checked by _check_files
        elif path.is_dir() and not path.name.startswith("."):
            problems.append(Diagnostic(path, 0, "a folder in the archive without release.json: not a release, or its manifest was removed"))
        else:
            problems.append(Diagnostic(path, 0, "not part of any release: a policy's folder holds only its releases (and the release "
                f"lock, {LOCK_FILE})"))
    return problems


def _check_files(rel: Release) -> list[Diagnostic]:
    """Every listed file is there, a regular file, with its recorded hash; nothing else is there."""
    problems: list[Diagnostic] = []
    if rel.folder.is_symlink():
        return problems  # reported with the policy folder's entries
    listed = set(rel.files)
    holders = {parent for name in listed for parent in Path(name).parents if parent != Path(".")}
    linked: list[Path] = []

    def unreadable(exc: OSError) -> None:
        problems.append(Diagnostic(Path(exc.filename or rel.folder), 0, f"cannot be read ({exc.strerror}): verify cannot see what it holds"))

    for dirpath, dirnames, filenames in os.walk(rel.folder, onerror=unreadable):  # symbolic links are not followed
        here = Path(dirpath)
        for name in sorted([*dirnames, *filenames]):
            path = here / name
            rel_path = path.relative_to(rel.folder)
            if path.is_symlink():
                problems.append(_symlink(path))
                linked.append(rel_path)
            elif path.is_dir():
                if rel_path not in holders:
                    problems.append(Diagnostic(path, 0, "extra folder: holds no file listed in release.json"))
            elif rel_path.as_posix() not in listed and rel_path.as_posix() not in (RELEASE_FILE, sign.SIGNATURE_FILE):
                problems.append(Diagnostic(path, 0, "extra: not listed in release.json"))
        dirnames[:] = [d for d in dirnames if not (here / d).is_symlink()]
    for file_rel, digest in sorted(rel.files.items()):
        path = rel.folder / file_rel
        if any(Path(file_rel) == link or link in Path(file_rel).parents for link in linked):
            continue  # the link is reported; what it points to is not archived
        if not path.is_file():
            problems.append(Diagnostic(path, 0, "missing: listed in release.json but not in the archive"))
            continue
        try:
            actual = _sha(path)
        except OSError as exc:
            problems.append(Diagnostic(path, 0, f"cannot be read ({exc.strerror})"))
            continue
        if actual != digest:
            problems.append(Diagnostic(path, 0, "changed: its SHA-256 differs from the one recorded at release"))
    return problems


def _check_signatures(found: list[Release], trusted: dict[str, sign.PublicKey]) -> tuple[int, list[Diagnostic]]:
    """Releases before the first signed one may be unsigned: the chain ties them to the signed
    ones. From the first signed release on, and for the newest, a signature by a trusted key is
    required whenever there are keys."""
    problems = []
    signed = 0
    seen_signed = False
    for rel in found:
        sig_path = rel.folder / sign.SIGNATURE_FILE
        manifest = rel.folder / RELEASE_FILE
        if sig_path.is_symlink():
            seen_signed = True
            continue  # reported as a symbolic link
        if sig_path.is_file():
            seen_signed = True
            if not trusted:
                problems.append(Diagnostic(sig_path, 0, f"signed, but no public key is configured ({ARCHIVE_DIR}/{sign.KEYS_DIR}/*.pub): "
                    "were the keys removed? restore them, or pass the key with --key"))
                continue
            try:
                message = sign.check(manifest.read_bytes(), sig_path.read_bytes(), trusted)
            except OSError as exc:
                message = f"cannot be read ({exc.strerror})"
            if message:
                problems.append(Diagnostic(sig_path, 0, message))
            else:
                signed += 1
        elif trusted and seen_signed:
            problems.append(Diagnostic(manifest, 0, "not signed, but an earlier release is: every release after the first signed one must "
                f"be signed ({sign.SIGNATURE_FILE} is missing)"))
        elif trusted and rel is found[-1]:
            problems.append(Diagnostic(manifest, 0, f"the newest release is not signed ({sign.SIGNATURE_FILE} is missing) although the "
                f"project has public keys in {ARCHIVE_DIR}/{sign.KEYS_DIR}/: sign it with 'policygen archive sign {rel.policy}'"))
    return signed, problems


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


@dataclass(frozen=True, slots=True)
class Head:
    """The newest release of a policy's chain, as a build publishes it."""

    digest: str
    """SHA-256 of its ``release.json``."""
    version: str
    sequence: int

    def as_json(self) -> dict[str, str | int]:
        return {"head": self.digest, "version": self.version, "sequence": self.sequence}


def published_heads(project_root: Path) -> dict[str, Head]:
    """The head of every archived policy's chain: what a build publishes (``manifest.json``'s
    ``archive`` entry, the archive pages, the feeds) so that anyone can pin it later."""
    heads = {}
    for name in policies_in(archive_root(project_root)):
        found = releases(project_root, name)
        if found:
            heads[name] = Head(found[-1].digest, found[-1].version, found[-1].sequence)
    return heads


def read_published(path: Path) -> dict[str, Head]:
    """The ``archive`` entry of a ``manifest.json`` that someone saved from a published site."""
    if path.exists() and not path.is_file():  # a pipe or a device would be read without end
        raise PolicygenError(f"{path}: not a regular file; give the manifest.json saved from the published site")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicygenError(f"{path}: cannot read the published manifest ({exc.strerror})") from None
    except (ValueError, RecursionError) as exc:  # RecursionError: nested too deep for Python's parser
        raise PolicygenError(f"{path}: not a JSON manifest ({exc})") from None
    entry = data.get("archive") if isinstance(data, dict) else None
    if not isinstance(entry, dict):
        raise PolicygenError(f"{path}: no 'archive' entry: not a manifest.json written by 'policygen build' from an archive with releases")
    heads = {}
    for name, head in sorted(entry.items()):
        try:
            digest, version, sequence = head["head"], head["version"], head["sequence"]
            if not (isinstance(digest, str) and re.fullmatch(r"[0-9a-f]{64}", digest) and isinstance(version, str)
                    and isinstance(sequence, int) and not isinstance(sequence, bool) and sequence >= 1):
                raise TypeError
        except (KeyError, TypeError):
            raise PolicygenError(f"{path}: archive entry '{name}' is not a head (expected head: SHA-256, version, sequence)") from None
        heads[str(name)] = Head(digest, version, sequence)
    return heads


def check_published(project_root: Path, checked: list[Release], published: dict[str, Head], policy: str | None = None) -> list[Diagnostic]:
    """Compare the archive with heads published earlier. Releases made since then are fine (the
    chain ties them to the published head); a published release that is gone or differs is not."""
    problems: list[Diagnostic] = []
    for name, head in sorted(published.items()):
        if policy is not None and name != policy:
            continue
        chain = {rel.sequence: rel for rel in checked if rel.policy == name}
        where = archive_root(project_root) / name
        rel = chain.get(head.sequence)
        if rel is None:
            last = f"ends at release {max(chain)}" if chain else "has no release of it"
            problems.append(Diagnostic(where, 0, f"the published manifest names release {head.sequence} ({head.version}, {head.digest}), but "
                f"the archive {last}: published releases were removed"))
        elif rel.digest != head.digest:
            problems.append(Diagnostic(rel.folder / RELEASE_FILE, 0, f"differs from the published head of release {head.sequence} "
                f"({head.version}, {head.digest}): this release, or one before it, was changed, re-made or forged after it was published"))
    return problems
