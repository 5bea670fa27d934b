"""Where two versions come from: a project folder, ``git:REV``, or ``POLICY@VERSION`` of the archive.

Takes a spec as a user writes it and yields a project folder holding that version (a temporary
one for git revisions and archived releases), with the label the change report shows.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from policygen.archive.store import materialize, releases
from policygen.errors import PolicygenError
from policygen.source.load import load_project


def names_a_release(spec: str) -> bool:
    """Whether ``spec`` names an archived release (``policy@version``) as :func:`checkout` reads
    it: neither ``git:REV`` nor a path that exists."""
    return "@" in spec and not spec.startswith("git:") and not Path(spec).exists()


@contextlib.contextmanager
def checkout(spec: str, base: Path) -> Iterator[tuple[Path, str]]:
    """A project folder for ``spec``: a path as it is, or ``git:REV`` extracted from git.

    ``base`` is the project folder the command runs in; ``git:REV`` means that same folder as
    it was at revision REV of its repository.
    """
    if names_a_release(spec):
        policy, _, version = spec.partition("@")
        project = load_project(base)
        found = next((r for r in releases(project.root, policy) if r.version == version), None)
        if found is None:
            known = ", ".join(r.version for r in releases(project.root, policy)) or "none"
            raise PolicygenError(f"{spec}: no archived release {version} of {policy} (released: {known})")
        with materialize(found, project) as root:
            yield root, spec
        return
    if not spec.startswith("git:"):
        yield Path(spec), spec
        return
    revision = spec[4:]
    if not revision or revision.startswith("-"):
        raise PolicygenError(f"'{spec}' names no revision; write git:HEAD~1, git:v2.0 or git:<commit>")
    try:
        top = subprocess.run(["git", "-C", str(base), "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=True).stdout.strip()
        relative = base.resolve().relative_to(Path(top).resolve()).as_posix()
        archive = subprocess.run(["git", "-C", top, "archive", "--format=tar", revision, "--", relative if relative != "." else "."],
                                 capture_output=True, check=True).stdout
    except FileNotFoundError:
        raise PolicygenError("git is not installed; compare two folders instead of git revisions") from None
    except subprocess.CalledProcessError as exc:
        message = (exc.stderr.decode() if isinstance(exc.stderr, bytes) else exc.stderr or "").strip().splitlines()
        raise PolicygenError(f"{spec}: git could not provide this revision of {base}: {message[-1] if message else exc}") from None
    import tarfile  # only when a git revision is read

    with tempfile.TemporaryDirectory(prefix="policygen-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        yield Path(tmp) / relative, spec
