"""Prose analysis: two versions of a clause's text -> what a privacy lawyer looks for in the change.

Works on the source language, sentence by sentence. A change that keeps the words (link targets,
formatting, whitespace, punctuation and apostrophe variants, letter case, list numbering, a date
line, a spelling fix, crawler artefacts) is *editorial*, with a reason that says which. For a
substantive change, every changed or added sentence is paired with the old sentence it most
resembles, and data-driven detectors (``policygen/data/prose/<locale>.yaml``) look for:

* a newly named organisation or recipient category in a sharing context (a new recipient);
* a newly named country or region in a transfer context (a new transfer);
* a data category or purpose the old version never names (sensitive data flagged);
* a retention period that got longer, appeared or disappeared; an age that got lower;
* a commitment that lost its negation or its strength ("we do not sell" -> "we may sell");
* a right the new version no longer names, or a scope qualifier that narrows a sentence;
* a changed company name or a changed e-mail, phone number or postal address.

"New" means absent from the whole old document, not only from the old clause, so text that moved
between sections is not mistaken for new processing. Each finding quotes the words it is about.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from policygen.changes.lexicon import Lexicon, Term, lexicon

SEVERITY = {
    "new-recipient": 0, "new-recipient-category": 0, "new-transfer": 0, "new-sensitive-data": 0, "new-data-category": 0,
    "new-purpose": 0, "longer-retention": 0, "retention-limit-removed": 0, "commitment-weakened": 0, "commitment-removed": 0,
    "right-removed": 0, "controller-changed": 0, "contact-changed": 0, "lower-age": 0,
    "scope-narrowed": 1,
    "new-retention-limit": 2, "shorter-retention": 2, "right-added": 2, "contact-added": 2, "higher-age": 2,
}
"""Finding kinds, most severe first (0 = major, 1 = review, 2 = minor); the rules decide the grade."""

_LINK_TARGET = re.compile(r"\]\([^)]*\)")
_MARKUP = re.compile(r"\\([\\`*_\[\]{}()#+\-.!|<>&~])|\*\*|__|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)|`")
_BULLET = re.compile(r"(?m)^\s*(?:[-*•·●▪◦–]|\d{1,3}[.)]|\(?[a-z0-9]{1,3}\))\s+")
_NUMBERING = re.compile(r"(?:^|(?<=[.!?:] ))(?:[A-Z]|[IVX]{2,4}|[ivx]{1,4}|\d{1,3})[.)] (?=\S)")
"""A heading's letter or number where a sentence may begin, once lines are joined: "B." in "B.
Sharing in a sale" (a lettered heading that loses its letter is renumbered, not reworded), also
when a heading was joined to the clause before it ("... to follow you. B. Information We
Collect")."""
INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
"""Characters a reader never sees (soft hyphen, zero-width space and joiners, word joiner, byte-order mark)."""
_QUOTE_PAIRS = tuple(({"’": "'", "‘": "'", "“": '"', "”": '"', "„": '"', "–": "-", "—": "-", "\u00a0": " "} | dict.fromkeys(INVISIBLE, "")).items())
_URLISH = re.compile(r"^(?:https?://|www\.|[\w-]+\.[a-z]{2,}(?:/|$))", re.I)
_CODE = re.compile(r"^(?=.*\d)(?=.*[a-z])[a-z0-9_-]{8,}$", re.I)
_PLURAL_ACRONYM = re.compile(r"[A-Z]{2,}s")
_RUN_ON = re.compile(r"(?<=[a-z)\]][.!?])(?=[A-Z][a-z])")  # a sentence's end and the next one's capital, no space between
_SENTENCE = re.compile(r"(?<=[.!?;:])\s+(?=\S)|\n+")
# An e-mail address, also as written to keep it from harvesters: "privacy (at) example.org",
# "privacy[at]example[dot]org" (_emails reads both forms as the same address).
_EMAIL = re.compile(r"[\w.%+-]+(?:@|\s?[\[(]at[\])]\s?)[\w-]+(?:(?:\.|\s?[\[(]dot[\])]\s?)[\w-]+)+")
_SPELLED_AT = re.compile(r"\s?[\[(]at[\])]\s?")
_SPELLED_DOT = re.compile(r"\s?[\[(]dot[\])]\s?")
_LINE_BREAK = re.compile(r"(?<![\])])\n(?![\[(])")
"""A line break no e-mail address can hold (:func:`_emails`)."""


def _emails(text: str) -> set[str]:
    """The e-mail addresses in ``text``, lowercase, those spelled out to keep them from harvesters
    ("privacy (at) example.org") written as addresses: changing one is changing a contact."""
    if not _may_hold_email(text):
        return set()  # every address has an "@" or a spelled "(at)": a long text without one needs no scan
    # An address holds a line break only right before a spelled "(at)" or "[dot]" or right after
    # one, so it stands within one of the lines that the other line breaks cut a long text into:
    # only the lines that may hold one are scanned, not the whole version, where the pattern tries
    # every word as an address's start.
    parts = _LINE_BREAK.split(text) if len(text) > 4096 else (text,)
    return {_SPELLED_DOT.sub(".", _SPELLED_AT.sub("@", e)).lower() for part in parts if _may_hold_email(part) for e in _EMAIL.findall(part)}
_PHONE = re.compile(r"(?<!\w)(?<!\d[.,])\+?\d[\d ().-]{6,}\d(?!\w)(?![.,]\d)")
_SPACED_DASH = re.compile(r"\s-\s")


def _phones(text: str, shortest: int = 7) -> list[str]:
    """The phone numbers a reader sees, as written. Digits glued to letters are an identifier; a run
    that starts or ends inside a figure ("2,284,441"), or figures set apart by spaced dashes (a table
    row read as a line: "34 - 4 - 30 - 12.32 days"), are amounts, not a number to call."""
    found = []
    for match in _PHONE.findall(text):
        found += [part for part in _SPACED_DASH.split(match) if len(re.sub(r"\D", "", part)) >= shortest]
    return found


@lru_cache(maxsize=4096)
def plain(markdown: str) -> str:
    """The words a reader sees: no link targets, emphasis, escapes or list markers. (Kept for
    the texts last asked about: a diff's detectors each ask about the same clause texts.)"""
    text = _LINK_TARGET.sub("]", markdown)
    text = text.replace("[", "").replace("]", "")
    if "\\" in text or "*" in text or "_" in text or "`" in text:  # every markup the pattern removes has one of them
        text = _MARKUP.sub(_unescaped, text)
    # One str.replace per character the text holds, not str.translate: translate looks each
    # character of the text up in the table, forty times slower on a long policy (the result is
    # the same: no replacement is itself a character replaced).
    for char, replacement in _QUOTE_PAIRS:
        if char in text:
            text = text.replace(char, replacement)
    return text


def _unescaped(match: re.Match[str]) -> str:
    return match.group(1) or ""


def words(text: str) -> list[str]:
    return re.findall(r"[\w@.'/:%+-]*\w|[^\w\s]", text)


_ENUMERATOR_ONLY = re.compile(r"^(?:\(?(?:\d{1,3}|[A-Za-z]|[ivxlcIVXLC]{1,5})[.)]\s*)+$")
_TRAILING_ENUMERATOR = re.compile(r"\s+\(?(?:[A-Za-z]|[ivxIVX]{2,4})[.)]$")


def sentences(text: str) -> list[str]:
    """The sentences of a text, without the list and heading numbering between them: "9. A. Who we
    are" and "1. Who we are" hold the same sentence, so renumbering a list changes none."""
    return list(_sentences(text))


@lru_cache(maxsize=4096)
def _sentences(text: str) -> tuple[str, ...]:
    found = []
    for part in _SENTENCE.split(text):
        part = _TRAILING_ENUMERATOR.sub("", part.strip())
        if len(part) > 1 and not _ENUMERATOR_ONLY.match(part):
            found.append(part)
    return tuple(found)


@dataclass(frozen=True, slots=True)
class Finding:
    """What a detector found in one changed sentence."""

    kind: str
    quote: str
    """The words it is about (a name, a country, a period, the changed commitment)."""
    sentence: str

    @property
    def rank(self) -> int:
        return SEVERITY.get(self.kind, 3)


@dataclass(frozen=True, slots=True)
class Document:
    """What the detectors need of a whole version: its plain text, once."""

    text: str
    lower: str
    words: int
    memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """What is derived from the whole text on first use (its sentences, :attr:`norm`), kept with
    it: a cache keyed by the text would compare megabytes with the text of an earlier, equal version."""

    @classmethod
    def of(cls, texts: list[str]) -> Document:
        joined = "\n".join(plain(t) for t in texts)
        return cls(joined, joined.lower(), len(joined.split()))

    @property
    def norm(self) -> str:
        """Lowercase words only, for "does this sentence occur anywhere?" (made when first asked:
        most diffs never ask)."""
        found: str | None = self.memo.get("norm")
        if found is None:
            found = self.memo["norm"] = " ".join(_WORD.findall(self.lower))  # _norm(text), lowercased once
        return found


# --- editorial -----------------------------------------------------------------------------------


def editorial_reason(before: str, after: str, locale: str = "en") -> str | None:
    """Why a change is editorial ("link target", "punctuation", ...), or None when it is substantive."""
    if before == after:
        return "no visible change"
    if _contacts(before) != _contacts(after):
        return None  # a new e-mail address or phone number is a contact change, however small the edit
    noise = lexicon(locale).pattern("crawler_noise")
    steps = [
        # "] " not "]": a link right before a bracket ("[site](url)(the Site)") must not leave "](the Site)",
        # which the next step would read as one more link target and drop.
        ("link target", lambda t: _LINK_TARGET.sub("] ", t)),
        ("formatting", lambda t: _BULLET.sub("", plain(t))),
        # A sentence run into the next one ("...here).Visitors from") is a lost space: paragraphs the page joined.
        ("whitespace", lambda t: " ".join(_RUN_ON.sub(" ", t).split())),
        ("numbering", lambda t: _NUMBERING.sub("", t)),
        ("crawler artefact", lambda t: noise.sub(" ", t)),
        # Underscores at a word's ends are emphasis the crawl left unclosed ("\\_Business Transfers\\_"), not letters.
        ("punctuation", lambda t: " ".join(w.strip("_") for w in words(t) if w.strip("_")[:1].isalnum())),
        ("capitalisation", str.lower),
    ]
    a, b = before, after
    for reason, step in steps:
        a, b = step(a), step(b)
        if a == b:
            return reason
    words_ = lexicon(locale)
    return _word_level(a.split(), b.split(), frozenset(words_.words("small_words")), frozenset(words_.words("link_words")))


_TEL_TARGET = re.compile(r"\]\(tel:([^)\s]+)\)", re.I)
_WEB_ADDRESS = re.compile(r"(?:https?://|www\.)\S+", re.I)


@lru_cache(maxsize=4096)  # asked of the same clause texts by the editorial test and the analysis
def _contacts(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """The e-mail addresses (``mailto:`` targets included) and phone numbers (digits only: the
    visible ones and ``tel:`` targets; digits inside web addresses are not phone numbers)."""
    shown = _WEB_ADDRESS.sub(" ", plain(text))
    phones = {re.sub(r"\D", "", p) for p in [*_phones(shown), *_TEL_TARGET.findall(text)]}
    return frozenset(_emails(text)), frozenset(p for p in phones if len(p) >= 7)


def _word_level(a: list[str], b: list[str], small: frozenset[str] = frozenset(), pointers: frozenset[str] = frozenset()) -> str | None:
    """Spelling fixes (compounds written apart, together or hyphenated too), a repeated word,
    small words (``small``: "of", "the"...) added or dropped, link text that is an address or
    that a web address replaces ("[here](url)" -> "at [url](url)": ``pointers``, the words a
    link is shown as, "here", "this page", "at"), identifiers and date-line changes."""
    reasons = set()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        old, new = a[i1:i2], b[j1:j2]
        if all(_URLISH.match(w) or _CODE.match(w) for w in old + new) and (old or new):
            reasons.add("link target")
        elif tag == "replace" and pointers and (_shown_address(old, new, pointers) or _shown_address(new, old, pointers)):
            reasons.add("link target")
        elif _dateish(old) and _dateish(new) and (any(_MONTH_NAME.match(t) for t in old + new) or _beside_month(a, i1, i2, old, new)):
            reasons.add("date line")
        elif tag == "replace" and len(old) == len(new) and all(
                not o.isdigit() and not n.isdigit() and difflib.SequenceMatcher(None, o, n).ratio() >= 0.75 for o, n in zip(old, new, strict=True)):
            reasons.add("spelling")
        elif tag == "replace" and "".join(old).replace("-", "") == "".join(new).replace("-", ""):
            reasons.add("spelling")  # "heads up" -> "heads-up", "home pages" -> "homepages"
        elif tag in ("delete", "insert") and _repeats(old or new, a if old else b, i1 if old else j1):
            reasons.add("repeated word")
        elif small and all(w in small for w in old + new):
            reasons.add("grammar")  # "outside of where" -> "outside where", "than necessary" -> "than is necessary"
        else:
            return None
    return ", ".join(sorted(reasons)) or None


def _shown_address(words_: list[str], address: list[str], pointers: frozenset[str]) -> bool:
    """``words_`` are only words a link is shown as ("here", "this page") and ``address`` is a web
    or e-mail address with such words at most ("at https://..."): the same link, now shown as its address."""
    return all(w in pointers for w in words_) and any(_URLISH.match(w) or _EMAIL.fullmatch(w) for w in address) \
        and all(w in pointers or _URLISH.match(w) or _EMAIL.fullmatch(w) for w in address)


def _beside_month(text: list[str], start: int, end: int, old: list[str], new: list[str]) -> bool:
    """A year or a day that changes beside a month name that stays ("July 31, 2025" -> "July 31,
    2026"): one number for one, a year within two words of the month, a day right next to it.
    Other figures near a month (a table of counts under "June 2025") are not a date."""
    if len(old) != 1 or len(new) != 1:
        return False
    if _YEAR.match(old[0]) and _YEAR.match(new[0]):
        near = text[max(0, start - 2):start] + text[end:end + 1]
    elif _DAY.match(old[0]) and _DAY.match(new[0]):
        near = text[max(0, start - 1):start] + text[end:end + 1]
    else:
        return False
    return any(_MONTH_NAME.match(t) for t in near)


_YEAR = re.compile(r"^(?:19|20)\d\d$")
_DAY = re.compile(r"^(?:[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?$")


def _repeats(run: list[str], text: list[str], start: int) -> bool:
    """The words ``run``, standing at ``start`` in ``text``, repeat the words just before or after them ("and and")."""
    n = len(run)
    return text[start - n: start] == run or text[start + n: start + 2 * n] == run


_MONTHS = re.compile(r"^(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|januari|februari|maart|mei|juni|juli|augustus|oktober)\w*$"
                     r"|^\d{1,4}(?:st|nd|rd|th)?$", re.I)


_MONTH_NAME = re.compile(r"^(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|januari|februari|maart|mei|juni|juli|augustus|oktober)\w*$", re.I)


def _dateish(tokens: list[str]) -> bool:
    return all(_MONTHS.match(t) for t in tokens)


def is_furniture(text: str) -> bool:
    """Menu entries, labels, links and short lines, not sentences of a policy: added or removed,
    they change nothing a user agreed to."""
    if not re.sub(r"\[[^\]]*\]\([^)]*\)|[\s/|•·›»-]+", "", text):
        return True  # links only
    shown = plain(text)
    if _COMPANY.search(shown):
        return False  # a table row naming a company and its address is a statement of who we are
    parts = sentences(shown)
    if len(shown.split()) < 20 and all(len(part.split()) < 8 for part in parts):
        return True
    return not re.search(r"\w[.!?:;]['\")]?(?:\s|$)", shown)


# --- detectors ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Place:
    """A country or region name found in a text (what :meth:`Places.finditer` gives)."""

    text: str
    start_at: int

    def group(self) -> str:
        return self.text

    def start(self) -> int:
        return self.start_at

    def end(self) -> int:
        return self.start_at + len(self.text)


class Places:
    """Country and region names, found as the pattern ``\\b(?:name|...)\\b`` (longest names
    first) finds them, without compiling one: an alternation of 300 names took longer to compile
    than a ``policygen check`` spends reading a policy. The names are indexed by their first four
    characters (each is longer than three), and tried only where a word begins or ends."""

    def __init__(self, names: set[str]) -> None:
        self.names = frozenset(names)
        by_start: dict[str, list[str]] = {}
        for name in names:
            by_start.setdefault(name[:4], []).append(name)
        # Longest first, as the alternation tries them: two names of one length never match at one place.
        self._by_start = {key: sorted(found, key=len, reverse=True) for key, found in by_start.items()}

    def finditer(self, text: str) -> Iterator[Place]:
        """The names ``text`` holds, left to right, each where ``\\b`` stands before and after it."""
        by_start, after = self._by_start, 0  # after: the end of the last name found (names do not overlap)
        for at in (i for m in _WORD.finditer(text) for i in m.span()):  # where a word begins or ends, in order
            if at < after or (names := by_start.get(text[at:at + 4])) is None:
                continue
            for name in names:
                end = at + len(name)
                if text.startswith(name, at) and _word_edge(text, end):
                    yield Place(name, at)
                    after = end
                    break

    def fullmatch(self, text: str) -> bool:
        """``text`` is one of the names, as a whole (a word character at each end, as ``\\b`` asks)."""
        return text in self.names and _word_edge(text, 0) and _word_edge(text, len(text))


def _word_edge(text: str, at: int) -> bool:
    """``\\b`` at ``at``: a word character on one side only."""
    return _is_word_char(text[at - 1: at]) != _is_word_char(text[at: at + 1])


def _is_word_char(char: str) -> bool:
    return bool(char) and (char.isalnum() or char == "_")  # what ``\\w`` matches


@cache
def _countries(locale: str) -> Places:
    """Every country and region name (Babel's territory names, and a few regions)."""
    from babel import Locale

    names = set(Locale(locale if locale in ("en", "nl") else "en").territories.values())
    names |= {"China", "United States", "European Union", "Europe", "Asia", "Africa", "Latin America", "South America", "Middle East"}
    return Places({n for n in names if len(n) > 3 and not n[0].isdigit()})


_LEGAL_FORMS = (r"Inc|LLC|L\.L\.C|Ltd|Limited|GmbH|AG|SE|SA|S\.A|SAS|SARL|SRL|S\.r\.l|S\.p\.A|SpA|S\.L|BV|B\.V|NV|N\.V|"
                r"VOF|AB|Oy|AS|ApS|KK|K\.K|PLC|Corp|Corporation|Co|PBC|OÜ|UC|ULC|LLP|LP")
"""Legal forms of companies: a name that ends in one is an organisation's ("Bluesky Social, PBC")."""
_LEGAL_END = re.compile(r"\b(?:" + _LEGAL_FORMS + r")\b\.?$")
_COMPANY = re.compile(r"(?-i:\b[A-Z][\w&'’-]*,? (?:" + _LEGAL_FORMS + r")\b)")
"""A company named with its legal form: who "we" are or who gets data, never page furniture."""
_DOTTED_FORM = re.compile(r"\b(?:[A-Z]\.)+[A-Z]$")
"""A legal form spelled with dots ("B.V", "N.V", "S.A", "L.L.C"), without its final dot."""


_SPELLED_OUT = {"limited": "ltd", "incorporated": "inc", "corporation": "corp", "company": "co"}


def _company_key(name: str) -> str:
    """A company's name as compared: its words, lowercase, without punctuation, the legal form
    abbreviated ("Acme, Inc." and "ACME Inc" -> "acme inc"; "Acme Limited" -> "acme ltd")."""
    return " ".join(_SPELLED_OUT.get(w, w) for w in re.findall(r"[^\W_]+", name.casefold()))


def _names(sentence: str, words_: Lexicon) -> list[str]:
    name = str(words_.raw.get("name", ""))
    if not name:
        return []
    found = []
    for match in re.finditer(name, sentence):
        value = re.sub(r"(?:[ ,]+(?:and|of|for|&|de|van|der|den|en|voor))+$", "", match.group().strip(" ,.")).strip(" ,.")
        if _DOTTED_FORM.search(value) and sentence.startswith(".", match.start() + len(value)):
            value += "."  # "B.V." keeps its last dot: the form is spelled with it
        first = match.start() == 0 or sentence[: match.start()].rstrip().endswith((".", ":", "•", "*", "-", "(", '"'))
        tokens = value.split()
        legal = re.search(r"(?:,? (?:" + _LEGAL_FORMS + r")\b\.?)$", value)
        # An acronym in the plural ("IDs", "APIs", "SDKs") is a common noun, not one organisation.
        if len(tokens) == 1 and (first or not legal and len(value) < 3 or _PLURAL_ACRONYM.fullmatch(value)):
            continue
        found.append(value)
    return found


country_pattern = _countries
"""Country and region names, one pattern per language (for :mod:`policygen.changes.coverage`)."""
organisation_names = _names
"""Names of organisations in a sentence (for :mod:`policygen.changes.coverage`)."""


def analyse(before: str, after: str, old: Document, new: Document, locale: str = "en", lead: str = "") -> list[Finding]:
    """Findings for one clause's change (``before`` is "" for an added clause, ``after`` for a removed one).
    ``lead`` is the lead-in of a list or table that stands in a block of its own (:func:`clause_lead`):
    each of its sentences is read with it, as with a lead-in inside the clause."""
    words_ = lexicon(locale)
    old_sentences, new_sentences = sentences(plain(before)), sentences(plain(after))
    known = {_norm(s) for s in old_sentences}
    findings: list[Finding] = []
    gone = {_norm(s) for s in new_sentences}
    # A dropped sentence that still stands elsewhere in the new version moved; it was not removed.
    # Finding that out searches the whole new text, so it is asked only about the sentences it
    # matters for (those about keeping data, giving a contact or making a finding): not once per
    # dropped sentence, which made a diff quadratic in the size of the policy.
    retention = words_.pattern("retention_context")
    old_pool, new_pool = _split_pool(old_sentences), _split_pool(new_sentences)
    closest_old: dict[str, str | None] = {}  # a new sentence -> the old one it rewrites: asked twice below
    removed = [s for s in old_sentences if _norm(s) not in gone and _closest(s, new_pool) is None
               and (retention.search(s) or _contact_line(s, words_) or _removed_findings(s, new, words_, new_sentences))
               and _norm(s) not in new.norm]
    # A retention sentence rewritten beyond recognition pairs with nothing: its period is still the old one.
    kept_before = " ".join(s for s in removed if words_.pattern("retention_context").search(s))
    table_leads, header_rows = _tables(after, locale)
    # A clause that says who is responsible ("the entity you contract with ... the data controller"):
    # a company put into it in a sentence of its own is one more controller.
    controls = words_.pattern("controller_cue").search(plain(after)) is not None
    for i, sentence in enumerate(new_sentences):
        if _norm(sentence) in known:
            continue
        previous = closest_old[sentence] = _closest(sentence, old_pool)
        led = new_sentences[i - 1] if i and new_sentences[i - 1].endswith(":") else table_leads.get(_norm(sentence), "") or lead
        findings += _sentence_findings(previous, sentence, old, words_, kept_before, led, header=_norm(sentence) in header_rows,
                                       controls=controls)
    for sentence in removed:
        findings += _removed_findings(sentence, new, words_, new_sentences)
    added = [s for s in new_sentences if _norm(s) not in known
             and (closest_old[s] if s in closest_old else _closest(s, old_pool)) is None]
    old_contacts = [s for s in removed if _contact_line(s, words_)]
    new_contacts = [s for s in added if _contact_line(s, words_) and _norm(s) not in old.norm]
    reworded = _reworded_contacts(old, new, words_) if new_contacts else None
    # An old contact line reworded around an address that a new line gives ("..., 82008 Montauban
    # for business customers." -> "Business customers can write to ..., 82008 Montauban.") gave
    # no address the new version lacks. (An address that only still stands where it stood before,
    # the controller's above, does not count: the address for requests that the clause gave may be
    # replaced.)
    if reworded is not None:
        old_contacts = [s for s in old_contacts if not _contact_kept(s, reworded, words_)]
    if not old_contacts and new_contacts:
        # The address may have stood in another clause: one that the new version no longer has.
        gone_lines = _contact_set(old.text, words_.locale) - _contact_set(new.text, words_.locale)
        old_contacts = sorted({_norm(s) for s in sentences(old.text) if _norm(s) in gone_lines
                               and not (reworded is not None and _contact_kept(s, reworded, words_))})
    if old_contacts and new_contacts and not any(f.kind == "contact-changed" for f in findings):
        findings.append(Finding("contact-changed", f"{old_contacts[0]} -> {new_contacts[0]}", new_contacts[0]))
    # An address only in a link target (mailto:, tel:) is a contact too, though no reader sees it as text.
    (old_mail, old_phone), (new_mail, new_phone) = _contacts(before), _contacts(after)
    if not any(f.kind == "contact-changed" for f in findings):
        for dropped, arrived in ((old_mail - new_mail, new_mail - old_mail), (old_phone - new_phone, new_phone - old_phone)):
            if dropped and arrived:
                quote = next((s for s in new_sentences if _norm(s) not in known), plain(after).strip())
                findings.append(Finding("contact-changed", f"{', '.join(sorted(dropped))} -> {', '.join(sorted(arrived))}", quote))
                break
    return sorted(findings, key=lambda f: (f.rank, f.kind))


@cache
def _contact_set(text: str, locale: str) -> frozenset[str]:
    """The lines of a version that give an address, an e-mail or a phone number (normalized)."""
    words_ = lexicon(locale)
    return frozenset(_norm(s) for s in sentences(text) if _contact_line(s, words_))


def _reworded_contacts(old: Document, new: Document, words_: Lexicon) -> Document:
    """The contact lines of the new version that the old one does not have, as one text (made
    once per diff and kept with the new version: every clause that gives a new contact asks)."""
    made = new.memo.get("reworded")
    if made is not None and made[0] is old:
        return made[1]
    known = _contact_set(old.text, words_.locale)
    fresh = _contact_set(new.text, words_.locale) - known
    found = Document.of([s for s in sentences(new.text) if _norm(s) in fresh])
    new.memo["reworded"] = (old, found)
    return found


def _contact_kept(line: str, here: Document, words_: Lexicon) -> bool:
    """Every e-mail address, phone number and postal code or street that an old contact ``line``
    gives still stands in ``here`` (the new version's new contact lines), whatever words now
    surround them."""
    mails, phones = _contacts(line)
    places = [m.group() for m in words_.pattern("postcode").finditer(line)]
    if not (mails or phones or places):
        return False
    kept = _contacts(here.text)
    padded = f" {here.norm} "
    return mails <= kept[0] and phones <= kept[1] and all(f" {_norm(p)} " in padded for p in places)


def _contact_line(sentence: str, words_: Lexicon) -> bool:
    return _is_contact_line(sentence, words_.locale)


@lru_cache(maxsize=16384)
def _is_contact_line(sentence: str, locale: str) -> bool:
    # Asked of every sentence of both versions (most of them twice: once for the version's contact
    # lines, once for the clause): the patterns that need an "@" (or "(at)") or a digit are not run
    # on a sentence without one.
    return bool((_may_hold_email(sentence) and _EMAIL.search(sentence)) or _address(sentence, lexicon(locale))
                or (_DIGIT.search(sentence) and any(len(p) >= 10 for p in _phones(sentence))))


_DIGIT = re.compile(r"\d")


def _may_hold_email(text: str) -> bool:
    """Whether ``text`` may hold an address :data:`_EMAIL` finds: each has an "@" or a spelled "(at)"."""
    return "@" in text or "at)" in text or "at]" in text


def only_furniture(before: str, after: str, locale: str = "en") -> bool:
    """Every line the change adds or drops is a menu entry, a label or a link. A row of a table
    whose header row speaks of sharing, transfers, keeping or collecting data is none of them,
    however short: "Acme — Customer support — US" under "Recipient — Purpose — Country" names a
    recipient (an item of a list whose lead-in speaks of them is the caller's to rule out:
    :func:`leads_to_data`)."""
    old_lines = {" ".join(line.split()) for line in before.split("\n")}
    new_lines = {" ".join(line.split()) for line in after.split("\n")}
    changed = (old_lines ^ new_lines) - {""}
    if not changed or not all(is_furniture(line) for line in changed) or figures_only(before, after):
        return False
    words_ = lexicon(locale)
    headers = {_norm(h) for h in (*_table_leads(before, locale).values(), *_table_leads(after, locale).values()) if h}
    return not any(words_.pattern(key).search(h) for key in TOPICS for h in headers) or not any(
        _CELL in line for line in changed)


TOPICS = ("sharing_context", "transfer_context", "retention_context", "collection_context")


def leads_to_data(lead: str, locale: str = "en") -> bool:
    """A list's lead-in speaks of sharing, transfers, keeping or collecting data: its items, however
    short, say what is shared, where or for how long, and are no page furniture."""
    words_ = lexicon(locale)
    return bool(lead) and any(words_.pattern(key).search(lead) for key in TOPICS)


def regulated_topics(before: str, after: str, locale: str = "en", lead: str = "") -> list[str]:
    """The regulated topics (sharing, transfers, retention, collection) the changed sentences are
    about. Text only taken away ("including A, B and C" -> "including A and C", a row of a table of
    recipients dropped) says less is shared, transferred or collected: of such a change, only
    retention and rights count, unless what it drops is a limit (a negation, "only", a condition,
    a scope), whose loss widens what is done. Words only put into sentences that name a right, none
    of them a limit or a statement about data of their own ("the categories or list of third
    parties"), widen the right: none count."""
    words_ = lexicon(locale)
    if figures_only(before, after):
        return []  # counts or amounts reported anew (yearly request statistics): nothing done differently
    changed = _changed_sentences(before, after, locale, lead)
    # The user deleting their account or information ("To delete your account, open Settings") uses a
    # control we give; it says nothing about how long we keep data.
    user_deletes = words_.pattern("user_deletes")
    found = [key.removesuffix("_context") for key in TOPICS
             if any(words_.pattern(key).search(user_deletes.sub(" ", s) if key == "retention_context" else s) for s in changed)]
    if any(_any_term(words_, "rights", s) for s in changed):
        found.append("rights")
    if found and _right_widened(before, after, changed, words_):
        return []  # words put into what a right covers ("the categories or list of third parties"): more for the user
    if found and _rights_added(before, after, words_):
        return []  # sentences that only give the user a way to act ("You can also complain to us"): a right added
    if found and _only_dropped(before, after, words_):
        # What is dropped must itself speak of keeping data for its loss to remove a limit: a row
        # dropped under a header "Country where it is stored" took no period away.
        kept = {_norm(s) for s in sentences(plain(after))}
        dropped = [s for s in sentences(plain(before)) if _norm(s) not in kept]
        retention = words_.pattern("retention_context")
        found = [t for t in found if t == "rights" or t == "retention" and any(retention.search(s) for s in dropped)]
    return found


_FIGURE = re.compile(r"\d(?:[\d,.]*\d)?")


def figures_only(before: str, after: str) -> bool:
    """Only figures changed (counts, amounts, years: "Requests received: 654" -> "1,325"), not a
    word: a report brought up to date. Periods and ages are read by the detectors before this."""
    if not before or not after:
        return False
    a, b = plain(_LINK_TARGET.sub("]", before)), plain(_LINK_TARGET.sub("]", after))
    return _norm(a) != _norm(b) and _norm(_FIGURE.sub("0", a)) == _norm(_FIGURE.sub("0", b))


def _only_dropped(before: str, after: str, words_: Lexicon) -> bool:
    """The new text is the old one with words taken out and nothing put in but the word that joins
    a list's last two items (``list_joiners``: "A, B and C" -> "A and B"; link targets and
    punctuation aside), and none of the words taken out is a limit (a negation, a strong word such
    as "only", a condition, a scope qualifier)."""
    a = _norm(plain(_LINK_TARGET.sub("]", before))).split()
    b = _norm(plain(_LINK_TARGET.sub("]", after))).split()
    joiners = {w.lower() for w in words_.words("list_joiners")}
    dropped = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "replace" or tag == "insert" and not all(w in joiners for w in b[j1:j2]):
            return False
        if tag == "delete":
            dropped.append(" ".join(a[i1:i2]))
    text = " | ".join(dropped)
    limits = ("negations", "strengtheners", "scope_qualifiers", "conditions")
    return bool(dropped) and not any(words_.pattern(key).search(text) for key in limits)


def _right_widened(before: str, after: str, changed: list[str], words_: Lexicon) -> bool:
    """Words only put in (none taken out) to sentences that each name a right ("request a copy of
    ... the categories or list of third parties"), and the words put in are no limit (a negation,
    a weak or strong word, a condition, a scope; "you may" grants, it weakens nothing) and no
    statement of their own about sharing, transfers, collection or keeping data: the right covers
    more, or is said more precisely."""
    if not changed or not all(_any_term(words_, "rights", s) for s in changed):
        return False
    a = _norm(plain(_LINK_TARGET.sub("]", before))).split()
    b = _norm(plain(_LINK_TARGET.sub("]", after))).split()
    added = []
    for tag, _i1, _i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag in ("replace", "delete"):
            return False
        if tag == "insert":
            added.append(" ".join(b[j1:j2]))
    # "you may" grants the user a choice: it weakens nothing of ours ("you may make a complaint to us").
    text = words_.pattern("user_may").sub(" ", " | ".join(added))
    keys = ("negations", "weakeners", "strengtheners", "scope_qualifiers", "conditions", *TOPICS)
    return bool(added) and not any(words_.pattern(key).search(text) for key in keys)


def _rights_added(before: str, after: str, words_: Lexicon) -> bool:
    """Whole sentences only put in (every old sentence of the clause stands as it was), each naming
    a right, and, with the right's own words set aside ("delete your personal information" names
    erasure, it keeps no data), none speaks of sharing, transfers, collection or keeping data, denies
    anything (a negation) or leaves something to us (``our_discretion``: "we may refuse"): the user
    gets a right, or a way to use one, that the clause did not give."""
    old_keys = {_norm(s) for s in sentences(plain(before))}
    after_sentences = sentences(plain(after))
    if not old_keys <= {_norm(s) for s in after_sentences}:
        return False
    added = [s for s in after_sentences if _norm(s) not in old_keys]
    rights = words_.terms("rights")
    for sentence in added:
        if not _any_term(words_, "rights", sentence):
            return False
        rest = sentence
        for term in rights:
            rest = term.pattern.sub(" ", rest)
        if any(words_.pattern(key).search(rest) for key in ("negations", "our_discretion", *TOPICS)):
            return False
    return bool(added)


def says_nothing_about_data(before: str, after: str, locale: str = "en", lead: str = "") -> bool:
    """The sentences a change adds or drops use no word about personal data, its processing, the
    user's rights or how to reach the company (a shop banner, a form's thank-you line); a list's
    items are read with their lead-in (``lead``)."""
    vocabulary = lexicon(locale).pattern("privacy_words")
    changed = _changed_sentences(before, after, locale, lead)
    return bool(changed) and not any(vocabulary.search(s) or _COMPANY.search(s) for s in changed)


def repeated_contact_dropped(before: str, after: str, new: Document, locale: str = "en") -> bool:
    """Sentences only taken away, each a way to reach us that the new version still gives (every
    e-mail address and phone number it names stands in the new version) and says nothing else a
    detector reads (no right, nothing about sharing, transfers, keeping or collecting data), or a
    label with no word about personal data ("Summary:"): a contact line said twice, now once."""
    words_ = lexicon(locale)
    old_parts, new_parts = sentences(plain(before)), sentences(plain(after))
    old_keys, new_keys = {_norm(s) for s in old_parts}, {_norm(s) for s in new_parts}
    dropped = [s for s in old_parts if _norm(s) not in new_keys]
    if not dropped or any(_norm(s) not in old_keys for s in new_parts):
        return False
    vocabulary = words_.pattern("privacy_words")
    statements = [s for s in dropped if vocabulary.search(s)]
    if not statements:
        return False
    kept = new.memo.get("contacts")
    if kept is None:
        kept = new.memo["contacts"] = _contacts(new.text)
    for sentence in statements:
        mails, phones = _contacts(sentence)
        if not (mails or phones) or not (mails <= kept[0] and phones <= kept[1]):
            return False
        if _any_term(words_, "rights", sentence) or any(words_.pattern(k).search(sentence) for k in TOPICS):
            return False
    return True


def only_version_notes(before: str, after: str, locale: str = "en") -> bool:
    """The sentences a change adds or drops are notes on the policy's own versions ("This policy
    takes effect on ...", "the previous version is here"): with the policy's name set aside, they
    use no word about personal data, and at least one is such a note."""
    words_ = lexicon(locale)
    vocabulary, notes, names = words_.pattern("privacy_words"), words_.pattern("version_notes"), words_.pattern("policy_names")
    changed = _changed_sentences(before, after, locale)
    return any(notes.search(s) for s in changed) and not any(vocabulary.search(names.sub(" ", s)) for s in changed)


def renamed_name(before: str, after: str, new: Document, locale: str = "en", old: Document | None = None) -> str | None:
    """``"Acme Pay -> Acme payment services"`` when every edit of a clause replaces the end of a
    name whose first, capitalised word stays with words that describe it ("Acme Pay" -> "Acme
    payment services"), and the old name stands nowhere in the new version (renamed throughout, not
    in one sentence): a product or feature now called by what it is; what is done with data is not
    said to change. A new name ("Acme Routes" -> "Acme Journeys") may be another product or another
    recipient, and edits that put in or take out a limit (a negation, "only", a condition) are
    never a rename. A name the ``old`` version already uses is no new one, though: a name made the
    same as elsewhere in the policy ("Acme, Inc" -> "Acme LLC" where the policy calls itself Acme
    LLC) or written out in full ("Acme Shipping" -> "AcmeCommerce Shipping" where AcmeCommerce is
    named) is a rename too, when the old name is gone from the new version."""
    a = [w for w in words(plain(_LINK_TARGET.sub("]", before))) if w[0].isalnum()]
    b = [w for w in words(plain(_LINK_TARGET.sub("]", after))) if w[0].isalnum()]
    words_ = lexicon(locale)
    limits = [words_.pattern(key) for key in ("negations", "strengtheners", "weakeners", "conditions")]
    renames: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        old_part, new_part = a[i1:i2], b[j1:j2]
        if tag != "replace" or not i1 or not j1 or len(old_part) > 3 or len(new_part) > 4:
            return None
        if any(p.search(" ".join(old_part + new_part)) for p in limits):
            return None
        first = a[i1 - 1]
        if new_part[0][0].isupper():
            # Another name: a rename only to one the old version already uses ("Acme LLC",
            # "AcmeCommerce"), from one the new version no longer uses anywhere.
            if old is None or (known := _known_name(a, i1, i2, b, j1, j2, old, new)) is None:
                return None
            renames.append(known)
            continue
        if not first[0].isupper() or not old_part[0][0].isupper():
            return None
        old_name = " ".join([first, *old_part])
        if re.search(r"\b" + re.escape(old_name) + r"\b", new.text):
            return None  # still used: not renamed throughout
        renames.append(f"{old_name} -> {' '.join([first, *new_part])}")
    return renames[0] if renames else None


def _phrase(tokens: list[str]) -> re.Pattern[str]:
    """Words as they stand in a text, whatever punctuation or spaces are between them ("Acme, Inc")."""
    return re.compile(r"(?<!\w)" + r"\W+".join(re.escape(t) for t in tokens) + r"(?!\w)")


def _phrase_in(tokens: list[str], text: str) -> bool:
    """:func:`_phrase` of ``tokens`` stands in ``text``; a text without one of the words (most often
    the case: a name new to it) is not searched with a pattern compiled for it."""
    return all(t in text for t in tokens) and _phrase(tokens).search(text) is not None


def _known_name(a: list[str], i1: int, i2: int, b: list[str], j1: int, j2: int, old: Document, new: Document) -> str | None:
    """``"Acme Inc -> Acme LLC"`` when ``a[i1:i2]`` -> ``b[j1:j2]`` renames a name to one the old
    version already uses: every word of both sides is capitalised, the new words stand in the old
    version (with the capitalised word before them when they are only a legal form: "Acme LLC", not
    "LLC"), and the old words, with each capitalised word beside them, stand nowhere in the new
    version; else None."""
    old_part, new_part = a[i1:i2], b[j1:j2]
    if not all(w[0].isupper() for w in old_part + new_part):
        return None
    left = a[i1 - 1] if a[i1 - 1][0].isupper() and b[j1 - 1] == a[i1 - 1] else None
    right = a[i2] if i2 < len(a) and a[i2][0].isupper() else None
    forms_only = all(re.fullmatch(_LEGAL_FORMS, w) for w in new_part)
    known = [[left, *new_part]] if left else []
    if not forms_only:
        known.append(new_part)
    if not any(_phrase_in(k, old.text) for k in known):
        return None
    gone = ([[left, *old_part]] if left else []) + ([[*old_part, right]] if right else []) or [old_part]
    if any(_phrase_in(g, new.text) for g in gone):
        return None
    named = ""  # a legal form is quoted with the name it follows: "Acme Tea Inc -> Acme Tea LLC", not "Inc -> LLC"
    k = i1
    while forms_only and k > max(0, i1 - 4) and j1 - (i1 - k) > 0 and a[k - 1][0].isupper() and a[k - 1] == b[j1 - (i1 - k) - 1]:
        k -= 1
        named = f"{a[k]} {named}"
    return f"{named}{' '.join(old_part)} -> {named}{' '.join(new_part)}"


def _changed_sentences(before: str, after: str, locale: str = "en", lead: str = "") -> list[str]:
    """The sentences one side has and the other lacks, each with its lead-in: a list that follows
    "Countries to which personal data is transferred:" is about transfers, though the colon ends
    the sentence that says so (``lead``: the lead-in of a list in a block of its own)."""
    old_keys = _led(sentences(plain(before)), _table_leads(before, locale), lead)
    new_keys = _led(sentences(plain(after)), _table_leads(after, locale), lead)
    return [old_keys[k] for k in old_keys.keys() - new_keys.keys()] + [new_keys[k] for k in new_keys.keys() - old_keys.keys()]


def moved_text(before: str, after: str, old: Document, new: Document) -> bool:
    """Every sentence the change adds was in the old version, and every one it drops is still in
    the new one: text moved between clauses, split or merged, without new words."""
    old_keys, new_keys = {_norm(s) for s in sentences(plain(before))}, {_norm(s) for s in sentences(plain(after))}
    old_all, new_all = _sentence_set(old), _sentence_set(new)
    added, dropped = new_keys - old_keys, old_keys - new_keys
    return bool(added or dropped) and all(k in old_all for k in added) and all(k in new_all for k in dropped)


def _led(parts: list[str], table: dict[str, str] | None = None, clause_lead: str = "") -> dict[str, str]:
    """Each sentence by its key, the text the sentence before it if that one ends in a colon, or
    else, for a row of a table, the table's header row (``table``, from :func:`_table_leads`), or
    else the lead-in of the list or table the clause is (``clause_lead``)."""
    led: dict[str, str] = {}
    for i, part in enumerate(parts):
        key = _norm(part)
        lead = parts[i - 1] if i and parts[i - 1].endswith(":") else (table or {}).get(key, "") or clause_lead
        led[key] = f"{lead} {part}" if lead else part
    return led


def clause_lead(previous: str, locale: str = "en") -> str:
    """The lead-in a list or a table takes from the paragraph right before it (``previous``, in the
    same section): that paragraph's last sentence, when it ends in a colon or announces what follows
    (``list_lead``: "the following", "as follows"); else "". The import makes a paragraph and the
    list after it two blocks, so "We share your name with these providers:" and its items are two
    clauses, but a reader reads the items with it."""
    last = sentences(plain(previous))[-1:]
    if last and (last[0].endswith(":") or lexicon(locale).pattern("list_lead").search(last[0])):
        return last[0]
    return ""


_CELL = " — "
"""How the importer joins the cells of a table row (importers.read)."""


def _table_leads(text: str, locale: str = "en") -> dict[str, str]:
    """The header row each table row's sentence stands under, by the sentence's key (:func:`_tables`)."""
    return _tables(text, locale)[0]


def _tables(text: str, locale: str = "en") -> tuple[dict[str, str], set[str]]:
    """The header row of the table each sentence of a row stands in, by the sentence's key, in
    plain text. A table's first row says what its cells are ("Recipient — Data disclosed —
    Country"), as a lead-in that ends in a colon says what a list is. Only a header that speaks of
    personal data (``data_words``) leads: a table of the group's companies by country says who we
    are, not where data goes. A first row that reads like data (a long cell, a full stop) is no
    header, and its table's rows get none. Also returns the keys of the header rows' sentences."""
    about_data = lexicon(locale).pattern("data_words")
    leads: dict[str, str] = {}
    headers: set[str] = set()
    header: str | None = None  # None: not in a table; "": in a table without a header row
    for line in text.split("\n"):
        if _CELL not in line:
            header = None
            continue
        if header is None:
            cells = [plain(c).strip() for c in line.split(_CELL)]
            header = " - ".join(cells) if all(0 < len(c.split()) <= 6 and not c.endswith(".") for c in cells) else ""
            header = header if about_data.search(header) else ""
            if header:
                headers.update(_norm(part) for part in sentences(plain(line)))
                continue
        if header:
            for part in sentences(plain(line)):
                leads.setdefault(_norm(part), header)
    return leads, headers


def _sentence_set(document: Document) -> frozenset[str]:
    found = document.memo.get("sentences")
    if found is None:
        found = document.memo["sentences"] = frozenset(_norm(s) for s in sentences(document.text))
    return found


_WORD = re.compile(r"\w+")


@lru_cache(maxsize=16384)
def _norm(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def _split_pool(pool: list[str]) -> list[tuple[str, list[str]]]:
    """Sentences with their lowercase words, for :func:`_closest` (split once, not once per sentence asked about)."""
    return [(candidate, candidate.lower().split()) for candidate in pool]


def _closest(sentence: str, pool: list[tuple[str, list[str]]]) -> str | None:
    """The sentence of ``pool`` (made by :func:`_split_pool`) most like ``sentence``, if one is more than half alike."""
    best, best_ratio = None, 0.5
    if not pool:
        return None  # a clause added or removed whole: nothing to compare with
    target = sentence.lower().split()
    matcher: difflib.SequenceMatcher[str] | None = None  # made for the first candidate long enough to pass
    for candidate, candidate_words in pool:
        # SequenceMatcher.real_quick_ratio, from the lengths alone, before any matcher is made.
        length = len(candidate_words) + len(target)
        if (2.0 * min(len(candidate_words), len(target)) / length if length else 1.0) <= best_ratio:
            continue
        if matcher is None:
            matcher = difflib.SequenceMatcher(None, autojunk=False)
            matcher.set_seq2(target)
        matcher.set_seq1(candidate_words)
        if matcher.quick_ratio() > best_ratio:
            ratio = matcher.ratio()
            if ratio > best_ratio:
                best, best_ratio = candidate, ratio
    return best


def _absent(pattern: re.Pattern[str], document: Document) -> bool:
    return pattern.search(document.text) is None


def _unseen(words_found: str, document: Document) -> bool:
    """The words a pattern found (their singular too) appear nowhere in the document, however they
    are joined there: "interest based advertising" is "interest-based advertising"."""
    lower = " ".join(words_found.lower().split())
    if lower in document.lower or lower.rstrip("s") in document.lower:
        return False
    padded = document.memo.get("padded")
    if padded is None:
        padded = document.memo["padded"] = f" {document.norm} "  # whole words only, made once per version
    joined = _norm(lower)
    return f" {joined} " not in padded and f" {joined.rstrip('s')}" not in padded


_CONNECTORS = {"and", "of", "for", "the", "&", "de", "du", "la", "van", "der", "den", "en", "voor"}


def _new_name(name: str, old: Document) -> bool:
    """A name the old version never uses: one of its distinctive words is new to it."""
    if name.lower() in old.lower:
        return False
    tokens = [t for t in re.findall(r"[\w&'’]+", name) if t.lower() not in _CONNECTORS and len(t) > 2 and t[0].isupper()]
    return any(not _has_word(t.lower(), old, lower=True) for t in tokens if not re.fullmatch(_LEGAL_FORMS, t))


def _has_word(word: str, document: Document, lower: bool = False) -> bool:
    """``re.search(r"\\b" + re.escape(word) + r"\\b", text)`` of the document's text (its lowercase
    text with ``lower``), without a scan of the whole text for each word: a word of letters and
    digits only stands between two word boundaries exactly where it is one of the text's runs of
    word characters, a set made once per version. Other words are searched for once each."""
    key = "lower_words" if lower else "text_words"
    runs: frozenset[str] | None = document.memo.get(key)
    if runs is None:
        runs = document.memo[key] = frozenset(_WORD.findall(document.lower if lower else document.text))
    if _WORD.fullmatch(word):
        return word in runs
    searched: dict[tuple[str, bool], bool] = document.memo.setdefault("searched_words", {})
    found = searched.get((word, lower))
    if found is None:
        found = searched[(word, lower)] = re.search(r"\b" + re.escape(word) + r"\b", document.lower if lower else document.text) is not None
    return found


def _sentence_findings(old_sentence: str | None, sentence: str, old: Document, words_: Lexicon, dropped: str = "",
                       lead: str = "", header: bool = False, controls: bool = False) -> list[Finding]:
    """Findings for one new sentence; ``lead`` is the sentence before it when that one ends in a
    colon and so says what the list in this one is ("Countries we transfer data to:"). A table's
    header row (``header``) names columns ("Category of Personal Information"), not recipients.
    ``controls``: the sentence's clause says who is responsible for the data (``controller_cue``)."""
    found: list[Finding] = []
    led = f"{lead} {sentence}" if lead else sentence

    def add(kind: str, quote: str) -> None:
        found.append(Finding(kind, quote, sentence))

    before = old_sentence or ""
    sharing = words_.pattern("sharing_context").search(led) is not None
    old_names = _names(before, words_) if old_sentence else []
    if sharing:
        refused = {w.lower() for w in words_.words("not_recipients")}
        countries = _countries(words_.locale)
        # A name without a legal form that takes the place of one with the same first word in the
        # sentence it rewrites is a renamed product ("Evernote Teams" -> "Evernote Enterprise").
        replaced = {n.split()[0] for n in old_names if n not in sentence}
        for name in [] if header else _names(sentence, words_):
            renamed = name.split()[0] in replaced and not _LEGAL_END.search(name)
            if not _only_places(name, refused, countries) and not renamed and not _ours(name, sentence, words_) and _new_name(name, old):
                add("new-recipient", name)
        for term in _terms_in(words_, "recipient_categories", sentence):
            if (m := term.pattern.search(sentence)) and not term.pattern.search(before) and _unseen(m.group(), old):
                add("new-recipient-category", m.group())
    elif not header:
        # A company named with its legal form that collects or uses data itself ("Acme Ads LLC may
        # collect and use ...") gets data from our service, whatever the sentence calls it.
        collects = words_.pattern("company_collects")
        for name in _names(sentence, words_):
            if _LEGAL_END.search(name) and any(collects.match(sentence, m.end()) for m in re.finditer(re.escape(name), sentence)) \
                    and _new_name(name, old):
                add("new-recipient", name)
        # So does one whose own privacy notice the sentence sends the reader to ("[Acme's privacy
        # notice](...)" in a cookie table's new row): it is told what that company does with the data.
        refused = {w.lower() for w in words_.words("not_recipients")}
        places = _countries(words_.locale)
        for name, first, titled in _their_notices(sentence, words_):
            tokens = name.split()
            while first and len(tokens) > 1 and _has_word(tokens[0].lower(), old):  # "See Acme": "see" is a word of the text
                tokens.pop(0)
            name = " ".join(tokens)
            # A notice for a place ("California Privacy Notice", "United States Consumer Privacy
            # Notice") is the policy's own part for the people who live there; so is a title made of
            # words the text also writes in lowercase ("Consumer Privacy Notice"): no company's name.
            if next(places.finditer(name), None) is not None or any(t.lower() in refused for t in tokens) \
                    or titled and all(_has_word(t.lower(), old) for t in tokens):
                continue
            if not any(f.quote == name for f in found) and not _only_places(name, refused, places) \
                    and not _ours(name, sentence, words_) and _new_name(name, old):
                add("new-recipient", name)
    if old_sentence and words_.pattern("controller_cue").search(sentence):
        # Who "we" are: a company newly named beside the one that stays is a new controller.
        companies = [n for n in old_names if _LEGAL_END.search(n)]
        if companies and all(n in sentence for n in companies):
            for name in _names(sentence, words_):
                if _LEGAL_END.search(name) and name not in companies and name.lower() not in old.lower:
                    add("controller-changed", f"{' and '.join(companies)} -> {' and '.join([*companies, name])}")
                    break
    elif not old_sentence and controls and not header and not any(f.kind == "new-recipient" for f in found) \
            and not words_.pattern("other_roles").search(led):
        # A sentence of its own put into a clause on who is responsible, naming a company the old
        # version never names ("For UK users your operating entity will be Acme North Ltd"): one more
        # controller; unless it names the company as another role (our data protection officer, our
        # representative in the EU), which is a way to reach us.
        for name in _names(sentence, words_):
            if _LEGAL_END.search(name) and name.lower() not in old.lower:
                add("controller-changed", f"{name}, newly named in a clause on who is responsible")
                break
    if words_.pattern("transfer_context").search(led):
        # A country named as where the user is ("If you are located in Brazil, our Brazil supplement
        # applies") is no destination, wherever else the sentence names it.
        scope, named = words_.pattern("scope_qualifiers"), list(_countries(words_.locale).finditer(sentence))
        users = {m.group() for m in named if _where_user_is(sentence, m.start(), scope)}
        for country in sorted({m.group() for m in named} - users):
            if not _has_word(country, old):
                add("new-transfer", country)
    collecting = words_.pattern("collection_context").search(sentence) is not None
    for term in _terms_in(words_, "data_categories", sentence):
        for m in term.pattern.finditer(sentence):
            # New to the document, or newly added to a sentence that says what is collected.
            if m.group().lower() not in before.lower() and (_unseen(m.group(), old) or (old_sentence and collecting)):
                add("new-sensitive-data" if term.sensitive else "new-data-category", m.group())
                break
    for term in _terms_in(words_, "purposes", sentence):
        for m in term.pattern.finditer(sentence):
            if _unseen(m.group(), old) and m.group().lower() not in before.lower():
                add("new-purpose", m.group())
                break
    found += [Finding(kind, quote, sentence) for kind, quote in _retention(before, sentence, old, words_, "" if old_sentence else dropped)]
    if old_sentence:
        found += [Finding(kind, quote, sentence) for kind, quote in _pair_findings(old_sentence, sentence, words_)]
    else:
        for term in _terms_in(words_, "rights", sentence):
            if (m := term.pattern.search(sentence)) and _absent(term.pattern, old):
                add("right-added", m.group())
        for email in _EMAIL.findall(sentence):
            if email.lower() not in old.lower:
                add("contact-added", email)
    return found


def _terms_in(words_: Lexicon, key: str, sentence: str) -> tuple[Term, ...]:
    """The terms of the table ``key`` to try on ``sentence``: none when no term matches it,
    found with one search of all of them together (a sentence names no data category most of
    the time, and trying each of dozens of patterns on each changed sentence dominated a diff)."""
    terms = words_.terms(key)
    joined = _joined_terms(words_.locale, key)
    return terms if joined is None or joined.search(sentence) else ()


def _any_term(words_: Lexicon, key: str, text: str) -> bool:
    """Whether a term of the table ``key`` matches ``text``: one search of all of them together
    (:func:`_joined_terms`), not one per term."""
    joined = _joined_terms(words_.locale, key)
    if joined is None:
        return any(term.pattern.search(text) for term in words_.terms(key))
    return joined.search(text) is not None


@cache
def _joined_terms(locale: str, key: str) -> re.Pattern[str] | None:
    """One pattern that matches a text where any term of ``key`` does (an alternation matches
    wherever one of its parts does); None when the patterns cannot be joined (the same group
    name in two of them): then each is tried."""
    try:
        return re.compile("|".join(f"(?:{term.pattern.pattern})" for term in lexicon(locale).terms(key)), re.I)
    except re.error:
        return None


_NOTICE_WORDS = re.compile(r"(?:\s+(?:privacy|cookie|data|protection|notice|policy|statement|information|"
                           r"privacyverklaring|privacybeleid|cookieverklaring|cookiebeleid))+$", re.I)


def _their_notices(sentence: str, words_: Lexicon) -> list[tuple[str, bool, bool]]:
    """Organisations whose own privacy notice ``sentence`` points to: a name right before
    ``their_notice_after`` ("Acme's privacy notice", "Acme Privacy Policy") or right after
    ``their_notice_before`` ("the privacy policy of Acme"); the name without its "'s", whether it
    begins the sentence (then its first word may be no part of it: "See Acme's privacy notice"),
    and whether it is only the start of a notice's title ("Acme Privacy Policy": also the way a
    policy names its own parts, "Consumer Privacy Notice")."""
    name = str(words_.raw.get("name", ""))
    if not name or not words_.pattern("policy_names").search(sentence):  # no notice named at all
        return []
    after, before = words_.pattern("their_notice_after"), words_.pattern("their_notice_before")
    found = []
    for match in re.finditer(name, sentence):
        value, titled = match.group(), False
        # A capitalised notice ("Acme Privacy Policy") is read as part of the name: cut off, it is the sign.
        notice = _NOTICE_WORDS.search(value)
        if notice and notice.start() > 0 and after.match(value, notice.start()):
            value, points = value[: notice.start()], True
            titled = not re.search(r"(?:'s|’s)$", value)
        else:
            points = after.match(sentence, match.end()) is not None or before.search(sentence, 0, match.start()) is not None
        value = re.sub(r"(?:'s|’s)$", "", value.strip(" ,.")).strip(" ,.")
        if points and value and value[0].isupper():
            first = match.start() == 0 or sentence[: match.start()].rstrip().endswith((".", ":", "•", "*", "-", "(", '"', "|"))
            found.append((value, first, titled))
    return list(dict.fromkeys(found))


def _ours(name: str, sentence: str, words_: Lexicon) -> bool:
    """Each time the sentence names ``name`` (one without a legal form), words right before it make it
    one of ours (``own_name``: "for using our Acme Rewards service"): a product of the company
    itself, not an organisation that data goes to."""
    if _LEGAL_END.search(name):
        return False
    own = words_.pattern("own_name")
    starts = [m.start() for m in re.finditer(re.escape(name), sentence)]
    return bool(starts) and all(own.search(sentence, 0, start) for start in starts)


def _only_places(name: str, refused: set[str], countries: Places) -> bool:
    """The name is one of ``not_recipients`` or a country, or a list of them ("Kentucky and
    Virginia", "Iowa, Ohio"): where users live, a law or the policy's own words, not an organisation."""
    parts = [p for p in re.split(r"\s*(?:,|\band\b|\bor\b|&)\s*", name) if p]
    if name.lower() in refused or countries.fullmatch(name):  # a whole name with '&' in it: "Bosnia & Herzegovina"
        return True
    return bool(parts) and all(p.lower() in refused or countries.fullmatch(p) for p in parts)


def _where_user_is(sentence: str, start: int, scope: re.Pattern[str]) -> bool:
    """The country at ``start`` follows a scope qualifier ("If you are located in Brazil", "residents
    of the United Kingdom"): it says where the user is, not where data goes."""
    last = None
    for match in scope.finditer(sentence, 0, start):
        last = match
    return last is not None and re.fullmatch(r"\s*(?:the\s+)?", sentence[last.end():start], re.I) is not None


def _retention(before: str, after: str, old: Document, words_: Lexicon, dropped: str = "") -> list[tuple[str, str]]:
    """Periods compared: ``before`` is the old sentence ``after`` rewrites; for a sentence that
    rewrites none, ``dropped`` holds the clause's vanished sentences about keeping data, whose
    period ("deleted immediately") a new one ("kept for 30 days") replaces."""
    context = words_.pattern("retention_context")
    if not context.search(after) and not context.search(before):
        return []
    a, b = _longest(before, words_), _longest(after, words_)
    immediate = words_.pattern("immediate")
    if a is None and immediate.search(before):
        a = (0.0, immediate.search(before).group())  # type: ignore[union-attr]
    if b is None and immediate.search(after):
        b = (0.0, immediate.search(after).group())  # type: ignore[union-attr]
    if a is None and b is not None and dropped:
        a = _longest(dropped, words_) or ((0.0, m.group()) if (m := immediate.search(dropped)) else None)
    if a and b:
        if b[0] > a[0] * 1.01:
            return [("longer-retention", f"{a[1]} -> {b[1]}")]
        if b[0] < a[0] / 1.01:
            return [("shorter-retention", f"{a[1]} -> {b[1]}")]
        return []
    if a and not b and before and context.search(after):
        return [("retention-limit-removed", a[1])]
    if b and not a and context.search(after):
        return [("new-retention-limit", b[1])]
    return []


def _longest(text: str, words_: Lexicon) -> tuple[float, str] | None:
    numbers = {str(k): v for k, v in (words_.raw.get("number_words") or {}).items()}
    units = {str(k): float(v) for k, v in (words_.raw.get("unit_days") or {}).items()}
    best: tuple[float, str] | None = None
    for match in words_.pattern("durations").finditer(text):
        amount_text, unit = match.group(1).lower(), match.group(2).lower()
        amount = int(amount_text) if amount_text.isdigit() else numbers.get(amount_text, 0)
        days = amount * next((v for k, v in units.items() if unit.startswith(k)), 0.0)
        if best is None or days > best[0]:
            best = (days, match.group())
    return best


def _pair_findings(before: str, after: str, words_: Lexicon) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    negation, verbs = words_.pattern("negations"), words_.pattern("commitment_verbs")
    if negation.search(before) and verbs.search(before) and not negation.search(after) and verbs.search(after):
        found.append(("commitment-weakened", f"{_around(before, negation)} -> {_around(after, verbs)}"))
    elif negation.search(after):
        # A promise that keeps its negation but names fewer of the things it rules out ("we do not
        # sell or share" -> "we do not sell") was narrowed: what it no longer rules out may happen.
        promised, kept = _promised(before, negation, verbs), _promised(after, negation, verbs)
        if kept and set(kept) < set(promised):
            narrowed = ", ".join(v for v in promised if v not in kept)
            found.append(("commitment-weakened", f"{_around(before, negation)} -> {_around(after, negation)} (no longer promised: {narrowed})"))
    strong, weak = words_.pattern("strengtheners"), words_.pattern("weakeners")
    lost = {m.group().lower() for m in strong.finditer(before)} - {m.group().lower() for m in strong.finditer(after)}
    gained = {m.group().lower() for m in weak.finditer(after)} - {m.group().lower() for m in weak.finditer(before)}
    if lost and gained:
        found.append(("commitment-weakened", f"{', '.join(sorted(lost))} -> {', '.join(sorted(gained))}"))
    scope = words_.pattern("scope_qualifiers")
    if (m := scope.search(after)) and not scope.search(before):
        found.append(("scope-narrowed", m.group()))
    # Lists in the order the sentences name them, not sets: which name the reason quotes must not
    # depend on string hashing (PYTHONHASHSEED), or the same diff would read differently per run.
    old_names, new_names = list(dict.fromkeys(_names(before, words_))), list(dict.fromkeys(_names(after, words_)))
    legal = _LEGAL_END
    # Compared as spelled apart from punctuation, case and the legal form's abbreviation: "Acme,
    # Inc." and "Acme Inc" (or "Acme Limited" and "Acme Ltd") are one company written two ways.
    old_keys, new_keys = {_company_key(n) for n in old_names}, {_company_key(n) for n in new_names}
    renamed_from = [n for n in old_names if _company_key(n) not in new_keys and legal.search(n)]
    renamed_to = [n for n in new_names if _company_key(n) not in old_keys and legal.search(n)]
    if renamed_from and renamed_to:
        found.append(("controller-changed", f"{renamed_from[0]} -> {renamed_to[0]}"))
    old_emails, new_emails = _emails(before), _emails(after)
    if old_emails and new_emails and old_emails != new_emails:
        found.append(("contact-changed", f"{', '.join(sorted(old_emails - new_emails))} -> {', '.join(sorted(new_emails - old_emails))}"))
    old_phones = {re.sub(r"\D", "", p) for p in _phones(before)}
    new_phones = {re.sub(r"\D", "", p) for p in _phones(after)}
    if old_phones and new_phones and old_phones != new_phones:
        found.append(("contact-changed", f"{', '.join(sorted(old_phones - new_phones))} -> {', '.join(sorted(new_phones - old_phones))}"))
    elif _address(before, words_) and _address(after, words_) and _numbers(before) != _numbers(after):
        found.append(("contact-changed", after))
    ages = words_.pattern("ages")
    a = [int(x) for m in ages.finditer(before) for x in m.groups() if x]
    b = [int(x) for m in ages.finditer(after) for x in m.groups() if x]
    if a and b and min(b) < min(a):
        found.append(("lower-age", f"{min(a)} -> {min(b)}"))
    elif a and b and min(b) > min(a):
        found.append(("higher-age", f"{min(a)} -> {min(b)}"))
    return found


def _promised(text: str, negation: re.Pattern[str], verbs: re.Pattern[str]) -> list[str]:
    """The commitment verbs a negation in ``text`` rules out: those in the ten words after it, up to
    the end of its clause, where the negation governs a verb at once ("do not sell or share", "never
    knowingly sell"). A negation of some other verb ("never pass on the codes, and keep ...") rules
    out none of them: the verbs after it belong to another clause."""
    found: list[str] = []
    for m in negation.finditer(text):
        span = " ".join(re.split(r"[.;:!?]", text[m.end():], maxsplit=1)[0].split()[:10])
        listed = list(verbs.finditer(span))
        if listed and len(span[:listed[0].start()].split()) <= 1:
            found += [v.group().lower() for v in listed]
    return list(dict.fromkeys(found))


def _around(text: str, pattern: re.Pattern[str]) -> str:
    m = pattern.search(text)
    if not m:
        return text[:60]
    return " ".join(text[max(0, m.start() - 30): m.end() + 30].split())


def _address(text: str, words_: Lexicon) -> bool:
    street = r"\b\d{1,5} [A-Z][a-z]+ (?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Drive|Way)\b"
    digit = _DIGIT.search(text) is not None
    if not digit and words_.needs_digit("postcode"):
        return False  # a postcode has digits (the lexicons' patterns say so): most sentences have none
    return words_.pattern("postcode").search(text) is not None or (digit and re.search(street, text) is not None)


def _numbers(text: str) -> set[str]:
    return set(re.findall(r"\d+", text))


def _removed_findings(sentence: str, new: Document, words_: Lexicon, kept: list[str] = []) -> list[Finding]:  # noqa: B006 (read only)
    """Findings for an old sentence that nothing in the new version continues; ``kept`` are the
    new sentences of its clause."""
    found: list[Finding] = []
    negation, verbs = words_.pattern("negations"), words_.pattern("commitment_verbs")
    if negation.search(sentence) and verbs.search(sentence) and re.search(r"\b(?:we|our|us)\b", sentence, re.I):
        promised = {m.group().lower() for m in verbs.finditer(sentence)}
        # Reworded, not dropped, when a new sentence of the clause still says we do not do it.
        if not any(negation.search(s) and promised & {m.group().lower() for m in verbs.finditer(s)} for s in kept):
            found.append(Finding("commitment-removed", _around(sentence, negation), sentence))
    for term in _terms_in(words_, "rights", sentence):
        if (m := term.pattern.search(sentence)) and _absent(term.pattern, new):
            found.append(Finding("right-removed", m.group(), sentence))
    return found
