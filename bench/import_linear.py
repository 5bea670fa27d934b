"""Benchmark: import time grows linearly with the input, on the inputs that once made it quadratic.

Usage: .venv/bin/python bench/import_linear.py [--scale S] [--runs N]

For each input of :data:`INPUTS` (issue 16's sweep: a 40,000-character word, 30 KB of ``<a ``, a
list nested 3,000 deep, ``<![`` markup, 20,000 ``a@``, 20,000 list items), imports it at size
S/4 and at size S (S=1 is the size the sweep found) and prints the CPU seconds of each (the
fastest of N runs) and their ratio. Linear work gives a ratio near 4, quadratic work near 16;
the exit status is 1 when a ratio is above 8. Timing lives here and not in the tests:
``tests/test_import.py::test_import_is_linear`` counts the work of the same inputs instead.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from policygen.importers.project import import_policy

INPUTS: dict[str, Callable[[float], str]] = {
    "word.txt": lambda s: "Privacy\n\n" + "a" * int(40_000 * s) + "\n",
    "tags.html": lambda s: "<html><body><h1>T</h1><p>x" + "<a " * int(10_000 * s),
    "deep.html": lambda s: "<html><body><h1>T</h1>" + "<ul><li>x" * int(3_000 * s) + "</li></ul>" * int(3_000 * s),
    "marked.html": lambda s: "<p><![<![<![" * int(2_000 * s),
    "emails.txt": lambda s: "Privacy\n\n" + "a@" * int(20_000 * s) + "\n",
    "items.txt": lambda s: "Privacy\n\nWe collect:\n" + "- an item of data\n" * int(20_000 * s),
}
"""File name -> its text at a scale (1 = the size issue 16's sweep found quadratic: 10 s for the
word, 31 s for the tags, 3.4 s for the 57 KB nested list)."""

LINEAR = 4.0
LIMIT = 8.0
"""A ratio above this between sizes S and S/4 is not linear (linear ~4, quadratic ~16)."""


def project(folder: Path) -> Path:
    """An empty project to import into."""
    root = folder / "proj"
    root.mkdir(parents=True, exist_ok=True)
    (root / "policygen.yaml").write_text("site:\n  title: T\nlocales: [en]\n", encoding="utf-8")
    return root


def import_once(root: Path, name: str, text: str) -> None:
    """Import ``text`` as the file ``name`` into the project ``root`` (replacing an earlier import)."""
    source = root.parent / name
    source.write_text(text, encoding="utf-8")
    import_policy(root, source, "fast", "en", today=date(2026, 1, 2), force=True)


def cpu(root: Path, name: str, text: str, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.process_time()
        import_once(root, name, text)
        best = min(best, time.process_time() - start)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    failed = False
    with tempfile.TemporaryDirectory() as folder:
        root = project(Path(folder))
        import_once(root, "warm.txt", "Privacy\n\nWe keep your data for 5 days.\n")
        print(f"{'input':12} {'CPU s at S/4':>12} {'CPU s at S':>11} {'ratio':>6}")
        for name, make in INPUTS.items():
            small = cpu(root, name, make(args.scale / 4), args.runs)
            large = cpu(root, name, make(args.scale), args.runs)
            ratio = large / max(small, 1e-3)
            failed |= ratio > LIMIT
            print(f"{name:12} {small:12.3f} {large:11.3f} {ratio:6.1f}{'  NOT LINEAR' if ratio > LIMIT else ''}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
