"""Placeholders render localized facts: CLDR dates and durations, native digits, glossary
labels, bold sensitive data, sentence-start capitals. Cases live in fixtures/placeholders.txt."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import yaml
from conftest import FIXTURES, MINI
from markdown_it.token import Token

from policygen.build import build
from policygen.errors import Collector, SourceError
from policygen.i18n.catalogs import load_translations
from policygen.i18n.localize import Formatter, space_latin_runs
from policygen.model import Duration
from policygen.render.html import _renderer
from policygen.source.load import load_project
from policygen.source.prose import parse_inline, parser


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
    formatter = formatters[locale]
    children = parse_inline(source)
    if formatter.options.latin_space:  # as the localize stage does
        children = space_latin_runs(children, formatter)
    token = Token("inline", "", 0, content=source, children=children)
    env = {"formatter": formatter, "source_formatter": formatters["en"]}
    assert _renderer().inline(token, parser().options, env) == expected


@pytest.mark.parametrize(("iso", "locale", "expected"), [
    ("P1Y", "en", "1\u00a0year"), ("P2Y", "nl", "2\u00a0jaar"), ("P13M", "nl", "13\u00a0maanden"), ("P1M", "nl", "1\u00a0maand"),
    ("P2W", "en", "2\u00a0weeks"), ("P1D", "nl", "1\u00a0dag"), ("P6M", "km", "៦\u00a0ខែ"), ("P1W", "km", "១\u00a0សប្ដាហ៍"),
])
def test_durations(iso: str, locale: str, expected: str, formatters: dict[str, Formatter]) -> None:
    assert formatters[locale].duration(Duration.parse(iso)) == expected


KHMER_DIGIT = re.compile("[\u17e0-\u17e9]")


def khmer_page(project: Path, digits: str | None, out: Path) -> str:
    """The Khmer privacy page of ``project`` built with ``locale_options: {km: {digits: ...}}``
    in policygen.yaml, or with no locale options at all."""
    config = project / "policygen.yaml"
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data.pop("locale_options", None)
    if digits is not None:
        data["locale_options"] = {"km": {"digits": digits}}
    config.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    # After the notice period of the last release: no banner, whose text was frozen at release.
    build(project, ["tonle-privacy"], ["km"], output_dir=out, formats=["html"], today=date(2026, 6, 1))
    return (out / "tonle-privacy" / "km" / "index.html").read_text(encoding="utf-8")


def test_latin_digits_for_khmer_when_configured(sample: Path, tmp_path: Path) -> None:
    latin = khmer_page(sample, "latin", tmp_path / "latin")
    assert '<time datetime="2026-03-01">ថ្ងៃទី1\u00a0ខែមីនា ឆ្នាំ2026</time>' in latin
    assert 'data-digits="latin"' in latin
    assert KHMER_DIGIT.findall(latin) == []  # dates, durations, numbers: all in Latin digits
    native = khmer_page(sample, None, tmp_path / "default")  # without the setting: Khmer digits
    assert '<time datetime="2026-03-01">ថ្ងៃទី១\u00a0ខែមីនា ឆ្នាំ២០២៦</time>' in native
    assert 'data-digits="native"' in native
    assert "ថ្ងៃទី1" not in native


def test_duration_ordering() -> None:
    assert Duration.parse("P13M").approx_days > Duration.parse("P1Y").approx_days
    assert Duration.parse("P5Y").iso == "P5Y"
    with pytest.raises(ValueError):
        Duration.parse("P1Y2M")


def test_khmer_lists(formatters: dict[str, Formatter]) -> None:
    km = formatters["km"]
    assert km.list_of(["ឈ្មោះ", "អាសយដ្ឋាន", "លេខទូរស័ព្ទ"]) == "ឈ្មោះ អាសយដ្ឋាន និងលេខទូរស័ព្ទ"
    assert km.list_of(["ឈ្មោះ", "privacy@x.example"]) == "ឈ្មោះ និង privacy@x.example"
    assert km.list_of(["ឈ្មោះ", '<a href="mailto:a@x.example">a@x.example</a>']).endswith('និង <a href="mailto:a@x.example">a@x.example</a>')
    assert km.list_of(["ឈ្មោះ"]) == "ឈ្មោះ"
    assert "," not in km.list_of(["ក", "ខ", "គ", "ឃ"])
    assert formatters["nl"].list_of(["a", "b", "c"]) == "a, b en c"


def khmer_with(project: Path, **options: object) -> tuple[Formatter, Path]:
    """A Khmer formatter for the sample's privacy policy with ``locale_options: {km: options}``."""
    config = project / "policygen.yaml"
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["locale_options"] = {"km": options}
    config.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    loaded = load_project(project)
    errors = Collector()
    translations = load_translations(loaded, None, errors)
    assert not errors
    return Formatter(loaded, loaded.policies["tonle-privacy"], "km", translations), config


def test_khmer_conventions_by_default_and_each_overridable(sample: Path) -> None:
    default, _ = khmer_with(sample)
    assert default.date(date(2026, 3, 1)) == "ថ្ងៃទី១\u00a0ខែមីនា ឆ្នាំ២០២៦"
    assert default.version("3.0") == "៣.០" and default.number(1200) == "១,២០០"
    assert default.list_of(["ក", "ខ", "គ"]) == "ក ខ និងគ"
    assert default.options.latin_space
    cldr, _ = khmer_with(sample, dates="cldr", lists="cldr", latin_space=False)
    assert cldr.date(date(2026, 3, 1)) == "១\u00a0មីនា\u00a0២០២៦"  # digits stay native: each option on its own
    assert cldr.list_of(["ក", "ខ", "គ"]) == "ក, ខ និង គ"
    assert cldr.options.latin_space is False
    children = parse_inline("ទៅ{{contact.privacy-email}}")
    assert space_latin_runs(children, default)[0].content == "ទៅ "
    assert children[0].content == "ទៅ"  # the input tokens are not touched
    latin, _ = khmer_with(sample, digits="latin")
    assert latin.date(date(2026, 3, 1)) == "ថ្ងៃទី1\u00a0ខែមីនា ឆ្នាំ2026" and latin.version("3.0") == "3.0"


def test_bad_locale_option_is_reported_at_its_line(sample: Path) -> None:
    config = sample / "policygen.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "    dates: formal\n", encoding="utf-8")
    with pytest.raises(SourceError) as raised:
        load_project(sample)
    assert f"{config}:" in str(raised.value) and "dates" in str(raised.value)



@pytest.mark.parametrize("locale", ["en", "nl", "km"])
@pytest.mark.parametrize(("kind", "source"), [
    ("retention period", "{{retention.account}}"),
    ("response time", "{{right.access.response_time}}"),
    ("effective date", "{{effective_date}}"),
    ("assessment date", "{{risk.assessed_on}}"),
    ("age, its unit in the prose", "{{minimum_age}} years / {{minimum_age}} jaar / {{minimum_age}} ឆ្នាំ"),
    ("number in the prose", "30 days, 12 maanden, ៣០ ថ្ងៃ"),
])
def test_numbers_never_part_from_their_units(kind: str, source: str, locale: str, formatters: dict[str, Formatter]) -> None:
    """Every kind of formatted fact binds its number to its unit with a no-break space, in every
    locale, so that no line ends between "6" and "months" (or "១" and "ឆ្នាំ")."""
    formatter = formatters[locale]
    token = Token("inline", "", 0, content=source, children=parse_inline(source))
    rendered = _renderer().inline(token, parser().options, {"formatter": formatter, "source_formatter": formatters["en"]})
    text = re.sub(r"<[^>]*>", "", rendered)
    assert re.search(r"\d\u00a0[^\W\d_]|[^\W\d_]\u00a0\d", text), (kind, locale, text)
    assert not re.search(r"\d\s(?<!\u00a0)[^\W\d_]|[^\W\d_]\s(?<!\u00a0)\d", text), (kind, locale, text)


def test_a_number_never_parts_from_the_word_around_it_in_a_date_or_period(formatters: dict[str, Formatter]) -> None:
    assert formatters["en"].date(date(2026, 3, 1)) == "March\u00a01, 2026"  # the year may go to the next line
    assert formatters["nl"].date(date(2026, 3, 1)) == "1\u00a0maart\u00a02026"
    assert formatters["km"].date(date(2026, 3, 1)) == "ថ្ងៃទី១\u00a0ខែមីនា ឆ្នាំ២០២៦"  # Khmer writes its digits against the word
    assert formatters["km"].duration(Duration.parse("P1Y")) == "១\u00a0ឆ្នាំ"
    assert formatters["nl"].duration(Duration.parse("P6M")) == "6\u00a0maanden"
    # Code keeps its spaces: a reader copies it as written.
    token = Token("inline", "", 0, content="`P5Y 2 years` 5 years", children=parse_inline("`P5Y 2 years` 5 years"))
    env = {"formatter": formatters["en"], "source_formatter": formatters["en"]}
    assert _renderer().inline(token, parser().options, env) == "<code>P5Y 2 years</code> 5\u00a0years"
