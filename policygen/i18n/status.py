"""Translation workflow: catalogs + sources -> status, structural checks, the publishing gate.

Takes a loaded :class:`~policygen.model.Project` and its :class:`~policygen.i18n.catalogs.Translations`
and answers the questions a legal team and its translators ask before publishing:

* :func:`status`: for each policy (and the shared glossary) and locale, how many messages are
  translated, fuzzy, missing and obsolete, and what share of the words is publishable;
* :func:`check`: does every translation keep its source's placeholders, link targets and
  markup (bold, emphasis, links, code)?
* :func:`gate`: which blocks stop a locale from being published, each with its PO file and line.

A translation counts only when it is not fuzzy: a fuzzy one was written for an older source
text, and publishing it would show a user something the source no longer says.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from policygen.errors import Collector
from policygen.i18n.catalogs import GLOSSARY_DOMAIN, Translations, sources, targets
from policygen.i18n.translations import is_notes
from policygen.model import LABELLED_KINDS, PLACEHOLDER_RE, Project
from policygen.source.placeholders import kept
from policygen.source.prose import parse_inline, placeholder_names

if TYPE_CHECKING:
    from markdown_it.token import Token

_WORD = re.compile(r"\w+", re.UNICODE)


def word_count(text: str) -> int:
    """Words of a source text, placeholders not counted.

    Khmer writes no spaces between words, so this counts Khmer runs as one word each; the
    sources policygen ships are English and Dutch, where the count is the usual one.
    """
    return len(_WORD.findall(PLACEHOLDER_RE.sub(" ", text)))


@dataclass
class Status:
    """How far one catalog is: the numbers ``i18n status`` prints."""

    domain: str
    locale: str
    path: Path
    translated: int = 0
    fuzzy: int = 0
    missing: int = 0
    obsolete: int = 0
    words: int = 0
    publishable_words: int = 0

    @property
    def total(self) -> int:
        return self.translated + self.fuzzy + self.missing

    @property
    def publishable_share(self) -> float:
        return self.publishable_words / self.words if self.words else 1.0

    @property
    def complete(self) -> bool:
        return self.fuzzy == 0 and self.missing == 0

    def as_json(self, root: Path) -> dict[str, object]:
        return {
            "catalog": self.domain, "locale": self.locale, "path": self.path.relative_to(root).as_posix(),
            "translated": self.translated, "fuzzy": self.fuzzy, "missing": self.missing, "obsolete": self.obsolete,
            "words": self.words, "publishable_words": self.publishable_words,
            "publishable_share": round(self.publishable_share, 4), "complete": self.complete,
        }


@dataclass(frozen=True, slots=True)
class Gap:
    """One message that keeps a locale from being complete."""

    domain: str
    locale: str
    context: str
    msgid: str
    state: str
    """``fuzzy`` or ``missing``."""
    path: Path
    line: int
    source_path: Path | None = None
    source_line: int = 0


@dataclass
class Report:
    """Every catalog's numbers, and every message that keeps a locale from being complete."""

    root: Path
    """The project folder; paths in :meth:`as_json` are relative to it."""
    statuses: list[Status] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """True when every catalog is publishable (nothing missing or fuzzy)."""
        return all(row.complete for row in self.statuses)

    def as_json(self) -> dict[str, object]:
        """The report as ``i18n status --format json`` prints it."""
        gaps = [{"catalog": g.domain, "locale": g.locale, "context": g.context, "state": g.state,
                 "path": g.path.relative_to(self.root).as_posix(), "line": g.line} for g in self.gaps]
        return {"complete": self.complete, "catalogs": [row.as_json(self.root) for row in self.statuses], "gaps": gaps}


def _sources(project: Project) -> dict[str, list[tuple[str, str, Path | None, int]]]:
    """For each catalog domain: its current messages (context, msgid, source file, line)."""
    return {domain: [(context, msgid, path, line) for context, msgid, path, line in items] for domain, items in sources(project).items()}


def status(project: Project, translations: Translations, locales: list[str] | None = None) -> Report:
    """Count every catalog's messages and list the gaps, in a stable order."""
    report = Report(project.root)
    sources = _sources(project)
    for domain, locales_of in targets(project):
        counts: dict[str, int] = {}  # a message's words, counted once for all its locales
        for locale in locales_of:
            if (locales is not None and locale not in locales) or (domain, locale) in translations.unreadable:
                continue
            path = translations.paths.get((domain, locale), project.catalog_path(locale, domain))
            row = Status(domain, locale, path, obsolete=translations.obsolete.get((domain, locale), 0))
            for context, msgid, source_path, source_line in sources[domain]:
                if msgid not in counts:
                    counts[msgid] = word_count(msgid)
                words = counts[msgid]
                row.words += words
                entry = translations.entry(domain, locale, context, msgid)
                if entry is not None and entry.usable:
                    row.translated += 1
                    row.publishable_words += words
                    continue
                state = "fuzzy" if entry is not None and entry.fuzzy else "missing"
                if state == "fuzzy":
                    row.fuzzy += 1
                else:
                    row.missing += 1
                report.gaps.append(Gap(domain, locale, context, msgid, state, path, entry.line if entry else 0, source_path, source_line))
            # Messages whose source is gone but 'i18n update' has not yet made obsolete.
            current = {(c, m) for c, m, _p, _l in sources[domain]}
            row.obsolete += sum(1 for key in translations.entries.get((domain, locale), {}) if key not in current)
            report.statuses.append(row)
    return report


def gate(project: Project, translations: Translations, locales: list[str] | None, errors: Collector) -> None:
    """Report every block that keeps a published locale incomplete (the publishing gate)."""
    needed = {(p.id, loc) for p in project.policies.values() for loc in p.target_locales if locales is None or loc in locales}
    glossary_locales = {loc for _p, loc in needed}
    for gap in status(project, translations, locales).gaps:
        if gap.domain == GLOSSARY_DOMAIN:
            if gap.locale not in glossary_locales or not _label_used(project, gap.context):
                continue
            what = f"glossary label '{gap.context}'"
        else:
            # A release's notes wait for their translation on the archive page, in their own language.
            if (gap.domain, gap.locale) not in needed or is_notes(gap.context):
                continue
            what = f"clause '{gap.context}'"
        where = f" (source: {gap.source_path.relative_to(project.root).as_posix()}:{gap.source_line})" if gap.source_path and gap.line == 0 else ""
        if gap.state == "fuzzy":
            message = f"{what} is fuzzy: its source text changed since it was translated; review the translation and remove the fuzzy flag"
        elif gap.line:
            message = f"{what} is not translated"
        else:
            message = f"{what} is not in the catalog{where}; run 'policygen i18n update', then translate it"
        errors.add(gap.path, gap.line, f"[{gap.locale}] {message}")


def _label_used(project: Project, context: str) -> bool:
    """Whether a page shows this label. Policy names and noun forms appear only in notices,
    which check their own translations (:mod:`policygen.changes.notices`)."""
    kind, _, ident = context.partition(":")
    if kind not in LABELLED_KINDS or ":" in ident:
        return False
    return any(policy.facts.find(kind, ident) is not None for policy in project.policies.values())


# --- structural checks -------------------------------------------------------------------------

_MARKUP = {"strong_open": "bold (**…**)", "em_open": "emphasis (*…*)", "link_open": "link", "code_inline": "code (`…`)"}


def structure(children: list[Token]) -> tuple[Counter[str], Counter[str], Counter[str]]:
    """Placeholders, link targets and markup of one message's inline tokens."""
    links = Counter(str(c.attrGet("href")) for c in children if c.type == "link_open")
    markup = Counter(c.type for c in children if c.type in _MARKUP)
    return Counter(placeholder_names(children)), links, markup


def check(project: Project, translations: Translations, locales: list[str] | None = None) -> Collector:
    """Compare every translation with its source; problems are reported at the PO line."""
    errors = Collector()
    sources = _sources(project)
    for domain, locales_of in targets(project):
        for locale in locales_of:
            if locales is not None and locale not in locales:
                continue
            for context, msgid, _path, _line in sources[domain]:
                entry = translations.entry(domain, locale, context, msgid)
                if entry is None or not entry.text.strip():
                    continue
                for problem in compare(msgid, entry.text):
                    label = "glossary label" if domain == GLOSSARY_DOMAIN else "clause"
                    errors.add(entry.path, entry.line, f"{label} '{context}': {problem}")
    return errors


def compare(source: str, translation: str) -> list[str]:
    """What a translation lost or changed relative to its source, in words for a translator."""
    want_ph, want_links, want_markup = structure(parse_inline(source))
    got_ph, got_links, got_markup = structure(parse_inline(translation))
    problems = []
    problems += kept(want_ph.elements(), got_ph.elements())
    for href in sorted((want_links - got_links).elements()):
        problems.append(f"drops or changes the link target '{href}'; link targets are never translated")
    for href in sorted((got_links - want_links).elements()):
        problems.append(f"links to '{href}', which the source does not")
    for kind in _MARKUP:
        if kind == "link_open":
            continue  # reported above, by target
        if want_markup[kind] != got_markup[kind]:
            problems.append(f"has {got_markup[kind]} {_MARKUP[kind]} where the source has {want_markup[kind]}; keep the same markup")
    return problems
