"""Typed model objects: what the ``load`` stage produces and every later stage consumes.

The vocabulary follows FRBR as Akoma Ntoso uses it: a :class:`Policy` is the work at one
version; a locale is an expression of it; an HTML page is a manifestation. Facts are typed so
that a semantic diff can tell "a sensitive data category was added" from "a label was
reworded". All model objects are frozen: stages produce new objects rather than edit old ones.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from policygen.errors import Diagnostic

if TYPE_CHECKING:
    from markdown_it.token import Token

SLUG_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
"""The shape of an ID; always used with ``fullmatch`` (``$`` would accept a final newline)."""
SLUG_MAX = 64
VERSION_MAX = 32
SUPPORTED_LOCALES = ("en", "nl", "km")
WINDOWS_RESERVED = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))})
"""Device names Windows reserves, in any case and with any extension (``nul.txt``): no file or
folder can have them there, so IDs and version labels, which become folder names in a
repository meant to be checked out anywhere, may not be one."""
FIRST_DATE, LAST_DATE = date(1900, 1, 1), date(2999, 12, 31)
"""The dates policygen works with (effective dates, assessments, ``--today``): far enough
from the ends of Python's calendar that no date arithmetic on them can overflow."""
_VERSION_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_LOOKALIKES = {
    **dict(zip("аеорсухіјѕԁһԛԝӏ", "aeopcyxijsdhqwl", strict=True)),  # Cyrillic
    **dict(zip("АВЕКМНОРСТХІЈЅ", "ABEKMHOPCTXIJS", strict=True)),
    **dict(zip("οαινκρυχΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "oaivkpuxABEZHIKMNOPTYX", strict=True)),  # Greek
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2212\u00ad", "-"),  # dashes and the soft hyphen
}
"""Letters of other scripts that look like a Latin letter, for a message that says so (NFKC
covers the rest: fullwidth ``ａ``, ligatures, superscript digits)."""
_BLANKS = {"\n": "a line break", "\r": "a carriage return", "\t": "a tab", " ": "a space", "\u00a0": "a no-break space"}

DurationUnit = Literal["year", "month", "week", "day"]
_DURATION_RE = re.compile(r"P([1-9][0-9]{0,4})([YMWD])")
"""At most 99999 of a unit: Babel formats a number with 28 significant digits, and a period is compared as a float of days."""
_UNITS: dict[str, DurationUnit] = {"Y": "year", "M": "month", "W": "week", "D": "day"}
# Approximate lengths, used only to *compare* periods ("is 13 months longer than 1 year?").
_APPROX_DAYS = {"year": 365.25, "month": 30.4375, "week": 7.0, "day": 1.0}


def is_safe_slug(value: str) -> bool:
    """True for IDs that are safe to use in paths and URLs (``acme-privacy``, not ``../x``)."""
    return slug_problem(value) is None


SLUG_HINT = f"use lowercase letters, digits and single hyphens, at most {SLUG_MAX} characters (like 'data-we-collect')"


def slug_problem(value: str, hint: str = SLUG_HINT) -> str | None:
    """Why ``value`` is not a safe ID (of a policy, a section, a clause or a fact), as the end of
    a sentence that starts with the ID and says what to write instead; None for a safe one.
    ``hint`` ends the message when nothing more specific applies."""
    odd = _odd_character(value, "lowercase letters a-z, digits and hyphens")
    if odd:
        return odd
    if len(value) > SLUG_MAX or not SLUG_RE.fullmatch(value):
        return f"is not a safe slug; {hint}"
    if windows_reserved(value):
        return _RESERVED_MESSAGE
    return None


def version_problem(label: str) -> str | None:
    """Why ``label`` is not a safe version label (it names a folder of the archive), as the
    end of a sentence that starts with the label; None for a safe one."""
    odd = _odd_character(label, "letters, digits, '.', '-' and '_'")
    if odd:
        return odd
    if label.endswith("."):
        return "ends in a dot, which Windows drops from folder names ('1.' and '1' would be one folder); remove the dot"
    if len(label) > VERSION_MAX or not _VERSION_RE.fullmatch(label):
        return f"is not safe: use letters, digits, '.', '-' and '_' (at most {VERSION_MAX}, starting with a letter or digit), like 3.1 or 2026-03"
    if windows_reserved(label):
        return _RESERVED_MESSAGE
    return None


_RESERVED_MESSAGE = ("is a device name on Windows (CON, PRN, AUX, NUL, COM0-9 and LPT0-9 are reserved, in any case and with any extension), "
                     "which no file or folder there may have; choose another name")


def date_problem(value: date) -> str | None:
    """Why policygen does not work with ``value`` (as the end of a sentence), or None."""
    if FIRST_DATE <= value <= LAST_DATE:
        return None
    return f"is outside the dates policygen works with ({FIRST_DATE.isoformat()} to {LAST_DATE.isoformat()})"


def windows_reserved(name: str) -> bool:
    """True for a name Windows keeps for a device: ``con``, ``NUL.txt``, ``com1.2``."""
    return name.split(".", 1)[0].rstrip(" ").lower() in WINDOWS_RESERVED


def quoted(value: str) -> str:
    """``value`` in quotes for a message, with line breaks and invisible characters escaped, so a
    ``path:line: message`` stays on one line and shows what is really there."""
    inner = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in value)
    return f"'{inner}'"


def unusual_character(value: str) -> str | None:
    """A message about the first character of ``value`` that is neither printable ASCII nor a
    space (a line break, an invisible character, a letter that only looks Latin); else None.
    For messages about text that failed a pattern."""
    return _odd_character(value, None) if value else None


def _odd_character(value: str, allowed: str | None) -> str | None:
    """A message about an empty value or its first character that is no printable ASCII (nor,
    for IDs and labels, a space). ``allowed`` says what to use instead; None: a space is fine."""
    if not value:
        return "is empty"
    if value.isascii() and value.isprintable() and (allowed is None or " " not in value):
        return None  # the common case, without a look at each character
    for index, ch in enumerate(value):
        if ch.isascii() and ch.isprintable() and (ch != " " or allowed is None):
            continue
        where = "ends in" if index == len(value) - 1 else "starts with" if index == 0 else "contains"
        code = f"U+{ord(ch):04X}"
        if ch in _BLANKS:
            return f"{where} {_BLANKS[ch]} ({code}); remove it"
        name = unicodedata.name(ch, "")
        if not ch.isprintable() or unicodedata.category(ch) in ("Cf", "Zs", "Zl", "Zp"):
            return f"{where} the invisible character {code}{' ' + name if name else ''}; remove it"
        latin = _LOOKALIKES.get(ch) or unicodedata.normalize("NFKC", ch)
        if latin.isascii() and latin.isprintable():
            return f"{where} '{ch}' ({code} {name}), which only looks like '{latin}'; type it as '{latin}'" + (f" (use only {allowed})" if allowed else "")
        return f"{where} '{ch}' ({code} {name})" + (f"; use only {allowed}" if allowed else "")
    return None


@dataclass(frozen=True, slots=True)
class Duration:
    """A period with a single unit, as written in ISO 8601 (``P5Y``, ``P30D``)."""

    amount: int
    unit: DurationUnit

    @classmethod
    def parse(cls, text: str) -> Duration:
        match = _DURATION_RE.fullmatch(text)
        if not match:
            raise ValueError(f"not a single-unit ISO 8601 duration: {text!r}")
        return cls(int(match.group(1)), _UNITS[match.group(2)])

    @property
    def iso(self) -> str:
        return f"P{self.amount}{self.unit[0].upper()}"

    @property
    def approx_days(self) -> float:
        """Length in days, for ordering periods of different units."""
        return self.amount * _APPROX_DAYS[self.unit]


# --- the kinds of facts -----------------------------------------------------------------------

PLACEHOLDER_RE = re.compile(r"\{\{\s*([^{}\s]+)\s*\}\}")
"""A placeholder in prose, ``{{ data.health }}``; group 1 is its name. The one pattern every
stage uses (the prose parser, the diff, word counts)."""

PERIOD_IN_PROSE_RE = re.compile(r"(?<![\w.,])(\d+)\s*(years?|jaar|jaren|months?|maanden|maand|weeks?|weken|week|days?|dagen|dag)\b", re.IGNORECASE)
"""A period written out in English or Dutch prose, "5 years", "30 dagen": (amount, unit). Not the
decimals of a figure ("1.5 days", "1,5 dagen", ",5 dagen" are no "5 days") nor digits inside a
word ("x5 days"). The one pattern the diff (the longest period a clause states) and the importer
(suggested retention periods) read periods with, so that they agree on what a text states."""


@dataclass(frozen=True, slots=True)
class FactKind:
    """One kind of fact kept as a list in ``policy.yaml`` (data categories, purposes, ...).

    :data:`FACT_KINDS` is the one table of them: loading, placeholders, localizing, the diff,
    the translation status, the rules and the notices all read it, so a new kind of fact is
    added in one place.
    """

    kind: str
    """Singular ID: the subject of a change, the glossary section of its labels (``data_category``)."""
    collection: str
    """The list's key in ``policy.yaml`` and its attribute of :class:`Facts` (``data_categories``)."""
    root: str
    """The first part of a placeholder naming one (``data`` in ``{{data.health}}``)."""
    noun: str
    """How messages name one (``data category``)."""
    fields: tuple[str | None, ...]
    """What a placeholder may add after the ID (None: the fact itself, ``{{purpose.support}}``)."""
    listable: bool
    """Whether ``{{root.*}}`` lists them all."""
    labelled: bool
    """Whether each one has a label in the glossary (translated through ``glossary.po``)."""
    refs: tuple[tuple[str, str], ...] = ()
    """``(field, kind)``: fields that list IDs of another kind (a purpose's ``data``)."""
    enum_fields: tuple[tuple[str, str], ...] = ()
    """``(placeholder field, label kind)``: fields shown through policygen's own labels."""


FACT_KINDS: tuple[FactKind, ...] = (
    FactKind("data_category", "data_categories", "data", "data category", (None,), True, True),
    FactKind("purpose", "purposes", "purpose", "purpose", (None, "basis", "data"), True, True,
             refs=(("data", "data_category"),), enum_fields=(("basis", "legal_basis"),)),
    FactKind("recipient", "recipients", "recipient", "recipient", (None, "category", "data"), True, True,
             refs=(("data", "data_category"), ("purposes", "purpose")), enum_fields=(("category", "recipient_category"),)),
    FactKind("transfer", "transfers", "transfer", "transfer", (None, "country", "safeguard", "recipients"), True, False,
             refs=(("recipients", "recipient"),), enum_fields=(("safeguard", "safeguard"),)),
    FactKind("retention", "retention", "retention", "retention period", (None, "data"), False, False,
             refs=(("data", "data_category"),)),
    FactKind("right", "rights", "right", "right", (None, "channels", "response_time"), True, True,
             refs=(("channels", "contact"),)),
    FactKind("contact", "contacts", "contact", "contact", (None,), True, False),
    FactKind("complaint", "complaints", "complaint", "complaint channel", (None,), True, False),
)
KIND = {k.kind: k for k in FACT_KINDS}
"""Fact kinds by :attr:`FactKind.kind`."""
COLLECTION = {k.collection: k for k in FACT_KINDS}
"""Fact kinds by :attr:`FactKind.collection`."""
ROOT = {k.root: k for k in FACT_KINDS}
"""Fact kinds by placeholder root."""
LABELLED_KINDS = tuple(k.kind for k in FACT_KINDS if k.labelled)
"""The kinds whose labels live in the glossary."""
SCALAR_FACTS = ("minimum_age", "version", "effective_date")
"""Placeholders that name one value (``{{minimum_age}}``)."""
CONTROLLER_FIELDS = ("name", "address", "email", "phone", "url", "registration")
RISK_FIELDS = ("level", "assessed_on")


# --- facts -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Controller:
    """The organisation responsible for the processing."""

    name: str
    address: str | None = None
    email: str | None = None
    phone: str | None = None
    url: str | None = None
    registration: str | None = None


@dataclass(frozen=True, slots=True)
class DataCategory:
    """A category of personal data. ``sensitive`` ones are shown in bold and weigh heavier."""

    id: str
    sensitive: bool


@dataclass(frozen=True, slots=True)
class Purpose:
    """Why data is processed, on which legal basis, and which data categories it uses."""

    id: str
    legal_basis: str
    data: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Recipient:
    """Someone data is shared with; ``category`` is the recipient category (processor, ...)."""

    id: str
    category: str
    data: tuple[str, ...]
    purposes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Transfer:
    """A transfer of data to another country (ISO 3166-1 alpha-2) under a safeguard."""

    id: str
    country: str
    recipients: tuple[str, ...]
    safeguard: str


@dataclass(frozen=True, slots=True)
class Retention:
    """How long the listed data categories are kept."""

    id: str
    data: tuple[str, ...]
    period: Duration


@dataclass(frozen=True, slots=True)
class Right:
    """A right of the user, the contact channels to exercise it, and the promised response time."""

    id: str
    channels: tuple[str, ...]
    response_time: Duration | None = None


@dataclass(frozen=True, slots=True)
class Contact:
    """A way to reach the controller."""

    id: str
    kind: Literal["email", "url", "phone", "postal"]
    value: str


@dataclass(frozen=True, slots=True)
class Complaint:
    """A complaint channel, typically a supervisory authority."""

    id: str
    name: str
    url: str
    country: str | None = None


@dataclass(frozen=True, slots=True)
class Risk:
    """The outcome of the latest data protection impact assessment."""

    level: Literal["low", "medium", "high"]
    assessed_on: date


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything about a policy that rules can reason about.

    Every fact is optional: a prose-only policy (an import, or a team that never models its
    facts) has empty collections and no controller, minimum age or risk. An empty collection
    and a missing one look the same here; ``Policy.missing_facts`` tells them apart.
    """

    controller: Controller | None = None
    data_categories: tuple[DataCategory, ...] = ()
    purposes: tuple[Purpose, ...] = ()
    recipients: tuple[Recipient, ...] = ()
    transfers: tuple[Transfer, ...] = ()
    retention: tuple[Retention, ...] = ()
    rights: tuple[Right, ...] = ()
    minimum_age: int | None = None
    contacts: tuple[Contact, ...] = ()
    complaints: tuple[Complaint, ...] = ()
    risk: Risk | None = None

    def items(self, kind: str) -> tuple[Any, ...]:
        """The facts of ``kind`` (a :attr:`FactKind.kind`), in their order in ``policy.yaml``."""
        return getattr(self, KIND[kind].collection)

    def find(self, kind: str, ident: str) -> Any | None:
        """The fact of ``kind`` with ID ``ident``, or None."""
        return next((item for item in self.items(kind) if getattr(item, "id", None) == ident), None)

    def shown_labels(self, glossary: Glossary) -> list[Term]:
        """The glossary terms a page of this policy can show: the labels of its facts and the
        policies' names (what a cross-link reads). A label of another policy's fact is not among
        them, so editing it changes none of this policy's outputs."""
        used = {(kind, fact.id) for kind in LABELLED_KINDS for fact in self.items(kind)}
        return [t for t in glossary.all_terms() if t.kind == "policy" or (t.kind, t.id) in used]


# --- prose -------------------------------------------------------------------------------------

SegmentKind = Literal["title", "heading", "paragraph", "item", "cell", "term", "definition"]


@dataclass(frozen=True, slots=True)
class Segment:
    """One translatable block: the unit of a gettext message."""

    context: str
    """Message context (``msgctxt``): the clause ID, plus ``.N`` for list items, ``.rRcC`` for cells."""
    text: str
    """The Markdown inline source, placeholders included. This is the ``msgid``."""
    line: int
    """Line of the block in policy.md."""
    kind: SegmentKind
    clause: str
    """ID of the section or clause the segment belongs to."""
    token_index: int
    """Index of the segment's ``inline`` token in :attr:`Document.tokens`."""


@dataclass(frozen=True, slots=True)
class Section:
    """A heading and everything below it, up to the next heading of the same or a higher level."""

    id: str
    level: int
    line: int
    parent: str | None
    context: str
    """Message context of the heading text (equal to ``id``)."""


@dataclass(frozen=True, slots=True)
class Clause:
    """A block inside a section: a paragraph, a list, a table or a quote."""

    id: str
    section: str | None
    kind: str
    line: int
    explicit: bool
    """True when the author gave the ID; False when it was derived from the block's position."""


@dataclass(frozen=True, slots=True)
class Document:
    """The parsed prose of a policy in its source language."""

    tokens: tuple[Token, ...]
    """markdown-it block tokens, with ``id`` attributes set on sections and clauses."""
    title: Segment
    sections: tuple[Section, ...]
    clauses: tuple[Clause, ...]
    segments: tuple[Segment, ...]


# --- policy and project ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Policy:
    """One policy (the work) at its current version, as read from ``sources/<id>/``."""

    id: str
    source_locale: str
    locales: tuple[str, ...]
    version: str
    effective_date: date
    facts: Facts
    document: Document
    facts_path: Path
    prose_path: Path
    missing_facts: tuple[tuple[str, int], ...] = ()
    """(fact, line): the facts ``policy.yaml`` does not model (``controller``, ``recipients``, ...): ``check``
    lists them as warnings, or as errors under the project setting ``facts: required``."""

    @property
    def target_locales(self) -> tuple[str, ...]:
        """The locales that are translations (all but the source locale)."""
        return tuple(loc for loc in self.locales if loc != self.source_locale)


@dataclass(frozen=True, slots=True)
class LocaleOptions:
    """Per-locale settings from ``policygen.yaml``."""

    digits: Literal["native", "latin"] = "latin"
    """``native``: every number the tool writes (dates, durations, counts, version labels) in the
    locale's own digits (០១២… for Khmer); ``latin``: 0123…."""
    dates: Literal["native", "cldr"] = "cldr"
    """``native``: the locale's formal written date where CLDR's differs (Khmer "ថ្ងៃទី១ ខែមីនា
    ឆ្នាំ២០២៦"); ``cldr``: CLDR's long date as Babel gives it ("១ មីនា ២០២៦")."""
    lists: Literal["native", "cldr"] = "cldr"
    """``native``: lists joined as the locale's legal writing joins them where CLDR's differs
    (Khmer "ក ខ និងគ", no Latin commas); ``cldr``: CLDR's list pattern ("ក, ខ និង គ")."""
    latin_space: bool = False
    """A space between a Khmer word and a Latin run (an e-mail address, an untranslated label)
    that a placeholder puts next to it: "ទៅ privacy@…", never "ទៅprivacy@…"."""

    @classmethod
    def default(cls, locale: str) -> LocaleOptions:
        """Khmer conventions for Khmer unless a project says otherwise; CLDR's elsewhere."""
        if locale == "km":
            return cls(digits="native", dates="native", lists="native", latin_space=True)
        return cls()


@dataclass(frozen=True, slots=True)
class Config:
    """Project settings from ``policygen.yaml``."""

    path: Path
    site_title: str
    base_url: str | None
    locales: tuple[str, ...]
    glossary_locale: str
    locale_options: dict[str, LocaleOptions]
    allow_incomplete: bool = False
    """Publish incomplete translations (with a notice) instead of refusing to build."""
    prevailing: str = "source"
    """``source`` or a locale: the version that prevails over translations."""
    prevailing_statement: dict[str, str] = field(default_factory=dict)
    """Per-locale wording of the prevailing-language statement, overriding policygen's."""
    notice_days: int = 30
    """Days after its effective date that a major change keeps its banner."""
    id_authority: str | None = None
    """``feed.id_authority``: a domain or e-mail address the publisher owns, the authority of the
    feeds' ``tag:`` IDs when there is no ``base_url``."""
    pdf_variant: str = "pdf/ua-1"
    """``pdf/ua-1`` (tagged, accessible; the default) or ``pdf/a-3u`` (archival, tagged too)."""
    facts_required: bool = False
    """``facts: required``: a fact missing from ``policy.yaml`` is an error, not a warning."""
    owner: Controller | None = None
    """``site.owner``: who publishes the site, named in the pages' footer when a policy's facts
    name no controller."""

    def options(self, locale: str) -> LocaleOptions:
        return self.locale_options.get(locale, LocaleOptions.default(locale))


@dataclass(frozen=True, slots=True)
class Term:
    """A glossary label in the glossary's source language."""

    kind: str
    """A labelled fact kind, or ``policy`` for the name notices give a policy."""
    id: str
    label: str
    line: int
    form: str = ""
    """``""`` for the label itself; ``noun`` for its noun-phrase form ("customer support" for
    the purpose "helping you when you contact us"), which sentences with a noun slot use."""

    @property
    def context(self) -> str:
        return f"{self.kind}:{self.id}" + (f":{self.form}" if self.form else "")


@dataclass(frozen=True, slots=True)
class Glossary:
    """Labels for fact IDs, shared by every policy of a project."""

    path: Path
    locale: str
    terms: dict[tuple[str, str], Term]
    """(kind, ID) -> the label; kind ``policy``: the name notices give that policy mid-sentence."""
    forms: dict[tuple[str, str, str], Term] = field(default_factory=dict)
    """(kind, ID, form) -> another form of a label (``noun``)."""

    def all_terms(self) -> list[Term]:
        """Every label and form, in catalog order (by context)."""
        return sorted([*self.terms.values(), *self.forms.values()], key=lambda t: t.context)


@dataclass(frozen=True, slots=True)
class Project:
    """A loaded project: configuration, glossary and every policy."""

    root: Path
    config: Config
    glossary: Glossary
    policies: dict[str, Policy]
    warnings: tuple[Diagnostic, ...] = ()
    """Problems that do not stop a build (facts a policy does not model yet): ``check`` lists them."""

    @property
    def locales_dir(self) -> Path:
        return self.root / "locales"

    @property
    def theme_dir(self) -> Path:
        return self.root / "theme"

    def catalog_path(self, locale: str, domain: str) -> Path:
        """Where the catalog of ``domain`` (a policy ID or ``glossary``) for ``locale`` lives."""
        return self.locales_dir / locale / "LC_MESSAGES" / f"{domain}.po"

    def template_path(self, domain: str) -> Path:
        return self.locales_dir / f"{domain}.pot"
