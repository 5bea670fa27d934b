"""Writing files: only inside the project, atomically, all or nothing, and only when their bytes change.

Every file policygen writes goes through this module, and every path is first checked by
:func:`contained`: resolved (symlinks followed, a dangling one too) and refused unless it lies
under the root it belongs to (the project, or a folder the user named with ``--output``). Reads
have the same rule (:func:`policygen.source.files.inside`); a symlinked ``locales/`` or
``sources/<id>`` can no longer carry a write out of the project.

:func:`write_all` writes a set of files in two phases. First every changed file is written to
a temporary file beside its target and flushed to disk; if any of that fails (a full disk, a
permission, a folder where a file should go), the temporary files are removed and no target
has changed. Then each temporary file replaces its target in one rename. Unchanged files are
not touched, so their modification times stay put. A temporary file carries its process's ID:
one left by a process that was killed is removed by the next write of its target.

:func:`publish` writes a whole output folder at once, for ``build``: the complete new tree is
made beside the old one (unchanged files and the site's own files are hard links to the old
ones) and swapped in with one atomic rename, so a crash at any moment leaves either the old
output or the new one, never a mix. :func:`lock` keeps two processes from doing that at once.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from policygen.errors import PolicygenError, display_path

WORK_SUFFIX = ".policygen"
"""``output/`` is built in ``.output.policygen/`` beside it: the lock, the new tree, temp files."""


def contained(path: Path, root: Path) -> Path:
    """``path`` with symlinks resolved, when it lies under ``root`` (also resolved); else an error."""
    resolved_root = resolved_path(root)
    resolved = resolved_path(path)
    if resolved != resolved_root and not resolved.is_relative_to(resolved_root):
        raise PolicygenError(f"{_shown(path)}: leads outside {_shown(root)} (through a symlink?); "
                             "policygen writes only inside the project or the output folder you name")
    return resolved


def resolved_path(path: Path) -> Path:
    """``path`` with symlinks resolved; a loop of symbolic links is an error that names it
    (``Path.resolve`` raises RuntimeError, which would be a traceback)."""
    try:
        return path.resolve()
    except RuntimeError:
        raise PolicygenError(f"{_shown(path)}: a loop of symbolic links (a link that leads back to itself); remove it") from None


EDITORS_OWN = re.compile(
    r".*\.tmp|.*~|\..*\.sw[a-px]|4913|#.*#|\.#.*|.*___jb_(tmp|old)___|\.goutputstream-.*|.*\.kate-swp|\.~lock\..*#|\.DS_Store")
"""Names of what editors write beside the file being edited, which no build reads: a temporary
file renamed over the file on save (``*.tmp``, JetBrains' ``___jb_tmp___``, gedit's
``.goutputstream-*``), backups (``name~``, ``___jb_old___``), vim's swap file (``.name.swp``,
rewritten while you type; it holds the text, the user's and the machine's names and the path)
and its write test (``4913``), emacs' auto-save and lock files (``#name#``, ``.#name``), kate's
swap file, LibreOffice's lock, macOS's ``.DS_Store``."""


def editors_own(name: str) -> bool:
    """Whether a file of this name is an editor's own (:data:`EDITORS_OWN`): not published, not
    in a cache key, and a change to it starts no rebuild in ``serve``."""
    return EDITORS_OWN.fullmatch(name) is not None


def files_under(folder: Path, links_within: Path | None = None, outside: list[Path] | None = None) -> list[Path]:
    """Every path under ``folder`` that is not a folder, sorted (none when it does not exist),
    an editor's own files (:func:`editors_own`) left out.
    With ``links_within``, the walk also enters folders that a symbolic link under ``folder``
    leads to inside ``links_within`` (each real folder once: a link back up does not loop), as a
    reader that follows such links sees them; a link to a folder elsewhere is not entered, and is
    added to ``outside`` when given."""
    if not folder.is_dir():
        return []
    if links_within is None:
        return sorted(p for p in folder.rglob("*") if (not p.is_dir() or p.is_symlink()) and not editors_own(p.name))
    within = os.path.realpath(links_within)
    paths: list[Path] = []
    seen: set[str] = set()
    for top, dirs, names in os.walk(folder, followlinks=True):
        real = os.path.realpath(top)
        if real in seen or os.path.commonpath([real, within]) != within:
            if outside is not None and real not in seen:
                outside.append(Path(top))
            dirs[:] = []
            continue
        seen.add(real)
        # Entered in name order: which of two links to one folder is read (under its own name)
        # must not follow the order the file system lists them in.
        dirs.sort()
        paths += [Path(top) / name for name in names if not editors_own(name)]
    return sorted(paths)


def _shown(path: Path) -> str:
    """``path`` as the user wrote it (symlinks not followed), relative to the working folder when inside it."""
    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute)
    return relative if not relative.startswith("..") else absolute


ARCHIVE = "archive"
"""The project's archive folder (``archive.store.ARCHIVE_DIR``; this module sits below it)."""


def write_all(files: dict[Path, bytes], root: Path) -> list[Path]:
    """Write every file (each under ``root``) or none of them: an error while writing changes no
    target. (A kill between two of the final renames leaves some targets new, each whole; only
    :func:`publish` switches a whole tree at once.) Returns the paths whose bytes changed, in order.

    A path that reaches ``root``'s archive only through a symlink (a catalog folder linked to a
    release's catalogs) is refused too: it stays inside the project, but only a release writes
    the archive, at paths inside it, and an archived file is never rewritten."""
    for path in files:
        contained(path, root)  # all of them before the first folder is made
        if _into_archive_through_a_link(path, root):
            raise PolicygenError(f"{_shown(path)}: leads into {ARCHIVE}/ (through a symlink?); only 'policygen release' writes the archive, "
                                 "and it never rewrites an archived file: remove the link")
    _remove_stale_temp_files(files)
    staged: list[tuple[Path, str]] = []
    try:
        for path, data in sorted(files.items()):
            try:
                if path.read_bytes() == data:
                    continue
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                pass
            path.parent.mkdir(parents=True, exist_ok=True)
            staged.append((path, _temp_file(path.parent, path.name, data)))
        for path, _tmp in staged:
            if path.is_dir():
                raise IsADirectoryError(21, "a folder stands where a file must go", str(path))
    except BaseException:
        for _path, tmp in staged:
            Path(tmp).unlink(missing_ok=True)
        raise
    for path, tmp in staged:
        os.replace(tmp, path)
    return [path for path, _tmp in staged]


def _into_archive_through_a_link(path: Path, root: Path) -> bool:
    """True when ``path`` lands in ``root``'s archive without naming it: its first part under
    ``root`` is another folder, and a symlink leads from there into ``archive/``. (``path`` and
    ``root`` may each be given as written or resolved: a release hands resolved paths.)"""
    resolved_root = root.resolve()
    if not path.resolve().is_relative_to(resolved_root / ARCHIVE):
        return False
    absolute = Path(os.path.abspath(path))
    for base in (Path(os.path.abspath(root)), resolved_root):
        if absolute.is_relative_to(base):
            parts = absolute.relative_to(base).parts
            return not parts or parts[0] != ARCHIVE
    return False


def _temp_file(folder: Path, name: str, data: bytes) -> str:
    # Named after its target and its process (.mini.po.4242-k3j9x_2a.tmp): a write killed before
    # its rename leaves the file, and the next write of that target removes it once the process is gone.
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.{os.getpid()}-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp


def _remove_stale_temp_files(paths: Iterable[Path]) -> None:
    """Remove the temporary files that a write of one of ``paths``, killed (kill -9, a power cut)
    between writing and renaming, left beside it: those named after the target whose process is
    gone. A live process's are left alone, so two commands writing at once do not disturb each
    other. On POSIX only: elsewhere there is no harmless way to ask whether a process lives."""
    if os.name != "posix":
        return
    names: dict[Path, set[str]] = {}
    for path in paths:
        names.setdefault(path.parent, set()).add(path.name)
    for folder, targets in names.items():
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue  # not there yet: nothing was left in it
        for entry in entries:
            owner = _temp_owner(entry.name, targets)
            if owner is not None and not _alive(owner) and entry.is_file(follow_symlinks=False):
                Path(entry.path).unlink(missing_ok=True)


def _temp_owner(name: str, targets: set[str]) -> int | None:
    """The process that made ``name``, when it is a temporary file of one of ``targets``."""
    if not (name.startswith(".") and name.endswith(".tmp")):
        return None
    for target in targets:
        if name.startswith(f".{target}."):
            pid, dash, _random = name[len(target) + 2 : -len(".tmp")].partition("-")
            if dash and pid.isdigit():
                return int(pid)
    return None


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)  # signal 0: only asks (POSIX; callers check)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # another user's process: alive
    return True


def _write_new(path: Path, data: bytes) -> None:
    """A new file in a folder nobody else writes to (the staging tree), flushed to disk."""
    with open(path, "xb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(path, 0o644)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def work_dir(out: Path) -> Path:
    """The folder beside ``out`` that holds its lock, its next tree and its temp files."""
    return out.parent / f".{out.name}{WORK_SUFFIX}"


class OutputBusy(PolicygenError):
    """Another build holds the lock of the output folder (:func:`output_lock`)."""


@contextlib.contextmanager
def lock(path: Path, busy: str | PolicygenError, fix: str = "check that policygen may write to that folder") -> Iterator[None]:
    """Hold the lock file ``path``, or fail at once with ``busy`` (raised, or the message of a
    :class:`PolicygenError`); ``fix`` is said when the lock file cannot be made. The lock is the operating
    system's (flock, or LockFileEx on Windows): a process that dies, even by kill -9, releases
    it, so a stale lock file from a killed run never blocks the next one."""
    from filelock import FileLock, Timeout  # imported on first use: check and the CLI's start never lock

    if path.is_symlink():  # filelock would refuse it with a bare OSError (ELOOP); never open a lock through a link
        raise PolicygenError(f"{display_path(path)}: a symbolic link (to {os.readlink(path)}) where policygen keeps a lock file; remove it")
    held = FileLock(path, timeout=0)
    for attempt in (1, 2):
        try:
            # A folder policygen may not write to (a read-only file system, another user's) is
            # an error with its fix, as the lock file it cannot make is, not a traceback.
            path.parent.mkdir(parents=True, exist_ok=True)
            held.acquire()
            break
        except Timeout:
            raise (busy if isinstance(busy, PolicygenError) else PolicygenError(busy)) from None
        except FileNotFoundError:
            if attempt == 2:  # the folder was removed under us twice: report, do not loop
                raise
        except OSError as exc:
            raise PolicygenError(f"{display_path(path)}: cannot take the lock ({exc.strerror}); {fix}") from None
    try:
        yield
    finally:
        held.release()


@contextlib.contextmanager
def output_lock(out: Path) -> Iterator[Path]:
    """Lock the output folder ``out`` for one build; yields its work folder, cleared of what an
    interrupted build left there (a half-made tree, temp files)."""
    work = work_dir(out)
    # The work folder is policygen's own, and recover() deletes what it finds in it: through a
    # symlink (one committed with the project, say) that would write and delete outside.
    if work.is_symlink():
        raise PolicygenError(f"{display_path(work)}: a symbolic link (to {os.readlink(work)}) where policygen makes the next "
                             f"{display_path(out)}; policygen neither writes nor deletes through it: remove the link")
    if work.exists() and not work.is_dir():
        raise PolicygenError(f"{display_path(work)}: not a folder; policygen makes the next {display_path(out)} in a folder of this "
                             "name beside it: move the file away")
    busy = (f"{display_path(out)}: another build is writing into this folder (lock {display_path(work / 'lock')}); "
            "wait for it to finish, or build into another --output")
    with lock(work / "lock", OutputBusy(busy), f"policygen makes the next {display_path(out)} beside it, in {display_path(work)}: "
              "choose an --output in a folder you may write to"):
        recover(out)
        yield work


def recover(out: Path) -> None:
    """Finish or undo what a killed build left beside ``out``. Call it holding the lock."""
    work = work_dir(out)
    new, old = work / "new", work / "old"
    if not out.exists() and (work / "ready").exists() and new.is_dir() and not new.is_symlink():
        os.rename(new, out)  # killed between the two renames of the fallback switch: finish it
    elif not out.exists() and old.is_dir() and not old.is_symlink():
        os.rename(old, out)
    for leftover in (new, old, work / "tmp"):
        if leftover.is_symlink():
            leftover.unlink()  # a link no build made: removed, never followed
        elif leftover.is_dir():
            shutil.rmtree(leftover)
    (work / "ready").unlink(missing_ok=True)


@dataclass
class Published:
    """What :func:`publish` did, as paths relative to the output folder."""

    written: list[str] = field(default_factory=list)
    """Files whose bytes changed (or are new)."""
    unchanged: list[str] = field(default_factory=list)
    """Files given whose bytes were already there (kept as they were, modification time too)."""
    removed: list[str] = field(default_factory=list)
    """Files of ``drop`` that were there and are gone."""


def publish(out: Path, root: Path, files: dict[str, bytes], drop: set[str]) -> Published:
    """Replace the output folder ``out`` (under ``root``) in one step: ``files`` (relative
    POSIX paths -> bytes) as given, the files of ``drop`` gone, every other file and folder of
    the old ``out`` (a site's own files) kept. Call it inside :func:`output_lock`.

    The new tree is made in the work folder, flushed to disk, and swapped with ``out`` in one
    atomic rename (``renameat2(RENAME_EXCHANGE)`` on Linux). Where the system has no atomic
    swap, ``out`` is renamed away and the new tree renamed in; a crash between the two renames
    is finished by the next build (:func:`recover`)."""
    out = contained(out, root)
    work = work_dir(out)
    new = work / "new"
    new.mkdir(parents=True)
    result = Published()
    try:
        _carry_over(out, new, files, drop, result)
        for rel, data in sorted(files.items()):
            target = contained(new / rel, new)
            if target.is_dir():
                raise PolicygenError(f"{display_path(out / rel)}: cannot write the output: a folder stands where policygen must write a file; "
                                     "move it away (nothing was changed)")
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
            except (FileExistsError, NotADirectoryError):
                raise PolicygenError(f"{display_path(out / rel)}: cannot write the output: a file of the site stands where policygen needs a "
                                     "folder; move it away (nothing was changed)") from None
            old = out / rel
            if _same_file_bytes(old, data):
                _link_or_copy(old, target)
                result.unchanged.append(rel)
            else:
                _write_new(target, data)
                result.written.append(rel)
        _drop_emptied_folders(new, result.removed)
        _fsync_folders(new)
        _switch(new, out, work)
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
    shutil.rmtree(new, ignore_errors=True)  # the old tree, after the swap
    return result


def _carry_over(out: Path, new: Path, files: dict[str, bytes], drop: set[str], result: Published) -> None:
    """Hard-link (or copy) every file of ``out`` that stays into ``new``; folders and symlinks
    of the site are made again as they were (a symlink is copied, never followed)."""
    if not out.is_dir():
        return
    os.chmod(new, stat.S_IMODE(out.stat().st_mode))
    for folder, dirs, names in os.walk(out):
        rel_folder = Path(folder).relative_to(out)
        for name in dirs:
            source = Path(folder) / name
            if source.is_symlink():
                os.symlink(os.readlink(source), new / rel_folder / name)
            else:
                (new / rel_folder / name).mkdir()
                os.chmod(new / rel_folder / name, stat.S_IMODE(source.stat().st_mode))
        dirs[:] = [d for d in dirs if not (Path(folder) / d).is_symlink()]
        for name in names:
            rel = (rel_folder / name).as_posix()
            source = Path(folder) / name
            if rel in files:
                continue
            if rel in drop:
                result.removed.append(rel)
                continue
            if source.is_symlink():
                os.symlink(os.readlink(source), new / rel)
            else:
                _link_or_copy(source, new / rel)


def _drop_emptied_folders(new: Path, removed: list[str]) -> None:
    """Remove the folders of ``new`` that held only files a build dropped (a draft's folder once
    its version is in force, a deleted policy's or locale's), so that a rebuilt tree is the tree a
    build into an empty folder makes. Other folders, a site's own empty ones too, stay."""
    for rel in sorted(removed, reverse=True):
        folder = (new / rel).parent
        while folder != new and not folder.is_symlink() and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent


def _same_file_bytes(path: Path, data: bytes) -> bool:
    try:
        return not path.is_symlink() and path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _fsync_folders(tree: Path) -> None:
    if sys.platform == "win32":
        return  # folders cannot be opened for fsync on Windows; NTFS journals the renames
    for folder, _dirs, _names in os.walk(tree):
        _fsync_dir(Path(folder))


def _fsync_dir(folder: Path) -> None:
    if sys.platform == "win32":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _switch(new: Path, out: Path, work: Path) -> None:
    if not out.exists():
        os.rename(new, out)
    elif not _exchange(new, out):
        (work / "ready").touch()
        _fsync_dir(work)
        os.rename(out, work / "old")
        os.rename(new, out)
        os.rename(work / "old", new)
        (work / "ready").unlink()
    _fsync_dir(out.parent)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one atomic step; False where the system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes  # only when a folder is swapped (a build's output, a release)

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False  # a file system without the swap: use the two renames
    raise OSError(code, os.strerror(code), str(b))
