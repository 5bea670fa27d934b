"""Benchmark: what policygen's PDF fixes cost, per locale.

Usage: .venv/bin/python bench/pdf.py [--runs N] [--interleaved LOCALE] [PROJECT]

For the privacy policy of the sample project in en, nl and km, renders the PDF twice, each in
a fresh process: once as policygen does (text-layer hooks, reproducible fonts, strict
warnings) and once with plain WeasyPrint on the same HTML, made before the clock starts. Prints
the CPU time per page of layout and writing (median of N runs; the process's CPU time, steadier
than the wall clock on a shared machine, which is printed beside it as a ratio), the peak memory
of the process (RSS), the file sizes, and then, per locale, the text scores of each reader's
engine side by side (ours and plain WeasyPrint): clauses found exactly, and how many of the 30
most frequent Khmer words a search finds as often as the page has them (tests/pdf_engines.py
does the extraction and matching).

After them, the size of every Khmer PDF policygen makes, with and without its text layer
(``pdf_text.disabled()``, plain WeasyPrint's text): the privacy and cookie policies, the starter
project's policy, and the privacy policy's redline against its release 2.1 (``policygen diff
tonle-privacy@2.1 . --pdf``), so that the size goal is checked on more than one document.

``--interleaved LOCALE`` measures the text layer's own cost instead, steadier on a loaded machine:
one process renders the page N times each way in turn (plain WeasyPrint, policygen with its text
layer disabled, policygen), after one render each to warm up, and prints the median CPU seconds
and their ratios. Plain WeasyPrint loads its fonts again for every render, which policygen does
once per process, so "policygen / without the layer" is the layer's cost.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def worker(mode: str, locale: str, project: Path, runs: int) -> None:
    from policygen.i18n.prepare import prepare
    from policygen.render import pdf as pdf_module
    from policygen.render.pdf import BASE_URL, _fetcher, pdf_html, render_pdf

    loaded, localized = prepare(project, ["tonle-privacy"], [locale])
    item = localized[0]
    # The same HTML for both modes, made before the clock starts (U+200B included): what is
    # timed is WeasyPrint's layout and writing, with and without policygen's hooks.
    html = pdf_html(loaded, item)
    pdf_module.pdf_html = lambda _project, _localized: html  # type: ignore[assignment]
    times, cpu, pages = [], [], 0
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        if mode == "policygen":
            data = render_pdf(loaded, item)
        else:
            import weasyprint

            document = weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=_fetcher(loaded)).render()
            data = document.write_pdf(pdf_variant="pdf/ua-1")
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    import io

    from pypdf import PdfReader

    pages = len(PdfReader(io.BytesIO(data)).pages)
    (Path("/tmp") / f"policygen-bench-{mode}-{locale}.pdf").write_bytes(data)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": statistics.median(times), "cpu": statistics.median(cpu), "pages": pages, "peak_mb": peak, "bytes": len(data)}))


def interleaved(locale: str, project: Path, runs: int) -> None:
    import weasyprint

    from policygen.i18n.prepare import prepare
    from policygen.render import pdf as pdf_module
    from policygen.render import pdf_text
    from policygen.render.pdf import BASE_URL, _fetcher, pdf_html, render_pdf

    loaded, localized = prepare(project, ["tonle-privacy"], [locale])
    item = localized[0]
    html = pdf_html(loaded, item)
    pdf_module.pdf_html = lambda _project, _localized: html  # type: ignore[assignment]

    def plain() -> bytes:
        return weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=_fetcher(loaded)).render().write_pdf(pdf_variant="pdf/ua-1")

    def without_layer() -> bytes:
        with pdf_text.disabled():
            return render_pdf(loaded, item)

    modes = {"plain WeasyPrint": plain, "policygen without the layer": without_layer, "policygen": lambda: render_pdf(loaded, item)}
    sizes = {name: len(render()) for name, render in modes.items()}
    cpu: dict[str, list[float]] = {name: [] for name in modes}
    for _ in range(runs):
        for name, render in modes.items():
            start = time.process_time()
            render()
            cpu[name].append(time.process_time() - start)
    median = {name: statistics.median(times) for name, times in cpu.items()}
    print(f"tonle-privacy {locale}, {runs} renders each way in turn in one process (median CPU s, bytes)")
    for name in modes:
        print(f"{name:<28} {median[name]:6.2f} s  {sizes[name]:>9,} bytes")
    print(f"policygen / plain WeasyPrint: CPU {median['policygen'] / median['plain WeasyPrint']:.3f}, "
          f"size {sizes['policygen'] / sizes['plain WeasyPrint']:.3f}; "
          f"policygen / without the layer: CPU {median['policygen'] / median['policygen without the layer']:.3f}")


def khmer_sizes(project: Path) -> None:
    """Print the bytes of each Khmer PDF with and without the text layer, and their ratio."""
    import shutil
    import tempfile

    from policygen import api
    from policygen.i18n.prepare import prepare
    from policygen.render import pdf_text
    from policygen.render.pdf import render_pdf

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        starter = Path(folder) / "starter"
        shutil.copytree(ROOT / "policygen" / "data" / "starter", starter)
        for name, root, policy in (("tonle-privacy", project, "tonle-privacy"), ("tonle-cookies", project, "tonle-cookies"),
                                   ("starter example-privacy", starter, "example-privacy")):
            loaded, localized = prepare(root, [policy], ["km"])
            ours = render_pdf(loaded, localized[0])
            with pdf_text.disabled():
                plain = render_pdf(loaded, localized[0])
            rows.append((name, len(plain), len(ours)))

        def redline(output: Path) -> int:
            api.diff("tonle-privacy@2.1", str(project), project, ["tonle-privacy"], output, pdf=True)
            return (output / "tonle-privacy" / "redline.km.pdf").stat().st_size

        ours_redline = redline(Path(folder) / "ours")
        with pdf_text.disabled():
            rows.append(("tonle-privacy redline 2.1", redline(Path(folder) / "plain"), ours_redline))
    print("\nEvery Khmer PDF, with and without policygen's text layer (size goal: at most +30 %)")
    print(f"| {'document':<26} | {'without (bytes)':>15} | {'with (bytes)':>12} | {'size':>7} |")
    print(f"| {'-' * 26} | {'-' * 14}:| {'-' * 11}:| {'-' * 6}:|")
    for name, plain_bytes, our_bytes in rows:
        print(f"| {name:<26} | {plain_bytes:>15,} | {our_bytes:>12,} | {our_bytes / plain_bytes - 1:>+7.2%} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", nargs="?", type=Path, default=ROOT)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--worker", nargs=2, metavar=("MODE", "LOCALE"), help=argparse.SUPPRESS)
    parser.add_argument("--interleaved", metavar="LOCALE", help="the text layer's own cost, in one process (see above)")
    args = parser.parse_args()
    if args.interleaved:
        interleaved(args.interleaved, args.project, args.runs)
        return
    if args.worker:
        worker(args.worker[0], args.worker[1], args.project, args.runs)
        return
    if args.sizes:
        khmer_sizes(args.project)
        return
    print(f"tonle-privacy, median of {args.runs} renders (layout + write of the same HTML), each mode in a fresh process; "
          "CPU time of the process (steadier than the wall clock on a shared machine) and wall time")
    print(f"| {'locale':<6} | {'pages':>5} | {'plain CPU ms/page':>17} | {'policygen CPU ms/page':>21} | {'CPU':>6} | {'wall':>6} | "
          f"{'plain MB':>8} | {'policygen MB':>12} | {'plain KB':>8} | {'policygen KB':>12} | {'size':>5} |")
    print(f"| {'-' * 6} | {'-' * 5}:| {'-' * 17}:| {'-' * 21}:| {'-' * 6}:| {'-' * 6}:| {'-' * 8}:| {'-' * 12}:| {'-' * 8}:| {'-' * 12}:| {'-' * 5}:|")
    for locale in ("en", "nl", "km"):
        result = {}
        for mode in ("plain", "policygen"):
            out = subprocess.run([sys.executable, __file__, str(args.project), "--runs", str(args.runs), "--worker", mode, locale],
                                 capture_output=True, text=True, check=True).stdout
            result[mode] = json.loads(out.strip().splitlines()[-1])
        plain, ours = result["plain"], result["policygen"]
        per_plain = plain["cpu"] / plain["pages"] * 1000
        per_ours = ours["cpu"] / ours["pages"] * 1000
        wall = (ours["seconds"] / ours["pages"]) / (plain["seconds"] / plain["pages"]) - 1
        print(f"| {locale:<6} | {ours['pages']:>5} | {per_plain:>17.0f} | {per_ours:>21.0f} | {per_ours / per_plain - 1:>+6.0%} | {wall:>+6.0%} | "
            f"{plain['peak_mb']:>8.0f} | {ours['peak_mb']:>12.0f} | {plain['bytes'] / 1024:>8.0f} | {ours['bytes'] / 1024:>12.0f} | "
            f"{ours['bytes'] / plain['bytes'] - 1:>+5.1%} |")
    text_scores(args.project)
    # In a process of its own, like the renders above.
    print(subprocess.run([sys.executable, __file__, str(args.project), "--sizes"], capture_output=True, text=True, check=True).stdout, end="")


def text_scores(project: Path) -> None:
    """Per engine and locale: clauses read exactly and frequent Khmer words counted right,
    plain WeasyPrint against policygen, on the PDFs the workers just wrote."""
    sys.path.insert(0, str(ROOT / "tests"))
    import pdf_engines

    pages = {(mode, locale): pdf_engines.Page(project, "tonle-privacy", locale, Path("/tmp") / f"policygen-bench-{mode}-{locale}.pdf")
             for mode in ("plain", "policygen") for locale in ("en", "nl", "km")}
    texts = pdf_engines.extract_all([page.pdf for page in pages.values()])
    clauses = {locale: len(pages["policygen", locale].clauses) for locale in ("en", "nl", "km")}
    print(f"\ntonle-privacy, text as each engine reads it: clauses found exactly (of {clauses['en']}, {clauses['nl']}, {clauses['km']}), "
          "and of the 30 most frequent Khmer words, those a search finds as often as the page has them")
    header = " | ".join(f"{f'{locale} {mode}':>13}" for locale in ("en", "nl", "km") for mode in ("plain", "ours"))
    print(f"| {'engine':<13} | {header} | {'km words plain':>14} | {'km words ours':>13} |")
    print(f"| {'-' * 13} |" + "".join(f"{'-' * 14}:|" for _ in range(6)) + f"{'-' * 15}:|{'-' * 14}:|")
    for engine, by_path in texts.items():
        cells = []
        for locale in ("en", "nl", "km"):
            for mode in ("plain", "policygen"):
                page = pages[mode, locale]
                cells.append(f"{len(page.clauses) - len(page.missing(by_path[page.pdf])):>13}")
        words = [30 - len(pages[mode, "km"].miscounted(by_path[pages[mode, "km"].pdf])) for mode in ("plain", "policygen")]
        print(f"| {engine:<13} | {' | '.join(cells)} | {words[0]:>14} | {words[1]:>13} |")


if __name__ == "__main__":
    main()
