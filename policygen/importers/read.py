"""Reading: a plain-text, HTML or Markdown file -> a flat list of :class:`Block` s.

Each block is a heading, a paragraph or a list item with its line and how it was marked, so that
:mod:`policygen.importers.structure` can rebuild the outline whatever the input format was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from policygen.errors import PolicygenError

BOLD = "\x01"
"""Marks bold text inside a block, until the skeleton writes it as ``**``."""


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


_PART = re.compile(r"^(part|deel|chapter|hoofdstuk|section|artikel|article)\s+(\d+|[ivxlc]+|one|two|three|four|five|six|seven|eight|nine|ten|een|twee|"
    r"drie|vier|vijf|zes|zeven|acht|negen|tien)\b\s*[:.\-–]?\s*\S", re.I)
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
