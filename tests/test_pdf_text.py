"""What readers get from the PDFs' text, measured with the engines their viewers use: PDFium
(Chrome, Edge), pdf.js (Firefox), poppler (Evince, Okular; ``pdftotext`` and ``-raw``), MuPDF,
pypdf and pdfminer.six (issue 12).

For every clause of both sample policies in en, nl and km, and of the starter project, the
clause's text must be found in each engine's text (runs of whitespace as one space, U+200B out,
running header and footer out), with no space, stray character or reordering inside a word; for
the 30 most frequent Khmer words of each Khmer page, each engine's text must have as many
occurrences as the page. A plain WeasyPrint render of the Khmer pages (no text-layer hooks) is
measured as the control. Everything is built and extracted once per test run."""

from __future__ import annotations

import functools
import pickle
import re
from html import unescape
from pathlib import Path
from typing import Any

import pdf_engines
import pytest
from conftest import ROOT, SAMPLE, build_once, copy_project, extract_once
from pdf_engines import Page

from policygen.build import build
from policygen.render import pdf_text

STARTER = ROOT / "policygen" / "data" / "starter"
SAMPLE_PDFS = [(policy, locale) for policy in ("tonle-privacy", "tonle-cookies") for locale in ("en", "nl", "km")]


def _make(sample: Path, folder: Path) -> None:
    """The starter's PDFs and the :class:`Page` of each PDF these tests read, pickled: the
    sample's own PDFs and the control (the sample's Khmer PDFs without policygen's text layer)
    are conftest's :func:`sample_pdfs`. Without the archive, the pages show the sources, rendered
    by this version of policygen (a release in force would show its archived PDF, made by the
    version that released it)."""
    starter = copy_project(STARTER, folder / "starter")
    build(starter, formats=["pdf"])
    control = sample.parent / "control"
    ours = [Page(sample, p, loc, sample / "output" / p / loc / f"{p}-{loc}.pdf") for p, loc in SAMPLE_PDFS]
    for pdf in sorted((starter / "output").glob("*/*/*.pdf")):
        ours.append(Page(starter, pdf.parent.parent.name, pdf.parent.name, pdf))
    controls = [Page(sample, p, "km", control / f"{p}-km.pdf") for p in ("tonle-privacy", "tonle-cookies")]
    (folder / "pages.pickle").write_bytes(pickle.dumps((folder, {"ours": ours, "control": controls})))


@pytest.fixture(scope="session")
def pages(tmp_path_factory: pytest.TempPathFactory, sample_pdfs: Path) -> dict[str, list[Page]]:
    """The PDFs these tests read, each with what a reader must find in it; made once per test
    run (the first worker that needs them makes them, the others unpickle them) and shared."""
    folder = build_once(tmp_path_factory, "pdf-text", functools.partial(_make, sample_pdfs))
    made_in, pages = pickle.loads((folder / "pages.pickle").read_bytes())
    for page in (page for group in pages.values() for page in group):
        if page.pdf.is_relative_to(made_in):  # made in build_once's staging folder, since renamed
            page.pdf = folder / page.pdf.relative_to(made_in)
        assert page.pdf.is_file(), page.pdf
    return pages


@pytest.fixture(scope="session")
def extracted(tmp_path_factory: pytest.TempPathFactory, pages: dict[str, list[Page]],
              sample_pdf_texts: dict[str, dict[Path, str]]) -> dict[str, dict[Path, str]]:
    """Every engine's text of every PDF of :func:`pages`, extracted once per test run (the first
    worker that needs it extracts, the others read its JSON) and shared: tests only read it.
    The sample's PDFs are conftest's, extracted by :func:`sample_pdf_texts` (which
    tests/test_pdf.py reads too); the starter's and the control's are extracted here."""
    paths = [page.pdf for group in pages.values() for page in group if page.pdf not in sample_pdf_texts["pdfium"]]

    found = extract_once(tmp_path_factory, "pdf-text-extracted", paths)
    texts = {engine: {**sample_pdf_texts[engine], **by_path} for engine, by_path in found.items()}
    assert sorted(texts) == sorted(pdf_engines.ENGINES)
    assert all(page.pdf in by_path for by_path in texts.values() for group in pages.values() for page in group)
    return texts


@pytest.mark.parametrize("engine", list(pdf_engines.ENGINES))
def test_every_clause_reads_right(pages: dict[str, list[Page]], extracted: dict[str, dict[Path, str]], engine: str) -> None:
    problems = {}
    for page in pages["ours"]:
        missing = page.missing(extracted[engine][page.pdf])
        if missing:
            problems[page.name] = f"{len(missing)}/{len(page.clauses)} clauses, e.g. {pdf_engines.normalize(missing[0])[:80]!r}"
    assert problems == {}


@pytest.mark.parametrize("engine", list(pdf_engines.ENGINES))
def test_frequent_khmer_words_are_found_as_often_as_on_the_page(pages: dict[str, list[Page]], extracted: dict[str, dict[Path, str]], engine: str) -> None:
    problems = {page.name: page.miscounted(extracted[engine][page.pdf])[:5] for page in pages["ours"] if page.locale == "km"}
    assert {name: found for name, found in problems.items() if found} == {}


@pytest.mark.parametrize("engine", list(pdf_engines.ENGINES))
def test_plain_weasyprint_falls_short_where_ours_does_better(pages: dict[str, list[Page]], extracted: dict[str, dict[Path, str]], engine: str) -> None:
    # The control: the same Khmer pages rendered by WeasyPrint without policygen's text layer.
    ours = {page.pdf.name: page for page in pages["ours"] if page.locale == "km" and "tonle" in page.pdf.name}
    for control in pages["control"]:
        mine = ours[control.pdf.name]
        control_missing = len(control.missing(extracted[engine][control.pdf]))
        our_missing = len(mine.missing(extracted[engine][mine.pdf]))
        assert control_missing > len(control.clauses) // 2, f"{engine}: the control reads {control_missing} clauses wrong"
        assert our_missing < control_missing
        control_words = len(control.miscounted(extracted[engine][control.pdf]))
        assert len(mine.miscounted(extracted[engine][mine.pdf])) <= control_words


# --- Tagging and typography that readers meet (issue 12, "Also") ------------------------------


def _marked_runs(pdf: Path, page_index: int) -> list[tuple[bool, str]]:
    """The text runs of one page, each with whether it lies in an /Artifact sequence."""
    from pypdf import PdfReader

    return _marked_runs_of(PdfReader(pdf), page_index)


def _marked_runs_of(reader: Any, page_index: int) -> list[tuple[bool, str]]:
    stack: list[str] = []
    out: list[tuple[bool, str]] = []

    def before(op: bytes, args: list, cm: list, tm: list) -> None:
        if op in (b"BMC", b"BDC"):
            stack.append(str(args[0]))
        elif op == b"EMC" and stack:
            stack.pop()

    def text(chunk: str, cm: list, tm: list, font: object, size: float) -> None:
        if chunk.strip():
            out.append(("/Artifact" in stack, chunk))

    reader.pages[page_index].extract_text(visitor_operand_before=before, visitor_text=text)
    return out


def test_running_header_footer_and_page_numbers_are_artifacts(pages: dict[str, list[Page]]) -> None:
    en = next(page for page in pages["ours"] if page.name == "en/tonle-privacy-en.pdf")
    runs = _marked_runs(en.pdf, 2)
    artifacts = " ".join(chunk for artifact, chunk in runs if artifact)
    content = " ".join(chunk for artifact, chunk in runs if not artifact)
    assert "Privacy policy" in artifacts and "Version 3.0" in artifacts and "Page 3 of" in artifacts
    assert "Page 3 of" not in content and "Version 3.0 ·" not in content
    assert "Definitions" in content
    # The same in Khmer, where the furniture is drawn with the invisible text layer.
    km = next(page for page in pages["ours"] if page.name == "km/tonle-privacy-km.pdf")
    runs = _marked_runs(km.pdf, 2)
    artifacts = "".join(chunk for artifact, chunk in runs if artifact).replace("\u200b", "")
    content = "".join(chunk for artifact, chunk in runs if not artifact).replace("\u200b", "")
    assert "គោលការណ៍ឯកជនភាព" in artifacts and "កំណែ ៣.០" in artifacts and "ទំព័រ ៣ នៃ" in artifacts
    assert "ទំព័រ" not in content and "កំណែ ៣.០ ·" not in content and content.strip()


def test_bookmarks_have_no_break_hints(pages: dict[str, list[Page]]) -> None:
    from pypdf import PdfReader

    km = next(page for page in pages["ours"] if page.name == "km/tonle-privacy-km.pdf")

    def titles(items: list) -> list[str]:
        return [title for item in items for title in (titles(item) if isinstance(item, list) else [item.title])]

    outline = titles(PdfReader(km.pdf).outline)
    assert "អំពីយើង" in outline
    assert [title for title in outline if "\u200b" in title] == []


def test_addresses_names_and_code_are_not_hyphenated(pages: dict[str, list[Page]], extracted: dict[str, dict[Path, str]]) -> None:
    # Every e-mail address, phone number and web address the policy links to, every postal
    # address and proper name from the facts ("Phnom Penh" in a recipient's label), and every
    # piece of code (a cookie's name) comes out whole: a line may break at a space in it, or
    # inside a long address, but never with a hyphen that is not in it. Body text keeps its
    # hyphenation.
    hyphenated = set()
    for page in pages["ours"]:
        if page.locale == "km":
            continue
        text = extracted["pdftotext-raw"][page.pdf]
        links = set(re.findall(r'<a href="(?:mailto:|tel:|https?://)[^"]*"[^>]*>([^<]+)</a>', page.html))
        names = set(re.findall(r'<span class="fact-name">([^<]+)</span>', page.html))
        code = set(re.findall(r"<code>([^<]+)</code>", page.html))
        assert links and names, page.name
        for written in map(unescape, links | names | code):
            loose = r"\s?".join(r"\s" if ch.isspace() else re.escape(ch) for ch in written.replace("\u200b", ""))
            assert re.search(loose, text), f"{page.name}: {written!r} is broken by a hyphen or missing"
        if "\u2010" in text:
            hyphenated.add(page.locale)
    privacy_nl = next(page for page in pages["ours"] if page.name == "nl/tonle-privacy-nl.pdf")
    assert "Phnom Penh" in re.findall(r'<span class="fact-name">([^<]+)</span>', privacy_nl.html)
    assert hyphenated == {"en", "nl"}  # hyphenation still on for body text


def test_khmer_emphasis_is_bold() -> None:
    # Khmer fonts have no italics: emphasis in Khmer is bold (docs/pdf.md), in the PDF style sheet.
    import weasyprint

    from policygen.render.html import environment, render_template
    from policygen.render.pdf import BASE_URL, _fetcher
    from policygen.source.load import load_project

    project = load_project(SAMPLE, None)
    css = render_template(environment(project), "pdf.css", {"counter": ""})
    html = f'<html lang="km"><style>{css}</style><p>ការ <em>ផ្អាក</em></p><p lang="en">an <em>example</em></p></html>'
    document = weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=_fetcher(project)).render()
    styles = {box.element.text: box.style for box in document.pages[0]._page_box.descendants() if box.element_tag == "em"}
    assert styles["ផ្អាក"]["font_weight"] == 700 and styles["ផ្អាក"]["font_style"] == "normal"
    assert styles["example"]["font_style"] == "italic"


def test_text_in_another_language_carries_its_lang() -> None:
    # A clause shown in the source language (its translation missing) keeps its lang in the
    # structure tree, so a screen reader switches voice; WeasyPrint 70 drops it.
    import io

    import weasyprint
    from pypdf import PdfReader

    pdf_text.install()
    html = '<html lang="km"><body><p>Khmer document</p><p lang="en">English text</p><ul><li lang="nl">Nederlands</li></ul></body></html>'
    reader = PdfReader(io.BytesIO(weasyprint.HTML(string=html).write_pdf(pdf_variant="pdf/ua-1")))
    found = []

    def walk(element: object) -> None:
        element = element.get_object()  # type: ignore[attr-defined]
        found.append((str(element.get("/S")), element.get("/Lang")))
        kids = element.get("/K")
        for kid in kids if isinstance(kids, list) else []:
            if isinstance(kid.get_object(), dict):
                walk(kid)

    walk(reader.trailer["/Root"]["/StructTreeRoot"]["/K"][0])
    assert ("/P", "en") in found and ("/LI", "nl") in found
    assert [lang for tag, lang in found if lang] == ["en", "nl"]  # only where the language changes
    assert reader.trailer["/Root"]["/Lang"] == "km"


def test_one_structure_tree_for_the_whole_document() -> None:
    # WeasyPrint 70 builds a structure tree per page: an article or a table that crosses a page
    # became two. policygen continues them: one Art, one Table, one THead, one TBody; the
    # header row repeated on each later page is an artifact, and the data cells there point at
    # the first page's header cells.
    import io

    import weasyprint
    from pypdf import PdfReader

    pdf_text.install()
    rows = "".join(f"<tr><td>cell {i}</td><td>value {i}</td></tr>" for i in range(80))
    html = ('<html lang="en"><style>@page { size: A6; @bottom-center { content: "Page " counter(page) } }</style><body><article>'
            f"<h1>Title</h1><p>Intro</p><table><thead><tr><th>Name</th><th>Value</th></tr></thead><tbody>{rows}</tbody></table>"
            "<p>After</p></article></body></html>")
    document = weasyprint.HTML(string=html).render()
    pdf_text.mark_page_furniture(document)
    data = document.write_pdf(pdf_variant="pdf/ua-1")
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) > 2
    counts: dict[str, int] = {}
    ids: set[str] = set()
    headers: list[str] = []

    def walk(element: object) -> None:
        element = element.get_object()  # type: ignore[attr-defined]
        counts[str(element["/S"])] = counts.get(str(element["/S"]), 0) + 1
        if "/ID" in element:
            ids.add(str(element["/ID"]))
        if "/A" in element and "/Headers" in element["/A"]:
            headers.extend(str(h) for h in element["/A"]["/Headers"])
        kids = element.get("/K")
        for kid in kids if isinstance(kids, list) else []:
            if isinstance(kid, int) or "/S" not in kid.get_object():
                continue
            assert kid.get_object().raw_get("/P").idnum == element.indirect_reference.idnum  # each kid points to its parent
            walk(kid)

    walk(reader.trailer["/Root"]["/StructTreeRoot"]["/K"][0])
    assert counts["/Art"] == 1 and counts["/Table"] == 1 and counts["/TBody"] == 1 and counts["/P"] == 2
    assert counts["/THead"] == 1 and counts["/TH"] == 2 and counts["/TR"] == 81 and counts["/TD"] == 160
    assert len(headers) == 160 and set(headers) == ids and len(ids) == 2  # every data cell names the two header cells
    for index in range(1, len(reader.pages)):
        runs = _marked_runs_of(reader, index)
        assert (True, "Name") in runs and (True, "Value") in runs  # the repeated header row
        assert any(not artifact and chunk.startswith("cell") for artifact, chunk in runs)
    control_runs = _marked_runs_of(reader, 0)
    assert (False, "Name") in control_runs  # the first page's header row is content


def _text_by_mcid(reader: Any, page_index: int) -> dict[int, str]:
    """The text of each marked-content sequence with an MCID on one page."""
    stack: list[int | None] = []
    out: dict[int, str] = {}

    def before(op: bytes, args: list, cm: list, tm: list) -> None:
        if op == b"BDC":
            properties = args[1] if len(args) > 1 else None
            stack.append(properties.get("/MCID") if isinstance(properties, dict) else None)
        elif op == b"BMC":
            stack.append(None)
        elif op == b"EMC" and stack:
            stack.pop()

    def text(chunk: str, cm: list, tm: list, font: object, size: float) -> None:
        mcid = next((m for m in reversed(stack) if m is not None), None)
        if mcid is not None:
            out[mcid] = out.get(mcid, "") + chunk

    reader.pages[page_index].extract_text(visitor_operand_before=before, visitor_text=text)
    return out


def _labels(pdf: Path) -> list[str]:
    """The text of every Lbl structure element of a tagged PDF, in tree order."""
    from pypdf import PdfReader

    reader = PdfReader(pdf)
    numbers = {page.indirect_reference.idnum: index for index, page in enumerate(reader.pages) if page.indirect_reference}
    texts: dict[int, dict[int, str]] = {}
    labels: list[str] = []

    def mcids(element: Any) -> list[tuple[int, int]]:
        kids = element.get("/K")
        found = []
        for kid in kids if isinstance(kids, list) else [kids]:
            if isinstance(kid, int):
                found.append((numbers[element.raw_get("/Pg").idnum], kid))
            elif kid is not None:
                found += mcids(kid.get_object())
        return found

    def walk(element: Any) -> None:
        element = element.get_object()
        if str(element.get("/S")) == "/Lbl":
            parts = []
            for index, mcid in mcids(element):
                if index not in texts:
                    texts[index] = _text_by_mcid(reader, index)
                parts.append(texts[index].get(mcid, ""))
            labels.append("".join(parts).replace("\u200b", "").strip())
            return
        kids = element.get("/K")
        for kid in kids if isinstance(kids, list) else []:
            if not isinstance(kid, int) and "/S" in kid.get_object():
                walk(kid)

    root: Any = reader.trailer["/Root"]
    walk(root["/StructTreeRoot"]["/K"][0])
    return labels


def test_list_bullets_and_numbers_are_labels(pages: dict[str, list[Page]]) -> None:
    # A screen reader announces a list item's bullet or number as its label (Lbl), apart
    # from the item's text (LBody): every list item of the policy has one, in every language.
    for name in ("en/tonle-privacy-en.pdf", "km/tonle-privacy-km.pdf"):
        page = next(page for page in pages["ours"] if page.name == name)
        toc = re.search(r"(?s)<nav class=\"policy-toc\".*?</nav>", page.html)
        expected = page.html.count("<li") - (toc.group(0).count("<li") if toc else 0)
        labels = _labels(page.pdf)
        assert expected and len(labels) == expected, name
        assert [label for label in labels if not re.fullmatch(r"•|[0-9\u17e0-\u17e9]+\.", label)] == [], name


def test_list_labels_are_read_with_their_items() -> None:
    # WeasyPrint 70 paints a list item's outside marker after all the text of its page: engines
    # that read in drawing order gave an ordered list's numbers (and a nested list's bullets) at
    # the foot of the page, inside whatever text crossed to the next page. policygen draws each
    # marker just before its item's text, where it is on the page.
    import io

    import pypdfium2
    from pypdf import PdfReader

    from policygen.render.pdf import render_html_pdf
    from policygen.source.load import load_project

    project = load_project(SAMPLE, None)
    body = ('<ol style="list-style-type: khmer"><li>សិទ្ធិស្នើសុំ</li><li>សិទ្ធិកែតម្រូវ<ul><li>លើកលែងតែ</li></ul></li></ol>'
            "<p>ក្រោយបញ្ជី</p>")

    def render() -> bytes:
        return render_html_pdf(project, body, "km", "ចំណងជើង", "", SAMPLE / "policygen.yaml")

    data = render()
    with pdf_text.disabled():
        plain = render()

    def engines(pdf: bytes) -> dict[str, str]:
        page = pypdfium2.PdfDocument(pdf)[0]
        texts = {"pypdf": PdfReader(io.BytesIO(pdf)).pages[0].extract_text(), "pdfium": page.get_textpage().get_text_range()}
        return {name: re.sub(r"\s+", " ", text.replace("\u200b", "")).strip() for name, text in texts.items()}

    for name, text in engines(data).items():
        assert "ចំណងជើង ១. សិទ្ធិស្នើសុំ ២. សិទ្ធិកែតម្រូវ ◦ លើកលែងតែ ក្រោយបញ្ជី ចំណងជើង ទំព័រ" in text, name
    for name, text in engines(plain).items():  # the control: the labels after the page's text
        assert "១. ២. ◦ ចំណង" in text, name


def test_a_hyphen_that_ends_a_line_is_kept(tmp_path: Path) -> None:
    # An address broken after its own hyphen: poppler's layout mode (pdftotext, Evince) dropped
    # a "-" that ends a line, taking it for a hyphenation ("...@exampleorganisation.example"),
    # and PDFium read it as U+FFFE. In a Latin line and in a Khmer one (the text layer).
    from policygen.render.pdf import render_html_pdf
    from policygen.source.load import load_project

    project = load_project(SAMPLE, None)
    address = '<a href="mailto:privacy-office@example-organisation.example">privacy-office@example-organisation.example</a>'
    body = f'<p style="width: 42mm">Mail {address} today.</p><p lang="km" style="width: 42mm">សូមផ្ញើទៅ {address} ។</p>'
    pdf = tmp_path / "hyphen.pdf"
    pdf.write_bytes(render_html_pdf(project, body, "en", "Title", "", SAMPLE / "policygen.yaml"))
    texts = {name: pdf_engines.ENGINES[name]([pdf])[0] for name in ("pdftotext", "pdfium", "pdfjs")}
    for name, text in texts.items():
        text = text.replace("\u200b", "")
        lines = [line for line in text.splitlines() if "example" in line or "office" in line]
        assert "\ufffe" not in text and "exampleorganisation" not in text and "privacyoffice" not in text, (name, lines)
        assert len(re.findall(r"privacy-\s*office@example-\s*organisation\.example", text)) == 2, (name, lines)
    assert re.search(r"-\u200b?\n", texts["pdftotext"]), "the case needs an address broken after its hyphen"
