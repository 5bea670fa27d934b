"""Redlines a lawyer can use (issue 15, point 5): the policy's structure kept (headings, lists,
tables, links), the project's fonts, unique IDs, numbers and dates changed as a whole, an index
of changes, a changes-only page, localized summary tables, a PDF, and a warning when the
version was not bumped."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pypdfium2
import pytest
from conftest import MINI, SAMPLE, copy_project
from pypdf import PdfReader
from test_archive import placeholder_pdf, placeholder_redline_pdf, set_version
from typer.testing import CliRunner

from policygen import api
from policygen.cli import app
from policygen.render import pdf_text
from policygen.render.pdf import render_html_pdf
from policygen.render.wordiff import Marks, diff_html
from policygen.resources import notice_template
from policygen.source.load import load_project

LOCALES = ("en", "nl", "km")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{path.name}: expected {old!r} once"
    path.write_text(text.replace(old, new), encoding="utf-8")


def new_version(project: Path) -> None:
    """A 3.1 of the sample's privacy policy: a new title, a list item added and one dropped, a
    table row dropped, a link changed, a period added to the prose, a clause moved, one removed and
    one added."""
    prose = project / "sources" / "tonle-privacy" / "policy.md"
    edit(prose, "- {{data.criminal-data}}: for example", "- Your photo on social media, if you link your account.\n- {{data.criminal-data}}: for example")
    edit(prose, "- {{data.marketing-preferences}}: whether you have agreed to receive news and offers, through which channels, and when "
         "you gave or withdrew that choice.\n", "")
    edit(prose, "| {{purpose.marketing}} | {{purpose.marketing.basis}} | {{purpose.marketing.data}} |\n", "")
    edit(prose, "our [policy archive](https://tonle.example/legal/archive)", "our [archive of policies](https://tonle.example/legal/versions)")
    edit(prose, "You must be at least {{minimum_age}} years old", "You must have been a customer for 5 years or be at least {{minimum_age}} years old")
    text = prose.read_text(encoding="utf-8")
    dpo = re.search(r"\{#who-dpo\}\n[^\n]*\n\n", text)
    assert dpo
    text = text.replace(dpo.group(0), "").replace("{#who-subsidiary}\n", dpo.group(0) + "{#who-subsidiary}\n", 1)
    removed = re.search(r"\{#changes-minor\}\n[^\n]*\n\n", text)
    assert removed
    text = text.replace(removed.group(0), "")
    text = text.replace("{#contact-intro}\n", "{#contact-hours}\nOur support team answers within two working days.\n\n{#contact-intro}\n", 1)
    prose.write_text(text.replace("# Privacy policy\n", "# Privacy notice\n", 1), encoding="utf-8")
    facts = project / "sources" / "tonle-privacy" / "policy.yaml"
    edit(facts, 'version: "3.0"', 'version: "3.1"')
    edit(facts, "effective_date: 2026-03-01", "effective_date: 2026-06-01")


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("redline")
    old = copy_project(SAMPLE, base / "old", archive=False)
    new = copy_project(SAMPLE, base / "new", archive=False)
    new_version(new)
    result = api.diff(str(old), str(new), new, ["tonle-privacy"], base / "out")
    assert not result.warnings
    return base / "out" / "tonle-privacy"


@pytest.fixture(scope="module")
def since_2_1(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, Path]:
    """``policygen diff tonle-privacy@2.1 <sample> --pdf``: the sample's archived 2.1 against its
    sources (3.0), compared once for the module's tests of the sample's own redlines, as HTML
    and PDF: the exit code, the standard error, and the folder of the policy's redlines."""
    base = tmp_path_factory.mktemp("since-2.1")
    project = copy_project(SAMPLE, base / "tonle")
    out = base / "out"
    args = ["diff", "tonle-privacy@2.1", str(project), "--project", str(project), "--policy", "tonle-privacy", "--output", str(out), "--pdf"]
    result = CliRunner().invoke(app, args, catch_exceptions=True)
    return result.exit_code, result.stderr, out / "tonle-privacy"


def page(outputs: Path, locale: str, changes_only: bool = False) -> str:
    name = f"redline-changes.{locale}.html" if changes_only else f"redline.{locale}.html"
    return (outputs / name).read_text(encoding="utf-8")


class Elements(HTMLParser):
    """Every element's tag and attributes, and the links."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.append((tag, found))
        if found.get("id"):
            self.ids.append(str(found["id"]))
        if tag == "a" and found.get("href"):
            self.hrefs.append(str(found["href"]))


def element(text: str, ident: str) -> str:
    """The HTML of the element with ``id="ident"`` (up to its closing tag)."""
    match = re.search(rf'<(\w+)[^>]* id="{re.escape(ident)}"', text)
    assert match, ident
    tag = match.group(1)
    depth, position = 0, match.start()
    for found in re.finditer(rf"<(/?){tag}\b[^>]*>", text[match.start():]):
        depth += -1 if found.group(1) else 1
        if depth == 0:
            return text[match.start() : match.start() + found.end()]
    raise AssertionError(f"no end of {ident} after {position}")


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("changes_only", [False, True])
def test_every_id_is_unique_and_every_index_link_resolves(outputs: Path, locale: str, changes_only: bool) -> None:
    parsed = Elements(page(outputs, locale, changes_only))
    duplicates = sorted({i for i in parsed.ids if parsed.ids.count(i) > 1})
    assert not duplicates
    anchors = [h[1:] for h in parsed.hrefs if h.startswith("#")]
    assert anchors and not set(anchors) - set(parsed.ids)


@pytest.mark.parametrize("locale", LOCALES)
def test_structure_is_kept(outputs: Path, locale: str) -> None:
    text = page(outputs, locale)
    parsed = Elements(text)
    tags = {tag for tag, _attrs in parsed.tags}
    assert {"h2", "h3", "h4", "ul", "table", "thead", "a"} <= tags
    assert not re.search(r'<div[^>]* id="(who-we-are|what-we-collect)"', text)  # headings are headings
    assert re.search(r'<h3 id="what-we-collect">', text)
    collected = element(text, "collect-list")
    assert collected.startswith("<ul") and collected.count("<li") == 12  # 11 items, one new, one dropped
    dropped = re.findall(r'<li class="pg-removed"><del>(.*?)</del></li>\n</ul>$', collected)  # the dropped item, where it stood
    assert len(dropped) == 1 and "<ins>" not in dropped[0]
    assert re.search(r'<li[^>]*>(<span lang="en">)?<ins>.*?social media', collected)
    table = element(text, "use-table")
    assert table.startswith("<table") and "<thead>" in table and re.search(r'<tr class="pg-removed"><td><del>', table)
    archive = element(text, "changes-archive")
    assert '<a href="https://tonle.example/legal/versions" rel="noopener noreferrer">' in archive


def test_removed_and_added_clauses_are_whole_blocks(outputs: Path) -> None:
    text = page(outputs, "en")
    removed = element(text, "changes-minor")
    assert removed.startswith("<p") and "<del>" in removed and "<ins>" not in removed
    assert re.search(r'<div class="pg-change[^"]*pg-removed">\s*<p class="pg-badge">[^<]*removed</p>\s*<p id="changes-minor">', text)
    added = element(text, "contact-hours")
    assert "<ins>" in added and "<del>" not in added
    assert re.search(r'<p class="pg-badge">[^<]*· new</p>\s*<p id="contact-hours">', text)


@pytest.mark.parametrize("locale", LOCALES)
def test_pages_load_the_project_fonts_and_stylesheet(outputs: Path, locale: str) -> None:
    text = page(outputs, locale)
    assert '<link rel="stylesheet" href="../assets/policygen.css">' in text
    css = (outputs.parent / "assets" / "policygen.css").read_text(encoding="utf-8")
    assert "Noto Sans Khmer" in css and (outputs.parent / "assets" / "fonts" / "NotoSansKhmer.ttf").stat().st_size > 100_000


def test_numbers_change_as_a_whole() -> None:
    marks = Marks("inserted", "deleted")
    shown = diff_html("We keep it for 5 years.", "We keep it for 7 years.", "en", marks)
    assert re.sub(r'<span class="pg-sr">[^<]*</span>', "", shown) == "We keep it for <del>5 years</del> <ins>7 years</ins>."
    khmer = diff_html("រយៈពេល ៥ ឆ្នាំ។", "រយៈពេល ៧ ឆ្នាំ។", "km", marks)
    assert re.sub(r'<span class="pg-sr">[^<]*</span>', "", khmer) == "រយៈពេល <del>៥ ឆ្នាំ</del> <ins>៧ ឆ្នាំ</ins>។"
    date = diff_html("from 1 June 2025 on", "from 15 January 2026 on", "en", marks)
    assert re.sub(r'<span class="pg-sr">[^<]*</span>', "", date) == "from <del>1 June 2025</del> <ins>15 January 2026</ins> on"


def test_a_changed_link_target_is_marked() -> None:
    """A link that points elsewhere with the same words (an opt-out or complaint link moved) is a
    change a reviewer must see: its words are marked deleted, then inserted in the new link. A
    link added around words, or taken away from them, is marked the same way."""
    marks = Marks("inserted", "deleted")

    def bare(markup: str) -> str:
        return re.sub(r'<span class="pg-sr">[^<]*</span>', "", markup)

    moved = diff_html('See our <a href="https://a.example/archive">policy archive</a>.',
                      'See our <a href="https://a.example/versions">policy archive</a>.', "en", marks)
    assert bare(moved) == 'See our <del>policy archive</del> <a href="https://a.example/versions"><ins>policy archive</ins></a>.'
    added = diff_html("See our policy archive.", 'See our <a href="https://a.example/">policy archive</a>.', "en", marks)
    assert bare(added) == 'See our <del>policy archive</del> <a href="https://a.example/"><ins>policy archive</ins></a>.'
    same = diff_html('See our <a href="https://a.example/">policy archive</a>.', 'See our <a href="https://a.example/">policy archives</a>.', "en", marks)
    assert bare(same) == 'See our <a href="https://a.example/">policy <del>archive</del> <ins>archives</ins></a>.'


def test_khmer_sample_periods_change_as_a_whole(since_2_1: tuple[int, str, Path]) -> None:
    """The sample's 2.1 -> 3.0 in Khmer: the periods in the retention table change as whole
    phrases, and no deletion runs into its insertion."""
    code, stderr, redlines = since_2_1
    assert code == 0, stderr
    text = (redlines / "redline.km.html").read_text(encoding="utf-8")
    bare = re.sub(r'<span class="pg-sr">[^<]*</span>', "", text).replace("\u00a0", " ")  # a number may be bound to its unit
    assert "<del>១ ឆ្នាំ</del> <ins>២ ឆ្នាំ</ins>" in bare
    assert "<del>៦ ខែ</del> <ins>១ ឆ្នាំ</ins>" in bare
    assert "</del><ins>" not in bare
    assert not re.search(r"<(del|ins)>[០-៩0-9]+</\1>", bare)  # never a digit alone


@pytest.mark.parametrize("locale", LOCALES)
def test_index_lists_each_changed_clause_with_its_severity(outputs: Path, locale: str) -> None:
    text = page(outputs, locale)
    index = text.split('id="_index"')[1].split("</section>")[0]
    links = re.findall(r'<a href="#([^"]+)">', index)
    assert {"_title", "collect-list", "use-table", "changes-minor", "contact-hours", "changes-archive", "children-age"} <= set(links)
    assert links[0] == "_title"  # the title changed, and comes first
    assert links.index("collect-list") < links.index("use-table") < links.index("changes-minor") < links.index("contact-hours")
    entries = re.findall(r'<li><a href="#([^"]+)">.*?</a> <span class="pg-severity">([^<]*)</span></li>', index)
    assert len(entries) == len(links)
    named = dict(entries)
    assert named["collect-list"].startswith(notice_template(locale, "severity.review"))
    assert named["changes-minor"] == f'{notice_template(locale, "severity.minor")} · {notice_template(locale, "redline.kind.removed")}'
    assert named["contact-hours"].endswith(notice_template(locale, "redline.kind.added"))
    assert named["who-dpo"].endswith(notice_template(locale, "redline.kind.moved"))
    if locale == "en":  # a changed list or table is named by the item or row that changed
        texts = dict(re.findall(r'<li><a href="#([^"]+)">(.*?)</a>', index))
        assert texts["collect-list"].startswith("What data we collect › Your photo on social media")
        assert texts["use-table"].startswith("How we use data › Sending you news and offers about our services · Consent")


@pytest.mark.parametrize("locale", LOCALES)
def test_changes_only_page_keeps_context(outputs: Path, locale: str) -> None:
    full, changes = page(outputs, locale), page(outputs, locale, changes_only=True)
    assert len(changes) < len(full) * 0.6
    ids = set(Elements(changes).ids)
    assert {"collect-list", "what-we-collect", "collect-intro", "contact-hours", "contact"} <= ids  # clause, heading, neighbour
    assert "sources-list" not in ids and "definitions-list" not in ids  # unchanged, far from any change
    assert {"who-dpo", "who-intro"} <= ids  # a moved clause, with the one before it
    assert 'class="pg-omitted"' in changes
    assert f'href="redline.{locale}.html"' in changes and f'href="redline-changes.{locale}.html"' in full


@pytest.mark.parametrize("locale", LOCALES)
def test_summary_table_has_a_header_row_and_no_iso_codes(since_2_1: tuple[int, str, Path], locale: str) -> None:
    code, stderr, redlines = since_2_1
    assert code == 0, stderr
    text = (redlines / f"redline.{locale}.html").read_text(encoding="utf-8")
    for name in (f"redline.{locale}.html", f"redline-changes.{locale}.html"):  # the sample's own redlines: unique IDs too
        ids = Elements((redlines / name).read_text(encoding="utf-8")).ids
        assert len(ids) == len(set(ids)), name
    table = text.split('id="_all"')[1].split("</section>")[0].replace("\u00a0", " ")  # a number may be bound to its unit
    assert "<thead>" in table and table.count('<th scope="col">') >= 4
    body = table.split("<tbody>")[1]
    assert not re.search(r"\bP\d+[YMWD]\b|\d{4}-\d{2}-\d{2}", body)
    expected = {"en": ("2 years", "1 year"), "nl": ("2 jaar", "1 jaar"), "km": ("២ ឆ្នាំ", "១ ឆ្នាំ")}[locale]
    assert all(value in body for value in expected)
    assert ("រយៈពេលរក្សាទុក៖ <a" if locale == "km" else ": <a") in body  # Khmer's own colon
    if locale != "en":
        words = re.sub(r"<[^>]+>", " ", body)
        assert "instead of" not in words and "retention" not in words.lower() and "assessed" not in words


def test_same_version_is_a_warning(tmp_path: Path, cli) -> None:
    project = copy_project(SAMPLE, tmp_path / "tonle", archive=False)
    result = cli("diff", str(project), str(project), "--policy", "tonle-privacy")
    assert result.exit_code == 0
    assert "warning: tonle-privacy: the new side has the same version as the old one (3.0)" in result.stderr
    assert "the same date as the old one (2026-03-01)" in result.stderr


def test_same_date_between_releases_gives_no_advice_to_edit_the_sources(tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two releases of the same date (docs/archive.md: a release made again to complete its
    translations): the warning says what that means, not to edit a policy.yaml the new side
    (an archived release) was never read from."""
    monkeypatch.setattr("policygen.archive.release.render_pdf", placeholder_pdf)
    monkeypatch.setattr("policygen.archive.release.redline_pdf", placeholder_redline_pdf)
    project = copy_project(MINI, tmp_path / "mini", archive=False)
    assert cli("release", "mini", "--version", "1.0", "--effective", "2026-05-05", cwd=project).exit_code == 0
    set_version(project, "1.1", "2026-05-05")
    assert cli("release", "mini", "--version", "1.1", "--effective", "2026-05-05", cwd=project).exit_code == 0
    result = cli("diff", "mini@1.0", "mini@1.1", cwd=project)
    assert result.exit_code == 0, result.stderr
    assert "warning: mini: the new side takes effect on the same date as the old one (2026-05-05)" in result.stderr
    assert "mini@1.1 is the version in force from that date" in result.stderr
    assert "policy.yaml" not in result.stderr


def test_pdf_redline_has_text(since_2_1: tuple[int, str, Path]) -> None:
    code, stderr, redlines = since_2_1
    assert code == 0, stderr
    for locale in LOCALES:
        html = (redlines / f"redline.{locale}.html").read_text(encoding="utf-8")
        assert f'href="redline.{locale}.pdf"' in html
    reader = PdfReader(redlines / "redline.km.pdf")
    text = "".join(p.extract_text() for p in reader.pages).replace("\u200b", "").replace("\u00a0", " ")
    assert "ការកែប្រែពីកំណែ ២.១ ទៅកំណែ ៣.០" in text and "បញ្ជីនៃការកែប្រែ" in text
    assert "២ ឆ្នាំ" in text and "ខ្លឹមសារថ្មី" in text
    # The list of changes counts in Khmer digits, as the Khmer policy's own lists do
    # (locale_options.km.digits: native), in the PDF and on the page; it counted 1. 2. 3.
    assert re.search(r"(?m)^១\. ", text) and not re.search(r"(?m)^[0-9]+\. ", text)
    assert 'class="pg-redline" data-digits="native"' in (redlines / "redline.km.html").read_text(encoding="utf-8")


def _pixels(pdf: bytes) -> bytes:
    page = pypdfium2.PdfDocument(pdf)[0]
    return bytes(page.render(scale=2, grayscale=True).buffer)


def test_pdf_redline_draws_khmer_vowel_signs_and_subscripts() -> None:
    """The Khmer redline PDF draws every glyph Pango shaped, vowel signs and subscript consonants
    (coeng) included: its pages look exactly as WeasyPrint's own drawing of the same HTML (the
    text layer changes what the glyphs read, never what they show). Marks with no advance were
    drawn through codes whose glyphs the font subset left out: "ពី" showed as "ព", "ឆ្នាំ" as "ឆា"."""
    project = load_project(SAMPLE, None)
    body = "<p>ពី ឆ្នាំ <del>៥ ឆ្នាំ</del> <ins>៧ ឆ្នាំ</ins> ស្ត្រី កុំព្យូទ័រ</p><h2>គោលការណ៍ឯកជនភាព</h2>"

    def render() -> bytes:
        return render_html_pdf(project, body, "km", "ការកែប្រែពីកំណែ", "ឆ្នាំ", SAMPLE / "x.md")

    ours = render()
    with pdf_text.disabled():
        plain = render()
    assert "ឆ្នាំ" in PdfReader(io.BytesIO(ours)).pages[0].extract_text().replace("\u200b", "")
    pixels = _pixels(ours)
    assert set(pixels) != {255}
    assert pixels == _pixels(plain), "the redline PDF does not draw what WeasyPrint shaped (Khmer marks missing?)"
    assert render() == ours  # reproducible


def test_pdf_needs_output(cli, tmp_path: Path) -> None:
    project = copy_project(SAMPLE, tmp_path / "tonle", archive=False)
    result = cli("diff", str(project), str(project), "--pdf")
    assert result.exit_code == 1 and "--output" in result.stderr


def _bumped(project: Path) -> None:
    facts = project / "sources" / "tonle-privacy" / "policy.yaml"
    edit(facts, 'version: "3.0"', 'version: "3.1"')
    edit(facts, "effective_date: 2026-03-01", "effective_date: 2026-06-01")


def test_split_and_merged_clauses_show_only_their_edits(tmp_path: Path) -> None:
    """A clause split in two, with a word changed on the way: the first part shows no deletion
    of the sentence that moved to the second, which marks only the changed word. Two clauses
    merged into one: the merged clause marks nothing the old clauses said."""
    old = copy_project(SAMPLE, tmp_path / "old", archive=False)
    split = copy_project(SAMPLE, tmp_path / "split", archive=False)
    prose = split / "sources" / "tonle-privacy" / "policy.md"
    edit(prose, "the people you send money to. It does not cover other companies' websites",
         "the people you send money to.\n\n{#who-scope-links}\nIt does not cover other companies' web sites")
    _bumped(split)
    api.diff(str(old), str(split), split, ["tonle-privacy"], tmp_path / "out-split")
    text = (tmp_path / "out-split" / "tonle-privacy" / "redline.en.html").read_text(encoding="utf-8")
    assert "<del>" not in element(text, "who-scope") and "<ins>" not in element(text, "who-scope")
    second = re.sub(r'<span class="pg-sr">[^<]*</span>', "", element(text, "who-scope-links"))
    assert "<del>websites</del> <ins>web sites</ins>" in second and second.count("<del>") == 1

    merged = copy_project(SAMPLE, tmp_path / "merged", archive=False)
    prose = merged / "sources" / "tonle-privacy" / "policy.md"
    edit(prose, "\n\n{#who-scope}\n", " ")
    _bumped(merged)
    api.diff(str(old), str(merged), merged, ["tonle-privacy"], tmp_path / "out-merged")
    text = (tmp_path / "out-merged" / "tonle-privacy" / "redline.en.html").read_text(encoding="utf-8")
    clause = element(text, "who-subsidiary")
    assert "<ins>" not in clause and "<del>" not in clause and "This policy applies to everyone" in clause
    assert 'id="who-scope"' not in text  # merged, not removed


def test_an_item_put_before_an_edited_item_is_marked_as_new(tmp_path: Path) -> None:
    """A list item put into a list just before an item whose words were also edited: the new item
    is marked inserted as a whole, and the edited item shows only its edit. Paired by position, the
    new item read as the old one rewritten ('We only use a biometric ...' struck, 'never sell
    your data' put in) and the edited one as new from its first word."""
    old = copy_project(SAMPLE, tmp_path / "old", archive=False)
    new = copy_project(SAMPLE, tmp_path / "new", archive=False)
    prose = new / "sources" / "tonle-privacy" / "policy.md"
    edit(prose, "- We only use a biometric face check", "- We never sell your data to anyone.\n- We only use a biometric face check")
    edit(prose, "you can [verify your identity another way]", "you can [verify your identity in another way]")
    _bumped(new)
    api.diff(str(old), str(new), new, ["tonle-privacy"], tmp_path / "out")
    text = re.sub(r'<span class="pg-sr">[^<]*</span>', "", (tmp_path / "out" / "tonle-privacy" / "redline.en.html").read_text(encoding="utf-8"))
    added, face = element(text, "summary-list.3"), element(text, "summary-list.4")  # the new item, then the edited one
    assert "<del>" not in added and "<ins>We never sell your data to anyone.</ins>" in added, added
    assert "<del>" not in face and face.count("<ins>") == 1 and "<ins>in </ins>" in face, face
