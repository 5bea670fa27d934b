"""Load stage, prose half: ``policy.md`` -> :class:`~policygen.model.Document`.

Parsing uses markdown-it-py (CommonMark plus tables) with raw HTML off, and three additions:

* a block rule for clause anchors: ``{#clause-id}`` alone on the line before a block;
* a core rule that takes ``{#section-id}`` off the end of headings;
* an inline rule for placeholders: ``{{ data.health }}`` becomes a ``placeholder`` token.

A structuring pass then walks the block tokens once: it opens and closes sections at
headings, gives every block a clause ID, sets ``id`` attributes for anchors, and collects the
translatable segments. Every problem is collected with its line; nothing stops at the first.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

from policygen.errors import Collector
from policygen.model import (
    PLACEHOLDER_RE,
    SLUG_MAX,
    Clause,
    Document,
    Section,
    Segment,
    SegmentKind,
    quoted,
    slug_problem,
)

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_block import StateBlock
    from markdown_it.rules_core import StateCore
    from markdown_it.rules_inline import StateInline
    from markdown_it.token import Token

_ANCHOR_LINE = re.compile(r"^\{#([^}]*)\}\s*$")
_HEADING_ID = re.compile(r"\s*\{#([^}]*)\}\s*$")
SAFE_SCHEMES = ("http:", "https:", "mailto:", "tel:")
_CLAUSE_BLOCKS = {"paragraph_open", "bullet_list_open", "ordered_list_open", "table_open", "blockquote_open", "dl_open", "code_block", "fence", "hr"}


def _clause_anchor_rule(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    pos = state.bMarks[start] + state.tShift[start]
    line = state.src[pos : state.eMarks[start]]
    if state.sCount[start] - state.blkIndent >= 4:
        return False
    match = _ANCHOR_LINE.match(line)
    if not match:
        return False
    if silent:
        return True
    token = state.push("clause_anchor", "", 0)
    token.meta = {"id": match.group(1)}
    token.map = [start, start + 1]
    state.line = start + 1
    return True


def _heading_id_rule(state: StateCore) -> None:
    tokens = state.tokens
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and i + 1 < len(tokens):
            inline = tokens[i + 1]
            match = _HEADING_ID.search(inline.content)
            if match:
                token.meta = {**(token.meta or {}), "id": match.group(1)}
                inline.content = inline.content[: match.start()]


def _placeholder_rule(state: StateInline, silent: bool) -> bool:
    if not state.src.startswith("{{", state.pos):
        return False
    match = PLACEHOLDER_RE.match(state.src, state.pos)
    if not match:
        return False
    if not silent:
        token = state.push("placeholder", "", 0)
        token.content = match.group(1)
        token.meta = {"name": match.group(1)}
    state.pos = match.end()
    return True


@cache
def parser() -> MarkdownIt:
    """The markdown-it instance every stage uses to parse policy prose and its translations,
    made on first use: markdown-it is not imported by a command that parses nothing (a check
    answered from its record, ``--help``)."""
    from markdown_it import MarkdownIt
    from mdit_py_plugins.deflist import deflist_plugin

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable("table")
    # Definition lists: the natural form of a policy's definitions section ("Term" / ": meaning").
    md.use(deflist_plugin)
    # markdown-it silently drops links it thinks unsafe (javascript:, data:, ...), leaving the
    # Markdown as text. We parse every link and let check_href reject all but the safe schemes
    # with an error, so an author learns about the link instead of publishing broken text.
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    # Normalizing a link target parses it and encodes its host: the same targets come back in
    # every clause that links to them, in every version a diff or a build reads.
    md.normalizeLink = lru_cache(maxsize=4096)(md.normalizeLink)  # type: ignore[method-assign]
    md.block.ruler.before("paragraph", "clause_anchor", _clause_anchor_rule, {"alt": ["paragraph"]})
    md.core.ruler.after("block", "heading_ids", _heading_id_rule)
    md.inline.ruler.before("text", "placeholder", _placeholder_rule)
    return md



def parse_inline(text: str) -> list[Token]:
    """Parse one segment's Markdown into inline tokens (used for translations)."""
    tokens = parser().parseInline(text, {})
    return tokens[0].children or []


def check_inline(children: list[Token], resolve: Callable[[str], str | None], anchors: set[str] | None) -> list[str]:
    """Check one segment's inline tokens. Returns what is wrong, one message per problem.

    ``resolve`` returns an error message for an unknown placeholder, else None. ``anchors`` is
    the set of IDs in-page links may point to (None skips that check).
    """
    problems: list[str] = []
    for child in children:
        if child.type == "placeholder":
            error = resolve(child.content)
            if error:
                problems.append(error)
        elif child.type == "link_open":
            href = str(child.attrGet("href") or "")
            problems.extend(check_href(href, anchors))
        elif child.type == "image":
            problems.append("images are not allowed in policy prose; policygen embeds no external resources")
        elif child.type == "text" and ("{{" in child.content or "}}" in child.content):
            problems.append(f"'{child.content.strip()}' looks like a broken placeholder; write {{{{name}}}} with no spaces inside the name, like "
                f"{{{{data.contact-details}}}}")
    return problems


def check_href(href: str, anchors: set[str] | None) -> list[str]:
    """Links may use http(s), mailto and tel, or point to an anchor in the same policy."""
    if href.startswith("#"):
        target = href[1:]
        if anchors is not None and target not in anchors:
            return [f"link to '#{target}', which is no section or clause in this policy"]
        return []
    if "{{" in unquote(href):
        return [f"placeholder in a link target ('{unquote(href)}'); placeholders work in link text only"]
    if href.lower().startswith(SAFE_SCHEMES):
        return []
    return [f"link to '{href}' is not allowed; links may use http:, https:, mailto:, tel: or '#anchor'"]


def placeholder_names(children: list[Token]) -> list[str]:
    """Placeholders in a segment, in order, as written."""
    return [child.content for child in children if child.type == "placeholder"]


def parse_prose(path: Path, text: str, resolve: Callable[[str], str | None], errors: Collector) -> Document | None:
    """Parse ``policy.md`` and structure it into sections, clauses and segments."""
    tokens = parser().parse(text, {})
    builder = _Structurer(path, tokens, resolve, errors)
    return builder.run()


class _Structurer:
    def __init__(self, path: Path, tokens: list[Token], resolve: Callable[[str], str | None], errors: Collector):
        self.path = path
        self.tokens = tokens
        self.resolve = resolve
        self.errors = errors
        self.out: list[Token] = []
        self.sections: list[Section] = []
        self.clauses: list[Clause] = []
        self.segments: list[Segment] = []
        self.ids: dict[str, int] = {}
        self.title: Segment | None = None

    def error(self, line: int, message: str) -> None:
        self.errors.add(self.path, line, message)

    def claim(self, ident: str, line: int, what: str) -> bool:
        problem = slug_problem(ident)
        if problem:
            self.error(line, f"{what} ID {quoted(ident)} {problem}")
            return False
        if ident in self.ids:
            self.error(line, f"duplicate ID '{ident}'; it is already used on line {self.ids[ident]}")
            return False
        self.ids[ident] = line
        return True

    def _auto_id(self, section: str | None, n: int) -> str:
        """A position-derived clause ID that no explicit ID uses, within the length limit."""
        base = (section or "intro")[: SLUG_MAX - 8].rstrip("-")
        candidate = f"{base}-{n}"
        while candidate in self.explicit or candidate in self.ids:
            n += 1
            candidate = f"{base}-{n}"
        return candidate

    def run(self) -> Document | None:
        from markdown_it.token import Token  # loaded with the parser that made self.tokens

        tokens = self.tokens
        # Explicit IDs win: generated ones are chosen around them, so an author never sees an
        # error about an ID they did not write.
        self.explicit = {t.meta["id"] for t in tokens if t.type in ("clause_anchor", "heading_open") and t.meta and t.meta.get("id")}
        open_sections: list[tuple[int, str]] = []  # (level, id)
        block_counts: dict[str | None, int] = {}
        pending_anchor: tuple[str, int] | None = None
        i = 0
        while i < len(tokens):
            token = tokens[i]
            line = token.map[0] + 1 if token.map else 0
            if token.type == "clause_anchor":
                if pending_anchor:
                    self.error(pending_anchor[1], f"clause ID {{#{pending_anchor[0]}}} is not followed by a block")
                pending_anchor = (token.meta["id"], line)
                i += 1
                continue
            if token.type == "heading_open":
                if pending_anchor:
                    self.error(pending_anchor[1], f"clause ID {{#{pending_anchor[0]}}} stands before a heading; end the heading with {{#id}} instead")
                    pending_anchor = None
                level = int(token.tag[1])
                inline = tokens[i + 1]
                if not inline.content.strip():
                    self.error(line, "heading has no text; write the heading before its {#id}")
                if self.title is None and level == 1 and not self.out:
                    if token.meta and token.meta.get("id"):
                        self.error(line, "the title takes no ID; remove the {#...} from the first heading")
                    self.title = self._segment("title", inline, i + 1, "title", "title")
                    self.out.extend(tokens[i : i + 3])
                    i += 3
                    continue
                if level == 1:
                    self.error(line, "only the first line of policy.md may be a level-1 heading (the title); use '##' for sections")
                ident = (token.meta or {}).get("id")
                if not ident:
                    self.error(line, "heading has no ID; end it with a stable ID such as {#data-we-collect}")
                    ident = f"section-line-{line}"
                else:
                    self.claim(ident, line, "section")
                while open_sections and open_sections[-1][0] >= level:
                    open_sections.pop()
                    self.out.append(Token("section_close", "section", -1))
                parent = open_sections[-1][1] if open_sections else None
                section_token = Token("section_open", "section", 1)
                section_token.meta = {"id": ident, "level": level}
                section_token.attrSet("aria-labelledby", ident)
                self.out.append(section_token)
                open_sections.append((level, ident))
                self.sections.append(Section(ident, level, line, parent, ident))
                token.attrSet("id", ident)
                token.meta = {**(token.meta or {}), "id": ident}
                self.out.append(token)
                self.out.append(inline)
                self.segments.append(self._segment(ident, inline, len(self.out) - 1, "heading", ident))
                self.out.append(tokens[i + 2])
                i += 3
                continue
            if token.level == 0 and token.type in _CLAUSE_BLOCKS:
                if self.title is None and not self.sections:
                    self.error(line, "policy.md must start with the title as a level-1 heading ('# Privacy policy')")
                    self.title = Segment("title", "", line, "title", "title", -1)
                section = open_sections[-1][1] if open_sections else None
                block_counts[section] = block_counts.get(section, 0) + 1
                if pending_anchor:
                    ident, explicit = pending_anchor[0], True
                    self.claim(ident, pending_anchor[1], "clause")
                    pending_anchor = None
                else:
                    ident, explicit = self._auto_id(section, block_counts[section]), False
                    self.ids[ident] = line
                end = self._block_end(i)
                token.attrSet("id", ident)
                self.clauses.append(Clause(ident, section, token.type.removesuffix("_open"), line, explicit))
                self._collect(ident, i, end)
                i = end
                continue
            self.out.append(token)
            i += 1
        if pending_anchor:
            self.error(pending_anchor[1], f"clause ID {{#{pending_anchor[0]}}} is not followed by a block")
        while open_sections:
            open_sections.pop()
            self.out.append(Token("section_close", "section", -1))
        if self.title is None:
            self.error(1, "policy.md must start with the title as a level-1 heading ('# Privacy policy')")
            return None
        self._check_segments()
        return Document(tuple(self.out), self.title, tuple(self.sections), tuple(self.clauses), tuple(self.segments))

    def _block_end(self, start: int) -> int:
        token = self.tokens[start]
        if token.nesting == 0:
            return start + 1
        depth = 0
        for j in range(start, len(self.tokens)):
            depth += self.tokens[j].nesting
            if depth == 0:
                return j + 1
        return len(self.tokens)

    def _collect(self, clause: str, start: int, end: int) -> None:
        """Copy a clause's tokens to the output and make a segment of every inline token in it."""
        items: list[int] = []
        item_stack: list[int] = []
        row = col = term = 0
        in_definition = False
        used: dict[str, int] = {}
        for j in range(start, end):
            token = self.tokens[j]
            line = token.map[0] + 1 if token.map else 0
            if token.type == "clause_anchor":
                self.error(line, f"clause ID {{#{token.meta['id']}}} inside a list or quote; IDs go before top-level blocks only")
                continue
            if token.type == "heading_open":
                self.error(line, "headings inside lists or quotes are not supported; move the heading out")
            self.out.append(token)
            if token.type in ("bullet_list_open", "ordered_list_open"):
                item_stack.append(0)
            elif token.type in ("bullet_list_close", "ordered_list_close"):
                item_stack.pop()
                items = items[: len(item_stack)]
            elif token.type == "list_item_open":
                item_stack[-1] += 1
                items = [*items[: len(item_stack) - 1], item_stack[-1]]
                token.attrSet("id", clause + "." + ".".join(map(str, items)))
            elif token.type == "tr_open":
                row += 1
                col = 0
            elif token.type in ("th_open", "td_open"):
                col += 1
            elif token.type == "dt_open":
                term += 1
                token.attrSet("id", f"{clause}.{term}")
            elif token.type in ("dd_open", "dd_close"):
                in_definition = token.type == "dd_open"
            elif token.type == "inline":
                kind: SegmentKind = "paragraph"
                base = clause
                if items and item_stack:
                    base = clause + "." + ".".join(map(str, items))
                    kind = "item"
                if row:
                    base = f"{clause}.r{row}c{col}"
                    kind = "cell"
                elif term and not items:
                    base, kind = (f"{clause}.{term}.def", "definition") if in_definition else (f"{clause}.{term}", "term")
                used[base] = used.get(base, 0) + 1
                context = base if used[base] == 1 else f"{base}.p{used[base]}"
                if token.content.strip():
                    self.segments.append(self._segment(context, token, len(self.out) - 1, kind, clause))

    def _segment(self, context: str, inline: Token, index: int, kind: SegmentKind, clause: str) -> Segment:
        line = inline.map[0] + 1 if inline.map else 0
        return Segment(context, inline.content, line, kind, clause, index)

    def _check_segments(self) -> None:
        anchors = set(self.ids)
        assert self.title is not None
        for segment in (self.title, *self.segments):
            if segment.token_index < 0:
                continue
            inline = self.out[segment.token_index]
            line = segment.line
            for child in inline.children or []:
                if child.type in ("softbreak", "hardbreak"):
                    line += 1
                for message in check_inline([child], self.resolve, anchors):
                    self.error(line, message)
            stray = re.search(r"\{#[^}]*\}\s*$", segment.text)
            if stray and segment.kind != "heading":
                self.error(segment.line + segment.text[: stray.start()].count("\n"),
                           f"{quoted(stray.group(0).strip())} is not an ID here: a clause ID goes alone on the line before its block")
