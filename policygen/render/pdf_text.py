"""PDF text layer: make the text of a WeasyPrint PDF extract exactly, Khmer included.

WeasyPrint maps each glyph to text once, through the font's ToUnicode map, taking the text of
the first cluster that used the glyph. Khmer reuses glyphs across clusters (a subscript
consonant, a vowel sign), and Pango's clusters are smaller than Khmer's grapheme clusters, so
copy-paste, search and screen readers get wrong Khmer (WeasyPrint issue #2841: the right fix
is upstream, in ``draw_first_line``; until it lands, this module applies it from outside).

Readers' engines also differ in how they read a glyph's text: PDFium (Chrome) and pdf.js
(Firefox) print the raw character code of a glyph whose text is empty, pdf.js takes any text with
a nonspacing mark for a zero-width mark, poppler and MuPDF sort characters by position, and
pypdf and pdfminer.six guess spaces from gaps. No mapping of drawn glyphs to text satisfies all
of them when Khmer draws a vowel before its consonant. So this module separates the two, as OCR
tools make scanned pages searchable, for each text box (line fragment) with Khmer in it or in a
Khmer element:

1. It groups Pango's clusters into grapheme clusters: a cluster that starts with a combining
   mark, or follows one that ends with a coeng (U+17D2) or a zero-width joiner, joins the
   cluster before it.
2. WeasyPrint draws the glyphs as usual, but every glyph reads U+200B (a format character that
   pdf.js skips and the others print as nothing visible), and they sit in a marked-content
   span with an empty ``/ActualText``, so that poppler and MuPDF read nothing from them.
3. After them comes an invisible copy of the text (text render mode 3) in logical order: one
   code per grapheme cluster, as wide as the cluster, so that it lies over the glyphs it reads
   for (selection, search highlights). A cluster with a nonspacing mark is two codes: the
   letters before the mark carry the width, the rest a thousandth of an em. U+200B break
   hints are left out of it. It is ``LAYER_HEIGHT`` times as tall as the glyphs, so that
   poppler and pdfminer.six, which join lines whose baselines are less than about 1.5 font sizes
   apart, read a Khmer paragraph (line height 1.75) or table cell as one block.
4. Where WeasyPrint draws nothing between two inline elements of a Khmer line (a whitespace-only
   box), the layer has an invisible space (MuPDF otherwise reads none there).
5. In every language, each table row and the running header is one line for pdfminer.six: an
   invisible space as large as the row goes before each of its lines of text but the first
   (:func:`glue_rows`), so that its layout analysis reads a table row by row, not column by
   column.
6. In every language, a list item's outside marker (bullet or number) is drawn just before the
   item's text, not after all the text of the page as WeasyPrint 70 paints it
   (:func:`_dispatch_children`).
7. In every language, a hyphen of the text ("-") that ends a line is followed by an invisible
   code reading U+200B, so that poppler and PDFium do not take it for a hyphenation and drop it
   (:func:`keep_line_end_hyphens`).

Text boxes without Khmer keep WeasyPrint's glyph mapping, corrected where it would be wrong: in
each grapheme cluster the first glyph carries the cluster's text and the others U+200B.

Codes whose text or width differs from the glyph's are fresh CIDs past the font's glyphs,
mapped back to the real glyph by a ``CIDToGIDMap``, so the page looks exactly the same. The
module hooks module-level functions of WeasyPrint 70 (``draw.text.draw_first_line``,
``pdf.fonts._build_vector_font_dictionary``, and for step 6 ``stacking._dispatch_children`` and
``draw.draw_block_level``), runs WeasyPrint's own drawing code, and changes
no WeasyPrint file. Lines that use ellipsis and fonts without TrueType outlines are left to
WeasyPrint's own code.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

COENG = "\u17d2"
ZWJ = "\u200d"
_FIRST_EXTRA_CID_GAP = 256
"""Extra CIDs start this far above the font's glyphs, clear of WeasyPrint's own .notdef IDs."""

# WeasyPrint is imported by install(), not with this module: importing it costs half a second,
# which a command that renders no PDF should not pay.
pydyf: Any = None
draw_text: Any = None
pdf_fonts: Any = None
ffi: Any = None
pango: Any = None
FROM_UNITS: Any = None
_original_draw_first_line: Any = None
_original_build_vector_font_dictionary: Any = None
_original_marked: Any = None
_original_build_box_tree: Any = None
_original_dispatch_children: Any = None
_original_draw_block_level: Any = None
draw_module: Any = None
boxes: Any = None
_installed = False
_enabled = True
SILENT = "\u200b"
"""The text of a glyph that carries none (every glyph of a cluster but its first)."""
LAYER_HEIGHT = 1.25
MARK_WIDTH = 500
_KHMER = re.compile("[\u1780-\u17ff\u19e0-\u19ff]")


def install() -> None:
    """Hook the text layer into WeasyPrint (idempotent)."""
    global _installed, pydyf, draw_text, pdf_fonts, ffi, pango, FROM_UNITS
    global _original_draw_first_line, _original_build_vector_font_dictionary, _original_marked, _original_build_box_tree, boxes
    global _original_dispatch_children, _original_draw_block_level, draw_module
    if _installed:
        return
    import pydyf as pydyf_module
    from weasyprint import draw as draw_package
    from weasyprint import stacking
    from weasyprint.draw import text as draw_text_module
    from weasyprint.formatting_structure import boxes as boxes_module
    from weasyprint.pdf import fonts as pdf_fonts_module
    from weasyprint.pdf import stream as pdf_stream
    from weasyprint.pdf import tags as pdf_tags
    from weasyprint.text import ffi as ffi_module

    pydyf, draw_text, pdf_fonts = pydyf_module, draw_text_module, pdf_fonts_module
    ffi, pango, FROM_UNITS = ffi_module.ffi, ffi_module.pango, ffi_module.FROM_UNITS
    _original_draw_first_line = draw_text.draw_first_line
    _original_build_vector_font_dictionary = pdf_fonts._build_vector_font_dictionary
    draw_text.draw_first_line = _draw_first_line
    pdf_fonts._build_vector_font_dictionary = _build_vector_font_dictionary
    boxes = boxes_module
    _original_marked = pdf_stream.Stream.marked
    _original_build_box_tree = pdf_tags._build_box_tree
    pdf_stream.Stream.marked = _marked
    pdf_tags._build_box_tree = _build_box_tree
    draw_module = draw_package
    _original_dispatch_children = stacking._dispatch_children
    _original_draw_block_level = draw_module.draw_block_level
    stacking._dispatch_children = _dispatch_children
    draw_module.draw_block_level = _draw_block_level
    _installed = True


def mark_page_furniture(document: Any) -> None:
    """Make the page margins' content (running header, footer, page numbers) artifacts in a
    tagged PDF: a screen reader then skips them instead of reading them on every page.
    WeasyPrint 70 tags them as content outside the structure tree."""
    install()
    headers: set[int] = set()
    for page in document.pages:
        for box in page._page_box.children:
            if isinstance(box, boxes.MarginBox):
                for inner in box.descendants():
                    inner.policygen_artifact = True
        for box in page._page_box.descendants():
            if isinstance(box, boxes.TableRowGroupBox) and box.is_header and box.element is not None:
                # A table that crosses a page repeats its header row there: drawn for the
                # sighted reader, an artifact for the screen reader, which has read it once.
                if id(box.element) in headers:
                    for inner in box.descendants():
                        inner.policygen_artifact = True
                headers.add(id(box.element))


def glue_rows(document: Any) -> None:
    """Tie the text of each table row, and of the running header, into one line for
    pdfminer.six: every line of text in a row but its first gets ``policygen_glue``, the row's
    rectangle (x, y, width, height in CSS pixels), and :func:`_draw_glue` draws an invisible
    space over the whole row before it.

    pdfminer.six's layout analysis (``extract_text`` with its default parameters) makes a block
    of each cell and orders the blocks by merging the two nearest first, nearness measured by
    the area between them: the cells of a column, as wide as each other, merged before the
    cells of a row, and a table was read column by column; the running header's title, at the
    top left, merged with a heading under it before the version and date at the top right. Its
    lines are characters joined while each is beside the one before it, in the order they are
    drawn: the glue is beside everything in its row, so a row, drawn cell by cell, is one line,
    read in order, and the rows are lines one under the other. The glue reads a space, which the
    jump from one line of text to the next no longer gives; other engines read it as the space
    a line break is."""
    install()
    for page in document.pages:
        header = [box for box in page._page_box.children if isinstance(box, boxes.MarginBox) and box.at_keyword.startswith("@top")]
        if header:
            left = min(box.position_x for box in header)
            top = min(box.position_y for box in header)
            right = max(box.position_x + box.margin_width() for box in header)
            bottom = max(box.position_y + box.margin_height() for box in header)
            _glue(header, (left, top, right - left, bottom - top))
        for row in page._page_box.descendants():
            if isinstance(row, boxes.TableRowBox):
                _glue(row.children, (row.position_x, row.position_y, row.margin_width(), row.margin_height()))


def keep_line_end_hyphens(document: Any) -> None:
    """Mark the text box that ends a line with a hyphen of the text ("-", U+002D: one of an
    address, a name or a compound word, never one of hyphenation, which WeasyPrint writes as
    U+2010): an invisible code reading U+200B goes after that hyphen (:func:`_map_run`).

    poppler's layout mode (``pdftotext``, Evince and Okular) and PDFium (Chrome) take every "-"
    that ends a line for a hyphenation: poppler drops it and joins the two lines
    ("data-protection-officer@example-" and "organisation.example" became
    "...@exampleorganisation.example", "Amsterdam-Zuidoost" "AmsterdamZuidoost"), PDFium reads
    it as U+FFFE. Both look only at the line's last character, so an invisible U+200B after the
    hyphen keeps it."""
    install()
    for page in document.pages:
        for line in page._page_box.descendants():
            if isinstance(line, boxes.LineBox):
                last = None
                for box in line.descendants():
                    if isinstance(box, boxes.TextBox) and box.text.strip():
                        last = box
                if last is not None and last.text.endswith("-"):
                    last.policygen_line_end_hyphen = True


def _glue(parts: list[Any], rectangle: tuple[float, float, float, float]) -> None:
    """Give the first text box of every line in ``parts`` (the cells of a row) but the first
    line the glue ``rectangle``."""
    starts = []
    for part in parts:
        for line in part.descendants():
            if isinstance(line, boxes.LineBox):
                first = next((box for box in line.descendants() if isinstance(box, boxes.TextBox) and box.text.strip()), None)
                if first is not None:
                    starts.append(first)
    for box in starts[1:]:
        box.policygen_glue = rectangle


@contextmanager
def _marked(self, box, tag):
    if _enabled and getattr(box, "policygen_artifact", False):
        with self.artifact():
            yield
        return
    with _original_marked(self, box, tag):
        yield


def _build_box_tree(box, parent, pdf, page_number, nums, annotations, tags):
    if _enabled and getattr(box, "policygen_artifact", False) and not any(child in tags for child in box.descendants()):
        return  # page furniture: artifacts, nothing to map
    lang = None
    enclosing = _elements[-1] if _elements else None
    if _enabled and box.element is not None and box.element is not enclosing and box.element_tag not in ("html", "body"):
        lang = box.element.get("lang")
        document_lang = pdf.catalog.get("Lang")
        if lang and document_lang is not None and lang == getattr(document_lang, "string", None):
            lang = None
    repeated = []
    if _enabled and box.element_tag == "table":
        for inner in box.descendants():
            if getattr(inner, "policygen_artifact", False) and inner.element_tag == "th":
                # WeasyPrint gives each header cell of the table an ID, and each data cell the
                # IDs of its headers; a repeated header cell has no structure element of its
                # own, and the cells below it are pointed at the first page's (_continues).
                inner.mark = pydyf.Dictionary({"A": pydyf.Dictionary()})
                repeated.append(inner.mark)
    _elements.append(box.element)
    try:
        for element in _original_build_box_tree(box, parent, pdf, page_number, nums, annotations, tags):
            if repeated and element.get("S") == "/Table":
                _point_to_first_headers(pdf, box, element, {mark["ID"].string for mark in repeated if "ID" in mark})
            own = element.get("P") == parent.reference and box.element is not None and box.element is not enclosing
            if lang and own:
                # Text in another language than the document's (a clause shown in the source
                # language while its translation is missing): WeasyPrint 70 drops its lang.
                element["Lang"] = pydyf.String(lang)
            if _enabled and own and _continues(pdf, box, element, annotations):
                continue
            yield element
    finally:
        _elements.pop()


def _dispatch_children(box, page, child_contexts, blocks, floats, blocks_and_cells):
    # WeasyPrint 70 makes a list item's outside marker (its bullet or number) an absolutely
    # positioned box, painted after all the text of the page: engines that read in drawing
    # order (PDFium, pdf.js, pdftotext -raw, MuPDF, pypdf) read an ordered list's numbers at
    # the foot of the page, inside whatever text crosses to the next page. The marker keeps its
    # place but is drawn with its item (_draw_block_level), just before the item's text.
    before = {id(context) for context in child_contexts}
    box = _original_dispatch_children(box, page, child_contexts, blocks, floats, blocks_and_cells)
    if not _enabled:
        return box
    markers = [context for context in child_contexts if id(context) not in before and _plain_marker(context.box)]
    if markers:
        child_contexts[:] = [context for context in child_contexts if not any(context is marker for marker in markers)]
        box.policygen_markers = markers
    return box


def _plain_marker(box: Any) -> bool:
    """Whether ``box`` is an outside list marker that WeasyPrint paints as a positioned box of
    its own (no z-index, opacity, transform or clip that would make its paint order matter)."""
    style = box.style
    return bool(box.is_outside_marker and style["z_index"] == "auto" and style["opacity"] == 1
                and not style["transform"] and style["overflow"] == "visible")


def _draw_block_level(page, stream, blocks_and_cells):
    for block, inner in blocks_and_cells.items():
        for marker in getattr(block, "policygen_markers", ()):
            draw_module.draw_stacking_context(stream, marker)
        _original_draw_block_level(page, stream, {block: inner})


_elements: list[Any] = []
"""The HTML elements whose structure elements are being built, innermost last."""


def _continues(pdf: Any, box: Any, element: Any, annotations: list) -> bool:
    """Whether ``element`` continues the structure element of the same HTML element on an
    earlier page; if so, its kids move there. WeasyPrint 70 builds a structure tree per page,
    so an article or a table that crosses a page became two; PDF/UA wants one."""
    if not hasattr(pdf, "policygen_structure"):
        pdf.policygen_structure = {}
    if str(element["S"]) in ("/THead", "/TR", "/TH", "/TD"):
        return False  # rows stay on their page (a repeated header row is an artifact)
    key = (id(box.element), str(element["S"]))
    first = pdf.policygen_structure.get(key)
    if first is None or first is element or first.get("Pg") == element.get("Pg") or any(isinstance(kid, int) for kid in element["K"]):
        if first is None:
            pdf.policygen_structure[key] = element
        return False
    for kid in element["K"]:
        first["K"].append(kid)
        kid_object = pdf.objects[int(kid.split()[0])]
        if isinstance(kid_object, pydyf.Dictionary) and kid_object.get("P") == element.reference:
            kid_object["P"] = first.reference
    annotations[:] = [(first.reference if ref == element.reference else ref, annotation) for ref, annotation in annotations]
    element["K"] = pydyf.Array()
    return True


def _point_to_first_headers(pdf: Any, box: Any, table: Any, repeated: set[str]) -> None:
    """Point the data cells of ``table`` (a later page's part of the table ``box``) that name a
    cell of the repeated header row (``repeated``) at the same cell on the table's first page."""
    first = getattr(pdf, "policygen_structure", {}).get((id(box.element), "/Table"))
    if first is None:
        return
    prefix, first_prefix = f"{table.number}-", f"{first.number}-"
    for cell in box.descendants():
        mark: Any = getattr(cell, "mark", None) if cell.element_tag == "td" else None
        headers = mark["A"].get("Headers") if mark is not None else None
        if mark is not None and headers:
            mark["A"]["Headers"] = pydyf.Array(
                pydyf.String(first_prefix + h.string.removeprefix(prefix)) if h.string in repeated else h for h in headers)


@contextmanager
def disabled() -> Iterator[None]:
    """Render with WeasyPrint's own text layer (the control in tests and benchmarks)."""
    global _enabled
    install()
    _enabled = False
    try:
        yield
    finally:
        _enabled = True


_JOINERS = (COENG, ZWJ)
"""A Pango cluster after one that ends with these joins its grapheme cluster, as does one that
starts with a combining mark (:func:`_starts_with_mark`)."""
_MARKS: dict[str, bool] = {}
"""Whether a character is a combining mark, by character: looked up for every cluster drawn."""


def _starts_with_mark(text: str) -> bool:
    first = text[0]
    mark = _MARKS.get(first)
    if mark is None:
        mark = _MARKS[first] = unicodedata.category(first) in ("Mn", "Mc", "Me")
    return mark


def _state(font: Any) -> tuple[dict[tuple[Any, ...], int], dict[int, int], dict[tuple[str, int, bool], list[int]]]:
    """Per-font maps: (glyph, text[, width]) -> extra CID, extra CID -> glyph, and a grapheme
    cluster's (text, width, whether it has no glyph) -> its codes in the text layer."""
    if not hasattr(font, "policygen_cids"):
        font.policygen_cids = {}
        font.policygen_gids = {}
        font.policygen_layer_codes = {}
    return font.policygen_cids, font.policygen_gids, font.policygen_layer_codes


def _draw_first_line(stream, textbox, text_overflow, block_ellipsis, matrix):
    if not _enabled:
        return _original_draw_first_line(stream, textbox, text_overflow, block_ellipsis, matrix)
    if textbox.style["font_size"] < 1e-6:
        return _original_draw_first_line(stream, textbox, text_overflow, block_ellipsis, matrix)
    glue = getattr(textbox, "policygen_glue", None)
    if glue is not None and textbox.text.strip():
        _draw_glue(stream, textbox, glue)
    if text_overflow == "ellipsis" or block_ellipsis != "none":
        return _original_draw_first_line(stream, textbox, text_overflow, block_ellipsis, matrix)
    if not textbox.text.strip():
        if textbox.text and _khmer_context(textbox):
            _draw_space(stream, textbox, matrix)
        return _original_draw_first_line(stream, textbox, text_overflow, block_ellipsis, matrix)
    pango.pango_layout_set_single_paragraph_mode(textbox.pango_layout.layout, True)
    first_line, _index = textbox.pango_layout.get_first_line()
    utf8 = textbox.pango_layout.text.encode()
    runs = []
    run = first_line.runs[0]
    while run != ffi.NULL:
        runs.append(run.data)
        run = run.next
    fonts = [_font(stream, textbox, glyph_item) for glyph_item in runs]
    layered = _khmer_context(textbox) and all(_plain_outlines(font) for font, _size in fonts)
    restore: list[tuple[Any, int]] = []
    hyphen_run = len(runs) if getattr(textbox, "policygen_line_end_hyphen", False) else 0
    layer = [_map_run(stream, textbox, glyph_item, font, size, utf8, restore, layered, number == hyphen_run)
             for number, (glyph_item, (font, size)) in enumerate(zip(runs, fonts, strict=True), 1)]
    try:
        if layered:
            # The glyphs drawn read nothing where the engine honours ActualText (poppler, MuPDF):
            # the text layer below has the text.
            stream.stream.append(_SPAN_WITHOUT_TEXT)
        emojis = _original_draw_first_line(stream, textbox, text_overflow, block_ellipsis, matrix)
        if layered:
            # A box of one grapheme cluster needs no bridge: the cluster's code lies over all
            # of the box's glyphs.
            bridge = _bridge(textbox, runs[0], *fonts[0]) if sum(part[3] for part in layer) > 1 else None
            _draw_text_layer(stream, matrix, layer, bridge, placed=True)
        hyphen = getattr(textbox, "policygen_hyphen_code", None)
        if hyphen is not None and hyphen[2] is not None:
            # After the line's last glyph (and its text layer, as wide): an invisible U+200B,
            # so that the line ends with it and not with the hyphen (keep_line_end_hyphens).
            font_hash, font_size, cid = hyphen
            stream.set_text_rendering(3)
            stream.set_font_size(font_hash, font_size)
            stream.stream.append(b"(" + _code(cid) + b") Tj")
            stream.set_text_rendering(0)
        return emojis
    finally:
        # Pango's glyph strings belong to the layout, which WeasyPrint may draw again.
        for info, glyph in restore:
            info.glyph = glyph


_SPAN_WITHOUT_TEXT = b"/Span<</ActualText()>>BDC"
"""The marked-content span around a layered box's glyphs, written once: a pydyf dictionary
and string per box cost more to serialise than the rest of the box's layer."""


def _font(stream, textbox, glyph_item) -> tuple[Any, float]:
    """The WeasyPrint font of a Pango run and the size its glyphs are drawn at."""
    font, font_size = stream.add_font(glyph_item.item.analysis.font)
    if pango.pango_version() < 14802:
        font_size = textbox.style["font_size"]
    return font, font_size


def _draw_space(stream, textbox, matrix) -> None:
    """A whitespace-only box between two inline elements of a Khmer line (``</b> <b>``), which
    WeasyPrint does not draw: its space, invisible, for engines that do not guess spaces
    from gaps in a line whose glyphs read nothing (MuPDF)."""
    pango.pango_layout_set_single_paragraph_mode(textbox.pango_layout.layout, True)
    first_line, _index = textbox.pango_layout.get_first_line()
    if first_line.runs == ffi.NULL:
        return
    utf8 = textbox.pango_layout.text.encode()
    layer = []
    restore: list[tuple[Any, int]] = []
    run = first_line.runs[0]
    try:
        while run != ffi.NULL:
            font, size = _font(stream, textbox, run.data)
            if _plain_outlines(font):
                layer.append(_map_run(stream, textbox, run.data, font, size, utf8, restore, True))
            run = run.next
        _draw_text_layer(stream, matrix, layer, placed=False)
    finally:
        for info, glyph in restore:
            info.glyph = glyph


def _draw_glue(stream, textbox, glue: tuple[float, float, float, float]) -> None:
    """An invisible space as large as the table row ``glue`` (x, y, width, height), drawn
    before a line of text in the row (see :func:`glue_rows`)."""
    pango.pango_layout_set_single_paragraph_mode(textbox.pango_layout.layout, True)
    first_line, _index = textbox.pango_layout.get_first_line()
    if first_line.runs == ffi.NULL:
        return
    glyph_item = first_line.runs[0].data
    font, _size = stream.add_font(glyph_item.item.analysis.font)
    glyphs = glyph_item.glyphs
    glyph = next((glyphs.glyphs[i].glyph for i in range(glyphs.num_glyphs) if not glyphs.glyphs[i].glyph & pango.PANGO_GLYPH_UNKNOWN_FLAG), None)
    if not _plain_outlines(font) or glyph is None or glyph == pango.PANGO_GLYPH_EMPTY:
        return
    cid = _extra_cid(font, glyph, " ", 1000)
    if cid is None:
        return
    x, y, width, height = glue
    # One em wide and one em tall at a size of 1, scaled to the row; the baseline above the
    # row's bottom by the font's descent, where engines put the bottom of a character's box.
    # Hundredths of a pixel are precise enough, and shorter to write.
    stream.set_text_rendering(3)
    stream.set_font_size(font.hash, 1)
    stream.set_text_matrix(round(width, 2), 0, 0, round(-height, 2), round(x, 2), round(y + height * (1 + font.descent / 1000), 2))
    stream.show_text(f"<{cid:04x}>")
    stream.set_text_rendering(0)


def _plain_outlines(font: Any) -> bool:
    return not (font.bitmap or font.png or font.svg or font.colr or font.type == "otf")


def _bridge(textbox, glyph_item, font, font_size) -> tuple[Any, float, int] | None:
    """An invisible code that reads U+200B from the text box's start to most of its width:
    (font, size, code)."""
    # pdfminer.six joins two characters into a line while the gap between them is less than
    # twice the wider one's width: from the box's last glyph to a bridge more than half as wide
    # as the box, it is. So the bridge is a power of two ems wide, at most the box's width (one
    # em for a narrower box): a handful of codes serve every box, and each box's bridge takes
    # few bits of the compressed page (a code costs a width, a text and a glyph entry in the
    # font's maps, and its every use a code in the page).
    ems = int(textbox.width / font_size)
    width = 1000 << max(ems.bit_length() - 1, 0)
    glyphs = glyph_item.glyphs
    glyph = next((glyphs.glyphs[i].glyph for i in range(glyphs.num_glyphs) if not glyphs.glyphs[i].glyph & pango.PANGO_GLYPH_UNKNOWN_FLAG), None)
    if textbox.width <= 0 or glyph is None or glyph == pango.PANGO_GLYPH_EMPTY:
        return None
    cid = _extra_cid(font, glyph, SILENT, width, layer=True)
    return None if cid is None else (font.hash, font_size, cid)


_GLYPH_INFO_SIZE = 20
"""The size of a PangoGlyphInfo: the glyph, its width, x and y offsets and attributes, 4 bytes each."""
_CODES: dict[int, bytes] = {}
"""A code's two bytes as they are written in a PDF literal string."""


def _code(cid: int) -> bytes:
    written = _CODES.get(cid)
    if written is None:
        # A carriage return in a literal string would be read as a line feed.
        written = cid.to_bytes(2, "big").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)").replace(b"\r", b"\\r")
        _CODES[cid] = written
    return written


def _draw_text_layer(stream, matrix, layer, bridge: tuple[Any, float, int] | None = None, placed: bool = True) -> None:
    """The line's text in logical order, invisible (text render mode 3): one code per grapheme
    cluster, as wide as the cluster, over the glyphs that WeasyPrint drew.

    ``placed``: WeasyPrint drew the box's glyphs from the box's text matrix, the start of the
    current text line, and the drawn glyphs' marked-content span is open: it closes here, after
    ``bridge``: a code that reads U+200B from the box's start over more than half of it (see
    _bridge), after which the layer goes back to the start. pdfminer.six joins characters into a line
    only while each is near the one before it; without the bridge, the jump back from the
    glyphs' end to the layer's start splits the line, and its layout analysis reorders the
    pieces.

    The layer is ``LAYER_HEIGHT`` times as tall as the glyphs through its font size, and as wide
    because its codes' widths and moves are divided by as much: so ``0 0 Td`` takes it back to
    the box's start, where a text matrix of its own would repeat the box's position (a tenth of
    a Khmer PDF's size, compressed). Horizontal scaling (``Tz``) would do the same, but pypdf
    leaves it out of the widths it measures gaps with, and then reads no space between two
    table cells. The codes are literal strings, half the bytes of hexadecimal ones."""
    if placed:
        stream.stream.append(b"3 Tr 0 0 Td")
    else:
        stream.set_text_matrix(*matrix.values)
        stream.set_text_rendering(3)
    if bridge is not None:
        font_hash, font_size, cid = bridge
        stream.set_font_size(font_hash, font_size * LAYER_HEIGHT)
        # Back to the box's start with a line move rather than the bridge's width: one
        # operator for every box, where the widths would differ.
        stream.stream.append(b"(" + _code(cid) + b") Tj 0 0 Td")
    if placed:
        stream.end_marked_content()
    for font_hash, font_size, items, _clusters in layer:
        if not items:
            continue
        stream.set_font_size(font_hash, font_size * LAYER_HEIGHT)
        parts = []
        move = 0
        for item in items:
            if item < 0:
                move += item + 1
                continue
            if move:
                parts.append(b")" + _number(move / LAYER_HEIGHT) + b"(")
                move = 0
            parts.append(_code(item))
        text = b"(" + b"".join(parts) + b")"
        if move:
            text += _number(move / LAYER_HEIGHT)
        stream.stream.append(b"[" + text.removeprefix(b"()") + b"] TJ")
    stream.set_text_rendering(0)


def _number(value: float) -> bytes:
    """A number as a PDF content stream writes it (no exponent, no trailing zeros)."""
    return f"{value:f}".rstrip("0").rstrip(".").encode() or b"0"


def _extra_cid(font: Any, glyph: int, text: str, width: int | None = None, visible: bool = False, layer: bool = False) -> int | None:
    """A code that draws ``glyph`` and reads ``text`` (and is ``width`` wide when given; a code
    that is not ``visible`` may draw any glyph: it is only used in render mode 3). A ``layer``
    code is shown in the text layer, at LAYER_HEIGHT times the glyphs' font size: its width in
    the font is divided by as much, so that it advances ``width`` at the glyphs' size."""
    cids, gids, _codes = _state(font)
    key = (glyph, text) if width is None else (glyph, text, width) if visible else (text, width, layer)
    cid = cids.get(key)
    if cid is None:
        cid = font.glyph_count + _FIRST_EXTRA_CID_GAP + len(cids)
        if cid > 0xFFFF:
            return None  # out of CIDs: keep WeasyPrint's mapping rather than break the page
        cids[key] = cid
        if layer:
            # Shown in render mode 3, a code of the text layer may draw any glyph of the subset:
            # all of a font's layer codes draw the first one's, so the CIDToGIDMap's entries for
            # them are one repeated row, which compresses to nothing (1.4 K of the Khmer privacy
            # policy's map).
            if not hasattr(font, "policygen_layer_glyph"):
                font.policygen_layer_glyph = glyph
            glyph = font.policygen_layer_glyph
        gids[cid] = glyph
        font.to_unicode[cid] = text
        if width is not None:
            font.widths[cid] = width / LAYER_HEIGHT if layer else width
        if visible and glyph not in font.to_unicode:
            # WeasyPrint subsets a font to the codes its ToUnicode map names, and an extra CID is
            # no glyph of the font: a glyph drawn only through one (a mark with no advance) would
            # lose its outline, and the page would show the letters without their vowel signs
            # and subscripts (in every Khmer PDF, policies and redlines). This entry keeps it; the
            # glyph's own code is drawn only where it reads the same text (see _map_run).
            font.to_unicode[glyph] = text
    return cid


def _map_run(stream, textbox, glyph_item, font, font_size: float, utf8: bytes, restore: list[tuple[Any, int]],
             layered: bool, line_end_hyphen: bool = False) -> tuple[Any, float, list[int], int]:
    """Map the run's glyphs (drawn with ``font`` at ``font_size``) to text; return its part of
    the invisible text layer (when ``layered``): the font, its size, the codes to show (a
    negative item -n-1 is a move of n thousandths of an em to the left, for text that has no
    glyph) and how many grapheme clusters they show. ``line_end_hyphen``: the run ends a line
    with "-", after which goes an invisible code reading U+200B (:func:`keep_line_end_hyphens`)."""
    item = glyph_item.item
    pango_font = item.analysis.font
    layer: list[int] = []
    clusters_layered = 0
    if not _plain_outlines(font):
        return font.hash, font_size, layer, 0  # emoji fonts and CFF outlines keep WeasyPrint's mapping
    glyphs = glyph_item.glyphs
    count = glyphs.num_glyphs
    if count == 0:
        return font.hash, font_size, layer, 0
    clusters = ffi.unpack(glyphs.log_clusters, count)
    starts = sorted(set(clusters))
    ends = [*starts[1:], None]
    text_of = utf8[item.offset : item.offset + item.length]
    # Every line of every PDF comes here, most of them Latin: its work is done in as few Python
    # steps a glyph as it can be (it was a tenth of a PDF's time).
    if text_of.isascii():
        # One character a byte, no combining marks, no joiners: each Pango cluster is a grapheme cluster.
        chars = text_of.decode("ascii")
        group_text = [chars[start:end] for start, end in zip(starts, ends, strict=True)]
        group_of = {start: k for k, start in enumerate(starts)}
    else:
        # Pango's clusters grouped into grapheme clusters (see _JOINERS).
        group_of = {}
        group_text = []
        previous = ""
        for start, end in zip(starts, ends, strict=True):
            text = text_of[start:end].decode("utf-8", "replace")
            if group_text and (previous.endswith(_JOINERS) or (text and _starts_with_mark(text))):
                previous = group_text[-1] = previous + text
            else:
                group_text.append(text)
                previous = text
            group_of[start] = len(group_text) - 1
    groups = [group_of[cluster] for cluster in clusters]
    # Each group's first glyph: the smallest index, which a dictionary made from the last glyph
    # to the first keeps.
    first_glyph = dict(zip(reversed(groups), range(count - 1, -1, -1), strict=True))
    infos = glyphs.glyphs
    empty, unknown = pango.PANGO_GLYPH_EMPTY, pango.PANGO_GLYPH_UNKNOWN_FLAG
    # Each glyph's ID and width, read at once from Pango's array (PangoGlyphInfo: the glyph, then
    # its width, x and y offsets, and attributes, 4 bytes each): a read of a struct field
    # through cffi costs as much as the rest of the work on a glyph.
    array = memoryview(ffi.buffer(infos, count * _GLYPH_INFO_SIZE))
    glyph_ids = array.cast("I")[0::5].tolist()
    if line_end_hyphen and group_text[-1] == "-":
        # A separate code: pdf.js drops a glyph whose text ends with a format character.
        textbox.policygen_hyphen_code = (font.hash, font_size, _extra_cid(font, glyph_ids[-1], SILENT, 0, layer=True))
    if layered:
        widths = array.cast("i")[1::5].tolist()
        group_width = [0] * len(group_text)
        group_glyph = [-1] * len(group_text)
        for i in range(count):
            glyph = glyph_ids[i]
            group = groups[i]
            group_width[group] += widths[i]
            if group_glyph[group] < 0 and glyph != empty and not glyph & unknown:
                group_glyph[group] = glyph
    to_unicode, font_widths = font.to_unicode, font.widths
    for i, glyph in enumerate(glyph_ids):
        if glyph == empty or glyph & unknown:
            continue
        group = groups[i]
        wanted = SILENT if layered or first_glyph[group] != i else group_text[group]
        if glyph not in font_widths:
            pango.pango_font_get_glyph_extents(pango_font, glyph, stream.ink_rect, stream.logical_rect)
            font_widths[glyph] = round(stream.logical_rect.width * 1000 * FROM_UNITS / font_size)
        if layered and font_widths[glyph] == 0:
            # A mark with no advance: pdfminer.six joins two characters into a line only
            # when the gap between them is less than twice the wider one's width, and a
            # subscript and a vowel drawn one over the other, both without width, were split
            # (their Pango offsets differ by a few points). Half an em, which WeasyPrint takes
            # back with its kerning, so the glyphs stay where Pango put them; WeasyPrint
            # writes that kerning truncated towards zero, so the width has the kerning's sign
            # (a mark moved to the left gets a negative width), and the kerning rounds the
            # way it does without the width: the page is drawn exactly as WeasyPrint draws it.
            geometry = infos[i].geometry
            kerning = geometry.x_offset / font_size - geometry.width * 1000 * FROM_UNITS / font_size
            cid = _extra_cid(font, glyph, wanted, MARK_WIDTH if kerning >= 0 else -MARK_WIDTH, visible=True)
        else:
            known = to_unicode.get(glyph)
            if known is None:
                to_unicode[glyph] = wanted
                continue
            if known == wanted:
                continue
            cid = _extra_cid(font, glyph, wanted)
        if cid is None:
            continue
        if cid not in font_widths:
            font_widths[cid] = font_widths[glyph]
        info = infos[i]
        restore.append((info, glyph))
        info.glyph = cid
    if layered:
        codes = _state(font)[2]
        for group, text in enumerate(group_text):
            width = round(group_width[group] * 1000 * FROM_UNITS / font_size)
            key = (text, width, group_glyph[group] < 0)
            known = codes.get(key)
            if known is None:
                known = codes[key] = _layer_codes(font, text, width, group_glyph[group])
            layer += known
            clusters_layered += bool(known) and known[0] >= 0
    return font.hash, font_size, layer, clusters_layered


def _layer_codes(font: Any, text: str, width: int, glyph: int) -> list[int]:
    """The codes of one grapheme cluster in the text layer (see _map_run's result): ``text``,
    ``width`` thousandths of an em wide, drawn (invisibly) with ``glyph``."""
    text = text.replace("\u200b", "")
    if not text or glyph < 0:
        return [-width - 1] if width else []
    # pdf.js takes any text with a nonspacing mark for a zero-width mark, and MuPDF
    # sees a gap after a mark that has a width: the cluster's leading letters carry its
    # width, the marks and what follows them next to none.
    mark = next((k for k, ch in enumerate(text) if unicodedata.category(ch) == "Mn"), 0)
    tail = 1 if width > 1 else 0  # a thousandth of an em: engines that sort by position keep the order
    parts = [(text[:mark], width - tail), (text[mark:], tail)] if mark else [(text, width)]
    codes = []
    for part, part_width in parts:
        cid = _extra_cid(font, glyph, part, part_width, layer=True)
        codes.append(-part_width - 1 if cid is None else cid)
    return codes


def _khmer_context(textbox: Any) -> bool:
    """Whether the box gets the invisible text layer: it has Khmer, or it is in a Khmer element
    (a Latin run in a Khmer line is layered too, so that the whole line has one geometry)."""
    return _has_khmer(textbox.text) or (textbox.style["lang"] or "").startswith("km")


def _has_khmer(text: str) -> bool:
    return _KHMER.search(text) is not None


def _build_vector_font_dictionary(font_dictionary, pdf, font, widths, compress, reference, pdf_version):
    if not _enabled:
        return _original_build_vector_font_dictionary(font_dictionary, pdf, font, widths, compress, reference, pdf_version)
    _original_build_vector_font_dictionary(font_dictionary, pdf, font, widths, compress, reference, pdf_version)
    gids = getattr(font, "policygen_gids", None)
    if not gids:
        return
    _compact_to_unicode(pdf.objects[int(font_dictionary["ToUnicode"].split()[0])], font.to_unicode)
    # Identity for the font's own glyphs, the real glyph for each extra CID.
    highest = max(max(gids), max(widths) if widths else 0)
    table = [gids.get(cid, cid if cid < font.glyph_count else 0) for cid in range(highest + 1)]
    if compress:
        # Each entry as its difference from the one before (the PNG "Up" predictor, one entry a
        # row, which every PDF reader applies to Flate streams): the identity part becomes a
        # row repeated, which compresses to next to nothing (a quarter of the map's bytes).
        rows = bytearray()
        previous = 0
        for gid in table:
            rows += bytes((2, ((gid >> 8) - (previous >> 8)) & 0xFF, (gid - previous) & 0xFF))
            previous = gid
        stream = pydyf.Stream([bytes(rows)], pydyf.Dictionary({"DecodeParms": pydyf.Dictionary({"Predictor": 12, "Columns": 2})}),
                              compress=True)
    else:
        stream = pydyf.Stream([b"".join(gid.to_bytes(2, "big") for gid in table)])
    pdf.add_object(stream)
    descendant = font_dictionary["DescendantFonts"][0]
    for obj in reversed(pdf.objects):
        if isinstance(obj, pydyf.Dictionary) and getattr(obj, "reference", None) == descendant:
            obj["CIDToGIDMap"] = stream.reference
            break
    else:  # pragma: no cover - WeasyPrint changed how it builds font dictionaries
        raise RuntimeError("policygen could not find the CID font dictionary to attach its CIDToGIDMap")


def _compact_to_unicode(stream: Any, to_unicode: dict[int, str]) -> None:
    """Rewrite WeasyPrint's ToUnicode map (``stream``, one ``bfchar`` entry a code, in the order
    the codes were first drawn) as ranges of consecutive codes, each with the array of its texts
    (``<first> <last> [<text> ...]``), which every engine reads as the same map.

    The text layer's codes are consecutive CIDs, made in the order they are first needed: in a
    ``bfchar`` entry each code is written out beside its text, in a range only the first and
    last (3.2 K of the Khmer privacy policy's map was those codes)."""
    header = stream.stream[: stream.stream.index(b"endcodespacerange") + 1]
    footer = [b"endcmap", b"CMapName currentdict /CMap defineresource pop", b"end", b"end"]
    ranges: list[tuple[int, list[str]]] = []
    for code in sorted(to_unicode):
        # A range may not cross a change of the code's first byte.
        if ranges and ranges[-1][0] + len(ranges[-1][1]) == code and code & 0xFF:
            ranges[-1][1].append(to_unicode[code])
        else:
            ranges.append((code, [to_unicode[code]]))
    lines = list(header)
    for i in range(0, len(ranges), 100):
        batch = ranges[i : i + 100]
        lines.append(f"{len(batch)} beginbfrange".encode())
        for first, texts in batch:
            written = " ".join(f"<{text.encode('utf-16-be').hex()}>" for text in texts)
            lines.append(f"<{first:04x}> <{first + len(texts) - 1:04x}> [{written}]".encode())
        lines.append(b"endbfrange")
    stream.stream[:] = lines + footer
