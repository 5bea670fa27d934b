"""Prose lexicons: the words and patterns, per language, that prose analysis and the importer read.

Each language has one file, ``policygen/data/prose/<locale>.yaml``: how a sentence names the
organisation responsible, a contact, a recipient, a country, a data category, a purpose, a period,
an age, a right, a commitment and its negation. Code never holds these words; adding a pattern
or a language is editing or adding a file (``docs/diff.md`` describes the format).
"""

from __future__ import annotations

import re
import re._parser as _parser  # type: ignore[import-not-found]  # what a pattern must match (Lexicon.needs_digit)
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

    def needs_digit(self, key: str) -> bool:
        """Whether every match of :meth:`pattern` ``key`` holds a digit (``\\d``): then a text
        without one needs no search (False when that cannot be told from the pattern)."""
        return _needs_digit(self.locale, key)


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
def _needs_digit(locale: str, key: str) -> bool:
    compiled = _compiled(locale, key)
    try:
        return _digit_in_every_match(_parser.parse(compiled.pattern, compiled.flags).data)
    except Exception:  # re._parser is internal: where it cannot tell, every text is searched
        return False


_DIGIT = re.compile(r"\d")


def _digit_in_every_match(items: Any) -> bool:
    """Whether a parsed regular expression (``re._parser``'s items) consumes a digit on every way it
    can match: one of its items in a row does (a digit, a set of digits only, a group, a repeat at
    least once, a lookaround that must hold of one), or every branch of an alternation does."""
    return any(_item_needs_digit(op, av) for op, av in items)


def _item_needs_digit(op: Any, av: Any) -> bool:
    name = str(op)
    if name == "LITERAL":
        return _DIGIT.fullmatch(chr(av)) is not None
    if name == "IN":
        return bool(av) and all(_set_item_is_digit(o, a) for o, a in av)
    if name == "SUBPATTERN":
        return _digit_in_every_match(av[-1].data)
    if name == "BRANCH":
        return all(_digit_in_every_match(branch.data) for branch in av[1])
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        return av[0] >= 1 and _digit_in_every_match(av[2].data)
    if name == "ATOMIC_GROUP":
        return _digit_in_every_match(av.data)
    if name == "ASSERT":  # a lookahead or lookbehind that must match: the text holds what it matches
        return _digit_in_every_match(av[1].data)
    return False


def _set_item_is_digit(op: Any, av: Any) -> bool:
    name = str(op)
    if name == "LITERAL":
        return _DIGIT.fullmatch(chr(av)) is not None
    if name == "RANGE":
        return av[1] - av[0] < 64 and all(_DIGIT.fullmatch(chr(c)) for c in range(av[0], av[1] + 1))
    if name == "CATEGORY":
        return str(av) == "CATEGORY_DIGIT"
    return False


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
