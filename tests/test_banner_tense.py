"""The banner's list of changes follows the date, like its first sentence: before the effective
date the sentences recorded at release ("We will keep ..."), once the release is in force the
same changes as they are now ("We now keep ..."), in en, nl and km; numbers keep their units."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path

import pytest
from conftest import built_sample

from policygen.changes.notices import items_in_force
from policygen.errors import Collector
from policygen.i18n.catalogs import load_translations
from policygen.i18n.localize import Formatter
from policygen.resources import notice_templates
from policygen.source.load import load_project

IN_FORCE = {
    "en": ["We now keep marketing preferences longer: 2\u00a0years instead of 1\u00a0year.",
           "We now keep messages and calls with our support team longer: 1\u00a0year instead of 6\u00a0months."],
    "nl": ["We bewaren marketingvoorkeuren nu langer: 2\u00a0jaar in plaats van 1\u00a0jaar.",
           "We bewaren berichten en telefoongesprekken met onze klantenservice nu langer: 1\u00a0jaar in plaats van 6\u00a0maanden."],
    "km": ["ឥឡូវនេះ យើងរក្សាទុកជម្រើសទទួលព័ត៌មានទីផ្សារយូរជាងមុន៖ រយៈពេល២\u00a0ឆ្នាំ ជំនួសឱ្យ១\u00a0ឆ្នាំ។",
           "ឥឡូវនេះ យើងរក្សាទុកសារ និងការហៅទូរស័ព្ទជាមួយក្រុមសេវាអតិថិជនរបស់យើងយូរជាងមុន៖ រយៈពេល១\u00a0ឆ្នាំ ជំនួសឱ្យ៦\u00a0ខែ។"],
}
FUTURE = {"en": "We will", "nl": "We gaan", "km": "នឹង"}
"""How each locale's recorded sentences say that something is still to come."""


def banner(project: Path, locale: str) -> dict[str, object]:
    return json.loads((project / "output" / "tonle-privacy" / locale / "banner.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("locale", ["en", "nl", "km"])
def test_after_the_effective_date_the_items_say_what_is_now(locale: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    data = banner(built_sample(tmp_path_factory, "2026-03-10"), locale)  # 3.0 in force since March 1
    assert data["upcoming"] is False
    assert data["items"] == IN_FORCE[locale]
    page = (built_sample(tmp_path_factory, "2026-03-10") / "output" / "tonle-privacy" / locale / "index.html").read_text(encoding="utf-8")
    banner_html = page.split('class="policygen-banner"', 1)[1].split("</aside>", 1)[0]
    assert FUTURE[locale] not in banner_html.split("<ul>", 1)[1].split("</ul>", 1)[0]
    for item in IN_FORCE[locale]:
        assert f"<li>{item}</li>" in banner_html


@pytest.mark.parametrize("locale", ["en", "nl", "km"])
def test_before_the_effective_date_the_items_say_what_will_be(locale: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    data = banner(built_sample(tmp_path_factory, "2026-02-15"), locale)  # 3.0 announced for March 1
    assert data["upcoming"] is True
    items = data["items"]
    assert isinstance(items, list) and len(items) == 2
    assert all(FUTURE[locale] in item for item in items)
    # Recorded at release with plain spaces; the banner binds each number to its unit.
    assert all(not re.search(r"[\d\u17e0-\u17e9] \w", item) and "\u00a0" in item for item in items)


def test_every_in_force_sentence_matches_its_recorded_one_in_every_locale() -> None:
    """Each '.in-force' sentence exists in en, nl and km, is translated (never the English one
    on a Dutch or Khmer page), and uses the same slots as the sentence it restates."""
    english = notice_templates("en")
    keys = [key for key in english if key.endswith(".in-force")]
    assert len(keys) >= 20
    for locale in ("nl", "km"):
        local = notice_templates(locale)
        for key in keys:
            assert local[key] != english[key], f"{key} has no {locale} translation"
            slots = {name for _text, name, _spec, _conv in string.Formatter().parse(local[key]) if name}
            recorded = {name for _text, name, _spec, _conv in string.Formatter().parse(local[key.removesuffix(".in-force")]) if name}
            assert slots == recorded, (locale, key)
            assert "នឹង" not in local[key] and not local[key].startswith("We gaan"), (locale, key)
    for key in keys:
        assert key.removesuffix(".in-force") in english
        assert "will" not in english[key], key


@pytest.fixture(scope="module")
def formatters() -> dict[str, Formatter]:
    project = load_project(Path(__file__).resolve().parent.parent)
    translations = load_translations(project, None, Collector())
    return {loc: Formatter(project, project.policies["tonle-privacy"], loc, translations) for loc in ("en", "nl", "km")}


@pytest.mark.parametrize("locale", ["en", "nl", "km"])
def test_items_in_force_for_other_kinds_of_change(locale: str, formatters: dict[str, Formatter]) -> None:
    fmt = formatters[locale]
    records = [
        # a purpose that uses more data: the added items follow from the recorded lists
        {"severity": "major", "rule": "purpose-uses-more-data", "subject": "purpose", "kind": "changed", "id": "customer-support",
         "field": "data", "path": "purposes/customer-support/data", "before": ["contact-details"], "after": ["contact-details", "transaction-details"]},
        # a prose finding: its quoted words are not recorded, so the general sentence names it
        {"severity": "major", "rule": "prose-new-recipient", "subject": "clause", "kind": "changed", "id": "sharing-intro",
         "field": None, "path": "prose/sharing-intro", "before": None, "after": None},
        # not major: not in the banner
        {"severity": "minor", "rule": "risk-assessment-updated", "subject": "risk", "kind": "changed", "id": None,
         "field": "assessed_on", "path": "risk/assessed_on", "before": "2025-06-01", "after": "2026-01-15"},
    ]
    lines = items_in_force(records, fmt)
    assert len(lines) == 2
    assert FUTURE[locale] not in lines[0]
    assert fmt.label("data_category", "transaction-details")[0] in lines[0]
    general = notice_templates(locale)["other-major-change"].format(policy=fmt.label("policy", "tonle-privacy")[0])
    assert lines[1] == general
