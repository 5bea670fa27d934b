"""Reading: a plain-text, HTML or Markdown file -> a flat list of :class:`Block` s.

Each block is a heading, a paragraph or a list item with its line and how it was marked, so that
:mod:`policygen.importers.structure` can rebuild the outline whatever the input format was. A
block carries its plain text (what suggestions, dates and contacts are read from) and its
Markdown (what ``policy.md`` gets): text escaped so nothing turns into Markdown by accident,
bold kept, links kept when ``policygen check`` accepts them. What ``check`` would refuse
(images, in-page links to anchors the import does not keep, ``javascript:`` links, raw HTML,
lists nested deeper than policygen shows) is repaired here, and every repair is recorded in
:class:`Repairs` for the import report.

Every step is linear in the size of the input: a 40,000-character word, 30 KB of ``<a `` and a
list nested 3,000 deep import in well under a second (``bench/import_linear.py`` times them;
``tests/test_import.py`` counts their work at two sizes).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

from policygen.errors import PolicygenError
from policygen.model import SLUG_RE
from policygen.source.files import CONTROL_CHARACTERS, NOT_A_FILE, not_a_file

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

MAX_BYTES = 4_000_000
"""Larger files are refused: a policy is rarely above 300 KB; a bigger file is a whole site."""
MAX_DEPTH = 3
"""Deepest list nesting kept (0 = top level); deeper items are shown at this depth."""
SAFE_LINKS = ("http://", "https://", "mailto:", "tel:")


IMAGES = "images dropped (policygen embeds no external resources)"
HTML_TAGS = "inline HTML tags dropped, their text kept"
BRACES = "'{{' written as '{ {' (policygen reserves '{{' for placeholders)"
EMPTY = "empty blocks dropped (an image or a link without text)"
DEEP = f"list items nested deeper than {MAX_DEPTH + 1} levels shown at level {MAX_DEPTH + 1}"


@dataclass
class Repairs:
    """What the import changed so that the result passes ``policygen check``: kind -> count, first line."""

    counts: Counter[str] = field(default_factory=Counter)
    first_line: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, line: int, n: int = 1) -> None:
        self.counts[kind] += n
        self.first_line.setdefault(kind, line)

    def lines(self) -> list[str]:
        return [f"{kind}: {n} (first on line {self.first_line[kind]})" for kind, n in sorted(self.counts.items())]


@dataclass
class Block:
    """One unit of the imported text."""

    kind: str
    """``heading``, ``paragraph``, ``item`` or ``contact`` (an address found only in a link)."""
    text: str
    """Plain text: what dates, contacts and suggestions are read from."""
    line: int
    style: str = ""
    """How it was marked: ``md``, ``html``, ``part``, ``num-cjk``, ``paren``, ``num-dot``, ``bullet``, ``title-line``, ``raw``."""
    level: int = 0
    """Heading level (1 = title), or list depth (0 = top)."""
    ordered: bool = False
    markdown: str = ""
    """The Markdown written to ``policy.md`` (escaped text, kept bold and links)."""
    link_only: bool = False
    """All its text is the text of links (a menu entry, a footer link)."""
    anchor: str = ""
    """The HTML ``id`` it carried, which a footnote mark may link to."""

    def __post_init__(self) -> None:
        if not self.markdown:
            self.markdown = escape(self.text)


def read_input(path: Path) -> tuple[str, str]:
    """The file's text and its format (``text``, ``html`` or ``markdown``). Refuses empty,
    binary, undecodable and oversized files with a message that says what to do."""
    if not_a_file(path):
        raise PolicygenError(f"{path}: {NOT_A_FILE}")
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise PolicygenError(f"{path}: the file is {size / 1e6:.1f} MB; policygen imports files up to {MAX_BYTES // 1_000_000} MB. "
                "A policy is rarely above 300 KB: save the policy itself, not the whole site")
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
        kind = next((name for magic, name in _DOCUMENT_FORMATS if raw.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(magic)), None)
        if kind:
            raise PolicygenError(f"{path}: this is {kind}, not text, HTML or Markdown; export it as plain text, HTML or Markdown first")
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise PolicygenError(f"{path}:{line}: not valid UTF-8 (byte {exc.start}); save the file as UTF-8 and import it again") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm") or re.match(r"\s*(<!doctype html|<html|<body|<h1|<p[ >])", text[:2000], re.I):
        return text, "html"
    if suffix in (".md", ".markdown") or re.search(r"^#{1,6} \S", text, re.M):
        return text, "markdown"
    return text, "text"


_LINE_BREAKS = re.compile(r"[\x0b\x0c]")
"""Word's line break (Shift+Enter, U+000B) and a page break (U+000C): line ends in the text."""


def without_controls(text: str, repairs: Repairs) -> str:
    """``text`` with no character that a policy's sources may not hold (:data:`CONTROL_CHARACTERS`):
    a line break or a page break from a word processor becomes a line end, every other control
    character (and U+FFFE, U+FFFF, which are none) is dropped; each is counted in ``repairs``."""
    if not CONTROL_CHARACTERS.search(text):
        return text
    breaks = [m.start() for m in _LINE_BREAKS.finditer(text)]
    others = [m.start() for m in CONTROL_CHARACTERS.finditer(text) if text[m.start()] not in "\x0b\x0c"]
    for found, kind in ((breaks, "line or page breaks from a word processor (U+000B, U+000C) made line ends"),
                        (others, "control characters dropped (no page or catalog can hold them)")):
        if found:
            repairs.add(kind, text.count("\n", 0, found[0]) + 1, len(found))  # lines of the file as it was read
    return CONTROL_CHARACTERS.sub("", _LINE_BREAKS.sub("\n", text))


_OWN_ID_LINE = re.compile(r"^\{#" + SLUG_RE.pattern + r"\}[ \t]*\n?", re.M)
_OWN_HEADING_ID = re.compile(r"^(#{1,6} .*?) \{#" + SLUG_RE.pattern + r"\}[ \t]*$", re.M)


def without_clause_ids(text: str, repairs: Repairs) -> str:
    """Markdown with policygen's own clause and section IDs taken out: a line ``{#id}`` before a
    block and a heading's `` {#id}``. A policy.md of a policygen project imported as a document
    (``policygen diff old/policy.md new/policy.md``) would otherwise keep them as text, where check
    refuses them; the import gives every block an ID of its own. Each is counted in ``repairs``."""
    found = [m.start() for m in _OWN_ID_LINE.finditer(text)] + [m.start() for m in _OWN_HEADING_ID.finditer(text)]
    if not found:
        return text
    repairs.add("clause IDs of a policygen source taken out (the import gives its own)", text.count("\n", 0, min(found)) + 1, len(found))
    return _OWN_HEADING_ID.sub(r"\1", _OWN_ID_LINE.sub("", text))


_DOCUMENT_FORMATS = ((b"%PDF-", "a PDF file"), (b"{\\rtf", "an RTF document"), (b"PK\x03\x04", "a zip file (a Word or OpenDocument file?)"),
                     (b"\xd0\xcf\x11\xe0", "an old Word or Excel file"))
"""Formats whose bytes may all be text (an uncompressed PDF, RTF), by their first bytes: read as
text they would import as prose full of control words."""


def _binary(sample: bytes) -> bool:
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 13))
    return controls > len(sample) * 0.05


# --- escaping --------------------------------------------------------------------------------

BOLD = "\x01"
"""Marks bold text inside a plain-text block, until :func:`escape` writes it as ``**``."""


def escape(text: str) -> str:
    """Plain text as Markdown that renders as the same text (bold markers from HTML kept).

    ``{{`` is policygen's placeholder syntax even when escaped, so a literal one is written
    ``{ {`` (counted as a repair by :func:`placeholder_braces`)."""
    text = placeholder_braces(text).translate(_SPECIAL)
    if text[:1] in _LINE_START:
        text = "\\" + text
    elif text[:1].isdigit():  # every digit \d matches is a digit to str.isdigit
        text = _NUMBERED.sub(r"\1\\\2\3", text)
    return _bold(text)


# Escaping runs on every block and every text token of an import: a translation table and
# checks of the first character, not a regular expression substitution per character class.
_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>{}|&~"})
_LINE_START = tuple("#>+=-")
_NUMBERED = re.compile(r"^(\d+)([.)])(\s|$)")
_OPEN_BRACES = re.compile(r"\{(?=\{)")
_CLOSE_BRACES = re.compile(r"\}(?=\})")


def placeholder_braces(text: str) -> str:
    if "{" not in text and "}" not in text:
        return text
    return _CLOSE_BRACES.sub("} ", _OPEN_BRACES.sub("{ ", text))


def _bold(text: str) -> str:
    """``\\x01...\\x01`` pairs become ``**...**`` around the words (spaces moved outside, empty pairs dropped)."""
    parts = text.split(BOLD)
    if len(parts) == 1:
        return text
    out = [parts[0]]
    for i, part in enumerate(parts[1:], start=1):
        if i % 2 == 1 and i < len(parts) - 1 and part.strip():
            lead, core, trail = _around(part)
            out.append(f"{lead}**{core}**{trail}")
        else:
            out.append(part)
    return "".join(out)


def _around(text: str) -> tuple[str, str, str]:
    core = text.strip()
    start = text.index(core)
    return text[:start], core, text[start + len(core):]


# --- plain text --------------------------------------------------------------------------------

_PART = re.compile(r"^(part|deel|chapter|hoofdstuk|section|artikel|article)\s+(\d+|[ivxlc]+|one|two|three|four|five|six|seven|eight|nine|ten|een|twee|"
    r"drie|vier|vijf|zes|zeven|acht|negen|tien)\b\s*[:.\-–]?\s*\S", re.I)
_NUM_CJK = re.compile(r"^(\d+)、\s*(.*)$")
_PAREN = re.compile(r"^[(（](\d+)[)）]\s*(.*)$")
_NUM_DOT = re.compile(r"^(\d+)[.)]\s+(.*)$")
_BULLET = re.compile(r"^[-•*·–]\s+(.*)$")
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*$")


def _short(text: str, limit: int = 90) -> bool:
    return len(text) <= limit and not text.rstrip().endswith((".", ";", ",", "!", "?", "。"))


def blocks_from_text(text: str, repairs: Repairs) -> list[Block]:
    """Blocks from plain text: one per line, hard-wrapped lines joined, markers classified."""
    lines = text.split("\n")
    blocks: list[Block] = []
    pending: list[str] = []  # continuation lines of the last block, joined once

    def flush() -> None:
        if pending and blocks:
            blocks[-1].text = " ".join([blocks[-1].text, *pending])
            blocks[-1].markdown = escape(blocks[-1].text)
        pending.clear()

    for index, raw in enumerate(lines):
        line = raw.strip()
        if not line:
            continue
        number = index + 1
        blank_before = index == 0 or not lines[index - 1].strip()
        blank_after = index + 1 >= len(lines) or not lines[index + 1].strip()
        last = blocks[-1] if blocks else None
        if last and last.kind == "item" and not blank_before and raw[:1].isspace() and not _BULLET.match(line) and not _NUM_DOT.match(line):
            pending.append(line)  # an indented line continues the list item above it
            continue
        if (last and last.kind == "paragraph" and not blank_before and line[:1].islower()
                and not (pending[-1] if pending else last.text).endswith((".", ":", ";", "!", "?"))):
            pending.append(line)  # a hard-wrapped paragraph continues
            continue
        flush()
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
        else:
            blocks.append(Block("paragraph", line, number))
    flush()
    return _text_footnotes(blocks, repairs)


_TEXT_NOTE = re.compile(r"^\[(\d{1,3})\][ \t]+(\S.*)$", re.S)
_TEXT_MARK = re.compile(r"[ \t]*\[(\d{1,3})\](?![(\[])")
_NOTES_HEADINGS = {"notes", "footnotes", "endnotes", "noten", "voetnoten", "eindnoten"}


def _text_footnotes(blocks: list[Block], repairs: Repairs) -> list[Block]:
    """Footnotes of a plain-text file: marks "[1]" in the text and, at its end, notes "[1] the
    note" (each its own line or paragraph). Each mark whose note is there becomes the note in
    parentheses, and the note leaves (a heading "Notes" or "Footnotes" right above the notes
    goes with them when all leave). A note no mark refers to stays; a "[1]" with no note at the
    end stays as it is written (it may cite something else)."""
    start = len(blocks)
    while start > 0 and blocks[start - 1].kind in ("paragraph", "item") and _TEXT_NOTE.match(blocks[start - 1].text):
        start -= 1
    if start == len(blocks):
        return blocks
    notes: dict[str, Block] = {}
    for block in blocks[start:]:
        match = _TEXT_NOTE.match(block.text)
        assert match is not None
        notes.setdefault(match.group(1), Block(block.kind, match.group(2).strip(), block.line))
    used: set[str] = set()

    def mark(found: re.Match[str]) -> str:
        note = notes.get(found.group(1))
        if note is None:
            return found.group()
        used.add(found.group(1))
        return f" ({note.text.rstrip()})"

    for block in blocks[:start]:
        if "[" in block.text and block.kind != "heading":
            text = _TEXT_MARK.sub(mark, block.text)
            if text != block.text:
                block.text, block.markdown = text, escape(text)
    if not used:
        return blocks
    kept = [b for b in blocks[start:] if (m := _TEXT_NOTE.match(b.text)) is not None and m.group(1) not in used]
    for block in kept:  # no mark refers to it: its text stays, as a paragraph
        block.text = _TEXT_NOTE.sub(r"\2", block.text).strip()
        block.markdown = escape(block.text)
    first = min(notes[label].line for label in used)
    repairs.add(FOOTNOTES, first, len(used))
    head = blocks[:start]
    if not kept and head and head[-1].kind == "heading" and head[-1].text.strip(" :").lower() in _NOTES_HEADINGS:
        head = head[:-1]
    return head + kept


# --- Markdown ----------------------------------------------------------------------------------

@cache
def _markdown() -> MarkdownIt:
    """CommonMark with tables and footnotes, made on the first import of a Markdown file."""
    from markdown_it import MarkdownIt
    from mdit_py_plugins.footnote import footnote_plugin

    # Footnote definitions stay where they stand (move_to_end=False) so an unused one keeps its
    # place and line; every "[^label]" is a footnote_ref token (always_match_refs) so that a mark
    # whose note is missing can be dropped. Inline notes ("^[...]") are not read: "^[" also
    # appears in ordinary text.
    md = MarkdownIt("commonmark").enable("table").use(footnote_plugin, inline=False, move_to_end=False, always_match_refs=True)
    md.validateLink = lambda url: True  # type: ignore[method-assign]  # we judge links ourselves
    md.normalizeLink = lambda url: url  # type: ignore[method-assign]  # and write them back as they were
    return md


FOOTNOTES = "footnotes written into their clauses, in parentheses after the mark they replace"


class _Notes:
    """The Markdown footnotes of one document ("...[^1]" and "[^1]: the note"), which policygen's
    prose and ``check`` do not know, as text a reader follows: each mark becomes its note in
    parentheses, and the definition leaves. A note no mark refers to stays where it is, as a
    paragraph; a mark with no note is dropped. In a document without any footnote definition a
    "[^1]" is no footnote and stays as it is written. Labels match whatever their case, as
    Pandoc's do."""

    def __init__(self, tokens: list[Token], repairs: Repairs) -> None:
        self.tokens = tokens
        self.repairs = repairs
        self.spans: dict[str, tuple[int, int]] = {}
        """Label (lower case) -> (index of its footnote_reference_open, of its close); the first definition wins."""
        self.texts: dict[str, tuple[str, str]] = {}
        self.busy: set[str] = set()  # notes being written, so a note that marks itself ends
        marks: dict[str | None, set[str]] = {}  # where a mark stands (None: the text, else a note) -> its labels
        opened: list[tuple[str, int]] = []
        for i, token in enumerate(tokens):
            if token.type == "footnote_reference_open":
                opened.append((str(token.meta.get("label", "")).lower(), i))
            elif token.type == "footnote_reference_close" and opened:
                label, start = opened.pop()
                self.spans.setdefault(label, (start, i))
            elif token.type == "inline" and token.children:
                marks.setdefault(opened[-1][0] if opened else None, set()).update(
                    str(child.meta.get("label", "")).lower() for child in token.children if child.type == "footnote_ref")
        # A note is written in where a mark in the text refers to it, or a mark in a note that is
        # written in, or in a note that stays as a paragraph; a note marked only by itself stays.
        self.used: set[str] = set()
        todo: list[str | None] = [None]
        while todo:
            where = todo.pop()
            for label in marks.get(where, set()):
                if label in self.spans and label not in self.used and label != where:
                    self.used.add(label)
                    todo.append(label)
            if not todo:
                todo = [label for label in self.spans if label not in self.used and (marks.get(label, set()) & self.spans.keys()) - self.used - {label}]
        for start, _end in sorted(self.spans[label] for label in self.used):  # every used note is written in: counted in the order of the text
            repairs.add(FOOTNOTES, _first_line(tokens[start]))

    def kept(self) -> list[Token]:
        """The tokens with the definitions of used notes taken out, and the frame of the others."""
        if not self.spans:
            return self.tokens
        dropped = [False] * len(self.tokens)
        for label, (start, end) in self.spans.items():
            for i in range(start, end + 1) if label in self.used else (start, end):
                dropped[i] = True
        return [t for t, gone in zip(self.tokens, dropped, strict=True) if not gone and not t.type.startswith("footnote_reference_")]

    def mark(self, label: str) -> tuple[str, str] | None:
        """(Markdown, plain text) a mark becomes: its note in parentheses, "" when it has none, or
        None when the document has no footnotes (the mark is text)."""
        if not self.spans:
            return None
        label = label.lower()
        if label not in self.used or label in self.busy:
            return "", ""
        if label not in self.texts:
            self.busy.add(label)
            self.texts[label] = self._text(*self.spans[label])
            self.busy.discard(label)
        markdown, plain = self.texts[label]
        return (f" ({markdown})", f" ({plain})") if plain else ("", "")

    def _text(self, start: int, end: int) -> tuple[str, str]:
        """A note's blocks as one run of text: its paragraphs, items, table cells and code."""
        line = _first_line(self.tokens[start])
        markdown: list[str] = []
        plain: list[str] = []
        for token in self.tokens[start + 1:end]:
            if token.type == "inline":
                md, text, _links = inline_markdown(token.children or [], self.repairs, line, self)
            elif token.type in ("fence", "code_block"):
                text = " ".join(token.content.split())
                md = escape(text)
            elif token.type == "html_block":
                found = blocks_from_html(token.content, self.repairs, quiet=True)
                md, text = " ".join(b.markdown for b in found), " ".join(b.text for b in found)
            else:
                continue
            if text.strip():
                markdown.append(md)
                plain.append(text)
        return " ".join(markdown), " ".join(plain)


def _first_line(token: Token) -> int:
    where = token.map
    return where[0] + 1 if where else 0


def blocks_from_markdown(text: str, repairs: Repairs) -> list[Block]:
    """Blocks from Markdown: headings, paragraphs, list items and table rows, their inline
    Markdown rebuilt from the parsed tokens so only what ``check`` accepts is written.
    Footnotes are written into the text that marks them (:class:`_Notes`)."""
    notes = _Notes(_markdown().parse(text, {}), repairs)
    tokens = notes.kept()
    blocks: list[Block] = []
    depth = -1
    ordered: list[bool] = []
    row: list[tuple[str, str]] | None = None
    row_line = 0
    started: list[bool] = []  # per open list item: whether its first paragraph was read
    for i, token in enumerate(tokens):
        line = (token.map[0] + 1) if token.map else 0
        if token.type in ("bullet_list_open", "ordered_list_open"):
            depth += 1
            ordered.append(token.type == "ordered_list_open")
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            depth -= 1
            ordered.pop()
        elif token.type == "list_item_open":
            started.append(False)
        elif token.type == "list_item_close" and started:
            started.pop()
        elif token.type == "tr_open":
            row, row_line = [], line
        elif token.type == "tr_close" and row is not None:
            cells = [(md, plain) for md, plain in row if plain.strip()]
            if cells:
                blocks.append(Block("item", " — ".join(p for _m, p in cells), row_line, "md", 0, False, " — ".join(m for m, _p in cells)))
            row = None
        elif token.type == "html_block":
            for block in blocks_from_html(token.content, repairs, quiet=True):
                block.line = line + max(0, block.line - 1)
                blocks.append(block)
        elif token.type in ("fence", "code_block") and token.content.strip():
            blocks.append(Block("paragraph", " ".join(token.content.split()), line, "raw"))
        elif token.type == "inline":
            opener = tokens[i - 1]
            line = (opener.map[0] + 1) if opener.map else line
            markdown, plain, link_only = inline_markdown(token.children or [], repairs, line, notes)
            if row is not None:
                row.append((markdown, plain))
                continue
            if not plain.strip():
                if opener.type == "heading_open" or token.children:
                    repairs.add(EMPTY, line)
                continue
            if opener.type == "heading_open":
                blocks.append(Block("heading", plain, line, "md", int(opener.tag[1]), markdown=markdown))
            elif depth >= 0 and started and started[-1] and opener.type == "paragraph_open":
                # A list item's second and later paragraphs (a page whose sections are the items
                # of one accordion list) are paragraphs, as the same page's HTML gives them: not
                # more items, which made the whole policy one list clause.
                blocks.append(Block("paragraph", plain, line, markdown=markdown, link_only=link_only))
            elif depth >= 0:
                if started:
                    started[-1] = True
                if depth > MAX_DEPTH:
                    repairs.add(DEEP, line)
                blocks.append(Block("item", plain, line, "md", min(depth, MAX_DEPTH), ordered[-1], markdown, link_only))
            else:
                blocks.append(Block("paragraph", plain, line, markdown=markdown, link_only=link_only))
    return blocks


def inline_markdown(children: list[Token], repairs: Repairs, line: int, notes: _Notes | None = None) -> tuple[str, str, bool]:
    """(Markdown, plain text, whether all the text is link text) of one block's inline tokens: text escaped, bold kept, links kept
    when their target is a web, mail or phone address; images, raw HTML and other links dropped
    (their text kept) and counted in ``repairs``; footnote marks replaced by their notes (``notes``)."""
    out: list[str] = []
    plain: list[str] = []
    linked: list[str] = []
    links: list[tuple[int, int, str | None, str]] = []  # (where the link text starts in out and in plain, target or None, decoded address)
    for child in children:
        kind = child.type
        if kind in ("text", "code_inline"):
            if "{{" in child.content or "}}" in child.content:
                repairs.add(BRACES, line)
            out.append(escape(child.content))
            plain.append(child.content)
            if links:
                linked.append(child.content)
        elif kind in ("softbreak", "hardbreak"):
            out.append(" ")
            plain.append(" ")
        elif kind in ("strong_open", "strong_close"):
            out.append(BOLD)
        elif kind == "link_open":
            href = str(child.attrGet("href") or "").strip()
            if address := cloudflare_email(href):
                repairs.add(DECODED, line)
                links.append((len(out), len(plain), f"mailto:{address}", address))
            elif _kept_link(href):
                links.append((len(out), len(plain), href, ""))
            else:
                repairs.add(_dropped_link(href), line)
                links.append((len(out), len(plain), None, ""))
        elif kind == "link_close" and links:
            start, start_plain, target, address = links.pop()
            if address and HIDDEN_EMAIL.search("".join(plain[start_plain:])):  # "[email protected]": the address itself
                out[start:], plain[start_plain:] = [escape(address)], [address]
            inner = "".join(out[start:])
            if target is not None and inner.replace(BOLD, "").strip():
                out[start:] = [f"[{_bold(inner).strip()}]({_destination(target)})"]
        elif kind == "footnote_ref":
            label = str(child.meta.get("label", ""))
            note = notes.mark(label) if notes else None
            if note is None:  # no footnotes in this document: the mark is text
                out.append(escape(f"[^{label}]"))
                plain.append(f"[^{label}]")
                continue
            # the note takes the place of the space before its mark
            if out:
                out[-1] = out[-1].rstrip(" \t")
            if plain:
                plain[-1] = plain[-1].rstrip(" \t")
            out.append(note[0])
            plain.append(note[1])
        elif kind == "image":
            repairs.add(IMAGES, line)
        elif kind == "html_inline":
            if re.match(r"<br\b", child.content, re.I):
                out.append(" ")
                plain.append(" ")
            else:
                repairs.add(HTML_TAGS, line)
    markdown = _bold(" ".join("".join(out).split()))
    text = " ".join("".join(plain).split())
    return markdown.replace(BOLD, ""), text, bool(text) and " ".join("".join(linked).split()) == text


def _kept_link(href: str) -> bool:
    """A link target ``check`` accepts: a web, mail or phone address, without spaces, and without
    '{{' or '}}' (a placeholder to check, even percent-encoded)."""
    target = unquote(href)
    return (href.lower().startswith(SAFE_LINKS) and not re.search(r"\s", href) and "{{" not in target and "}}" not in target
            and CLOUDFLARE_EMAIL not in target.lower())


CLOUDFLARE_EMAIL = "/cdn-cgi/l/email-protection"
"""Where Cloudflare's e-mail obfuscation links an address it hid ("[email protected]"): a page of its
own that needs the site's script, not a mailbox."""
HIDDEN_EMAIL = re.compile(r"\[\s*email[\s\u00a0]*protected\s*\]", re.I)
"""What a page saved from behind Cloudflare's e-mail obfuscation says where an address stood."""
DECODED = "e-mail addresses hidden by Cloudflare decoded from their code (/cdn-cgi/l/email-protection#..., data-cfemail)"
_CLOUDFLARE_CODE = re.compile(r"(?:[0-9a-fA-F]{2}){4,254}")
_ADDRESS_SHAPE = re.compile(r"[^\s@<>()\[\]\\,;:\"]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,5}\.[A-Za-z]{2,24}")


def cloudflare_email(href: str) -> str | None:
    """The address behind a link to Cloudflare's e-mail protection, ``/cdn-cgi/l/email-protection#HEX``,
    or None. The fragment is the address XORed with a key: its first byte is the key, and each
    byte after it, XORed with the key, is the next byte of the address (UTF-8). Only what
    decodes to the shape of an e-mail address is taken: any other code is no address."""
    target = unquote(href)
    if CLOUDFLARE_EMAIL not in target.lower() or "#" not in target:
        return None
    code = target.rsplit("#", 1)[1]
    if not _CLOUDFLARE_CODE.fullmatch(code):
        return None
    data = bytes.fromhex(code)
    try:
        address = bytes(byte ^ data[0] for byte in data[1:]).decode("utf-8")
    except UnicodeDecodeError:
        return None
    return address if _ADDRESS_SHAPE.fullmatch(address) else None


def _dropped_link(href: str) -> str:
    if CLOUDFLARE_EMAIL in unquote(href).lower():
        return "links to Cloudflare's e-mail protection dropped, their text kept (write the address in: see 'Still to do')"
    if href.lower().startswith(SAFE_LINKS) and not re.search(r"\s", href):
        return "link targets holding '{{' dropped, their text kept"
    if href.startswith("#"):
        return "in-page links dropped, their text kept (the page's anchors are not clause IDs)"
    if href.lower().startswith(("javascript:", "data:", "vbscript:")):
        return "script links dropped, their text kept"
    return "relative or unsupported links dropped, their text kept"


def _destination(href: str) -> str:
    """A link target that Markdown reads back unchanged: no spaces, brackets or braces."""
    return quote(href, safe="/:?#[]@!$&'*+,;=%~.-_") .replace("(", "%28").replace(")", "%29")


# --- HTML --------------------------------------------------------------------------------------

_SKIPPED = ("script", "style", "nav", "template", "head", "title", "noscript", "svg", "button", "select", "form", "footer", "header")
_BLOCKS = ("p", "dt", "dd", "td", "th", "blockquote", "div", "section", "article", "tr", "address", "pre", "figcaption", "caption", "details", "summary")
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
_COMPLETE_TAG = re.compile(r"<(?:!--.*?--|![A-Za-z][^<>]*|/?[A-Za-z][^<>]*|\?[^<>]*)>", re.S)


def _safe_html(text: str) -> str:
    """Markup html.parser reads in linear time: every ``<`` that does not open a complete tag
    (up to the next ``<``) or a comment becomes ``&lt;``. A run of broken tags (``<a <a <a``) would
    otherwise be rescanned to the end of the page at each ``<``; ``<![`` would raise."""
    out: list[str] = []
    pos = 0
    for match in _TAG_START.finditer(text):
        start = match.start()
        if start < pos:
            continue
        complete = _COMPLETE_TAG.match(text, start)
        if complete is not None and not text.startswith("<![", start):
            # A comment may contain '<'; a tag may not (then the next '<' is checked on its own).
            if "<" in complete.group()[1:] and not complete.group().startswith("<!--"):
                complete = None
        out.append(text[pos:start])
        if complete is None:
            out.append("&lt;")
            pos = start + 1
        else:
            out.append(complete.group())
            pos = complete.end()
    out.append(text[pos:])
    return "".join(out)


class _HTMLBlocks(HTMLParser):
    """Headings, paragraphs and list items of an HTML page; scripts, styles, navigation and forms skipped."""

    def __init__(self, repairs: Repairs) -> None:
        super().__init__(convert_charrefs=True)
        self.repairs = repairs
        self.blocks: list[Block] = []
        self.current: list[str] | None = None
        self.kind = ""
        self.level = 0
        self.lists: list[bool] = []
        self.skip = 0
        self.start_line = 0
        self.bold = 0
        self.in_link = 0
        self.linked: list[str] = []
        self.targets: list[str] = []
        """The targets of the links kept in the current block, in order (their text is between
        LINK_OPEN and LINK_CLOSE)."""
        self.link_open = False
        self.emails: list[tuple[str, int]] = []
        self.anchor = ""
        """The id of the next block (a footnote's), until a block with text takes it."""
        self.sup = 0
        self.mark_like = False
        """The open in-page link is in or around a <sup>, or its class or target says note ("fn1", "footnote-ref")."""
        self.mark_open: tuple[int, str, int] | None = None
        """An open in-page link: where its text starts in the current block, its target, its line."""
        self.marks: list[tuple[str, str, int]] = []
        """Footnote marks: (target id, their text, line); the block text holds NOTE_OPEN index NOTE_CLOSE."""
        self.hidden_address = ""
        """Inside a link to Cloudflare's e-mail protection, or an element with its data-cfemail code: the address it decodes to."""
        self.hidden_tag = ""
        """The tag whose end ends :attr:`hidden_address`."""
        self.tables = 0
        self.rows: list[list[int]] = []
        """Open table rows: [index of their first block, cells begun, table depth]."""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        ident = dict(attrs).get("id")
        if ident and tag != "a" and not self.skip and (tag == "li" or tag in _BLOCKS or re.fullmatch(r"h[1-6]", tag)):
            if self.current is not None and "".join(self.current).strip():
                self._flush()  # the block before it ends here, without this id
            self.anchor = ident  # the next block's (a footnote's <li id="fn1">, or its <div id>, <p id>)
        coded = dict(attrs).get("data-cfemail")
        if coded and not self.skip and not self.hidden_address and (address := cloudflare_email(f"{CLOUDFLARE_EMAIL}#{coded}")):
            # <span class="__cf_email__" data-cfemail="HEX">[email protected]</span>: the same code, without a link
            self.repairs.add(DECODED, self.getpos()[0])
            self.hidden_address, self.hidden_tag = address, tag
        if tag in _SKIPPED:
            self.skip += 1
        elif tag == "a":
            self.in_link += 1
            href = (dict(attrs).get("href") or "").strip()
            if not self.skip and (address := cloudflare_email(href)):
                if not self.hidden_address:
                    self.repairs.add(DECODED, self.getpos()[0])
                self.hidden_address, self.hidden_tag = address, "a"
                href = f"mailto:{address}"
            if href.lower().startswith("mailto:"):
                self.emails.append((href[7:].split("?")[0], self.getpos()[0]))
            named = dict(attrs).get("id") or dict(attrs).get("name")
            if named and not self.skip and (self.current is None or not "".join(self.current).strip()):
                self.anchor = named  # <p><a id="fn1"></a>...: the block it opens
            if self.skip or not href:
                pass
            elif href.startswith("#") and len(href) > 1 and not self.mark_open:
                if self.current is None:
                    self._begin("paragraph", 0)
                assert self.current is not None
                target = unquote(href[1:])
                self.mark_open = (len(self.current), target, self.getpos()[0])
                self.mark_like = bool(self.sup or _NOTE_LIKE.search(f"{dict(attrs).get('class') or ''} {target}"))
            elif _kept_link(href):
                if self.current is None:
                    self._begin("paragraph", 0)
                if not self.link_open:  # a link inside a link (invalid HTML) is its text
                    assert self.current is not None
                    self.current.append(LINK_OPEN)
                    self.targets.append(href)
                    self.link_open = True
            else:
                self.repairs.add(_dropped_link(href), self.getpos()[0])
        elif tag in ("ul", "ol"):
            self._flush()
            self.lists.append(tag == "ol")
        elif re.fullmatch(r"h[1-6]", tag):
            self._begin("heading", int(tag[1]))
        elif tag == "li":
            depth = len(self.lists) - 1
            if depth > MAX_DEPTH:
                self.repairs.add(DEEP, self.getpos()[0])
            self._begin("item", max(0, min(depth, MAX_DEPTH)))
        elif tag == "table":
            self._flush()
            self.tables += 1
        elif tag == "tr":
            self._end_row()  # HTML may leave out </tr>
            self.rows.append([len(self.blocks), 0, self.tables])
        elif tag in ("p", "div") and self.kind == "item" and self.current is not None and not "".join(self.current).strip():
            pass  # a list item's first paragraph is the item's text (<li><p>...</p><p>...</p></li>), as in Markdown
        elif tag in _BLOCKS:
            if tag in ("td", "th") and self.rows and self.rows[-1][2] == self.tables:
                self.rows[-1][1] += 1
            self._begin("paragraph", 0)
        elif tag == "br" and self.current is not None:
            self.current.append(" ")
        elif tag in ("strong", "b") and self.current is not None:
            self.current.append(BOLD)
            self.bold += 1
        elif tag == "img":
            self.repairs.add(IMAGES, self.getpos()[0])
        elif tag == "sup":
            self.sup += 1
            self.mark_like = self.mark_like or self.mark_open is not None

    def handle_endtag(self, tag: str) -> None:
        if tag == self.hidden_tag:
            self.hidden_address = self.hidden_tag = ""
        if tag in _SKIPPED:
            self.skip = max(0, self.skip - 1)
        elif tag == "a":
            self.in_link = max(0, self.in_link - 1)
            self._end_mark()
            if self.link_open and self.current is not None:
                self.current.append(LINK_CLOSE)
                self.link_open = False
        elif tag in ("ul", "ol"):
            self._flush()
            if self.lists:
                self.lists.pop()
        elif tag in ("strong", "b") and self.current is not None and self.bold:
            self.current.append(BOLD)
            self.bold -= 1
        elif tag == "sup":
            self.sup = max(0, self.sup - 1)
        elif tag == "tr":
            self._end_row()
        elif tag == "table":
            self._end_row()
            self.tables = max(0, self.tables - 1)
        elif re.fullmatch(r"h[1-6]", tag) or tag in ("li", *_BLOCKS):
            self._flush()

    def _end_row(self) -> None:
        """A row of a table of data (two or more cells, each one paragraph) becomes one list item,
        its cells joined as a Markdown table's are; the blocks of a row that lays a page out (a
        cell holding paragraphs, headings or lists) stay as they are."""
        self._flush()
        if not self.rows or self.rows[-1][2] != self.tables:
            return
        start, cells, _depth = self.rows.pop()
        row = self.blocks[start:]
        if cells >= 2 and 1 <= len(row) <= cells and all(b.kind == "paragraph" for b in row):
            self.blocks[start:] = [Block("item", " — ".join(b.text for b in row), row[0].line, "html", 0, False,
                                         " — ".join(b.markdown for b in row), all(b.link_only for b in row))]

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        data = data.translate(_MARKERS)
        if self.hidden_address and "protected" in data:  # "[email protected]": the address its link decodes to
            data = HIDDEN_EMAIL.sub(self.hidden_address, data)
        if self.current is None:
            if not data.strip():
                return
            self._begin("paragraph", 0)
        assert self.current is not None
        self.current.append(data)
        if self.in_link:
            self.linked.append(data)

    def _end_mark(self) -> None:
        """An in-page link ends: when its text is a footnote mark ("1", "[2]", "*"), it becomes a
        marker :func:`_html_footnotes` replaces; otherwise its text stays and the link is dropped."""
        if self.mark_open is None:
            return
        start, target, line = self.mark_open
        self.mark_open = None
        if self.current is None or len(self.current) < start:
            self.repairs.add(_dropped_link("#" + target), line)
            return
        text = "".join(self.current[start:]).replace(BOLD, "")
        if _HTML_MARK.fullmatch(text.strip()) and (self.mark_like or text.strip()[:1] == "["):
            self.current[start:] = [f"{NOTE_OPEN}{len(self.marks)}{NOTE_CLOSE}"]
            self.marks.append((target, text.strip(), line))
        elif text.strip() and not _BACKLINK.sub("", text):  # "↩": says nothing without its link
            self.current[start:] = []
            self.repairs.add(BACKLINKS, line)
        else:
            self.repairs.add(_dropped_link("#" + target), line)

    def _begin(self, kind: str, level: int) -> None:
        self._flush()
        self.current, self.kind, self.level, self.linked = [], kind, level, []
        self.targets, self.link_open = [], False
        self.start_line = self.getpos()[0]

    def _flush(self) -> None:
        self._end_mark()  # a mark left open by its block's end
        if self.current is not None:
            raw = " ".join("".join(self.current).split())
            if raw.count(BOLD) % 2:
                raw += BOLD
            text = raw.replace(BOLD, "").replace(LINK_OPEN, "").replace(LINK_CLOSE, "")
            if text:
                if "{{" in text or "}}" in text:
                    self.repairs.add(BRACES, self.start_line)
                ordered = bool(self.lists and self.lists[-1]) if self.kind == "item" else False
                link_only = " ".join("".join(self.linked).split()) == text
                markdown = _html_links(escape(raw), self.targets) if self.targets else escape(raw)
                self.blocks.append(Block(self.kind, text, self.start_line, "html", self.level, ordered, markdown, link_only, self.anchor))
                self.anchor = ""
        self.current = None
        self.linked = []
        self.targets, self.link_open = [], False
        self.bold = 0


LINK_OPEN, LINK_CLOSE = "\x02", "\x03"
"""Mark where a kept link's text starts and ends inside an HTML block, until :func:`_html_links`
writes it as ``[text](target)``."""
NOTE_OPEN, NOTE_CLOSE = "\x04", "\x05"
"""Around the number of a footnote mark in an HTML block, until :func:`_html_footnotes` writes its note there."""
_MARKERS = str.maketrans("", "", BOLD + LINK_OPEN + LINK_CLOSE + NOTE_OPEN + NOTE_CLOSE)
_NOTE_LIKE = re.compile(r"(?:^|[\s_:-])(?:fn|ftn|foot|note|endnote|footnote)", re.I)
_HTML_MARK = re.compile(r"\[?\(?(?:\d{1,3}|[a-z]|[ivx]{1,4}|[*†‡§]{1,3})\)?\]?")
_NOTE_MARKER = re.compile("[ \t]*\x04(\\d+)\x05")
_BACKLINK = re.compile(r"^[\s↩︎↑⤴^]+|[\s↩︎↑⤴^]+$")
BACKLINKS = "in-page links made of an arrow only (a footnote's '↩', '↑' to the top) dropped with their arrow"


def _html_footnotes(blocks: list[Block], marks: list[tuple[str, str, int]], repairs: Repairs) -> list[Block]:
    """HTML footnotes: a mark (an in-page link whose text is "1", "[2]" or "*", often in ``<sup>``)
    and the block it links to, later on the page (``<li id="fn1">``): the mark becomes the note
    in parentheses, its back-link arrow dropped, and the note leaves (with a "Notes" heading
    right above the notes, when they all leave). A mark whose target is no later paragraph or
    list item is its text again, its link dropped as any in-page link."""
    where = {b.anchor: i for i, b in enumerate(blocks) if b.anchor and b.kind in ("paragraph", "item")}
    last_mark: dict[str, int] = {}
    for i, block in enumerate(blocks):
        for found in _NOTE_MARKER.finditer(block.text):
            last_mark[marks[int(found.group(1))][0]] = i
    notes = {target: where[target] for target, at in last_mark.items() if target in where and where[target] > at}
    used: set[int] = set(notes.values())
    written: dict[int, tuple[str, str]] = {}

    def as_written(found: re.Match[str], field: int) -> str:  # a mark as its text: plain, or escaped Markdown
        text = marks[int(found.group(1))][1]
        return found.group().replace(found.group().strip(), text if field == 0 else placeholder_braces(text).translate(_SPECIAL))

    for index in sorted(used):  # a note's own marks are their text
        note = blocks[index]
        written[index] = (_BACKLINK.sub("", _NOTE_MARKER.sub(lambda m: as_written(m, 0), note.text)),
                          _BACKLINK.sub("", _NOTE_MARKER.sub(lambda m: as_written(m, 1), note.markdown)))
    counted: set[int] = set()

    def replace(found: re.Match[str], field: int) -> str:
        target, text, line = marks[int(found.group(1))]
        index = notes.get(target)
        if index is None:
            if field == 0:
                repairs.add(_dropped_link("#" + target), line)
            return as_written(found, field)
        counted.add(index)
        note = written[index][field]
        return f" ({note})" if note else ""

    out: list[Block] = []
    for index, block in enumerate(blocks):
        if index in used:
            continue
        if NOTE_OPEN in block.text:
            block.text = " ".join(_NOTE_MARKER.sub(lambda m: replace(m, 0), block.text).split())
            block.markdown = " ".join(_NOTE_MARKER.sub(lambda m: replace(m, 1), block.markdown).split())
        out.append(block)
    for index in sorted(counted):
        repairs.add(FOOTNOTES, blocks[index].line)
    # A heading over nothing but the notes that left goes too.
    for index, block in enumerate(blocks):
        if block.kind == "heading" and block.text.strip(" :").lower() in _NOTES_HEADINGS:
            after = next((i for i in range(index + 1, len(blocks)) if i not in used), len(blocks))
            if after > index + 1 and (after == len(blocks) or blocks[after].kind == "heading"):
                out.remove(block)
    return out
_LINKED = re.compile("\x02([^\x02\x03]*)\x03|[\x02\x03]")


def _html_links(markdown: str, targets: list[str]) -> str:
    """The escaped Markdown of an HTML block with its kept links written out; a link left open
    (its block ended first) or with no text (an image's) leaves its text, or nothing."""
    out: list[str] = []
    pos = taken = 0
    for match in _LINKED.finditer(markdown):
        out.append(markdown[pos:match.start()])
        pos = match.end()
        if match.group() == LINK_CLOSE:
            continue
        target = targets[taken] if taken < len(targets) else None
        taken += 1
        inner = match.group(1)
        if inner is not None and target is not None and inner.replace("*", "").strip():
            lead, core, trail = _around(inner)
            out.append(f"{lead}[{core}]({_destination(target)}){trail}")
        elif inner is not None:
            out.append(inner)
    out.append(markdown[pos:])
    return "".join(out)


def blocks_from_html(text: str, repairs: Repairs, quiet: bool = False) -> list[Block]:
    parser = _HTMLBlocks(repairs)
    try:
        parser.feed(_safe_html(text))
        parser.close()
    except (AssertionError, ValueError, IndexError) as exc:  # html.parser's own limits, on markup no browser would write
        raise PolicygenError(f"cannot read this HTML ({exc}); save the page as plain text and import that") from None
    while parser.rows:
        parser.tables = parser.rows[-1][2]
        parser._end_row()
    parser._flush()
    if parser.marks:
        parser.blocks = _html_footnotes(parser.blocks, parser.marks, repairs)
    # Addresses only in a link target (mailto:) still count as contacts.
    for email, line in parser.emails:
        if not any(email in b.text for b in parser.blocks):
            parser.blocks.append(Block("contact", email, line))
    return parser.blocks
