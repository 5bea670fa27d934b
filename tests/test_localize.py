"""Placeholders render localized facts: CLDR dates and durations, native digits, glossary
labels, bold sensitive data, sentence-start capitals. Cases live in fixtures/placeholders.txt."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import FIXTURES, MINI
from markdown_it.token import Token

from policygen.errors import Collector
from policygen.i18n.catalogs import load_translations
from policygen.i18n.localize import Formatter
from policygen.model import Duration
from policygen.render.html import _renderer
from policygen.source.load import load_project
from policygen.source.prose import PARSER, parse_inline


def read_cases() -> list[tuple[str, str, str]]:
    cases = []
    for line in (FIXTURES / "placeholders.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            locale, source, expected = line.split("\t")
            cases.append((locale, source, expected))
    return cases


@pytest.fixture(scope="module")
def formatters() -> dict[str, Formatter]:
    project = load_project(MINI)
    errors = Collector()
    translations = load_translations(project, None, errors)
    assert not errors
    policy = project.policies["mini"]
    return {loc: Formatter(project, policy, loc, translations) for loc in ("en", "nl", "km")}


CASES = read_cases()


@pytest.mark.parametrize(("locale", "source", "expected"), CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_placeholder(locale: str, source: str, expected: str, formatters: dict[str, Formatter]) -> None:
    token = Token("inline", "", 0, content=source, children=parse_inline(source))
    env = {"formatter": formatters[locale], "source_formatter": formatters["en"]}
    assert _renderer().inline(token, PARSER.options, env) == expected


@pytest.mark.parametrize(("iso", "locale", "expected"), [
    ("P1Y", "en", "1 year"), ("P2Y", "nl", "2 jaar"), ("P13M", "nl", "13 maanden"), ("P1M", "nl", "1 maand"),
    ("P2W", "en", "2 weeks"), ("P1D", "nl", "1 dag"), ("P6M", "km", "៦ ខែ"), ("P1W", "km", "១ សប្ដាហ៍"),
])
def test_durations(iso: str, locale: str, expected: str, formatters: dict[str, Formatter]) -> None:
    assert formatters[locale].duration(Duration.parse(iso)) == expected


def test_latin_digits_for_khmer_when_configured(tmp_path, formatters) -> None:
    km = formatters["km"]
    km.digit_map = None
    try:
        assert km.date(date(2026, 5, 5)) == "5 ឧសភា 2026"
    finally:
        km.__post_init__()


def test_duration_ordering() -> None:
    assert Duration.parse("P13M").approx_days > Duration.parse("P1Y").approx_days
    assert Duration.parse("P5Y").iso == "P5Y"
    with pytest.raises(ValueError):
        Duration.parse("P1Y2M")
