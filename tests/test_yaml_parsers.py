"""YAML through libyaml's parser and through PyYAML's pure-Python one: the same data, the same
line of every value, the same problems in the same words (:mod:`policygen.source.files`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from policygen.errors import Collector
from policygen.source import files

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_YAML = sorted([*ROOT.glob("*.yaml"), *(ROOT / "sources").glob("*/*.yaml"), *(ROOT / "tests" / "fixtures").rglob("*.yaml")])

pytestmark = pytest.mark.skipif(files._loaders()[1] is None, reason="PyYAML without libyaml: only the pure-Python parser is there")


def _both(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[tuple[object, list[str]], tuple[object, list[str]]]:
    fast_errors, pure_errors = Collector(), Collector()
    fast = files.read_yaml(path, fast_errors)
    with monkeypatch.context() as patch:
        pure_only = (files._loaders()[0], None)
        patch.setattr(files, "_loaders", lambda: pure_only)
        pure = files.read_yaml(path, pure_errors)
    as_data = [(r[0], r[1].lines) if r is not None else None for r in (fast, pure)]
    return (as_data[0], [d.format() for d in fast_errors.items]), (as_data[1], [d.format() for d in pure_errors.items])


def test_the_sample_and_fixtures_read_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    assert len(SAMPLE_YAML) > 20
    for path in SAMPLE_YAML:
        fast, pure = _both(path, monkeypatch)
        assert fast == pure, path


@pytest.mark.parametrize("text", [
    "a: 1\na: 2\n",  # a duplicate key: found after parsing, the same for both
    "a: [1, 2\n",  # unclosed: libyaml refuses it, the pure-Python parser says where
    "a: 'open\nb: 2\n",
    "a:\n\t- b\n",  # a tab
    "a: \x1b\n",  # a control character
    "- " * 40 + "x\n",  # nested too deep
    "[" * 100_000,  # nested far too deep: refused, no crash
    "a: &x [1]\nb: *x\n",  # an alias
    "<<: {a: 1}\n",
    "a: !!binary aGVsbG8=\n",
    "a: !!int x\n",
    "key: value\n...\n---\nother: 1\n",  # two documents
    "",
])
def test_problems_are_the_same_whichever_parser(text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "file.yaml"
    path.write_text(text, encoding="utf-8")
    fast, pure = _both(path, monkeypatch)
    assert fast == pure
