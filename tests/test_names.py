"""IDs, version labels and locales: what becomes a path, a URL or a ``<meta>`` value is refused
unless it is plainly safe, with a message that says what to write instead.

* Patterns are full matches: ``^[a-z]+$`` with ``re.match`` accepts ``'evil\\n'``, because
  Python's ``$`` also matches before a final newline (the first release published a folder
  ``evil\\n/`` and a version ``1.0\\n`` in its pages).
* Windows keeps some names for devices (``CON``, ``nul.txt``, ``COM1``) and drops a final dot
  (``v1.`` is ``v1``): an archive meant to be committed to git must check out everywhere.
* A letter that only looks Latin (Cyrillic ``а``) or an invisible character is named in the
  message, so the author can find it.
* Every command that takes ``--locale`` refuses one the project does not publish.

The file-based cases live in ``fixtures/bad/`` (``version-*``, ``fact-id-*``, ``clause-id-*``,
``section-id-*``); these tests cover what a fixture folder cannot hold (folder names) and the
commands other than ``check`` and ``build``.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policygen.archive.store import VERSION_RE
from policygen.model import SLUG_RE, is_safe_slug, quoted, slug_problem, version_problem, windows_reserved
from policygen.source.load import _ecma_pattern


@pytest.mark.parametrize("value", ["mini", "acme-privacy", "a1", "com10", "console", "nul-policy", "x" * 64])
def test_safe_slugs(value: str) -> None:
    assert is_safe_slug(value) and slug_problem(value) is None


@pytest.mark.parametrize(("value", "says"), [
    ("evil\n", "ends in a line break (U+000A); remove it"),
    ("evil\r\n", "contains a carriage return (U+000D); remove it"),
    ("\tevil", "starts with a tab (U+0009); remove it"),
    ("ev il", "contains a space (U+0020); remove it"),
    ("con", "is a device name on Windows"),
    ("nul", "is a device name on Windows"),
    ("com1", "is a device name on Windows"),
    ("lpt9", "is a device name on Windows"),
    ("dаta", "contains 'а' (U+0430 CYRILLIC SMALL LETTER A), which only looks like 'a'; type it as 'a'"),
    ("ｄata", "starts with 'ｄ' (U+FF44 FULLWIDTH LATIN SMALL LETTER D), which only looks like 'd'"),
    ("a\u2013b", "contains '\u2013' (U+2013 EN DASH), which only looks like '-'"),
    ("ab\u200b", "ends in the invisible character U+200B ZERO WIDTH SPACE; remove it"),
    ("café", "ends in 'é' (U+00E9 LATIN SMALL LETTER E WITH ACUTE); use only lowercase letters a-z, digits and hyphens"),
    ("", "is empty"),
    ("Mini_Policy", "is not a safe slug"),
    ("../x", "is not a safe slug"),
    ("a--b", "is not a safe slug"),
    ("x" * 65, "is not a safe slug"),
])
def test_unsafe_slugs(value: str, says: str) -> None:
    problem = slug_problem(value)
    assert not is_safe_slug(value)
    assert problem is not None and says in problem
    assert "\n" not in problem


@pytest.mark.parametrize(("label", "says"), [
    ("1.0\n", "ends in a line break"),
    ("1.0 ", "ends in a space"),
    ("v1.", "ends in a dot, which Windows drops from folder names"),
    ("CON", "is a device name on Windows"),
    ("Com1", "is a device name on Windows"),
    ("nul.txt", "is a device name on Windows"),
    ("aux.1.2", "is a device name on Windows"),
    ("1.О", "which only looks like 'O'"),
    ("../1.3", "is not safe"),
    ("-1", "is not safe"),
    ("x" * 33, "is not safe"),
])
def test_unsafe_version_labels(label: str, says: str) -> None:
    problem = version_problem(label)
    assert problem is not None and says in problem
    assert VERSION_RE.fullmatch(label) is None


@pytest.mark.parametrize("label", ["1", "1.0", "3.1.4", "2026-03", "v2_beta", "com10", "CONSOLE", "x" * 32])
def test_safe_version_labels(label: str) -> None:
    assert version_problem(label) is None and VERSION_RE.fullmatch(label)


@settings(max_examples=300, derandomize=True, deadline=None, database=None)
@given(st.text(alphabet=st.sampled_from("aAcCoOnNuUlLpPtTmM019._- \n\u0430"), max_size=8))
def test_version_pattern_and_check_agree(label: str) -> None:
    """The archive's ``VERSION_RE`` (which reads ``release.json``) and the check that explains a
    refusal accept exactly the same labels."""
    assert (VERSION_RE.fullmatch(label) is not None) == (version_problem(label) is None)


@settings(max_examples=300, derandomize=True, deadline=None, database=None)
@given(st.text(alphabet=st.sampled_from("aconul019-_. \nA\u0430"), max_size=8))
def test_slug_pattern_is_a_full_match(value: str) -> None:
    assert is_safe_slug(value) == (SLUG_RE.fullmatch(value) is not None and len(value) <= 64 and not windows_reserved(value))


def test_quoted_keeps_a_message_on_one_line() -> None:
    assert quoted("evil\n") == "'evil\\n'"
    assert quoted("a\u200bb") == "'a\\u200bb'"
    assert quoted("dаta") == "'dаta'"


@pytest.mark.parametrize(("pattern", "text", "matches"), [
    ("^[a-z]+$", "evil\n", False), ("^[a-z]+$", "evil", True), ("\\$", "cost $", True), ("[$]", "$", True),
    ("^https?://[^\\s]+$", "https://x.example\n", False), ("\\S", " x ", True),
])
def test_schema_patterns_mean_what_ecma_says(pattern: str, text: str, matches: bool) -> None:
    """JSON Schema patterns are ECMA-262 regexes, where ``$`` is the very end of the text."""
    assert (re.search(_ecma_pattern(pattern), text) is not None) is matches


# --- through the command line ---------------------------------------------------------------------


def _policy_folder(project: Path, name: str) -> None:
    shutil.copytree(project / "sources" / "mini", project / "sources" / name)


@pytest.mark.parametrize(("name", "shown"), [
    ("evil\n", "sources: policy ID 'evil\\n' ends in a line break (U+000A); remove it"),
    ("con", "sources/con: policy ID 'con' is a device name on Windows"),
    ("nul", "sources/nul: policy ID 'nul' is a device name on Windows"),
    ("mіni", "sources/mіni: policy ID 'mіni' contains 'і' (U+0456 CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I), which only looks like 'i'"),
])
@pytest.mark.parametrize("command", ["check", "build"])
def test_unsafe_policy_folders(mini: Path, cli, name: str, shown: str, command: str) -> None:
    _policy_folder(mini, name)
    result = cli(command, cwd=mini)
    assert result.exit_code == 1 and result.exception is None
    lines = result.stderr.splitlines()
    assert lines[0].startswith(shown), result.stderr
    assert lines[-1] == "policygen: 1 error"
    assert not (mini / "output").exists()


@pytest.mark.parametrize(("label", "says"), [
    ("CON", "version label 'CON' is a device name on Windows"),
    ("COM1", "version label 'COM1' is a device name on Windows"),
    ("v1.", "version label 'v1.' ends in a dot"),
    ("1.0\n", "version label '1.0\\n' ends in a line break"),
])
def test_release_refuses_unsafe_version_labels(mini: Path, cli, label: str, says: str) -> None:
    result = cli("release", "mini", "--version", label, "--effective", "2026-05-05", cwd=mini)
    assert result.exit_code == 1 and result.exception is None
    assert says in result.stderr
    assert not (mini / "archive").exists()


def test_import_refuses_unsafe_policy_ids(mini: Path, tmp_path: Path, cli) -> None:
    text = tmp_path / "in.txt"
    text.write_text("Privacy\n\nWe collect your e-mail.\n", encoding="utf-8")
    for name in ("con", "nul", "evil\n", "dаta"):
        result = cli("import", str(text), "--policy", name, "--lang", "en", cwd=mini)
        assert result.exit_code == 1 and result.exception is None, name
    assert sorted(p.name for p in (mini / "sources").iterdir()) == ["mini"]


LOCALE_COMMANDS = [("i18n", "status"), ("i18n", "check"), ("i18n", "export"), ("build",)]


@pytest.mark.parametrize("command", LOCALE_COMMANDS, ids=" ".join)
def test_every_command_refuses_an_unknown_locale(mini: Path, cli, command: tuple[str, ...]) -> None:
    """``kh`` is a common slip for Khmer (``km``): no command may report "complete" or "OK" for it."""
    result = cli(*command, "--locale", "kh", cwd=mini)
    assert result.exit_code == 1 and result.exception is None
    assert result.stderr.splitlines() == ["policygen.yaml: unknown locale 'kh'; this project publishes en, nl, km (did you mean 'km'?)",
                                          "policygen: 1 error"]
    assert result.stdout == ""
    assert not (mini / "output").exists() and not (mini / "xliff").exists()


@pytest.mark.parametrize("command", LOCALE_COMMANDS, ids=" ".join)
def test_unknown_locales_are_all_named(mini: Path, cli, command: tuple[str, ...]) -> None:
    result = cli(*command, "--locale", "xx", "--locale", "nl", "--locale", "en\n", cwd=mini)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["policygen.yaml: unknown locale 'en\\n'; this project publishes en, nl, km (did you mean 'en'?)",
                                          "policygen.yaml: unknown locale 'xx'; this project publishes en, nl, km", "policygen: 2 errors"]


@pytest.mark.parametrize(("policy", "says"), [
    ("con", "policy ID 'con' is a device name on Windows"),
    ("evil\n", "policy ID 'evil\\n' ends in a line break (U+000A); remove it"),
    ("Bad", "policy ID 'Bad' is not a safe slug; use lowercase letters"),
])
def test_import_refuses_unsafe_policy_ids_with_the_shared_wording(mini: Path, tmp_path: Path, cli, policy: str, says: str) -> None:
    source = tmp_path / "old.txt"
    source.write_text("Privacy notice\n\nWe collect your name and your e-mail address.\n", encoding="utf-8")
    result = cli("import", str(source), "--policy", policy, "--lang", "en", cwd=mini)
    assert result.exit_code == 1 and result.exception is None
    assert f"policygen: {says}" in result.stderr
    assert not (mini / "sources" / policy).exists()


@pytest.mark.parametrize("command", [
    ("archive", "list", "../sources"),
    ("archive", "show", "../../elsewhere", "--at", "2026-06-01"),
    ("archive", "show", "/tmp/elsewhere", "--at", "2026-06-01"),
    ("diff", "../elsewhere@1.0", "mini@1.0"),
])
def test_a_policy_named_on_the_command_line_is_an_id_not_a_path(mini: Path, cli, command: tuple[str, ...]) -> None:
    """archive list, archive show and diff POLICY@VERSION read archive/<policy>/: a policy
    argument with '..' or a leading '/' read the release.json files of another folder (and
    'archive list ../sources' answered 'no releases yet')."""
    result = cli(*command, cwd=mini)
    assert result.exit_code == 1 and result.exception is None, result.exception
    assert "is not a safe slug" in result.stderr, result.stderr
