"""Structure: blocks -> the Markdown skeleton of ``policy.md``.

A title, nested sections, paragraphs and lists, every block with a stable slug ID; effective-date
lines recognized; tables of contents and page navigation dropped. On a re-import
(``--update``), a block whose text matches a clause of the earlier import keeps that clause's
ID (matched by content, not position), so successive imports diff cleanly.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from functools import cache

from policygen.importers.read import Block, Repairs, escape

MAX_SLUG = 48
DEFAULT_TITLES = {"en": "Privacy policy", "nl": "Privacyverklaring", "km": "គោលការណ៍ឯកជនភាព"}
REUSE_SIMILARITY = 0.6
"""A new block keeps the ID of an earlier clause whose words are at least this similar."""
LONG_TEXT = 120
"""Above this many words, a text's likeness to an earlier one is the share of words they have in
common (in any order): the candidates already share rare word pairs, and the ordered comparison
costs the product of the two lengths (a long list clause against its old version took tens of ms)."""

_MONTH_WORDS = (r"(?:jan(?:uary|uari)?|feb(?:ruary|ruari)?|mar(?:ch)?|maart|apr(?:il)?|may|mei|june?|juni|july?|juli|aug(?:ust|ustus)?|"
    r"sep(?:t|tember)?|oct(?:ober)?|okt(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_DATE = (r"(?:\d{4}-\d{1,2}-\d{1,2}|" + _MONTH_WORDS + r"\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}|\d{1,2}(?:st|nd|rd|th)?\.?\s+(?:of\s+)?"
    + _MONTH_WORDS + r",?\s+\d{4}|\d{1,2}[/.-]\d{1,2}[/.-]\d{4}|" + _MONTH_WORDS + r",?\s+\d{4})")


@cache
def date_line() -> re.Pattern[str]:
    """A line that gives the effective date: "Last updated: 5 May 2026", "Effective May 5, 2026",
    "Laatst bijgewerkt op 5 mei 2026". Compiled on first use: long and case-insensitive, it took
    about 15 ms of every command's start-up, and only an import reads it."""
    return re.compile(r"(?:last\s+(?:updated|modified|revised|amended|changed)|updated|modified|revised|effective(?:\s+date)?|"
        r"date\s+of\s+last\s+(?:revision|update)|version(?:\s+date)?|in\s+effect|laatst\s+(?:bijgewerkt|gewijzigd|aangepast)|bijgewerkt|gewijzigd|"
        r"ingangsdatum|geldig\s+(?:vanaf|per)|versie(?:datum)?)\b(?:\s+(?:on|as\s+of|from|op|per|vanaf))?\s*[:\-–]?\s*"
        r"(?:on\s+|as\s+of\s+|op\s+)?(" + _DATE + r")", re.I)


def parse_date(text: str) -> tuple[date, bool] | None:
    """A date written in English or Dutch ("May 5, 2026", "5 mei 2026", "2026-05-05", "05/05/2026",
    "January 2020"), and whether its day was given (a month alone means its first day)."""
    from babel.dates import get_month_names

    text = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text.strip().rstrip("."), flags=re.I).replace(" of ", " ")
    if m := re.match(r"(\d{4})-(\d{1,2})-(\d{1,2})", text):
        return _date(int(m.group(1)), int(m.group(2)), int(m.group(3)), True)
    months: dict[str, int] = {}
    for locale in ("en", "nl"):
        for width in ("wide", "abbreviated"):
            for number, name in get_month_names(width, locale=locale).items():
                months[name.lower().rstrip(".")] = number
    months["sept"] = 9
    if m := re.match(r"([A-Za-z]+)\.?\s+(\d{1,2}),?\s+(\d{4})", text):
        month = months.get(m.group(1).lower())
        return _date(int(m.group(3)), month, int(m.group(2)), True) if month else None
    if m := re.match(r"(\d{1,2})\.?\s+([A-Za-z]+)\.?,?\s+(\d{4})", text):
        month = months.get(m.group(2).lower())
        return _date(int(m.group(3)), month, int(m.group(1)), True) if month else None
    if m := re.match(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text):
        first, second = int(m.group(1)), int(m.group(2))
        if first <= 12 < second:
            return _date(int(m.group(3)), first, second, True)  # 12/31/2026: month first
        return _date(int(m.group(3)), second, first, True)  # day first, as in Europe
    if m := re.match(r"([A-Za-z]+)\.?,?\s+(\d{4})", text):
        month = months.get(m.group(1).lower())
        return _date(int(m.group(2)), month, 1, False) if month else None
    return None


def only_a_date(text: str, match: re.Match[str]) -> bool:
    """The block says nothing but the date line (a final full stop aside)."""
    rest = text[: match.start()] + text[match.end():]
    return len(re.findall(r"\w+", rest)) <= 2


def _date(year: int, month: int, day: int, exact: bool) -> tuple[date, bool] | None:
    try:
        return date(year, month, day), exact
    except ValueError:
        return None


_NON_WORD = re.compile(r"\W+")


def _normalized(text: str) -> str:
    return _NON_WORD.sub(" ", text.lower()).strip()


_LINK_TARGET = re.compile(r"(?<!\\)\]\((?:<[^<>\n]*>|[^()\s]*)(?:\s+\"[^\"\n]*\")?\)")


_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")


def _link_text(markdown: str) -> str:
    """Markdown read as the plain text of a block: each link's target left out (``[settings](https://...)``
    reads ``[settings``) and escapes undone (``\\_\\_ga`` reads ``__ga``). An earlier import's clauses
    are Markdown, a new version's blocks plain text; with the URL counted, a clause made mostly of
    a link was too unlike its unchanged self to keep its ID, and so was a list of cookie names."""
    if "](" in markdown:
        markdown = _LINK_TARGET.sub("]", markdown)
    return _ESCAPED.sub(r"\1", markdown) if "\\" in markdown else markdown


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


_SENTENCE_END = re.compile(r"\w['’\"”)\]]{0,2}[.!?:;]['’\"”)]?(?:\s|$)")
"""The end of a sentence, also after closing quotes or brackets ('... (the "Services").')."""


def is_prose(block: Block) -> bool:
    """A block a reader reads (a sentence of some length), as opposed to a menu entry or a label."""
    return block.kind in ("paragraph", "item") and len(block.text.split()) >= 8 and _SENTENCE_END.search(block.text) is not None


_LEAD_IN = re.compile(r"\w\s*:$")


def _introduced(blocks: list[Block]) -> set[int]:
    """A sentence of three words or more ending in a colon ("This notice tells you:") and the
    list items right after it, none of them a link: content that introduces a list, not a menu."""
    kept: set[int] = set()
    lead: Block | None = None
    for block in blocks:
        if block.kind == "item" and lead is not None and not block.link_only:
            kept.update((id(lead), id(block)))
            continue
        lead = None
        if (block.kind == "paragraph" and not block.link_only and len(block.text.split()) >= 3
                and _LEAD_IN.search(block.text)):
            lead = block
    return kept


def drop_navigation(blocks: list[Block], repairs: Repairs) -> list[Block]:
    """Page chrome before the first and after the last sentence of the policy: menus, link lists,
    logos, footers (short items and labels that are not sentences). Headings and date lines stay."""
    prose = [i for i, b in enumerate(blocks) if is_prose(b)]
    if not prose:
        return blocks
    first, last = prose[0], prose[-1]

    def chrome(block: Block) -> bool:
        return block.kind in ("item", "paragraph") and not is_prose(block) and date_line().search(block.text) is None

    introduced = _introduced(blocks[:first])
    head = [b for b in blocks[:first] if chrome(b) and id(b) not in introduced]
    # The end of a policy is often a short list or contact block (a name, a street, an e-mail):
    # only a run of links after the last sentence is navigation.
    tail: list[Block] = []
    for block in reversed(blocks[last + 1:]):
        if block.kind in ("item", "paragraph") and block.link_only and chrome(block):
            tail.append(block)
        elif block.kind != "heading":
            break
    if len(head) >= 3:
        repairs.add("navigation dropped (menu entries and labels before the policy text)", head[0].line, len(head))
    else:
        head = []
    if len(tail) >= 3:
        repairs.add("navigation dropped (link lists after the policy text)", tail[-1].line, len(tail))
    else:
        tail = []
    gone = {id(b) for b in head + tail}
    kept = [b for b in blocks if id(b) not in gone]
    # A heading left with nothing under it before the next heading of its level or higher was navigation too.
    return [b for i, b in enumerate(kept) if not (b.kind == "heading" and i < first and i + 1 < len(kept) and kept[i + 1].kind == "heading"
                                                    and kept[i + 1].level <= b.level and b.style in ("md", "html"))] if head else kept


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
            block.level = min(items.index(block.style), 3)
        else:
            items = []


_DEVICE_NAMES = re.compile(r"(?:con|prn|aux|nul|com[0-9]|lpt[0-9])")
"""Names Windows reserves for devices: policygen refuses them as IDs, so a heading "LPT1" gets another."""


def slugify(text: str, fallback: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower()[:2000])
    slug = ""
    for word in words:
        if len(slug) + len(word) + 1 > MAX_SLUG:
            break
        slug = f"{slug}-{word}" if slug else word[:MAX_SLUG]
    if _DEVICE_NAMES.fullmatch(slug):
        slug += "-section"
    return slug or fallback


def value_id(prefix: str, value: str) -> str:
    """An ID derived from a value, never from a position: ``email-privacy-example-org``."""
    slug = slugify(value, "x")
    ident = f"{prefix}-{slug}"
    if len(ident) > 40 or slugify(value, "") != "-".join(re.findall(r"[a-z0-9]+", value.lower())):
        ident = f"{prefix}-{slug[:30].strip('-')}-{hashlib.sha256(value.encode()).hexdigest()[:6]}"
    return ident


@dataclass
class Previous:
    """The clauses and sections of an earlier import, for ``--update``: ID -> text."""

    sections: dict[str, str] = field(default_factory=dict)
    clauses: dict[str, str] = field(default_factory=dict)


@dataclass
class Skeleton:
    title: str
    title_guessed: bool
    markdown: str
    sections: int
    top_sections: int
    paragraphs: int
    items: int
    nested: int
    reused: int = 0
    lines: dict[int, Block] = field(default_factory=dict)
    """Line in ``policy.md`` -> the block written there (to repair what ``check`` still refuses)."""
    written: Previous = field(default_factory=Previous)
    """The sections and clauses written, with their Markdown: what a later ``--update`` matches against."""


class _Ids:
    """Unique IDs; with an earlier import, IDs of matching clauses come back (by content)."""

    def __init__(self, previous: Previous | None) -> None:
        self.previous = previous or Previous()
        self.used: set[str] = set(self.previous.sections) | set(self.previous.clauses)
        self.taken: set[str] = set()
        self.reused = 0
        self.reserved: set[str] = set()
        self._claims: dict[tuple[str, str], list[str]] = {}
        self._exact: dict[tuple[str, str], list[str]] = {}
        # Each earlier text is normalized once: matching a new version compares it many times.
        self._words: dict[tuple[str, str], list[str]] = {}
        self._indexes: dict[str, dict[tuple[str, str], list[str]]] = {}
        for kind, table in (("section", self.previous.sections), ("clause", self.previous.clauses)):
            index: dict[tuple[str, str], list[str]] = {}
            for ident, text in table.items():
                words = _normalized(_link_text(text)).split()
                self._words[kind, ident] = words
                self._exact.setdefault((kind, " ".join(words)), []).append(ident)
                for pair in set(zip(words, words[1:], strict=False)):
                    index.setdefault(pair, []).append(ident)
            self._indexes[kind] = index

    def unique(self, base: str) -> str:
        ident, n = base, 2
        while ident in self.used or ident in self.taken:
            ident, n = f"{base}-{n}", n + 1
        self.taken.add(ident)
        return ident

    def reserve(self, units: list[tuple[str, str]]) -> None:
        """Set aside the earlier IDs of the new version's sections and clauses whose text is
        unchanged, before any is matched by likeness: matching in order, an edited clause
        could take the ID of a similar unchanged one further on, which then took another's."""
        for kind, text in units:
            key = (kind, " ".join(_normalized(text).split()))
            for ident in self._exact.get(key, []):
                if ident not in self.reserved:
                    self.reserved.add(ident)
                    self._claims.setdefault(key, []).append(ident)
                    break

    def match(self, kind: str, text: str) -> str | None:
        """The ID of an unused earlier section or clause with this text, or close to it."""
        words = _normalized(text).split()
        claims = self._claims.get((kind, " ".join(words)))
        if claims:
            return self._take(claims.pop(0))
        for ident in self._exact.get((kind, " ".join(words)), []):
            if ident not in self.taken and ident not in self.reserved:
                return self._take(ident)
        if not self._indexes[kind]:
            return None
        best, best_ratio = None, REUSE_SIMILARITY
        matcher = difflib.SequenceMatcher(None, autojunk=False)
        matcher.set_seq2(words)
        for ident in self._candidates(kind, words):
            matcher.set_seq1(self._words[kind, ident])
            if matcher.real_quick_ratio() >= best_ratio and (ratio := matcher.quick_ratio()) >= best_ratio:
                if len(words) <= LONG_TEXT:
                    ratio = matcher.ratio()
                if ratio >= best_ratio:
                    best, best_ratio = ident, ratio
        return self._take(best) if best else None

    def _candidates(self, kind: str, words: list[str]) -> list[str]:
        # Only earlier clauses that share a rare word pair are compared: linear, not quadratic.
        index = self._indexes[kind]
        counts: dict[str, int] = {}
        for pair in set(zip(words, words[1:], strict=False)):
            holders = index.get(pair, ())
            if len(holders) <= 12:
                for ident in holders:
                    if ident not in self.taken and ident not in self.reserved:
                        counts[ident] = counts.get(ident, 0) + 1
        return [ident for ident, _n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:8]]

    def _take(self, ident: str) -> str:
        self.taken.add(ident)
        self.reused += 1
        return ident


def structure(blocks: list[Block], locale: str, previous: Previous | None = None) -> Skeleton:
    title, guessed = DEFAULT_TITLES[locale], True
    first = next((i for i, b in enumerate(blocks) if b.kind == "heading"), None)
    if first is not None and first <= 2 and all(b.kind != "paragraph" or not is_prose(b) for b in blocks[:first]):
        block = blocks[first]
        if block.text.strip() and ((block.style in ("title-line", "md", "html") and block.level <= 1) or block.style == "title-line"):
            title, guessed = block.text, False
            blocks = blocks[:first] + blocks[first + 1:]
    blocks = [b for b in blocks if b.kind != "contact" and b.text.strip() and b.markdown.strip()]
    _mark_tables_of_contents(blocks)
    _levels(blocks)
    ids = _Ids(previous)
    if previous is not None:
        ids.reserve(_units(blocks))
    written = Previous()
    out = [f"# {_title_markdown(title)}", ""]
    lines: dict[int, Block] = {}
    section = "preamble"
    counter = 0
    sections = top = paragraphs = items = nested = 0
    level = 1
    i = 0
    while i < len(blocks):
        block = blocks[i]
        if block.kind == "heading":
            level = min(block.level, level + 1)  # no skipped levels: "##" then "####" reads as a sub-section
            section = ids.match("section", block.text) or ids.unique(slugify(block.text, f"section-{sections + 1}"))
            counter = 0
            sections += 1
            top += level == 2
            lines[len(out) + 1] = block
            written.sections[section] = block.markdown
            out += [f"{'#' * level} {block.markdown} {{#{section}}}", ""]
            i += 1
            continue
        run = [block] if block.kind == "paragraph" else []
        if not run:
            while i + len(run) < len(blocks) and blocks[i + len(run)].kind == "item":
                run.append(blocks[i + len(run)])
        text = "\n".join(b.text for b in run)
        counter += 1
        clause = ids.match("clause", text) or ids.unique(f"{section}-{counter}")
        out.append(f"{{#{clause}}}")
        if block.kind == "paragraph":
            paragraphs += 1
            lines[len(out) + 1] = block
            written.clauses[clause] = block.markdown
            out += [block.markdown, ""]
            i += 1
            continue
        # A run of list items is one clause: one list, nested where the markers nest.
        depth = -1
        for item in run:
            depth = min(item.level, depth + 1)
            items += 1
            nested += depth > 0
            lines[len(out) + 1] = item
            out.append("   " * depth + ("1. " if item.ordered else "- ") + item.markdown)
        written.clauses[clause] = "\n".join(item.markdown for item in run)
        i += len(run)
        out.append("")
    return Skeleton(title, guessed, "\n".join(out).rstrip() + "\n", sections, top, paragraphs, items, nested, ids.reused, lines, written)


def _units(blocks: list[Block]) -> list[tuple[str, str]]:
    """(kind, text) of each section and clause :func:`structure` makes of ``blocks``, in order:
    a heading, a paragraph, or a run of list items."""
    units: list[tuple[str, str]] = []
    i = 0
    while i < len(blocks):
        if blocks[i].kind == "heading":
            units.append(("section", blocks[i].text))
            i += 1
        elif blocks[i].kind == "paragraph":
            units.append(("clause", blocks[i].text))
            i += 1
        else:
            end = i
            while end < len(blocks) and blocks[end].kind == "item":
                end += 1
            end = max(end, i + 1)
            units.append(("clause", "\n".join(b.text for b in blocks[i:end])))
            i = end
    return units


def _title_markdown(title: str) -> str:
    return escape(" ".join(title.split()))
