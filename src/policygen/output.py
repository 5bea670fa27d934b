"""Writing files: atomically, and only when their bytes change.

Every file policygen writes goes through :func:`write_atomic`: the bytes go to a temporary
file in the same folder, are flushed to disk, and then replace the target in one rename. A
crash at any point leaves either the old file or the new one, never a mix. Unchanged files
are not touched, so their modification times stay put and website deploys stay small.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` atomically. Returns False when the file already held it."""
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
