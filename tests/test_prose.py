"""Prose analysis: every detector and every kind of editorial change is a fixture case in
fixtures/prose/ (an old and a new version of a short policy, the rule and severity the diff must
give). The two versions are compared as `policygen diff old.md new.md` compares files. Adding a
case is adding a file."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from conftest import FIXTURES, ROOT

from policygen import api
from policygen.changes import prose
from policygen.changes.lexicon import lexicon
from policygen.changes.rules import RANK

CASES = sorted((FIXTURES / "prose").glob("*.yaml"))


REPORT_SCHEMA = json.loads((ROOT / "docs" / "schema" / "change-report.schema.json").read_text(encoding="utf-8"))


def diff_texts(tmp_path: Path, old: str, new: str, suffix: str = ".md", lang: str = "en") -> api.DiffResult:
    a, b = tmp_path / f"old{suffix}", tmp_path / f"new{suffix}"
    a.write_text(old, encoding="utf-8")
    b.write_text(new, encoding="utf-8")
    return api.diff(str(a), str(b), tmp_path, lang=lang)


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_prose_case(case: Path, tmp_path: Path) -> None:
    spec = yaml.safe_load(case.read_text(encoding="utf-8"))
    result = diff_texts(tmp_path, spec["old"], spec["new"], lang=spec.get("lang", "en"))  # the texts' language
    jsonschema.validate(result.report, REPORT_SCHEMA)  # every kind of change a report holds is one the schema names
    changes = result.report["reports"][0]["changes"]
    found = [(c["severity"], c["rule"], c["reason"]) for c in changes]
    if spec["severity"] is None:
        assert result.severity in (None, "editorial"), found
        return
    assert result.severity == spec["severity"], found
    top = [c for c in changes if c["severity"] == spec["severity"]]
    assert any(c["rule"] == spec["rule"] for c in top), found
    if "kind" in spec:  # moved, split, merged...: how the clauses were aligned
        assert any(c["kind"] == spec["kind"] for c in top if c["rule"] == spec["rule"]), found
    if "quote" in spec:  # the reason quotes these words exactly
        assert any(spec["quote"] in c["reason"] for c in top if c["rule"] == spec["rule"]), found


def test_every_detector_has_a_case() -> None:
    rules = {yaml.safe_load(c.read_text(encoding="utf-8"))["rule"] for c in CASES}
    for rule in api.rules(FIXTURES):
        if rule.id.startswith("prose-") and rule.id != "prose-changed-on-a-regulated-topic":
            assert rule.id in rules, f"no fixture case in fixtures/prose/ shows the rule {rule.id}"


def test_reasons_quote_the_words(tmp_path: Path) -> None:
    spec = yaml.safe_load((FIXTURES / "prose" / "new-recipient.yaml").read_text(encoding="utf-8"))
    result = diff_texts(tmp_path, spec["old"], spec["new"])
    reasons = [c["reason"] for c in result.report["reports"][0]["changes"] if c["rule"] == "prose-new-recipient"]
    assert reasons and '"Northwind Analytics GmbH"' in reasons[0]


def test_lexicons_are_data(tmp_path: Path) -> None:
    """Each language's patterns live in one file; every table the detectors read is in both."""
    english, dutch = lexicon("en").raw, lexicon("nl").raw
    for key in ("sharing_context", "transfer_context", "recipient_categories", "data_categories", "purposes", "negations", "rights",
                "scope_qualifiers", "retention_context", "durations", "ages", "privacy_words", "controller", "contact_heading"):
        assert key in english and key in dutch, key
    sensitive = {ident for ident, spec in english["data_categories"].items() if isinstance(spec, dict) and spec.get("sensitive")}
    assert {"identity-documents", "biometrics", "health", "criminal", "children"} <= sensitive
    assert {"precise-location", "contacts-list", "device-identifiers", "browsing", "communications", "financial"} <= set(english["data_categories"])


def test_dutch_prose(tmp_path: Path) -> None:
    old = ("# Privacyverklaring\n\n## Delen\n\nWij delen uw naam en adres met onze bezorger zodat uw pakket aankomt.\n\n"
           "## Bewaren\n\nWij bewaren uw bestelgegevens 2 jaar na uw laatste bestelling.\n")
    new = old.replace("2 jaar", "7 jaar")
    a, b = tmp_path / "oud.md", tmp_path / "nieuw.md"
    a.write_text(old, encoding="utf-8")
    b.write_text(new, encoding="utf-8")
    result = api.diff(str(a), str(b), tmp_path, lang="nl")
    assert result.severity == "major"
    assert any(c["rule"] == "prose-longer-retention" for c in result.report["reports"][0]["changes"])


def test_file_diff_end_to_end(tmp_path: Path, cli) -> None:
    """`policygen diff old.html new.md`: no project, the same report, redline and notices."""
    old = tmp_path / "old.html"
    old.write_text("<html><body><h1>Privacy</h1><p>Last updated: 1 May 2026</p><h2>Sharing</h2>"
                   "<p>We share your e-mail address with our mailing service so that we can send you receipts.</p>"
                   "<h2>Contact</h2><p>Write to privacy@shop.example with any question.</p></body></html>", encoding="utf-8")
    new = tmp_path / "new.md"
    new.write_text("# Privacy\n\nLast updated: 1 June 2026\n\n## Who we are\n\nShop Example Ltd runs this web shop from Utrecht.\n\n"
                   "## Sharing\n\nWe share your e-mail address with our mailing service and with advertising partners so that we can "
                   "send you receipts.\n\n## Contact\n\nWrite to privacy@shop.example with any question.\n", encoding="utf-8")
    out = tmp_path / "out"
    result = cli("diff", str(old), str(new), "--format", "json", "--output", str(out), "--fail-on", "major", cwd=tmp_path)
    assert result.exit_code == 3, result.stderr
    report = json.loads(result.stdout)
    assert report["from"] == "old.html" and report["to"] == "new.md" and report["severity"] == "major"
    rules = {c["rule"] for c in report["reports"][0]["changes"]}
    assert "prose-new-recipient-category" in rules
    redline = (out / "document" / "redline.en.html").read_text(encoding="utf-8")
    assert "<ins>" in redline and "advertising partners" in redline
    assert (out / "document" / "notices.en.txt").is_file()


@pytest.mark.parametrize(("new_text", "kind"), [
    ("Loading\n=======\n", "not-a-policy"),
    ("# Privacy\n\nWe keep your name and your e-mail address for as long as you have an account with us.\n", "truncated"),
])
def test_a_new_version_that_is_not_a_policy(tmp_path: Path, new_text: str, kind: str) -> None:
    sentence = "We keep your name, your e-mail address and your order history so that we can deliver your orders and answer questions. "
    old = "# Privacy\n\n" + "\n\n".join(f"## Part {n}\n\n{sentence * 3}" for n in range(1, 12))
    old += "\n\n## Contact us\n\nWrite to privacy@shop.example with any question about this policy.\n"
    result = diff_texts(tmp_path, old, new_text)
    changes = result.report["reports"][0]["changes"]
    # One finding, not hundreds of deletions; nor the contacts the import read from the old text,
    # each "removed" (major) from a page cut short (a crawl that stopped early).
    assert [c["kind"] for c in changes] == [kind], changes
    assert result.severity == "review"


def test_editorial_changes_say_which(tmp_path: Path) -> None:
    base = "# Privacy\n\nWe share your e-mail address with our mailing service, see [our list](https://a.example/list?utm=1).\n"
    result = diff_texts(tmp_path, base, base.replace("?utm=1", "?utm=2"))
    assert result.severity == "editorial"
    reasons = [c["reason"] for c in result.report["reports"][0]["changes"]]
    assert any("link target" in r for r in reasons), reasons
    assert RANK["editorial"] < RANK["minor"]


def test_a_country_named_with_an_ampersand_is_a_place() -> None:
    """A name split at '&', 'and' or commas is places when each part is; a country whose own name
    holds '&' ("Bosnia & Herzegovina") is a place as a whole, not a new recipient."""
    countries = prose._countries("en")
    assert prose._only_places("Bosnia & Herzegovina", set(), countries)
    assert prose._only_places("Kentucky and Virginia", {"kentucky", "virginia"}, countries)
    assert not prose._only_places("Acme & Partners", set(), countries)


COUNTRY_TEXTS = [
    "We transfer your data to the United States, South Africa, Myanmar (Burma) and the European Union.",
    "Servers in Myanmar (Burma)x and in Congo - Kinshasa; _China_ is no word of its own, Chinaé neither.",
    "South Africa Africa Asia-Pacific, Latin America and South America; Bosnia & Herzegovina.",
    "éChina, China's, (China), United States of America, Middle Eastern, Europe",
]


@pytest.mark.parametrize("locale", ["en", "nl", "km"])
def test_country_names_are_found_as_one_pattern_of_them_finds_them(locale: str) -> None:
    """Country names are looked up in an index, not by an alternation of 300 names (which took
    longer to compile than a check spends reading a policy): what is found, and where, is what
    ``\\b(?:name|...)\\b`` with the longest names first finds, a name ending in ")" included."""
    import re

    places = prose._countries(locale)
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(n) for n in sorted(places.names, key=len, reverse=True)) + r")\b")
    for text in COUNTRY_TEXTS:
        assert [(m.group(), m.start()) for m in places.finditer(text)] == [(m.group(), m.start()) for m in pattern.finditer(text)], text
        for part in re.split(r", |; | and ", text):
            assert places.fullmatch(part) == bool(pattern.fullmatch(part)), part
    if locale != "nl":  # Dutch names it Zuid-Afrika
        assert places.fullmatch("South Africa") and not places.fullmatch("South Africa ")


def test_which_patterns_need_a_digit() -> None:
    """A sentence without a digit is not searched for a postcode when every way the lexicon's
    pattern can match consumes one; a pattern with a way around the digit is always searched."""
    import re
    import re._parser as parser

    from policygen.changes.lexicon import _digit_in_every_match

    def needs(pattern: str) -> bool:
        return _digit_in_every_match(parser.parse(pattern, re.I).data)

    assert needs(r"\b\d{4}\s?[A-Z]{2}\b") and not needs(r"(?:ab|[0-9]x)+")
    assert needs(r"(?-i:\b[A-Z]{2}\s+\d{5})|Suite.{0,60}\b\d{4,5}\b")
    assert needs(r"[0-9]") and needs(r"(?=\d)x") and needs(r"a?7")
    assert not needs(r"\d?x") and not needs(r"\d|Street") and not needs(r"[\d.]") and not needs(r"(?!\d)x") and not needs(r"\d*")
    assert lexicon("en").needs_digit("postcode") and lexicon("nl").needs_digit("postcode")
    assert not lexicon("en").needs_digit("durations")  # "five years": no digit needed
    assert prose._address("Write to us at 12 Main Street, Springfield.", lexicon("en"))
    assert not prose._address("Write to us on Main Street, Springfield.", lexicon("en"))


def test_addresses_in_a_long_text_are_read_paragraph_by_paragraph() -> None:
    """A long text is scanned for e-mail addresses only in the lines that may hold one: the
    addresses found are those a scan of the whole text finds, spelled ones across a line break too."""
    filler = "\n".join(f"Line {i} says nothing about how to reach us, at length and at leisure." for i in range(120))
    text = (f"{filler}\nWrite to privacy@example.org or legal\n(at) example [dot]\norg, or ask (at)\nhelp.example.org.\n{filler}\n"
            f"Or dpo[at]example\n(dot)\nnet")
    assert len(text) > 4096
    whole = {prose._SPELLED_DOT.sub(".", prose._SPELLED_AT.sub("@", e)).lower() for e in prose._EMAIL.findall(text)}
    assert prose._emails(text) == whole == {"privacy@example.org", "legal@example.org", "dpo@example.net", "ask@help.example.org"}
