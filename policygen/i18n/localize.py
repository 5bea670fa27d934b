"""Localize stage: a policy, a locale and the translations -> :class:`LocalizedPolicy`.

Takes the source :class:`~policygen.model.Document` and swaps each segment's Markdown for its
translation, re-parsing it as inline Markdown. A translation must keep the placeholders of its
source and may only link where the source language could; violations are reported at their PO
file line. A segment without a translation keeps the source text and is marked with the source
``lang``, so screen readers and hyphenation treat it as what it is.

Also produces the :class:`Formatter` that turns placeholders into localized text: labels from
the glossary, dates and durations from CLDR via Babel, native digits where configured.
"""

from __future__ import annotations

import datetime
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from policygen.errors import Collector
from policygen.i18n.translations import GLOSSARY_DOMAIN, Translations, flowed
from policygen.model import ROOT, Duration, Policy, Project, Segment, Term
from policygen.resources import builtin
from policygen.source.placeholders import Ref, kept, labels_used, resolve
from policygen.source.prose import (
    SAFE_SCHEMES,
    check_inline,
    parse_inline,
    placeholder_names,
)

if TYPE_CHECKING:
    from babel import Locale
    from markdown_it.token import Token

_NATIVE_DIGITS = {"km": str.maketrans("0123456789", "០១២៣៤៥៦៧៨៩")}
# The formal written date where it differs from CLDR's long form: a Khmer legal text dates
# itself "ថ្ងៃទី១ ខែមីនា ឆ្នាំ២០២៦" (day, month, year each named), not "១ មីនា ២០២៦".
_NATIVE_DATES = {"km": "ថ្ងៃទី{day} ខែ{month} ឆ្នាំ{year}"}
# Khmer legal writing separates list items with a space (Khmer has no comma in its own script
# and does not borrow the Latin one) and writes "និង" against the last item: "ក ខ និងគ".
_NATIVE_LIST_AND = {"km": "និង"}
# Khmer letters, signs, digits and ៗ: what a word is made of (not ។, ៕ and the other punctuation).
_KHMER = "\u1780-\u17d3\u17d7\u17dc\u17dd\u17e0-\u17e9\u19e0-\u19ff"
_KHMER_START = re.compile(f"[{_KHMER}]")
_KHMER_END = re.compile(f"[{_KHMER}]$")
_TAGS = re.compile(r"^(?:<[^>]*>)*")
# A number and its unit never part at a line end ("6 months", "១ ឆ្នាំ", "1 maart"): the space
# between a digit and a letter becomes a no-break space. U+00A0, not the narrow U+202F: English,
# Dutch and Khmer set a full word space there, and Khmer fonts may lack U+202F.
NO_BREAK_SPACE = "\u00a0"
_NUMBER_THEN_WORD = re.compile(r"(?<=\d) (?=[^\W\d_])")
# A word may end in a combining mark (Khmer's vowel signs: "មីនា"), which \\w does not match.
_NUMBER_AND_WORD = re.compile(r"(?<=\d) (?=[^\W\d_])|(?<=[^\W\d_]|[\u0300-\u036f\u17b6-\u17d3]) (?=\d)")
_TAG_OR_CODE = re.compile(r"(<code\b.*?</code>|<[^>]*>)", re.DOTALL)
_DIGIT_SPACE = re.compile(r"\d ")


def bind_numbers(text: str) -> str:
    """``text`` with every number bound to the word after it ("18 years") by a no-break space."""
    return _NUMBER_THEN_WORD.sub(NO_BREAK_SPACE, text)


def bind_numbers_html(markup: str) -> str:
    """:func:`bind_numbers` on the text of an HTML snippet: never inside a tag, and never in
    code, which a reader copies as written."""
    if not _DIGIT_SPACE.search(markup):
        return markup  # most blocks: no number is followed by a word, so there is nothing to bind
    parts = _TAG_OR_CODE.split(markup)
    return "".join(part if i % 2 else bind_numbers(part) for i, part in enumerate(parts))


@dataclass
class Formatter:
    """Formats facts for one locale, as HTML (escaped) or as plain text."""

    project: Project
    policy: Policy
    locale: str
    translations: Translations

    def __post_init__(self) -> None:
        # Babel is imported by the first formatter (not with the module): a command that formats
        # nothing, such as a check answered from its record, does not pay for it.
        from babel import Locale

        self.babel = Locale.parse(self.locale)
        self._capitalize = False
        self._links = True
        self.options = self.project.config.options(self.locale)
        self.digit_map = _NATIVE_DIGITS.get(self.locale) if self.options.digits == "native" else None
        # A placeholder renders the same every time (the facts, the glossary and the catalogs do
        # not change under a formatter), and a page renders each one several times: for its
        # body, its table of contents, its title, its fragment and its PDF.
        self._rendered: dict[tuple[str, bool, bool, bool], str] = {}
        self._durations: dict[Duration, str] = {}

    # -- primitives --------------------------------------------------------------------------

    def digits(self, text: str) -> str:
        return text.translate(self.digit_map) if self.digit_map else text

    def date(self, value: date) -> str:
        pattern = _NATIVE_DATES.get(self.locale) if self.options.dates == "native" else None
        if pattern:
            month = self.babel.months["format"]["wide"][value.month]
            return self._bound(pattern.format(day=value.day, month=month, year=value.year))
        from babel.dates import format_date

        return self._bound(format_date(value, format="long", locale=self.babel))

    def _bound(self, text: str) -> str:
        """A date or a period as a reader sees it: native digits where configured, and each
        number held to its neighbouring word ("1 maart 2026", "March 1, 2026", "6 months")."""
        return self.digits(_NUMBER_AND_WORD.sub(NO_BREAK_SPACE, text))

    def number(self, value: int) -> str:
        from babel.numbers import format_decimal

        return self.digits(format_decimal(value, locale=self.babel))

    def version(self, label: str) -> str:
        """A version label as a reader sees it ("៣.០" on a Khmer page); IDs, paths and
        attributes keep the label itself."""
        return self.digits(label)

    def duration(self, value: Duration) -> str:
        if value not in self._durations:
            self._durations[value] = self._bound(format_duration(value, self.babel))
        return self._durations[value]

    def label(self, kind: str, ident: str, form: str = "") -> tuple[str, str | None]:
        """A fact's label (or its ``form``, such as ``noun``) in this locale, and the language it
        is actually in when that differs."""
        glossary = self.project.glossary
        term = glossary.forms.get((kind, ident, form)) if form else glossary.terms.get((kind, ident))
        if term is not None:
            if self.locale == glossary.locale:
                return term.label, None
            entry = self.translations.get(GLOSSARY_DOMAIN, self.locale, term.context, term.label)
            if entry is not None:
                return entry.text.strip(), None
            return term.label, glossary.locale
        if form:
            raise KeyError((kind, ident, form))  # callers ask has_form() first
        builtin_term = builtin()["terms"][kind][ident]
        return builtin_term[self.locale], None

    def has_form(self, kind: str, ident: str, form: str) -> bool:
        return (kind, ident, form) in self.project.glossary.forms

    def term(self, kind: str, ident: str, form: str = "") -> Term | None:
        """The glossary entry behind a label, for diagnostics; None for built-in labels."""
        glossary = self.project.glossary
        return glossary.forms.get((kind, ident, form)) if form else glossary.terms.get((kind, ident))

    def ui(self, key: str) -> str:
        return builtin()["ui"][key][self.locale]

    def language_name(self, locale: str) -> str:
        """The name of ``locale`` in this page's language ("Engels" on a Dutch page)."""
        from babel import Locale

        return Locale.parse(locale).get_display_name(self.babel) or locale

    # -- placeholders ------------------------------------------------------------------------

    def render(self, name: str, as_html: bool = True, sentence_start: bool = False, in_link: bool = False) -> str:
        """Format the placeholder ``name``.

        Labels are written as they read mid-sentence ("contact details"); at the start of a
        block or a sentence, ``sentence_start`` capitalizes the first one. ``in_link`` renders
        links as their text, since HTML does not allow a link inside a link.
        """
        key = (name, as_html, sentence_start, in_link)
        if key in self._rendered:
            return self._rendered[key]
        ref = resolve(name, self.policy.facts)
        assert isinstance(ref, Ref), ref  # the load stage rejected unknown placeholders
        self._capitalize = sentence_start
        self._links = not in_link
        try:
            text = self._rendered[key] = self._render(ref, as_html)
            return text
        finally:
            self._capitalize = False
            self._links = True

    def _text(self, text: str, as_html: bool, lang: str | None = None, label: bool = False) -> str:
        if self._capitalize:
            self._capitalize = False
            if label:
                text = text[:1].upper() + text[1:]
        if not as_html:
            return text
        escaped = html.escape(text, quote=False)
        return f'<span lang="{lang}">{escaped}</span>' if lang else escaped

    def _label(self, kind: str, ident: str, as_html: bool) -> str:
        text, lang = self.label(kind, ident)
        return self._text(text, as_html, lang, label=True)

    def _link(self, href: str, text: str, as_html: bool) -> str:
        self._capitalize = False
        if not as_html:
            return text
        if not self._links or not href.lower().startswith(SAFE_SCHEMES):
            # Facts are validated on load; this guard keeps a future fact type from ever
            # emitting an unsafe href.
            return html.escape(text, quote=False)
        return f'<a href="{html.escape(href)}">{html.escape(text, quote=False)}</a>'

    def _list(self, items: list[str]) -> str:
        if not items:
            return ""
        conjunction = _NATIVE_LIST_AND.get(self.locale) if self.options.lists == "native" else None
        if conjunction is None:
            from babel.lists import format_list

            return format_list(items, locale=self.babel)
        if len(items) == 1:
            return items[0]
        last = items[-1]
        # "និង" joins the Khmer word after it; a Latin item keeps its own space ("និង privacy@…").
        glue = "" if starts_khmer(last) else " "
        return " ".join(items[:-1]) + f" {conjunction}{glue}{last}"

    def list_of(self, items: list[str]) -> str:
        """Items joined the way this locale joins them ("A, B en C")."""
        return self._list(items)

    def _data(self, ident: str, as_html: bool) -> str:
        text = self._label("data_category", ident, as_html)
        category = next(d for d in self.policy.facts.data_categories if d.id == ident)
        if category.sensitive and as_html:
            # The sensitive categories are set in bold, the way real policies mark them for
            # "prominent identification"; the class lets a theme add more.
            return f'<strong class="sensitive-data">{text}</strong>'
        return text

    def _contact(self, ident: str, as_html: bool) -> str:
        contact = next(c for c in self.policy.facts.contacts if c.id == ident)
        return self._reach(contact.kind, contact.value, as_html)

    def _reach(self, kind: str, value: str, as_html: bool) -> str:
        """A way to reach someone, as a link where it has one (the schema validated the value)."""
        if kind == "email":
            return self._link(f"mailto:{value}", value, as_html)
        if kind == "phone":
            return self._link("tel:" + "".join(ch for ch in value if ch.isdigit() or ch == "+"), value, as_html)
        if kind == "url":
            return self._link(value, value.removeprefix("https://").removeprefix("http://").rstrip("/"), as_html)
        return self._text(value, as_html)

    def _render(self, ref: Ref, as_html: bool) -> str:
        facts = self.policy.facts
        root, item, fld = ref.root, ref.item, ref.field
        if root == "minimum_age":
            self._capitalize = False
            assert facts.minimum_age is not None  # resolve() refuses the placeholder otherwise
            return self.number(facts.minimum_age)
        if root == "version":
            return self._text(self.version(self.policy.version), as_html)
        if root == "effective_date":
            return self._time(self.policy.effective_date, as_html)
        if root == "controller":
            value = getattr(facts.controller, fld or "name")
            return self._reach(fld if fld in ("email", "phone", "url") else "postal", value, as_html)
        if root == "risk":
            assert facts.risk is not None  # resolve() refuses the placeholder otherwise
            if fld == "level":
                return self._label("risk_level", facts.risk.level, as_html)
            return self._time(facts.risk.assessed_on, as_html)
        if item == "*":
            collection = facts.items(ROOT[root].kind)
            return self._list([self._render(Ref(root, entry.id), as_html) for entry in collection])
        assert item is not None
        if root == "data":
            return self._data(item, as_html)
        if root == "purpose":
            purpose = next(p for p in facts.purposes if p.id == item)
            if fld == "basis":
                return self._label("legal_basis", purpose.legal_basis, as_html)
            if fld == "data":
                return self._list([self._data(d, as_html) for d in purpose.data])
            return self._label("purpose", item, as_html)
        if root == "recipient":
            recipient = next(r for r in facts.recipients if r.id == item)
            if fld == "category":
                return self._label("recipient_category", recipient.category, as_html)
            if fld == "data":
                return self._list([self._data(d, as_html) for d in recipient.data])
            return self._label("recipient", item, as_html)
        if root == "transfer":
            transfer = next(t for t in facts.transfers if t.id == item)
            if fld == "safeguard":
                return self._label("safeguard", transfer.safeguard, as_html)
            if fld == "recipients":
                return self._list([self._label("recipient", r, as_html) for r in transfer.recipients])
            return self._text(self.babel.territories.get(transfer.country, transfer.country), as_html)
        if root == "retention":
            retention = next(r for r in facts.retention if r.id == item)
            if fld == "data":
                return self._list([self._data(d, as_html) for d in retention.data])
            return self._text(self.duration(retention.period), as_html)
        if root == "right":
            right = next(r for r in facts.rights if r.id == item)
            if fld == "channels":
                return self._list([self._contact(c, as_html) for c in right.channels])
            if fld == "response_time":
                assert right.response_time is not None
                return self._text(self.duration(right.response_time), as_html)
            return self._label("right", item, as_html)
        if root == "contact":
            return self._contact(item, as_html)
        if root == "complaint":
            complaint = next(c for c in facts.complaints if c.id == item)
            return self._link(complaint.url, complaint.name, as_html)
        raise AssertionError(f"unhandled placeholder {ref}")

    def _time(self, value: datetime.date, as_html: bool) -> str:
        self._capitalize = False
        text = self.date(value)
        if not as_html:
            return text
        return f'<time datetime="{value.isoformat()}">{html.escape(text, quote=False)}</time>'


@dataclass
class TocEntry:
    id: str
    level: int
    text: str
    children: list[TocEntry] = field(default_factory=list)


@dataclass
class LocalizedPolicy:
    """A policy as it reads in one locale: the expression, ready to be rendered."""

    policy: Policy
    locale: str
    formatter: Formatter
    title: Token
    """The title's inline token, localized."""
    tokens: list[Token]
    """The body's block tokens, with localized inline tokens."""
    toc: list[TocEntry]
    untranslated: list[Segment]
    """Segments shown in the source language because they have no usable translation."""
    source_formatter: Formatter
    """Formats the facts inside segments shown in the source language."""
    segment_tokens: dict[str, Token]
    """Message context -> the segment's localized inline token."""
    missing_labels: tuple[tuple[str, str], ...] = ()
    """Glossary labels, as ``(kind, id)``, that this page shows in the glossary's language
    because their translation is missing."""

    @property
    def fallback_locales(self) -> list[str]:
        """Languages this page falls back to, for blocks and for labels."""
        found = set()
        if self.untranslated:
            found.add(self.policy.source_locale)
        if self.missing_labels:
            found.add(self.formatter.project.glossary.locale)
        return sorted(found - {self.locale})

    @property
    def direction(self) -> str:
        return "rtl" if self.formatter.babel.character_order == "right-to-left" else "ltr"

    @property
    def title_text(self) -> str:
        formatter = self.source_formatter if (self.title.meta or {}).get("lang") else self.formatter
        return plain_text(self.title.children or [], formatter)


def format_duration(value: Duration, locale: Locale | str) -> str:
    """A period in words, CLDR's long form ("3 years", "3 jaar"), in Latin digits."""
    from babel import Locale
    from babel.numbers import format_decimal

    babel = Locale.parse(locale)
    units = babel._data["unit_patterns"][f"duration-{value.unit}"]
    plural = babel.plural_form(value.amount)
    # CLDR lets a locale leave out long forms that equal the short ones (Khmer does for
    # years and days, Dutch for days); Babel does not apply that fallback, so we do.
    for length in ("long", "short"):
        patterns = units.get(length, {})
        pattern = patterns.get(plural) or patterns.get("other")
        if pattern:
            return str(pattern.replace("{0}", format_decimal(value.amount, locale=babel)))
    raise AssertionError(f"CLDR has no pattern for {value.unit} in {babel}")


def starts_khmer(text: str) -> bool:
    """Whether the visible text of ``text`` (HTML or plain) starts with a Khmer character."""
    visible = text[_TAGS.match(text).end():]  # type: ignore[union-attr]  # the pattern always matches
    return bool(_KHMER_START.match(visible))


def plain_text(children: list[Token], formatter: Formatter) -> str:
    """The text of inline tokens without markup, placeholders formatted as plain text."""
    context = placeholder_context(children)
    parts = []
    for i, child in enumerate(children):
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "placeholder":
            parts.append(formatter.render(child.content, as_html=False, sentence_start=context[i][0]))
    return "".join(parts).strip()


_SENTENCE_END = (".", "!", "?", "។", "៕")


def placeholder_context(children: Sequence[Token]) -> dict[int, tuple[bool, bool]]:
    """For each placeholder: does it start a sentence, and is it inside link text? One pass."""
    context: dict[int, tuple[bool, bool]] = {}
    links = 0
    sentence_start = True
    for index, child in enumerate(children):
        if child.type == "link_open":
            links += 1
        elif child.type == "link_close":
            links -= 1
        elif child.type == "placeholder":
            context[index] = (sentence_start, links > 0)
            sentence_start = False
        elif child.type == "text":
            if child.content.strip():
                sentence_start = ends_sentence(child.content)
        elif child.type not in ("strong_open", "em_open", "strong_close", "em_close", "softbreak", "hardbreak"):
            sentence_start = False
    return context


def ends_sentence(text: str) -> bool:
    """Whether a placeholder right after ``text`` starts a new sentence."""
    stripped = text.rstrip()
    return stripped != text and stripped.endswith(_SENTENCE_END)


def localize(project: Project, policy: Policy, locale: str, translations: Translations, errors: Collector) -> LocalizedPolicy:
    """Produce the ``locale`` expression of ``policy``. Bad translations go to ``errors``."""
    formatter = Formatter(project, policy, locale, translations)
    source_formatter = formatter if locale == policy.source_locale else Formatter(project, policy, policy.source_locale, translations)
    document = policy.document
    anchors = {s.id for s in document.sections} | {c.id for c in document.clauses}
    replaced: dict[int, Token] = {}
    by_context: dict[str, Token] = {}
    untranslated: list[Segment] = []
    title_token = None

    def check_placeholder(name: str) -> str | None:
        ref = resolve(name, policy.facts)
        return ref if isinstance(ref, str) else None

    for segment in (document.title, *document.segments):
        source = document.tokens[segment.token_index]
        token = source.copy()
        token.meta = dict(source.meta or {})
        if locale != policy.source_locale:
            entry = translations.get(policy.id, locale, segment.context, flowed(segment.text))
            usable = False
            if entry is not None:
                children = parse_inline(entry.text)
                problems = check_inline(children, check_placeholder, anchors)
                problems += kept(placeholder_names(source.children or []), placeholder_names(children))
                for message in problems:
                    errors.add(entry.path, entry.line, f"clause '{segment.context}': {message}")
                if not problems:
                    token.content = entry.text
                    token.children = children
                    usable = True
            if not usable:
                token.meta["lang"] = policy.source_locale
                untranslated.append(segment)
        if formatter.options.latin_space and not (token.meta or {}).get("lang"):
            token.children = space_latin_runs(token.children or [], formatter)
        by_context[segment.context] = token
        if segment.kind == "title":
            title_token = token
        else:
            replaced[segment.token_index] = token
    assert title_token is not None
    # The title heading (its open, inline and close tokens) is rendered by the page header.
    last_title_token = document.title.token_index + 1 if document.title.token_index >= 0 else -1
    tokens = [replaced.get(i, tok) for i, tok in enumerate(document.tokens) if i > last_title_token]
    toc = _toc(document, replaced, formatter, source_formatter)
    missing = _missing_labels(formatter, [t for t in by_context.values() if formatter is source_formatter or not (t.meta or {}).get("lang")])
    return LocalizedPolicy(policy, locale, formatter, title_token, tokens, toc, untranslated, source_formatter, by_context, missing)


_INLINE_MARKUP = ("strong_open", "strong_close", "em_open", "em_close", "link_open", "link_close")


def space_latin_runs(children: list[Token], formatter: Formatter) -> list[Token]:
    """``children`` with a space between a Khmer word and a placeholder that renders a Latin
    run ("ទៅ privacy@…", "… privacy@… ដើម្បី…"), so the two do not read as one word.

    Khmer writes no spaces between words, but it does set Latin runs apart; a translator
    cannot know what a placeholder renders to, so the tool adds the space. Text tokens are
    copied before they change: the model's tokens are never touched.
    """
    out = list(children)

    def neighbour(index: int, step: int) -> int | None:
        index += step
        while 0 <= index < len(out) and out[index].type in _INLINE_MARKUP:
            index += step
        return index if 0 <= index < len(out) and out[index].type == "text" else None

    def latin(char: str) -> bool:
        return char.isalnum() and not _KHMER_START.match(char)

    for index, child in enumerate(children):
        if child.type != "placeholder":
            continue
        text = formatter.render(child.content, as_html=False)
        if not text:
            continue
        before, after = neighbour(index, -1), neighbour(index, 1)
        if before is not None and latin(text[0]) and _KHMER_END.search(out[before].content):
            out[before] = out[before].copy()
            out[before].content += " "
        if after is not None and latin(text[-1]) and _KHMER_START.match(out[after].content):
            out[after] = out[after].copy()
            out[after].content = " " + out[after].content
    return out


def _missing_labels(formatter: Formatter, tokens: list[Token]) -> tuple[tuple[str, str], ...]:
    """The glossary labels the ``formatter``'s placeholders in ``tokens`` show untranslated.

    Worked out from the tokens, not recorded while rendering, so every renderer (HTML, PDF, in
    any process and any order) sees the same answer.
    """
    # A placeholder comes back in many blocks ({{controller.name}}): each name is looked up once.
    names = {name for token in tokens for name in placeholder_names(token.children or [])}
    used = {label for name in names for label in labels_used(_ref(name, formatter.policy), formatter.policy.facts)}
    return tuple(sorted(label for label in used if formatter.label(*label)[1] is not None))


def _ref(name: str, policy: Policy) -> Ref:
    ref = resolve(name, policy.facts)
    assert isinstance(ref, Ref), ref  # the load stage rejected unknown placeholders
    return ref


def _toc(document, replaced: dict[int, Token], formatter: Formatter, source_formatter: Formatter) -> list[TocEntry]:
    roots: list[TocEntry] = []
    stack: list[TocEntry] = []
    headings = {s.context: s for s in document.segments if s.kind == "heading"}
    for section in document.sections:
        segment = headings[section.id]
        token = replaced[segment.token_index]
        fmt = source_formatter if (token.meta or {}).get("lang") else formatter
        entry = TocEntry(section.id, section.level, plain_text(token.children or [], fmt))
        while stack and stack[-1].level >= section.level:
            stack.pop()
        (stack[-1].children if stack else roots).append(entry)
        stack.append(entry)
    return roots
