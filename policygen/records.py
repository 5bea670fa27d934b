"""Records of commands run on a whole project: the key of such a run, and the record of the last
check that passed.

The key of a run (:func:`project_key`) holds the names and bytes of every input file of the
project (:data:`INPUTS`), the command's options, policygen's own code, Python's version and the
versions of the libraries that can change the result. A check that passes is recorded under its
key (:func:`record_check`); the next check with the same key answers from the record
(:func:`recorded_check`) without loading anything. This module imports no stage, so that answer
costs a start-up and the hashing of the project's files, not the imports of the loader, the
translator and the renderer (issue 13); :func:`policygen.build.check` does the work on a miss.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policygen.cache import Cache, code_digest, file_digest, files_digest, folder_digest, key, package_version
from policygen.errors import Diagnostic

CONFIG_FILE = "policygen.yaml"
"""The file that makes a folder a policygen project (:func:`policygen.source.load.find_project`)."""
INPUTS = (CONFIG_FILE, "glossary.yaml", "rules.yaml", "sources", "locales", "theme", "archive")
"""Everything in a project a build reads (the archive's locks and unfinished releases aside)."""
RENDER_PACKAGES = ("weasyprint", "pydyf", "fonttools", "fontpkg-noto-sans", "fontpkg-noto-sans-khmer", "khmercut", "jinja2",
                   "markdown-it-py", "babel", "feedgen", "lxml", "pyyaml", "translate-toolkit", "polib")
"""The libraries whose version can change what a build writes."""
CHECKS = "check"
"""The cache's folder of the record of the last check that passed (apart from the build's
entries, which a full build prunes)."""
CHECK_PACKAGES = (*RENDER_PACKAGES, "jsonschema")
"""The libraries whose version can change what a check finds (jsonschema words the schema errors)."""


def project_key(kind: str, root: Path, options: dict[str, Any], packages: Iterable[str]) -> str:
    """The key of a command run on the whole project: the names and bytes of every input file
    (:data:`INPUTS`), ``options``, policygen's code, Python's version and the versions of ``packages``."""
    paths: list[Path] = []
    for name in INPUTS:
        path = root / name
        if path.is_dir() and not path.is_symlink():
            paths += sorted(p for p in path.rglob("*") if (p.is_symlink() or not p.is_dir())
                            and not any(part.startswith((".lock", ".release-")) for part in p.parts))
        else:
            paths.append(path)
    # A symbolic link counts by where it points and, when that lies in the project (where the
    # loader reads through it), by the bytes of the file or folder it leads to; never by bytes
    # outside the project (the loader refuses those links itself).
    inside = root.resolve()
    links = []
    for link in (p for p in paths if p.is_symlink()):
        try:
            target = link.resolve()
        except RuntimeError:  # a loop of links, which the loader reads nothing through
            links.append(f"{link.relative_to(root).as_posix()}->{os.readlink(link)} loop")
            continue
        led_to = "" if not target.is_relative_to(inside) else folder_digest(target) if target.is_dir() else file_digest(target).hex()
        links.append(f"{link.relative_to(root).as_posix()}->{os.readlink(link)} {led_to}")
    return key(kind, code_digest(), sys.version, *(package_version(name) for name in packages), json.dumps({**options, "links": links}),
               files_digest([p for p in paths if not p.is_symlink()], root))


@dataclass(frozen=True)
class Checked:
    """What a check of a sound project found."""

    policies: tuple[str, ...]
    """The policies checked."""
    locales: tuple[str, ...]
    """The locales the project publishes."""
    warnings: tuple[Diagnostic, ...]
    """What does not stop a build: facts the policies do not model, prose that names what no fact covers."""
    recorded: bool = False
    """Whether this is the record of an earlier check of the very same inputs (nothing was loaded)."""


def check_key(root: Path, allow_incomplete: bool | None) -> str:
    """The key a check of the project at ``root`` is recorded under."""
    return project_key("check", root, {"allow_incomplete": allow_incomplete}, CHECK_PACKAGES)


def recorded_check(root: Path, allow_incomplete: bool | None = None, whole: str | None = None) -> Checked | None:
    """The record of the last check of the project at ``root`` that passed, when every input,
    the option, policygen's code and the libraries are unchanged since; else None (nothing
    recorded, a changed input, a damaged record, or no project at ``root``). ``whole``: the
    check's key, when the caller has it already."""
    if not (root / CONFIG_FILE).is_file():
        return None
    records = Cache(root, part=CHECKS)
    entry = records.get(whole or check_key(root, allow_incomplete))
    if entry is None:
        return None
    try:
        data = json.loads(entry)
        warnings = tuple(Diagnostic(records.root / path if not Path(path).is_absolute() else Path(path), line, message)
                         for path, line, message in data["warnings"])
        return Checked(tuple(data["policies"]), tuple(data["locales"]), warnings, recorded=True)
    except (ValueError, KeyError, TypeError):
        return None


def record_check(root: Path, whole: str, checked: Checked, allow_incomplete: bool | None) -> None:
    """Record ``checked``, a check that passed, under ``whole``, the key its inputs had when it
    began; only when they still have it (no input changed while it ran: the record must say what
    its key's files say). The one record replaces the one before."""
    if check_key(root, allow_incomplete) != whole:
        return
    records = Cache(root, part=CHECKS)
    rows = [[_relative(w.path, records.root), w.line, w.message] for w in checked.warnings]
    records.put({whole: json.dumps({"policies": checked.policies, "locales": checked.locales, "warnings": rows}).encode("utf-8")})
    records.prune([whole])  # one record: the last check that passed
    records.close()


def _relative(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` when inside it (the record stays right when the project moves)."""
    absolute = path if path.is_absolute() else Path.cwd() / path
    return absolute.relative_to(root).as_posix() if absolute.is_relative_to(root) else absolute.as_posix()
