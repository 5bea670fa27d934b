"""The build cache: rendered outputs kept under the hash of everything they depend on.

A key is the SHA-256 of every input of one output, written out in full: for a PDF, the HTML
WeasyPrint lays out, before the Khmer word breaks that khmercut adds to it (it already holds the
localized text, the facts, the glossary labels and the templates that made it), the PDF variant,
the project's theme assets, the versions of WeasyPrint, khmercut and the font packages, and a
digest of policygen's own code and templates. An
unchanged key means an unchanged output, so it is not rendered again; any change to any input
makes a new key. Nothing is invalidated by hand, and nothing can go stale.

Every other output is cached the same way (:func:`pack` keeps several files and their record in
one entry): a page and its fragment under the digest of the files its localized text was made
from (:func:`files_digest`: the policy's sources, the locale's catalogs, the glossary labels it
shows, the configuration) and of every other argument of the renderer; an archive page, a feed,
a banner and an archived copy under the data it shows (the values its template is given: titles,
dates, statuses, notes, links) and the bytes of the archived files it reads. A whole build is recorded too, under the digest of every input file of the
project: a rebuild whose inputs, options and output are all unchanged loads nothing at all.

Entries live in the project, in ``.policygen/cache/`` (ignored by git): one file per key, the
SHA-256 of the content followed by the content. Entries are written at the end of a build, each
atomically (a temporary file renamed over its place, inside the project: :meth:`Cache.flush`),
and verified on read: a torn or altered entry is a miss, is removed (unless the cache is
read-only), and the output is rendered again. A full build prunes what it did not use, keeping
what the recent full builds of each choice of formats used (lists in ``kept/``:
:meth:`Cache.prune`). ``build --no-cache`` bypasses the cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import stat
import sys
import tempfile
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from policygen.atomic import contained, files_under
from policygen.errors import PolicygenError, display_path

CACHE_DIR = ".policygen/cache"
KEPT = "kept"
"""The cache's folder of lists: the entries the last two full builds of each kind (its formats) used."""
_DIGEST = 32


@cache
def code_digest() -> str:
    """A digest of policygen's own code, templates and data: a new policygen (or an edited
    checkout) never reuses what an older one rendered."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(package).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()


@cache
def _installed() -> dict[str, str]:
    """Normalized project name -> version, of every library on ``sys.path``, read from the names
    of their ``.dist-info`` folders: one folder listing, where importlib.metadata opens every
    library's metadata (a tenth of a second for the libraries a build key names)."""
    found: dict[str, str] = {}
    for folder in sys.path:
        try:
            names = os.listdir(folder or ".")
        except OSError:
            continue
        for name in names:
            if name.endswith((".dist-info", ".egg-info")):
                project, _, version = name.rpartition(".")[0].partition("-")
                found.setdefault(_normal(project), version)
    return found


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def package_version(name: str) -> str:
    """The installed version of a library ("absent" when it is not installed)."""
    return _installed().get(_normal(name), "absent")


def key(*parts: str | bytes) -> str:
    """The key of an output from its inputs (each one length-prefixed, so no two lists collide)."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def file_digest(path: Path) -> bytes:
    """SHA-256 of a file's bytes, read a block at a time; a missing file (or a folder) has a
    digest of its own, and so has anything else that is no regular file: a named pipe nobody
    writes to would block the read forever, and a device may never end."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # opening a pipe blocks too, unless non-blocking
    except (IsADirectoryError, FileNotFoundError, NotADirectoryError):
        return b"absent"
    except OSError as exc:
        # A Unix socket cannot be opened (ENXIO), another user's file may not be (EACCES): a key
        # counts it as such; a file the loader needs and cannot read is the loader's error.
        return f"unreadable {exc.errno}".encode()
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return b"not a file"
        digest = hashlib.sha256()
        while block := handle.read(1 << 20):
            digest.update(block)
        return digest.digest()


def files_digest(paths: Iterable[Path], root: Path) -> str:
    """Names (relative to ``root``) and bytes of ``paths``, in the order given."""
    digest = hashlib.sha256()
    for path in paths:
        name = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()
        digest.update(name.encode() + b"\0" + file_digest(path))
    return digest.hexdigest()


def pack(files: dict[str, bytes], record: object) -> bytes:
    """Several files and a JSON record as one cache entry: a header line (the record, the names
    and lengths), then the files' bytes one after the other."""
    names = sorted(files)
    header = json.dumps({"record": record, "files": [[name, len(files[name])] for name in names]}, sort_keys=True, ensure_ascii=True)
    return b"".join([header.encode("ascii"), b"\n", *(files[name] for name in names)])


def unpack(entry: bytes) -> tuple[dict[str, bytes], object]:
    """The files and record :func:`pack` made (the entry was verified on read)."""
    line, _, body = entry.partition(b"\n")
    header = json.loads(line)
    files, at = {}, 0
    for name, length in header["files"]:
        files[name] = body[at:at + length]
        at += length
    return files, header["record"]


def folder_digest(folder: Path, links_within: Path | None = None) -> str:
    """Names and bytes of every file under ``folder`` (empty when it does not exist). With
    ``links_within``, also of the files in folders that a symbolic link under it leads to inside
    ``links_within`` (each real folder once: a link back up does not loop), as a reader that
    follows such links sees them."""
    digest = hashlib.sha256()
    paths = files_under(folder, links_within)
    for path in paths:
        if path.is_file():
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + file_digest(path))
    return digest.hexdigest()


class Cache:
    """The cache of one project. With ``enabled=False`` every lookup misses and nothing is stored."""

    def __init__(self, project_root: Path, enabled: bool = True, part: str | None = None) -> None:
        self.root = project_root
        self.folder = project_root / CACHE_DIR / part if part else project_root / CACHE_DIR
        """Where the entries are: the cache's folder, or its folder ``part`` (pruned on its own)."""
        self.enabled = enabled
        self.used: set[str] = set()
        """Entries this build read or wrote: what a full build keeps (:meth:`prune`)."""
        self._pruning = False
        self._kind: str | None = None
        self._pending: dict[str, bytes] = {}
        self._by_files: dict[str, set[str]] = {}
        if enabled:
            self._check_place()

    def _check_place(self) -> None:
        """Refuse, before a command does anything, a cache folder that a symbolic link leads out
        of the project (policygen writes only inside it): found only when the first entry is
        written, it failed a build that had already published its output."""
        # The cache's folder first, then its part (the check's record): the message names the
        # one where the link stands.
        for folder in dict.fromkeys((self.root / CACHE_DIR, self.folder)):
            try:
                contained(folder, self.root)
            except PolicygenError:
                raise PolicygenError(f"{display_path(folder)}: the build cache leads outside the project, or into a loop, through a "
                                     "symbolic link; policygen keeps it inside the project: remove the link, or run with --no-cache") from None

    def _path(self, entry: str) -> Path:
        return self.folder / entry[:2] / entry

    def get(self, entry: str) -> bytes | None:
        """The content stored under ``entry``, if it is there and intact."""
        if not self.enabled:
            return None
        self.used.add(entry)
        if entry in self._pending:
            return self._pending[entry]
        path = self._path(entry)
        try:
            raw = path.read_bytes()
        except OSError:
            return None
        content = raw[_DIGEST:]
        if len(raw) < _DIGEST or hashlib.sha256(content).digest() != raw[:_DIGEST]:
            with contextlib.suppress(OSError):  # a read-only cache keeps it: it is only a miss
                path.unlink(missing_ok=True)  # torn or altered: render again
            return None
        return content

    def put(self, entries: dict[str, bytes], by_files: str | None = None) -> None:
        """Store ``entries`` (key -> content); they are written together by :meth:`flush`.
        ``by_files`` names the input files whose digests their keys hold, taken at another moment
        than the files were read for their content ("sources", "assets": :meth:`drop_by_files`)."""
        if not self.enabled or not entries:
            return
        self.used |= set(entries)
        self._pending.update(entries)
        if by_files:
            self._by_files.setdefault(by_files, set()).update(entries)

    def drop_by_files(self, *inputs: str) -> None:
        """Write none of the entries put ``by_files`` of ``inputs``: such an input changed while
        the build ran, so such a key (the digest of the files now, or before) may not be of the
        files the content was made from, and every later build would take it for theirs."""
        for name in inputs:
            for entry in self._by_files.pop(name, set()):
                self._pending.pop(entry, None)

    def flush(self) -> None:
        """Write the entries put since the last flush. Each goes to a temporary file renamed over
        its place, so a reader sees a whole entry or none; the disk is not waited for, as the
        atomic writes of the output are: an entry a power cut tore fails its check on read and
        is rendered again. A full disk costs only speed: the build goes on."""
        pending, self._pending = self._pending, {}
        for entry, data in sorted(pending.items()):
            path = contained(self._path(entry), self.root)  # a .policygen/ that leads out of the project is refused
            tmp = None
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(prefix=f".{entry[:8]}.", suffix=".tmp", dir=path.parent)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(hashlib.sha256(data).digest() + data)
                os.replace(tmp, path)
            except OSError:
                if tmp is not None:
                    Path(tmp).unlink(missing_ok=True)
                return

    def prune(self, keep: Iterable[str], kind: str | None = None) -> None:
        """After a full build, entries it did not use go: those in ``keep`` and those read or
        written stay. The removal waits for :meth:`close`, when every output has been looked up.

        ``kind`` names the build (its formats: ``html``, ``html,pdf``): what the last two full
        builds of each kind used stays too (listed in ``kept/``), so that an HTML-only build, as
        ``serve`` makes on every save, keeps the PDFs and the pages that link them, an edit undone
        (or a ``--today`` gone back) finds its outputs, and the cache holds two builds' worth for
        each kind."""
        self.used |= set(keep)
        self._pruning = True
        self._kind = kind or self._kind

    def close(self) -> int:
        """The end of a build that succeeded: write what it put, and prune if a full build asked
        for it; returns how many entries went."""
        self.flush()
        if not self._pruning or not self.enabled or not self.folder.is_dir():
            return 0
        wanted = set(self.used)
        if self._kind is not None:
            wanted |= self._swap_kept_lists()
        removed = 0
        for bucket in self.folder.iterdir():
            if not bucket.is_dir() or bucket.is_symlink() or len(bucket.name) != 2:
                continue  # a part (the check's record) is not one of these buckets
            for path in bucket.iterdir():
                if path.name not in wanted and path.is_file():
                    try:
                        path.unlink(missing_ok=True)
                    except OSError:  # a read-only cache: it only holds more
                        continue
                    removed += 1
        return removed

    def _swap_kept_lists(self) -> set[str]:
        """What the lists keep: the entries of this build, of the full build of its kind before
        it, and of the last two of every other kind. This build's list replaces its kind's, which
        becomes ``<kind>.before`` (a list that cannot be read or written keeps nothing: the cache
        only renders more; a linked folder of lists is not used)."""
        kept = self.folder / KEPT
        wanted: set[str] = set(self.used)
        if kept.is_symlink():
            return wanted
        own = kept / str(self._kind)
        tmp = None
        try:
            kept.mkdir(parents=True, exist_ok=True)
            if own.is_file():
                os.replace(own, kept / f"{self._kind}.before")
            fd, tmp = tempfile.mkstemp(prefix=".kept.", suffix=".tmp", dir=kept)
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write("".join(f"{entry}\n" for entry in sorted(self.used)))
            os.replace(tmp, own)
        except OSError:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
        try:
            for path in kept.iterdir():
                if path.is_file() and not path.is_symlink() and not path.name.endswith(".tmp"):
                    wanted |= set(path.read_text(encoding="ascii").split())
        except (OSError, ValueError):
            pass
        return wanted

    def size(self) -> int:
        """How many entries the cache holds."""
        if not self.folder.is_dir():
            return 0
        return sum(1 for path in self.folder.glob("*/*") if len(path.parent.name) == 2 and path.is_file() and not path.name.startswith("."))


__all__ = ["CACHE_DIR", "Cache", "code_digest", "file_digest", "files_digest", "folder_digest", "key", "pack", "package_version", "unpack"]
