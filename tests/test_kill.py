"""kill -9 at random moments: 30 builds and 20 releases, each followed by a check that the
output matches its manifest.json, ``archive verify``, and a clean next run.

Half of the kills land at a random time within the run (measured on the clean run before it);
the other half wait until the run starts writing (its staging folder appears) and strike a few
milliseconds later, so the write phase, the swap and the clean-up are hit, not only rendering.
Most builds are HTML-only builds of the small ``mini`` project; a few render PDFs in two worker
processes, which must die with their build. The seed is fixed, so a failure can be replayed.
Each run is a fork of a process that has imported policygen (:class:`Warm`), so that the kills
strike the runs' work rather than the interpreter's start.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from conftest import MINI, copy_project
from test_archive import placeholder_pdf, placeholder_redline_pdf
from test_build_safety import manifest_problems

from policygen import api
from policygen.atomic import work_dir

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="kill -9 and process groups are POSIX")

SEED = 1616
BUILD_CHUNKS, BUILDS_PER_CHUNK = 3, 10
RELEASE_CHUNKS, RELEASES_PER_CHUNK = 2, 10


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mini project, published in one locale (one PDF per release), with a first release."""
    root = copy_project(MINI, tmp_path_factory.mktemp("kill") / "mini")
    facts = root / "sources" / "mini" / "policy.yaml"
    facts.write_text(facts.read_text(encoding="utf-8").replace("locales: [en, nl]", "locales: [en]"), encoding="utf-8")
    api.release(root, "mini", "1.0", date(2026, 5, 5))
    return root


def _copy(released: Path, tmp_path: Path) -> Path:
    import shutil

    shutil.copytree(released, tmp_path / "mini", symlinks=True)
    return tmp_path / "mini"


WARM = r"""
import json, os, sys
import weasyprint  # noqa: F401  (a PDF build's import, made once here)
from policygen import api, build, cli  # noqa: F401
from policygen.archive import release  # noqa: F401
for line in sys.stdin:
    cwd, args = json.loads(line)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.setsid()
            os.chdir(cwd)
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            sys.argv = ["policygen", *args]
            cli.run()
            code = 0
        except SystemExit as end:
            code = end.code if isinstance(end.code, int) else 1
        finally:
            os._exit(code)
    print(pid, flush=True)
    print(os.waitpid(pid, 0)[1], flush=True)
"""


class Warm:
    """Runs ``policygen ARGS`` as ``python -m policygen`` would, in a fork of a process that has
    already imported policygen (and WeasyPrint): each run is its own process and session, as a
    command's is, without a second of interpreter start and imports per run, so the random kill
    times fall in the run's own work. (tests/test_build_safety.py kills real ``python -m
    policygen`` processes.)"""

    def __init__(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", WARM], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def start(self, args: list[str], cwd: Path) -> int:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps([str(cwd), args]) + "\n")
        self.process.stdin.flush()
        return int(self.process.stdout.readline())

    def wait(self) -> int:
        """The wait status of the run started last, once it has ended."""
        assert self.process.stdout
        return int(self.process.stdout.readline())

    def close(self) -> None:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.close()
        assert self.process.wait(timeout=60) == 0
        self.process.stdout.close()


@pytest.fixture(scope="module")
def warm() -> Iterator[Warm]:
    runner = Warm()
    yield runner
    runner.close()


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _kill(warm: Warm, args: list[str], cwd: Path, rng: random.Random, budget: float, staging: object) -> float:
    """Start ``policygen ARGS``, kill -9 it (the main process only) at a random moment, wait for
    its process group to be gone; returns when it was killed, in seconds after the start."""
    start = time.monotonic()
    pid = warm.start(args, cwd)
    if rng.random() < 0.5:
        time.sleep(rng.uniform(0, budget))
    else:
        while _running(pid) and not staging():  # type: ignore[operator]
            time.sleep(0.001)
        time.sleep(rng.uniform(0, 0.03))
    when = time.monotonic() - start
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    warm.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return when
        time.sleep(0.02)
    os.killpg(pid, signal.SIGKILL)
    raise AssertionError("processes of the killed run outlived it (orphaned PDF workers)")


def _title(out: Path) -> str:
    """The site title the current pages of ``out`` show (archived copies keep theirs); fails if
    two pages show different ones (a mixed output)."""
    pages = [out / "index.html", *out.glob("mini/*/index.html")]
    titles = {m.group(0) for page in pages for m in re.finditer(r"Mini test site[ 0-9.]*\b", page.read_text(encoding="utf-8"))}
    assert len(titles) == 1, f"pages of two builds in one output: {sorted(titles)}"
    return titles.pop().strip()


@pytest.mark.parametrize("chunk", range(BUILD_CHUNKS))
def test_kill_build(released: Path, warm: Warm, tmp_path: Path, chunk: int) -> None:
    rng = random.Random(SEED + chunk)
    root = _copy(released, tmp_path)
    out = root / "output"
    config = root / "policygen.yaml"
    base = config.read_text(encoding="utf-8")
    began = time.monotonic()
    api.build(root, formats=["html"])
    budget = time.monotonic() - began + 0.1  # the run also reads its arguments and the project
    for run in range(BUILDS_PER_CHUNK):
        with_pdf = run == 0  # 3 of the 30 render PDFs in worker processes
        before = _title(out)
        config.write_text(base.replace("Mini test site", f"Mini test site {chunk}.{run}"), encoding="utf-8")
        formats = "html,pdf" if with_pdf else "html"
        args = ["build", "-C", str(root), "--format", formats, "--jobs", "2", "-q"]
        _kill(warm, args, root, rng, budget * (4 if with_pdf else 1), lambda: (work_dir(out) / "new").exists())
        # The output is the old one or the new one, whole, and agrees with its manifest.
        assert manifest_problems(out) == [], f"kill {chunk}.{run}"
        assert _title(out) in (before, f"Mini test site {chunk}.{run}")
        assert [p for p in out.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".")] == []
        api.archive_verify(root)
        # The next run recovers: the stale lock does not block it, and nothing is left beside the output.
        result = api.build(root, formats=formats.split(","), jobs=1)
        assert result.output_dir == out.resolve()
        assert manifest_problems(out) == []
        assert _title(out) == f"Mini test site {chunk}.{run}"
        assert sorted(p.name for p in work_dir(out).iterdir()) == ["lock"]


@pytest.mark.parametrize("chunk", range(RELEASE_CHUNKS))
def test_kill_release(released: Path, warm: Warm, tmp_path: Path, chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # A release the kill stopped is made again here, in-process, with placeholder PDFs (as
    # test_archive's placeholder_pdfs): the killed runs render real ones.
    monkeypatch.setattr("policygen.archive.release.render_pdf", placeholder_pdf)
    monkeypatch.setattr("policygen.archive.release.redline_pdf", placeholder_redline_pdf)
    rng = random.Random(SEED * 7 + chunk)
    root = _copy(released, tmp_path)
    facts = root / "sources" / "mini" / "policy.yaml"
    folder = root / "archive" / "mini"
    budget = 3.0
    for run in range(RELEASES_PER_CHUNK):
        version = f"1.{run + 1}"
        text = facts.read_text(encoding="utf-8")
        facts.write_text(re.sub(r'(?m)^version: .*$', f'version: "{version}"', text), encoding="utf-8")
        before = {r.version for r in api.archive_list(root, "mini")}
        began = time.monotonic()
        _kill(warm, ["release", "mini", "--version", version, "--effective", "2026-05-05", "-C", str(root)], root, rng, budget,
              lambda: any(folder.glob(".release-*")))
        # The archive verifies, and the release is either all there or not there at all.
        verified = api.archive_verify(root)
        after = {r.version for r in verified.releases}
        assert after in (before, before | {version}), f"kill {chunk}.{run}"
        if version not in after:
            api.release(root, "mini", version, date(2026, 5, 5))
            budget = max(budget, time.monotonic() - began)
        assert version in {r.version for r in api.archive_verify(root).releases}
        assert [p.name for p in folder.iterdir() if p.name.startswith(".release-")] == []
