"""Render stage, redline: a graded report and a locale -> the comparison pages and their PDF.

The new text rendered as the policy page renders it (the same markdown-it renderer: headings,
lists, tables, definition lists and links stay what they are), with the words that changed
marked inside each block (:mod:`policygen.render.wordiff`); clauses that are new or gone are
marked as whole blocks, each where it stands. Above the text: an index of the changed clauses,
each with its severity and a link to it, and the major changes in plain words; below it, every
change in a table in the page's language.

Two pages per policy and locale: the whole text (``redline``), and the changes only
(``changes``): each changed clause with its heading path and one neighbouring clause, the rest
left out. Both are plain HTML that needs no script. The PDF is the whole-text page laid out by
:mod:`policygen.render.pdf`, the renderer of the policies' PDFs.
"""

from __future__ import annotations

import difflib
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from policygen import __version__
from policygen.changes.compare import PolicyReport
from policygen.changes.diff import Change
from policygen.changes.notices import notice_lines
from policygen.changes.rules import ISO_PERIOD, RANK, SEVERITIES
from policygen.errors import Collector
from policygen.i18n.localize import Formatter, LocalizedPolicy, localize, plain_text
from policygen.model import KIND, Duration
from policygen.render.html import PolicyRenderer, environment, render_template, renderer_class
from policygen.render.pdf import render_html_pdf
from policygen.render.wordiff import Marks, diff_html, mark_all, tokenize
from policygen.resources import notice_template
from policygen.source.prose import parser

if TYPE_CHECKING:
    from markdown_it.token import Token

__all__ = ["RedlinePages", "redline_pages", "redline_pdf", "tokenize"]

TITLE_ID = "_title"
"""The policy title's ID on a redline page (the title has none in the policy; no policy ID starts with '_')."""
_ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
_ISO_PERIOD_WORD = re.compile(r"\bP[0-9]+[YMWD]\b")
_CONTAINERS = {"item": "list_item_open", "cell": "tr_open", "term": "dt_open", "definition": "dd_open", "paragraph": "paragraph_open"}
_REMOVED_WRAP = {"item": "li", "term": "dt", "definition": "dd", "paragraph": "p"}
# A fact field whose values are IDs of built-in terms, shown by their labels.
_BUILTIN_FIELDS = {"legal_basis": "legal_basis", "category": "recipient_category", "safeguard": "safeguard", "level": "risk_level",
                   "kind": "contact_kind"}
_KINDS = {"added": "added", "removed": "removed", "moved": "moved", "split": "split", "merged": "merged"}


def _clause_texts(localized: LocalizedPolicy) -> tuple[dict[str, str], set[str]]:
    """Clause ID -> its text as a reader of this locale sees it (facts filled in), and the
    clauses shown in the source language because they are not translated."""
    texts: dict[str, list[str]] = {}
    fallback: set[str] = set()
    for segment in (localized.policy.document.title, *localized.policy.document.segments):
        token = localized.segment_tokens[segment.context]
        if (token.meta or {}).get("lang"):
            fallback.add(segment.clause)
        fmt = localized.source_formatter if (token.meta or {}).get("lang") else localized.formatter
        texts.setdefault(segment.clause, []).append(plain_text(token.children or [], fmt))
    return {clause: "\n".join(parts) for clause, parts in texts.items()}, fallback


class _Renderer(PolicyRenderer):
    """The page's renderer, with hooks for a redline: inline tokens whose HTML was worked out
    beforehand (the marked words), HTML written before or after a token (removed list items,
    rows and clauses; the frame of a changed clause), tokens left out (the changes-only page),
    and headings one level down (the policy's text sits under the page's own h2)."""

    def render(self, tokens: Sequence[Token], options: Any, env: Any) -> str:
        out = []
        before, after, skip = env.get("before", {}), env.get("after", {}), env.get("skip", frozenset())
        for i, token in enumerate(tokens):
            if i in skip:
                if i - 1 not in skip and env.get("omitted"):
                    out.append(env["omitted"])
                continue
            out.append(before.get(i, ""))
            if token.type == "inline":
                out.append(self.inline(token, options, env))
            elif token.type in self.rules:
                out.append(self.rules[token.type](tokens, i, options, env))
            else:
                out.append(self.renderToken(tokens, i, options, env))
            out.append(after.get(i, ""))
        return "".join(out)

    def inline(self, token: Token, options: Any, env: Any) -> str:
        override = env.get("overrides", {}).get(id(token))
        return override if override is not None else super().inline(token, options, env)

    def heading_open(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        token = tokens[idx].copy(tag=_shifted(tokens[idx].tag))
        return self.renderToken([token], 0, options, env)

    def heading_close(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return super().heading_close(tokens, idx, options, env).replace(f"</{tokens[idx].tag}>", f"</{_shifted(tokens[idx].tag)}>")


def _shifted(tag: str) -> str:
    return f"h{min(int(tag[1]) + 1, 6)}"


@cache
def _renderer() -> _Renderer:
    return renderer_class(_Renderer)(parser())


@dataclass
class _Unit:
    """A top-level piece of a policy's text: a heading or a clause (a block with its ID)."""

    id: str
    start: int
    end: int
    """Token range, end exclusive."""
    heading: bool
    section: str | None
    """The section the unit stands in (for a heading: the section above its own)."""


def _units(tokens: Sequence[Token]) -> list[_Unit]:
    units: list[_Unit] = []
    sections: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        ident = str(token.attrGet("id") or "")
        if token.type == "section_open":
            sections.append(token.meta["id"])
        elif token.type == "section_close":
            sections.pop()
        elif token.type == "heading_open" and ident:
            units.append(_Unit(ident, i, i + 3, True, sections[-2] if len(sections) > 1 else None))
            i += 3
            continue
        elif token.level == 0 and ident and token.nesting >= 0:
            end = _close(tokens, i) + 1
            units.append(_Unit(ident, i, end, False, sections[-1] if sections else None))
            i = end
            continue
        i += 1
    return units


def _close(tokens: Sequence[Token], start: int) -> int:
    """Index of the token that closes ``tokens[start]`` (itself when it opens nothing)."""
    depth = 0
    for j in range(start, len(tokens)):
        depth += tokens[j].nesting
        if depth <= 0:
            return j
    return len(tokens) - 1


def _enclosing(tokens: Sequence[Token], index: int, start: int, wanted: str) -> int | None:
    """The nearest token of type ``wanted`` that encloses ``tokens[index]``, not before ``start``."""
    depth = 0
    for k in range(index - 1, start - 1, -1):
        token = tokens[k]
        if token.nesting < 0:
            depth += 1
        elif token.nesting > 0:
            if depth == 0 and token.type == wanted and not token.hidden:
                return k
            depth = max(0, depth - 1)
    return None


@dataclass
class _Side:
    """One version in one locale, ready to render: tokens, segments by clause, its renderer's env."""

    localized: LocalizedPolicy
    source: LocalizedPolicy | None
    """The same version in its source language (None when the page is in it): what blocks are
    aligned by, and what an untranslated block of the other version is compared with."""

    def __post_init__(self) -> None:
        self.units = _units(self.localized.tokens)
        self.by_id = {u.id: u for u in self.units}
        self.index = {id(t): i for i, t in enumerate(self.localized.tokens)}
        self.segments: dict[str, list[Any]] = {}
        for segment in self.localized.policy.document.segments:
            self.segments.setdefault(segment.clause, []).append(segment)

    def env(self, localized: LocalizedPolicy | None = None) -> dict[str, Any]:
        localized = localized or self.localized
        return {"formatter": localized.formatter, "source_formatter": localized.source_formatter}

    def html(self, context: str, localized: LocalizedPolicy | None = None) -> str:
        localized = localized or self.localized
        return _renderer().inline(localized.segment_tokens[context], parser().options, self.env(localized))

    def text(self, context: str) -> str:
        token = self.localized.segment_tokens[context]
        fmt = self.localized.source_formatter if (token.meta or {}).get("lang") else self.localized.formatter
        return plain_text(token.children or [], fmt)

    def unit_text(self, unit: str) -> str:
        return " ".join(self.text(s.context) for s in self.segments.get(unit, []))


@dataclass
class _Entry:
    """A changed unit, for the index: where it is, how severe, what happened to it."""

    id: str
    severity: str | None
    kind: str
    text: str
    path: str
    order: tuple[int, int, int]
    """Where the index lists it: the new version's order, a removed unit after the one it follows."""


@dataclass
class _Body:
    """What rendering the marked text needs, worked out once for both pages."""

    overrides: dict[int, str] = field(default_factory=dict)
    before: dict[int, list[str]] = field(default_factory=dict)
    after: dict[int, list[str]] = field(default_factory=dict)
    entries: list[_Entry] = field(default_factory=list)
    changed: set[str] = field(default_factory=set)
    anchors: set[str] = field(default_factory=set)
    """Units kept on the changes-only page as the neighbour a removed clause follows."""
    title: str = ""
    """The policy's title with its changes marked, when it changed."""


_PAIR_LIMIT = 2500
"""Above this many (old block, new block) comparisons in one changed run, blocks are paired by
position: the similarity search grows with the product of the run's lengths."""


def _paired(old: list[str], new: list[str], i1: int, i2: int, j1: int, j2: int) -> list[tuple[int | None, int | None]]:
    """The blocks of one run of :meth:`difflib.SequenceMatcher.get_opcodes` as (old, new) index
    pairs, in order; None on one side for a block only the other version has. A run of as many
    old as new blocks is paired by position (blocks edited in place). Otherwise each block is paired
    with the most similar one on the other side, keeping their order (a list item put in before an
    edited item: the new item is new, the edited one is paired with its old text), and a block
    less than half like any other is new or gone."""
    if i2 - i1 == j2 - j1 or (i2 - i1) * (j2 - j1) > _PAIR_LIMIT:
        pairs: list[tuple[int | None, int | None]] = []
        for k in range(max(i2 - i1, j2 - j1)):
            pairs.append((i1 + k if i1 + k < i2 else None, j1 + k if j1 + k < j2 else None))
        return pairs
    rows, cols = i2 - i1, j2 - j1
    like = [[difflib.SequenceMatcher(None, old[i1 + a].split(), new[j1 + b].split(), autojunk=False).ratio() for b in range(cols)]
            for a in range(rows)]
    # best[a][b]: the greatest total likeness of order-keeping pairs among the first a old and b new blocks.
    best = [[0.0] * (cols + 1) for _ in range(rows + 1)]
    for a in range(1, rows + 1):
        for b in range(1, cols + 1):
            both = best[a - 1][b - 1] + like[a - 1][b - 1] if like[a - 1][b - 1] >= 0.5 else -1.0
            best[a][b] = max(best[a - 1][b], best[a][b - 1], both)
    found: list[tuple[int | None, int | None]] = []
    a, b = rows, cols
    while a > 0 or b > 0:
        if a > 0 and b > 0 and like[a - 1][b - 1] >= 0.5 and best[a][b] == best[a - 1][b - 1] + like[a - 1][b - 1]:
            found.append((i1 + a - 1, j1 + b - 1))
            a, b = a - 1, b - 1
        elif b > 0 and (a == 0 or best[a][b] == best[a][b - 1]):
            found.append((None, j1 + b - 1))
            b -= 1
        else:
            found.append((i1 + a - 1, None))
            a -= 1
    return found[::-1]


class _Redline:
    """The marked text of one report in one locale."""

    def __init__(self, report: PolicyReport, locale: str) -> None:
        collector = Collector()
        self.report, self.locale = report, locale
        old_locale = locale if locale in report.old.locales else report.old.source_locale
        old = localize(report.old_project, report.old, old_locale, report.old_translations, collector)
        new = localize(report.new_project, report.new, locale, report.new_translations, collector)
        old_source = new_source = None
        if locale != report.new.source_locale:
            # The source texts say which blocks correspond (translations follow them), and a
            # block the new version has not translated is compared with the old source text.
            old_source = localize(report.old_project, report.old, report.old.source_locale, report.old_translations, collector)
            new_source = localize(report.new_project, report.new, report.new.source_locale, report.new_translations, collector)
        self.old, self.new = _Side(old, old_source), _Side(new, new_source)
        self.fmt = new.formatter
        self.marks = Marks(notice_template(locale, "redline.inserted"), notice_template(locale, "redline.deleted"))
        self.graded = {g.change.id: g for g in report.graded if g.change.subject == "clause"}
        self.fact_marks: dict[str, str] = {}
        for g in report.graded:
            if g.change.subject != "clause":
                for clause in g.change.clauses:
                    if clause not in self.fact_marks or RANK[g.severity] > RANK[self.fact_marks[clause]]:
                        self.fact_marks[clause] = g.severity
        self.body = self._body()

    # -- the marked text -----------------------------------------------------------------------

    def _old_id(self, unit: str) -> str | None:
        graded = self.graded.get(unit)
        old_id = graded.change.details.get("old_id", unit) if graded else unit
        return old_id if old_id in self.old.by_id else None

    def _old_ids(self, unit: str, old_id: str) -> list[str]:
        """The old clauses a unit continues: one, or all the clauses merged into it."""
        graded = self.graded.get(unit)
        merged = graded.change.details.get("old_ids") if graded and graded.change.kind == "merged" else None
        return [o for o in merged if o in self.old.by_id] if merged else [old_id]

    def _elsewhere(self, unit: str) -> str:
        """For a part of a split clause, the text of the other parts: the old clause's words that
        went there were moved, not deleted."""
        for graded in self.graded.values():
            parts = graded.change.details.get("parts") or ()
            if graded.change.kind == "split" and unit in parts:
                return " ".join(self.new.unit_text(p) for p in parts if p != unit)
        return ""

    def _body(self) -> _Body:
        body = _Body()
        new_ids = {u.id for u in self.new.units}
        for position, unit in enumerate(self.new.units):
            old_id = self._old_id(unit.id)
            graded = self.graded.get(unit.id)
            severity = graded.severity if graded else self.fact_marks.get(unit.id)
            excerpt: str | None = None
            if old_id is None:
                self._mark_whole(self.new, unit, "ins", body)
                kind = "added"
            else:
                excerpt = self._mark_segments(unit, self._old_ids(unit.id, old_id), body, self._elsewhere(unit.id))
                kind = _KINDS.get(graded.change.kind, "changed") if graded else "changed"
                if excerpt is None and not (graded and graded.change.kind == "moved") and severity is None:
                    continue
            self._frame(unit, severity, kind, body)
            body.changed.add(unit.id)
            body.entries.append(_Entry(unit.id, severity, kind, excerpt or self.new.unit_text(unit.id), _path(self.new, unit),
                                       (position, 0, 0)))
        self._removed(new_ids, body)
        old_title = _renderer().inline(self.old.localized.title, parser().options, self.old.env())
        new_title = _renderer().inline(self.new.localized.title, parser().options, self.new.env())
        if _visible(old_title) != _visible(new_title):
            graded = self.graded.get("title")
            body.title = diff_html(old_title, new_title, self.locale, self.marks)
            body.entries.append(_Entry(TITLE_ID, graded.severity if graded else None, "changed", _visible(new_title), "", (-1, 0, 0)))
        body.entries.sort(key=lambda e: e.order)
        return body

    def _frame(self, unit: _Unit, severity: str | None, kind: str, body: _Body) -> None:
        """A changed unit in a frame that says how severe the change is, and what it was."""
        label = self._badge(severity, kind)
        body.before.setdefault(unit.start, []).append(
            f'<div class="pg-change pg-{severity or "unrated"} pg-{kind}">\n<p class="pg-badge">{html.escape(label)}</p>\n')
        body.after.setdefault(unit.end - 1, []).append("</div>\n")

    def _badge(self, severity: str | None, kind: str) -> str:
        parts = [notice_template(self.locale, f"severity.{severity}") if severity else notice_template(self.locale, "redline.unrated")]
        if kind != "changed":
            parts.append(notice_template(self.locale, f"redline.kind.{kind}"))
        return " · ".join(parts)

    def _mark_whole(self, side: _Side, unit: _Unit, tag: str, body: _Body) -> None:
        for token in side.localized.tokens[unit.start : unit.end]:
            if token.type == "inline":
                fmt_env = side.env()
                body.overrides[id(token)] = mark_all(_renderer().inline(token, parser().options, fmt_env), tag, self.locale, self.marks)

    def _mark_segments(self, unit: _Unit, old_ids: list[str], body: _Body, elsewhere: str = "") -> str | None:
        """Mark the words that changed in each block of ``unit``. Returns the text the index
        shows for it (the first block that changed: a list item, a table row), None when no
        word changed."""
        new_segments = self.new.segments.get(unit.id, [])
        old_segments = [s for old_id in old_ids for s in self.old.segments.get(old_id, [])]
        # A block the new version shows untranslated is compared with the old source text:
        # old translation against new source text would mark every word as changed.
        new_html = [self.new.html(s.context) for s in new_segments]
        fallback = [bool((self.new.localized.segment_tokens[s.context].meta or {}).get("lang")) for s in new_segments]
        old_html = [self.old.html(s.context) for s in old_segments]
        old_source = [self.old.html(s.context, self.old.source) if self.old.source else h for s, h in zip(old_segments, old_html, strict=True)]
        source = self.new.source
        if len(old_ids) > 1 and len(new_segments) == 1 and len(old_segments) > 1:
            # Clauses merged into one block: the block continues their texts, read as one.
            old_segments, old_html, old_source = old_segments[:1], [" ".join(old_html)], [" ".join(old_source)]
        keys_new = [_visible(self.new.html(s.context, source) if source else h) for s, h in zip(new_segments, new_html, strict=True)]
        keys_old = [_visible(h) for h in old_source]
        first: str | None = None
        pending: list[tuple[int, int | None, int]] = []  # (old index, new neighbour index, direction)
        matcher = difflib.SequenceMatcher(None, keys_old, keys_new, autojunk=False)
        for _tag, i1, i2, j1, j2 in matcher.get_opcodes():
            for i, j in _paired(keys_old, keys_new, i1, i2, j1, j2):
                if i is not None and j is not None:
                    before = old_source[i] if fallback[j] else old_html[i]
                    marked = diff_html(before, new_html[j], self._lang(fallback[j]), self.marks) if before != new_html[j] else ""
                    if elsewhere:
                        marked = _moved_out(marked, elsewhere)
                    # Only words count: the same words under other markup (the source-language
                    # span of an untranslated block) are no change to mark.
                    if "<del>" in marked or "<ins>" in marked:
                        body.overrides[id(self.new.localized.segment_tokens[new_segments[j].context])] = marked
                        first = first or self._block_text(self.new, new_segments, j)
                elif j is not None:
                    token = self.new.localized.segment_tokens[new_segments[j].context]
                    body.overrides[id(token)] = mark_all(new_html[j], "ins", self.locale, self.marks)
                    first = first or self._block_text(self.new, new_segments, j)
                elif i is None:
                    continue
                elif elsewhere and _visible(old_html[i]) in " ".join(elsewhere.split()):
                    continue  # a block of a split clause that another part shows
                else:
                    neighbour = j2 if j2 < len(new_segments) else (j1 - 1 if j1 > 0 else None)
                    pending.append((i, neighbour, 1 if neighbour == j2 else -1))
                    first = first or self._block_text(self.old, old_segments, i)
        self._place_removed(unit, old_segments, old_html, new_segments, pending, body)
        return first

    @staticmethod
    def _block_text(side: _Side, segments: list[Any], index: int) -> str:
        """The text of a changed block as the index names it: a table cell by its whole row."""
        segment = segments[index]
        if segment.kind != "cell":
            return side.text(segment.context)
        row = segment.context.rsplit("c", 1)[0]
        return " · ".join(side.text(s.context) for s in segments if s.kind == "cell" and s.context.rsplit("c", 1)[0] == row)

    def _lang(self, fallback: bool) -> str:
        return self.report.new.source_locale if fallback else self.locale

    def _place_removed(self, unit: _Unit, old_segments: list[Any], old_html: list[str], new_segments: list[Any],
                       pending: list[tuple[int, int | None, int]], body: _Body) -> None:
        """Blocks of a clause that the new version dropped (a list item, a table row), shown as
        deleted where they stood, in a block of their own kind."""
        tokens = self.new.localized.tokens
        rows: dict[tuple[int, int, str], list[str]] = {}
        for i, neighbour, direction in pending:
            segment = old_segments[i]
            marked = mark_all(old_html[i], "del", self.locale, self.marks)
            if neighbour is None:
                body.after.setdefault(unit.end - 1, []).append(f'<p class="pg-removed">{marked}</p>\n')
                continue
            target = new_segments[neighbour]
            inline = self.new.index[id(self.new.localized.segment_tokens[target.context])]
            container = _enclosing(tokens, inline, unit.start, _CONTAINERS.get(segment.kind, "")) if segment.kind == target.kind else None
            if container is None:
                token = self.new.localized.segment_tokens[target.context]
                current = body.overrides.get(id(token), self.new.html(target.context))
                body.overrides[id(token)] = f"{marked} {current}" if direction > 0 else f"{current} {marked}"
                continue
            at = container if direction > 0 else _close(tokens, container)
            if segment.kind == "cell":
                row = segment.context.split(".r", 1)[1].split("c", 1)[0]
                rows.setdefault((at, direction, row), []).append(f"<td>{marked}</td>")
                continue
            wrap = _REMOVED_WRAP[segment.kind]
            (body.before if direction > 0 else body.after).setdefault(at, []).append(f'<{wrap} class="pg-removed">{marked}</{wrap}>\n')
        for (at, direction, _row), cells in rows.items():
            (body.before if direction > 0 else body.after).setdefault(at, []).append(f'<tr class="pg-removed">{"".join(cells)}</tr>\n')

    def _removed(self, new_ids: set[str], body: _Body) -> None:
        """Units the new version dropped, as deleted blocks after the unit that preceded them."""
        renamed = {g.change.details.get("old_id") for g in self.graded.values()}
        old_ids = [u.id for u in self.old.units]
        new_position = {u.id: i for i, u in enumerate(self.new.units)}
        for index, unit in enumerate(self.old.units):
            if unit.id in new_ids or unit.id in renamed:
                continue
            graded = self.graded.get(unit.id)
            severity = graded.severity if graded else None
            anchor = next((self.new.by_id[c] for c in reversed(old_ids[:index]) if c in self.new.by_id), None)
            overrides = {}
            for token in self.old.localized.tokens[unit.start : unit.end]:
                if token.type == "inline":
                    overrides[id(token)] = mark_all(_renderer().inline(token, parser().options, self.old.env()), "del", self.locale, self.marks)
            env = {**self.old.env(), "overrides": overrides}
            rendered = _renderer().render(self.old.localized.tokens[unit.start : unit.end], parser().options, env)
            label = html.escape(self._badge(severity, "removed"))
            block = f'<div class="pg-change pg-{severity or "unrated"} pg-removed">\n<p class="pg-badge">{label}</p>\n{rendered}</div>\n'
            if anchor is None:
                first = self.new.units[0].start if self.new.units else 0
                body.before.setdefault(first, []).insert(0, block)
            else:
                body.after.setdefault(anchor.end - 1, []).append(block)
                body.anchors.add(anchor.id)
            body.changed.add(unit.id)
            position = new_position[anchor.id] if anchor is not None else -1
            body.entries.append(_Entry(unit.id, severity, "removed", self.old.unit_text(unit.id), _path(self.old, unit),
                                       (position, 1, index)))

    # -- the two pages -------------------------------------------------------------------------

    def text_html(self, changes_only: bool) -> str:
        body = self.body
        env: dict[str, Any] = {
            **self.new.env(), "overrides": body.overrides,
            "before": {k: "".join(v) for k, v in body.before.items()},
            "after": {k: "".join(v) for k, v in body.after.items()},
        }
        if changes_only:
            env["skip"] = self._skipped()
            env["omitted"] = f'<p class="pg-omitted">{html.escape(notice_template(self.locale, "redline.omitted"))}</p>\n'
        return _renderer().render(self.new.localized.tokens, parser().options, env)

    def _skipped(self) -> frozenset[int]:
        """Tokens the changes-only page leaves out: all but the changed units, one neighbouring
        clause of each, and the headings above them."""
        units = self.new.units
        keep = {u.id for u in units if u.id in self.body.changed} | self.body.anchors
        clauses: dict[str | None, list[_Unit]] = {}
        for unit in units:
            if not unit.heading:
                clauses.setdefault(unit.section, []).append(unit)
        positions = {u.id: i for same in clauses.values() for i, u in enumerate(same)}
        for unit in units:
            if unit.id not in self.body.changed or unit.heading:
                continue
            same, position = clauses[unit.section], positions[unit.id]
            neighbour = same[position - 1] if position > 0 else (same[position + 1] if position + 1 < len(same) else None)
            if neighbour is not None:
                keep.add(neighbour.id)
        parents = {s.id: s.parent for s in self.new.localized.policy.document.sections}
        for unit in [u for u in units if u.id in keep]:
            section = unit.section if not unit.heading else parents.get(unit.id)
            while section:
                keep.add(section)
                section = parents.get(section)
        tokens = self.new.localized.tokens
        skip: set[int] = set()
        i = 0
        by_start = {u.start: u for u in units}
        while i < len(tokens):
            token = tokens[i]
            if token.type == "section_open" and token.meta["id"] not in keep:
                end = _close(tokens, i)
                skip.update(range(i, end + 1))
                i = end + 1
                continue
            found = by_start.get(i)
            if found is not None and found.id not in keep:
                skip.update(range(found.start, found.end))
                i = found.end
                continue
            i += 1
        return frozenset(skip)

    def title_html(self) -> Markup:
        return Markup(self.body.title or _renderer().inline(self.new.localized.title, parser().options, self.new.env()))


_DELETION = re.compile(r'<del><span class="pg-sr">[^<]*</span>(.*?)<span class="pg-sr">\]</span></del>( (?=<ins>))?', re.DOTALL)


def _moved_out(marked: str, elsewhere: str) -> str:
    """``marked`` without the deletions whose words stand in ``elsewhere`` (another part of the
    same split clause): they were moved there, and the other part shows them."""
    text = " ".join(elsewhere.split())
    there = set(re.findall(r"\w+", text.lower()))

    def keep(match: re.Match[str]) -> str:
        words = " ".join(html.unescape(match.group(1)).split())
        found = re.findall(r"\w+", words.lower())
        # Moved whole, or edited on the way (a sentence of three words or more, most of whose
        # words the other part has): the other part marks the edit.
        moved = words in text or (len(found) >= 3 and sum(w in there for w in found) >= 0.8 * len(found))
        return "" if words and moved else match.group(0)

    result = _DELETION.sub(keep, marked)
    return result if "<del>" in result or "<ins>" in result else ""


def _visible(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", markup)).split())


@dataclass(frozen=True, slots=True)
class RedlinePages:
    """The comparison of one policy in one locale: the whole text, the changes only, and the
    HTML the PDF is laid out from."""

    full: bytes
    changes: bytes
    pdf_source: str
    """The body the PDF lays out (:func:`redline_pdf`)."""
    title: str
    meta: str


def redline_pages(report: PolicyReport, locale: str, assets: str = "", pdf_href: str = "", changes_href: str = "",
                  full_href: str = "") -> RedlinePages:
    """Both comparison pages of one policy in one locale. ``assets`` is the relative URL of the
    folder with the pages' stylesheet and fonts (``assets/``), none when empty; the hrefs link
    the pages to each other and to the PDF."""
    marked = _Redline(report, locale)
    context = _context(marked, assets)
    env = environment(report.new_project)
    whole = Markup(marked.text_html(False))
    full = render_template(env, "redline.html", {**context, "text_html": whole, "changes_only": False,
                                                  "pdf_href": pdf_href, "other_href": changes_href})
    changes = render_template(env, "redline.html", {**context, "text_html": Markup(marked.text_html(True)), "changes_only": True,
                                                     "pdf_href": pdf_href, "other_href": full_href})
    pdf_source = render_template(env, "redline-body.html", {**context, "text_html": whole})
    return RedlinePages(full.encode("utf-8"), changes.encode("utf-8"), pdf_source, context["title"], context["effective"])


def redline_pdf(report: PolicyReport, pages: RedlinePages, locale: str) -> bytes:
    """The whole-text comparison as a PDF, laid out as the policies' PDFs are."""
    return render_html_pdf(report.new_project, pages.pdf_source, locale, pages.title, pages.meta, report.new.prose_path,
                           f"redline ({report.policy_id}, {locale})")


def _meta_line(report: PolicyReport, fmt: Formatter) -> str:
    return notice_template(fmt.locale, "redline.effective").format(date=fmt.date(report.new.effective_date))


def _context(marked: _Redline, assets: str) -> dict[str, Any]:
    report, locale, fmt = marked.report, marked.locale, marked.fmt
    severity_names = {s: notice_template(locale, f"severity.{s}") for s in SEVERITIES}
    text = {key.replace("-", "_").replace(".", "_"): notice_template(locale, f"redline.{key}") for key in (
        "summary", "none", "text", "all", "legend", "index", "index-none", "changes-only", "changes-only-note", "full", "pdf",
        "column.severity", "column.change", "column.before", "column.after", "column.reason")}
    return {
        "locale": locale, "dir": marked.new.localized.direction, "assets": assets,
        # An ordered list counts in the page's digits (Khmer when native), as in the policy's pages.
        "digits": fmt.options.digits,
        "title": notice_template(locale, "redline.title").format(
            title=marked.new.localized.title_text, old=fmt.version(report.old.version), new=fmt.version(report.new.version)),
        "effective": _meta_line(report, fmt),
        "policy_title": marked.title_html(),
        "text": text, "severity_names": severity_names,
        "major": notice_lines(report, locale),
        "index": [_index_entry(entry, locale, severity_names) for entry in marked.body.entries],
        "changes": [_row(g.change, g.severity, g.reason, marked) for g in sorted(report.graded, key=lambda g: (-RANK[g.severity], g.change.path))],
        "reasons": locale == "en",
        # Khmer writes its own colon, with no space before it ("រយៈពេលរក្សាទុក៖ ...").
        "colon": "៖ " if locale == "km" else ": ",
        "generator": f"policygen {__version__}",
    }


def _index_entry(entry: _Entry, locale: str, severity_names: dict[str, str]) -> dict[str, Any]:
    return {"href": f"#{entry.id}", "severity": entry.severity or "unrated",
            "severity_name": severity_names[entry.severity] if entry.severity else notice_template(locale, "redline.unrated"),
            "kind": notice_template(locale, f"redline.kind.{entry.kind}") if entry.kind != "changed" else "",
            "path": entry.path, "excerpt": _excerpt(entry.text, locale)}


def _excerpt(text: str, locale: str, words: int = 12) -> str:
    """The first words of a clause, enough to recognise it."""
    tokens = [t for t in tokenize(" ".join(text.split()), locale)]
    count = 0
    for position, token in enumerate(tokens):
        if not token.isspace():
            count += 1
        if count > words:
            return "".join(tokens[:position]).rstrip(" ,;:") + " …"
    return "".join(tokens)


def _row(change: Change, severity: str, reason: str, marked: _Redline) -> dict[str, Any]:
    """One row of the table of all changes, in the page's language."""
    locale, fmt = marked.locale, marked.fmt
    kind = notice_template(locale, f"redline.kind.{_KINDS.get(change.kind, 'changed')}")
    subject = notice_template(locale, f"redline.subject.{change.subject}")
    label = ""
    if change.subject == "clause":
        side, ident = (marked.old, change.id) if change.kind == "removed" else (marked.new, change.id)
        unit = side.by_id.get(ident or "")
        label = (_path(side, unit) + " › " if unit and _path(side, unit) else "") + _excerpt(side.unit_text(ident or ""), locale, 8)
    elif change.subject == "retention" and change.id:
        # A retention period is named by the data it keeps, as the notices name it.
        kept = next((r.data for r in (*fmt.policy.facts.retention, *marked.report.old.facts.retention) if r.id == change.id), ())
        label = fmt.list_of([_fact_label(fmt, "data_category", d) for d in kept]) if kept else change.id
    elif change.id:
        label = _fact_label(fmt, change.subject, change.id)
    values = ("", "") if change.subject == "clause" else (_value(change.before, change, fmt), _value(change.after, change, fmt))
    return {"severity": severity, "subject": subject, "kind": kind, "label": label,
            "href": f"#{change.clauses[0]}" if change.clauses and change.clauses[0] in marked.body.changed else "",
            "before": values[0], "after": values[1], "reason": _readable(reason, fmt)}


def _readable(text: str, fmt: Formatter) -> str:
    """A rule's reason with the dates and periods it quotes written out ("1 June 2025", not
    "2025-06-01")."""
    text = _ISO_DATE.sub(lambda m: fmt.date(date.fromisoformat(m.group(0))), text)
    return _ISO_PERIOD_WORD.sub(lambda m: fmt.duration(Duration.parse(m.group(0))), text)


def _path(side: _Side, unit: _Unit) -> str:
    """The headings above a unit, "Section › Subsection"."""
    names = []
    section = unit.section
    parents = {s.id: s.parent for s in side.localized.policy.document.sections}
    while section:
        names.append(side.unit_text(section))
        section = parents.get(section)
    return " › ".join(reversed(names))


def _fact_label(fmt: Formatter, kind: str, ident: str) -> str:
    try:
        return fmt.label(kind, ident)[0]
    except KeyError:
        return ident  # a fact only the old version has, with no label in the glossary any more


def _value(value: Any, change: Change, fmt: Formatter) -> str:
    """A fact's value as a reader of the page reads it: periods and dates in words, labels for IDs."""
    if value is None or value == [] or value == "" or isinstance(value, dict):
        return ""
    if isinstance(value, bool):
        return notice_template(fmt.locale, "redline.yes" if value else "redline.no")
    if isinstance(value, int):
        return fmt.number(value)
    if isinstance(value, (list, tuple)):
        return fmt.list_of([_value(v, change, fmt) for v in value])
    text = str(value)
    if ISO_PERIOD.fullmatch(text):
        return fmt.duration(Duration.parse(text))
    if _ISO_DATE.fullmatch(text):
        return fmt.date(date.fromisoformat(text))
    if change.subject == "locales":
        return fmt.language_name(text)
    if change.field == "country":
        return str(fmt.babel.territories.get(text, text))
    kind = _BUILTIN_FIELDS.get(change.field or "") or (dict(KIND[change.subject].refs).get(change.field or "") if change.subject in KIND else None)
    if kind:
        return _fact_label(fmt, kind, text)
    return text
