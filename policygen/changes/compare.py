"""Compare stage: two project folders -> one graded :class:`PolicyReport` per policy.

Loads both versions, diffs each policy they share (:mod:`policygen.changes.diff`) and grades the
changes (:mod:`policygen.changes.rules`). What people and machines read is made from the reports
elsewhere: notices (:mod:`policygen.changes.notices`), the JSON change report
(:mod:`policygen.changes.report`) and redlines (:mod:`policygen.render.redline`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from policygen.changes.checkout import names_a_release
from policygen.changes.diff import diff_policies
from policygen.changes.rules import (
    RANK,
    Graded,
    classify,
    load_rules,
    overall,
    source_labels,
)
from policygen.errors import Collector
from policygen.i18n.catalogs import Translations, load_translations
from policygen.model import Document, Policy, Project
from policygen.source.load import load_project


@dataclass
class PolicyReport:
    """The graded differences of one policy between two versions."""

    policy_id: str
    old: Policy
    new: Policy
    old_project: Project
    new_project: Project
    graded: list[Graded]
    old_translations: Translations
    new_translations: Translations

    @property
    def severity(self) -> str | None:
        return overall(self.graded)

    @property
    def major(self) -> list[Graded]:
        return [g for g in self.graded if g.severity == "major"]


def compare(old_root: Path, new_root: Path, policies: list[str] | None = None, parsed: Mapping[str, Document] | None = None) -> list[PolicyReport]:
    """Diff and grade every policy both versions have (or the selected ones); ``parsed``: prose
    parsed already, by its text (see :func:`~policygen.source.load.load_project`)."""
    old_project = load_project(old_root, parsed=parsed)
    new_project = load_project(new_root, parsed=parsed)
    wanted = policies if policies is not None else sorted(set(old_project.policies) | set(new_project.policies))
    errors = Collector()
    for ident in wanted:
        if ident not in old_project.policies or ident not in new_project.policies:
            side = "old" if ident not in old_project.policies else "new"
            errors.add(new_root / "sources" / ident, 0, f"policy '{ident}' is not in the {side} version; a diff needs it in both")
    errors.raise_if_any()
    old_tr = load_translations(old_project, None, Collector())
    new_tr = load_translations(new_project, None, Collector())
    rules = load_rules(new_project)
    labels = source_labels(old_project) | source_labels(new_project)
    reports = []
    for ident in wanted:
        old, new = old_project.policies[ident], new_project.policies[ident]
        graded = classify(diff_policies(old, new, labels), rules, labels)
        reports.append(PolicyReport(ident, old, new, old_project, new_project, graded, old_tr, new_tr))
    return reports


def worst(reports: list[PolicyReport]) -> str | None:
    return max((r.severity for r in reports if r.severity), key=RANK.__getitem__, default=None)


def same_labels(report: PolicyReport, new_side: str = "") -> list[str]:
    """Warnings for a new version that kept the old one's version label or effective date: its
    redlines and notices would say "from version 3.0 to version 3.0", or date a change to the
    day the old text took effect. ``new_side`` is the new side as given (``policy@version`` for
    an archived release, which has no sources to edit: two releases of one date are the
    catch-up docs/archive.md describes, and the newer one is in force from that date)."""
    old, new = report.old, report.new
    found = []
    if names_a_release(new_side):
        if new.effective_date == old.effective_date:
            found.append(f"{report.policy_id}: the new side takes effect on the same date as the old one ({new.effective_date.isoformat()}); "
                         f"{new_side} is the version in force from that date (a release made again on the same date; see docs/archive.md)")
        return found
    if new.version == old.version:
        found.append(f"{report.policy_id}: the new side has the same version as the old one ({new.version}); its redlines would say "
                     f"'from version {old.version} to version {new.version}'. Set a new 'version' in sources/{report.policy_id}/policy.yaml")
    if new.effective_date == old.effective_date:
        found.append(f"{report.policy_id}: the new side takes effect on the same date as the old one ({new.effective_date.isoformat()}); "
                     f"set its 'effective_date' in sources/{report.policy_id}/policy.yaml to the day the new text applies")
    return found

