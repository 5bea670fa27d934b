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

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

from .errors import PolicygenError
from .model import SUPPORTED_LOCALES, is_safe_slug
from .output import write_all

MAX_SLUG = 48
BOLD = "\x01"
DEFAULT_TITLES = {"en": "Privacy policy", "nl": "Privacyverklaring", "km": "គោលការណ៍ឯកជនភាព"}


@dataclass
class Block:
    """One unit of the imported text."""

    kind: str
    """``heading``, ``paragraph`` or ``item``."""
    text: str
    line: int
    style: str = ""
    """How it was marked: ``md``, ``part``, ``num-cjk``, ``paren``, ``num-dot``, ``bullet``, ``title-line``."""
    level: int = 0
    """Heading level (1 = title), or list depth (0 = top)."""
    ordered: bool = False


@dataclass
class Suggestion:
    kind: str
    value: str
    sentence: str
    line: int


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


# --- reading -----------------------------------------------------------------------------------


def read_input(path: Path) -> tuple[str, str]:
    """The file's text and its format (``text``, ``html`` or ``markdown``). Refuses empty,
    binary and undecodable files with a message that says what to do."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PolicygenError(f"{path}: cannot read ({exc.strerror})") from None
    if not raw.strip():
        raise PolicygenError(f"{path}: the file is empty; nothing to import")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
        if b"\x00" in raw[:4096] or _binary(raw[:4096]):
            raise PolicygenError(f"{path}: this looks like a binary file (a PDF, a Word document?); export it as plain text, HTML or Markdown first")
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise PolicygenError(f"{path}:{line}: not valid UTF-8 (byte {exc.start}); save the file as UTF-8 and import it again") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm") or re.match(r"\s*(<!doctype html|<html|<body|<h1|<p[ >])", text, re.I):
        return text, "html"
    if suffix in (".md", ".markdown") or re.search(r"^#{1,6} \S", text, re.M):
        return text, "markdown"
    return text, "text"


def _binary(sample: bytes) -> bool:
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 13))
    return controls > len(sample) * 0.05


_PART = re.compile(r"^(part|deel|chapter|hoofdstuk|section|artikel|article)\s+(\d+|[ivxlc]+|one|two|three|four|five|six|seven|eight|nine|ten|een|twee|drie|vier|vijf|zes|zeven|acht|negen|tien)\b\s*[:.\-–]?\s*\S", re.I)
_NUM_CJK = re.compile(r"^(\d+)、\s*(.*)$")
_PAREN = re.compile(r"^[(（](\d+)[)）]\s*(.*)$")
_NUM_DOT = re.compile(r"^(\d+)[.)]\s+(.*)$")
_BULLET = re.compile(r"^[-•*·–]\s+(.*)$")
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*$")


def _short(text: str, limit: int = 90) -> bool:
    return len(text) <= limit and not text.rstrip().endswith((".", ";", ",", "!", "?", "。"))


def blocks_from_text(text: str) -> list[Block]:
    """Blocks from plain text: one per line, hard-wrapped lines joined, markers classified."""
    lines = text.split("\n")
    blocks: list[Block] = []
    for index, raw in enumerate(lines):
        line = raw.strip()
        if not line:
            continue
        number = index + 1
        blank_before = index == 0 or not lines[index - 1].strip()
        blank_after = index + 1 >= len(lines) or not lines[index + 1].strip()
        if m := _MD_HEADING.match(line):
            blocks.append(Block("heading", m.group(2), number, "md", len(m.group(1))))
        elif _PART.match(line):
            blocks.append(Block("heading", line, number, "part"))
        elif m := _NUM_CJK.match(line):
            kind = "heading" if _short(m.group(2)) else "item"
            blocks.append(Block(kind, m.group(2), number, "num-cjk", ordered=True))
        elif m := _PAREN.match(line):
            kind = "heading" if _short(m.group(2)) else "item"
            blocks.append(Block(kind, m.group(2), number, "paren", ordered=True))
        elif (m := _NUM_DOT.match(line)) and not raw.startswith(" ") and _short(m.group(2), 70) and blank_before and blank_after:
            blocks.append(Block("heading", m.group(2), number, "num-dot"))
        elif m := _NUM_DOT.match(line):
            blocks.append(Block("item", m.group(2), number, "num-dot", ordered=True))
        elif m := _BULLET.match(line):
            blocks.append(Block("item", m.group(1), number, "bullet"))
        elif _short(line, 80) and ":" not in line and blank_before and blank_after and len(line.split()) <= 12 and (line[0].isupper() or line[0].isdigit()):
            blocks.append(Block("heading", line, number, "title-line"))
        elif blocks and blocks[-1].kind == "item" and not blank_before and raw[:1].isspace():
            blocks[-1].text += " " + line  # an indented line continues the list item above it
        elif blocks and blocks[-1].kind == "paragraph" and not blank_before and line[:1].islower() and not blocks[-1].text.endswith((".", ":", ";", "!", "?")):
            blocks[-1].text += " " + line  # a hard-wrapped paragraph continues
        else:
            blocks.append(Block("paragraph", line, number))
    return blocks


def blocks_from_markdown(text: str) -> list[Block]:
    """Blocks from Markdown, through the same parser policygen reads its sources with."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").parse(text)
    blocks: list[Block] = []
    depth = -1
    ordered: list[bool] = []
    for i, token in enumerate(tokens):
        if token.type in ("bullet_list_open", "ordered_list_open"):
            depth += 1
            ordered.append(token.type == "ordered_list_open")
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            depth -= 1
            ordered.pop()
        elif token.type in ("fence", "code_block", "html_block") and token.content.strip():
            line = (token.map[0] + 1) if token.map else 0
            blocks.append(Block("paragraph", " ".join(token.content.split()), line, "md-raw"))
        elif token.type == "inline":
            opener = tokens[i - 1]
            line = (opener.map[0] + 1) if opener.map else 0
            content = " ".join(token.content.split())
            if opener.type == "heading_open":
                blocks.append(Block("heading", content, line, "md", int(opener.tag[1])))
            elif depth >= 0:
                blocks.append(Block("item", content, line, "md", depth, ordered[-1]))
            else:
                blocks.append(Block("paragraph", content, line))
    return blocks


class _HTMLBlocks(HTMLParser):
    """Headings, paragraphs and list items of an HTML page; script and style are skipped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.current: list[str] | None = None
        self.kind = ""
        self.level = 0
        self.lists: list[bool] = []
        self.skip = 0
        self.start_line = 0
        self.bold = 0
        self.emails: list[tuple[str, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "nav", "template", "head", "title"):
            self.skip += 1
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            if href.lower().startswith("mailto:"):
                self.emails.append((href[7:].split("?")[0], self.getpos()[0]))
        elif tag in ("ul", "ol"):
            self._flush()
            self.lists.append(tag == "ol")
        elif re.fullmatch(r"h[1-6]", tag):
            self._begin("heading", int(tag[1]))
        elif tag == "li":
            self._begin("item", len(self.lists) - 1)
        elif tag in ("p", "dt", "dd", "td", "th", "blockquote"):
            self._begin("paragraph", 0)
        elif tag == "br" and self.current is not None:
            self.current.append(" ")
        elif tag in ("strong", "b") and self.current is not None:
            self.current.append(BOLD)  # becomes ** after the text is escaped
            self.bold += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "nav", "template", "head", "title"):
            self.skip = max(0, self.skip - 1)
        elif tag in ("ul", "ol"):
            self._flush()
            if self.lists:
                self.lists.pop()
        elif tag in ("strong", "b") and self.current is not None and self.bold:
            self.current.append(BOLD)
            self.bold -= 1
        elif re.fullmatch(r"h[1-6]", tag) or tag in ("li", "p", "dt", "dd", "td", "th", "blockquote"):
            self._flush()

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.current is None:
            if not data.strip():
                return
            self._begin("paragraph", 0)
        assert self.current is not None
        self.current.append(data)

    def _begin(self, kind: str, level: int) -> None:
        self._flush()
        self.current, self.kind, self.level = [], kind, level
        self.start_line = self.getpos()[0]

    def _flush(self) -> None:
        if self.current is not None:
            text = " ".join("".join(self.current).split())
            text = re.sub(r"\x01\s*\x01", "", text)
            if text:
                ordered = bool(self.lists and self.lists[-1]) if self.kind == "item" else False
                self.blocks.append(Block(self.kind, text, self.start_line, "html", self.level, ordered))
        self.current = None


def blocks_from_html(text: str) -> list[Block]:
    parser = _HTMLBlocks()
    parser.feed(text)
    parser.close()
    parser._flush()
    # Addresses only in a link target (mailto:) still count as contacts.
    for email, line in parser.emails:
        if not any(email in b.text for b in parser.blocks):
            parser.blocks.append(Block("contact", email, line))
    return parser.blocks


# --- structure ---------------------------------------------------------------------------------

_DATE_LINE = re.compile(r"(last updated|last modified|updated on|effective date|effective as of|laatst bijgewerkt|laatst gewijzigd|bijgewerkt op|ingangsdatum|geldig vanaf)\s*[:\-–]?\s*(.+)", re.I)


def parse_date(text: str) -> date | None:
    """A date written in English or Dutch ("May 5, 2026", "5 mei 2026", "2026-05-05", "05/05/2026")."""
    from babel.dates import get_month_names

    text = text.strip().rstrip(".")
    if m := re.match(r"(\d{4})-(\d{1,2})-(\d{1,2})", text):
        return _date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    months: dict[str, int] = {}
    for locale in ("en", "nl"):
        for width in ("wide", "abbreviated"):
            for number, name in get_month_names(width, locale=locale).items():
                months[name.lower().rstrip(".")] = number
    if m := re.match(r"([A-Za-z]+)\.?\s+(\d{1,2}),?\s+(\d{4})", text):
        month = months.get(m.group(1).lower())
        return _date(int(m.group(3)), month, int(m.group(2))) if month else None
    if m := re.match(r"(\d{1,2})\.?\s+([A-Za-z]+)\.?\s+(\d{4})", text):
        month = months.get(m.group(2).lower())
        return _date(int(m.group(3)), month, int(m.group(1))) if month else None
    if m := re.match(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text):
        return _date(int(m.group(3)), int(m.group(2)), int(m.group(1)))  # day first, as in Europe
    return None


def _only_a_date(text: str) -> bool:
    """The text is a date and nothing more (a final full stop aside)."""
    rest = re.sub(r"^(\d{4}-\d{1,2}-\d{1,2}|[A-Za-z]+\.?\s+\d{1,2},?\s+\d{4}|\d{1,2}\.?\s+[A-Za-z]+\.?\s+\d{4}|\d{1,2}[/.-]\d{1,2}[/.-]\d{4})", "", text.strip())
    return rest.strip(" .") == ""


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _normalized(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def _mark_tables_of_contents(blocks: list[Block]) -> None:
    """A run of headings with nothing between them, whose titles come again later as headings,
    is a table of contents: its entries become list items."""
    later: dict[str, int] = {}
    for i, block in enumerate(blocks):
        if block.kind == "heading":
            later[_normalized(block.text)] = i
    for i, block in enumerate(blocks[:-1]):
        following = blocks[i + 1]
        if (block.kind == "heading" and block.style in ("num-cjk", "num-dot", "paren") and following.kind == "heading"
                and following.style == block.style and later.get(_normalized(block.text), i) > i):
            block.kind, block.ordered = "item", True
    # The last entry of the run is followed by a real heading, not by its twin: check it too.
    for i, block in enumerate(blocks[1:], start=1):
        previous = blocks[i - 1]
        if block.kind == "heading" and previous.kind == "item" and previous.style == block.style and later.get(_normalized(block.text), i) > i:
            block.kind, block.ordered = "item", True


def _levels(blocks: list[Block]) -> None:
    """Heading levels from the nesting of marker styles; list depths from marker changes."""
    stack: list[str] = []
    items: list[str] = []
    for block in blocks:
        if block.kind == "heading":
            items = []
            if block.style in ("md", "html"):
                block.level = max(2, block.level)
                continue
            family = "top" if block.style in ("part", "title-line") else block.style
            if family in stack:
                del stack[stack.index(family) + 1 :]
            else:
                stack.append(family)
            block.level = min(6, stack.index(family) + 2)
        elif block.kind == "item":
            if block.style in ("md", "html"):
                continue
            if block.style in items:
                del items[items.index(block.style) + 1 :]
            else:
                items.append(block.style)
            block.level = items.index(block.style)
        else:
            items = []


def slugify(text: str, fallback: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    slug = ""
    for word in words:
        if len(slug) + len(word) + 1 > MAX_SLUG:
            break
        slug = f"{slug}-{word}" if slug else word
    return slug or fallback


def escape(text: str, markdown: bool = False) -> str:
    """Plain text as Markdown that renders as the same text (bold markers from HTML kept).
    Text that already is Markdown keeps its syntax; only what policygen reads specially
    (``{...}`` placeholders and IDs) is escaped."""
    if markdown:
        return re.sub(r"([{}])", r"\\\1", text)
    text = re.sub(r"([\\`*_\[\]<>{}|&~])", r"\\\1", text)
    text = re.sub(r"^([#>+=-])", r"\\\1", text)
    text = re.sub(r"^(\d+)([.)])(\s)", r"\1\\\2\3", text)
    return text.replace(BOLD, "**")


@dataclass
class _Skeleton:
    title: str
    title_guessed: bool
    markdown: str
    sections: int
    top_sections: int
    paragraphs: int
    items: int
    nested: int


def _structure(blocks: list[Block], locale: str, markdown: bool = False) -> _Skeleton:
    title, guessed = DEFAULT_TITLES[locale], True
    if blocks and blocks[0].kind == "heading" and (blocks[0].style in ("title-line", "md", "html") and blocks[0].level <= 1 or blocks[0].style == "title-line"):
        title, guessed = blocks[0].text, False
        blocks = blocks[1:]
    blocks = [b for b in blocks if b.kind != "contact"]
    _mark_tables_of_contents(blocks)
    _levels(blocks)
    def esc(text: str) -> str:
        return escape(text, markdown)

    out = [f"# {esc(title)}", ""]
    used: set[str] = set()

    def unique(base: str) -> str:
        ident, n = base, 2
        while ident in used:
            ident, n = f"{base}-{n}", n + 1
        used.add(ident)
        return ident

    section = "preamble"
    counter = 0
    sections = top = paragraphs = items = nested = 0
    i = 0
    while i < len(blocks):
        block = blocks[i]
        if block.kind == "heading":
            section = unique(slugify(block.text, f"section-{sections + 1}"))
            counter = 0
            sections += 1
            top += block.level == 2
            out += [f"{'#' * block.level} {esc(block.text)} {{#{section}}}", ""]
            i += 1
            continue
        counter += 1
        clause = unique(f"{section}-{counter}")
        out.append(f"{{#{clause}}}")
        if block.kind == "paragraph":
            paragraphs += 1
            out += [esc(block.text) if block.style != "md-raw" else escape(block.text), ""]
            i += 1
            continue
        # A run of list items is one clause: one list, nested where the markers nest.
        while i < len(blocks) and blocks[i].kind == "item":
            item = blocks[i]
            items += 1
            nested += item.level > 0
            out.append("   " * item.level + ("1. " if item.ordered else "- ") + esc(item.text))
            i += 1
        out.append("")
    return _Skeleton(title, guessed, "\n".join(out).rstrip() + "\n", sections, top, paragraphs, items, nested)


# --- suggestions -------------------------------------------------------------------------------

_DURATION = re.compile(r"\b(\d{1,3})\s*(years?|months?|weeks?|days?|jaar|jaren|maanden|maand|weken|week|dagen|dag)\b", re.I)
_AGE = re.compile(r"\b(?:under|below|younger than|onder|jonger dan|beneden)\s+(?:the age of\s+|de leeftijd van\s+)?(\d{1,2})\b|\b(\d{1,2})\s*(?:years? old|years of age|jaar of ouder|jaar en ouder)", re.I)
_SENSITIVE = re.compile(r"\b(sensitive|gevoelig\w*|biometric\w*|biometrisch\w*|health|gezondheid\w*|criminal|crimine\w*|strafrecht\w*|religio\w*|ethnic\w*|etnisch\w*|racial|ras|genetic\w*|genetisch\w*|sexual|seksue\w*|political|politie\w*|passport|paspoort\w*|face photo|gezichtsfoto)\b", re.I)
_COLLECT = re.compile(r"collect|gather|verzamel|gegevens nodig|information we|we process|verwerken", re.I)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_URL = re.compile(r"\b(?:https?://|www\.)[^\s)<>\]\[\"']+", re.I)
_UNITS = {"y": "Y", "j": "Y", "m": "M", "w": "W", "d": "D"}


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?;])\s+", text) if s.strip()]


def _suggest(blocks: list[Block]) -> list[Suggestion]:
    found: list[Suggestion] = []
    seen: set[tuple[str, str]] = set()

    def add(kind: str, value: str, sentence: str, line: int) -> None:
        if (kind, value.lower()) not in seen:
            seen.add((kind, value.lower()))
            found.append(Suggestion(kind, value, sentence, line))

    for i, block in enumerate(blocks):
        for sentence in _sentences(block.text.replace(BOLD, "")):
            ages = {m.group(1) or m.group(2) for m in _AGE.finditer(sentence)}
            for amount, unit in _DURATION.findall(sentence):
                if amount in ages:
                    continue  # "under 14 years old" is an age, not a period
                unit_code = "M" if unit.lower().startswith(("month", "maand")) else _UNITS[unit[0].lower()]
                add("retention period", f"P{amount}{unit_code} ({amount} {unit})", sentence, block.line)
            for m in _AGE.finditer(sentence):
                add("minimum age", m.group(1) or m.group(2), sentence, block.line)
            for m in _SENSITIVE.finditer(sentence):
                add("sensitive data", m.group(1).lower(), sentence, block.line)
        if block.kind == "item":
            # An item of a list introduced by "we collect..." names a data category.
            intro = next((b for b in reversed(blocks[:i]) if b.kind != "item"), None)
            if (intro is not None and intro.kind == "paragraph" and intro.text.rstrip().endswith(":")
                    and _COLLECT.search(intro.text) and len(block.text.split()) <= 15):
                words = block.text.replace(BOLD, "").split()
                add("data category", " ".join(words[:8]) + (" …" if len(words) > 8 else ""), block.text, block.line)
    return found


# --- writing -----------------------------------------------------------------------------------


def _yaml_string(value: str) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


def _facts_yaml(locale: str, effective: date | None, contacts: list[tuple[str, str, int]], suggestions: list[Suggestion]) -> str:
    ages = [s.value for s in suggestions if s.kind == "minimum age"]
    email = next((v for k, v, _ in contacts if k == "email"), None)
    url = next((v for k, v, _ in contacts if k == "url"), None)
    lines = [
        "# Written by 'policygen import'. Fill in what is empty, then run 'policygen check'.",
        "# The import report (import-report.md) lists suggestions, each with the sentence it came from.",
        f"source_locale: {locale}",
        f"locales: [{locale}]",
        'version: "1.0"',
        f"effective_date: {effective.isoformat() if effective else _yaml_string('')}" + ("" if effective else "  # fill in: YYYY-MM-DD"),
        "",
        "controller:",
        f"  name: {_yaml_string('')}  # fill in: the organisation responsible for the data",
        f"  address: {_yaml_string('')}  # fill in",
    ]
    if email:
        lines.append(f"  email: {_yaml_string(email)}")
    if url:
        lines.append(f"  url: {_yaml_string(url)}")
    lines += [
        "",
        "# The prose describes these; as facts they make the semantic diff possible. See docs/source-format.md.",
        "data_categories: []",
        "purposes: []",
        "recipients: []",
        "transfers: []",
        "retention: []",
        "rights: []",
        "",
        f"minimum_age: null  # fill in" + (f"; the text suggests {ages[0]}" if ages else ""),
        "",
        "contacts:" + (" []" if not contacts else ""),
    ]
    for n, (kind, value, _line) in enumerate(contacts, start=1):
        lines += [f"  - id: {kind}-{n}", f"    kind: {kind}", f"    value: {_yaml_string(value)}"]
    lines += [
        "",
        "complaints: []",
        "",
        "risk:",
        f"  level: {_yaml_string('')}  # fill in: low, medium or high (the latest impact assessment)",
        f"  assessed_on: {_yaml_string('')}  # fill in: YYYY-MM-DD",
        "",
    ]
    return "\n".join(lines)


def import_policy(project_root: Path, source: Path, policy_id: str, locale: str, force: bool = False) -> ImportReport:
    """Import ``source`` into ``project_root/sources/<policy_id>/``. Nothing is written on error."""
    from .load import find_project

    root = find_project(project_root)
    if not is_safe_slug(policy_id):
        raise PolicygenError(f"policy ID '{policy_id}' is not a safe slug; use lowercase letters, digits and single hyphens (like 'acme-privacy')")
    if locale not in SUPPORTED_LOCALES:
        raise PolicygenError(f"unknown language '{locale}'; policygen supports {', '.join(SUPPORTED_LOCALES)}")
    folder = root / "sources" / policy_id
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
        m = _DATE_LINE.match(block.text) if block.kind in ("paragraph", "heading") else None
        when = parse_date(m.group(2)) if m else None
        if when and effective is None:
            effective = (when, block.line, block.text)
            if _only_a_date(m.group(2)):
                continue  # the page shows the effective date itself; a longer block stays
        body.append(block)
    contacts: list[tuple[str, str, int]] = []
    for block in blocks:
        for email in _EMAIL.findall(block.text):
            if all(email != value for _k, value, _l in contacts):
                contacts.append(("email", email, block.line))
        for url in _URL.findall(block.text):
            url = url.rstrip(".,;:")
            full = url if url.lower().startswith("http") else "https://" + url
            if "@" not in url and all(full != value for _k, value, _l in contacts):
                contacts.append(("url", full, block.line))
    skeleton = _structure(body, locale, markdown=fmt == "markdown")
    suggestions = _suggest(blocks)
    report = ImportReport(source, policy_id, locale, fmt, skeleton.title, skeleton.title_guessed, skeleton.sections,
                          skeleton.top_sections, skeleton.paragraphs, skeleton.items, skeleton.nested,
                          effective, contacts, suggestions)
    report.todo = [
        "controller.name and controller.address in policy.yaml",
        *([] if any(k in ("email", "url") for k, _v, _l in contacts) else ["controller.email, .phone or .url (no address was found in the text)"]),
        *([] if effective else ["effective_date (no 'Last updated' date was found)"]),
        "minimum_age" + (f" (suggested: {next(s.value for s in suggestions if s.kind == 'minimum age')})" if any(s.kind == "minimum age" for s in suggestions) else ""),
        "risk.level and risk.assessed_on",
        "recommended: data_categories, purposes, recipients, transfers, retention, rights and complaints, as facts "
        "(labels in glossary.yaml), so that 'policygen diff' can grade changes; then use placeholders in the prose",
    ]
    import yaml

    from .load import CONFIG_FILE

    config = yaml.safe_load((root / CONFIG_FILE).read_text(encoding="utf-8")) or {}
    if locale not in (config.get("locales") or []):
        report.todo.insert(0, f"add '{locale}' to 'locales' in policygen.yaml")
    files = {
        folder / "policy.md": skeleton.markdown.encode("utf-8"),
        folder / "policy.yaml": _facts_yaml(locale, effective[0] if effective else None, contacts, suggestions).encode("utf-8"),
        folder / "import-report.md": report.render().encode("utf-8"),
    }
    report.written = sorted(files)
    try:
        write_all(files)
    except OSError as exc:
        raise PolicygenError(f"{exc.filename or folder}: cannot write ({exc.strerror}); nothing was written") from None
    return report
