"""Classify stage: :class:`~policygen.changes.diff.Change` records -> graded changes.

Rules come from ``policygen/data/rules.yaml`` and may be adjusted by a project's ``rules.yaml``
(disable a rule, change its severity, add rules). Every change gets the most severe rule that
matches it (on a tie: a project rule first, then the first default), the rule's ID, its basis,
and a reason in plain words that a lawyer can read without knowing policygen.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import Any

from policygen.changes.diff import Change
from policygen.errors import Collector
from policygen.i18n.localize import format_duration
from policygen.model import LABELLED_KINDS, Duration, Project
from policygen.resources import builtin, default_rules
from policygen.source.files import inside, read_yaml
from policygen.source.load import validate

SEVERITIES = ("major", "review", "minor", "editorial")
RANK = {name: len(SEVERITIES) - i for i, name in enumerate(SEVERITIES)}
RULES_FILE = "rules.yaml"
ISO_PERIOD = re.compile(r"P[0-9]+[YMWD]")
_FIELDS = ("label", "id", "field", "before", "after", "added", "removed", "country", "subject", "topics", "old_id",
           "quote", "editorial", "finding", "regulated", "language")


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    severity: str
    when: dict[str, Any]
    reason: str
    basis: str
    notice: dict[str, str]
    origin: str
    """``default`` or the project's rules file."""

    def matches(self, change: Change) -> bool:
        for key, wanted in self.when.items():
            actual = getattr(change, key) if key in ("subject", "kind", "field") else change.details.get(key)
            options = wanted if isinstance(wanted, list) else [wanted]
            if isinstance(actual, (list, tuple, set)):
                if not set(actual) & set(options):
                    return False
            elif actual not in options:
                return False
        return True


@dataclass(frozen=True, slots=True)
class Graded:
    """A change with its severity, the rule that decided it, and why."""

    change: Change
    severity: str
    rule: Rule
    reason: str


def load_rules(project: Project | None) -> list[Rule]:
    """The default rules, adjusted by the project's ``rules.yaml`` when it has one."""
    rules = [_rule(r, "default") for r in default_rules()]
    if project is None or not (project.root / RULES_FILE).is_file():
        return rules
    path = project.root / RULES_FILE
    errors = Collector()
    if not inside(path, project.root, errors):
        errors.raise_if_any()
    loaded = read_yaml(path, errors)
    if loaded is None:
        errors.raise_if_any()
    data, lines = loaded  # type: ignore[misc]
    data = data or {}
    if not validate(data, "rules", path, lines, errors):
        errors.raise_if_any()
    known = {r.id for r in rules}
    for key in ("disable", "severity"):
        entries = data.get(key, [])
        for i, ident in enumerate(entries):
            if ident not in known:
                errors.add(path, lines.line((key, ident) if key == "severity" else (key, i)), f"no default rule '{ident}'; see 'policygen rules' for their IDs")
    own = [_rule(r, str(path)) for r in data.get("rules", [])]
    for i, rule in enumerate(own):
        if rule.id in known:
            errors.add(path, lines.line(("rules", i, "id")), f"rule '{rule.id}' already exists; give yours another ID, or change the default with "
                "'severity:' or 'disable:'")
        problem = check_template(rule.reason, "reason")
        if problem:
            errors.add(path, lines.line(("rules", i, "reason")), problem)
        for locale, text in rule.notice.items():
            problem = check_template(text, f"notice ({locale})")
            if problem:
                errors.add(path, lines.line(("rules", i, "notice", locale)), problem)
    errors.raise_if_any()
    disabled = set(data.get("disable", []))
    severities = data.get("severity", {})
    adjusted = [
        Rule(r.id, severities.get(r.id, r.severity), r.when, r.reason, r.basis, r.notice, r.origin)
        for r in rules if r.id not in disabled
    ]
    return own + adjusted


def _rule(data: dict[str, Any], origin: str) -> Rule:
    return Rule(data["id"], data["severity"], dict(data.get("when") or {}), data["reason"], data["basis"], dict(data.get("notice") or {}), origin)


def check_template(text: str, what: str) -> str | None:
    """What is wrong with a reason or notice template, or None. A template names fields only,
    ``{label}``: no attribute or index (``{label.upper}``, ``{added[0]}``), no conversion
    (``{label!r}``), no format spec, so filling it in can never fail or reach into a value."""
    available = ", ".join("{" + f + "}" for f in _FIELDS)
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as exc:
        return f"{what} is not a valid template ({exc}); fields are written {{label}}, and a literal brace is doubled: {{{{ or }}}}"
    for _literal, field, spec, conversion in parts:
        if field is None:
            continue
        name = re.split(r"[.\[]", field, maxsplit=1)[0]
        if name not in _FIELDS:
            shown = "{}" if not field else f"{{{name}}}"
            return f"{what} uses an unknown field {shown}; available: {available}"
        if field != name or conversion or spec:
            return f"{what} uses {{{field}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}}; write the field alone, {{{name}}}"
    return None


def classify(changes: list[Change], rules: list[Rule], labels: dict[tuple[str, str], str]) -> list[Graded]:
    """Grade every change. ``labels`` maps (subject, ID) to a readable label."""
    graded = []
    specific = _Shortlist([r for r in rules if r.when])
    # A rule with an empty 'when' is a catch-all: it decides only what no other rule describes.
    catch_all = [r for r in rules if not r.when]
    for change in changes:
        best = _best(change, specific)
        if best is None:
            best = catch_all[0] if catch_all else Rule("unclassified", "review", {}, "A change no rule describes.", "No rule matched", {}, "default")
        severity, reason = best.severity, best.reason.format(**reason_fields(change, labels))
        if (as_fact := change.details.get("as_fact")) is not None:
            # Prose that names what no fact covers is graded as the missing fact would be (a new
            # recipient, transfer or data category), by the same rules and the project's changes to them.
            fact = Change(as_fact["subject"], as_fact["kind"], None, None, None, None, dict(as_fact.get("details") or {}))
            fact_rule = _best(fact, specific)
            if fact_rule is not None:
                severity = fact_rule.severity
            collection = change.details.get("uncovered", "")
            reason += f" No fact in '{collection}' covers it: add it to {collection} in policy.yaml."
        graded.append(Graded(change, severity, best, reason))
    return graded


class _Shortlist:
    """Rules by the subject and kind of change they can match, in their order: a diff of a long
    policy grades hundreds of changes, and most rules name a subject or a kind the change has not."""

    def __init__(self, rules: list[Rule]) -> None:
        self.rules = rules
        self._by: dict[tuple[str, str], list[Rule]] = {}

    def of(self, change: Change) -> list[Rule]:
        key = (change.subject, change.kind)
        found = self._by.get(key)
        if found is None:
            found = self._by[key] = [r for r in self.rules if _may_match(r, "subject", change.subject) and _may_match(r, "kind", change.kind)]
        return found


def _may_match(rule: Rule, key: str, actual: str) -> bool:
    """What :meth:`Rule.matches` asks of one attribute that is a string (``subject``, ``kind``)."""
    if key not in rule.when:
        return True
    wanted = rule.when[key]
    return actual in (wanted if isinstance(wanted, list) else [wanted])


def _best(change: Change, rules: _Shortlist) -> Rule | None:
    """The most severe rule that matches ``change`` (the first one listed, on a tie)."""
    best: Rule | None = None
    for rule in rules.of(change):
        if rule.matches(change) and (best is None or RANK[rule.severity] > RANK[best.severity]):
            best = rule
    return best


def overall(graded: list[Graded]) -> str | None:
    """The most severe grade, or None when nothing changed."""
    return max((g.severity for g in graded), key=RANK.__getitem__, default=None)


def _show(value: Any) -> str:
    """A value as a reason reads it: periods in words ("3 years", not "P3Y"), lists joined."""
    if value is None or value == [] or value == "":
        return "none"
    if isinstance(value, (list, tuple, set)):
        from babel.lists import format_list

        return format_list([str(v) for v in value], locale="en")
    if isinstance(value, str) and ISO_PERIOD.fullmatch(value):
        return format_duration(Duration.parse(value), "en")
    if isinstance(value, dict):  # a whole fact added or removed: its value ("privacy@acme.example"), or its fields
        return str(value["value"]) if "value" in value else ", ".join(f"{k} {_show(v)}" for k, v in value.items() if v not in (None, [], ""))
    return str(value)


def reason_fields(change: Change, labels: dict[tuple[str, str], str]) -> dict[str, str]:
    from babel import Locale

    details = change.details
    label = labels.get((change.subject, change.id or ""), change.id or change.subject.replace("_", " "))
    if change.subject == "right" and change.id and (change.subject, change.id) not in labels:
        label = builtin()["terms"]["right"].get(change.id, {}).get("en", change.id)
    country = details.get("country") or ""
    return {
        "label": label, "id": change.id or "", "field": (change.field or "").replace("_", " "),
        "before": _show(change.before), "after": _show(change.after),
        "added": _show(details.get("added")), "removed": _show(details.get("removed")),
        "country": Locale("en").territories.get(country, country), "subject": change.subject.replace("_", " "),
        "topics": _show(details.get("topics")), "old_id": details.get("old_id", ""),
        "quote": " ".join(str(details.get("quote", "")).split())[:200], "editorial": details.get("editorial", "typo, punctuation or formatting"),
        "finding": str(details.get("finding", "")).replace("-", " "), "regulated": _show(details.get("regulated")),
        "language": Locale("en").languages.get(str(details.get("language", "")), str(details.get("language", ""))),
    }


def source_labels(project: Project) -> dict[tuple[str, str], str]:
    """(subject, ID) -> the fact's label in the glossary's language, for reasons."""
    from babel.lists import format_list

    labels = {(kind, ident): term.label for (kind, ident), term in project.glossary.terms.items() if kind in LABELLED_KINDS}
    for policy in project.policies.values():
        for retention in policy.facts.retention:
            names = [labels.get(("data_category", d), d) for d in retention.data]
            labels.setdefault(("retention", retention.id), format_list(names, locale="en"))
    return labels
