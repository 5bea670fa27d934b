"""Shared fixtures. Every test fails if anything logged a warning (a missing glyph, a blocked
fetch, a Babel fallback): noise is a failure, as in WeasyPrint's own ``assert_no_logs``."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from policygen.cli import app

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
GOLDEN = ROOT / "tests" / "golden"
SAMPLE = ROOT
"""The repository root is itself the sample project (a fictional money-transfer company)."""
PROJECT_PARTS = ("policygen.yaml", "glossary.yaml", "rules.yaml", "sources", "locales", "theme", "archive")
"""What a policygen project is made of; the rest of the repository (code, tests, docs) is not."""
MINI = FIXTURES / "projects" / "mini"


@pytest.fixture(autouse=True)
def fail_on_logged_warnings(caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.WARNING)
    yield
    noisy = [r for when in ("setup", "call") for r in caplog.get_records(when) if r.levelno >= logging.WARNING]
    if noisy:
        pytest.fail("logged during the test: " + "; ".join(f"{r.name}: {r.getMessage()}" for r in noisy))


def copy_project(source: Path, dest: Path, archive: bool = True) -> Path:
    """A private copy of a project: its own files only, without build output (the archive's
    own output folders are part of the archive and are copied). Without ``archive``, the copy
    has no releases, so its sources are the current version (the state before a first release):
    what tests of rendering from the sources need, since a project with releases shows the
    release in force and its sources only as a draft."""
    ignore = shutil.ignore_patterns("__pycache__", ".lock")
    dest.mkdir(parents=True)
    for name in PROJECT_PARTS if archive else [n for n in PROJECT_PARTS if n != "archive"]:
        path = source / name
        if path.is_dir():
            shutil.copytree(path, dest / name, ignore=ignore)
        elif path.is_file():
            shutil.copyfile(path, dest / name)
    return dest


def build_once(tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], None]) -> Path:
    """A folder that ``make`` fills, made once per test run and shared by every test (and every
    pytest-xdist worker) that asks for ``name``: a file lock lets the first worker make it while
    the others wait. Tests must treat it as read-only; a test that changes it works on a copy
    (:func:`private_copy`)."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the run's folder, shared by its workers (each has its own below it)
    done = base / f"{name}.done"
    with (base / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            staging = base / f"{name}.partial-{os.getpid()}"
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir()
            with _warnings_are_errors(name):
                make(staging)
            staging.rename(base / name)
            done.touch()
    return base / name


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.contextmanager
def _warnings_are_errors(name: str) -> Iterator[None]:
    """What ``fail_on_logged_warnings`` does for a test, for a shared folder's making (which
    runs outside any one test's log capture)."""
    root = logging.getLogger()
    handler, level = _Records(), root.level
    root.addHandler(handler)
    if level > logging.WARNING:
        root.setLevel(logging.WARNING)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    if handler.records:
        pytest.fail(f"logged while making {name}: " + "; ".join(f"{r.name}: {r.getMessage()}" for r in handler.records))


def private_copy(shared: Path, dest: Path) -> Path:
    """A test's own copy of a folder made by :func:`build_once`."""
    shutil.copytree(shared, dest, symlinks=True)
    return dest


class Result:
    def __init__(self, exit_code: int, stdout: str, stderr: str, exception: BaseException | None):
        self.exit_code, self.stdout, self.stderr, self.exception = exit_code, stdout, stderr, exception


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run the CLI in-process: ``cli("build", cwd=path)``."""
    runner = CliRunner()

    def run(*args: str, cwd: Path | None = None) -> Result:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        if args and args[0] == "build" and "--format" not in args:
            # A PDF takes a second or two; tests build HTML unless they are about PDFs
            # (tests/test_pdf.py), which ask for --format themselves.
            args = (*args, "--format", "html")
        result = runner.invoke(app, list(args), catch_exceptions=True)
        exception = result.exception if not isinstance(result.exception, SystemExit) else None
        return Result(result.exit_code, result.stdout, result.stderr, exception)

    return run


@pytest.fixture(scope="session")
def sample_pdfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample without its archive (its sources are the current version), built as PDF
    (``build(formats=["pdf"])``, one worker per core) once per test run and shared by every
    test and worker: the project folder, its PDFs in ``output/<policy>/<locale>/``. Tests only
    read it; one that changes anything works on a :func:`private_copy`."""

    def make(folder: Path) -> None:
        from policygen.build import build  # only when a test needs it: conftest imports little

        build(copy_project(SAMPLE, folder / "tonle", archive=False), formats=["pdf"])

    return build_once(tmp_path_factory, "sample-pdf", make) / "tonle"


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    return copy_project(MINI, tmp_path / "mini")


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    return copy_project(SAMPLE, tmp_path / "tonle")


@pytest.fixture
def sample_sources(tmp_path: Path) -> Path:
    """The sample without its archive: its sources are what the pages show."""
    return copy_project(SAMPLE, tmp_path / "tonle", archive=False)


def built_sample(tmp_path_factory: pytest.TempPathFactory, today: str, edit: Callable[[Path], None] | None = None, name: str = "") -> Path:
    """The sample project (with its archive) built as HTML as of ``today``, once per test run and
    shared like :func:`build_once`: the project folder, its site in ``output/``. ``edit`` changes
    the copy's sources before the build (give such a build its own ``name``)."""

    def make(folder: Path) -> None:
        project = copy_project(SAMPLE, folder / "tonle")
        if edit is not None:
            edit(project)
        args = ["build", "--format", "html", "--today", today, "--project", str(project)]
        result = CliRunner().invoke(app, args, catch_exceptions=False)
        assert result.exit_code == 0, result.stderr

    return build_once(tmp_path_factory, name or f"sample-html-{today}", make) / "tonle"
