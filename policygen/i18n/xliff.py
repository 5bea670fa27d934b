"""XLIFF exchange for agencies: catalogs -> XLIFF 1.2 or 2.0 files, and XLIFF files -> catalogs.

Agencies work in CAT tools (Trados, memoQ, Phrase, OmegaT) that speak XLIFF rather than PO.
Export writes one file per catalog and locale. Each unit's ``id`` (and ``resname`` in 1.2,
``name`` in 2.0) is the message context, the clause ID; its source the Markdown source text, with
placeholders (``{{...}}``), code spans, links and emphasis turned into protected inline codes
(1.2: ``<ph>``, ``<bpt>``/``<ept>``; 2.0: ``<ph>``, ``<pc>`` with ``<originalData>``), so a
translator can move them but not break them; its target the translation. A fuzzy message keeps
its old translation as the target, marked ``needs-review-translation`` (1.2) or
``state="initial"`` (2.0). The extracted comment (what the block is, what each placeholder
renders to) is the unit's developer note, and its first line names the context, so it survives
translate-toolkit's ``xliff2po``/``po2xliff``, which keep notes but not ``msgctxt``.

Import reads XLIFF 1.1, 1.2 and 2.0 (ours, or what a CAT tool or ``po2xliff`` made of them) and
merges translations back into the existing PO catalogs and nothing else: comments, locations
and previous source texts stay in the PO files. An export followed by an import of the
unchanged files leaves every catalog byte-identical. It refuses, with ``file:line``, a file of
another project, a unit translated from an older source, and a target whose inline codes or
placeholders differ from its source's (but not a fuzzy target handed back as it was exported: an
old translation that may predate a code of the source, which changes nothing); it lists every
such problem of every file before it gives up.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from policygen.atomic import write_all
from policygen.errors import Collector, PolicygenError
from policygen.i18n.catalogs import messages, read_catalog, render_catalog, targets
from policygen.i18n.status import compare
from policygen.model import PLACEHOLDER_RE, SUPPORTED_LOCALES, Project, is_safe_slug
from policygen.source.files import CONTROL_CHARACTERS, NOT_A_FILE, holds_control, inside, not_a_file

if TYPE_CHECKING:
    from lxml import etree

    from policygen.i18n.catalogs import Catalog, Unit

XLIFF12 = "urn:oasis:names:tc:xliff:document:1.2"
XLIFF11 = "urn:oasis:names:tc:xliff:document:1.1"
XLIFF20 = "urn:oasis:names:tc:xliff:document:2.0"
PG = "urn:policygen:xliff"
"""policygen's own attributes: ``pg:project`` names the project a file belongs to."""
FORMATS = {"xliff12": "1.2", "xliff20": "2.0", "xliff": "1.2"}
"""``--format`` values; ``xliff`` is 1.2, the version every CAT tool reads."""
MAX_XLIFF_BYTES = 64 * 1024 * 1024
_CONTEXT_NOTE = "context: "
_FUZZY_STATES_12 = {"new", "needs-translation", "needs-adaptation", "needs-l10n", "needs-review-translation",
                    "needs-review-adaptation", "needs-review-l10n"}

# Markdown inline syntax that a translator must keep: escapes (text), placeholders and code
# spans (isolated codes), link openers and closers, bold and italic markers (paired codes).
# A placeholder is the model's one pattern (the group it adds inside ``ph`` closes first, so
# ``lastgroup`` still names ``ph``).
_INLINE = re.compile(
    r"(?P<escape>\\.)|(?P<ph>" + PLACEHOLDER_RE.pattern + r")|(?P<code>`+)|(?P<close>\]\((?:[^()\s]|\([^()\s]*\))*\))"
    r"|(?P<open>\[)|(?P<strong>\*\*|__)|(?P<em>\*|(?<![\w])_|_(?![\w]))"
)


@dataclass(frozen=True, slots=True)
class Piece:
    """A stretch of a Markdown source: text, or an inline code (``kind`` ph, open or close)."""

    kind: str
    text: str
    ident: int = 0
    ctype: str = ""


def pieces(source: str) -> list[Piece]:
    """Split inline Markdown into text and inline codes; unpaired markers stay text."""
    found: list[Piece] = []
    stack: list[tuple[str, int]] = []
    pos = 0
    while pos < len(source):
        match = _INLINE.search(source, pos)
        if match is None:
            found.append(Piece("text", source[pos:]))
            break
        if match.start() > pos:
            found.append(Piece("text", source[pos:match.start()]))
        kind, text = match.lastgroup or "", match.group(0)
        pos = match.end()
        if kind == "escape":
            found.append(Piece("text", text))
        elif kind == "ph":
            found.append(Piece("ph", text, ctype="x-placeholder"))
        elif kind == "code":
            end = source.find(text, pos)
            if end < 0:
                found.append(Piece("text", text))
            else:
                found.append(Piece("ph", source[match.start():end + len(text)], ctype="x-code"))
                pos = end + len(text)
        elif kind == "open":
            stack.append(("link", len(found)))
            found.append(Piece("open", text, ctype="link"))
        elif kind == "close":
            opener = next((i for i in range(len(stack) - 1, -1, -1) if stack[i][0] == "link"), None)
            if opener is None:
                found.append(Piece("text", text))
            else:
                del stack[opener:]
                found.append(Piece("close", text, ctype="link"))
        else:
            ctype = "bold" if kind == "strong" else "italic"
            if stack and stack[-1][0] == text:
                stack.pop()
                found.append(Piece("close", text, ctype=ctype))
            else:
                stack.append((text, len(found)))
                found.append(Piece("open", text, ctype=ctype))
    # Pair codes; openers left on the stack were never closed and are text after all.
    unpaired = {index for _kind, index in stack}
    result: list[Piece] = []
    opened: list[int] = []
    counter = 0
    for index, piece in enumerate(found):
        if piece.kind == "text" or index in unpaired:
            text = piece.text
            if result and result[-1].kind == "text":
                result[-1] = Piece("text", result[-1].text + text)
            else:
                result.append(Piece("text", text))
            continue
        if piece.kind == "close" and not opened:
            result.append(Piece("text", piece.text))
            continue
        if piece.kind == "close":
            result.append(Piece("close", piece.text, opened.pop(), piece.ctype))
            continue
        counter += 1
        if piece.kind == "open":
            opened.append(counter)
        result.append(Piece(piece.kind, piece.text, counter, piece.ctype))
    return result


def aligned(source: list[Piece], target: list[Piece], whole: bool = False) -> list[Piece]:
    """The target's pieces, each code numbered as the same code of the source (a translation
    may reorder them), codes the source does not have numbered after the source's. With
    ``whole``, a paired code is the same only if its closer is too (a link to another target,
    as an old, fuzzy translation may have, is another code): XLIFF 2.0 keeps each code's text
    once, for source and target."""
    closers = {p.ident: p.text for p in source if p.kind == "close"} if whole else {}
    target_closers = {p.ident: p.text for p in target if p.kind == "close"} if whole else {}
    free = [p for p in source if p.kind in ("ph", "open")]
    mapping: dict[int, int] = {}
    counter = max((p.ident for p in source), default=0)
    result = []
    for piece in target:
        if piece.kind in ("ph", "open"):
            match = next((p for p in free if p.kind == piece.kind and p.text == piece.text
                          and closers.get(p.ident) == target_closers.get(piece.ident)), None)
            if match is not None:
                free.remove(match)
                mapping[piece.ident] = match.ident
            else:
                counter += 1
                mapping[piece.ident] = counter
        if piece.kind == "text":
            result.append(piece)
        else:
            result.append(Piece(piece.kind, piece.text, mapping[piece.ident], piece.ctype))
    return result


# -- export ----------------------------------------------------------------------------------


def _fill_12(element: etree._Element, items: list[Piece]) -> None:
    from lxml import etree

    last: etree._Element | None = None
    for piece in items:
        if piece.kind == "text":
            if last is None:
                element.text = (element.text or "") + piece.text
            else:
                last.tail = (last.tail or "") + piece.text
            continue
        tag = {"ph": "ph", "open": "bpt", "close": "ept"}[piece.kind]
        last = etree.SubElement(element, f"{{{XLIFF12}}}{tag}", id=str(piece.ident))
        if piece.kind != "close":
            last.set("ctype", piece.ctype)
        last.text = piece.text


def _fill_20(element: etree._Element, items: list[Piece], data: dict[str, str]) -> None:
    """Inline content of a 2.0 ``<source>`` or ``<target>``; the codes' text goes to ``data``."""
    from lxml import etree

    parents = [element]
    last: etree._Element | None = None

    def add_text(text: str) -> None:
        if last is None or last.getparent() is not parents[-1]:
            parents[-1].text = (parents[-1].text or "") + text
        else:
            last.tail = (last.tail or "") + text

    for piece in items:
        if piece.kind == "text":
            add_text(piece.text)
            continue
        if piece.kind == "ph":
            ref = _data_ref(piece)
            data[ref] = piece.text
            last = etree.SubElement(parents[-1], f"{{{XLIFF20}}}ph", id=str(piece.ident), dataRef=ref, equiv=piece.text)
            # XLIFF 2.0 knows no type for a code span ("code" is no value of 'type'): both kinds
            # are "other", told apart by their subType.
            last.set("type", "other")
            last.set("subType", "policygen:placeholder" if piece.ctype == "x-placeholder" else "policygen:code")
            last.set("canDelete", "no")
            continue
        if piece.kind == "open":
            ref = _data_ref(piece)
            data[ref] = piece.text
            pc = etree.SubElement(parents[-1], f"{{{XLIFF20}}}pc", id=str(piece.ident), dataRefStart=ref, canDelete="no")
            pc.set("type", "link" if piece.ctype == "link" else "fmt")
            pc.set("subType", "policygen:link" if piece.ctype == "link" else f"xlf:{'b' if piece.ctype == 'bold' else 'i'}")
            parents.append(pc)
            last = None
            continue
        ref = _data_ref(piece)
        data[ref] = piece.text
        pc = parents.pop()
        pc.set("dataRefEnd", ref)
        last = pc


def _notes_of(unit: Unit) -> list[str]:
    notes = [_CONTEXT_NOTE + unit.getcontext()]
    comment = unit.getnotes("developer")
    if comment:
        notes.append(comment)
    return notes


def _serialize(root: etree._Element, pending: list[tuple[etree._Element, list[Piece]]], data: dict[int, dict[str, str]] | None = None) -> bytes:
    from lxml import etree

    # Indent the skeleton first, then fill the inline content: indenting mixed content would
    # add whitespace to the translatable text.
    etree.indent(root, space="  ")
    for element, items in pending:
        if data is None:
            _fill_12(element, items)
        else:
            _fill_20(element, items, data[id(element)])
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def export_12(catalog: Catalog, domain: str, project_name: str, source_locale: str, locale: str) -> bytes:
    from lxml import etree

    pending: list[tuple[etree._Element, list[Piece]]] = []
    root = etree.Element(f"{{{XLIFF12}}}xliff", nsmap={None: XLIFF12, "pg": PG}, version="1.2")
    file = etree.SubElement(root, f"{{{XLIFF12}}}file", original=domain, datatype="x-markdown")
    file.set("source-language", source_locale)
    file.set("target-language", locale)
    file.set("product-name", project_name)
    file.set(f"{{{PG}}}project", project_name)
    body = etree.SubElement(file, f"{{{XLIFF12}}}body")
    for message in messages(catalog):
        context = message.getcontext()
        unit = etree.SubElement(body, f"{{{XLIFF12}}}trans-unit", id=context, resname=context)
        unit.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        source = etree.SubElement(unit, f"{{{XLIFF12}}}source")
        pending.append((source, pieces(message.source)))
        if message.target:
            target = etree.SubElement(unit, f"{{{XLIFF12}}}target", state="needs-review-translation" if message.isfuzzy() else "translated")
            pending.append((target, aligned(pieces(message.source), pieces(message.target))))
            unit.set("approved", "no" if message.isfuzzy() else "yes")
        else:
            unit.set("approved", "no")
        if message.isfuzzy() and message.prev_source:
            alt = etree.SubElement(unit, f"{{{XLIFF12}}}alt-trans", origin="previous-source")
            pending.append((etree.SubElement(alt, f"{{{XLIFF12}}}source"), pieces(message.prev_source)))
            pending.append((etree.SubElement(alt, f"{{{XLIFF12}}}target"), aligned(pieces(message.prev_source), pieces(message.target))))
        group = etree.SubElement(unit, f"{{{XLIFF12}}}context-group", name="po-entry", purpose="information")
        etree.SubElement(group, f"{{{XLIFF12}}}context", {"context-type": "x-po-msgctxt"}).text = context
        for location in message.getlocations():
            file_name, _, line = location.rpartition(":")
            ref = etree.SubElement(unit, f"{{{XLIFF12}}}context-group", name="po-reference", purpose="location")
            etree.SubElement(ref, f"{{{XLIFF12}}}context", {"context-type": "sourcefile"}).text = file_name or location
            if line.isdigit():
                etree.SubElement(ref, f"{{{XLIFF12}}}context", {"context-type": "linenumber"}).text = line
        for note in _notes_of(message):
            etree.SubElement(unit, f"{{{XLIFF12}}}note", {"from": "developer"}).text = note
    return _serialize(root, pending)


def _data_ref(piece: Piece) -> str:
    return f"d{piece.ident}" + {"ph": "", "open": "s", "close": "e"}[piece.kind]


def export_20(catalog: Catalog, domain: str, project_name: str, source_locale: str, locale: str) -> bytes:
    from lxml import etree

    pending: list[tuple[etree._Element, list[Piece]]] = []
    datas: dict[int, dict[str, str]] = {}
    root = etree.Element(f"{{{XLIFF20}}}xliff", nsmap={None: XLIFF20, "pg": PG}, version="2.0", srcLang=source_locale, trgLang=locale)
    file = etree.SubElement(root, f"{{{XLIFF20}}}file", id=domain, original=domain)
    file.set(f"{{{PG}}}project", project_name)
    for message in messages(catalog):
        context = message.getcontext()
        unit = etree.SubElement(file, f"{{{XLIFF20}}}unit", id=context, name=context)
        notes = etree.SubElement(unit, f"{{{XLIFF20}}}notes")
        for note in _notes_of(message):
            etree.SubElement(notes, f"{{{XLIFF20}}}note", category="description", appliesTo="source").text = note
        for location in message.getlocations():
            etree.SubElement(notes, f"{{{XLIFF20}}}note", category="location").text = location
        if message.isfuzzy() and message.prev_source:
            etree.SubElement(notes, f"{{{XLIFF20}}}note", category="previous-source").text = message.prev_source
        data: dict[str, str] = {}
        source_items = pieces(message.source)
        target_items = aligned(source_items, pieces(message.target), whole=True) if message.target else []
        for piece in (*source_items, *target_items):
            if piece.kind != "text":
                data.setdefault(_data_ref(piece), piece.text)
                if data[_data_ref(piece)] != piece.text:
                    raise AssertionError("aligned() numbers codes by their text")
        if data:
            original = etree.SubElement(unit, f"{{{XLIFF20}}}originalData")
            for key in sorted(data, key=lambda k: (int(re.sub(r"\D", "", k)), k)):
                etree.SubElement(original, f"{{{XLIFF20}}}data", id=key).text = data[key]
        segment = etree.SubElement(unit, f"{{{XLIFF20}}}segment", id="s1")
        segment.set("state", "initial" if (message.isfuzzy() or not message.target) else "translated")
        source = etree.SubElement(segment, f"{{{XLIFF20}}}source")
        source.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        pending.append((source, source_items))
        datas[id(source)] = {}
        if message.target:
            target = etree.SubElement(segment, f"{{{XLIFF20}}}target")
            target.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
            pending.append((target, target_items))
            datas[id(target)] = {}
    return _serialize(root, pending, datas)


def export(project: Project, output: Path, locales: list[str] | None = None, version: str = "1.2") -> list[Path]:
    """Write ``output/<locale>/<catalog>.xlf`` for every catalog. Returns the written paths."""
    errors = Collector()
    planned: dict[Path, bytes] = {}
    writer = export_20 if version == "2.0" else export_12
    for domain, locales_of in targets(project):
        source_locale = project.glossary.locale if domain == "glossary" else project.policies[domain].source_locale
        for locale in locales_of:
            if locales is not None and locale not in locales:
                continue
            po = project.catalog_path(locale, domain)
            if not po.exists():
                errors.add(po, 0, "no catalog yet; run 'policygen i18n extract' first")
                continue
            reported = len(errors.items)
            catalog = read_catalog(po, locale, errors, project.root)
            if catalog is None or len(errors.items) > reported:
                continue  # a catalog with problems (a duplicate, a control character) is not exported
            for message in messages(catalog):
                # A source text is checked where it is written (the prose reader); this one came
                # from elsewhere (release notes, a hand-edited catalog), and XML cannot hold it.
                found = CONTROL_CHARACTERS.search(message.source)
                if found is not None:
                    where = ", ".join(message.getlocations()) or "its source"
                    errors.add(po, 0, f"the source text of '{message.getcontext()}' {holds_control(found)}; "
                                      f"remove it from {where} and run 'policygen i18n update'")
            if len(errors.items) > reported:
                continue
            planned[output / locale / f"{domain}.xlf"] = writer(catalog, domain, project.config.site_title, source_locale, locale)
    errors.raise_if_any()
    return write_all(planned, output)


# -- import ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReadUnit:
    """One unit of an XLIFF file, its inline codes turned back into Markdown."""

    line: int
    ident: str
    contexts: tuple[str, ...]
    """Every way the unit names its message context: id, resname/name, context, note."""
    source: str
    target: str | None
    fuzzy: bool
    target_line: int
    locations: tuple[str, ...] = ()
    """``file:line`` references, the last way to find a message whose context a tool dropped."""
    code_problem: str | None = None
    """How the target's inline codes differ from the source's (see :func:`_code_problem`), if
    they do. The import decides whether it matters: a fuzzy target handed back as it was
    exported (an old translation, made before the source gained a code) changes nothing."""


@dataclass(frozen=True, slots=True)
class ReadFile:
    line: int
    version: str
    original: str
    project: str | None
    target_language: str
    units: list[ReadUnit]
    problems: tuple[tuple[int, str], ...] = ()
    """Units that cannot be read (``(line, message)``); the import reports them with the rest."""


class XliffError(PolicygenError):
    """A problem with an XLIFF file, at its line (the import reports it as ``file:line``)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _local(element: etree._Element) -> str:
    from lxml import etree

    tag = element.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _text_12(element: etree._Element) -> str:
    """Markdown of a 1.x ``<source>``/``<target>``: text, with each code's native text."""
    parts = [element.text or ""]
    for child in element:
        name = _local(child)
        if name in ("ph", "bpt", "ept", "it", "ph"):
            parts.append("".join(child.itertext()))
        elif name in ("g", "mrk"):
            parts.append(_text_12(child))
        elif name in ("x", "bx", "ex"):
            parts.append(child.get("equiv-text") or "")
        elif name == "sub":
            parts.append(_text_12(child))
        parts.append(child.tail or "")
    return "".join(parts)


_INLINE_12 = frozenset({"ph", "bpt", "ept", "it", "g", "mrk", "x", "bx", "ex", "sub"})
"""The inline elements of an XLIFF 1.x text that :func:`_text_12` reads."""
_INLINE_20 = frozenset({"ph", "pc", "sc", "ec", "mrk", "sm", "em"})
"""The inline elements of an XLIFF 2.0 text that :func:`_text_20` reads (``sm``/``em`` mark a
span and hold no text)."""


def _unknown_inline(element: etree._Element | None, known: frozenset[str], unit: str) -> tuple[int, str] | None:
    """The first element inside a ``<source>`` or ``<target>`` that is none of ``known``, as a
    problem: reading the text would drop it and the words inside it (``Over <b>vet</b> ons``
    became ``Over  ons``), without a word."""
    if element is None:
        return None
    for child in element.iterdescendants():
        if isinstance(child.tag, str) and _local(child) not in known:
            return (child.sourceline or 0, f"unit '{unit}': the {_local(element)} holds <{_local(child)}>, which is no inline element of "
                    "this XLIFF version (a tool's own markup?); its text would be lost: keep the words, remove the tags, or export again")
    return None


def _codes_12(element: etree._Element) -> list[tuple[str, str]]:
    return [(_local(child), child.get("id") or "") for child in element.iter() if _local(child) in ("ph", "bpt", "ept", "x", "bx", "ex", "g")]


def _text_20(element: etree._Element, data: dict[str, str]) -> str:
    parts = [element.text or ""]
    for child in element:
        name = _local(child)
        if name == "ph":
            ref = child.get("dataRef")
            parts.append(data[ref] if ref in data else child.get("equiv") or "")
        elif name == "pc":
            start, end = child.get("dataRefStart"), child.get("dataRefEnd")
            parts.append(data.get(start or "", child.get("equivStart") or ""))
            parts.append(_text_20(child, data))
            parts.append(data.get(end or "", child.get("equivEnd") or ""))
        elif name in ("sc", "ec"):
            ref = child.get("dataRef")
            parts.append(data[ref] if ref in data else child.get("equiv") or "")
        elif name == "mrk":
            parts.append(_text_20(child, data))
        parts.append(child.tail or "")
    return "".join(parts)


def _codes_20(element: etree._Element) -> list[tuple[str, str]]:
    """A 2.0 text's codes. A ``<sc>``/``<ec startRef>`` pair is the ``<pc>`` it stands for: XLIFF
    2.0 lets a tool turn a ``<pc>`` into one (to split a unit into sentences, say), and the pair
    gives the same text."""
    codes = []
    for child in element.iter():
        name = _local(child)
        if name == "ec" and child.get("startRef"):
            continue
        if name in ("ph", "pc", "sc", "ec"):
            codes.append(("pc" if name == "sc" else name, child.get("id") or ""))
    return codes


@cache
def _parser() -> etree.XMLParser:
    """The parser of every XLIFF file read: no entities resolved, no network, no DTD, no huge
    trees; made on first use, so a command that reads no XLIFF never imports lxml."""
    from lxml import etree

    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True, remove_pis=True, load_dtd=False)


def read_xliff(raw: bytes) -> ReadFile:
    """Parse an XLIFF 1.1, 1.2 or 2.0 file with one ``<file>``. Raises :class:`XliffError`."""
    from lxml import etree

    try:
        root = etree.fromstring(raw, parser=_parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if isinstance(exc.lineno, int) else 0
        raise XliffError(line, f"not a readable XLIFF file: {exc.msg}; repair the XML there (a CAT tool can save it again), "
                               "or export the file again") from None
    doctype = root.getroottree().docinfo
    if doctype.internalDTD is not None or doctype.doctype:
        # Entities are never resolved, and a reference to one would drop out of the text unseen.
        line = next((n for n, text in enumerate(raw.decode("utf-8", "replace").splitlines(), 1) if "<!DOCTYPE" in text), 1)
        raise XliffError(line, "a DOCTYPE (entities): policygen reads XLIFF without one; export the file again, or remove it and write "
                               "the text of each entity out")
    if _local(root) != "xliff" or not isinstance(root.tag, str):
        raise XliffError(root.sourceline or 1, "not an XLIFF file: the root element is not <xliff>")
    namespace = etree.QName(root.tag).namespace or ""
    files = [child for child in root if _local(child) == "file"]
    if len(files) != 1:
        raise XliffError(root.sourceline or 1, f"expected one <file> element, found {len(files)}; export each catalog to its own file")
    file = files[0]
    project = file.get(f"{{{PG}}}project")
    if namespace == XLIFF20:
        return _read_20(root, file, project)
    if namespace not in (XLIFF12, XLIFF11, ""):
        raise XliffError(root.sourceline or 1, f"unknown XLIFF namespace '{namespace}'; policygen reads XLIFF 1.1, 1.2 and 2.0")
    units = []
    problems = []
    for element in file.iter(f"{{{namespace}}}trans-unit" if namespace else "trans-unit"):
        if element.get("restype") == "x-gettext-domain-header":
            continue
        source = element.find(f"{{{namespace}}}source" if namespace else "source")
        if source is None:
            problems.append((element.sourceline or 0, f"unit '{element.get('id', '')}' has no <source>; restore it from the exported file"))
            continue
        target = element.find(f"{{{namespace}}}target" if namespace else "target")
        contexts = [element.get("resname") or "", element.get("id") or ""]
        for context in element.iter(f"{{{namespace}}}context" if namespace else "context"):
            if context.get("context-type") == "x-po-msgctxt":
                contexts.insert(0, context.text or "")
        for note in element.iter(f"{{{namespace}}}note" if namespace else "note"):
            contexts += _note_contexts(note.text or "")
        locations = []
        for group in element.iter(f"{{{namespace}}}context-group" if namespace else "context-group"):
            if group.get("purpose") == "location":
                parts = {c.get("context-type"): (c.text or "") for c in group}
                locations.append(f"{parts.get('sourcefile', '')}:{parts.get('linenumber', '')}")
        unknown = _unknown_inline(source, _INLINE_12, element.get("id", "")) or _unknown_inline(target, _INLINE_12, element.get("id", ""))
        if unknown is not None:
            problems.append(unknown)
            continue
        if target is not None and _empty(_text_12(target), _codes_12(target)):
            target = None  # a unit left untranslated: CAT tools write it with an empty target
        text = None if target is None else _text_12(target)
        state = target.get("state", "") if target is not None else ""
        approved = element.get("approved")
        fuzzy = bool(text) and (state in _FUZZY_STATES_12 or (approved == "no" and state not in ("translated", "final", "signed-off")))
        problem = None if target is None else _code_problem(_codes_12(source), _codes_12(target))
        units.append(ReadUnit(element.sourceline or 0, element.get("id") or "", tuple(c for c in contexts if c), _text_12(source), text, fuzzy,
                              (target.sourceline or 0) if target is not None else 0, tuple(locations), problem))
    language = file.get("target-language") or ""
    return ReadFile(file.sourceline or 1, "1.2", file.get("original") or "", project or file.get("product-name"), language, units, tuple(problems))


def _empty(text: str, codes: list[tuple[str, str]]) -> bool:
    """Whether a target holds nothing: no text but spaces, no code. A CAT tool writes a unit or a
    sentence it was not asked to (or did not) translate so, and an agency hands a file back
    partly translated; it is no translation, not one that drops every code of its source."""
    return not text.strip() and not codes


def _note_contexts(text: str) -> list[str]:
    return [line[len(_CONTEXT_NOTE):].strip() for line in text.split("\n") if line.startswith(_CONTEXT_NOTE)]


def _read_20(root: etree._Element, file: etree._Element, project: str | None) -> ReadFile:
    ns = f"{{{XLIFF20}}}"
    units = []
    problems = []
    for element in file.iter(f"{ns}unit"):
        data = {d.get("id") or "": "".join(d.itertext()) for d in element.iter(f"{ns}data")}
        contexts = [element.get("name") or "", element.get("id") or ""]
        for note in element.iter(f"{ns}note"):
            contexts += _note_contexts(note.text or "")
        # The unit's text is its segments and ignorables in document order: a CAT tool may
        # split a unit into sentences, with the space between them an <ignorable>.
        sources, targets, states = [], [], []
        target_line = 0
        # Codes are compared over the whole unit: a translation may move one to another sentence.
        source_codes: list[tuple[str, str]] = []
        target_codes: list[tuple[str, str]] = []
        readable, translated = True, False
        for part in element:
            name = _local(part)
            if name not in ("segment", "ignorable"):
                continue
            source = part.find(f"{ns}source")
            if source is None:
                problems.append((part.sourceline or 0, f"unit '{element.get('id', '')}' has a {name} without <source>; restore it from the exported file"))
                readable = False
                break
            target = part.find(f"{ns}target")
            unknown = _unknown_inline(source, _INLINE_20, element.get("id", "")) or _unknown_inline(target, _INLINE_20, element.get("id", ""))
            if unknown is not None:
                problems.append(unknown)
                readable = False
                break
            if target is not None and _empty(_text_20(target, data), _codes_20(target)):
                target = None  # a sentence left untranslated: CAT tools write it with an empty target
            sources.append(_text_20(source, data))
            if name == "ignorable":
                targets.append(sources[-1] if target is None else _text_20(target, data))
                continue
            states.append(part.get("state", "initial"))
            if target is None:
                states[-1] = "initial"  # a sentence left untranslated: the unit is not done
                continue
            translated = True
            source_codes += _codes_20(source)
            target_codes += _codes_20(target)
            targets.append(_text_20(target, data))
            target_line = target_line or target.sourceline or 0
        if not readable:
            continue
        text = "".join(targets) if translated else None
        fuzzy = bool(text) and any(state == "initial" for state in states)
        problem = _code_problem(source_codes, target_codes) if translated else None
        units.append(ReadUnit(element.sourceline or 0, element.get("id") or "", tuple(c for c in contexts if c), "".join(sources), text, fuzzy, target_line,
                              code_problem=problem))
    return ReadFile(file.sourceline or 1, "2.0", file.get("original") or file.get("id") or "", project, root.get("trgLang") or "", units, tuple(problems))


def _code_problem(source: list[tuple[str, str]], target: list[tuple[str, str]]) -> str | None:
    """How a target's inline codes differ from its source's (a target keeps every code of its
    source, once each, in any order), or None when they do not."""
    if sorted(source) != sorted(target):
        missing = sorted(set(source) - set(target))
        extra = sorted(set(target) - set(source))
        detail = []
        if missing:
            detail.append("drops " + ", ".join(f"<{tag} id='{code}'>" for tag, code in missing))
        if extra:
            detail.append("adds " + ", ".join(f"<{tag} id='{code}'>" for tag, code in extra))
        if not detail:
            detail.append("repeats an inline code")
        return f"the target {' and '.join(detail)}; a translation keeps every placeholder, link and emphasis of its source"
    return None


MANY_FILES = 5
"""An import of at least this many XLIFF files tells how it advances, file by file."""


def import_files(project: Project, files: list[Path], progress: Callable[[str, int, int], None] | None = None) -> list[Path]:
    """Merge the translations of XLIFF files into their catalogs. All or nothing. With many files
    (:data:`MANY_FILES`), ``progress`` is told ``("XLIFF files", done, total)`` as they are merged."""
    errors = Collector()
    catalogs: dict[Path, Catalog] = {}
    known = dict(targets(project))
    if not files:
        raise PolicygenError("no XLIFF files given")
    tell = progress if progress is not None and len(files) >= MANY_FILES else None
    for done, path in enumerate(files):
        if tell is not None:
            tell("XLIFF files", done, len(files))
        if not_a_file(path):
            errors.add(path, 0, NOT_A_FILE)
            continue
        try:
            if path.stat().st_size > MAX_XLIFF_BYTES:
                errors.add(path, 0, f"larger than {MAX_XLIFF_BYTES // (1024 * 1024)} MB; not an XLIFF file of policies")
                continue
            raw = path.read_bytes()
        except OSError as exc:
            errors.add(path, 0, f"cannot read: {exc.strerror}")
            continue
        try:
            read = read_xliff(raw)
        except XliffError as exc:
            errors.add(path, exc.line, exc.message)
            continue
        for line, message in read.problems:
            errors.add(path, line, message)
        _merge_file(project, path, read, known, catalogs, errors)
    errors.raise_if_any()
    written = write_all({po: render_catalog(catalog, like=po) for po, catalog in catalogs.items()}, project.root)
    if tell is not None:
        tell("XLIFF files", len(files), len(files))
    return written


def _merge_file(project: Project, path: Path, read: ReadFile, known: dict[str, list[str]], catalogs: dict[Path, Catalog], errors: Collector) -> None:
    locale = read.target_language.replace("_", "-")
    if read.project is not None and read.project != project.config.site_title:
        errors.add(path, read.line, f"this file belongs to the project '{read.project}', not to '{project.config.site_title}'; import it into its own project")
        return
    if not locale and path.parent.name in project.config.locales:
        # A file without a target language, handed back where the export put it
        # (xliff/<locale>/): translate-toolkit's xliff2po writes no Language header, so po2xliff
        # writes no target-language, in an agency's round trip through PO.
        locale = path.parent.name
    elif not locale:
        attribute = "trgLang on <xliff>" if read.version == "2.0" else "target-language on <file>"
        choices = ", ".join(project.config.locales)
        errors.add(path, read.line, f"the file names no target language; set {attribute} to the locale it is translated into ({choices}), "
                                    "or import it from a folder named after its locale (xliff/<locale>/, where the export puts it)")
        return
    language = locale.split("-", 1)[0].lower()
    if locale not in SUPPORTED_LOCALES and language in SUPPORTED_LOCALES:
        # A CAT project set up for a region ("nl-NL", "km-KH") writes it back that way; policygen
        # publishes languages, and the language is the catalog's.
        locale = language
    if locale not in SUPPORTED_LOCALES:
        errors.add(path, read.line, f"target language '{locale}' is not a locale policygen publishes ({', '.join(SUPPORTED_LOCALES)})")
        return
    domain = Path(read.original).stem if read.original.endswith(".po") else read.original
    if not (domain == "glossary" or is_safe_slug(domain)) or domain not in known:
        errors.add(path, read.line, f"<file original='{read.original}'> names no catalog of this project; expected one of: {', '.join(sorted(known))}")
        return
    if locale not in known[domain]:
        errors.add(path, read.line, f"catalog '{domain}' is not translated into '{locale}' in this project")
        return
    po = project.catalog_path(locale, domain)
    if not po.exists() or not inside(po, project.root, errors):
        errors.add(po, 0, "no catalog to merge into; run 'policygen i18n extract' first")
        return
    catalog = catalogs.get(po) or read_catalog(po, locale, errors, project.root)
    if catalog is None:
        return
    catalogs[po] = catalog
    by_context = {m.getcontext(): m for m in messages(catalog)}
    by_source: dict[str, list[Unit]] = {}
    for entry in messages(catalog):
        by_source.setdefault(entry.source, []).append(entry)
    merged: dict[str, ReadUnit] = {}  # by context: a second unit for one entry must not replace the first without a word
    for unit in read.units:
        message: Unit | None = next((by_context[c] for c in unit.contexts if c in by_context), None)
        if message is None or message.source != unit.source:
            # A tool that dropped the context (po2xliff does), or a text that moved to another
            # context since the export (an item inserted above it renumbers a list, as 'i18n
            # update' does in the catalog): a text found once, or its location. A text found
            # nowhere under a context still there is stale.
            candidates = by_source.get(unit.source, [])
            if len(candidates) > 1:
                candidates = [m for m in candidates if set(m.getlocations()) & set(unit.locations)]
            if len(candidates) == 1:
                message = candidates[0]
            elif message is not None:
                errors.add(path, unit.line, f"unit '{message.getcontext()}' was translated from an older source text; export again and translate the "
                                            "current text")
                continue
        if message is None:
            errors.add(path, unit.line, f"unit '{unit.ident}' is not in {po.name}; it was removed from the source, or the file belongs to another project: "
                                         "export again and translate the current units")
            continue
        context = message.getcontext()
        first = merged.setdefault(context, unit)
        if first is not unit:
            if (first.target, first.fuzzy) != (unit.target, unit.fuzzy):
                errors.add(path, unit.line, f"unit '{context}' is in this file twice, with different translations (the other on line {first.line}); "
                                            "keep the one you mean")
            continue
        if unit.target is None:
            continue
        if unit.fuzzy and unit.target == (message.target or ""):
            # Handed back as exported and still to be reviewed: an old translation, which may
            # lack a code the source has gained since. It changes nothing and is not published.
            if not message.isfuzzy():
                message.markfuzzy(True)
            continue
        if unit.code_problem is not None:
            errors.add(path, unit.target_line or unit.line, f"unit '{context}': {unit.code_problem}")
            continue
        # The same check, in the same words, as a PO file's ('i18n check'): placeholders, and the
        # link targets and markup the codes carry. A CAT tool lets a translator keep the codes of
        # the old target of a fuzzy unit (a link to a target the source no longer has), or put a
        # pair's closing code before its opening one ("](#x)text["): the codes are all there, once
        # each, and the Markdown is still wrong.
        not_kept = compare(message.source, unit.target) if unit.target else []
        for problem in not_kept:
            errors.add(path, unit.target_line or unit.line, f"unit '{context}': the target {problem}")
        if not_kept:
            continue
        if "\n" in unit.target and "\n" not in message.source:
            errors.add(path, unit.target_line or unit.line, f"unit '{context}': the target has a line break where the source has none; "
                                                         "a block is one paragraph")
            continue
        if (message.target or "") != unit.target:
            message.target = unit.target
        fuzzy = bool(unit.target) and unit.fuzzy
        if message.isfuzzy() != fuzzy:
            message.markfuzzy(fuzzy)
            if not fuzzy:
                message.prev_source = None
                message.prev_context = None
