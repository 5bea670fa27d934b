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
from typing import Any

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


GROUPS = {
    "tests/test_pdf.py": "pdf",  # conftest's sample PDFs and their extracted text ...
    "tests/test_pdf_text.py": "pdf",  # ... and the starter's and the control's PDFs
    "tests/test_browser.py": "browser",  # one Chromium, one copy of the built sites
    "tests/test_redline.py": "redline",  # the module's comparison
    "tests/test_kill.py": "kill",  # one warm process, one first release
    "tests/test_golden.py": "golden",  # the starter and mini built once
    "tests/test_site_frame.py": "site-frame",  # the built site
}
"""Test modules whose tests run on one pytest-xdist worker, by group (``--dist loadgroup``, in
pyproject.toml): what these modules make once (module fixtures; session fixtures that no other
module needs) is then made once per run instead of once per worker, and no worker waits, idle,
for a folder another worker is making (:func:`build_once`). The other tests are handed out one
by one, as ``--dist load`` does."""


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """The ``loadgroup`` scheduler, grouping by :data:`GROUPS`. (xdist 3.8 groups the tests of
    an ``xdist_group`` mark by renaming them, which pytest 9 no longer lets it do: the mark is
    silently ignored, so the groups are named here, by module.)"""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class ByModule(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return GROUPS.get(nodeid.split("::", 1)[0], nodeid)

    return ByModule(config, log)


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
    read it; one that changes anything works on a :func:`private_copy`.

    Beside the project, ``overflows/<policy>-<locale>.json`` lists the lines that run past the
    right edge of their block in the laid-out document that became each PDF
    (:func:`policygen.render.pdf.overflowing_lines`), so the overflow test does not lay the
    six documents out a second time; and ``control/<policy>-km.pdf`` is each Khmer document
    written again as plain WeasyPrint writes it, without policygen's text layer (the control of
    tests/test_pdf_text.py). The text layer changes how a laid-out document is drawn, not its
    layout, so the control is drawn from the build's layout, after the build's PDF was written,
    with a fresh set of fonts (the text layer's extra glyphs stay out of it): the same bytes as
    a layout of its own (checked when this was written), without a second layout."""

    def make(folder: Path) -> None:
        import json
        import multiprocessing

        # only when a test needs them: conftest imports little
        from policygen import build as build_module
        from policygen.render import pdf, pdf_text

        overflows, control = folder / "overflows", folder / "control"
        overflows.mkdir()
        control.mkdir()
        rendering: list[str] = []
        laid_out: list[Any] = []
        render_pdf, layout = build_module.render_pdf, pdf._layout

        def render_and_name(project: Any, item: Any, *args: Any, **options: Any) -> bytes:
            rendering[:] = [f"{item.policy.id}-{item.locale}"]
            data = render_pdf(project, item, *args, **options)
            if item.locale == "km":
                (control / f"{rendering[0]}.pdf").write_bytes(plain(laid_out.pop()))
            laid_out.clear()
            return data

        def layout_and_measure(project: Any, html: str) -> Any:
            document = layout(project, html)
            (overflows / f"{rendering[0]}.json").write_text(json.dumps(pdf.overflowing_lines(document)), encoding="utf-8")
            laid_out[:] = [document]
            return document

        def plain(document: Any) -> bytes:
            kept = _Records()  # in a PDF worker: what WeasyPrint logs fails the build here
            logging.getLogger("weasyprint").addHandler(kept)
            try:
                document.fonts = {}
                with pdf_text.disabled():
                    data = document.write_pdf(pdf_variant="pdf/ua-1")
            finally:
                logging.getLogger("weasyprint").removeHandler(kept)
            assert not kept.records, [record.getMessage() for record in kept.records]
            return data

        # Forked PDF workers inherit the two wrappers; without fork, the build renders in-process.
        jobs = None if "fork" in multiprocessing.get_all_start_methods() else 1
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(build_module, "render_pdf", render_and_name)
            patch.setattr(pdf, "_layout", layout_and_measure)
            build_module.build(copy_project(SAMPLE, folder / "tonle", archive=False), formats=["pdf"], jobs=jobs)

    return build_once(tmp_path_factory, "sample-pdf", make) / "tonle"


@pytest.fixture(scope="session")
def sample_pdf_texts(tmp_path_factory: pytest.TempPathFactory, sample_pdfs: Path) -> dict[str, dict[Path, str]]:
    """Every engine's text (tests/pdf_engines.py) of every PDF of :func:`sample_pdfs`,
    extracted once per test run (the first worker that needs it extracts, the others read its
    JSON) and shared by tests/test_pdf.py and tests/test_pdf_text.py: {engine: {path: text}},
    with pdfminer's text without layout analysis as ``pdfminer-raw`` (for tests/test_pdf.py)."""
    paths = sorted((sample_pdfs / "output").glob("*/*/*.pdf"))
    assert len(paths) == 6, paths
    return extract_once(tmp_path_factory, "sample-pdf-texts", paths, pdfminer_raw=True)


def extract_once(tmp_path_factory: pytest.TempPathFactory, name: str, paths: list[Path], pdfminer_raw: bool = False) -> dict[str, dict[Path, str]]:
    """Every engine's text (tests/pdf_engines.py) of ``paths``, extracted once per test run
    under ``name`` (the first worker that needs it extracts, the others read its JSON):
    {engine: {path: text}}, and ``pdfminer-raw`` with ``pdfminer_raw``
    (:func:`pdf_engines.extract_all`)."""
    import json

    import pdf_engines

    def make(folder: Path) -> None:
        texts = pdf_engines.extract_all(paths, pdfminer_raw=pdfminer_raw)
        listed = {engine: [by_path[path] for path in paths] for engine, by_path in texts.items()}
        (folder / "texts.json").write_text(json.dumps({"paths": [str(p) for p in paths], "texts": listed}), encoding="utf-8")

    data = json.loads((build_once(tmp_path_factory, name, make) / "texts.json").read_text(encoding="utf-8"))
    assert data["paths"] == [str(p) for p in paths]
    return {engine: dict(zip(paths, texts, strict=True)) for engine, texts in data["texts"].items()}


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
