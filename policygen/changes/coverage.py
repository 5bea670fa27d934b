"""Prose against facts: a policy's prose and its facts -> what the prose names that no fact covers.

A policy that models a kind of fact (``recipients``, ``transfers``, ``data_categories`` in
``policy.yaml``; an empty list says "none") promises that the facts list all of them. Prose that
names a recipient (an organisation in a sentence about sharing, or a category such as
advertisers or affiliates), a country in a sentence about transfers or storage, or a data
category from the lexicon that no fact of that kind covers is a finding: ``check`` lists it as a
warning at its line, and ``diff`` grades a new sentence that names one as the rules grade the
fact that is missing (:func:`uncovered_findings`).

The mentions are found by the prose detectors' own lexicons (``policygen/data/prose/<locale>.yaml``,
:mod:`policygen.changes.prose`). A mention is *covered* when

* the sentence renders a fact of that kind through a placeholder (``{{data.health}}``: the prose
  describes that fact);
* a fact of that kind has the mentioned words in its ID or its glossary label (one distinctive
  word in common is enough: the check should point at what is missing, not at wording), or, for
  a category that is not sensitive, the lexicon entry that found the words finds the fact's label
  or shares a word with it ("IP address" and a fact "device identifiers"); a sensitive category
  needs its own words (fingerprints are not the face scan a fact covers);
* for a recipient: the name is the controller's own, a complaint authority's, or a country's, or
  the sentence also names a recipient fact by its label ("Hostwerk GmbH, our hosting company");
  for a recipient category: a recipient fact has a category that covers it
  (``recipient_category_facts``); for a country: a transfer goes there, or it is in the EEA (no
  transfer), or it is the controller's own country.

Only kinds the policy models are checked: for a prose-only policy, ``check`` lists the missing
facts themselves.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

from policygen.changes.lexicon import Lexicon, lexicon
from policygen.changes.prose import Finding, country_pattern, organisation_names, plain, sentences
from policygen.errors import Diagnostic
from policygen.model import COLLECTION as FACTS
from policygen.model import PLACEHOLDER_RE, Policy

COLLECTION = {"recipient": "recipients", "recipient-category": "recipients", "transfer": "transfers", "data-category": "data_categories"}
"""Mention kind -> the facts (``policy.yaml`` key) that should cover it."""
SUBJECT = {collection: FACTS[collection].kind for collection in dict.fromkeys(COLLECTION.values())}
"""``policy.yaml`` key -> the fact's subject in the rules."""
_ROOT = {collection: FACTS[collection].root for collection in SUBJECT}
"""``policy.yaml`` key -> the placeholder root that renders such a fact."""
FINDING_KIND = {"new-recipient": "recipient", "new-recipient-category": "recipient-category", "new-transfer": "transfer",
                "new-data-category": "data-category", "new-sensitive-data": "data-category"}
"""Prose finding -> the mention kind it is about."""
EEA = frozenset("AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO".split())
"""Countries whose data needs no transfer safeguard from an EEA controller (GDPR Chapter V)."""
_REGIONS_WITHIN = re.compile(r"^(?:Europe|European Union|European Economic Area|EU|EEA|Europa|Europese Unie|Europese Economische Ruimte)$", re.I)
_WORD = re.compile(r"[^\W_]+")
_LEGAL_FORM = re.compile(r"(?:,? (?:Inc|LLC|L\.L\.C|Ltd|Limited|GmbH|AG|SE|SA|S\.A|SAS|BV|B\.V|NV|N\.V|AB|Oy|AS|ApS|KK|PLC|Corp|Corporation|Co|"
                         r"UC|LLP|LP|VOF|V\.O\.F)\b\.?)$")


@dataclass(frozen=True, slots=True)
class Mention:
    """Something the prose names that a fact should cover."""

    kind: str
    """``recipient``, ``recipient-category``, ``transfer`` or ``data-category``."""
    quote: str
    """The words, as the prose gives them."""
    sentence: str
    term: str = ""
    """The lexicon entry that found it (a recipient or data category ID)."""
    sensitive: bool = False

    @property
    def collection(self) -> str:
        return COLLECTION[self.kind]

    @property
    def what(self) -> str:
        """The mention as a message names it ("the recipient", "the country", ...)."""
        return {"recipient": "the recipient", "recipient-category": "the recipient category", "transfer": "the country",
                "data-category": "the sensitive data category" if self.sensitive else "the data category"}[self.kind]


def mentions(sentence: str, locale: str) -> list[Mention]:
    """Recipients, recipient categories, countries and data categories one sentence names."""
    words = lexicon(locale)
    found: list[Mention] = []
    countries = country_pattern(words.locale)
    sharing = words.pattern("sharing_context").search(sentence) is not None
    transfer = words.pattern("transfer_context").search(sentence) is not None
    # "We do not share it with advertisers" names no recipient.
    if sharing and not words.pattern("negations").search(sentence):
        refused = {w.lower() for w in words.words("not_recipients")}
        before = words.pattern("recipient_before")
        for name in organisation_names(sentence, words):
            at = sentence.find(name)
            # A name is a recipient where it has a legal form or the sentence gives data to it
            # ("with X", "to X"); a law, a language or a product named in passing is not.
            if (name.lower() not in refused and not countries.fullmatch(name)
                    and (_LEGAL_FORM.search(name) or before.search(sentence[max(0, at - 40):at]))):
                found.append(Mention("recipient", name, sentence))
        for term in words.terms("recipient_categories"):
            if m := term.pattern.search(sentence):
                found.append(Mention("recipient-category", m.group(), sentence, term.id))
    if transfer:
        for country in dict.fromkeys(m.group() for m in countries.finditer(sentence)):
            found.append(Mention("transfer", country, sentence))
    # A data category counts where the sentence does something with it (collects, shares, keeps,
    # sends abroad), not where it only mentions it ("see our other policy for your ID document").
    if sharing or transfer or any(words.pattern(key).search(sentence) for key in ("collection_context", "retention_context")):
        for term in words.terms("data_categories"):
            if m := term.pattern.search(sentence):
                found.append(Mention("data-category", m.group(), sentence, term.id, term.sensitive))
    return found


class Coverage:
    """What one policy's facts cover, to match the prose's mentions against."""

    def __init__(self, policy: Policy, labels: Mapping[tuple[str, str], str]) -> None:
        self.locale = policy.source_locale
        self.words: Lexicon = lexicon(self.locale)
        self.generic = {str(w).lower() for w in self.words.words("generic_words")}
        missing = {name for name, _line in policy.missing_facts}
        self.modelled = frozenset(c for c in SUBJECT if c not in missing)
        facts = policy.facts
        self.texts: dict[str, list[str]] = {
            "recipients": [_fact_text(r.id, labels.get(("recipient", r.id), "")) for r in facts.recipients],
            "data_categories": [_fact_text(d.id, labels.get(("data_category", d.id), "")) for d in facts.data_categories],
        }
        self.labels = [labels[("recipient", r.id)].lower() for r in facts.recipients if labels.get(("recipient", r.id))]
        self.categories = {r.category for r in facts.recipients}
        self.countries = {t.country for t in facts.transfers}
        own = [facts.controller.name] if facts.controller else []
        own += [c.name for c in facts.complaints]
        self.own = {w for text in own for w in self._distinctive(text)}
        self.home = (facts.controller.address or "") if facts.controller else ""

    def covers(self, mention: Mention, rendered: Iterable[str] = ()) -> bool:
        """Whether a fact covers ``mention``; ``rendered``: the facts (``policy.yaml`` keys) the
        sentence renders through placeholders."""
        if mention.collection not in self.modelled or mention.collection in rendered:
            return True
        if mention.kind == "transfer":
            return self._covers_country(mention.quote)
        if mention.kind == "recipient-category":
            # A category is covered by a recipient of that category, or one whose label the category's
            # pattern finds ("our advertising partner"); one word in common ("platform") is not enough.
            wanted = {str(c) for c in (self.words.raw.get("recipient_category_facts") or {}).get(mention.term, [])}
            term = next((t for t in self.words.terms("recipient_categories") if t.id == mention.term), None)
            return bool(wanted & self.categories) or (term is not None and any(term.pattern.search(text) for text in self.texts["recipients"]))
        if mention.kind == "recipient" and (self._distinctive(mention.quote) & self.own or country_pattern(self.words.locale).fullmatch(mention.quote)
                                            or any(label in mention.sentence.lower() for label in self.labels)):
            return True  # our own name, an authority's, a country's; or a name given to a recipient the sentence names by its label
        term = next((t for t in self.words.terms("data_categories") if t.id == mention.term), None) if mention.kind == "data-category" else None
        if mention.sensitive:
            term = None  # for sensitive data the kind itself matters: fingerprints are not the face scan a fact covers
        wanted_words = self._distinctive(mention.quote) | (self._distinctive(f"{term.label} {term.id.replace('-', ' ')}") if term else set())
        for text in self.texts[mention.collection]:
            if (term is not None and term.pattern.search(text)) or wanted_words & self._distinctive(text):
                return True
        return False

    def _covers_country(self, name: str) -> bool:
        if _REGIONS_WITHIN.match(name):
            return True
        code = _country_codes(self.locale).get(name.lower())
        if code is None:  # a region (Asia, Latin America): the facts name countries, so any transfer may be it
            return bool(self.countries)
        return code in self.countries or code in EEA or re.search(r"\b" + re.escape(name) + r"\b", self.home) is not None

    def _distinctive(self, text: str) -> set[str]:
        """The words of ``text`` that tell facts apart, as rough stems ("facial" and "face" meet)."""
        return {_stem(w) for w in (m.group().lower() for m in _WORD.finditer(text)) if len(w) > 2 and w not in self.generic}


def _stem(word: str) -> str:
    return re.sub(r"(?:ial|al|ic|e)$", "", re.sub(r"(?:ies|es|s)$", "", word)) or word


def _fact_text(ident: str, label: str) -> str:
    return f"{ident.replace('-', ' ')} {label}"


@cache
def _country_codes(locale: str) -> dict[str, str]:
    """Country name (lowercase, English and the locale's own) -> ISO 3166-1 alpha-2 code."""
    from babel import Locale

    codes: dict[str, str] = {}
    for name in ("en", locale if locale in ("en", "nl") else "en"):
        for code, territory in Locale(name).territories.items():
            if len(code) == 2 and code.isalpha():
                codes.setdefault(territory.lower(), code)
    codes |= {"united states": "US", "usa": "US", "china": "CN", "uk": "GB", "united kingdom": "GB", "verenigde staten": "US"}
    return codes


def country_code(name: str, locale: str) -> str:
    """The ISO 3166-1 alpha-2 code of a country name (English or the locale's), or the name itself."""
    return _country_codes(locale).get(name.lower(), name)


def rendered_facts(text: str) -> set[str]:
    """The facts (``policy.yaml`` keys) a text renders through placeholders."""
    roots = {name.split(".")[0] for name in PLACEHOLDER_RE.findall(text)}
    return {collection for collection, root in _ROOT.items() if root in roots}


def uncovered(policy: Policy, labels: Mapping[tuple[str, str], str]) -> list[tuple[int, Mention]]:
    """(line in policy.md, mention) for each thing the prose names that no fact covers, the first
    time the prose names it."""
    coverage = Coverage(policy, labels)
    if not coverage.modelled:
        return []
    found: list[tuple[int, Mention]] = []
    seen: set[tuple[str, str]] = set()
    for segment in policy.document.segments:
        rendered = rendered_facts(segment.text)
        text = PLACEHOLDER_RE.sub(" ", segment.text)
        for sentence in sentences(plain(text)):
            for mention in mentions(sentence, coverage.locale):
                key = (mention.collection, " ".join(mention.quote.lower().split()))
                if key not in seen and not coverage.covers(mention, rendered):
                    seen.add(key)
                    found.append((segment.line, mention))
    return found


def warnings(policy: Policy, labels: Mapping[tuple[str, str], str]) -> list[Diagnostic]:
    """``check``'s warnings for prose that names what no fact covers, at their lines in policy.md."""
    out = []
    for line, mention in uncovered(policy, labels):
        sentence = " ".join(mention.sentence.split())
        shown = sentence if len(sentence) <= 120 else sentence[:119].rstrip() + "…"
        out.append(Diagnostic(policy.prose_path, line, f"warning: the prose names {mention.what} \"{mention.quote}\" (\"{shown}\"), "
                              f"which no fact in '{mention.collection}' covers; add it to {mention.collection} in policy.yaml "
                              f"(with its label in glossary.yaml), or reword the sentence"))
    return out


def uncovered_findings(findings: list[Finding], coverage: Coverage, clause_text: str) -> list[tuple[Finding, str | None]]:
    """The prose findings of a changed clause, each with the facts (``policy.yaml`` key) that
    should cover it and do not, or None; a finding a fact covers is dropped (the facts grade it)."""
    rendered = rendered_facts(clause_text)
    out: list[tuple[Finding, str | None]] = []
    for finding in findings:
        kind = FINDING_KIND.get(finding.kind)
        if kind is None or COLLECTION[kind] not in coverage.modelled:
            out.append((finding, None))
            continue
        term = _term_of(kind, finding.quote, coverage.words)
        sensitive = finding.kind == "new-sensitive-data"
        mention = Mention(kind, finding.quote, finding.sentence, term, sensitive)
        if not coverage.covers(mention, rendered):
            out.append((finding, mention.collection))
    return out


KIND_FINDING = {"recipient": "new-recipient", "recipient-category": "new-recipient-category", "transfer": "new-transfer",
                "data-category": "new-data-category"}


def new_mentions(before: str, after: str, old_text: str, coverage: Coverage) -> list[Finding]:
    """Findings for what the sentences ``after`` adds to ``before`` name that the old version
    (``old_text``, lowercase) never names and no fact covers: the prose findings of a clause the
    full prose analysis does not read (one that renders facts through placeholders)."""
    known = {" ".join(s.lower().split()) for s in sentences(plain(PLACEHOLDER_RE.sub(" ", before)))}
    rendered = rendered_facts(after)
    found = []
    for sentence in sentences(plain(PLACEHOLDER_RE.sub(" ", after))):
        if " ".join(sentence.lower().split()) in known:
            continue
        for mention in mentions(sentence, coverage.locale):
            if mention.quote.lower() not in old_text and not coverage.covers(mention, rendered):
                kind = "new-sensitive-data" if mention.sensitive else KIND_FINDING[mention.kind]
                found.append(Finding(kind, mention.quote, sentence))
    return sorted(found, key=lambda f: (f.rank, f.kind))


def _term_of(kind: str, quote: str, words: Lexicon) -> str:
    table = {"recipient-category": "recipient_categories", "data-category": "data_categories"}.get(kind)
    if table is None:
        return ""
    return next((t.id for t in words.terms(table) if t.pattern.fullmatch(quote) or t.pattern.search(quote)), "")
