"""Suggestions: blocks -> facts a person should confirm, each with the sentence it came from.

Facts cannot be read reliably from prose, so durations, ages, data categories and words that
mark sensitive data are suggestions, never facts; only the effective date and contact addresses
become facts of the skeleton's ``policy.yaml``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date

from policygen.importers.read import BOLD, Block


@dataclass
class Suggestion:
    kind: str
    value: str
    sentence: str
    line: int


_DURATION = re.compile(r"\b(\d{1,3})\s*(years?|months?|weeks?|days?|jaar|jaren|maanden|maand|weken|week|dagen|dag)\b", re.I)
_AGE = re.compile(r"\b(?:under|below|younger than|onder|jonger dan|beneden)\s+(?:the age of\s+|de leeftijd van\s+)?(\d{1,2})\b|"
    r"\b(\d{1,2})\s*(?:years? old|years of age|jaar of ouder|jaar en ouder)", re.I)
_SENSITIVE = re.compile(r"\b(sensitive|gevoelig\w*|biometric\w*|biometrisch\w*|health|gezondheid\w*|criminal|crimine\w*|strafrecht\w*|religio\w*|"
    r"ethnic\w*|etnisch\w*|racial|ras|genetic\w*|genetisch\w*|sexual|seksue\w*|political|politie\w*|passport|paspoort\w*|face photo|gezichtsfoto)\b", re.I)
_COLLECT = re.compile(r"collect|gather|verzamel|gegevens nodig|information we|we process|verwerken", re.I)
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
URL = re.compile(r"\b(?:https?://|www\.)[^\s)<>\]\[\"']+", re.I)
_UNITS = {"y": "Y", "j": "Y", "m": "M", "w": "W", "d": "D"}


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?;])\s+", text) if s.strip()]


def suggest(blocks: list[Block]) -> list[Suggestion]:
    found: list[Suggestion] = []
    seen: set[tuple[str, str]] = set()

    def add(kind: str, value: str, sentence: str, line: int) -> None:
        if (kind, value.lower()) not in seen:
            seen.add((kind, value.lower()))
            found.append(Suggestion(kind, value, sentence, line))

    for i, block in enumerate(blocks):
        for sentence in _sentences(block.text.replace(BOLD, "")):
            ages = {m.group(1) or m.group(2) for m in _AGE.finditer(sentence)}
            for amount, unit in _DURATION.findall(sentence):
                if amount in ages:
                    continue  # "under 14 years old" is an age, not a period
                unit_code = "M" if unit.lower().startswith(("month", "maand")) else _UNITS[unit[0].lower()]
                add("retention period", f"P{amount}{unit_code} ({amount} {unit})", sentence, block.line)
            for m in _AGE.finditer(sentence):
                add("minimum age", m.group(1) or m.group(2), sentence, block.line)
            for m in _SENSITIVE.finditer(sentence):
                add("sensitive data", m.group(1).lower(), sentence, block.line)
        if block.kind == "item":
            # An item of a list introduced by "we collect..." names a data category.
            intro = next((b for b in reversed(blocks[:i]) if b.kind != "item"), None)
            if (intro is not None and intro.kind == "paragraph" and intro.text.rstrip().endswith(":")
                    and _COLLECT.search(intro.text) and len(block.text.split()) <= 15):
                words = block.text.replace(BOLD, "").split()
                add("data category", " ".join(words[:8]) + (" …" if len(words) > 8 else ""), block.text, block.line)
    return found


def _yaml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def facts_yaml(locale: str, effective: date | None, contacts: list[tuple[str, str, int]], suggestions: list[Suggestion]) -> str:
    ages = [s.value for s in suggestions if s.kind == "minimum age"]
    email = next((v for k, v, _ in contacts if k == "email"), None)
    url = next((v for k, v, _ in contacts if k == "url"), None)
    lines = [
        "# Written by 'policygen import'. Fill in what is empty, then run 'policygen check'.",
        "# The import report (import-report.md) lists suggestions, each with the sentence it came from.",
        f"source_locale: {locale}",
        f"locales: [{locale}]",
        'version: "1.0"',
        f"effective_date: {effective.isoformat() if effective else _yaml_string('')}" + ("" if effective else "  # fill in: YYYY-MM-DD"),
        "",
        "controller:",
        f"  name: {_yaml_string('')}  # fill in: the organisation responsible for the data",
        f"  address: {_yaml_string('')}  # fill in",
    ]
    if email:
        lines.append(f"  email: {_yaml_string(email)}")
    if url:
        lines.append(f"  url: {_yaml_string(url)}")
    lines += [
        "",
        "# The prose describes these; as facts they make the semantic diff possible. See docs/source-format.md.",
        "data_categories: []",
        "purposes: []",
        "recipients: []",
        "transfers: []",
        "retention: []",
        "rights: []",
        "",
        "minimum_age: null  # fill in" + (f"; the text suggests {ages[0]}" if ages else ""),
        "",
        "contacts:" + (" []" if not contacts else ""),
    ]
    for n, (kind, value, _line) in enumerate(contacts, start=1):
        lines += [f"  - id: {kind}-{n}", f"    kind: {kind}", f"    value: {_yaml_string(value)}"]
    lines += [
        "",
        "complaints: []",
        "",
        "risk:",
        f"  level: {_yaml_string('')}  # fill in: low, medium or high (the latest impact assessment)",
        f"  assessed_on: {_yaml_string('')}  # fill in: YYYY-MM-DD",
        "",
    ]
    return "\n".join(lines)
