"""The CLI end to end: exit codes, messages, the manifest, subsets, determinism."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from conftest import ROOT, built_sample, private_copy

TODAY = "2026-11-22"
"""The date of conftest's shared build of the sample that these tests read or copy."""


def read_manifest(project: Path) -> dict:
    return json.loads((project / "output" / "manifest.json").read_text(encoding="utf-8"))


def test_init_then_build(tmp_path: Path, cli) -> None:
    target = tmp_path / "site"
    result = cli("init", str(target))
    assert result.exit_code == 0, result.stderr
    assert (target / "policygen.yaml").is_file()
    assert (target / ".policygen" / "schema" / "policy.schema.json").is_file()
    result = cli("build", "--project", str(target))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""  # the starter is completely translated
    for locale in ("en", "nl", "km"):
        page = target / "output" / "example-privacy" / locale / "index.html"
        assert f'<html lang="{locale}" dir="ltr">' in page.read_text(encoding="utf-8")


def test_init_refuses_existing_project(tmp_path: Path, cli) -> None:
    assert cli("init", str(tmp_path / "p")).exit_code == 0
    before = (tmp_path / "p" / "policygen.yaml").read_bytes()
    result = cli("init", str(tmp_path / "p"))
    assert result.exit_code == 1
    assert "a project already exists here" in result.stderr
    assert (tmp_path / "p" / "policygen.yaml").read_bytes() == before


def test_manifest_lists_every_output_with_its_hash(tmp_path_factory: pytest.TempPathFactory) -> None:
    sample = built_sample(tmp_path_factory, TODAY)
    manifest = read_manifest(sample)
    outputs = manifest["outputs"]
    pages = {(o["policy"], o["locale"]) for o in outputs if o["format"] == "html"}
    assert pages == {(p, loc) for p in ("tonle-privacy", "tonle-cookies") for loc in ("en", "nl", "km")}
    for entry in outputs:
        data = (sample / "output" / entry["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["path"]
        assert not Path(entry["path"]).is_absolute() and ".." not in entry["path"]
    on_disk = {p.relative_to(sample / "output").as_posix() for p in (sample / "output").rglob("*") if p.is_file()}
    assert on_disk == {o["path"] for o in outputs} | {"manifest.json"}
    privacy_en = next(o for o in outputs if o["policy"] == "tonle-privacy" and o["locale"] == "en" and o["format"] == "html")
    assert privacy_en["version"] == "3.0" and privacy_en["effective_date"] == "2026-03-01"


def test_build_is_byte_identical(sample: Path, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, cli) -> None:
    # The first build is the shared one, of another copy of the sample in another folder.
    shared = built_sample(tmp_path_factory, TODAY) / "output"
    assert cli("build", "--today", TODAY, "--output", str(tmp_path / "b"), cwd=sample).exit_code == 0
    files_a = {p.relative_to(shared): p.read_bytes() for p in shared.rglob("*") if p.is_file()}
    files_b = {p.relative_to(tmp_path / "b"): p.read_bytes() for p in (tmp_path / "b").rglob("*") if p.is_file()}
    assert files_a == files_b


def test_rebuild_leaves_unchanged_files_alone(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, cli) -> None:
    sample = private_copy(built_sample(tmp_path_factory, TODAY), tmp_path / "tonle")  # built, as the first build left it
    page = sample / "output" / "tonle-privacy" / "en" / "index.html"
    mtime = page.stat().st_mtime_ns
    result = cli("build", "--today", TODAY, cwd=sample)
    assert result.exit_code == 0
    assert "0 files written" in result.stdout
    assert page.stat().st_mtime_ns == mtime


def test_subset_build_keeps_the_rest_of_the_manifest(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, cli) -> None:
    sample = private_copy(built_sample(tmp_path_factory, TODAY), tmp_path / "tonle")  # built, as the first build left it
    full = read_manifest(sample)
    (sample / "output" / "tonle-privacy" / "nl" / "index.html").unlink()
    result = cli("build", "--today", TODAY, "--policy", "tonle-privacy", "--locale", "nl", cwd=sample)
    assert result.exit_code == 0, result.stderr
    assert "Built 1 page into" in result.stdout
    assert (sample / "output" / "tonle-privacy" / "nl" / "index.html").is_file()
    assert read_manifest(sample) == full


def test_subset_build_renders_only_the_subset(mini: Path, cli) -> None:
    result = cli("build", "--locale", "nl", cwd=mini)
    assert result.exit_code == 0, result.stderr
    assert (mini / "output" / "mini" / "nl" / "index.html").is_file()
    assert not (mini / "output" / "mini" / "en").exists()


def test_a_subset_build_drops_what_its_pages_no_longer_have(sample: Path, tmp_path: Path, cli) -> None:
    """A build of one policy drops that policy's outputs it no longer makes: here its banner,
    whose days are over (banner.json, which other sites embed, said the policy had just changed
    for as long as only that policy was rebuilt). The other policy's outputs stay as they were."""
    assert cli("build", "-C", str(sample), "--today", "2026-03-05").exit_code == 0
    banner = sample / "output" / "tonle-privacy" / "en" / "banner.json"
    cookies = {p: p.read_bytes() for p in (sample / "output" / "tonle-cookies").rglob("*") if p.is_file()}
    assert banner.is_file() and cookies
    assert cli("build", "-C", str(sample), "--today", "2026-06-01", "-p", "tonle-privacy").exit_code == 0
    assert not banner.exists()
    assert "tonle-privacy/en/banner.json" not in {o["path"] for o in read_manifest(sample)["outputs"]}
    assert {p: p.read_bytes() for p in (sample / "output" / "tonle-cookies").rglob("*") if p.is_file()} == cookies
    fresh = tmp_path / "fresh"
    assert cli("build", "-C", str(sample), "--today", "2026-06-01", "-p", "tonle-privacy", "-o", str(fresh)).exit_code == 0
    ours = {p.relative_to(sample / "output").as_posix() for p in (sample / "output" / "tonle-privacy").rglob("*")}
    assert ours == {p.relative_to(fresh).as_posix() for p in (fresh / "tonle-privacy").rglob("*")}


def test_unknown_policy_and_locale_are_errors(mini: Path, cli) -> None:
    result = cli("build", "--policy", "nope", cwd=mini)
    assert result.exit_code == 1
    assert "sources: no policy 'nope'; known policies: mini" in result.stderr
    result = cli("build", "--locale", "fr", cwd=mini)
    assert result.exit_code == 1
    assert "policygen.yaml: unknown locale 'fr'" in result.stderr


def test_failed_build_keeps_previous_output(mini: Path, cli) -> None:
    assert cli("build", cwd=mini).exit_code == 0
    before = {p: p.read_bytes() for p in (mini / "output").rglob("*") if p.is_file()}
    prose = mini / "sources" / "mini" / "policy.md"
    prose.write_text(prose.read_text(encoding="utf-8").replace("{{data.health}}", "{{data.nope}}"), encoding="utf-8")
    result = cli("build", cwd=mini)
    assert result.exit_code == 1
    after = {p: p.read_bytes() for p in (mini / "output").rglob("*") if p.is_file()}
    assert after == before


def test_full_build_removes_outputs_it_no_longer_produces(mini: Path, cli) -> None:
    assert cli("build", cwd=mini).exit_code == 0
    (mini / "output" / "mine.txt").write_text("a file of the site's own")
    policy = mini / "sources" / "mini" / "policy.yaml"
    policy.write_text(policy.read_text(encoding="utf-8").replace("locales: [en, nl]", "locales: [en]"), encoding="utf-8")
    result = cli("build", cwd=mini)
    assert result.exit_code == 0, result.stderr
    assert not (mini / "output" / "mini" / "nl" / "index.html").exists()
    assert (mini / "output" / "mine.txt").is_file()


def test_a_rebuild_leaves_no_folder_a_fresh_build_has_not(mini: Path, tmp_path: Path, cli) -> None:
    """Folders that held only outputs a build no longer makes go with them (a dropped locale
    here; a draft whose version took effect, a deleted policy): the rebuilt tree, folders
    included, is the tree a build into an empty folder makes, and ``serve`` answers 404 there
    rather than listing an empty folder. A folder of the site's own stays, even empty."""
    assert cli("build", cwd=mini).exit_code == 0
    (mini / "output" / "downloads").mkdir()
    policy = mini / "sources" / "mini" / "policy.yaml"
    policy.write_text(policy.read_text(encoding="utf-8").replace("locales: [en, nl]", "locales: [en]"), encoding="utf-8")
    assert cli("build", cwd=mini).exit_code == 0
    assert cli("build", "-C", str(mini), "--no-cache", "--output", str(tmp_path / "fresh")).exit_code == 0

    def tree(out: Path) -> set[str]:
        return {p.relative_to(out).as_posix() + ("/" if p.is_dir() else "") for p in out.rglob("*")}

    assert not (mini / "output" / "mini" / "nl").exists()
    assert tree(mini / "output") == tree(tmp_path / "fresh") | {"downloads/"}


def test_check_reports_ok(sample: Path, cli) -> None:
    result = cli("check", cwd=sample)
    assert result.exit_code == 0
    assert result.stdout.startswith("OK: 2 policies")
    assert not (sample / "output").exists()


def test_missing_project_says_how_to_start(tmp_path: Path, cli) -> None:
    result = cli("build", cwd=tmp_path)
    assert result.exit_code == 1
    assert "no policygen.yaml here; run 'policygen init" in result.stderr
    assert "Traceback" not in result.stderr


def test_schema_command_prints_the_published_schema(cli) -> None:
    for name in ("policy", "project", "glossary", "rules", "change-report"):
        result = cli("schema", name)
        assert result.exit_code == 0
        published = json.loads((ROOT / "docs" / "schema" / f"{name}.schema.json").read_text(encoding="utf-8"))
        assert json.loads(result.stdout) == published


def test_version(cli) -> None:
    result = cli("--version")
    assert result.exit_code == 0 and result.stdout.startswith("policygen ")


def test_check_finds_a_broken_rules_yaml(mini: Path, cli) -> None:
    (mini / "rules.yaml").write_text("disable: [nope]\n", encoding="utf-8")
    result = cli("check", cwd=mini)
    assert result.exit_code == 1 and result.exception is None
    assert result.stderr.splitlines() == ["rules.yaml:1: no default rule 'nope'; see 'policygen rules' for their IDs", "policygen: 1 error"]


def test_verbosity_flags_combined_after_the_command(mini: Path, cli) -> None:
    """-q and -v work on every command before or after its name, so do -vv and -qv as one
    word (click reads them as -v -v, -q -v before the name; after it they were 'no such option')."""
    for args in (("check", "-vv"), ("-vv", "check"), ("check", "-qv"), ("build", "-vq", "--format", "html")):
        result = cli(*args, "-C", str(mini))
        assert result.exit_code == 0, (args, result.stderr)
        assert ("q" in "".join(args)) == (result.stdout == ""), (args, result.stdout)
    result = cli("rules", "-vq")
    assert result.exit_code == 0 and "longer-retention" in result.stdout  # what it is asked for: see below


def test_quiet_keeps_what_a_command_is_asked_for(mini: Path, cli, tmp_path: Path) -> None:
    """-q silences what a command says about its work, not its result: 'policygen -q schema policy
    > policy.schema.json' wrote an empty file, and 'policygen -q diff --format json' no report."""
    schema = cli("-q", "schema", "policy")
    assert schema.exit_code == 0 and json.loads(schema.stdout)["title"]
    assert "longer-retention" in cli("rules", "-q").stdout
    old, new = tmp_path / "old.md", tmp_path / "new.md"
    old.write_text("# Privacy\n\nWe keep your e-mail address for one year.\n", encoding="utf-8")
    new.write_text("# Privacy\n\nWe keep your e-mail address for five years.\n", encoding="utf-8")
    report = cli("-q", "diff", str(old), str(new), "--format", "json", cwd=tmp_path)
    assert report.exit_code == 0 and json.loads(report.stdout)["reports"], report.stderr
    assert "document" in cli("diff", str(old), str(new), "-q", cwd=tmp_path).stdout  # the text summary too
    status = cli("i18n", "status", "-q", "--format", "json", "-C", str(mini))
    assert json.loads(status.stdout)["catalogs"], status.stdout
    assert cli("-q", "check", "-C", str(mini)).stdout == ""  # 'OK: ...' is about the work: silenced


def test_the_summaries_count_one_output_in_the_singular(mini: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """'1 other output rendered', '1 file written': the build's summary line and serve's."""
    from policygen import api
    from policygen.build import BuildResult
    from policygen.serve import _summary

    one = BuildResult(mini / "output", [], written=["a.html"], unchanged=["b.html"], pages=1, rendered={"draft-html": 1},
                      cached={"html": 1})
    monkeypatch.setattr(api, "build", lambda *args, **kwargs: one)
    result = cli("build", "-C", str(mini))
    assert result.exit_code == 0, result.stderr
    assert "1 page into" in result.stdout and "1 other output rendered, 1 from cache; 1 file written, 1 unchanged" in result.stdout, result.stdout
    assert _summary("html", one).startswith("HTML: 1 page, 1 file written, 1 unchanged"), _summary("html", one)


def test_a_rebuild_with_nothing_to_do_counts_what_the_build_makes(mini: Path, cli) -> None:
    """The summary of a rebuild answered from the cache's record counts the files that build
    makes, as the build it repeats did: before, it counted every file of the output folder
    (a build of one locale said '0 files written, 8 unchanged' after '2 files written, 3 unchanged')."""
    assert cli("build", cwd=mini).exit_code == 0
    for args in (("-l", "nl"), ("-p", "mini", "-l", "en")):
        first = cli("build", *args, "--allow-incomplete", cwd=mini)
        again = cli("build", *args, "--allow-incomplete", cwd=mini)
        assert first.exit_code == again.exit_code == 0

        def counted(stdout: str) -> int:
            written, unchanged = stdout.split(" written, ")[0].rsplit(" ", 2)[-2], stdout.split(" written, ")[1].split(" ")[0]
            return int(written) + int(unchanged)

        assert counted(again.stdout) == counted(first.stdout), (first.stdout, again.stdout)


def test_build_no_cache_says_what_it_bypasses(cli) -> None:
    """--no-cache renders every output again and leaves the cache alone; its help said 'every PDF'."""
    result = cli("build", "--help")
    assert "neither reading nor writing" in " ".join(result.stdout.replace("│", " ").split())
