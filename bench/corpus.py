"""The development corpus: how well `policygen diff` grades 80 real pairs of policy versions.

Usage: .venv/bin/python bench/corpus.py [--corpus DIR] [--verbose]

Each pair of ../shared/corpus/ota-dev/ (A.md, B.md) is compared as `policygen diff A.md B.md`
would (both files imported, the new one over the old one), and the overall grade is set against
the label in tests/corpus/ota-dev-labels.yaml, decided from the texts before the tool ran. Prints
the exact agreement, the confusion matrix (labels in rows, grades in columns), the pairs graded
differently with the rule that decided, and the CPU time. tests/test_ota_corpus.py runs the same
evaluation and fails below the targets.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

from policygen.changes.compare import compare
from policygen.changes.rules import RANK
from policygen.importers.files import DOCUMENT_ID, document_versions

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "ota-dev"
LABELS = ROOT / "tests" / "corpus" / "ota-dev-labels.yaml"
GRADES = ("major", "review", "minor", "editorial")
TODAY = date(2026, 1, 1)
"""The date an undated version gets: fixed, so that reports are the same on every run."""


@dataclass(frozen=True, slots=True)
class Outcome:
    pair: str
    label: str
    grade: str
    """The overall grade; ``editorial`` when nothing changed."""
    rule: str
    """The rule of the most severe change, with its reason."""


def grade(old: Path, new: Path) -> tuple[str, str]:
    with document_versions(old, new, "en", TODAY) as (old_root, new_root, imports):
        report = compare(old_root, new_root, [DOCUMENT_ID], {i.markdown: i.document for i in imports})[0]
    if not report.graded:
        return "editorial", "no change"
    top = max(report.graded, key=lambda g: RANK[g.severity])
    return top.severity, f"{top.rule.id}: {top.reason}"


def evaluate(corpus: Path = CORPUS) -> list[Outcome]:
    labels = yaml.safe_load(LABELS.read_text(encoding="utf-8"))["pairs"]
    outcomes = []
    for entry in labels:
        folder = corpus / entry["id"]
        severity, rule = grade(folder / "A.md", folder / "B.md")
        outcomes.append(Outcome(entry["id"], entry["label"], severity, rule))
    return outcomes


def summary(outcomes: list[Outcome]) -> dict[str, float | int]:
    exact = sum(o.label == o.grade for o in outcomes)
    return {
        "pairs": len(outcomes),
        "exact": exact,
        "agreement": exact / len(outcomes) if outcomes else 0.0,
        "major_below_review": sum(o.label == "major" and RANK[o.grade] < RANK["review"] for o in outcomes),
        "editorial_above": sum(o.label == "editorial" and o.grade != "editorial" for o in outcomes),
    }


def matrix(outcomes: list[Outcome]) -> str:
    lines = [f"| label \\ grade | {' | '.join(GRADES)} |", "| --- |" + " ---: |" * len(GRADES)]
    for label in GRADES:
        row = [sum(o.label == label and o.grade == g for o in outcomes) for g in GRADES]
        lines.append(f"| {label} | {' | '.join(str(n) for n in row)} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--verbose", action="store_true", help="also list the pairs graded as labelled")
    args = parser.parse_args()
    start = time.process_time()
    outcomes = evaluate(args.corpus)
    spent = time.process_time() - start
    facts = summary(outcomes)
    print(f"{facts['exact']}/{facts['pairs']} pairs graded as labelled ({facts['agreement']:.1%}); "
          f"labelled major graded below review: {facts['major_below_review']}; labelled editorial graded above: {facts['editorial_above']}")
    print(matrix(outcomes))
    for o in outcomes:
        if args.verbose or o.label != o.grade:
            print(f"{o.pair}: label {o.label}, graded {o.grade} ({o.rule[:200]})")
    print(f"CPU time: {spent:.1f} s for {len(outcomes)} pairs")


if __name__ == "__main__":
    main()
