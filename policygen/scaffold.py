"""``policygen init``: a folder -> a project that builds at once.

Copies the starter project shipped in ``policygen/data/starter/`` (config, glossary, one short
policy and its Dutch and Khmer catalogs), plus the JSON Schemas into ``.policygen/schema/`` so
that an editor validates ``policy.yaml`` while a person types it.
"""

from __future__ import annotations

from importlib.resources.abc import Traversable
from pathlib import Path

from policygen.atomic import write_all
from policygen.errors import PolicygenError
from policygen.resources import package_file, starter
from policygen.source.load import CONFIG_FILE


def _walk(node: Traversable, prefix: str = "") -> list[tuple[str, Traversable]]:
    files = []
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        if child.name == "__pycache__":
            continue
        rel = f"{prefix}{child.name}"
        if child.is_dir():
            files.extend(_walk(child, rel + "/"))
        else:
            files.append((rel, child))
    return files


def init_project(directory: Path) -> list[Path]:
    """Create a starter project in ``directory``. Refuses to overwrite an existing project."""
    if (directory / CONFIG_FILE).exists():
        raise PolicygenError(f"{directory / CONFIG_FILE}: a project already exists here; nothing was changed")
    if directory.exists() and not directory.is_dir():
        raise PolicygenError(f"{directory}: exists and is not a folder")
    planned = [(rel, node.read_bytes()) for rel, node in _walk(starter())]
    planned += [(f".policygen/schema/{name}.schema.json", package_file("schema", f"{name}.schema.json").read_bytes())
                for name in ("policy", "project", "glossary")]
    clashes = [rel for rel, _ in planned if (directory / rel).exists()]
    if clashes:
        raise PolicygenError(f"{directory}: would overwrite {', '.join(clashes)}; choose an empty folder")
    files = {directory / rel: data for rel, data in planned}
    if not (directory / ".gitignore").exists():
        # The build's lock (and a killed build's unfinished tree) and the build cache are local state.
        files[directory / ".gitignore"] = (b"/output/\n/.output.policygen/\n/.policygen/cache/\n/xliff/\n"
                                           b"archive/**/.lock\narchive/**/.release-*\n")
    try:
        return write_all(files, directory)
    except OSError as exc:
        raise PolicygenError(f"{exc.filename or directory}: cannot create the project ({exc.strerror}); nothing was written") from None
