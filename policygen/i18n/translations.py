"""What the catalogs hold once read: every translated message, by domain and locale.

Produced by :func:`policygen.i18n.catalogs.load_translations` and read by the ``localize``
stage, the status report and the publishing gate. Kept apart from the PO reading and writing so
that localizing never depends on how catalogs are stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

GLOSSARY_DOMAIN = "glossary"
NOTES_PREFIX = "release-notes:"
"""The ``msgctxt`` of a release's notes in its policy's catalog is this prefix and the version
(``release-notes:2.1``); a clause ID never holds a colon, so the two never meet."""


def flowed(text: str) -> str:
    """The msgid of a block's Markdown source: each soft line break (a paragraph wrapped in the
    editor, which renders as one line) is a space, so wrapping it again changes no message and
    no translation; a hard break (two spaces or a backslash before the line end) stays."""
    if "\n" not in text:
        return text
    lines = text.split("\n")
    result = lines[0]
    for previous, line in pairwise(lines):
        if previous.endswith(("  ", "\\")):
            result += "\n" + line
        else:
            result = result.rstrip(" \t") + " " + line.lstrip(" \t")
    return result


def notes_context(version: str) -> str:
    """The ``msgctxt`` of the notes of the release of ``version``."""
    return NOTES_PREFIX + version


def is_notes(context: str) -> bool:
    """Whether a message is a release's notes: translated like the rest, but never holding back
    a publication (an untranslated note shows in its own language, marked with it)."""
    return context.startswith(NOTES_PREFIX)


@dataclass(frozen=True, slots=True)
class Entry:
    """One message of a catalog and where it is written."""

    text: str
    path: Path
    line: int
    fuzzy: bool = False

    @property
    def usable(self) -> bool:
        """Publishable: translated, and not marked fuzzy (a fuzzy one was made for an older source)."""
        return not self.fuzzy and bool(self.text.strip())


@dataclass
class Translations:
    """Every translated message of a project, by domain and locale."""

    entries: dict[tuple[str, str], dict[tuple[str, str], Entry]] = field(default_factory=dict)
    """``(domain, locale) -> (msgctxt, msgid) -> Entry``, every active message."""
    obsolete: dict[tuple[str, str], int] = field(default_factory=dict)
    """``(domain, locale) ->`` how many obsolete (``#~``) messages the catalog keeps."""
    paths: dict[tuple[str, str], Path] = field(default_factory=dict)
    """``(domain, locale) ->`` the catalog file, whether or not it exists yet."""
    unreadable: set[tuple[str, str]] = field(default_factory=set)
    """Catalogs that could not be read (their errors are already reported)."""

    def get(self, domain: str, locale: str, context: str, msgid: str) -> Entry | None:
        """The publishable translation of a message, if there is one."""
        entry = self.entry(domain, locale, context, msgid)
        return entry if entry is not None and entry.usable else None

    def entry(self, domain: str, locale: str, context: str, msgid: str) -> Entry | None:
        """The catalog's message for this source text, fuzzy or empty ones included."""
        return self.entries.get((domain, locale), {}).get((context, msgid))
