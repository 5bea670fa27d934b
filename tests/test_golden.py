"""Golden tests: the rendered site of each fixture project, byte for byte, in every locale.

The expected files live in ``golden/<project>/``, mirroring ``output/`` (pages and manifest).
After an intended change, regenerate them with ``POLICYGEN_UPDATE_GOLDEN=1 pytest
tests/test_golden.py`` and review the diff like any other change.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from conftest import GOLDEN, MINI, SAMPLE, built_sample, copy_project

from policygen.build import build
from policygen.scaffold import init_project

UPDATE = os.environ.get("POLICYGEN_UPDATE_GOLDEN") == "1"
TODAY = date(2026, 11, 22)  # builds depend on the date (banners, upcoming versions): fix it


def make_project(name: str, tmp_path: Path) -> Path:
    if name == "starter":
        init_project(tmp_path / "starter")
        return tmp_path / "starter"
    return copy_project({"mini": MINI, "tonle": SAMPLE}[name], tmp_path / name)


def compared(output: Path) -> dict[str, bytes]:
    # Pages and the manifest. Fragments are checked against their page below; the CSS and the
    # font are copied from the package unchanged.
    return {
        p.relative_to(output).as_posix(): p.read_bytes()
        for p in sorted(output.rglob("*"))
        if p.is_file() and p.suffix in (".html", ".json") and p.name != "fragment.html"
        and "versions" not in p.relative_to(output).parts  # byte copies of the archive, checked by hash
    }


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """``site(name)``: the output folder of that project built (HTML, on ``TODAY``), once per
    module and worker; the tests here only read it."""
    built: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name == "tonle" and name not in built:  # the same build as conftest's built_sample, shared across the run
            built[name] = built_sample(tmp_path_factory, TODAY.isoformat()) / "output"
        if name not in built:
            built[name] = build(make_project(name, tmp_path_factory.mktemp(name)), formats=["html"], today=TODAY).output_dir
        return built[name]

    return get


@pytest.mark.parametrize("name", ["starter", "mini", "tonle"])
def test_golden_site(name: str, site: Callable[[str], Path]) -> None:
    files = compared(site(name))
    golden = GOLDEN / name
    if UPDATE:
        shutil.rmtree(golden, ignore_errors=True)
        for rel, data in files.items():
            (golden / rel).parent.mkdir(parents=True, exist_ok=True)
            (golden / rel).write_bytes(data)
    expected = {p.relative_to(golden).as_posix(): p.read_bytes() for p in sorted(golden.rglob("*")) if p.is_file()}
    assert sorted(files) == sorted(expected)
    for rel, data in files.items():
        assert data.decode("utf-8") == expected[rel].decode("utf-8"), f"{name}/{rel} differs from the golden file"


@pytest.mark.parametrize("name", ["starter", "tonle"])
def test_fragment_is_the_pages_article(name: str, site: Callable[[str], Path]) -> None:
    output = site(name)
    fragments = sorted(output.rglob("fragment.html"))
    assert len(fragments) >= 3, "every page has a fragment"
    for fragment in fragments:
        page = (fragment.parent / "index.html").read_text(encoding="utf-8")
        text = fragment.read_text(encoding="utf-8")
        assert text.startswith("<article ") and text.rstrip().endswith("</article>")
        assert "<html" not in text and "<head>" not in text and "<body" not in text
        assert text in page


def test_pages_have_lang_dir_toc_anchors_and_alternates(site: Callable[[str], Path]) -> None:
    output = site("tonle")
    for locale in ("en", "nl", "km"):
        page = (output / "tonle-privacy" / locale / "index.html").read_text(encoding="utf-8")
        assert f'<html lang="{locale}" dir="ltr">' in page
        for other in ("en", "nl", "km"):
            assert f'<link rel="alternate" hreflang="{other}" href="' in page
        assert '<link rel="alternate" hreflang="x-default" href="' in page
        toc_targets = re.findall(r'<li><a href="#([^"]+)">', page.split('<nav class="policy-toc"')[1].split("</nav>")[0])
        ids = set(re.findall(r' id="([^"]+)"', page))
        assert toc_targets and set(toc_targets) <= ids
        assert len(ids) == len(re.findall(r' id="([^"]+)"', page)), "duplicate id attributes"
        for target in re.findall(r'href="#([^"]+)"', page):
            assert target in ids, f"{locale}: dangling in-page link #{target}"
    km = (output / "tonle-privacy" / "km" / "index.html").read_text(encoding="utf-8")
    assert '<time datetime="2026-03-01">ថ្ងៃទី១\u00a0ខែមីនា ឆ្នាំ២០២៦</time>' in km
