"""Benchmark: the goals of issue 13, measured side by side in one run, as ratios.

Usage: .venv/bin/python bench/goals.py [--runs N] [--skip-100]

Works on a private copy of the sample project (the repository root). Every case runs in a fresh
process (``python -m policygen ...`` or a small script), timed as whole-process CPU (user + system,
the PDF worker processes included) and wall time; the median of N runs is kept. The processes run
with bytecode, as an installed policygen does: the package is compiled first, and
``PYTHONDONTWRITEBYTECODE`` is left out of their environment (with it, each process compiled
every module of policygen from source again, about 0.4 s more CPU each). Then it prints
one table: each ratio, the goal beside it, and whether it is met. Measure on an idle machine:
with other work on the cores, wall times and the --jobs speed-up mean little.

Cases: a cold build (no cache) and plain WeasyPrint rendering the same PDF pages in one process;
a no-op rebuild; a rebuild after one clause of one English policy changed; a cold build with
--jobs 2 and --jobs 1; the Khmer PDF alone, against plain WeasyPrint and (when ``chromium`` is
installed) Chromium's print-to-PDF of the same HTML; ``policygen check`` of the unchanged sample
(answered from the record of the last check that passed) and ``check --no-cache`` (a fresh check);
and an HTML-only build of 20 and 100 policies (the cost per page beyond start-up).
"""

from __future__ import annotations

import argparse
import compileall
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT_PARTS = ("policygen.yaml", "glossary.yaml", "rules.yaml", "sources", "locales", "theme", "archive")

PLAIN = """
import sys, weasyprint
from pathlib import Path
from policygen.i18n.prepare import prepare
from policygen.render.pdf import BASE_URL, _fetcher, pdf_html
project, localized = prepare(Path(sys.argv[1]), None, sys.argv[2:] or None, allow_incomplete=True)
for item in localized:
    html = pdf_html(project, item)
    weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=_fetcher(project)).render().write_pdf(pdf_variant="pdf/ua-1")
"""

HTML_FOR_CHROMIUM = """
import sys
from pathlib import Path
from policygen.i18n.prepare import prepare
from policygen.render.pdf import pdf_html
project, localized = prepare(Path(sys.argv[1]), ["tonle-privacy"], ["km"], allow_incomplete=True)
Path(sys.argv[2]).write_text(pdf_html(project, localized[0]), encoding="utf-8")
"""


def copy_project(dest: Path) -> Path:
    dest.mkdir(parents=True)
    for name in PROJECT_PARTS:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, dest / name)
        elif path.is_file():
            shutil.copyfile(path, dest / name)
    return dest


ENVIRONMENT = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
"""The environment of every measured process: with bytecode, as an installed policygen runs."""


def measure(command: list[str], cwd: Path, prepare: Callable[[], None] | None = None, runs: int = 1) -> tuple[float, float]:
    """Median (CPU seconds, wall seconds) of ``command``, its child processes included."""
    cpu, wall = [], []
    for _ in range(runs):
        if prepare is not None:
            prepare()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=ENVIRONMENT)
        wall.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(cpu), statistics.median(wall)


def measure_alternately(cases: list[tuple[list[str], Callable[[], None] | None]], cwd: Path, runs: int = 1) -> list[tuple[float, float]]:
    """:func:`measure` of each (command, prepare) in ``cases``, the commands taking turns, one run
    each a round: a ratio of two of them is then measured under the same load (on a shared
    machine, what else runs changes from minute to minute, and N runs of one command followed by
    N of the other measured them under different loads)."""
    cpu: list[list[float]] = [[] for _ in cases]
    wall: list[list[float]] = [[] for _ in cases]
    for _ in range(runs):
        for number, (command, prepare) in enumerate(cases):
            one_cpu, one_wall = measure(command, cwd, prepare, 1)
            cpu[number].append(one_cpu)
            wall[number].append(one_wall)
    return [(statistics.median(c), statistics.median(w)) for c, w in zip(cpu, wall, strict=True)]


def policygen(*args: str) -> list[str]:
    return [sys.executable, "-m", "policygen", *args]


def many_policies(base: Path, dest: Path, count: int) -> Path:
    """A project with ``count`` copies of the sample's privacy policy, English only."""
    project = dest
    project.mkdir(parents=True)
    shutil.copyfile(base / "policygen.yaml", project / "policygen.yaml")
    shutil.copyfile(base / "glossary.yaml", project / "glossary.yaml")
    for number in range(count):
        folder = project / "sources" / f"p{number:03d}"
        shutil.copytree(base / "sources" / "tonle-privacy", folder)
        facts = folder / "policy.yaml"
        facts.write_text(re.sub(r"(?m)^locales: .*$", "locales: [en]", facts.read_text(encoding="utf-8")), encoding="utf-8")
    (project / "locales").mkdir()
    return project


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="runs per case (the median is kept)")
    parser.add_argument("--skip-100", action="store_true", help="leave out the 20- and 100-policy HTML builds")
    args = parser.parse_args()
    runs = args.runs
    # An installed package has its bytecode; a checkout may not have it yet (or have it stale).
    compileall.compile_dir(ROOT / "policygen", quiet=1)
    rows: list[tuple[str, str, str, bool | None]] = []
    with tempfile.TemporaryDirectory(prefix="policygen-bench-") as tmp:
        work = Path(tmp)
        sample = copy_project(work / "sample")
        out = work / "out"

        def fresh() -> None:
            shutil.rmtree(out, ignore_errors=True)
            shutil.rmtree(sample / ".policygen" / "cache", ignore_errors=True)

        build = policygen("build", "-C", str(sample), "--output", str(out), "-q", "--allow-incomplete")
        (cold_cpu, cold_wall), (plain_cpu, _) = measure_alternately([([*build, "--no-cache"], fresh),
                                                                     ([sys.executable, "-c", PLAIN, str(sample)], None)], work, runs)
        rows.append(("cold build / plain WeasyPrint, same PDFs (CPU)", f"{cold_cpu:.1f} s / {plain_cpu:.1f} s = {cold_cpu / plain_cpu:.2f}",
                     "<= 1.15", cold_cpu / plain_cpu <= 1.15))

        measure(build, work, fresh, 1)  # fills the cache
        noop_cpu, noop_wall = measure(build, work, None, runs)
        rows.append(("no-op rebuild / cold build (CPU)", f"{noop_cpu:.2f} s / {cold_cpu:.1f} s = {noop_cpu / cold_cpu:.3f}",
                     "<= 0.05, under 1 s", noop_cpu / cold_cpu <= 0.05 and noop_wall < 1))

        prose = sample / "sources" / "tonle-privacy" / "policy.md"
        original = prose.read_text(encoding="utf-8")
        edits = iter(range(1_000_000))

        def edit_clause() -> None:
            prose.write_text(original.replace("We ", f"We ({next(edits)}) ", 1), encoding="utf-8")

        edit_cpu, _ = measure([*build], work, edit_clause, runs)
        edit_clause()
        summary = subprocess.run(policygen("build", "-C", str(sample), "--output", str(out), "--allow-incomplete"), cwd=work,
                                 capture_output=True, text=True).stdout
        prose.write_text(original, encoding="utf-8")
        rows.append(("one clause edited / cold build (CPU)", f"{edit_cpu:.1f} s / {cold_cpu:.1f} s = {edit_cpu / cold_cpu:.2f}",
                     "that policy's PDFs only", None))
        rows.append(("  what the edit re-rendered", summary.strip().split(": ", 1)[-1][:90], "", None))

        _, jobs1_wall = measure([*build, "--no-cache", "--jobs", "1"], work, fresh, runs)
        _, jobs2_wall = measure([*build, "--no-cache", "--jobs", "2"], work, fresh, runs)
        rows.append(("--jobs 2 speed-up over --jobs 1 (wall)", f"{jobs1_wall:.1f} s / {jobs2_wall:.1f} s = {jobs1_wall / jobs2_wall:.2f}x",
                     ">= 1.7x (idle machine)", jobs1_wall / jobs2_wall >= 1.7))

        km = [*policygen("build", "-C", str(sample), "--output", str(out), "-q", "--allow-incomplete", "--no-cache", "--jobs", "1",
                         "--format", "pdf", "-p", "tonle-privacy", "-l", "km")]
        plain_km = [sys.executable, "-c", PLAIN.replace("None, sys.argv[2:]", "['tonle-privacy'], sys.argv[2:]"), str(sample), "km"]
        (km_cpu, _), (plain_km_cpu, _) = measure_alternately([(km, fresh), (plain_km, None)], work, runs)
        rows.append(("km PDF / plain WeasyPrint, same page (CPU)", f"{km_cpu:.1f} s / {plain_km_cpu:.1f} s = {km_cpu / plain_km_cpu:.2f}",
                     "<= 1.25", km_cpu / plain_km_cpu <= 1.25))
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        if chromium:
            page = work / "km.html"
            subprocess.run([sys.executable, "-c", HTML_FOR_CHROMIUM, str(sample), str(page)], check=True, cwd=work)
            chrome_cpu, _ = measure([chromium, "--headless", "--disable-gpu", "--no-sandbox", f"--print-to-pdf={work / 'km.pdf'}", page.as_uri()],
                                    work, None, runs)
            rows.append(("km PDF / Chromium print-to-PDF (CPU)", f"{km_cpu:.1f} s / {chrome_cpu:.1f} s = {km_cpu / chrome_cpu:.2f}", "an anchor", None))
        else:
            rows.append(("km PDF / Chromium print-to-PDF (CPU)", "chromium is not installed", "an anchor", None))

        check = policygen("check", "-C", str(sample))
        measure(check, work, None, 1)  # records the check
        check_cpu, _ = measure(check, work, None, max(runs, 3))
        rows.append(("policygen check, sample unchanged (CPU)", f"{check_cpu:.2f} s (answered from the record of the last check)", "<= 0.5 s",
                     check_cpu <= 0.5))
        fresh_cpu, _ = measure([*check, "--no-cache"], work, None, max(runs, 3))
        rows.append(("policygen check --no-cache (CPU)", f"{fresh_cpu:.2f} s (a fresh check: load, localize, render)", "<= 0.5 s", fresh_cpu <= 0.5))

        if not args.skip_100:
            times = {}
            for count in (20, 100):
                project = many_policies(sample, work / f"p{count}", count)
                html = policygen("build", "-C", str(project), "--output", str(work / f"out{count}"), "--format", "html", "-q")
                times[count], _ = measure(html, work, lambda c=count: shutil.rmtree(work / f"out{c}", ignore_errors=True), runs)
            per_page = (times[100] - times[20]) / 80
            rows.append(("100 policies, HTML only (CPU)", f"{times[100]:.1f} s (20: {times[20]:.1f} s); {per_page * 1000:.0f} ms per page beyond",
                         "<= 0.05 s per page", per_page <= 0.05))

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"policygen bench/goals.py: median of {runs} run(s); load average {load:.1f} on {os.cpu_count()} cores "
          "(above ~0.5, wall times and the --jobs ratio are not those of an idle machine); processes run with bytecode "
          "(policygen compiled first, PYTHONDONTWRITEBYTECODE unset), as an installed policygen does")
    width = max(len(r[0]) for r in rows)
    print(f"| {'what':<{width}} | {'measured':<58} | {'goal':<24} | met |")
    print(f"| {'-' * width} | {'-' * 58} | {'-' * 24} | --- |")
    for name, measured, goal, met in rows:
        print(f"| {name:<{width}} | {measured:<58} | {goal:<24} | {'-' if met is None else 'yes' if met else 'no'} |")


if __name__ == "__main__":
    main()
