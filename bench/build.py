"""Benchmark: how long each stage of a build takes on the sample project.

Usage: .venv/bin/python bench/build.py [--runs N] [PROJECT]

Prints one table: the median wall time of each stage over N runs, for the whole project
(2 policies x 3 locales in the sample). Nothing is written to the project's output folder.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from policygen.build import build
from policygen.errors import Collector
from policygen.i18n.catalogs import load_translations
from policygen.i18n.localize import localize
from policygen.render.html import render_policy
from policygen.source.load import load_project

ROOT = Path(__file__).resolve().parent.parent


def timed(func):
    start = time.perf_counter()
    value = func()
    return value, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", nargs="?", type=Path, default=ROOT)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    rows: dict[str, list[float]] = {"load sources": [], "read catalogs": [], "localize": [], "render HTML": [], "full build (cold "
        "output)": [], "rebuild (nothing changed)": []}
    pages = 0
    for _ in range(args.runs):
        project, t = timed(lambda: load_project(args.project))
        rows["load sources"].append(t)
        errors = Collector()
        translations, t = timed(lambda: load_translations(project, None, errors))
        rows["read catalogs"].append(t)
        localized, t = timed(lambda: [localize(project, p, loc, translations, errors) for p in project.policies.values() for loc in p.locales])
        rows["localize"].append(t)
        _, t = timed(lambda: [render_policy(project, item) for item in localized])
        rows["render HTML"].append(t)
        pages = len(localized)
        with tempfile.TemporaryDirectory() as tmp:
            _, t = timed(lambda: build(args.project, output_dir=Path(tmp), formats=["html"]))
            rows["full build (cold output)"].append(t)
            _, t = timed(lambda: build(args.project, output_dir=Path(tmp), formats=["html"]))
            rows["rebuild (nothing changed)"].append(t)
    words = sum(len(p.prose_path.read_text(encoding="utf-8").split()) for p in project.policies.values())
    print(f"project: {args.project.name} ({len(project.policies)} policies, {pages} pages, {words} source words), median of {args.runs} runs")
    print(f"| {'stage':<28} | {'median ms':>9} | {'per page ms':>11} |")
    print(f"| {'-' * 28} | {'-' * 9}:| {'-' * 11}:|")
    for name, values in rows.items():
        median = statistics.median(values) * 1000
        print(f"| {name:<28} | {median:>9.1f} | {median / pages:>11.1f} |")


if __name__ == "__main__":
    main()
