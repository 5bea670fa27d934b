"""Text extraction by the engines that PDF readers use, for the PDF text tests and bench/pdf.py.

Each engine takes a list of PDF paths and returns their text, one string per PDF, in the
engine's own reading order (what copy-all, search and a screen reader built on it get):

* ``pdfium``: PDFium through pypdfium2 (Chrome's and Edge's PDF viewer);
* ``pdfjs``: pdf.js through pdfjs-dist under node (Firefox), ``tools/pdfjs/extract.mjs``;
* ``pdftotext`` and ``pdftotext-raw``: poppler (Evince, Okular), layout order and stream order;
* ``mupdf``: MuPDF through PyMuPDF;
* ``pypdf`` and ``pdfminer``: the two pure-Python libraries (pdfminer.six with its default
  layout analysis).

:func:`extract_all` can also give ``pdfminer-raw``, pdfminer.six's text without layout analysis
(the content stream's order), which tests/test_pdf.py reads.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import re
import subprocess
from collections.abc import Callable, Sequence
from html import unescape
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PDFJS_TOOL = ROOT / "tools" / "pdfjs" / "extract.mjs"


def pdfium(paths: Sequence[Path]) -> list[str]:
    import pypdfium2

    texts = []
    for path in paths:
        document = pypdfium2.PdfDocument(str(path))
        try:
            pages = []
            for page in document:
                textpage = page.get_textpage()
                pages.append(textpage.get_text_range())
                textpage.close()
                page.close()
            texts.append("\n".join(pages))
        finally:
            document.close()
    return texts


def pdfjs(paths: Sequence[Path]) -> list[str]:
    out = subprocess.run(["node", str(PDFJS_TOOL), *map(str, paths)], capture_output=True, text=True, check=True).stdout
    pages = json.loads(out)
    return ["\n".join(pages[str(path)]) for path in paths]


def _pdftotext(path: Path, *options: str) -> str:
    return subprocess.run(["pdftotext", *options, "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True).stdout


def pdftotext(paths: Sequence[Path]) -> list[str]:
    return [_pdftotext(path) for path in paths]


def pdftotext_raw(paths: Sequence[Path]) -> list[str]:
    return [_pdftotext(path, "-raw") for path in paths]


def mupdf(paths: Sequence[Path]) -> list[str]:
    import pymupdf

    texts = []
    for path in paths:
        with pymupdf.open(path) as document:
            texts.append("\n".join(page.get_text() for page in document))
    return texts


def pypdf(paths: Sequence[Path]) -> list[str]:
    from pypdf import PdfReader

    return ["\n".join(page.extract_text() for page in PdfReader(path).pages) for path in paths]


def pdfminer_both(paths: Sequence[Path]) -> list[tuple[str, str]]:
    """pdfminer.six's text of each PDF twice, from one reading of its pages: with the default
    layout analysis (what ``pdfminer.high_level.extract_text`` gives) and without any (what a
    ``TextConverter`` with ``laparams=None`` gives: the characters in the content stream's
    order). Reading the content streams is most of pdfminer's time; the analysis only regroups
    the characters that reading made, so the page is written out once before it and once after."""
    import io

    from pdfminer.converter import TextConverter
    from pdfminer.layout import LAParams
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage

    class Both(TextConverter):
        def __init__(self, manager: PDFResourceManager, laid_out: io.StringIO, raw: io.StringIO) -> None:
            super().__init__(manager, laid_out, laparams=LAParams())
            self.raw = TextConverter(manager, raw, laparams=None)

        def end_page(self, page: PDFPage) -> None:
            self.raw.receive_layout(self.cur_item)  # before end_page's analysis regroups the page
            super().end_page(page)

    texts = []
    for path in paths:
        laid_out, raw = io.StringIO(), io.StringIO()
        manager = PDFResourceManager()
        interpreter = PDFPageInterpreter(manager, Both(manager, laid_out, raw))
        with path.open("rb") as handle:
            for page in PDFPage.get_pages(handle):
                interpreter.process_page(page)
        texts.append((laid_out.getvalue(), raw.getvalue()))
    return texts


def pdfminer(paths: Sequence[Path]) -> list[str]:
    return [laid_out for laid_out, _raw in pdfminer_both(paths)]


ENGINES: dict[str, Callable[[Sequence[Path]], list[str]]] = {
    "pdfium": pdfium,
    "pdfjs": pdfjs,
    "pdftotext": pdftotext,
    "pdftotext-raw": pdftotext_raw,
    "mupdf": mupdf,
    "pypdf": pypdf,
    "pdfminer": pdfminer,
}


def extract_all(paths: Sequence[Path], pdfminer_raw: bool = False) -> dict[str, dict[Path, str]]:
    """Every engine's text of every PDF: {engine: {path: text}}; with ``pdfminer_raw``, also
    ``pdfminer-raw`` (:func:`pdfminer_both`, from the same reading as ``pdfminer``'s).

    The work runs in up to one process per core (forked, where the platform can): one task per
    PDF for the in-process engines, the slowest (pdfminer, pypdf) and the largest PDFs first,
    and one for each engine that runs its own program."""
    import os
    from concurrent.futures import ProcessPoolExecutor

    largest = sorted(paths, key=lambda path: -path.stat().st_size)
    tasks = [("pdfminer", [path]) for path in largest] + [("pypdf", [path]) for path in largest]
    tasks += [(name, list(paths)) for name in ENGINES if name not in ("pdfminer", "pypdf")]
    jobs = min(os.cpu_count() or 1, len(tasks))
    if jobs == 1 or "fork" not in multiprocessing.get_all_start_methods():
        done = [_run(*task) for task in tasks]
    else:
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            done = list(pool.map(_run_logged, *zip(*tasks, strict=True)))
        for _found, records in done:
            for record in records:  # logged here, where a test's (or build_once's) capture sees them
                logging.getLogger(record.name).handle(record)
        done = [found for found, _records in done]
    texts: dict[str, dict[Path, str]] = {name: {} for name in [*ENGINES, *(["pdfminer-raw"] if pdfminer_raw else [])]}
    for (name, some), found in zip(tasks, done, strict=True):
        for path, text in zip(some, found, strict=True):
            if name == "pdfminer":
                texts["pdfminer"][path] = text[0]
                if pdfminer_raw:
                    texts["pdfminer-raw"][path] = text[1]
            else:
                texts[name][path] = text
    return {name: {path: by_path[path] for path in paths} for name, by_path in texts.items()}


def _run(name: str, paths: list[Path]) -> list[Any]:
    """One task of :func:`extract_all`: pdfminer's two texts of each PDF, or an engine's text."""
    return list(pdfminer_both(paths)) if name == "pdfminer" else ENGINES[name](paths)


class _Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        record.msg, record.args, record.exc_info = record.getMessage(), None, None  # picklable
        self.records.append(record)


def _run_logged(name: str, paths: list[Path]) -> tuple[list[Any], list[logging.LogRecord]]:
    """:func:`_run` in a worker process, with the warnings it logged, for the parent to log."""
    kept, root = _Kept(), logging.getLogger()
    root.addHandler(kept)
    try:
        return _run(name, paths), kept.records
    finally:
        root.removeHandler(kept)


# --- What a reader gets: normalisation, clause matching and word search ----------------------

KHMER_RUN = re.compile(r"[\u1780-\u17ff\u19e0-\u19ff]+")
_LINE_END_HYPHEN = re.compile(r"[\u2010\u00ad]\s+")
_LINK_TARGET = re.compile(r"\s*\(https?://[^)]*\)")
"""The PDF prints an external link's address after its text (pdf.css); the page does not."""


def normalize(text: str) -> str:
    """Runs of whitespace to one space, the U+200B break hints out, the hyphen that
    hyphenation adds at a line end joined back to its word (U+2010, never in the sources), and
    PDFium's mark for a hyphen it joined across a line end (U+FFFE) read as the hyphen."""
    text = text.replace("\u200b", "").replace("\ufffe", "-")  # PDFium marks a line-end "-" with U+FFFE
    text = _LINE_END_HYPHEN.sub("", text)
    return re.sub(r"\s+", " ", text).strip()


_DIGIT = r"[0-9\u17e0-\u17e9]"
_BULLET = re.compile(r"\s*\u2022\s*")
"""A list item's bullet: drawn by the PDF (and the page's CSS), not part of the clause's text."""


def furniture_pattern(title: str, meta: str, page_of: str) -> re.Pattern[str]:
    """The running header and footer of every page: the running ``meta`` line (version and
    date), with the running ``title`` beside it, and the localized "page X of Y" (``page_of``
    with ``{page}`` and ``{pages}``), each allowing whitespace between its characters
    (engines split page furniture differently). The title alone is the document's heading."""

    def loose(literal: str) -> str:
        return r"\s*".join(_DIGIT if ch.isdigit() else re.escape(ch) for ch in literal if not ch.isspace())

    digits = r"[0-9\u17e0-\u17e9]+"
    page = r"\s*".join(loose(part) for part in re.split(r"(\{page\}|\{pages\})", page_of) if part)
    page = page.replace(loose("{page}"), digits).replace(loose("{pages}"), digits)
    header = f"(?:{loose(title)})?\\s*{loose(meta)}"
    return re.compile(f"{header}|{page}")


def reader_text(text: str, furniture: re.Pattern[str]) -> str:
    """An engine's text as the clause and search checks read it: normalised, with the running
    header and footer, the list bullets and the printed link targets taken out."""
    return normalize(_BULLET.sub(" ", furniture.sub(" ", _LINK_TARGET.sub("", normalize(text)))))


def table_headers(html: str) -> list[str]:
    """The header rows of the tables in the laid-out HTML (a table that crosses a page repeats
    its header row there)."""
    return [normalize(unescape(re.sub(r"<[^>]*>", " ", head))) for head in re.findall(r"(?s)<thead\b.*?</thead>", html)]


def drop_repeated(text: str, headers: Sequence[str]) -> str:
    """``text`` with every repetition of a table header row after its first occurrence taken out."""
    for header in headers:
        if not header:
            continue
        pattern = re.compile(r"\s?".join(re.escape(ch) for ch in header.replace(" ", "")))
        first = pattern.search(text)
        if first:
            text = text[: first.end()] + pattern.sub(" ", text[first.end():])
    return normalize(text)


_BREAK = "\x00"


def laid_out_text(html: str) -> str:
    """The text of the HTML that WeasyPrint laid out, whitespace normalised, with a NUL
    wherever a line may break or an engine may see a gap between two words written together:
    at each U+200B and at each tag."""
    html = re.sub(r"(?s)<(style|title|script)\b.*?</\1>", "", html)
    text = unescape(re.sub(r"<[^>]*>", _BREAK, html)).replace("\u200b", _BREAK).replace("\u00ad", "")
    return re.sub(r"\s+", " ", text)


class Clauses:
    """Finds clauses in an engine's text, allowing one space where the laid-out HTML
    allowed a line break or a gap (``laid_out``, from :func:`laid_out_text`)."""

    def __init__(self, laid_out: str) -> None:
        plain: list[str] = []
        breaks: set[int] = set()
        for ch in laid_out:
            if ch == _BREAK:
                breaks.add(len(plain))
            elif not (ch == " " and (not plain or plain[-1] == " ")):
                plain.append(ch)
        self.plain, self.breaks = "".join(plain), breaks

    def pattern(self, clause: str) -> re.Pattern[str]:
        """A clause as it must come out: every word exactly as written (no space, stray
        character or reordering inside it), a space wherever the clause has whitespace, and at
        most one space where two words written together meet (a line break between two Khmer
        words, an engine's gap between an emphasised word and the next, or beside punctuation).
        A "-" of the text is always there, also where it ends a line (poppler's layout mode
        dropped it, taking it for a hyphenation, until policygen kept it: keep_line_end_hyphens)."""
        marked = normalize(re.sub(r"\s*\n\s*", _PART, clause))
        text = marked.replace(_PART, " ")
        start = self.plain.find(text)
        out = []
        for index, ch in enumerate(marked):
            if index and text[index] != " " and text[index - 1] != " ":
                kinds = {_kind(ch), _kind(text[index - 1])}
                if (start >= 0 and start + index in self.breaks) or len(kinds) > 1 or kinds == {"p"}:
                    out.append(r"\s?")
            if ch == _PART:
                out.append(_LABEL)
            else:
                out.append(r"\s" if ch == " " else re.escape(ch))
        return re.compile("".join(out))


_PART = "\x01"
"""Where a clause's text goes on to its next part (list item, table cell): a line break in it."""
_LABEL = r"\s(?:(?:[\u2022\u25e6\u25aa]|[0-9\u17e0-\u17e9]+\.)\s?)?"
"""A space, and then perhaps the label of a list item (a nested list's bullet, an ordered
list's number), which the clause's text does not have and a reader's text has before the item."""


def _kind(ch: str) -> str:
    if "\u1780" <= ch <= "\u17ff" or "\u19e0" <= ch <= "\u19ff":
        return "km"
    return "w" if ch.isalnum() else "p"


def count(text: str, word: str) -> int:
    return len(re.findall(re.escape(word), text))


def frequent_khmer_words(text: str, limit: int = 30) -> list[str]:
    """The ``limit`` most frequent Khmer words of ``text`` (segmented by the project's
    segmenter), most frequent first, ties in alphabetical order."""
    from collections import Counter

    from khmercut import tokenize

    counted = Counter(word for part in KHMER_RUN.findall(normalize(text)) for word in tokenize(part))
    return [word for word, _n in sorted(counted.items(), key=lambda item: (-item[1], item[0]))[:limit]]


class Page:
    """One PDF of a policy in a locale, with what a reader must find in it: the clauses (as
    the redline makes their texts) and the Khmer page's words (from the HTML fragment)."""

    def __init__(self, project: Path, policy: str, locale: str, pdf: Path) -> None:
        from policygen.i18n.prepare import prepare
        from policygen.render.html import environment, render_policy
        from policygen.render.pdf import pdf_html
        from policygen.render.redline import _clause_texts

        loaded, localized = prepare(project, [policy], [locale])
        item = localized[0]
        fmt = item.formatter
        self.name, self.locale, self.pdf = f"{pdf.parent.name}/{pdf.name}", locale, pdf
        meta = f"{fmt.ui('version')} {item.policy.version} · {fmt.date(item.policy.effective_date)}"
        self.furniture = furniture_pattern(item.title_text, meta, fmt.ui("page_of"))
        texts, _fallback = _clause_texts(item)
        self.clauses = list(texts.values())
        laid_out = self.html = pdf_html(loaded, item)
        self.finder = Clauses(laid_out_text(laid_out))
        self.headers = table_headers(laid_out)
        _page, fragment = render_policy(loaded, item, environment(loaded))
        body = re.sub(r"(?s)<(style|script)\b.*?</\1>", "", fragment.decode("utf-8"))
        self.page_text = normalize(unescape(re.sub(r"<[^>]+>", " ", body)))

    # The checks below are pure functions of the page and an engine's text; several tests ask
    # for the same ones (the control test repeats the clause and word checks of the Khmer
    # pages), so each is worked out once per process.

    def _memo(self, key: tuple[str, ...], work: Callable[[], Any]) -> Any:
        memo = self.__dict__.setdefault("_memo_", {})
        if key not in memo:
            memo[key] = work()
        return memo[key]

    def read(self, text: str) -> str:
        """What the checks read: the engine's text without page furniture and repeated table
        header rows (see reader_text)."""
        return self._memo(("read", text), lambda: drop_repeated(reader_text(text, self.furniture), self.headers))

    def missing(self, text: str) -> list[str]:
        def work() -> list[str]:
            read = self.read(text)
            return [clause for clause in self.clauses if not self.finder.pattern(clause).search(read)]

        return list(self._memo(("missing", text), work))

    def frequent_words(self) -> list[str]:
        """The page's 30 most frequent Khmer words (:func:`frequent_khmer_words`)."""
        return self._memo(("words",), lambda: frequent_khmer_words(self.page_text))

    def miscounted(self, text: str) -> list[tuple[str, int, int]]:
        def work() -> list[tuple[str, int, int]]:
            read = self.read(text)
            counts = [(w, count(self.page_text, w), count(read, w)) for w in self.frequent_words()]
            return [(w, want, got) for w, want, got in counts if want != got]

        return list(self._memo(("miscounted", text), work))
