"""PDF output for every locale of the sample: text that extracts exactly (Khmer included), no
overflowing line, embedded fonts, metadata and tagging, outline, reproducible bytes."""

from __future__ import annotations

import functools
import io
import json
import re
import subprocess
from pathlib import Path

import pytest
from conftest import SAMPLE, copy_project
from pypdf import PdfReader

from policygen.build import build
from policygen.i18n.prepare import prepare
from policygen.render.pdf import break_khmer_words, overflowing_lines
from policygen.render.redline import _clause_texts, tokenize

LOCALES = ("en", "nl", "km")


@pytest.fixture(scope="session")
def built(sample_pdfs: Path) -> Path:
    """The sample's PDFs (conftest's :func:`sample_pdfs`), built once per test run and shared
    with tests/test_pdf_text.py: the tests only read them."""
    return sample_pdfs


def pdf_path(project: Path, policy: str, locale: str) -> Path:
    """The PDF rendered from the project's sources: the draft's where the sources differ from the
    release in force (the current PDF is then the one archived with it), else the current one."""
    folder = project / "output" / policy / locale
    draft = folder / "draft" / f"{policy}-{locale}.pdf"
    return draft if draft.is_file() else folder / f"{policy}-{locale}.pdf"


def normalize(text: str) -> str:
    """Whitespace, U+200B and hyphens out: line-break hyphens cannot be told from real ones."""
    return re.sub(r"[\s\u200b\u00ad\-‐]+", "", text)


@functools.cache  # the same for each of the three extractors
def expected_words(project: Path, policy: str, locale: str) -> tuple[tuple[str, ...], ...]:
    """Per clause, the words a reader sees, in order (Khmer split by the segmenter)."""
    loaded, localized = prepare(project, [policy], [locale])
    texts, _fallback = _clause_texts(localized[0])
    clauses = []
    for text in texts.values():
        words = [normalize(w) for w in tokenize(text, locale)]
        clauses.append(tuple(w for w in words if w and re.search(r"\w", w)))
    return tuple(clauses)


def anchor(text: str, words: list[str], cursor: int) -> int | None:
    """Where a clause starts: an occurrence of its first word that its next word follows
    closely (the first word alone may also occur earlier, in the table of contents)."""
    if not words:
        return None
    start = text.find(words[0], cursor)
    while start >= 0:
        end = at = start + len(words[0])
        for word in words[1:5]:
            found = text.find(word, at)
            if found < 0 or found - at > 400:
                break
            at = found + len(word)
        else:
            return end
        start = text.find(words[0], start + 1)
    return None


SHARED = {"pdftotext": "pdftotext-raw", "pypdf": "pypdf", "pdfminer": "pdfminer-raw"}
"""The extractors, by the name of their text in conftest's :func:`sample_pdf_texts`:
``pdftotext -raw`` keeps the content stream's order (poppler's default layout mode guesses a
reading order from positions and reorders some Khmer lines; that is layout analysis, which
this test leaves out), pypdf's ``extract_text`` of every page, and pdfminer.six's text
without layout analysis (a ``TextConverter`` with ``laparams=None``)."""
EXTRACTORS = list(SHARED)


@pytest.mark.parametrize("extractor", sorted(EXTRACTORS))
@pytest.mark.parametrize("locale", LOCALES)
def test_every_word_extracts_exactly(built: Path, sample_pdf_texts: dict[str, dict[Path, str]], locale: str, extractor: str) -> None:
    for policy in ("tonle-privacy", "tonle-cookies"):
        path = pdf_path(built, policy, locale)
        text = normalize(sample_pdf_texts[SHARED[extractor]][path])
        missing = []
        cursor = 0
        for words in expected_words(built, policy, locale):
            at = anchor(text, words, cursor)
            for word in words[1 if at is not None else 0 :]:
                # Clauses in document order; inside a clause the words in order and close
                # together (a page break with its header and footer fits in the gap).
                found = text.find(word, cursor if at is None else at)
                if found < 0 or (at is not None and found - at > 400):
                    missing.append(word)
                    continue
                at = found + len(word)
            if at is not None:
                cursor = at
        assert missing == [], f"{policy} [{locale}] {extractor}: {len(missing)} words wrong or missing, e.g. {missing[:8]}"


@pytest.mark.parametrize("locale", LOCALES)
def test_no_line_overflows(built: Path, locale: str) -> None:
    # Measured on the laid-out documents that became the PDFs of :func:`built` (conftest's
    # sample_pdfs runs overflowing_lines on each as the build lays it out).
    for policy in ("tonle-privacy", "tonle-cookies"):
        found = built.parent / "overflows" / f"{policy}-{locale}.json"
        assert found.is_file(), f"the build laid out no {policy} [{locale}] document"
        assert json.loads(found.read_text(encoding="utf-8")) == []


def test_khmer_word_breaks_prevent_overflow(built: Path) -> None:
    # A long Khmer paragraph without spaces can break only where U+200B marks word boundaries:
    # without them it runs past the edge, and the overflow check must see it.
    import weasyprint

    from policygen.render.pdf import _fetcher, pdf_html

    # In the PDF's own wrapper, style sheet and heading, with the paragraph as the policy's whole
    # body: the rest of the document (its table of contents and sections) only adds layout time.
    project, localized = prepare(built, ["tonle-cookies"], ["km"])
    paragraph = "ការផ្ទេរប្រាក់ទៅកាន់ក្រុមគ្រួសារនៅប្រទេសកម្ពុជាត្រូវបានធ្វើឡើងដោយសុវត្ថិភាព" * 6
    whole = pdf_html(project, localized[0])
    start, end = whole.index('<nav class="policy-toc"'), whole.rindex("</div>\n</article>")
    assert start < whole.index('<div class="policy-body">') < end
    html = f'{whole[:start]}<div class="policy-body"><p>{paragraph}</p>{whole[end:]}'
    unbroken = html.replace(break_khmer_words(paragraph), paragraph)
    assert overflowing_lines(weasyprint.HTML(string=unbroken, url_fetcher=_fetcher(project)).render()) != []
    broken = html.replace(paragraph, break_khmer_words(paragraph))
    assert overflowing_lines(weasyprint.HTML(string=broken, url_fetcher=_fetcher(project)).render()) == []


@pytest.mark.parametrize("locale", LOCALES)
def test_page_count_fonts_metadata_and_tagging(built: Path, locale: str) -> None:
    path = pdf_path(built, "tonle-privacy", locale)
    reader = PdfReader(path)
    assert 8 <= len(reader.pages) <= 30
    assert 2 <= len(PdfReader(pdf_path(built, "tonle-cookies", locale)).pages) <= 8
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    # policygen's own family names: proof the faces came from its files, not from fontconfig
    if locale != "km":
        assert re.search(r"\+PG-Latin\s+CID TrueType\s+Identity-H\s+yes yes yes", fonts), fonts
    else:
        assert re.search(r"\+PG-Khmer\s+CID TrueType\s+Identity-H\s+yes yes yes", fonts), fonts  # embedded, subset
    root = reader.trailer["/Root"]
    assert root["/Lang"] == locale
    assert root["/MarkInfo"]["/Marked"] == True and "/StructTreeRoot" in root  # noqa: E712 (PDF booleans)
    assert root["/ViewerPreferences"]["/DisplayDocTitle"] == True  # noqa: E712
    titles = {"en": "Privacy policy", "nl": "Privacyverklaring", "km": "គោលការណ៍ឯកជនភាព"}
    assert reader.metadata.title == titles[locale]
    assert "/CreationDate" not in reader.metadata and "/ModDate" not in reader.metadata


def test_outline_destinations_and_page_furniture(built: Path, sample_pdf_texts: dict[str, dict[Path, str]]) -> None:
    reader = PdfReader(pdf_path(built, "tonle-privacy", "km"))
    def titles(items: list) -> list[str]:
        flat = []
        for item in items:
            flat.extend(titles(item) if isinstance(item, list) else [item.title.replace("\u200b", "")])
        return flat

    outline = titles(reader.outline)
    assert outline[0] == "គោលការណ៍ឯកជនភាព" and "អំពីយើង" in outline and len(outline) > 20
    names = set(reader.named_destinations)
    assert {"who-we-are", "who-intro", "collect-list.3", "retention"} <= names
    text = sample_pdf_texts["pypdf"][pdf_path(built, "tonle-privacy", "km")]
    assert "ទំព័រ ១ នៃ" in text  # localized page numbers in Khmer digits
    nl = sample_pdf_texts["pypdf"][pdf_path(built, "tonle-privacy", "nl")]
    assert "Pagina 1 van" in nl and "Versie 3.0 · 1\u00a0maart\u00a02026" in nl
    links = [a for page in reader.pages for a in (page.get("/Annots") or []) if a.get_object().get("/Subtype") == "/Link"]
    assert links, "the table of contents links to the clauses"
    uris = [a.get_object()["/A"].get("/URI") for a in links if "/A" in a.get_object()]
    assert not [u for u in uris if u and str(u).startswith("file:")], "a PDF never links to files on the machine that built it"


def test_two_builds_are_byte_identical(built: Path, tmp_path: Path) -> None:
    """A second build, serial this time (:func:`built` renders in one worker process per core),
    makes the same bytes: the cookie policy in every locale (Latin and Khmer, three PDFs one after
    another in one process) and the longest Khmer PDF (the privacy policy's)."""
    again = copy_project(SAMPLE, tmp_path / "again", archive=False)
    build(again, formats=["pdf"], jobs=1, policies=["tonle-cookies"])
    build(again, formats=["pdf"], jobs=1, policies=["tonle-privacy"], locales=["km"])
    compared = [("tonle-cookies", locale) for locale in LOCALES] + [("tonle-privacy", "km")]
    for policy, locale in compared:
        assert pdf_path(again, policy, locale).read_bytes() == pdf_path(built, policy, locale).read_bytes(), (policy, locale)


def test_manifest_lists_pdfs(built: Path) -> None:
    import json

    manifest = json.loads((built / "output" / "manifest.json").read_text(encoding="utf-8"))
    pdfs = {(o["policy"], o["locale"]) for o in manifest["outputs"] if o["format"] == "pdf"}
    assert len(pdfs) == 6


def test_missing_glyph_fails_the_build(mini: Path, cli) -> None:
    prose = mini / "sources" / "mini" / "policy.md"
    prose.write_text(prose.read_text(encoding="utf-8").replace("Write to", "漢字 Write to"), encoding="utf-8")
    result = cli("build", "--format", "pdf", "--locale", "en", cwd=mini)
    assert result.exit_code == 1
    assert ".notdef glyph rendered" in result.stderr and "U+6F22" in result.stderr
    assert not (mini / "output").exists()


def test_remote_resources_are_refused(mini: Path, cli) -> None:
    (mini / "theme" / "templates").mkdir(parents=True)
    (mini / "theme" / "templates" / "pdf.css").write_text('body { background: url("https://example.org/evil.png"); }\n', encoding="utf-8")
    result = cli("build", "--format", "pdf", "--locale", "en", cwd=mini)
    assert result.exit_code == 1
    assert "policygen does not fetch 'https://example.org/evil.png'" in result.stderr


def test_pdf_a_3u_option(mini: Path, cli) -> None:
    config = mini / "policygen.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "pdf:\n  variant: pdf/a-3u\n", encoding="utf-8")
    result = cli("build", "--format", "pdf", "--locale", "en", cwd=mini)
    assert result.exit_code == 0, result.stderr
    reader = PdfReader(mini / "output" / "mini" / "en" / "mini-en.pdf")
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="U"' in xmp
    assert reader.trailer["/Root"]["/MarkInfo"]["/Marked"] == True  # noqa: E712 (a PDF boolean)


def test_khmer_breaks_only_in_text() -> None:
    html = '<p>ការផ្ទេរប្រាក់ <a href="https://x.example/ការផ្ទេរ">ទៅកាន់ប្រទេស</a> <code>ការផ្ទេរប្រាក់</code></p>'
    out = break_khmer_words(html)
    assert "ការផ្ទេរ\u200bប្រាក់" in out
    assert 'href="https://x.example/ការផ្ទេរ"' in out
    assert "<code>ការផ្ទេរប្រាក់</code>" in out
    assert out.replace("\u200b", "") == html


def test_no_khmer_line_begins_with_a_closing_sign(tmp_path: Path) -> None:
    # The segmenter makes the khan (។), lek too (ៗ), beyyal (៘) and the riel sign (៛) words of
    # their own, and the U+200B put before them let a line begin with one: "ផ្សេង" / "ៗ",
    # "៤០០០០" / "៛", which a reader's search for "ផ្សេងៗ" no longer found either. Rendered at
    # 26 widths, so that each sign ends a line somewhere.
    from policygen.render.pdf import render_html_pdf
    from policygen.source.load import load_project

    signs = "\u17d4\u17d5\u17d6\u17d7\u17d8\u17da\u17db"
    text = ("ក្រុមហ៊ុនអាចប្រមូលព័ត៌មានផ្សេងៗ ដូចជា ឈ្មោះ អាសយដ្ឋាន និងលេខទូរស័ព្ទជាដើម៘ "
            "ថ្លៃសេវាប្រចាំខែគឺ ៤០០០០៛ ដែលត្រូវបង់ជាមុន។ អតិថិជនត្រូវជូនដំណឹងដល់ក្រុមហ៊ុនតាមរយៈលិខិត៖ "
            "យ៉ាងហោចណាស់សាមសិបថ្ងៃមុនកាលបរិច្ឆេទបញ្ចប់កិច្ចសន្យា។")
    broken = break_khmer_words(f"<p>{text}</p>")
    assert broken.replace("\u200b", "") == f"<p>{text}</p>"
    assert re.findall(f"\u200b[{signs}]", broken) == []
    assert "\u200b" in broken  # the words still break
    widths = range(20, 46)
    body = "".join(f'<p style="width: {width}mm">{text}</p>' for width in widths)
    pdf = tmp_path / "signs.pdf"
    pdf.write_bytes(render_html_pdf(load_project(SAMPLE, None), body, "km", "ចំណងជើង", "", SAMPLE / "policygen.yaml"))
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    lines = [line.replace("\u200b", "").strip() for line in out.splitlines()]
    assert [line for line in lines if line[:1] in signs and line] == []
    flat = re.sub(r"\s+", " ", out.replace("\u200b", ""))
    for word in ("ផ្សេងៗ", "ជាដើម៘", "៤០០០០៛", "ជាមុន។", "លិខិត៖"):
        assert flat.count(word) == len(widths), word


def test_font_timestamp_is_fixed_in_place() -> None:
    from fontTools.ttLib import TTFont

    from policygen.render.pdf import font_files, stable_font_bytes

    out = stable_font_bytes(font_files().latin.read_bytes())
    font = TTFont(io.BytesIO(out), checkChecksums=2)  # raises on a wrong table checksum
    assert font["head"].modified == font["head"].created
    saved = io.BytesIO()
    TTFont(io.BytesIO(out), recalcTimestamp=False).save(saved)
    assert TTFont(saved)["head"].checkSumAdjustment == font["head"].checkSumAdjustment
