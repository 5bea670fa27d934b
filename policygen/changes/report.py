"""The JSON change report: graded reports -> the document ``docs/schema/change-report.schema.json`` describes.

What change-notification workflows read: every change with its severity, rule, basis and
reason, and the notice texts in every locale.
"""

from __future__ import annotations

from typing import Any

from policygen import __version__
from policygen.changes.compare import PolicyReport, worst
from policygen.changes.notices import notices
from policygen.changes.rules import RANK, SEVERITIES

REPORT_VERSION = 1


def _jsonable(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def report_json(reports: list[PolicyReport], old_label: str, new_label: str) -> dict[str, Any]:
    """The change report, as documented by ``docs/schema/change-report.schema.json``."""
    return {
        "report_version": REPORT_VERSION,
        "generator": f"policygen {__version__}",
        "from": old_label,
        "to": new_label,
        "severity": worst(reports),
        "reports": [_policy_json(r) for r in reports],
    }


def _policy_json(report: PolicyReport) -> dict[str, Any]:
    counts = {name: sum(1 for g in report.graded if g.severity == name) for name in SEVERITIES}
    return {
        "policy": report.policy_id,
        "from": {"version": report.old.version, "effective_date": report.old.effective_date.isoformat()},
        "to": {"version": report.new.version, "effective_date": report.new.effective_date.isoformat()},
        "severity": report.severity,
        "counts": counts,
        "changes": [
            {
                "path": g.change.path, "subject": g.change.subject, "kind": g.change.kind, "id": g.change.id,
                "field": g.change.field, "severity": g.severity, "rule": g.rule.id, "basis": g.rule.basis,
                "reason": g.reason, "before": _jsonable(g.change.before), "after": _jsonable(g.change.after),
                "clauses": list(g.change.clauses),
            }
            for g in sorted(report.graded, key=lambda g: (-RANK[g.severity], g.change.path, g.change.kind))
        ],
        "notices": {loc: notices(report, loc) for loc in report.new.locales},
    }
