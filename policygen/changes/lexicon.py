"""Prose lexicons: the words and patterns, per language, that prose analysis and the importer read.

Each language has one file, ``policygen/data/prose/<locale>.yaml``: how a sentence names the
organisation responsible, a contact, a recipient, a country, a data category, a purpose, a period,
an age, a right, a commitment and its negation. Code never holds these words; adding a pattern
or a language is editing or adding a file (``docs/diff.md`` describes the format).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from policygen.resources import package_file, package_yaml

LANGUAGES = ("en", "nl", "km")


@dataclass(frozen=True, slots=True)
class Term:
    """One entry of a lexicon: an ID, the pattern that finds it, and what it is."""

    id: str
    pattern: re.Pattern[str]
    sensitive: bool = False
    label: str = ""


@dataclass(frozen=True, slots=True)
class Lexicon:
    """A language's patterns, compiled."""

    locale: str
    raw: dict[str, Any]

    def pattern(self, key: str) -> re.Pattern[str]:
        """One pattern (a string, or a list of alternatives, in the file)."""
        return _compiled(self.locale, key)

    def terms(self, key: str) -> tuple[Term, ...]:
        """A table of named patterns (``data_categories``, ``purposes``, ...)."""
        return _terms(self.locale, key)

    def words(self, key: str) -> tuple[str, ...]:
        return tuple(self.raw.get(key) or ())


def reads(locale: str) -> bool:
    """Whether the prose analysis reads ``locale``: it has a lexicon of its own (English and
    Dutch). Another language's sentences match none of the English patterns, so that nothing
    is found in them says nothing about what they say."""
    return lexicon(locale).locale == locale


@cache
def lexicon(locale: str) -> Lexicon:
    """The lexicon of ``locale``; a language without its own file reads the English one."""
    name = locale if package_file("data", "prose", f"{locale}.yaml").is_file() else "en"
    return Lexicon(name, package_yaml("data", "prose", f"{name}.yaml"))


def _alternatives(value: Any) -> str:
    if isinstance(value, list):
        return "|".join(f"(?:{v})" for v in value)
    return str(value)


@cache
def _compiled(locale: str, key: str) -> re.Pattern[str]:
    raw = lexicon(locale).raw
    if key not in raw:
        return re.compile(r"(?!x)x")  # matches nothing: the language does not describe this
    return re.compile(_alternatives(raw[key]), re.I)


@cache
def _terms(locale: str, key: str) -> tuple[Term, ...]:
    table = lexicon(locale).raw.get(key) or {}
    found = []
    for ident, spec in table.items():
        if isinstance(spec, dict):
            found.append(Term(ident, re.compile(r"\b(?:" + _alternatives(spec["pattern"]) + r")", re.I), bool(spec.get("sensitive")),
                              str(spec.get("label", ident.replace("-", " ")))))
        else:
            found.append(Term(ident, re.compile(r"\b(?:" + _alternatives(spec) + r")", re.I), False, ident.replace("-", " ")))
    return tuple(found)
