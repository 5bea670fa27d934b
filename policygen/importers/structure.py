"""Structure: blocks -> the Markdown skeleton of ``policy.md``.

A title, nested sections, paragraphs and lists, every block with a stable slug ID; effective-date
lines recognized; tables of contents dropped.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from policygen.importers.read import BOLD, Block

MAX_SLUG = 48
DEFAULT_TITLES = {"en": "Privacy policy", "nl": "Privacyverklaring", "km": "គោលការណ៍ឯកជនភាព"}


DATE_LINE = re.compile(r"(last updated|last modified|updated on|effective date|effective as of|laatst bijgewerkt|laatst gewijzigd|bijgewerkt op|"
    r"ingangsdatum|geldig vanaf)\s*[:\-–]?\s*(.+)", re.I)


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


def only_a_date(text: str) -> bool:
    """The text is a date and nothing more (a final full stop aside)."""
    rest = re.sub(r"^(\d{4}-\d{1,2}-\d{1,2}|[A-Za-z]+\.?\s+\d{1,2},?\s+\d{4}|\d{1,2}\.?\s+[A-Za-z]+\.?\s+\d{4}|"
        r"\d{1,2}[/.-]\d{1,2}[/.-]\d{4})", "", text.strip())
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


def structure(blocks: list[Block], locale: str, markdown: bool = False) -> _Skeleton:
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
