"""Suggestions: blocks -> facts a person should confirm, each with the sentence it came from.

Facts cannot be read reliably from prose, so durations, ages, data categories and words that
mark sensitive data are suggestions, never facts (:mod:`policygen.importers.facts` reads the few
that prose states reliably).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from policygen.importers.read import Block
from policygen.model import PERIOD_IN_PROSE_RE


@dataclass
class Suggestion:
    kind: str
    value: str
    sentence: str
    line: int


# Not the decimals of a figure ("1.19 days" is no period of 19 days): the diff's pattern, so that
# a suggested period is one the diff sees in the same text.
_DURATION = PERIOD_IN_PROSE_RE
_AGE = re.compile(r"\b(?:under|below|younger than|onder|jonger dan|beneden)\s+(?:the age of\s+|de leeftijd van\s+)?(\d{1,2})\b|"
    r"\b(\d{1,2})\s*(?:years? old|years of age|jaar of ouder|jaar en ouder)", re.I)
_SENSITIVE = re.compile(r"\b(sensitive|gevoelig\w*|biometric\w*|biometrisch\w*|health|gezondheid\w*|criminal|crimine\w*|strafrecht\w*|religio\w*|"
    r"ethnic\w*|etnisch\w*|racial|ras|genetic\w*|genetisch\w*|sexual|seksue\w*|political|politie\w*|passport|paspoort\w*|face photo|gezichtsfoto)\b", re.I)
_COLLECT = re.compile(r"collect|gather|verzamel|gegevens nodig|information we|we process|verwerken", re.I)
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

    intro: Block | None = None
    for block in blocks:
        for sentence in _sentences(block.text):
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
        if block.kind != "item":
            intro = block
        else:
            # An item of a list introduced by "we collect..." names a data category.
            if (intro is not None and intro.kind == "paragraph" and intro.text.rstrip().endswith(":")
                    and _COLLECT.search(intro.text) and len(block.text.split()) <= 15):
                words = block.text.split()
                add("data category", " ".join(words[:8]) + (" …" if len(words) > 8 else ""), block.text, block.line)
    return found
