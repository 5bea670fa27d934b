"""Render stage, PDF: :class:`~policygen.i18n.localize.LocalizedPolicy` -> PDF bytes (WeasyPrint).

Takes a localized policy and produces a tagged PDF/UA-1 document (PDF/A-3u on request) with
embedded fonts, a running header, a localized "page X of Y" footer, a table of contents with
page numbers, clause anchors as PDF destinations, and an outline that follows the headings.

What makes it trustworthy for Khmer and for evidence:

* fonts come from files policygen ships (Noto Sans and Noto Sans Khmer, through pip), under
  family names no system font has, so fontconfig never substitutes a face;
* Khmer text gets U+200B between words (from the khmercut segmenter) in text nodes only, so
  Pango can break lines between words; link targets and code are left alone;
* :mod:`policygen.render.pdf_text` makes the PDF's text layer extract exactly;
* a restricted URL fetcher serves those font files and the project's theme assets and refuses
  everything else, so rendering never touches the network or other files;
* every WeasyPrint warning (a missing glyph, a refused fetch) is an error in strict mode;
* the output is reproducible: no dates, and a document identifier derived from the content.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import os
import re
import struct
from pathlib import Path
from typing import Any

from markupsafe import Markup

from policygen import __version__
from policygen.errors import Diagnostic, PolicygenError, SourceError
from policygen.i18n.localize import LocalizedPolicy
from policygen.model import Project
from policygen.render.html import PagePaths, environment, render_policy, render_template
from policygen.render.pdf_text import glue_rows, install, keep_line_end_hyphens, mark_page_furniture
from policygen.resources import builtin, font_files

PDF_VARIANTS = ("pdf/ua-1", "pdf/a-3u")
FONT_URL = "file:///policygen-fonts/"
"""Where a PDF's HTML finds policygen's fonts: a fixed name that the fetcher maps to the files,
so no template (a theme's included) ever sees the path policygen is installed at."""
BASE_URL = "file:///policygen-project/"
"""What relative URLs in a PDF's HTML resolve against: a fixed name, never the project's real
path, which would end up in the PDF and make its bytes depend on where it was built."""
_RELATIVE_HREF = re.compile(r'<a href="(?!#|https?:|mailto:|tel:)([^"]*)"([^>]*)>')
_KHMER = re.compile(r"[\u1780-\u17ff\u19e0-\u19ff]+")
_TAG = re.compile(r"(<[^>]+>)")
_NO_BREAK_BEFORE = frozenset("\u17d4\u17d5\u17d6\u17d7\u17d8\u17da\u17db")
"""Khmer signs that close what comes before them and never begin a line: the khan and
bariyoosan (។ ៕), the colon (៖), the repetition sign lek too (ៗ), beyyal (៘, "and so on"),
koomuut (៚) and the riel sign (៛) after an amount. The segmenter makes most of them a word of
their own, and a break hint before one let a line begin with it ("ផ្សេង" / "ៗ", "៤០០០០" / "៛"),
which also split the word for a search across the line."""


def _join_khmer_words(words: list[str]) -> str:
    """``words`` joined with U+200B, except before a sign that never begins a line."""
    return "".join(word if not index or word[0] in _NO_BREAK_BEFORE else "\u200b" + word
                   for index, word in enumerate(words))


def break_khmer_words(html: str) -> str:
    """Insert U+200B between Khmer words in the text of ``html``; tags, attributes, link
    targets and code stay as they are. No break goes before a closing sign (``_NO_BREAK_BEFORE``)."""
    from khmercut import tokenize

    out = []
    code_depth = 0
    for part in _TAG.split(html):
        if part.startswith("<"):
            name = part[1:].split(maxsplit=1)[0].rstrip(">").lower() if len(part) > 2 else ""
            if name in ("code", "pre", "style", "title"):
                code_depth += 1
            elif name in ("/code", "/pre", "/style", "/title"):
                code_depth = max(0, code_depth - 1)
            out.append(part)
        elif code_depth or not _KHMER.search(part):
            out.append(part)
        else:
            out.append(_KHMER.sub(lambda m: _join_khmer_words(tokenize(m.group(0))), part))
    return "".join(out)


def pdf_html(project: Project, localized: LocalizedPolicy) -> str:
    """The HTML WeasyPrint lays out: the policy's fragment in a print wrapper."""
    return break_khmer_words(pdf_source_html(project, localized))


def pdf_source_html(project: Project, localized: LocalizedPolicy) -> str:
    """:func:`pdf_html` before the Khmer word breaks, which are a pure function of it: what the
    build cache keys a PDF by (segmenting Khmer takes longer than the rest of a no-op build)."""
    env = environment(project)
    fmt = localized.formatter
    _page, fragment = render_policy(project, localized, env)
    context = {
        **_wrapper(project, localized.locale, fragment.decode("utf-8")),
        "dir": localized.direction, "title": localized.title_text,
        "version": fmt.version(localized.policy.version), "effective_date_text": fmt.date(localized.policy.effective_date),
        "ui": {"version": fmt.ui("version")},
    }
    html = render_template(env, "pdf.html", context)
    return protect_names(_absolute_links(project, localized, html), fact_names(project, localized))


_NAME_IN_LABEL = re.compile(r"(?<![\w'’.&-])[A-ZÀ-ÖØ-Þ][\w'’.&-]*(?:\s[A-ZÀ-ÖØ-Þ0-9][\w'’.&-]*)*")
"""A run of capitalised words in a label: a proper name in English and Dutch ("our subsidiary
in Phnom Penh, Cambodia"), unless it is one word that starts the label."""


def fact_names(project: Project, localized: LocalizedPolicy) -> list[str]:
    """The proper names and postal addresses the policy's facts put in its text, as written
    on the page: the controller's name, address and registration, postal contacts, the
    complaint authorities, the countries data goes to, and the capitalised names inside the
    facts' labels (in the page's language and, for text shown untranslated, the source's).
    E-mail addresses, phone numbers and web addresses are links, kept whole by the style sheet."""
    facts = localized.policy.facts
    names: list[str] = []
    if facts.controller is not None:
        controller = facts.controller
        names += [value for value in (controller.name, controller.address, controller.registration) if value]
    names += [contact.value for contact in facts.contacts if contact.kind == "postal"]
    names += [complaint.name for complaint in facts.complaints]
    shown = sorted({(term.kind, term.id) for term in facts.shown_labels(project.glossary)})
    for formatter in (localized.formatter, localized.source_formatter):
        names += [formatter.babel.territories.get(transfer.country, transfer.country) for transfer in facts.transfers]
        for kind, ident in shown:
            label, _lang = formatter.label(kind, ident)
            names += [m.group(0) for m in _NAME_IN_LABEL.finditer(label) if m.start() or " " in m.group(0)]
    return sorted({name.strip() for name in names if len(name.strip()) > 1}, key=lambda name: (-len(name), name))


def protect_names(html: str, names: list[str]) -> str:
    """``html`` with each of ``names`` in its text wrapped in ``<span class="fact-name">``,
    which pdf.css keeps from being hyphenated: a hyphen added inside "Phnom Penh" or a street
    name would be copied with it, and reads as part of the name. Tags, link texts and code
    are left alone (links and code are never hyphenated anyway)."""
    if not names:
        return html
    from html import escape

    # Written as on the page, where a number is bound to the word beside it by a no-break space.
    alternatives = ("[ \u00a0]".join(re.escape(escape(word, quote=False)) for word in name.split()) for name in names)
    pattern = re.compile(r"(?<![\w-])(?:" + "|".join(alternatives) + r")(?![\w-])")
    out = []
    skip = 0
    for part in _TAG.split(html):
        if part.startswith("<"):
            name = part[1:].split(maxsplit=1)[0].rstrip(">").lower() if len(part) > 2 else ""
            if name in ("a", "code", "pre", "style", "title", "script", "head"):
                skip += 1
            elif name in ("/a", "/code", "/pre", "/style", "/title", "/script", "/head"):
                skip = max(0, skip - 1)
            out.append(part)
        elif skip:
            out.append(part)
        else:
            out.append(pattern.sub(lambda m: f'<span class="fact-name">{m.group(0)}</span>', part))
    return "".join(out)


def _wrapper(project: Project, locale: str, fragment: str) -> dict[str, Any]:
    """What every PDF's print wrapper gets: the fonts, the style sheet, the page numbers in the
    locale's words and digits, and the body."""
    env = environment(project)
    digits = project.config.options(locale).digits
    counter = ", khmer" if locale == "km" and digits == "native" else ""
    page_of = builtin()["ui"]["page_of"][locale]
    before, _, rest = page_of.partition("{page}")
    between, _, after = rest.partition("{pages}")

    def css_string(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    page_content = f"{css_string(before)} counter(page{counter}) {css_string(between)} counter(pages{counter}) {css_string(after)}"
    return {
        "locale": locale, "generator": f"policygen {__version__}", "digits": digits,
        "fonts": {name: f"{FONT_URL}{name}.ttf" for name in ("latin", "latin_italic", "khmer")},
        "css": Markup(render_template(env, "pdf.css", {"counter": counter})),
        "page_of": Markup(page_content),
        "fragment": Markup(fragment),
    }


def _absolute_links(project: Project, localized: LocalizedPolicy, html: str) -> str:
    """Links to other pages of the site: absolute on the site when it has a base URL, else
    plain text. A PDF travels alone; a relative link in it points nowhere."""
    from urllib.parse import urljoin

    page = PagePaths(localized.policy.id, localized.locale).page
    base = project.config.base_url

    def replace(match: re.Match[str]) -> str:
        if base:
            return f'<a href="{urljoin(base + page, match.group(1))}"{match.group(2)}>'
        return f"<a{match.group(2)}>"

    return _RELATIVE_HREF.sub(replace, html)


def _fetcher(project: Project) -> Any:
    from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

    fonts = font_files()
    allowed_files = {f"{FONT_URL}latin.ttf": fonts.latin, f"{FONT_URL}latin_italic.ttf": fonts.latin_italic, f"{FONT_URL}khmer.ttf": fonts.khmer}
    root = project.root.resolve()
    theme_assets = Path(os.path.normpath(root / project.theme_dir.relative_to(project.root) / "assets"))

    class RestrictedFetcher(URLFetcher):
        """Serves policygen's fonts and the project's theme assets; refuses everything else,
        including a file in theme/assets/ that is (or lies under) a link to outside the project."""

        def fetch(self, url: str, headers: Any = None) -> Any:
            if url in allowed_files:
                return URLFetcherResponse(url, allowed_files[url].read_bytes())
            if url.startswith(BASE_URL):
                from urllib.parse import unquote

                written = Path(os.path.normpath(root / unquote(url[len(BASE_URL):].split("?")[0].split("#")[0])))
                path = written.resolve()
                if written.is_relative_to(theme_assets) and path.is_relative_to(root) and path.is_file():
                    return URLFetcherResponse(url, path.read_bytes())
            raise FatalURLFetchingError(f"policygen does not fetch '{url}': PDFs embed only policygen's fonts and files in theme/assets/ inside the project")

    return RestrictedFetcher()


_fonts_reproducible = False


def _reproducible_fonts() -> None:
    """Make WeasyPrint's variable-font instances byte-stable.

    WeasyPrint 70 turns a variable font into a static instance with fontTools and saves it,
    which stamps the current time into the font's ``head.modified``: every PDF would differ.
    After WeasyPrint's ``Font.clean``, the timestamp is set back to the font's own creation
    time, in place (see :func:`stable_font_bytes`).
    """
    global _fonts_reproducible
    if _fonts_reproducible:
        return
    from weasyprint.pdf.fonts import Font

    original_clean = Font.clean

    def clean(self: Any, to_unicode: Any, hinting: Any) -> None:
        variable = "fvar" in self.tables
        original_clean(self, to_unicode, hinting)
        if variable:
            self.file_content = stable_font_bytes(self.file_content)

    Font.clean = clean
    _fonts_reproducible = True


def _checksum(data: bytes) -> int:
    padded = data + b"\0" * (-len(data) % 4)
    return sum(struct.unpack(f">{len(padded) // 4}I", padded)) & 0xFFFFFFFF


def stable_font_bytes(font: bytes) -> bytes:
    """A TrueType/OpenType font with ``head.modified`` set to ``head.created``, and the table
    and whole-font checksums that depend on it recomputed (the sfnt rules)."""
    data = bytearray(font)
    tables = struct.unpack(">H", data[4:6])[0]
    for index in range(tables):
        record = 12 + 16 * index
        tag, _checksum_old, offset, length = struct.unpack(">4sIII", data[record : record + 16])
        if tag != b"head":
            continue
        data[offset + 28 : offset + 36] = data[offset + 20 : offset + 28]  # modified = created
        data[offset + 8 : offset + 12] = b"\0\0\0\0"  # checkSumAdjustment, computed last
        struct.pack_into(">I", data, record + 4, _checksum(bytes(data[offset : offset + length])))
        struct.pack_into(">I", data, offset + 8, (0xB1B0AFBA - _checksum(bytes(data))) & 0xFFFFFFFF)
        break
    return bytes(data)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def render_pdf(project: Project, localized: LocalizedPolicy, variant: str = "pdf/ua-1", strict: bool = True,
               source: str | None = None) -> bytes:
    """The PDF of one policy in one locale. In strict mode any WeasyPrint warning is an error.
    ``source`` is the policy's :func:`pdf_source_html` when the caller has made it already (the
    build, for the PDF's cache key): it is not made twice."""
    where = PagePaths(localized.policy.id, localized.locale).pdf
    html = pdf_html(project, localized) if source is None else break_khmer_words(source)
    return _pdf_bytes(project, html, variant, strict, localized.policy.prose_path, localized.locale, where)


def render_html_pdf(project: Project, body: str, locale: str, title: str, meta: str, source: Path, where: str = "") -> bytes:
    """A PDF of other pages than a policy (a redline and its change summary), laid out as the
    policies' PDFs are: the same print wrapper, fonts, style sheet, running header and page
    numbers. ``body`` is the HTML of the body (it may carry a style element of its own);
    ``meta`` the running header's second line; problems are reported at ``source``."""
    context = {**_wrapper(project, locale, body), "title": title, "meta": meta}
    html = render_template(environment(project), "redline-pdf.html", context)
    return _pdf_bytes(project, break_khmer_words(html), "pdf/ua-1", True, source, locale, where or title)


def _pdf_bytes(project: Project, html: str, variant: str, strict: bool, source: Path, locale: str, where: str) -> bytes:
    """Lay out ``html`` and write it as PDF; in strict mode any WeasyPrint warning is an error."""
    from weasyprint.urls import FatalURLFetchingError

    install()
    _reproducible_fonts()
    if variant not in PDF_VARIANTS:
        raise PolicygenError(f"unknown PDF variant '{variant}'; choose {', '.join(PDF_VARIANTS)}")
    logger = logging.getLogger("weasyprint")
    handler = _Collect()
    logger.addHandler(handler)
    previous = logger.propagate
    logger.propagate = False  # collected here, and reported as policygen diagnostics instead
    try:
        document = _layout(project, html)
        identifier = hashlib.sha256(html.encode("utf-8")).hexdigest()[:32].encode()
        options: dict[str, Any] = {"pdf_variant": variant, "pdf_identifier": identifier}
        if variant == "pdf/a-3u":
            options["pdf_tags"] = True
        data = document.write_pdf(**options)
    except FatalURLFetchingError as exc:
        url = str(exc).split("'")[1] if str(exc).count("'") >= 2 else ""
        path, line = _css_source(project, html, url=url) or (source, 0)
        raise SourceError([Diagnostic(path, line, f"PDF ({locale}): {exc}")]) from None
    except PolicygenError:
        raise
    except Exception as exc:
        # WeasyPrint fails on some values it parses but cannot lay out ('font-size: 1e308px' is an
        # OverflowError, '@media' nested ten thousand deep a RecursionError). The theme's style
        # sheet is what a project writes; policygen's own is tested.
        theme_css = project.theme_dir / "templates" / "pdf.css"
        text = str(exc).strip()[:200] or type(exc).__name__
        raise SourceError([Diagnostic(theme_css if theme_css.is_file() else source, 0,
                                      f"PDF ({locale}): WeasyPrint cannot lay out this PDF ({text}, {type(exc).__name__}); "
                                      "a value in the style sheet it cannot handle?")]) from None
    finally:
        logger.removeHandler(handler)
        logger.propagate = previous
    if strict and handler.messages:
        diagnostics = []
        for message in sorted(set(handler.messages)):
            path, line = _css_source(project, html, message=message) or (source, 0)
            if line:  # WeasyPrint's line counts the HTML's style element, not the file
                message = _CSS_POSITION.sub(lambda m: f" at column {m.group(2)}", message, count=1)
            diagnostics.append(Diagnostic(path, line, f"PDF {where}: {message}"))
        raise SourceError(diagnostics)
    return data


_CSS_POSITION = re.compile(r" at (\d+):(\d+)\b")


def _css_source(project: Project, html: str, *, url: str = "", message: str = "") -> tuple[Path, int] | None:
    """Where a problem WeasyPrint found in the PDF style sheet comes from: ``pdf.css`` (the
    theme's, or policygen's own) and its line. ``url`` is a refused address; ``message`` a
    WeasyPrint warning, whose ``at LINE:COLUMN`` counts lines of the HTML's style element."""
    env = environment(project)
    template = env.get_template("pdf.css")
    if not template.filename:
        return None
    source = Path(template.filename)
    css = render_template(env, "pdf.css", {"counter": ""})
    if url:
        written = url[len(BASE_URL):] if url.startswith(BASE_URL) else url
        for number, text in enumerate(source.read_text(encoding="utf-8").splitlines(), start=1):
            if written and written in text:
                return source, number
        return None
    position = _CSS_POSITION.search(message)
    if not position:
        return None
    start = html.find(css.strip()[:200]) if css.strip() else -1
    style = html.rfind("<style>", 0, start)
    if start < 0 or style < 0:
        return None
    first = html.count("\n", style + len("<style>"), start) + 1  # the style element's line where pdf.css starts
    line = int(position.group(1)) - first + 1
    if 1 <= line <= css.count("\n") + 1:
        return source, line
    return None


def render_document(project: Project, localized: LocalizedPolicy) -> Any:
    """The laid-out WeasyPrint document, for tests that inspect pages and boxes."""
    install()
    return _layout(project, pdf_html(project, localized))


_font_config: Any = None


def _drop_font_config() -> None:
    # At exit, while the modules its finalizer uses are still there (its temporary folder goes).
    global _font_config
    _font_config = None


def _layout(project: Project, html: str) -> Any:
    """WeasyPrint's layout of ``html``, with the fixed base URL and the restricted fetcher."""
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    global _font_config
    folder = getattr(_font_config, "_folder", None)
    if _font_config is None or (folder is not None and not folder.exists()):
        # One per process, so the fonts are loaded once and not for every PDF (a third of a small
        # PDF's time); a new one when a build removed the temporary folder that holds its fonts.
        if _font_config is None:
            atexit.register(_drop_font_config)
        _font_config = FontConfiguration()
    document = weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=_fetcher(project)).render(font_config=_font_config)
    for page in document.pages:
        # Bookmark titles come from the headings' text, U+200B line-break hints included.
        page.bookmarks = [(level, label.replace("\u200b", ""), *rest) for level, label, *rest in page.bookmarks]
    mark_page_furniture(document)
    glue_rows(document)
    keep_line_end_hyphens(document)
    return document


def overflowing_lines(document: Any) -> list[tuple[int, str]]:
    """Lines whose text runs past the right edge of their block: (page number, text)."""
    from weasyprint.formatting_structure.boxes import (
        BlockContainerBox,
        LineBox,
        TextBox,
    )

    found = []
    for number, page in enumerate(document.pages, start=1):
        for box in page._page_box.descendants():
            if not isinstance(box, BlockContainerBox):
                continue
            right = box.content_box_x() + box.width
            for line in box.children:
                if not isinstance(line, LineBox):
                    continue
                for child in line.descendants():
                    if isinstance(child, TextBox) and child.position_x + child.width > right + 0.5:
                        found.append((number, child.text[:60]))
    return found
