"""Render stage, redline: a graded report and a locale -> the comparison page.

The new text with word-level insertions and deletions (Khmer split into words by a segmenter
rather than at spaces), the major changes summarised on top.
"""

from __future__ import annotations

import difflib
import html
import re

from markupsafe import Markup

from policygen import __version__
from policygen.changes.compare import PolicyReport
from policygen.changes.notices import notice_lines
from policygen.changes.rules import RANK, SEVERITIES
from policygen.errors import Collector
from policygen.i18n.localize import LocalizedPolicy, localize, plain_text
from policygen.render.html import environment, render_template
from policygen.resources import notice_template


def tokenize(text: str, locale: str) -> list[str]:
    """Words for a word-level diff. Khmer has no spaces: a segmenter finds its words."""
    if locale == "km":
        from khmercut import tokenize as khmer_words

        tokens: list[str] = []
        for part in re.split(r"(\s+)", text):
            if not part:
                continue
            if part.isspace() or not any("\u1780" <= ch <= "\u17ff" for ch in part):
                tokens.extend(re.findall(r"\s+|\w+|[^\w\s]", part) if not part.isspace() else [part])
            else:
                tokens.extend(khmer_words(part))
        return tokens
    return re.findall(r"\s+|\w+|[^\w\s]", text)


def word_diff(before: str, after: str, locale: str, labels: tuple[str, str]) -> Markup:
    """``after`` with insertions and deletions marked, not by colour alone."""
    a, b = tokenize(before, locale), tokenize(after, locale)
    inserted, deleted = labels
    out = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            out.append(html.escape("".join(b[j1:j2])))
            continue
        if i2 > i1:
            out.append(f'<del><span class="pg-sr">[{html.escape(deleted)}: </span>{html.escape("".join(a[i1:i2]))}<span class="pg-sr">]</span></del>')
        if j2 > j1:
            out.append(f'<ins><span class="pg-sr">[{html.escape(inserted)}: </span>{html.escape("".join(b[j1:j2]))}<span class="pg-sr">]</span></ins>')
    return Markup("".join(out).replace("\n", "<br>\n"))


def _clause_texts(localized: LocalizedPolicy) -> tuple[dict[str, str], set[str]]:
    """Clause ID -> its text as a reader of this locale sees it (facts filled in), and the
    clauses shown in the source language because they are not translated."""
    texts: dict[str, list[str]] = {}
    fallback: set[str] = set()
    for segment in (localized.policy.document.title, *localized.policy.document.segments):
        token = localized.segment_tokens[segment.context]
        if (token.meta or {}).get("lang"):
            fallback.add(segment.clause)
        fmt = localized.source_formatter if (token.meta or {}).get("lang") else localized.formatter
        texts.setdefault(segment.clause, []).append(plain_text(token.children or [], fmt))
    return {clause: "\n".join(parts) for clause, parts in texts.items()}, fallback


def redline(report: PolicyReport, locale: str) -> bytes:
    """The comparison page of one policy in one locale."""
    collector = Collector()
    old_locale = locale if locale in report.old.locales else report.old.source_locale
    old = localize(report.old_project, report.old, old_locale, report.old_translations, collector)
    new = localize(report.new_project, report.new, locale, report.new_translations, collector)
    (old_texts, _), (new_texts, untranslated) = _clause_texts(old), _clause_texts(new)
    # A clause the new version has not translated yet is compared in the source language:
    # old translation against new source text would mark every word as changed.
    source = report.new.source_locale
    if untranslated and locale != source:
        old_source, _ = _clause_texts(localize(report.old_project, report.old, report.old.source_locale, report.old_translations, collector))
    else:
        old_source = {}
    by_clause = {g.change.id: g for g in report.graded if g.change.subject == "clause"}
    fact_marks: dict[str, str] = {}
    for g in report.graded:
        if g.change.subject != "clause":
            for clause in g.change.clauses:
                if clause not in fact_marks or RANK[g.severity] > RANK[fact_marks[clause]]:
                    fact_marks[clause] = g.severity
    marks = (notice_template(locale, "redline.inserted"), notice_template(locale, "redline.deleted"))
    levels = {s.id: s.level for s in report.new.document.sections}
    old_levels = {s.id: s.level for s in report.old.document.sections}
    blocks = []
    for clause, text in new_texts.items():
        graded = by_clause.get(clause)
        old_id = graded.change.details.get("old_id", clause) if graded else clause
        lang = source if clause in untranslated and locale != source else None
        previous = (old_source if lang else old_texts).get(old_id)
        severity = graded.severity if graded else fact_marks.get(clause)
        if previous is None:
            body = word_diff("", text, lang or locale, marks)
        elif previous != text:
            body = word_diff(previous, text, lang or locale, marks)
        else:
            body = Markup(html.escape(text).replace("\n", "<br>\n"))
        blocks.append({"id": clause, "level": levels.get(clause), "html": body, "severity": severity, "removed": False, "lang": lang})
    # Removed clauses go where they stood, after the clause that preceded them.
    order = [b["id"] for b in blocks]
    for graded in report.graded:
        if graded.change.subject == "clause" and graded.change.kind == "removed" and graded.change.id in old_texts:
            old_ids = list(old_texts)
            index = old_ids.index(graded.change.id)
            anchor = next((c for c in reversed(old_ids[:index]) if c in order), None)
            at = order.index(anchor) + 1 if anchor else 0
            blocks.insert(at, {"id": graded.change.id, "level": old_levels.get(graded.change.id), "removed": True,
                               "html": word_diff(old_texts[graded.change.id], "", locale, marks), "severity": graded.severity, "lang": None})
            order.insert(at, graded.change.id)
    fmt = new.formatter
    context = {
        "locale": locale, "dir": new.direction,
        "title": notice_template(locale, "redline.title").format(
            title=new.title_text, old=fmt.version(report.old.version), new=fmt.version(report.new.version)),
        "effective": notice_template(locale, "redline.effective").format(date=fmt.date(report.new.effective_date)),
        "summary_heading": notice_template(locale, "redline.summary"), "none": notice_template(locale, "redline.none"),
        "text_heading": notice_template(locale, "redline.text"), "all_heading": notice_template(locale, "redline.all"),
        "legend": notice_template(locale, "redline.legend"), "removed_label": notice_template(locale, "redline.removed-clause"),
        "untranslated_label": fmt.ui("untranslated_short"),
        "major": notice_lines(report, locale),
        "severity_names": {s: notice_template(locale, f"severity.{s}") for s in SEVERITIES},
        "changes": [{"severity": g.severity, "path": g.change.path, "kind": g.change.kind, "reason": g.reason}
                    for g in sorted(report.graded, key=lambda g: (-RANK[g.severity], g.change.path))],
        "blocks": blocks, "generator": f"policygen {__version__}", "reason_lang": "en",
    }
    return render_template(environment(report.new_project), "redline.html", context).encode("utf-8")
