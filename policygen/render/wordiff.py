"""Render stage, word diff: the HTML of a block before and after -> the HTML after, with
insertions and deletions marked word by word.

Both sides are HTML that :mod:`policygen.render.html` rendered (links, emphasis, placeholders
already formatted). The diff reads them as tags and words: tags are compared like words but
only the new side's tags are written, so the result keeps the new structure (every link and
emphasis of the new text, properly nested); deleted words are written where they stood, without
their old markup. Khmer is split into words by a segmenter (khmercut), not at spaces.

Numbers, dates, periods and amounts change as a whole: when any part of "5 years" or
"1 March 2026" changes, the whole phrase is deleted and the whole new phrase inserted
(``<del>5 years</del> <ins>7 years</ins>``), never digit by digit, and a deletion and the
insertion after it are kept apart by a space, so "៥" struck and "៧" inserted never read as "៥៧".
"""

from __future__ import annotations

import difflib
import html
import re
from functools import cache

_WORD = re.compile(r"\s+|\d+(?:[.,:/]\d+)*|\w+|[^\w\s]")
_TAG = re.compile(r"(<[^>]*>)")
_DIGIT = re.compile(r"\d")
_SEPARATOR = re.compile(r"^[\s,\u00a0]+$")
_KHMER = re.compile(r"[\u1780-\u17ff]")
# Words of a Khmer formal date ("ថ្ងៃទី១ ខែមីនា ឆ្នាំ២០២៦") that the segmenter keeps apart from
# the numbers they name.
_KHMER_DATE_WORDS = ("ថ្ងៃទី", "ថ្ងៃ", "ខែ", "ឆ្នាំ", "ម៉ោង")
_CURRENCY = ("€", "$", "£", "¥", "៛", "%", "eur", "euro", "usd", "riel")
_UNITS = ("year", "month", "week", "day", "hour", "minute")


def tokenize(text: str, locale: str) -> list[str]:
    """Words, spaces and punctuation of ``text`` for a word-level diff; joined, they give the
    text back. A number with its separators ("1.5", "3.0", "12:30") is one word. Khmer has no
    spaces between words: a segmenter finds them."""
    if locale != "km" or not _KHMER.search(text):
        return _WORD.findall(text)
    from khmercut import tokenize as khmer_words

    tokens: list[str] = []
    for part in re.split(r"(\s+)", text):
        if not part:
            continue
        if part.isspace() or not _KHMER.search(part):
            tokens.extend(_WORD.findall(part))
        else:
            tokens.extend(khmer_words(part))
    return tokens


@cache
def number_words(locale: str) -> frozenset[str]:
    """Words that belong to a number next to them: units of time, month names and currencies
    (CLDR's, for ``locale`` and English), and the words of a Khmer date."""
    from babel import Locale

    found: set[str] = set(_CURRENCY)
    for code in {locale, "en"}:
        babel = Locale.parse(code)
        for width in ("wide", "abbreviated"):
            for context in ("format", "stand-alone"):
                found.update(str(name).lower().rstrip(".") for name in babel.months[context][width].values())
        for unit in _UNITS:
            patterns = babel._data["unit_patterns"].get(f"duration-{unit}", {})
            for length in patterns.values():
                for pattern in length.values():
                    found.update(word.lower() for word in str(pattern).replace("{0}", " ").split())
    if locale == "km":
        months = Locale.parse("km").months["format"]["wide"].values()
        found.update(_KHMER_DATE_WORDS)
        found.update("ខែ" + str(name) for name in months)
    return frozenset(found)


def _numberish(token: str, words: frozenset[str]) -> bool:
    return bool(_DIGIT.search(token)) or token.lower().rstrip(".") in words


def number_phrases(tokens: list[str], words: frozenset[str]) -> list[tuple[int, int]]:
    """Spans ``(start, end)`` of tokens that read as one number: number words with at most
    spaces or commas between them, at least one of them with digits ("5 years", "March 1, 2026",
    "ថ្ងៃទី១ ខែមីនា ឆ្នាំ២០២៦")."""
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(tokens):
        if not _numberish(tokens[i], words):
            i += 1
            continue
        end = last = i + 1
        while end < len(tokens):
            if _numberish(tokens[end], words):
                last = end = end + 1
            elif _SEPARATOR.match(tokens[end]):
                end += 1
            else:
                break
        if any(_DIGIT.search(t) for t in tokens[i:last]):
            spans.append((i, last))
        i = max(last, i + 1)
    return spans


def _atoms(markup: str, locale: str) -> list[tuple[bool, str]]:
    """``(is_tag, text)`` atoms of rendered HTML: tags as written, words unescaped."""
    atoms: list[tuple[bool, str]] = []
    for part in _TAG.split(markup):
        if not part:
            continue
        if part.startswith("<"):
            atoms.append((True, part))
        else:
            atoms.extend((False, word) for word in tokenize(html.unescape(part), locale))
    return atoms


def _phrase_of(atoms: list[tuple[bool, str]], locale: str) -> list[int]:
    """For each atom, the index of the number phrase it belongs to, or -1."""
    words = number_words(locale)
    owner = [-1] * len(atoms)
    run: list[int] = []  # atom indexes of a run of words between tags
    number = 0

    def close() -> None:
        nonlocal number
        for start, end in number_phrases([atoms[k][1] for k in run], words):
            number += 1
            for k in run[start:end]:
                owner[k] = number
        run.clear()

    for index, (is_tag, _text) in enumerate(atoms):
        if is_tag:
            close()
        else:
            run.append(index)
    close()
    return owner


_LINK_OPEN = re.compile(r"<a[\s>]")


def _link_of(atoms: list[tuple[bool, str]]) -> list[int]:
    """For each atom, the index of the ``<a>`` tag of the link it is in, or -1."""
    owner, current = [-1] * len(atoms), -1
    for index, (is_tag, text) in enumerate(atoms):
        if is_tag and _LINK_OPEN.match(text):
            current = index
        elif is_tag and text.startswith("</a"):
            current = -1
        elif not is_tag:
            owner[index] = current
    return owner


def _matches(a: list[tuple[bool, str]], b: list[tuple[bool, str]], locale: str) -> list[tuple[int, int]]:
    """Pairs of equal atoms, in order, with no pair inside a number phrase that changed, and no
    pair of words in a link whose target changed (or that is new, or gone): the words of a link
    that points elsewhere are marked, since only the new side's tags are written."""
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    pairs = [(block.a + k, block.b + k) for block in matcher.get_matching_blocks() for k in range(block.size)]
    phrase_a, phrase_b = _phrase_of(a, locale), _phrase_of(b, locale)
    link_a, link_b = _link_of(a), _link_of(b)
    while True:
        matched_a = {i for i, _ in pairs}
        matched_b = {j for _, j in pairs}
        broken_a = {phrase_a[i] for i in range(len(a)) if phrase_a[i] >= 0 and i not in matched_a}
        broken_b = {phrase_b[j] for j in range(len(b)) if phrase_b[j] >= 0 and j not in matched_b}
        kept = [(i, j) for i, j in pairs if phrase_a[i] not in broken_a and phrase_b[j] not in broken_b
                and (link_a[i] < 0 or link_a[i] in matched_a) and (link_b[j] < 0 or link_b[j] in matched_b)
                and (link_a[i] < 0) == (link_b[j] < 0)]
        if len(kept) == len(pairs):
            return pairs
        pairs = kept


class Marks:
    """How insertions and deletions are written: the words screen readers announce before them."""

    def __init__(self, inserted: str, deleted: str) -> None:
        self.inserted, self.deleted = inserted, deleted

    def wrap(self, tag: str, text: str) -> str:
        label = self.inserted if tag == "ins" else self.deleted
        return f'<{tag}><span class="pg-sr">[{html.escape(label)}: </span>{text}<span class="pg-sr">]</span></{tag}>'


def _runs(atoms: list[tuple[bool, str]], tag: str, marks: Marks, keep_tags: bool) -> tuple[str, bool]:
    """Atoms with their words wrapped in ``tag`` (one element per run between tags); tags kept
    when ``keep_tags``. Returns the HTML and whether it marked anything but spaces."""
    out: list[str] = []
    words: list[str] = []
    marked = False

    def flush() -> None:
        nonlocal marked
        text = "".join(words)
        if text.strip():
            out.append(marks.wrap(tag, html.escape(text, quote=False)))
            marked = True
        else:
            out.append(html.escape(text, quote=False))
        words.clear()

    for is_tag, text in atoms:
        if is_tag:
            flush()
            if keep_tags:
                out.append(text)
        else:
            words.append(text)
    flush()
    return "".join(out), marked


def mark_all(markup: str, tag: str, locale: str, marks: Marks) -> str:
    """Every word of ``markup`` marked as inserted (``ins``) or deleted (``del``), its tags kept:
    a clause that is new, or gone, as a whole."""
    return _runs(_atoms(markup, locale), tag, marks, keep_tags=True)[0]


def diff_html(before: str, after: str, locale: str, marks: Marks) -> str:
    """``after`` with the words that differ from ``before`` marked, tags from ``after`` only."""
    a, b = _atoms(before, locale), _atoms(after, locale)
    out: list[str] = []
    i = j = 0
    for next_i, next_j in [*_matches(a, b, locale), (len(a), len(b))]:
        deleted, gone = _runs(a[i:next_i], "del", marks, keep_tags=False)
        inserted, added = _runs(b[j:next_j], "ins", marks, keep_tags=True)
        if gone:
            out.append(deleted)
            if added:
                out.append(" ")  # a deletion never runs into its insertion ("៥" + "៧" is not "៥៧")
        out.append(inserted)
        if next_i < len(a) and next_j < len(b):
            is_tag, text = b[next_j]
            out.append(text if is_tag else html.escape(text, quote=False))
        i, j = next_i + 1, next_j + 1
    return "".join(out)
