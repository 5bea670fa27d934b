"""Two documents -> two project versions, for ``policygen diff old.html new.md``.

A legal team often has only two files: last year's policy as a web page and this year's as a
Word export. Each goes through the same import as ``policygen import`` (so the same repairs and
the same skeleton), into a temporary project; the new version is imported over the old one as
``import --update`` does, so a clause keeps its ID when its text matches and the diff compares
the right paragraphs. The contacts the import reads are facts of both versions, so contact changes
are graded as in a project; the controller is left out (a name one version's sentence gives in a
pattern the import knows and the next one words differently is no change of controller).
"""

from __future__ import annotations

import contextlib
import re
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from policygen.errors import PolicygenError
from policygen.importers.facts import Found, facts_yaml
from policygen.importers.project import Converted, convert
from policygen.memory import long_lived
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
    with tempfile.TemporaryDirectory(prefix="policygen-diff-") as tmp, long_lived() as imported:
        roots = (Path(tmp) / "old", Path(tmp) / "new")
        imports: list[Converted] = []
        previous = None
        for source in (old, new):
            imports.append(convert(source, DOCUMENT_ID, locale, today, previous, "contacts", version=_version(source), suggestions=False))
            previous = imports[-1].written
        imported()
        for root, converted, other in zip(roots, imports, reversed(imports), strict=True):
            folder = root / "sources" / DOCUMENT_ID
            folder.mkdir(parents=True)
            (root / CONFIG_FILE).write_text(f"site:\n  title: {DOCUMENT_ID}\nlocales: [{locale}]\n", encoding="utf-8")
            (folder / PROSE_FILE).write_text(converted.markdown, encoding="utf-8")
            found = _shared_contacts(converted, other)
            (folder / FACTS_FILE).write_text(facts_yaml(locale, converted.dated, today, None, found, _version(old if root == roots[0] else new)),
                                             encoding="utf-8")
        yield roots[0], roots[1], imports


def _shared_contacts(converted: Converted, other: Converted) -> list[Found]:
    """The contacts of one version: those its import found, and those the other version's import
    found whose value this version's text gives too. The import reads a contact only in a contact
    context (a heading, a cue word), so the same unchanged line can be read as a contact in one
    version and not in the other; that is no change of contact."""
    own = {f.id for f in converted.contacts}
    text = _words(converted.markdown)
    extra = [f for f in other.contacts if f.id not in own and f" {_words(re.sub(r'^https?://', '', f.value))} " in f" {text} "]
    return [*converted.contacts, *extra]


def _words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))
