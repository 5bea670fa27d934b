"""Two documents -> two project versions, for ``policygen diff old.html new.md``.

A legal team often has only two files: last year's policy as a web page and this year's as a
Word export. Each goes through the same import as ``policygen import`` (so the same repairs and
the same skeleton), into a temporary project; the new version is imported over the old one as
``import --update`` does, so a clause keeps its ID when its text matches and the diff compares
the right paragraphs. Only the text is compared: the imported facts (controller, contacts) are
left out, because the prose analysis reads the same sentences they come from.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from policygen.errors import PolicygenError
from policygen.importers.project import Converted, convert
from policygen.model import SUPPORTED_LOCALES
from policygen.source.load import CONFIG_FILE, FACTS_FILE, PROSE_FILE

DOCUMENT_ID = "document"
"""The policy ID both imported versions get (the report and the redlines name it)."""


def is_document(spec: str) -> bool:
    """A diff argument that names a file (not a project folder, ``git:REV`` or ``POLICY@VERSION``)."""
    path = Path(spec)
    return not spec.startswith("git:") and path.is_file()


def _version(path: Path) -> str:
    label = re.sub(r"[^A-Za-z0-9._-]+", "-", path.name).strip("-._")[:32]
    return label if label and label[0].isalnum() else "document"


@contextlib.contextmanager
def document_versions(old: Path, new: Path, locale: str, today: date) -> Iterator[tuple[Path, Path, list[Converted]]]:
    """Project folders holding ``old`` and ``new`` as imported policies, and the two imports (their
    reports, and their prose as parsed: ``{c.markdown: c.document}`` spares loading a second parse)."""
    if locale not in SUPPORTED_LOCALES:
        raise PolicygenError(f"unknown language '{locale}'; policygen supports {', '.join(SUPPORTED_LOCALES)}")
    with tempfile.TemporaryDirectory(prefix="policygen-diff-") as tmp:
        roots = (Path(tmp) / "old", Path(tmp) / "new")
        imports = []
        previous = None
        for root, source in zip(roots, (old, new), strict=True):
            folder = root / "sources" / DOCUMENT_ID
            folder.mkdir(parents=True)
            (root / CONFIG_FILE).write_text(f"site:\n  title: {DOCUMENT_ID}\nlocales: [{locale}]\n", encoding="utf-8")
            converted = convert(source, DOCUMENT_ID, locale, today, previous, facts=False, version=_version(source), suggestions=False)
            (folder / PROSE_FILE).write_text(converted.markdown, encoding="utf-8")
            (folder / FACTS_FILE).write_text(converted.facts, encoding="utf-8")
            imports.append(converted)
            previous = converted.written
        yield roots[0], roots[1], imports
