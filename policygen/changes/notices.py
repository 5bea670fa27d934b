"""Notices: a graded :class:`~policygen.changes.compare.PolicyReport` -> texts for users.

A banner line and an e-mail per locale listing the major changes in plain words. Every text is a
whole translatable sentence (``data/notices/*.po``, or a project rule's own ``notice``), and a
fact enters a sentence only in a slot written for it:

- the policy by the name the glossary gives it mid-sentence (``policy: {tonle-privacy: our
  privacy policy}``), so Dutch gets its article right ("onze privacyverklaring", "ons
  cookiebeleid") and no title is capitalised in the middle of a sentence;
- a purpose in a noun slot ("We will use sensitive data for {noun}") only through its noun form
  (``noun:`` in the glossary); without one, the sentence that names it after a colon;
- other labels after a colon, or in slots written for their kind (data categories, recipients);
- the words a prose finding quotes (``{quote}``, ``{quote_before}``, ``{quote_after}``, ``{sentence}``)
  only inside quotation marks, marked in a Dutch or Khmer sentence as quoted from the policy's
  text: they are in the policy's own language and are never translated.

A label a notice needs that has no translation in the notice's language is an error at its line
in ``glossary.yaml``, never English inside a Dutch or Khmer notice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from policygen.changes.compare import PolicyReport
from policygen.changes.diff import Change
from policygen.changes.rules import Graded
from policygen.errors import Collector
from policygen.i18n.localize import Formatter
from policygen.model import KIND, LABELLED_KINDS, Duration, Term
from policygen.resources import notice_template, notice_templates


class _Needs:
    """The labels one locale's notices use, and the ones among them that are not translated."""

    def __init__(self, fmt: Formatter) -> None:
        self.fmt = fmt
        self.missing: dict[str, tuple[Term, str]] = {}

    def label(self, kind: str, ident: str, form: str = "", why: str = "") -> str:
        try:
            text, fallback = self.fmt.label(kind, ident, form)
        except KeyError:
            return ident  # a fact the new version no longer has: its ID is all there is
        term = self.fmt.term(kind, ident, form)
        if fallback is not None and term is not None:
            self.missing.setdefault(term.context, (term, why))
        return text

    def raise_if_missing(self) -> None:
        if not self.missing:
            return
        from babel import Locale

        fmt = self.fmt
        language = Locale.parse(fmt.locale).get_display_name("en")
        catalog = f"locales/{fmt.locale}/LC_MESSAGES/glossary.po"
        errors = Collector()
        for context, (term, why) in sorted(self.missing.items()):
            errors.add(fmt.project.glossary.path, term.line, f"'{context}' has no {language} translation in {catalog} "
                       f"(fuzzy or missing); the {language} notice {why} needs it, and would otherwise show it in English")
        errors.raise_if_any()


def _fields(change: Change, needs: _Needs, why: str) -> dict[str, str]:
    """The fields a notice template may use, in the notice's language."""
    fmt = needs.fmt
    subject, ident, details = change.subject, change.id, change.details

    def label(kind: str, item: str) -> str:
        return needs.label(kind, item, why=why)

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
    noun = needs.label(subject, ident, "noun", why) if ident and fmt.has_form(subject, ident, "noun") else ""
    country = details.get("country") or ""
    # Prose findings quote the policy in its own (source) language: the words found, the two sides
    # of a change ("6 months -> 2 years") and the sentence they stand in, never translated.
    quote = " ".join(str(details.get("quote", "")).split())
    quote_before, _arrow, quote_after = quote.rpartition(" -> ") if " -> " in quote else ("", "", quote)
    sentence = " ".join(str(details.get("sentence", "")).split()).rstrip(".;:, ")
    return {
        "label": main, "noun": noun, "id": ident or "", "field": change.field or "",
        "before": value(change.before), "after": value(change.after),
        "added": fmt.list_of([label(list_kind, x) for x in details.get("added", [])]),
        "removed": fmt.list_of([label(list_kind, x) for x in details.get("removed", [])]),
        "country": fmt.babel.territories.get(country, country), "subject": subject, "topics": "", "old_id": details.get("old_id", ""),
        "quote": quote, "quote_before": quote_before, "quote_after": quote_after, "sentence": sentence,
        **_names(needs, why),
    }


def _names(needs: _Needs, why: str = "") -> dict[str, str]:
    """``{policy}``: the policy's name mid-sentence ("our privacy policy"); ``{Policy}``: the same
    at the start of a sentence; ``{title}``: the title as written, for headings."""
    fmt = needs.fmt
    if fmt.term("policy", fmt.policy.id) is not None:
        name = needs.label("policy", fmt.policy.id, why=why or "text")
    else:
        name = notice_template(fmt.locale, "policy.unnamed")
    return {"policy": name, "Policy": name[:1].upper() + name[1:]}


def _template(graded: Graded, fmt: Formatter) -> str:
    """The sentence for one major change: the project rule's own, or policygen's most specific."""
    rule, change, locale = graded.rule, graded.change, fmt.locale
    if rule.notice:
        if locale not in rule.notice:
            from babel import Locale

            errors = Collector()
            errors.add(Path(rule.origin), 0, f"rule '{rule.id}' has a notice but none in {Locale.parse(locale).get_display_name('en')} ('{locale}'); "
                       f"add notice: {{{locale}: ...}}, or the {locale} notice would be in another language")
            errors.raise_if_any()
        return rule.notice[locale]
    templates = notice_templates(locale)
    keys = [rule.id]
    if change.subject != rule.id:
        keys.insert(0, f"{rule.id}.{change.subject}")
        if change.id and fmt.has_form(change.subject, change.id, "noun"):
            keys.insert(0, f"{rule.id}.{change.subject}.noun")
    if finding := change.details.get("finding"):
        keys.insert(0, f"{rule.id}.{finding}")  # a prose rule's other finding ("retention-limit-removed")
    # A project's own major rule without a notice text: a whole sentence that points to the
    # policy, in the notice's language (never the rule's English reason).
    return next((templates[k] for k in keys if k in templates), templates["other-major-change"])


def _lines(report: PolicyReport, needs: _Needs) -> list[str]:
    lines: list[str] = []
    for graded in report.major:
        why = f"of change '{graded.change.path}' (rule {graded.rule.id})"
        line = _template(graded, needs.fmt).format(**_fields(graded.change, needs, why))
        if line not in lines:
            lines.append(line)
    return lines


def notice_lines(report: PolicyReport, locale: str) -> list[str]:
    """One plain sentence per major change, in ``locale``; duplicates merged."""
    needs = _Needs(Formatter(report.new_project, report.new, locale, report.new_translations))
    lines = _lines(report, needs)
    needs.raise_if_missing()
    return lines


def notices(report: PolicyReport, locale: str) -> dict[str, Any]:
    """Banner and e-mail texts for users, in ``locale``, listing the major changes."""
    fmt = Formatter(report.new_project, report.new, locale, report.new_translations)
    needs = _Needs(fmt)
    lines = _lines(report, needs)
    if not lines:
        return {"banner": "", "items": [], "email_subject": "", "email_body": ""}
    names = _names(needs, "banner and e-mail")
    needs.raise_if_missing()
    when = fmt.date(report.new.effective_date)
    base = report.new_project.config.base_url
    url = f"{base}{report.policy_id}/{locale}/" if base else ""
    facts = report.new.facts
    controller = facts.controller
    contact = (controller and controller.email) or next((c.value for c in facts.contacts if c.kind == "email"), "") or (controller and controller.url) or ""
    body = notice_template(locale, "email.body" if contact else "email.body.no-contact").format(
        **names, date=when, changes="\n".join(f"- {line}" for line in lines),
        link=notice_template(locale, "email.link").format(url=url) if url else "", contact=contact, controller=controller.name if controller else "",
    )
    return {
        "banner": notice_template(locale, "banner").format(**names, date=when),
        "items": lines,
        "email_subject": notice_template(locale, "email.subject").format(**names, date=when),
        "email_body": body,
    }


_IN_FORCE = ".in-force"
_SAME_IN_FORCE = ("high-risk", "sensitive-data-in-prose", "other-major-change")
"""Sentences that read right before and after the change alike."""


def items_in_force(changes: list[dict[str, Any]], fmt: Formatter) -> list[str]:
    """The banner's list once a release is in force: one sentence per major change, said as it
    is now ("We now keep ..."), no longer as it will be. ``changes`` are the release's recorded
    changes (``changes.json``); ``fmt`` formats in the version in force, whose labels the
    sentences use. A change whose sentence needs what the record does not keep (the words a prose
    finding quotes) or that a project rule words itself is named by the general sentence, since
    its recorded sentence is in the future tense. Duplicates are merged."""
    templates = notice_templates(fmt.locale)
    needs = _Needs(fmt)
    lines: list[str] = []
    for record in changes:
        if record.get("severity") != "major":
            continue
        change = _recorded_change(record, fmt)
        keys = [record["rule"]]
        if change.subject != record["rule"]:
            keys.insert(0, f"{record['rule']}.{change.subject}")
            if change.id and fmt.has_form(change.subject, change.id, "noun"):
                keys.insert(0, f"{record['rule']}.{change.subject}.noun")
        key = next((k for k in keys if k + _IN_FORCE in templates or (k in _SAME_IN_FORCE and k in templates)), "other-major-change")
        template = templates.get(key + _IN_FORCE) or templates[key]
        line = template.format(**_fields(change, needs, f"of change '{record['path']}' (rule {record['rule']})"))
        if line not in lines:
            lines.append(line)
    return lines


def _recorded_change(record: dict[str, Any], fmt: Formatter) -> Change:
    """A change as ``changes.json`` records it, with the details a sentence needs that follow
    from the record: the items a list gained or lost, a transfer's country."""
    before, after = record.get("before"), record.get("after")
    details: dict[str, Any] = {}
    if isinstance(before, list) and isinstance(after, list):
        details["added"] = [x for x in after if x not in before]
        details["removed"] = [x for x in before if x not in after]
    if record.get("subject") == "transfer":
        transfer = next((t for t in fmt.policy.facts.transfers if t.id == record.get("id")), None)
        if transfer is not None:
            details["country"] = transfer.country
    return Change(record["subject"], record["kind"], record.get("id"), record.get("field"), before, after, details)
