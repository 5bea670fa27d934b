"""What the commands print: -q and -v on every command, the build's summary, the progress of PDFs and of large imports."""

from __future__ import annotations

from pathlib import Path

from policygen.i18n.xliff import MANY_FILES
from policygen.importers.project import IMPORT_STEPS, LARGE_INPUT


def test_quiet_on_any_command_before_or_after_its_name(mini: Path, cli) -> None:
    for args in (("check", "-q"), ("-q", "check"), ("i18n", "check", "--quiet"), ("build", "-q"), ("--quiet", "build", "--format", "html")):
        result = cli(*args, "-C", str(mini))
        assert result.exit_code == 0, (args, result.stderr)
        assert result.stdout == "", args
    # Errors are still said.
    result = cli("check", "-q", "-C", str(mini / "nope"))
    assert result.exit_code == 1 and "policygen.yaml" in result.stderr


def test_summary_and_verbose_file_list(mini: Path, cli) -> None:
    result = cli("build", "-C", str(mini))
    assert result.exit_code == 0
    assert "8 files written, 0 unchanged (" in result.stdout and " s)." in result.stdout
    result = cli("build", "-v", "-C", str(mini))
    assert "0 files written, 8 unchanged" in result.stdout and "wrote" not in result.stdout
    config = mini / "policygen.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("Mini test site", "Mini site"), encoding="utf-8")
    result = cli("-v", "build", "-C", str(mini), "--format", "html")
    assert "wrote index.html" in result.stdout.splitlines()


def test_pdf_progress_is_plain_lines_with_verbose_off_a_terminal(mini: Path, cli) -> None:
    result = cli("build", "-v", "-C", str(mini), "--format", "pdf", "--jobs", "1")
    assert result.exit_code == 0
    assert "PDFs: 1/2" in result.stderr and "PDFs: 2/2" in result.stderr
    assert "2 PDFs rendered, 0 from cache" in result.stdout
    result = cli("build", "-C", str(mini), "--format", "pdf", "--jobs", "1")
    assert result.stderr == ""  # not a terminal, not verbose: no progress at all
    assert "0 PDFs rendered, 2 from cache" in result.stdout


def test_summary_counts_each_kind_of_output(mini: Path, cli) -> None:
    """The summary says what was rendered and what came from the cache; -v says it per kind."""
    result = cli("build", "-C", str(mini), "--format", "html")
    assert "5 other outputs rendered, 0 from cache" in result.stdout  # 2 pages, 2 fragments, the index
    prose = mini / "sources" / "mini" / "policy.md"
    prose.write_text(prose.read_text(encoding="utf-8").replace("Write to", "Please write to"), encoding="utf-8")
    result = cli("build", "-v", "-C", str(mini), "--format", "html", "--allow-incomplete")  # Dutch falls back to English
    lines = result.stdout.splitlines()
    assert "4 other outputs rendered, 1 from cache" in result.stdout
    assert "  html: 2 rendered, 0 from cache" in lines and "  site-index: 0 rendered, 1 from cache" in lines
    result = cli("build", "-q", "-C", str(mini), "--format", "html", "--allow-incomplete")
    assert result.exit_code == 0 and result.stdout == ""


def test_release_progress_is_plain_lines_with_verbose(mini: Path, cli, monkeypatch) -> None:
    monkeypatch.setattr("policygen.archive.release.render_pdf", lambda project, item, variant: b"%PDF-1.7 placeholder")
    facts = (mini / "sources" / "mini" / "policy.yaml").read_text(encoding="utf-8")
    version = facts.split("version:", 1)[1].split()[0].strip("\"'")
    effective = facts.split("effective_date:", 1)[1].split()[0]
    result = cli("-v", "release", "mini", "--version", version, "--effective", effective, "-C", str(mini), "--allow-incomplete")
    assert result.exit_code == 0, result.stderr
    assert "PDFs: 1/2" in result.stderr and "PDFs: 2/2" in result.stderr


def _large_policy(path: Path) -> Path:
    """A Markdown policy of about 300 KB: over the size from which an import tells how it advances."""
    section = ("We keep your e-mail address and your order history to deliver your orders and answer your questions "
               "about them; you may ask us for a copy of your personal data, or ask us to correct or delete it. ") * 5
    path.write_text("# Privacy policy\n\n" + "".join(f"## Part {n}\n\n{section}\n\n" for n in range(320)), encoding="utf-8")
    assert path.stat().st_size > LARGE_INPUT
    return path


def test_large_import_progress_is_plain_lines_with_verbose(mini: Path, cli, tmp_path: Path) -> None:
    big = _large_policy(tmp_path / "big.md")
    result = cli("-v", "import", str(big), "--policy", "big", "--lang", "en", "-C", str(mini))
    assert result.exit_code == 0, result.stderr
    assert [line for line in result.stderr.splitlines() if line.startswith("import: ")] == \
        [f"import: {n}/{IMPORT_STEPS}" for n in range(1, IMPORT_STEPS + 1)]
    # Not a terminal and not verbose, or quiet: no progress. A small file: none either.
    result = cli("import", str(big), "--policy", "big", "--lang", "en", "--force", "-C", str(mini))
    assert result.exit_code == 0 and "import: " not in result.stderr
    result = cli("-q", "import", str(big), "--policy", "big", "--lang", "en", "--force", "-C", str(mini))
    assert result.exit_code == 0 and result.stderr == "" and result.stdout == ""
    small = tmp_path / "small.md"
    small.write_text("# Privacy policy\n\n" + "We keep your e-mail address to answer your questions about your personal data. " * 3,
                     encoding="utf-8")
    result = cli("-v", "import", str(small), "--policy", "small", "--lang", "en", "-C", str(mini))
    assert result.exit_code == 0 and "import: " not in result.stderr


def test_xliff_import_of_many_files_tells_its_progress(sample: Path, cli) -> None:
    assert cli("i18n", "export", cwd=sample).exit_code == 0
    files = sorted(map(str, (sample / "xliff").rglob("*.xlf")))
    assert len(files) >= MANY_FILES
    result = cli("-v", "i18n", "import", *files, cwd=sample)
    assert result.exit_code == 0, result.stderr
    assert [line for line in result.stderr.splitlines() if line.startswith("XLIFF files: ")] == \
        [f"XLIFF files: {n}/{len(files)}" for n in range(len(files) + 1)]
    result = cli("i18n", "import", *files, cwd=sample)
    assert result.exit_code == 0 and "XLIFF files" not in result.stderr
    result = cli("-v", "i18n", "import", *files[:MANY_FILES - 1], cwd=sample)  # a few files: no progress
    assert result.exit_code == 0 and "XLIFF files" not in result.stderr


def test_verbose_check_says_whether_it_checked_afresh(mini: Path, cli) -> None:
    """-v on check says whether it checked the project or answered from the record of the last
    check that passed (the two print the same otherwise, and a user who suspects a stale answer
    needs to know which it was)."""
    first = cli("check", "-v", "-C", str(mini))
    again = cli("-v", "check", "-C", str(mini))
    plain = cli("check", "-C", str(mini))
    assert first.exit_code == again.exit_code == plain.exit_code == 0
    assert "Checked afresh" in first.stdout and "Answered from the record" in again.stdout
    assert "afresh" not in plain.stdout and "record" not in plain.stdout
    assert first.stdout.splitlines()[0] == again.stdout.splitlines()[0] == plain.stdout.strip()


def test_an_output_folder_policygen_may_not_write_beside_is_an_error_not_a_traceback(mini: Path, cli, monkeypatch) -> None:
    """--output in a folder policygen may not write to (another user's /var/www, a read-only
    file system): the build makes its next output beside the output folder, so that is said,
    with the fix, as one error (exit 1). Before, making the folder of the lock ended in an
    OSError traceback; with that folder there, the message named the lock and no fix."""
    import errno
    import pathlib

    from filelock import FileLock

    real_mkdir = pathlib.Path.mkdir

    def read_only_mkdir(self: Path, *args: object, **options: object) -> None:
        if self.name.endswith(".policygen") or "site" in self.parts:
            raise OSError(errno.EROFS, "Read-only file system", str(self))
        real_mkdir(self, *args, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(pathlib.Path, "mkdir", read_only_mkdir)
    for out in (mini / "site" / "policies", mini.parent / "www"):
        result = cli("build", "-C", str(mini), "--output", str(out))
        assert result.exit_code == 1 and result.exception is None, (out, result.stderr)
        assert "Read-only file system" in result.stderr and "--output" in result.stderr, result.stderr
    monkeypatch.undo()
    (mini.parent / ".www.policygen").mkdir()

    def read_only_acquire(self: object, *args: object, **options: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(FileLock, "acquire", read_only_acquire)
    result = cli("build", "-C", str(mini), "--output", str(mini.parent / "www"))
    assert result.exit_code == 1 and result.exception is None, result.stderr
    assert "Read-only file system" in result.stderr and "--output" in result.stderr, result.stderr
