"""Writing files: atomically, all or nothing, and only when their bytes change.

:func:`write_all` writes a set of files in two phases. First every changed file is written to
a temporary file beside its target and flushed to disk; if any of that fails (a full disk, a
permission, a folder where a file should go), the temporary files are removed and no target
has changed. Then each temporary file replaces its target in one rename. A crash during the
renames leaves each file either old or new, never half-written. Unchanged files are not
touched, so their modification times stay put and website deploys stay small.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


def write_all(files: dict[Path, bytes]) -> list[Path]:
    """Write every file or none of them. Returns the paths whose bytes changed, in order."""
    staged: list[tuple[Path, str]] = []
    try:
        for path, data in sorted(files.items()):
            try:
                if path.read_bytes() == data:
                    continue
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                pass
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            staged.append((path, tmp))
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o644)
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


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
