"""Facts read from the text: blocks -> the facts of the skeleton's ``policy.yaml``.

Only what prose states reliably becomes a fact: the effective date (from a "Last updated" or
"Effective" line), the organisation responsible (when the text names it: "Acme Ltd ("we")",
"Acme Ltd is the controller"), and contacts found in contact contexts: e-mail addresses, phone
numbers next to "call" or in a contact section, and web and postal addresses in a contact
section. A contact's ID is derived from its value (``email-privacy-acme-org``), never from its
position, so an added link elsewhere changes no ID. Everything else is left out: a missing
fact is a warning of ``policygen check`` (docs/source-format.md), not an invented value.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date

from policygen.changes.lexicon import lexicon
from policygen.importers.read import HIDDEN_EMAIL, Block
from policygen.importers.structure import date_line, only_a_date, parse_date, value_id

EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,5}\.[A-Za-z]{2,24}\b")
URL = re.compile(r"(?<![\w/.:])(?:https?://|www\.)[^\s)<>\]\[\"'`]{1,500}", re.I)
_TYPOGRAPHY = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "\u00a0": " ", "\u200b": ""})
PHONE = re.compile(r"(?<![\w+])\+?\(?\d[\d ().-]{6,18}\d(?![\w])")


@dataclass(frozen=True, slots=True)
class Found:
    """A fact read from the text, with where it was read."""

    kind: str
    value: str
    line: int
    sentence: str = ""

    @property
    def id(self) -> str:
        return value_id(self.kind, self.value)


@dataclass(frozen=True, slots=True)
class Dated:
    when: date
    exact: bool
    """False when the text gives only a month ("January 2020"): its first day is used."""
    line: int
    sentence: str
    alone: bool
    """The block says nothing else, so it leaves the prose."""


_LAW_BEFORE = re.compile(r"\b(?:Act|Law|Regulation|Directive|Code|Bill|Amendment|Decree)\b\W{0,3}$")
"""A date line right after the name of a law ("... Customer Privacy Act, effective on July 1, 2020")
gives the date the law takes effect, not the policy's."""


def effective_date(blocks: list[Block]) -> Dated | None:
    """The first "Last updated" / "Effective" date of the text."""
    for block in blocks:
        if block.kind not in ("paragraph", "heading", "item"):
            continue
        for match in date_line().finditer(block.text[:400]):
            parsed = parse_date(match.group(1))
            if parsed and not _LAW_BEFORE.search(block.text, 0, match.start()):
                return Dated(parsed[0], parsed[1], block.line, block.text, only_a_date(block.text, match))
    return None


def contacts(blocks: list[Block], locale: str) -> list[Found]:
    """Contacts from contact contexts, each value once, in the order the text gives them."""
    words = lexicon(locale)
    heading_cue, phone_cue, postcode = words.pattern("contact_heading"), words.pattern("phone_cue"), words.pattern("postcode")
    found: dict[tuple[str, str], Found] = {}
    in_contact = False

    def add(kind: str, value: str, block: Block) -> None:
        # A contact is data: typographic quotes and spacing are not part of it ("O’Reilly" is "O'Reilly").
        value = " ".join(value.translate(_TYPOGRAPHY).split())
        found.setdefault((kind, value.lower()), Found(kind, value, block.line, block.text))

    for block in blocks:
        if block.kind == "heading":
            in_contact = heading_cue.search(block.text) is not None
            continue
        text = block.text
        if "protected" in text:
            text = " ".join(HIDDEN_EMAIL.sub(" ", text).split())  # not part of a postal address: see hidden_emails
        if "@" in text:
            for email in EMAIL.findall(text):
                local, _at, domain = email.rstrip(".").rpartition("@")
                add("email", f"{local}@{domain.lower()}", block)  # a domain has no case: one address, one value
        if block.kind == "contact":
            continue
        if in_contact or phone_cue.search(text):
            for match in PHONE.finditer(text):
                digits = re.sub(r"\D", "", match.group())
                if 8 <= len(digits) <= 15 and not re.fullmatch(r"(19|20)\d{2}", digits[:4]) or match.group().startswith("+"):
                    add("phone", " ".join(re.sub(r"[().]", " ", match.group()).split()), block)
        if in_contact:
            for url in URL.findall(text):
                url = url.rstrip(".,;:!?")
                if "@" not in url:
                    add("url", url if url.lower().startswith("http") else "https://" + url, block)
            if len(text) <= 300 and postcode.search(text) and not EMAIL.search(text):
                add("postal", " ".join(text.split()), block)
    return list(found.values())


def hidden_emails(blocks: list[Block]) -> list[Found]:
    """The places where the page hid an e-mail address ("[email protected]"), each block once: a
    person must write the real address in, as no text of the page gives it."""
    return [Found("hidden email", "[email protected]", block.line, block.text)
            for block in blocks if block.kind != "heading" and "protected" in block.text and HIDDEN_EMAIL.search(block.text)]


def controller(blocks: list[Block], locale: str) -> Found | None:
    """The organisation the text names as responsible, from the first sentence that says so."""
    words = lexicon(locale)
    name = str(words.raw.get("name", r"[A-Z][\w.&-]*(?: [A-Z][\w.&-]*)*"))
    patterns = [re.compile(p.replace("NAME", name), re.I) for p in words.words("controller")]
    refused = {w.lower() for w in words.words("not_names")}
    for block in blocks:
        if block.kind not in ("paragraph", "item") or len(block.text) < 20:
            continue
        for pattern in patterns:
            for match in pattern.finditer(block.text[:3000]):
                value = _trim(match.group("name"))
                if (value and value.lower() not in refused and len(value) >= 2 and not value.isdigit()
                        and not _asked(value, block.text, match.end())):
                    return Found("controller", value, block.line, block.text)
    return None


_ASKING = re.compile(r"(?:who|what|which|whose|wie|wat|welke?)\b", re.I)
_SENTENCE_END = re.compile(r"[.!?;:]")


def _asked(name: str, text: str, end: int) -> bool:
    """The match is a question ("Who is the data controller?"), or a heading that asks one
    ("Who is the data controller", a list item over its answer): it names no one. The answer,
    later in the text, is found instead."""
    if _ASKING.fullmatch(name.split()[0]):
        return True
    stop = _SENTENCE_END.search(text, end)
    return stop is not None and stop.group() == "?"


def _trim(name: str) -> str:
    name = name.strip(" ,*")
    if name.endswith(".") and not re.search(r"\b(?:[A-Za-z]\.){2,}$", name):
        name = name[:-1]
    name = re.sub(r"^(?:The|This|If|When|Where|In|For|At)\s+", "", name)
    name = re.sub(r"(?:,|\s+(?:and|of|for|&|de|van|der|den))+$", "", name)
    return name.strip(" ,")


def _yaml(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def facts_yaml(locale: str, dated: Dated | None, today: date, owner: Found | None, found: list[Found], version: str = "1.0") -> str:
    """``policy.yaml`` of the skeleton: what the text states, and comments for the rest."""
    when = dated.when if dated else today
    note = "" if dated and dated.exact else ("  # the text gives only the month: check the day" if dated else
                                             "  # no date in the text: the day of the import; correct it")
    lines = [
        "# Written by 'policygen import'. Facts make 'policygen diff' sharper; the import report",
        "# (import-report.md) lists what the text suggests, each with the sentence it came from.",
        f"source_locale: {locale}",
        f"locales: [{locale}]",
        f"version: {_yaml(version)}",
        f"effective_date: {when.isoformat()}{note}",
    ]
    first = {kind: next((f.value for f in found if f.kind == kind), None) for kind in ("email", "phone", "url")}
    if owner is not None:
        lines += ["", "controller:", f"  name: {_yaml(owner.value)}  # from line {owner.line}"]
        postal = next((f.value for f in found if f.kind == "postal"), None)
        if postal:
            lines.append(f"  address: {_yaml(postal)}")
        for kind, value in first.items():
            if value:
                lines.append(f"  {kind}: {_yaml(value)}")
    if found:
        lines += ["", "contacts:"]
        seen: set[str] = set()
        for item in found:
            if item.id in seen:
                continue
            seen.add(item.id)
            lines += [f"  - id: {item.id}", f"    kind: {item.kind}", f"    value: {_yaml(item.value)}"]
    lines += [
        "",
        "# Not modelled yet ('policygen check' lists them as warnings): data_categories, purposes,",
        "# recipients, transfers, retention, rights, minimum_age, complaints, risk. See docs/source-format.md.",
        "",
    ]
    return "\n".join(lines)
