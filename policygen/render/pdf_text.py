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

Text boxes without Khmer keep WeasyPrint's glyph mapping, corrected where it would be wrong: in
each grapheme cluster the first glyph carries the cluster's text and the others U+200B.

Codes whose text or width differs from the glyph's are fresh CIDs past the font's glyphs,
mapped back to the real glyph by a ``CIDToGIDMap``, so the page looks exactly the same. The
module hooks two module-level functions of WeasyPrint 70 (``draw.text.draw_first_line`` and
``pdf.fonts._build_vector_font_dictionary``), runs WeasyPrint's own drawing code, and changes
no WeasyPrint file. Lines that use ellipsis and fonts without TrueType outlines are left to
WeasyPrint's own code.
"""

from __future__ import annotations

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
boxes: Any = None
_installed = False
_enabled = True
SILENT = "\u200b"
"""The text of a glyph that carries none (every glyph of a cluster but its first)."""
LAYER_HEIGHT = 1.25
_KHMER_RANGES = (("\u1780", "\u17ff"), ("\u19e0", "\u19ff"))


def install() -> None:
    """Hook the text layer into WeasyPrint (idempotent)."""
    global _installed, pydyf, draw_text, pdf_fonts, ffi, pango, FROM_UNITS
    global _original_draw_first_line, _original_build_vector_font_dictionary, _original_marked, _original_build_box_tree, boxes
    if _installed:
        return
    import pydyf as pydyf_module
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


def _joins_previous(text: str, previous: str) -> bool:
    if previous.endswith((COENG, ZWJ)):
        return True
    return bool(text) and unicodedata.category(text[0]) in ("Mn", "Mc", "Me")


def _state(font: Any) -> tuple[dict[tuple[Any, ...], int], dict[int, int]]:
    """Per-font maps: (glyph, text[, width]) -> extra CID, and extra CID -> glyph."""
    if not hasattr(font, "policygen_cids"):
        font.policygen_cids = {}
        font.policygen_gids = {}
    return font.policygen_cids, font.policygen_gids


def _draw_first_line(stream, textbox, text_overflow, block_ellipsis, matrix):
    if not _enabled:
        return _original_draw_first_line(stream, textbox, text_overflow, block_ellipsis, matrix)
    if text_overflow == "ellipsis" or block_ellipsis != "none" or textbox.style["font_size"] < 1e-6:
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
    layered = _khmer_context(textbox) and all(_plain_outlines(stream.add_font(r.item.analysis.font)[0]) for r in runs)
    restore: list[tuple[Any, int]] = []
    layer = [_map_run(stream, textbox, glyph_item, utf8, restore, layered) for glyph_item in runs]
    try:
        if layered:
            # The glyphs drawn read nothing where the engine honours ActualText (poppler, MuPDF):
            # the text layer below has the text.
            stream.begin_marked_content("Span", pydyf.Dictionary({"ActualText": pydyf.String("")}))
        emojis = _original_draw_first_line(stream, textbox, text_overflow, block_ellipsis, matrix)
        if layered:
            _draw_text_layer(stream, matrix, layer, _bridge(stream, textbox, runs[0]), span=True)
        return emojis
    finally:
        # Pango's glyph strings belong to the layout, which WeasyPrint may draw again.
        for info, glyph in restore:
            info.glyph = glyph


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
            if _plain_outlines(stream.add_font(run.data.item.analysis.font)[0]):
                layer.append(_map_run(stream, textbox, run.data, utf8, restore, True))
            run = run.next
        _draw_text_layer(stream, matrix, layer)
    finally:
        for info, glyph in restore:
            info.glyph = glyph


def _plain_outlines(font: Any) -> bool:
    return not (font.bitmap or font.png or font.svg or font.colr or font.type == "otf")


def _bridge(stream, textbox, glyph_item) -> tuple[Any, float, int, int] | None:
    """An invisible code as wide as the text box that reads U+200B: (font, size, code, width)."""
    font, font_size = stream.add_font(glyph_item.item.analysis.font)
    if pango.pango_version() < 14802:
        font_size = textbox.style["font_size"]
    # In whole ems, so that a handful of codes serve every box (each code costs a width, a text
    # and a glyph entry in the font's maps): a bridge longer than its box does no harm.
    width = -(-round(textbox.width * 1000 / font_size) // 1000) * 1000
    glyphs = glyph_item.glyphs
    glyph = next((glyphs.glyphs[i].glyph for i in range(glyphs.num_glyphs) if not glyphs.glyphs[i].glyph & pango.PANGO_GLYPH_UNKNOWN_FLAG), None)
    if width <= 0 or glyph is None or glyph == pango.PANGO_GLYPH_EMPTY:
        return None
    cid = _extra_cid(font, glyph, SILENT, width)
    return None if cid is None else (font.hash, font_size, cid, width)


def _draw_text_layer(stream, matrix, layer, bridge: tuple[Any, float, int, int] | None = None, span: bool = False) -> None:
    """The line's text in logical order, invisible (text render mode 3): one code per grapheme
    cluster, as wide as the cluster, over the glyphs that WeasyPrint drew.

    ``span``: the drawn glyphs' marked-content span is open, and closes here, after
    ``bridge``: a code as wide as the box that reads U+200B, from the box's start to its end,
    after which the layer goes back to the start. pdfminer.six joins characters into a line
    only while each is near the one before it; without the bridge, the jump back from the
    glyphs' end to the layer's start splits the line, and its layout analysis reorders the
    pieces."""
    stream.set_text_rendering(3)
    a, b, c, d, e, f = matrix.values
    stream.set_text_matrix(a, b, c * LAYER_HEIGHT, d * LAYER_HEIGHT, e, f)
    if bridge is not None:
        font_hash, font_size, cid, width = bridge
        stream.set_font_size(font_hash, font_size)
        stream.show_text(f"<{cid:04x}> {width}")
    if span:
        stream.end_marked_content()
    for font_hash, font_size, items in layer:
        if not items:
            continue
        stream.set_font_size(font_hash, font_size)
        parts = []
        for item in items:
            if item < 0:
                parts.append(f" {item + 1} ")
            elif parts and parts[-1].endswith(">"):
                parts[-1] = f"{parts[-1][:-1]}{item:04x}>"
            else:
                parts.append(f"<{item:04x}>")
        stream.show_text("".join(parts).strip())
    stream.set_text_rendering(0)


def _extra_cid(font: Any, glyph: int, text: str, width: int | None = None, visible: bool = False) -> int | None:
    """A code that draws ``glyph`` and reads ``text`` (and is ``width`` wide when given; a code
    that is not ``visible`` may draw any glyph: it is only used in render mode 3)."""
    cids, gids = _state(font)
    key = (glyph, text) if width is None else (glyph, text, width) if visible else (text, width)
    cid = cids.get(key)
    if cid is None:
        cid = font.glyph_count + _FIRST_EXTRA_CID_GAP + len(cids)
        if cid > 0xFFFF:
            return None  # out of CIDs: keep WeasyPrint's mapping rather than break the page
        cids[key] = cid
        gids[cid] = glyph
        font.to_unicode[cid] = text
        if width is not None:
            font.widths[cid] = width
        if visible and glyph not in font.to_unicode:
            # WeasyPrint subsets a font to the codes its ToUnicode map names, and an extra CID is
            # no glyph of the font: a glyph drawn only through one (a mark with no advance) would
            # lose its outline, and the page would show the letters without their vowel signs
            # and subscripts (in every Khmer PDF, policies and redlines). This entry keeps it; the
            # glyph's own code is drawn only where it reads the same text (see _map_run).
            font.to_unicode[glyph] = text
    return cid


def _map_run(stream, textbox, glyph_item, utf8: bytes, restore: list[tuple[Any, int]], layered: bool) -> tuple[Any, float, list[int]]:
    """Map the run's glyphs to text; return its part of the invisible text layer (when
    ``layered``): the font, its size and the codes to show (a negative item -n-1 is a move of
    n thousandths of an em to the left, for text that has no glyph)."""
    item = glyph_item.item
    pango_font = item.analysis.font
    font, font_size = stream.add_font(pango_font)
    if pango.pango_version() < 14802:
        font_size = textbox.style["font_size"]
    layer: list[int] = []
    if not _plain_outlines(font):
        return font.hash, font_size, layer  # emoji fonts and CFF outlines keep WeasyPrint's mapping
    glyphs = glyph_item.glyphs
    count = glyphs.num_glyphs
    if count == 0:
        return font.hash, font_size, layer
    clusters = ffi.unpack(glyphs.log_clusters, count)
    starts = sorted(set(clusters))
    ends = {start: (starts[k + 1] if k + 1 < len(starts) else item.length) for k, start in enumerate(starts)}
    texts = {start: utf8[item.offset + start : item.offset + ends[start]].decode("utf-8", "replace") for start in starts}
    group_of: dict[int, int] = {}
    group_text: list[str] = []
    for start in starts:
        text = texts[start]
        if group_text and _joins_previous(text, group_text[-1]):
            group_text[-1] += text
        else:
            group_text.append(text)
        group_of[start] = len(group_text) - 1
    first_glyph: dict[int, int] = {}
    group_width = [0] * len(group_text)
    group_glyph = [-1] * len(group_text)
    infos = glyphs.glyphs
    empty, unknown = pango.PANGO_GLYPH_EMPTY, pango.PANGO_GLYPH_UNKNOWN_FLAG
    glyph_ids = []  # read once: each read of a Pango struct field goes through cffi
    for i in range(count):
        info = infos[i]
        glyph = info.glyph
        glyph_ids.append(glyph)
        group = group_of[clusters[i]]
        first_glyph.setdefault(group, i)
        group_width[group] += info.geometry.width
        if group_glyph[group] < 0 and glyph != empty and not glyph & unknown:
            group_glyph[group] = glyph
    for i in range(count):
        glyph = glyph_ids[i]
        if glyph == empty or glyph & unknown:
            continue
        info = infos[i]
        group = group_of[clusters[i]]
        wanted = SILENT if layered or first_glyph[group] != i else group_text[group]
        if glyph not in font.widths:
            pango.pango_font_get_glyph_extents(pango_font, glyph, stream.ink_rect, stream.logical_rect)
            font.widths[glyph] = round(stream.logical_rect.width * 1000 * FROM_UNITS / font_size)
        if layered and font.widths[glyph] == 0:
            # A mark with no advance: pdfminer.six splits a line between two characters
            # without width (a subscript and a vowel below). A thousandth of an em, which
            # WeasyPrint takes back with its kerning, so the glyphs stay where Pango put them.
            cid = _extra_cid(font, glyph, wanted, 1, visible=True)
        else:
            known = font.to_unicode.get(glyph)
            if known is None:
                font.to_unicode[glyph] = wanted
                continue
            if known == wanted:
                continue
            cid = _extra_cid(font, glyph, wanted)
        if cid is None:
            continue
        if cid not in font.widths:
            font.widths[cid] = font.widths[glyph]
        restore.append((info, glyph))
        info.glyph = cid
    if layered:
        for group, text in enumerate(group_text):
            text = text.replace("\u200b", "")
            width = round(group_width[group] * 1000 * FROM_UNITS / font_size)
            if not text or group_glyph[group] < 0:
                if width:
                    layer.append(-width - 1)
                continue
            # pdf.js takes any text with a nonspacing mark for a zero-width mark, and MuPDF
            # sees a gap after a mark that has a width: the cluster's leading letters carry its
            # width, the marks and what follows them next to none.
            mark = next((k for k, ch in enumerate(text) if unicodedata.category(ch) == "Mn"), 0)
            tail = 1 if width > 1 else 0  # a thousandth of an em: engines that sort by position keep the order
            parts = [(text[:mark], width - tail), (text[mark:], tail)] if mark else [(text, width)]
            for part, part_width in parts:
                cid = _extra_cid(font, group_glyph[group], part, part_width)
                if cid is None:
                    layer.append(-part_width - 1)
                else:
                    layer.append(cid)
    return font.hash, font_size, layer


def _khmer_context(textbox: Any) -> bool:
    """Whether the box gets the invisible text layer: it has Khmer, or it is in a Khmer element
    (a Latin run in a Khmer line is layered too, so that the whole line has one geometry)."""
    return _has_khmer(textbox.text) or (textbox.style["lang"] or "").startswith("km")


def _has_khmer(text: str) -> bool:
    return any(low <= ch <= high for ch in text for low, high in _KHMER_RANGES)


def _build_vector_font_dictionary(font_dictionary, pdf, font, widths, compress, reference, pdf_version):
    if not _enabled:
        return _original_build_vector_font_dictionary(font_dictionary, pdf, font, widths, compress, reference, pdf_version)
    _original_build_vector_font_dictionary(font_dictionary, pdf, font, widths, compress, reference, pdf_version)
    gids = getattr(font, "policygen_gids", None)
    if not gids:
        return
    # Identity for the font's own glyphs, the real glyph for each extra CID.
    highest = max(max(gids), max(widths) if widths else 0)
    table = bytearray()
    for cid in range(highest + 1):
        table += gids.get(cid, cid if cid < font.glyph_count else 0).to_bytes(2, "big")
    stream = pydyf.Stream([bytes(table)], compress=compress)
    pdf.add_object(stream)
    descendant = font_dictionary["DescendantFonts"][0]
    for obj in reversed(pdf.objects):
        if isinstance(obj, pydyf.Dictionary) and getattr(obj, "reference", None) == descendant:
            obj["CIDToGIDMap"] = stream.reference
            break
    else:  # pragma: no cover - WeasyPrint changed how it builds font dictionaries
        raise RuntimeError("policygen could not find the CID font dictionary to attach its CIDToGIDMap")
