"""Notices: a graded :class:`~policygen.changes.compare.PolicyReport` -> texts for users.

A banner line and an e-mail per locale listing the major changes in plain words, from
translatable templates (``data/notices/*.po``) filled with localized labels, dates and periods.
"""

from __future__ import annotations

from typing import Any

from policygen.changes.compare import PolicyReport
from policygen.changes.diff import Change
from policygen.errors import Collector
from policygen.i18n.localize import Formatter, localize
from policygen.model import KIND, LABELLED_KINDS, Duration
from policygen.resources import notice_template, notice_templates


def _localized_fields(change: Change, fmt: Formatter) -> dict[str, str]:
    """The fields a notice template may use, in the notice's language."""
    subject, ident, details = change.subject, change.id, change.details

    def label(kind: str, item: str) -> str:
        try:
            return fmt.label(kind, item)[0]
        except KeyError:
            return item

    # A list field names facts of another kind (a purpose's "data" lists data categories).
    list_kind = dict(KIND[subject].refs).get(change.field or "", "data_category") if subject in KIND else "data_category"

    def value(v: Any) -> str:
        if isinstance(v, str) and v.startswith("P") and v[1:-1].isdigit():
            return fmt.duration(Duration.parse(v))
        if isinstance(v, int) and not isinstance(v, bool):
            return fmt.number(v)
        if isinstance(v, (list, tuple)):
            return fmt.list_of([label(list_kind, x) for x in v])
        return "" if v is None else str(v)

    if subject in LABELLED_KINDS and ident:
        main = label(subject, ident)
    elif subject == "retention" and ident:
        retention = next((r for r in fmt.policy.facts.retention if r.id == ident), None)
        main = fmt.list_of([label("data_category", d) for d in retention.data]) if retention else ident
    else:
        main = ident or ""
    country = details.get("country") or ""
    return {
        "label": main, "id": ident or "", "field": change.field or "", "before": value(change.before), "after": value(change.after),
        "added": fmt.list_of([label(list_kind, x) for x in details.get("added", [])]),
        "removed": fmt.list_of([label(list_kind, x) for x in details.get("removed", [])]),
        "country": fmt.babel.territories.get(country, country), "subject": subject, "topics": "", "old_id": details.get("old_id", ""),
    }


def notice_lines(report: PolicyReport, locale: str) -> list[str]:
    """One plain sentence per major change, in ``locale``; duplicates merged."""
    fmt = Formatter(report.new_project, report.new, locale, report.new_translations)
    lines: list[str] = []
    for graded in report.major:
        text = graded.rule.notice.get(locale) or graded.rule.notice.get("en")
        if text is None:
            text = notice_templates(locale).get(graded.rule.id) or graded.reason
        line = text.format(**_localized_fields(graded.change, fmt))
        if line not in lines:
            lines.append(line)
    return lines


def notices(report: PolicyReport, locale: str) -> dict[str, Any]:
    """Banner and e-mail texts for users, in ``locale``, listing the major changes."""
    fmt = Formatter(report.new_project, report.new, locale, report.new_translations)
    localized = localize(report.new_project, report.new, locale, report.new_translations, Collector())
    title = localized.title_text
    when = fmt.date(report.new.effective_date)
    lines = notice_lines(report, locale)
    base = report.new_project.config.base_url
    url = f"{base}{report.policy_id}/{locale}/" if base else ""
    facts = report.new.facts
    controller = facts.controller
    contact = (controller and controller.email) or next((c.value for c in facts.contacts if c.kind == "email"), "") or (controller and controller.url) or ""
    body = notice_template(locale, "email.body").format(
        title=title, date=when, changes="\n".join(f"- {line}" for line in lines),
        link=notice_template(locale, "email.link").format(url=url) if url else "", contact=contact, controller=controller.name if controller else "",
    )
    return {
        "banner": notice_template(locale, "banner").format(title=title, date=when) if lines else "",
        "items": lines,
        "email_subject": notice_template(locale, "email.subject").format(title=title, date=when) if lines else "",
        "email_body": body if lines else "",
    }
