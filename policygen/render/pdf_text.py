"""PDF text layer: make the text of a WeasyPrint PDF extract exactly, Khmer included.

WeasyPrint maps each glyph to text once, through the font's ToUnicode map, taking the text of
the first cluster that used the glyph. Khmer reuses glyphs across clusters (a subscript
consonant, a vowel sign), and Pango's clusters are smaller than Khmer's grapheme clusters, so
copy-paste, search and screen readers get wrong Khmer (WeasyPrint issue #2841: the right fix
is upstream, in ``draw_first_line``; until it lands, this module applies it from outside).

What this module does, for each line just before WeasyPrint draws it:

1. It groups Pango's clusters into grapheme clusters: a cluster that starts with a combining
   mark, or follows one that ends with a coeng (U+17D2) or a zero-width joiner, joins the
   cluster before it.
2. In each grapheme cluster, the first glyph (in drawing order) carries the cluster's whole
   text and every other glyph carries none.
3. A glyph whose text conflicts with an earlier use gets a fresh CID. The CID is written in the
   content stream instead of the glyph ID, with the real glyph's width, and a ``CIDToGIDMap``
   maps it back to the real glyph, so the page looks exactly the same.

It hooks two module-level functions of WeasyPrint 70 (``draw.text.draw_first_line`` and
``pdf.fonts._build_vector_font_dictionary``) and changes no WeasyPrint file. Lines that use
ellipsis and fonts without TrueType outlines are left to WeasyPrint's own code.
"""

from __future__ import annotations

import unicodedata
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
_installed = False


def install() -> None:
    """Hook the text layer into WeasyPrint (idempotent)."""
    global _installed, pydyf, draw_text, pdf_fonts, ffi, pango, FROM_UNITS
    global _original_draw_first_line, _original_build_vector_font_dictionary
    if _installed:
        return
    import pydyf as pydyf_module
    from weasyprint.draw import text as draw_text_module
    from weasyprint.pdf import fonts as pdf_fonts_module
    from weasyprint.text import ffi as ffi_module

    pydyf, draw_text, pdf_fonts = pydyf_module, draw_text_module, pdf_fonts_module
    ffi, pango, FROM_UNITS = ffi_module.ffi, ffi_module.pango, ffi_module.FROM_UNITS
    _original_draw_first_line = draw_text.draw_first_line
    _original_build_vector_font_dictionary = pdf_fonts._build_vector_font_dictionary
    draw_text.draw_first_line = _draw_first_line
    pdf_fonts._build_vector_font_dictionary = _build_vector_font_dictionary
    _installed = True


def _joins_previous(text: str, previous: str) -> bool:
    if previous.endswith((COENG, ZWJ)):
        return True
    return bool(text) and unicodedata.category(text[0]) in ("Mn", "Mc", "Me")


def _state(font: Any) -> tuple[dict[tuple[int, str], int], dict[int, int]]:
    """Per-font maps: (glyph, text) -> extra CID, and extra CID -> glyph."""
    if not hasattr(font, "policygen_cids"):
        font.policygen_cids = {}
        font.policygen_gids = {}
    return font.policygen_cids, font.policygen_gids


def _draw_first_line(stream, textbox, text_overflow, block_ellipsis, matrix):
    if text_overflow == "ellipsis" or block_ellipsis != "none" or not textbox.text.strip() or textbox.style["font_size"] < 1e-6:
        return _original_draw_first_line(stream, textbox, text_overflow, block_ellipsis, matrix)
    pango.pango_layout_set_single_paragraph_mode(textbox.pango_layout.layout, True)
    first_line, _index = textbox.pango_layout.get_first_line()
    utf8 = textbox.pango_layout.text.encode()
    restore: list[tuple[Any, int]] = []
    run = first_line.runs[0]
    while run != ffi.NULL:
        glyph_item = run.data
        run = run.next
        _map_run(stream, textbox, glyph_item, utf8, restore)
    try:
        return _original_draw_first_line(stream, textbox, text_overflow, block_ellipsis, matrix)
    finally:
        # Pango's glyph strings belong to the layout, which WeasyPrint may draw again.
        for info, glyph in restore:
            info.glyph = glyph


def _map_run(stream, textbox, glyph_item, utf8: bytes, restore: list[tuple[Any, int]]) -> None:
    item = glyph_item.item
    pango_font = item.analysis.font
    font, font_size = stream.add_font(pango_font)
    if font.bitmap or font.png or font.svg or font.colr or font.type == "otf":
        return  # emoji fonts and CFF outlines keep WeasyPrint's mapping
    if pango.pango_version() < 14802:
        font_size = textbox.style["font_size"]
    glyphs = glyph_item.glyphs
    count = glyphs.num_glyphs
    if count == 0:
        return
    clusters = [glyphs.log_clusters[i] for i in range(count)]
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
    for i in range(count):
        first_glyph.setdefault(group_of[clusters[i]], i)
    cids, gids = _state(font)
    infos = glyphs.glyphs
    for i in range(count):
        info = infos[i]
        glyph = info.glyph
        if glyph == pango.PANGO_GLYPH_EMPTY or glyph & pango.PANGO_GLYPH_UNKNOWN_FLAG:
            continue
        group = group_of[clusters[i]]
        wanted = group_text[group] if first_glyph[group] == i else ""
        known = font.to_unicode.get(glyph)
        if known is None:
            font.to_unicode[glyph] = wanted
            continue
        if known == wanted:
            continue
        cid = cids.get((glyph, wanted))
        if cid is None:
            cid = font.glyph_count + _FIRST_EXTRA_CID_GAP + len(cids)
            if cid > 0xFFFF:
                continue  # out of CIDs: keep WeasyPrint's mapping rather than break the page
            cids[(glyph, wanted)] = cid
            gids[cid] = glyph
            font.to_unicode[cid] = wanted
        if cid not in font.widths:
            if glyph not in font.widths:
                pango.pango_font_get_glyph_extents(pango_font, glyph, stream.ink_rect, stream.logical_rect)
                font.widths[glyph] = round(stream.logical_rect.width * 1000 * FROM_UNITS / font_size)
            font.widths[cid] = font.widths[glyph]
        restore.append((info, glyph))
        info.glyph = cid


def _build_vector_font_dictionary(font_dictionary, pdf, font, widths, compress, reference, pdf_version):
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
