"""Import stage: an existing policy (plain text, HTML or Markdown) -> a source skeleton.

Takes a file a legal team already has and writes ``sources/<id>/policy.md`` (the text,
structured into a title, nested sections, paragraphs and lists, every block with a stable
slug ID) and ``sources/<id>/policy.yaml`` (the facts the text states reliably: the effective
date, the organisation responsible, contacts from contact contexts; every other fact left out,
which ``policygen check`` lists as warnings). The result passes ``policygen check`` as it is:
what check would refuse (images, in-page links, script links, raw HTML, empty headings, a
literal ``{{``) is repaired, and each repair is listed in the :class:`ImportReport`, with what
is only *suggested* (with the sentence it came from).

With ``update``, a new version of an already imported policy comes in over the old one: blocks
whose text matches an earlier clause keep that clause's ID, so the two versions diff cleanly, and
the placeholders a person wrote come back where their clause still says their value (each one
that does not is reported at its line).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from itertools import groupby
from pathlib import Path

from policygen.atomic import contained, write_all
from policygen.errors import Collector, PolicygenError
from policygen.i18n.catalogs import load_translations
from policygen.i18n.localize import Formatter
from policygen.importers.facts import Dated, Found, contacts, controller, effective_date, facts_yaml, hidden_emails
from policygen.importers.read import (
    Block,
    Repairs,
    blocks_from_html,
    blocks_from_markdown,
    blocks_from_text,
    escape,
    read_input,
    without_clause_ids,
    without_controls,
)
from policygen.importers.structure import Previous, Skeleton, drop_navigation, structure
from policygen.importers.suggest import Suggestion, suggest
from policygen.model import PLACEHOLDER_RE, SUPPORTED_LOCALES, Document, quoted, slug_problem
from policygen.source.files import read_source, read_yaml
from policygen.source.load import CONFIG_FILE, FACTS_FILE, PROSE_FILE, find_project, load_project
from policygen.source.placeholders import problem as placeholder_problem
from policygen.source.prose import parse_prose

MIN_POLICY_WORDS = 10
"""Below this many words of running text a page is reported as not a policy (a crawl failure, a menu)."""
_PRIVACY_WORDS = re.compile(r"\b(?:personal|privacy|data|information|gegevens|persoonsgegevens|privacy)\b", re.I)


@dataclass
class ImportReport:
    """What an import recognized, repaired, suggests, and leaves to a person."""

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
    controller: tuple[str, int] | None = None
    suggestions: list[Suggestion] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    todo: list[str] = field(default_factory=list)
    reused: int | None = None
    """With ``update``: how many sections and clauses kept their earlier IDs."""
    placeholders_kept: int | None = None
    """With ``update`` over a ``policy.md`` with placeholders: how many were put back (each one
    not put back is a line of :attr:`todo`)."""
    words: int = 0
    written: list[Path] = field(default_factory=list)

    def render(self) -> str:
        """The report as Markdown, for the terminal and for ``import-report.md``."""
        lines = [f"# Import report: {self.policy_id}", "", f"Source: `{self.source.name}` ({self.format}), language: {self.locale}", ""]
        if self.warnings:
            lines += ["## Warnings", "", *[f"- {w}" for w in self.warnings], ""]
        lines += ["## Recognized", ""]
        lines.append(f"- title: {self.title}" + (" (guessed: the file has no title line; check it)" if self.title_guessed else ""))
        lines.append(f"- {self.sections} sections ({self.top_sections} top-level), {self.paragraphs} paragraphs, "
                     f"{self.list_items} list items ({self.nested_items} nested), {self.words} words")
        if self.reused is not None:
            lines.append(f"- {self.reused} sections and clauses kept their IDs from the earlier import (matched by their text)")
        if self.placeholders_kept is not None:
            lines.append(f"- {self.placeholders_kept} placeholders written into the earlier policy.md kept (their clause still says their value)")
        if self.effective_date:
            when, line, sentence = self.effective_date
            lines.append(f"- effective date: {when.isoformat()} (line {line}: \"{_clip(sentence)}\")")
        else:
            lines.append("- effective date: not found")
        if self.controller:
            lines.append(f"- controller: {self.controller[0]} (line {self.controller[1]})")
        for kind, value, line in self.contacts:
            lines.append(f"- contact ({kind}): {value} (line {line})")
        lines += ["", "## Repairs (so that `policygen check` passes)", ""]
        lines += [f"- {r}" for r in self.repairs] or ["- none"]
        lines += ["", "## Suggestions (confirm before you turn them into facts)", ""]
        if not self.suggestions:
            lines.append("- none")
        for s in self.suggestions:
            lines.append(f"- {s.kind}: **{s.value}** (line {s.line}: \"{_clip(s.sentence)}\")")
        lines += ["", "## Still to do", ""]
        lines += [f"- {item}" for item in self.todo]
        lines.append("")
        return "\n".join(lines)


def _clip(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def read_blocks(source: Path, repairs: Repairs) -> tuple[list[Block], str]:
    """The blocks of ``source`` and its format; refuses files with no text."""
    text, fmt = read_input(source)
    text = without_controls(text, repairs)
    if fmt == "markdown":
        text = without_clause_ids(text, repairs)
    reader = {"html": blocks_from_html, "markdown": blocks_from_markdown}.get(fmt, blocks_from_text)
    try:
        blocks = reader(text, repairs)
    except PolicygenError as exc:
        raise PolicygenError(f"{source}: {exc}") from None
    if not blocks:
        raise PolicygenError(f"{source}: no text found to import")
    return blocks, fmt


@dataclass
class Converted:
    """A file turned into a skeleton, before anything is written."""

    report: ImportReport
    markdown: str
    facts: str
    written: Previous
    """Its sections and clauses, for importing a next version over it."""
    document: Document
    """``markdown`` as ``check`` parsed it (it passed): a file diff loads it without parsing it again."""
    dated: Dated | None = None
    contacts: list[Found] = field(default_factory=list)
    """The contacts the text gives (in ``facts`` unless ``facts`` is ``none``)."""


Progress = Callable[[str, int, int], None]
"""Told ``("import", done, total)`` as the steps of a large import (:data:`IMPORT_STEPS`) end."""

IMPORT_STEPS = 5
"""Reading the blocks, finding the facts, structuring and checking, suggesting facts, writing."""

LARGE_INPUT = 256 * 1024
"""An input of at least this many bytes takes seconds to import: its import tells how it advances."""


def convert(source: Path, policy_id: str, locale: str, today: date, previous: Previous | None = None, facts: str = "all",
            version: str = "1.0", suggestions: bool = True, progress: Progress | None = None) -> Converted:
    """Read, structure and repair ``source``: the ``policy.md`` and ``policy.yaml`` it becomes.
    ``facts``: ``all`` (the controller and the contacts the text gives), ``contacts`` (the contacts
    only), or ``none`` (the text alone);
    without ``suggestions``, the report suggests no facts (a file diff shows no import report).
    ``progress`` is told each of the first four :data:`IMPORT_STEPS` as it ends."""
    step = (lambda done: progress("import", done, IMPORT_STEPS)) if progress else (lambda done: None)
    repairs = Repairs()
    blocks, fmt = read_blocks(source, repairs)
    step(1)
    dated = effective_date(blocks)
    owner = controller(blocks, locale) if facts == "all" or suggestions else None  # a file diff compares no controller
    found = contacts(blocks, locale)
    body = [b for b in blocks if not (dated and b.line == dated.line and dated.alone and b.text == dated.sentence)]
    body = drop_navigation(body, repairs)
    step(2)
    skeleton, document = _checked(body, locale, previous, repairs)
    step(3)
    words = sum(len(b.text.split()) for b in body if b.kind in ("paragraph", "item") and len(b.text.split()) >= 5)
    report = ImportReport(source, policy_id, locale, fmt, skeleton.title, skeleton.title_guessed, skeleton.sections,
                          skeleton.top_sections, skeleton.paragraphs, skeleton.items, skeleton.nested,
                          (dated.when, dated.line, dated.sentence) if dated else None,
                          [(f.kind, f.value, f.line) for f in found], (owner.value, owner.line) if owner else None,
                          suggest(blocks) if suggestions else [], repairs.lines(), words=words)
    step(4)
    if previous is not None:
        report.reused = skeleton.reused
    if words < MIN_POLICY_WORDS or not any(_PRIVACY_WORDS.search(b.text) for b in body):
        report.warnings.append(f"this does not look like a privacy policy: {words} words of running text"
                               + (f" (\"{_clip(' '.join(b.text for b in blocks), 60)}\")" if words < MIN_POLICY_WORDS else "")
                               + "; was the page saved before it loaded, or is it only navigation?")
    report.todo = _todo(dated, owner, found, report.suggestions, hidden_emails(blocks))
    yaml_text = facts_yaml(locale, dated, today, owner if facts == "all" else None, found if facts != "none" else [], version)
    return Converted(report, skeleton.markdown, yaml_text, skeleton.written, document, dated, found if facts != "none" else [])


def _todo(dated: Dated | None, owner: Found | None, found: list[Found], suggestions: list[Suggestion],
          hidden: list[Found]) -> list[str]:
    todo = []
    if dated is None:
        todo.append("effective_date: the text gives none, so it is the day of the import; correct it in policy.yaml")
    elif not dated.exact:
        todo.append("effective_date: the text gives only the month; check the day in policy.yaml")
    if owner is None:
        todo.append("controller: the text names no organisation as responsible; add it to policy.yaml")
    if not found:
        todo.append("contacts: no e-mail, phone or contact address was found")
    for place in hidden:
        todo.append(f"line {place.line}: an e-mail address the page hid ('[email protected]', Cloudflare's e-mail protection; "
                    f"the text does not give it): write it in policy.md and, as a contact, in policy.yaml "
                    f"(\"{_clip(place.sentence)}\")")
    age = next((s.value for s in suggestions if s.kind == "minimum age"), None)
    todo.append("recommended: model data_categories, purposes, recipients, transfers, retention, rights, minimum_age"
                + (f" (suggested: {age})" if age else "") + ", complaints and risk as facts (labels in glossary.yaml), so that "
                "'policygen diff' can grade changes to them exactly; 'policygen check' lists what is missing")
    return todo


def _checked(blocks: list[Block], locale: str, previous: Previous | None, repairs: Repairs) -> tuple[Skeleton, Document]:
    """The skeleton and its parse, parsed back as ``check`` parses it; a block it still refuses is
    written as plain text."""
    for _attempt in range(3):
        skeleton = structure(blocks, locale, previous)
        errors = Collector()
        document = parse_prose(Path(PROSE_FILE), skeleton.markdown, lambda name: "no placeholders in an import", errors)
        if not errors and document is not None:
            return skeleton, document
        plain = 0
        for diagnostic in errors.items:
            block = skeleton.lines.get(diagnostic.line)
            if block is not None and block.markdown != escape(block.text):
                block.markdown = escape(block.text)
                plain += 1
        if not plain:
            break
        repairs.add("blocks written as plain text (their Markdown did not pass check)", 0, plain)
    shown = "; ".join(f"line {d.line}: {d.message}" for d in errors.items[:3])
    raise PolicygenError(f"the import could not be made to pass 'policygen check' ({shown}); please report this file")


@dataclass
class Placed:
    """A placeholder a person wrote into the earlier ``policy.md``."""

    written: str
    """As written: ``{{ retention.logs }}``."""
    name: str
    clause: str
    """The ID of its section or clause."""
    line: int
    """Its line in the earlier ``policy.md``."""
    values: tuple[str, ...] = ()
    """The texts it renders to in the policy's language (mid-sentence, then at a sentence start);
    none when the project does not load."""


@dataclass
class Earlier:
    """What ``update`` keeps of the policy already imported: its sections and clauses, with each
    placeholder's rendered text in place of the placeholder (so a clause is matched by what it
    says), and the placeholders a person wrote."""

    previous: Previous
    placed: list[Placed] = field(default_factory=list)
    unrendered: str = ""
    """Why no placeholder could be rendered (the project does not load), or ""."""


def previous_import(root: Path, folder: Path, policy_id: str) -> Earlier:
    """The sections and clauses of the policy already in ``folder``, and its placeholders, for ``update``."""
    errors = Collector()
    prose = folder / PROSE_FILE
    text = read_source(prose, errors)
    document = parse_prose(prose, text, lambda name: None, errors) if text is not None else None
    errors.raise_if_any()
    assert document is not None and text is not None
    earlier = Earlier(Previous())
    rendered: dict[str, tuple[str, ...]] = {}
    if PLACEHOLDER_RE.search(text):
        rendered, earlier.unrendered = _rendered_placeholders(root, policy_id, set(PLACEHOLDER_RE.findall(text)))
        starts = sorted((segment.line, segment.clause) for segment in (document.title, *document.segments))
        for number, line in enumerate(text.split("\n"), start=1):
            for match in PLACEHOLDER_RE.finditer(line):
                clause = next((c for at, c in reversed(starts) if at <= number), document.title.clause)
                earlier.placed.append(Placed(match.group(), match.group(1), clause, number, rendered.get(match.group(1), ())))

    def said(segment_text: str) -> str:
        return PLACEHOLDER_RE.sub(lambda m: rendered[m.group(1)][0] if rendered.get(m.group(1)) else m.group(), segment_text)

    for clause, segments in groupby(document.segments, key=lambda s: s.clause):
        parts = list(segments)
        if parts[0].kind == "heading":
            earlier.previous.sections[clause] = said(parts[0].text)
            parts = parts[1:]
        if parts:
            earlier.previous.clauses[clause] = "\n".join(said(s.text) for s in parts)
    return earlier


def _rendered_placeholders(root: Path, policy_id: str, names: set[str]) -> tuple[dict[str, tuple[str, ...]], str]:
    """Placeholder name -> the plain texts it renders to in the policy's language (as a reader of
    the built policy sees it, mid-sentence and at a sentence start), or why the project gives none."""
    try:
        project = load_project(root, [policy_id])
        policy = project.policies[policy_id]
        errors = Collector()
        # policy.md is written in the policy's own language, whatever --lang says
        formatter = Formatter(project, policy, policy.source_locale, load_translations(project, [policy.source_locale], errors))
    except PolicygenError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "it does not load"
        return {}, f"the project does not load, so their values are unknown ({first})"
    values: dict[str, tuple[str, ...]] = {}
    for name in sorted(names):
        if placeholder_problem(name, policy.facts) is not None:
            continue
        texts = [" ".join(formatter.render(name, as_html=False, sentence_start=start).split()) for start in (False, True)]
        values[name] = tuple(dict.fromkeys(t for t in texts if t))
    return values, ""


def restore_placeholders(markdown: str, earlier: Earlier, prose_path: str) -> tuple[str, list[str], list[str]]:
    """``markdown`` (a new import) with each placeholder a person wrote into the earlier import
    put back, where that is decidable: the section or clause with the same ID still says the text
    the placeholder rendered, as many times as the placeholder stood there, and nowhere inside a
    word. Returns the Markdown, what was kept, and one line per placeholder dropped
    (``path:line: ...``) for the report."""
    kept: list[str] = []
    if not earlier.placed:
        return markdown, kept, []
    lines = markdown.split("\n")
    spans = _id_spans(lines)
    by_block: dict[str, list[Placed]] = {}
    for placed in earlier.placed:
        by_block.setdefault(placed.clause, []).append(placed)
    reasons: list[tuple[Placed, str]] = []
    for clause, placed_here in by_block.items():
        for name in dict.fromkeys(p.name for p in placed_here):
            same = [p for p in placed_here if p.name == name]
            why = _restore(lines, spans.get(clause), same, earlier.unrendered)
            if why is None:
                kept.extend(f"{p.written} (clause '{clause}')" for p in same)
            else:
                reasons.extend((p, why) for p in same)
    restored = "\n".join(lines)
    if kept:
        # A value may stand where a placeholder may not (a link target): then none is put back.
        errors = Collector()
        parse_prose(Path(PROSE_FILE), restored, lambda name: None, errors)
        if errors.items:
            refused = f"put back, it would not pass check (line {errors.items[0].line}: {errors.items[0].message})"
            reasons = [(p, refused) for p in earlier.placed]
            restored, kept = markdown, []
    dropped = [f"{prose_path}:{p.line}: the placeholder {p.written} written here in the earlier version (git or the archive has it) "
               f"is not in the new text: {why}; write it in again where it belongs" for p, why in sorted(reasons, key=lambda pw: pw[0].line)]
    return restored, kept, dropped


def _id_spans(lines: list[str]) -> dict[str, tuple[int, int]]:
    """Section or clause ID -> the lines (start, end) of its text in an import's ``policy.md``."""
    spans: dict[str, tuple[int, int]] = {}
    at = 0
    while at < len(lines):
        heading = _HEADING_ID.match(lines[at])
        if heading:
            spans[heading.group(1)] = (at, at + 1)
        elif (block := _BLOCK_ID.match(lines[at])) is not None:
            end = at + 1
            while end < len(lines) and lines[end].strip():
                end += 1
            spans[block.group(1)] = (at + 1, end)
            at = end
            continue
        at += 1
    return spans


_HEADING_ID = re.compile(r"^#{1,6} .* \{#([a-z0-9-]+)\}$")
_BLOCK_ID = re.compile(r"^\{#([a-z0-9-]+)\}$")
_LINK_TARGET = re.compile(r"\]\([^()\s]*\)")
_HEADING_SUFFIX = re.compile(r" \{#[a-z0-9-]+\}$", re.M)
_ESCAPED_BY_IMPORT = set("\\`*_[]<>{}|&~#+=-")


def _restore(lines: list[str], span: tuple[int, int] | None, placed: list[Placed], unrendered: str) -> str | None:
    """Put ``placed`` (one placeholder, each place it stood in one clause) back into the clause's
    ``lines``: None when done, else why not."""
    if unrendered:
        return unrendered
    if span is None:
        return f"no section or clause of the new text has the ID '{placed[0].clause}' (its text changed too much to be matched)"
    if not placed[0].values:
        return f"'{placed[0].name}' renders nothing the text could carry"
    text = "\n".join(lines[span[0]:span[1]])
    why = ""
    # A link's target and a heading's {#ID} are no place for a placeholder: they are blanked
    # (keeping positions) before the search.
    searched = _LINK_TARGET.sub(lambda m: "](" + "\x00" * (len(m.group()) - 3) + ")", text)
    searched = _HEADING_SUFFIX.sub(lambda m: "\x00" * len(m.group()), searched)
    for value in placed[0].values:
        pattern = _value_pattern(value)
        found = list(pattern.finditer(searched))
        if len(found) == len(placed):
            # the person's own spelling of the placeholder, in the order they wrote it
            parts: list[str] = []
            last = 0
            for match, where in zip(found, placed, strict=True):
                parts += [text[last:match.start()], where.written]
                last = match.end()
            lines[span[0]:span[1]] = ("".join(parts) + text[last:]).split("\n")
            return None
        if found and not why:
            why = f"its value \"{value}\" is there {len(found)} times, where it stood {len(placed)} times, so which to replace is not clear"
    return why or f"the clause '{placed[0].clause}' no longer says its value \"{placed[0].values[0]}\""


def _value_pattern(value: str) -> re.Pattern[str]:
    """A rendered value as the import writes it: escaped where Markdown would read it, any run of
    spaces as a space or a line break, and not part of a longer word or number."""
    parts: list[str] = []
    for char in value:
        if char.isspace():
            if not parts or parts[-1] != r"\s+":
                parts.append(r"\s+")
        elif char in _ESCAPED_BY_IMPORT:
            parts.append(r"\\?" + re.escape(char))
        else:
            parts.append(re.escape(char))
    return re.compile(r"(?<![\w\\])" + "".join(parts) + r"(?!\w)")


def _config_locales(root: Path) -> list[str]:
    """The project's locales; a broken ``policygen.yaml`` is reported with its place, not a traceback."""
    errors = Collector()
    path = root / CONFIG_FILE
    loaded = read_yaml(path, errors)
    errors.raise_if_any()
    assert loaded is not None
    data, lines = loaded
    if not isinstance(data, dict):
        errors.add(path, 1, "policygen.yaml must be a mapping of settings (site:, locales:, ...); see docs/source-format.md")
        errors.raise_if_any()
    found = data.get("locales")
    if not isinstance(found, list):
        errors.add(path, lines.line(("locales",)) if "locales" in data else 1, "'locales' must be a list of locales, like [en, nl]")
        errors.raise_if_any()
    return [str(loc) for loc in found]


def import_policy(project_root: Path, source: Path, policy_id: str, locale: str, force: bool = False, update: bool = False,
                  today: date | None = None, progress: Progress | None = None) -> ImportReport:
    """Import ``source`` into ``project_root/sources/<policy_id>/``. Nothing is written on error.
    ``progress`` is told how the :data:`IMPORT_STEPS` advance when ``source`` is large (:data:`LARGE_INPUT`)."""
    root = find_project(project_root)
    problem = slug_problem(policy_id, "use lowercase letters, digits and single hyphens (like 'acme-privacy')")
    if problem:
        raise PolicygenError(f"policy ID {quoted(policy_id)} {problem}")
    if locale not in SUPPORTED_LOCALES:
        raise PolicygenError(f"unknown language '{locale}'; policygen supports {', '.join(SUPPORTED_LOCALES)}")
    locales = _config_locales(root)
    folder = root / "sources" / policy_id
    contained(folder, root)  # a symlinked sources/ or sources/<id> leading out of the project is refused
    if folder.exists() and not folder.is_dir():
        raise PolicygenError(f"{folder}: exists and is not a folder; remove it or choose another --policy")
    if update and not (folder / PROSE_FILE).is_file():
        raise PolicygenError(f"{folder}: no imported policy '{policy_id}' to update; import it first without --update")
    if folder.exists() and not force and not update:
        raise PolicygenError(f"{folder}: a policy with this ID exists; pass --update to bring in a new version of it (clause IDs kept), "
                             "--force to replace its files, or choose another --policy")
    earlier = previous_import(root, folder, policy_id) if update else None
    previous = earlier.previous if earlier else None
    try:
        large = source.stat().st_size >= LARGE_INPUT
    except OSError:
        large = False  # reading it says what is wrong
    progress = progress if large else None
    converted = convert(source, policy_id, locale, today or date.today(), previous, progress=progress)
    report = converted.report
    if locale not in locales:
        report.todo.insert(0, f"add '{locale}' to 'locales' in policygen.yaml")
    facts = converted.facts
    markdown = converted.markdown
    if update and (folder / FACTS_FILE).is_file():
        facts = _updated_facts((folder / FACTS_FILE).read_text(encoding="utf-8"), report)
    if earlier is not None and earlier.placed:
        markdown, kept, dropped = restore_placeholders(markdown, earlier, f"sources/{policy_id}/{PROSE_FILE}")
        report.placeholders_kept = len(kept)
        report.todo[0:0] = dropped
    files = {
        folder / PROSE_FILE: markdown.encode("utf-8"),
        folder / FACTS_FILE: facts.encode("utf-8"),
        folder / "import-report.md": report.render().encode("utf-8"),
    }
    report.written = sorted(files)
    try:
        write_all(files, root)
    except OSError as exc:
        raise PolicygenError(f"{exc.filename or folder}: cannot write ({exc.strerror}); nothing was written") from None
    if progress:
        progress("import", IMPORT_STEPS, IMPORT_STEPS)
    return report


def _updated_facts(existing: str, report: ImportReport) -> str:
    """The earlier ``policy.yaml`` (a person may have filled it in), with the new effective date."""
    if report.effective_date is None:
        report.todo.insert(0, "policy.yaml is kept as it was: set its effective_date and version for the new text")
        return existing
    when = report.effective_date[0].isoformat()
    updated, n = re.subn(r"(?m)^effective_date:.*$", f"effective_date: {when}", existing, count=1)
    report.todo.insert(0, f"policy.yaml is kept, with effective_date {when}: set its version for the new text")
    return updated if n else existing
