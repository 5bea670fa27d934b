"""No traceback on a user's mistake, and limits that keep any input from exhausting the machine.

The cases that fit a fixture folder live in ``fixtures/bad/`` (``yaml-nul-byte*``,
``yaml-control-character-config``, ``yaml-deep-nesting``, ``yaml-unreadable-value``,
``yaml-binary-tag``, ``date-out-of-range``, ``theme-template-*``); these cover the commands
other than ``check`` and ``build``, files too large to keep in the repository, and links.
The limits are documented in docs/security.md.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from policygen.archive.store import Release
from policygen.errors import Collector
from policygen.render.archive_pages import active_banner
from policygen.source.files import MAX_NESTING, MAX_SOURCE_BYTES, read_yaml

SECRET = "secret-token-1234"


def _no_traceback(result) -> None:  # type: ignore[no-untyped-def]
    assert result.exception is None, f"crashed instead of reporting: {result.exception!r}"
    assert "Traceback" not in result.stdout + result.stderr


# --- policygen.yaml ------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [("check",), ("build",), ("i18n", "status"), ("i18n", "extract"), ("rules",)], ids=" ".join)
def test_config_linked_to_outside_is_not_read(mini: Path, tmp_path: Path, cli, command: tuple[str, ...]) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text(SECRET + "\n", encoding="utf-8")
    (mini / "policygen.yaml").unlink()
    os.symlink(outside, mini / "policygen.yaml")
    result = cli(*command, cwd=mini)
    _no_traceback(result)
    assert result.exit_code == 1
    assert "leads outside the project" in result.stderr
    assert SECRET not in result.stdout + result.stderr
    assert not (mini / "output").exists()


def test_config_linked_inside_the_project_is_read(mini: Path, cli) -> None:
    (mini / "config").mkdir()
    (mini / "policygen.yaml").rename(mini / "config" / "policygen.yaml")
    os.symlink(Path("config") / "policygen.yaml", mini / "policygen.yaml")
    assert cli("check", cwd=mini).exit_code == 0


def test_config_that_is_a_folder(mini: Path, cli) -> None:
    (mini / "policygen.yaml").unlink()
    (mini / "policygen.yaml").mkdir()
    result = cli("check", cwd=mini)
    _no_traceback(result)
    assert result.exit_code == 1 and "no policygen.yaml here" in result.stderr


# --- sizes and depths ----------------------------------------------------------------------------


def test_source_file_size_limit(mini: Path, cli) -> None:
    prose = mini / "sources" / "mini" / "policy.md"
    prose.write_text(prose.read_text(encoding="utf-8") + "\nMore text.\n" * (MAX_SOURCE_BYTES // 10), encoding="utf-8")
    result = cli("check", cwd=mini)
    _no_traceback(result)
    assert result.stderr.splitlines()[0] == ("sources/mini/policy.md: larger than 4 MB, the most policygen reads from one source file; split it or "
                                             "remove what does not belong in it")


@pytest.mark.parametrize("text", [
    "deep: " + "[" * 100_000 + "]" * 100_000 + "\n",
    "deep: " + "{a: " * 5_000 + "1" + "}" * 5_000 + "\n",
    "".join("  " * i + f"k{i}:\n" for i in range(200)) + "  " * 200 + "v\n",
    "- " * 5_000 + "x\n",
], ids=["flow-sequences", "flow-mappings", "block-mappings", "block-sequences"])
def test_nesting_limit(tmp_path: Path, text: str) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text(text, encoding="utf-8")
    errors = Collector()
    assert read_yaml(path, errors) is None
    assert [d.message for d in errors.items] == [f"malformed YAML: collections nested more than {MAX_NESTING} levels deep; policygen's files need a few"]


def test_nesting_within_the_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text("a: " + "[" * (MAX_NESTING - 1) + "1" + "]" * (MAX_NESTING - 1) + "\n", encoding="utf-8")
    loaded = read_yaml(path, Collector())
    assert loaded is not None


@pytest.mark.parametrize("name", ["policygen.yaml", "glossary.yaml", "rules.yaml"])
def test_nul_byte_in_any_yaml_file(mini: Path, cli, name: str) -> None:
    path = mini / name
    path.write_bytes((path.read_bytes() if path.exists() else b"disable: []\n") + b'x: "\x00"\n')
    result = cli("rules" if name == "rules.yaml" else "check", cwd=mini)
    _no_traceback(result)
    assert result.exit_code == 1
    assert f"{name}:" in result.stderr and "contains a NUL byte (U+0000), which YAML does not allow" in result.stderr


# --- dates ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "says"), [
    (("build", "--today", "9999-12-31"), "--today: 9999-12-31 is outside the dates policygen works with (1900-01-01 to 2999-12-31)"),
    (("build", "--today", "1899-12-31"), "--today: 1899-12-31 is outside the dates policygen works with"),
    (("release", "mini", "--version", "2.0", "--effective", "9999-12-31"), "--effective: 9999-12-31 is outside the dates"),
    (("archive", "show", "mini", "--at", "0001-01-01"), "--at: 0001-01-01 is outside the dates"),
])
def test_date_options_out_of_range(mini: Path, cli, args: tuple[str, ...], says: str) -> None:
    result = cli(*args, cwd=mini)
    _no_traceback(result)
    assert result.exit_code == 1
    assert says in result.stderr
    assert not (mini / "output").exists() and not (mini / "archive").exists()


def test_banner_arithmetic_cannot_overflow() -> None:
    """A release made by an older policygen may carry any date: the notice period is worked out
    by subtracting dates, never by adding days to one."""
    rel = Release(policy="p", version="1", effective_date=date.max, sequence=1, released_notes="", severity="major", previous=None, files={},
                  locales=("en",), folder=Path("."), digest="0" * 64)
    notices = {"notices": {"en": {"banner": "Changes", "items": ["one"]}}}
    assert active_banner([rel], "en", date.max, 3650, lambda _rel: notices) is not None  # type: ignore[arg-type]
    assert active_banner([rel], "en", date.min, 3650, lambda _rel: notices) is not None  # type: ignore[arg-type]


# --- rules.yaml templates ------------------------------------------------------------------------

RULE = "rules:\n  - id: my-rule\n    severity: major\n    when: {{subject: data_category}}\n    reason: {reason}\n    basis: b\n{notice}"


@pytest.mark.parametrize(("reason", "notice", "says"), [
    ('"x {label.nope}"', "", "rules.yaml:5: reason uses {label.nope}; write the field alone, {label}"),
    ('"x {added[0]}"', "", "rules.yaml:5: reason uses {added[0]}; write the field alone, {added}"),
    ('"x {label!r}"', "", "rules.yaml:5: reason uses {label!r}; write the field alone, {label}"),
    ('"x {label:>99999999}"', "", "rules.yaml:5: reason uses {label:>99999999}; write the field alone, {label}"),
    ('"x {0}"', "", "rules.yaml:5: reason uses an unknown field {0}; available: {label}, {id}"),
    ('"x {}"', "", "rules.yaml:5: reason uses an unknown field {}; available:"),
    ('"x {label"', "", "rules.yaml:5: reason is not a valid template (expected '}' before end of string)"),
    ('"x }"', "", "rules.yaml:5: reason is not a valid template (Single '}' encountered in format string)"),
    ('"changed {label}"', '    notice: {en: "oops {nope}"}\n', "rules.yaml:7: notice (en) uses an unknown field {nope}; available: {label}"),
    ('"changed {label}"', '    notice:\n      en: "fine {label}"\n      nl: "{label.__class__}"\n',
     "rules.yaml:9: notice (nl) uses {label.__class__}; write the field alone, {label}"),
])
def test_rule_templates_are_checked(mini: Path, cli, reason: str, notice: str, says: str) -> None:
    (mini / "rules.yaml").write_text(RULE.format(reason=reason, notice=notice), encoding="utf-8")
    result = cli("rules", cwd=mini)
    _no_traceback(result)
    assert result.exit_code == 1
    assert result.stderr.startswith(says), result.stderr


def test_a_sound_rule_template_is_used(mini: Path, cli) -> None:
    (mini / "rules.yaml").write_text(RULE.format(reason='"{label} is now {{sensitive}}"', notice='    notice: {en: "{label} changed"}\n'),
                                     encoding="utf-8")
    result = cli("rules", cwd=mini)
    assert result.exit_code == 0, result.stderr
    assert "my-rule" in result.stdout


@pytest.mark.parametrize(("written", "key"), [("P" + "9" * 30 + "Y", "period: P5Y"), ("P1" + "0" * 4000 + "D", "response_time: P30D"),
                                              ("P100000D", "period: P5Y")])
@pytest.mark.parametrize("command", [("check",), ("build",), ("diff", "--format", "json", "old", ".")], ids=" ".join)
def test_a_duration_with_a_huge_number_is_an_error(mini: Path, tmp_path: Path, cli, written: str, key: str, command: tuple[str, ...]) -> None:
    """The duration pattern took any number of digits: Babel, which formats a number with 28
    significant digits, raised decimal.InvalidOperation on 'P' followed by 30 nines, and a
    diff's comparison of periods an OverflowError (int too large to convert to float)."""
    import shutil

    shutil.copytree(mini, mini.parent / "old")
    policy = mini / "sources" / "mini" / "policy.yaml"
    text = policy.read_text(encoding="utf-8")
    assert key in text
    policy.write_text(text.replace(key, key.split(":")[0] + ": " + written), encoding="utf-8")
    result = cli(*[c.replace("old", str(mini.parent / "old")) for c in command], cwd=mini)
    _no_traceback(result)
    assert result.exit_code == 1
    assert "sources/mini/policy.yaml:" in result.stderr and "at most 99999" in result.stderr, result.stderr
