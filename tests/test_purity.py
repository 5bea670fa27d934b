"""Rendering is a pure function of its inputs.

Notes (blocks and glossary labels shown untranslated) are worked out before rendering, so they are
the same whichever output is rendered, in whatever order and in however many processes; and no
renderer changes the frozen model it reads.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from policygen.build import build
from policygen.i18n.prepare import prepare
from policygen.render.html import render_policy
from policygen.render.pdf import render_pdf


@pytest.fixture
def label_missing(mini: Path) -> Path:
    """The mini project with the Dutch label of one data category left untranslated."""
    po = mini / "locales" / "nl" / "LC_MESSAGES" / "glossary.po"
    text = po.read_text(encoding="utf-8")
    text, count = re.subn(r'(msgctxt "data_category:health"\nmsgid "[^"]*"\nmsgstr )"[^"]*"', r'\1""', text)
    assert count == 1
    po.write_text(text, encoding="utf-8")
    return mini


def test_notes_are_the_same_for_any_number_of_pdf_workers(label_missing: Path, tmp_path: Path) -> None:
    one = build(label_missing, formats=["pdf"], jobs=1, allow_incomplete=True, output_dir=tmp_path / "one")
    two = build(label_missing, formats=["pdf"], jobs=2, allow_incomplete=True, output_dir=tmp_path / "two")
    html = build(label_missing, formats=["html"], allow_incomplete=True, output_dir=tmp_path / "html")
    assert one.missing_labels == {("mini", "nl"): 1}
    assert two.missing_labels == one.missing_labels == html.missing_labels
    assert two.untranslated == one.untranslated == html.untranslated


def test_pages_do_not_depend_on_render_order_and_leave_the_model_alone(label_missing: Path) -> None:
    project, localized = prepare(label_missing, allow_incomplete=True)
    before = [[t.as_dict() for t in item.policy.document.tokens] for item in localized]
    notes_before = [(item.missing_labels, item.fallback_locales) for item in localized]
    forward = [render_policy(project, item) for item in localized]
    backward = [render_policy(project, item) for item in reversed(localized)][::-1]
    render_pdf(project, localized[-1])
    again = [render_policy(project, item) for item in localized]
    assert forward == backward == again
    assert [[t.as_dict() for t in item.policy.document.tokens] for item in localized] == before
    assert [(item.missing_labels, item.fallback_locales) for item in localized] == notes_before
    dutch = next(i for i in localized if i.locale == "nl")
    assert dutch.missing_labels == (("data_category", "health"),)
    page = forward[localized.index(dutch)][0].decode("utf-8")
    assert '<span lang="en">health data</span>' in page or '<span lang="en">Health data</span>' in page
