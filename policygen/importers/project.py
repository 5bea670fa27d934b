"""Import stage: an existing policy (plain text, HTML or Markdown) -> a source skeleton.

Takes a file a legal team already has and writes ``sources/<id>/policy.md`` (the text,
structured into a title, nested sections, paragraphs and lists, every block with a stable
slug ID) and ``sources/<id>/policy.yaml`` (the facts that could be read reliably: the
effective date, contact addresses; everything else left for a person to fill in). It also
returns an :class:`ImportReport` listing what was recognized, what is only *suggested* (with
the sentence it came from), and what must be filled in before ``policygen check`` passes.

Facts cannot be read reliably from prose, so durations, ages, data categories and words that
mark sensitive data are suggestions, never facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from policygen.atomic import contained, write_all
from policygen.errors import PolicygenError
from policygen.importers.read import (
    Block,
    blocks_from_html,
    blocks_from_markdown,
    blocks_from_text,
    read_input,
)
from policygen.importers.structure import DATE_LINE, only_a_date, parse_date, structure
from policygen.importers.suggest import EMAIL, URL, Suggestion, facts_yaml, suggest
from policygen.model import SUPPORTED_LOCALES, is_safe_slug
from policygen.source.load import CONFIG_FILE, find_project


@dataclass
class ImportReport:
    """What an import recognized, suggests, and leaves to a person."""

    source: Path
    policy_id: str
    locale: str
    format: str
    title: str
    title_guessed: bool
    sections: int = 0
    top_sections: int = 0
    paragraphs: int = 0
    list_items: int = 0
    nested_items: int = 0
    effective_date: tuple[date, int, str] | None = None
    contacts: list[tuple[str, str, int]] = field(default_factory=list)
    suggestions: list[Suggestion] = field(default_factory=list)
    todo: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)

    def render(self) -> str:
        """The report as Markdown, for the terminal and for ``import-report.md``."""
        lines = [f"# Import report: {self.policy_id}", "", f"Source: `{self.source.name}` ({self.format}), language: {self.locale}", "",
                 "## Recognized", ""]
        lines.append(f"- title: {self.title}" + (" (guessed: the file has no title line; check it)" if self.title_guessed else ""))
        lines.append(f"- {self.sections} sections ({self.top_sections} top-level), {self.paragraphs} paragraphs, "
                     f"{self.list_items} list items ({self.nested_items} nested)")
        if self.effective_date:
            when, line, sentence = self.effective_date
            lines.append(f"- effective date: {when.isoformat()} (line {line}: \"{sentence}\")")
        else:
            lines.append("- effective date: not found")
        for kind, value, line in self.contacts:
            lines.append(f"- contact ({kind}): {value} (line {line})")
        lines += ["", "## Suggestions (confirm before you turn them into facts)", ""]
        if not self.suggestions:
            lines.append("- none")
        for s in self.suggestions:
            lines.append(f"- {s.kind}: **{s.value}** (line {s.line}: \"{_clip(s.sentence)}\")")
        lines += ["", "## To fill in before `policygen check` passes", ""]
        lines += [f"- {item}" for item in self.todo]
        lines.append("")
        return "\n".join(lines)


def _clip(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def import_policy(project_root: Path, source: Path, policy_id: str, locale: str, force: bool = False) -> ImportReport:
    """Import ``source`` into ``project_root/sources/<policy_id>/``. Nothing is written on error."""
    root = find_project(project_root)
    if not is_safe_slug(policy_id):
        raise PolicygenError(f"policy ID '{policy_id}' is not a safe slug; use lowercase letters, digits and single hyphens (like 'acme-privacy')")
    if locale not in SUPPORTED_LOCALES:
        raise PolicygenError(f"unknown language '{locale}'; policygen supports {', '.join(SUPPORTED_LOCALES)}")
    folder = root / "sources" / policy_id
    contained(folder, root)  # a symlinked sources/ or sources/<id> leading out of the project is refused
    if folder.exists() and not folder.is_dir():
        raise PolicygenError(f"{folder}: exists and is not a folder; remove it or choose another --policy")
    if folder.exists() and not force:
        raise PolicygenError(f"{folder}: a policy with this ID exists; choose another --policy, or pass --force to replace its files")
    text, fmt = read_input(source)
    blocks = {"html": blocks_from_html, "markdown": blocks_from_markdown}.get(fmt, blocks_from_text)(text)
    if not blocks:
        raise PolicygenError(f"{source}: no text found to import")
    effective = None
    body: list[Block] = []
    for block in blocks:
        m = DATE_LINE.match(block.text) if block.kind in ("paragraph", "heading") else None
        when = parse_date(m.group(2)) if m else None
        if m and when and effective is None:
            effective = (when, block.line, block.text)
            if only_a_date(m.group(2)):
                continue  # the page shows the effective date itself; a longer block stays
        body.append(block)
    contacts: list[tuple[str, str, int]] = []
    for block in blocks:
        for email in EMAIL.findall(block.text):
            if all(email != value for _k, value, _l in contacts):
                contacts.append(("email", email, block.line))
        for url in URL.findall(block.text):
            url = url.rstrip(".,;:")
            full = url if url.lower().startswith("http") else "https://" + url
            if "@" not in url and all(full != value for _k, value, _l in contacts):
                contacts.append(("url", full, block.line))
    skeleton = structure(body, locale, markdown=fmt == "markdown")
    suggestions = suggest(blocks)
    report = ImportReport(source, policy_id, locale, fmt, skeleton.title, skeleton.title_guessed, skeleton.sections,
                          skeleton.top_sections, skeleton.paragraphs, skeleton.items, skeleton.nested,
                          effective, contacts, suggestions)
    report.todo = [
        "controller.name and controller.address in policy.yaml",
        *([] if any(k in ("email", "url") for k, _v, _l in contacts) else ["controller.email, .phone or .url (no address was found in the text)"]),
        *([] if effective else ["effective_date (no 'Last updated' date was found)"]),
        "minimum_age" + (" (suggested: "
            f"{next(s.value for s in suggestions if s.kind == 'minimum age')})" if any(s.kind == "minimum age" for s in suggestions) else ""),
        "risk.level and risk.assessed_on",
        "recommended: data_categories, purposes, recipients, transfers, retention, rights and complaints, as facts "
        "(labels in glossary.yaml), so that 'policygen diff' can grade changes; then use placeholders in the prose",
    ]
    config = yaml.safe_load((root / CONFIG_FILE).read_text(encoding="utf-8")) or {}
    if locale not in (config.get("locales") or []):
        report.todo.insert(0, f"add '{locale}' to 'locales' in policygen.yaml")
    files = {
        folder / "policy.md": skeleton.markdown.encode("utf-8"),
        folder / "policy.yaml": facts_yaml(locale, effective[0] if effective else None, contacts, suggestions).encode("utf-8"),
        folder / "import-report.md": report.render().encode("utf-8"),
    }
    report.written = sorted(files)
    try:
        write_all(files, root)
    except OSError as exc:
        raise PolicygenError(f"{exc.filename or folder}: cannot write ({exc.strerror}); nothing was written") from None
    return report
