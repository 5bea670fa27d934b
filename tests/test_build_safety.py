"""A build's safety: writes stay inside the project, one build at a time per output folder, the
output is swapped in whole, PDF workers end with their build, and no temp files are left.

Turned from the reproducers F02, F03, F04, F07 and F13 (``../shared/reproducers``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from policygen import api
from policygen import build as build_module
from policygen.atomic import output_lock, work_dir, write_all
from policygen.build import Cancelled, build
from policygen.errors import PolicygenError

POSIX = pytest.mark.skipif(sys.platform == "win32", reason="uses symlinks, process groups and signals")


def manifest_problems(out: Path) -> list[str]:
    """Every way ``out`` disagrees with its manifest.json (empty when they agree)."""
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    problems = []
    for entry in manifest["outputs"]:
        path = out / entry["path"]
        if not path.is_file():
            problems.append(f"missing {entry['path']}")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != entry["sha256"]:
            problems.append(f"differs {entry['path']}")
    listed = {entry["path"] for entry in manifest["outputs"]} | {"manifest.json"}
    problems += [f"not listed {p.relative_to(out).as_posix()}" for p in out.rglob("*")
                 if p.is_file() and p.relative_to(out).as_posix() not in listed and not p.relative_to(out).as_posix().startswith("own/")]
    return problems


# --- F07: every write stays inside the project ------------------------------------------------


@POSIX
def test_import_force_refuses_a_symlinked_policy_folder(mini: Path, tmp_path: Path, cli) -> None:
    outside = tmp_path / "outside-policy"
    outside.mkdir()
    (mini / "sources" / "victim").symlink_to(outside)
    text = tmp_path / "in.txt"
    text.write_text("Privacy\n\nWe collect your e-mail.\n", encoding="utf-8")
    result = cli("import", str(text), "--policy", "victim", "--lang", "en", "--force", "-C", str(mini))
    assert result.exit_code == 1
    assert "sources/victim: leads outside" in result.stderr
    assert list(outside.iterdir()) == []


@POSIX
def test_import_refuses_a_symlinked_sources_folder(mini: Path, tmp_path: Path, cli) -> None:
    outside = tmp_path / "outside-sources"
    (mini / "sources").rename(outside)
    (mini / "sources").symlink_to(outside)
    text = tmp_path / "in.txt"
    text.write_text("Privacy\n\nWe collect your e-mail.\n", encoding="utf-8")
    result = cli("import", str(text), "--policy", "newpol", "--lang", "en", "-C", str(mini))
    assert result.exit_code == 1
    assert "leads outside" in result.stderr
    assert not (outside / "newpol").exists()


@POSIX
def test_i18n_extract_refuses_a_symlinked_locales_folder(mini: Path, tmp_path: Path, cli) -> None:
    outside = tmp_path / "outside-locales"
    outside.mkdir()
    import shutil

    shutil.rmtree(mini / "locales")
    (mini / "locales").symlink_to(outside)
    result = cli("i18n", "extract", "-C", str(mini))
    assert result.exit_code == 1
    assert "locales/" in result.stderr and "leads outside" in result.stderr
    assert [p for p in outside.rglob("*") if p.is_file()] == []


@POSIX
def test_no_command_writes_into_the_archive_through_a_symlink(sample: Path, cli) -> None:
    """A symlink inside the project that leads into archive/ (a catalog folder linked to a
    release's catalogs) stays inside the project, so i18n update rewrote the archived catalogs
    through it: only release writes the archive, and it never rewrites an archived file."""
    import shutil

    archived = sample / "archive" / "tonle-privacy" / "3.0" / "locales" / "nl"
    before = {p.name: p.read_bytes() for p in archived.iterdir()}
    shutil.rmtree(sample / "locales" / "nl" / "LC_MESSAGES")
    (sample / "locales" / "nl" / "LC_MESSAGES").symlink_to(Path("..", "..", "archive", "tonle-privacy", "3.0", "locales", "nl"))
    prose = sample / "sources" / "tonle-privacy" / "policy.md"
    prose.write_text(prose.read_text(encoding="utf-8") + "\nA clause added after the release.\n", encoding="utf-8")
    result = cli("i18n", "update", "-C", str(sample))
    assert result.exit_code == 1 and result.exception is None, result.exception
    assert "leads into archive/" in result.stderr, result.stderr
    assert {p.name: p.read_bytes() for p in archived.iterdir()} == before
    assert cli("archive", "verify", "-C", str(sample)).exit_code == 0


@POSIX
def test_a_release_into_a_project_reached_through_a_symlink(mini: Path, tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """The project named through a symlinked folder (macOS's /tmp is one): a release writes its
    archive at resolved paths, which the rule against writing into archive/ through a link must
    tell from a link inside the project."""
    monkeypatch.setattr("policygen.archive.release.render_pdf", lambda project, item, variant="pdf/ua-1", strict=True, source=None: b"%PDF-1.7 x")
    (tmp_path / "via").symlink_to(mini.parent)
    result = cli("release", "mini", "--version", "1.0", "--effective", "2026-05-05", "-C", str(tmp_path / "via" / mini.name))
    assert result.exit_code == 0, result.stderr
    assert (mini / "archive" / "mini" / "1.0" / "release.json").is_file()


@POSIX
def test_build_refuses_a_default_output_that_leads_outside(mini: Path, tmp_path: Path, cli) -> None:
    outside = tmp_path / "www"
    outside.mkdir()
    (mini / "output").symlink_to(outside)
    result = cli("build", "-C", str(mini))
    assert result.exit_code == 1
    assert "output: leads outside" in result.stderr
    assert list(outside.iterdir()) == []
    # A folder the user names is theirs to choose, wherever it is.
    assert cli("build", "-C", str(mini), "--output", str(outside)).exit_code == 0
    assert manifest_problems(outside) == []


@POSIX
def test_build_neither_writes_nor_deletes_through_a_symlinked_work_folder(mini: Path, tmp_path: Path, cli) -> None:
    """The work folder beside the output (its lock, its next tree) is policygen's own: a symlink
    in its place, committed with the project, made the build write the lock and the whole new
    site outside, and delete the 'new' folder it found there (rmtree through the link)."""
    outside = tmp_path / "elsewhere"
    (outside / "new").mkdir(parents=True)
    (outside / "new" / "precious.txt").write_text("not policygen's", encoding="utf-8")
    (mini / ".output.policygen").symlink_to(outside)
    result = cli("build", "-C", str(mini))
    assert result.exit_code == 1 and result.exception is None, result.exception
    assert ".output.policygen: a symbolic link" in result.stderr
    assert (outside / "new" / "precious.txt").read_text(encoding="utf-8") == "not policygen's"
    assert sorted(p.name for p in outside.rglob("*")) == ["new", "precious.txt"]
    assert not (mini / "output").exists()
    # A link inside a real work folder, where a killed build leaves its next tree, is removed, not followed.
    (mini / ".output.policygen").unlink()
    (mini / ".output.policygen").mkdir()
    (mini / ".output.policygen" / "new").symlink_to(outside / "new")
    result = cli("build", "-C", str(mini))
    assert result.exit_code == 0 and result.exception is None, result.exception
    assert (outside / "new" / "precious.txt").read_text(encoding="utf-8") == "not policygen's"
    assert manifest_problems(mini / "output") == []


@POSIX
@pytest.mark.parametrize("lock", [".output.policygen/lock", "archive/mini/.lock"])
def test_a_symlinked_lock_file_is_a_clear_error(mini: Path, tmp_path: Path, cli, lock: str) -> None:
    """A lock file replaced by a symlink: never opened through it (the file it names keeps its
    bytes), and a message, not an OSError traceback."""
    victim = tmp_path / "victim"
    victim.write_text("keep me", encoding="utf-8")
    (mini / lock).parent.mkdir(parents=True, exist_ok=True)
    (mini / lock).symlink_to(victim)
    command = ("build", "-C", str(mini)) if lock.startswith(".output") else ("release", "mini", "--version", "1.0", "--effective", "2026-05-05",
                                                                             "-C", str(mini))
    result = cli(*command)
    assert result.exit_code == 1 and result.exception is None, result.exception
    assert f"{lock}: a symbolic link" in result.stderr
    assert victim.read_text(encoding="utf-8") == "keep me"


@POSIX
def test_a_file_where_the_work_folder_goes_is_a_clear_error(mini: Path, cli) -> None:
    (mini / ".output.policygen").write_text("x", encoding="utf-8")
    result = cli("build", "-C", str(mini))
    assert result.exit_code == 1 and result.exception is None, result.exception
    assert ".output.policygen: not a folder" in result.stderr


@POSIX
def test_write_all_refuses_every_path_out_of_its_root(tmp_path: Path) -> None:
    root, outside = tmp_path / "project", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "link").symlink_to(outside)
    (root / "dangling").symlink_to(outside / "not-yet")
    for path in (root / "link" / "x", root / "dangling", root / ".." / "outside" / "y", root / "sub" / ".." / ".." / "z"):
        with pytest.raises(PolicygenError, match="leads outside"):
            write_all({root / "fine": b"1", path: b"2"}, root)
    assert not (root / "fine").exists()  # checked before anything is written
    assert list(outside.iterdir()) == []
    assert write_all({root / "a" / "b": b"3"}, root) == [root / "a" / "b"]


@POSIX
def test_diff_output_stays_inside_the_folder_named(mini: Path, tmp_path: Path, cli) -> None:
    report = tmp_path / "report"
    (report / "mini").mkdir(parents=True)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    old = tmp_path / "old"
    import shutil

    shutil.copytree(mini, old)
    policy = mini / "sources" / "mini" / "policy.md"
    policy.write_text(policy.read_text(encoding="utf-8").replace("Write to", "Please write to", 1), encoding="utf-8")
    assert cli("diff", str(old), str(mini), "-C", str(mini), "--output", str(report)).exit_code in (0, 3)
    assert (report / "report.json").is_file() and (report / "mini" / "redline.en.html").is_file()
    shutil.rmtree(report)
    report.mkdir()
    (report / "mini").symlink_to(outside)
    result = cli("diff", str(old), str(mini), "-C", str(mini), "--output", str(report))
    assert result.exit_code == 1 and "leads outside" in result.stderr
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize("folder", ["archive", "archive/mini", "sources/mini", "locales"])
@pytest.mark.parametrize("command", ["diff", "export"])
def test_a_named_output_never_goes_into_the_project_folders(mini: Path, tmp_path: Path, cli, folder: str, command: str) -> None:
    """'diff --output archive' wrote report.json, assets/ and redlines into archive/, 'i18n export
    --output archive' archive/nl/mini.xlf (only a release writes the archive; 'archive verify'
    then failed on the strays), '--output sources/mini' into a policy's sources. A build's
    --output was refused there already."""
    old = tmp_path / "old"
    shutil.copytree(mini, old)
    (mini / "archive" / "mini").mkdir(parents=True)
    policy = mini / "sources" / "mini" / "policy.md"
    policy.write_text(policy.read_text(encoding="utf-8").replace("Write to", "Please write to", 1), encoding="utf-8")
    before = sorted(p for p in mini.rglob("*"))
    if command == "diff":
        result = cli("diff", str(old), str(mini), "-C", str(mini), "--output", str(mini / folder))
    else:
        result = cli("i18n", "export", "-C", str(mini), "--output", str(mini / folder))
    assert result.exit_code == 1 and result.exception is None, result.exception
    assert "the output folder lies in the project's " in result.stderr and "choose another --output" in result.stderr, result.stderr
    assert sorted(p for p in mini.rglob("*")) == before


# --- F13: one build at a time per output folder ------------------------------------------------


def test_a_second_build_into_the_same_output_is_refused(mini: Path, cli) -> None:
    out = mini / "output"
    with output_lock(out):
        result = cli("build", "-C", str(mini))
    assert result.exit_code == 1
    assert "another build is writing into this folder" in result.stderr
    assert not out.exists()
    # A lock file left by a killed build is not a held lock: the next build goes ahead.
    assert (work_dir(out) / "lock").exists()
    assert cli("build", "-C", str(mini)).exit_code == 0
    assert manifest_problems(out) == []


def test_two_projects_into_one_output_share_the_lock(mini: Path, tmp_path: Path, cli) -> None:
    shared = tmp_path / "shared"
    with output_lock(shared):
        result = cli("build", "-C", str(mini), "--output", str(shared))
    assert result.exit_code == 1 and "another build" in result.stderr


# --- F02: the output is swapped in whole -------------------------------------------------------


def test_site_files_survive_and_unchanged_files_keep_their_inode(mini: Path, cli) -> None:
    out = mini / "output"
    assert cli("build", "-C", str(mini)).exit_code == 0
    (out / "own" / "deep").mkdir(parents=True)
    (out / "own" / "deep" / "robots.txt").write_text("User-agent: *\n", encoding="utf-8")
    (out / "own" / "empty").mkdir()
    if sys.platform != "win32":
        (out / "own" / "link").symlink_to("deep/robots.txt")
    page = out / "index.html"
    before = page.stat()
    assert cli("build", "-C", str(mini)).exit_code == 0
    assert (out / "own" / "deep" / "robots.txt").read_text(encoding="utf-8") == "User-agent: *\n"
    assert (out / "own" / "empty").is_dir()
    if sys.platform != "win32":
        assert os.readlink(out / "own" / "link") == "deep/robots.txt"
    assert page.stat().st_ino == before.st_ino and page.stat().st_mtime_ns == before.st_mtime_ns
    assert manifest_problems(out) == []
    assert sorted(p.name for p in work_dir(out).iterdir()) == ["lock"]  # no temp files left


def test_a_site_folder_where_a_page_must_go_changes_nothing(mini: Path, cli) -> None:
    out = mini / "output"
    assert cli("build", "-C", str(mini)).exit_code == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    (out / "index.html").unlink()
    (out / "index.html").mkdir()
    del before[out / "index.html"]
    result = cli("build", "-C", str(mini))
    assert result.exit_code == 1 and "a folder stands where" in result.stderr
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in work_dir(out).iterdir()) == ["lock"]


@POSIX
@pytest.mark.skipif(not Path("/usr/bin/strace").exists(), reason="needs strace to kill at an exact system call")
@pytest.mark.parametrize(("call", "when"), [("fsync", 2), ("link", 3), ("renameat2", 1), ("unlinkat", 1)])
def test_killed_at_a_system_call_of_the_write_phase(mini: Path, call: str, when: int) -> None:
    """F02 exactly: SIGKILL injected into a system call while the new output is written (by a
    real ``python -m policygen``; the builds before and after it run in-process)."""
    api.build(mini, formats=["html"])
    out = mini / "output"
    old = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    config = mini / "policygen.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("Mini test site", "Mini test site (B)"), encoding="utf-8")
    # Writing the new tree (fsync, link), the swap (renameat2), removing the old tree (unlinkat).
    killed = subprocess.run(["strace", "-f", "-qq", "-o", "/dev/null", "-e", f"trace={call}", "-e", f"inject={call}:signal=SIGKILL:when={when}",
                             sys.executable, "-m", "policygen", "build", "-C", str(mini), "--format", "html", "-q"], cwd=mini, capture_output=True)
    assert killed.returncode != 0
    now = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert now == old or b"Mini test site (B)" in now[Path("index.html")]
    assert manifest_problems(out) == []
    assert [p for p in out.rglob("*") if p.name.endswith(".tmp")] == []
    api.build(mini, formats=["html"])
    assert b"Mini test site (B)" in (out / "index.html").read_bytes()
    assert manifest_problems(out) == []
    assert sorted(p.name for p in work_dir(out).iterdir()) == ["lock"]


@POSIX
@pytest.mark.skipif(not Path("/usr/bin/strace").exists(), reason="needs strace to kill at an exact system call")
def test_a_catalog_update_killed_while_writing_leaves_no_temp_file_for_good(mini: Path, cli) -> None:
    """kill -9 while 'i18n update' writes (at the first fsync: a catalog's temporary file is
    written beside it, not yet renamed) left '.mini.pot.<random>.tmp' in locales/ for good, for
    'git add' to pick up; the next write of that catalog removes it."""
    prose = mini / "sources" / "mini" / "policy.md"
    prose.write_text(prose.read_text(encoding="utf-8") + "\n{#added}\nOne more sentence.\n", encoding="utf-8")
    killed = subprocess.run(["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=fsync", "-e", "inject=fsync:signal=SIGKILL:when=1",
                             sys.executable, "-m", "policygen", "i18n", "update", "-C", str(mini), "-q"], cwd=mini, capture_output=True)
    assert killed.returncode != 0
    assert list(mini.rglob("*.tmp")) != [], "killed before any temporary file was written"
    live = mini / "locales" / f".mini.pot.{os.getpid()}-stillbusy.tmp"  # a live process's is not touched
    live.write_bytes(b"")
    result = cli("i18n", "update", cwd=mini)
    assert result.exit_code == 0, result.stderr
    assert [p for p in mini.rglob("*.tmp") if p != live] == []
    assert live.exists()


# --- F03 and F04: PDF workers and WeasyPrint's temp folders ------------------------------------


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def _children(pid: int) -> list[int]:
    found = []
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(status.parent.name))
    return found


def _start_pdf_build(mini: Path, tmp: Path) -> subprocess.Popen[bytes]:
    tmp.mkdir(exist_ok=True)
    return subprocess.Popen([sys.executable, "-m", "policygen", "build", "-C", str(mini), "--format", "pdf", "--jobs", "2", "-q"],
                            cwd=mini, env={**os.environ, "TMPDIR": str(tmp)}, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_for_workers(process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while len(_children(process.pid)) < 2:
        assert process.poll() is None, "the build ended before its workers started"
        assert time.monotonic() < deadline
        time.sleep(0.05)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_pdf_workers_die_with_a_killed_build(mini: Path, tmp_path: Path) -> None:
    process = _start_pdf_build(mini, tmp_path / "tmp")
    _wait_for_workers(process)
    process.kill()
    process.wait()
    deadline = time.monotonic() + 10
    while _group_alive(process.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    alive = _group_alive(process.pid)
    if alive:
        os.killpg(process.pid, signal.SIGKILL)
    assert not alive, "PDF workers outlived the build that started them"
    assert not (mini / "output").exists()
    # What the killed build left beside the output goes with the next build.
    api.build(mini, formats=["html"])
    assert sorted(p.name for p in work_dir(mini / "output").iterdir()) == ["lock"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_sigterm_stops_the_workers_and_cleans_up(mini: Path, tmp_path: Path) -> None:
    process = _start_pdf_build(mini, tmp_path / "tmp")
    _wait_for_workers(process)
    process.terminate()
    assert process.wait(timeout=30) == 128 + signal.SIGTERM
    deadline = time.monotonic() + 10
    while _group_alive(process.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _group_alive(process.pid)
    assert sorted(p.name for p in work_dir(mini / "output").iterdir()) == ["lock"]
    assert not (mini / "output").exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_cancelled_build_stops_its_workers_and_writes_nothing(mini: Path) -> None:
    """How ``serve`` puts a newer save first: setting ``cancel`` while the PDFs render raises
    Cancelled within moments, with the workers stopped, no output and nothing left beside it."""
    cancel = threading.Event()
    seen: list[int] = []

    def cancel_when_the_workers_run() -> None:
        deadline = time.monotonic() + 60
        while len(_children(os.getpid())) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        seen.extend(_children(os.getpid()))
        cancel.set()

    watcher = threading.Thread(target=cancel_when_the_workers_run)
    watcher.start()
    began = time.monotonic()
    with pytest.raises(Cancelled):
        build(mini, formats=["pdf"], jobs=2, use_cache=False, cancel=cancel)
    watcher.join()
    assert len(seen) >= 2 and time.monotonic() - began < 60
    assert not any(Path(f"/proc/{pid}").exists() for pid in seen), "PDF workers outlived the cancel"
    assert not (mini / "output").exists()
    assert sorted(p.name for p in work_dir(mini / "output").iterdir()) == ["lock"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="PDF workers are forked on POSIX")
def test_a_pdf_worker_dies_at_once_on_sigterm(tmp_path: Path) -> None:
    """The CLI's SIGTERM handler raises SystemExit, which a pool worker would catch as a task's
    result and linger; a worker takes the default action, so stopping the pool is immediate."""
    signal.signal(signal.SIGTERM, lambda signum, frame: None)  # what a worker inherits from the CLI
    try:
        pid = os.fork()
        if pid == 0:  # the worker
            build_module._init_worker(tmp_path, [], [], None, os.getppid(), str(tmp_path), {})
            os._exit(0 if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL else 1)
        _pid, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def test_a_pdf_build_leaves_no_temp_folders(mini: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again, in this process and its PDF workers
    for jobs in (1, 2):
        api.build(mini, jobs=jobs, use_cache=False)
        assert tempfile.gettempdir() == str(tmp)
        assert list(tmp.iterdir()) == []
    assert manifest_problems(mini / "output") == []
    assert sorted(p.name for p in work_dir(mini / "output").iterdir()) == ["lock"]


POSIX_ONLY = {"fcntl", "termios", "pwd", "grp", "resource", "posix", "tty", "pty", "syslog", "crypt"}


def test_the_package_imports_no_posix_only_module() -> None:
    """Point 7 of issue 16: ``build`` and ``release`` run on Windows too; file locks come from
    filelock, and Linux-only calls go through ctypes behind a platform check."""
    import ast

    package = Path(__file__).resolve().parent.parent / "policygen"
    found = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            found += [f"{path.name}:{node.lineno}: {name}" for name in names if name.split(".")[0] in POSIX_ONLY]
    assert found == []
