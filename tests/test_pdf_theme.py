"""A PDF build reads only what it should, and reports a theme's style-sheet problems where
they are: the file and line of the theme's pdf.css (issue 16, findings F05 and F18)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from policygen.i18n.prepare import prepare
from policygen.render.pdf import pdf_source_html, render_pdf
from policygen.resources import font_files

PACKAGE_CSS = Path(__file__).resolve().parent.parent / "policygen" / "templates" / "pdf.css"


def test_theme_assets_linked_outside_the_project_are_refused(mini: Path, cli, tmp_path: Path) -> None:
    # F05: theme/assets is a link to a folder outside the project. Its files must not end up
    # in the PDF; a real theme/assets folder inside the project is still served.
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret-font.ttf").write_bytes(font_files().latin.read_bytes())
    (mini / "theme" / "templates").mkdir(parents=True)
    css = PACKAGE_CSS.read_text(encoding="utf-8")
    css += '\n@font-face { font-family: "Leak"; src: url("theme/assets/secret-font.ttf"); }\nh1 { font-family: "Leak"; }\n'
    (mini / "theme" / "templates" / "pdf.css").write_text(css, encoding="utf-8")
    (mini / "theme" / "assets").symlink_to(outside)
    result = cli("build", "--format", "pdf", "--locale", "en", cwd=mini)
    assert result.exit_code == 1
    assert "policygen does not fetch 'file:///policygen-project/theme/assets/secret-font.ttf'" in result.stderr
    assert not (mini / "output" / "mini" / "en" / "mini-en.pdf").exists()

    (mini / "theme" / "assets").unlink()
    (mini / "theme" / "assets").mkdir()
    (mini / "theme" / "assets" / "secret-font.ttf").write_bytes(font_files().latin.read_bytes())
    result = cli("build", "--format", "pdf", "--locale", "en", cwd=mini)
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize(("rule", "expected"), [
    ("body { background: url(http://evil.example/track.png) }", "policygen does not fetch 'http://evil.example/track.png'"),
    ("body { colour: red }", "Ignored `colour: red"),
])
def test_pdf_css_problems_point_at_the_css_line(mini: Path, cli, rule: str, expected: str) -> None:
    # F18: a problem in the theme's pdf.css is reported against that file and line, not
    # against the policy's prose.
    (mini / "theme" / "templates").mkdir(parents=True)
    css = PACKAGE_CSS.read_text(encoding="utf-8")
    line = css.count("\n") + 1
    (mini / "theme" / "templates" / "pdf.css").write_text(css + rule + "\n", encoding="utf-8")
    result = cli("build", "--format", "pdf", "--locale", "en", cwd=mini)
    assert result.exit_code == 1
    assert re.search(rf"theme/templates/pdf\.css:{line}: .*{re.escape(expected)}", result.stderr), result.stderr
    assert "policy.md" not in result.stderr


@pytest.mark.parametrize(("rule", "says"), [
    ("body { font-size: 1e308px; }", "cannot convert float infinity to integer, OverflowError"),
    ("p { counter-reset: a " + "9" * 5000 + "; }", "ValueError"),
    ("@media print {" * 10000 + "p { color: red; }" + "}" * 10000, "RecursionError"),
], ids=["huge-font-size", "huge-counter", "nested-media"])
def test_a_style_sheet_weasyprint_cannot_lay_out_is_a_diagnostic(mini: Path, cli, rule: str, says: str) -> None:
    """WeasyPrint parses these values and then fails on them: each was a traceback (from the PDF
    worker) instead of an error at the theme's pdf.css."""
    (mini / "theme" / "templates").mkdir(parents=True)
    (mini / "theme" / "templates" / "pdf.css").write_text(PACKAGE_CSS.read_text(encoding="utf-8") + "\n" + rule + "\n", encoding="utf-8")
    result = cli("build", "--format", "pdf", "--locale", "en", cwd=mini)
    assert result.exception is None, repr(result.exception)
    assert result.exit_code == 1
    assert result.stderr.startswith("theme/templates/pdf.css: PDF (en): WeasyPrint cannot lay out this PDF ("), result.stderr
    assert says in result.stderr, result.stderr


def test_pdf_templates_never_see_where_policygen_is_installed(mini: Path) -> None:
    """Fonts reach the PDF's HTML under a fixed name: a theme that prints them shows no path."""
    project, localized = prepare(mini)
    html = pdf_source_html(project, localized[0])
    installed = str(font_files().latin.parent)
    assert installed not in html
    assert "file:///policygen-fonts/latin.ttf" in html


def test_a_phone_number_is_never_broken_across_lines(mini: Path) -> None:
    """A paragraph of phone numbers, long enough to wrap many times: each number is on one line
    of the PDF's text. Before pdf.css kept a tel: link together, lines broke at the spaces inside
    numbers ('+31 20' at the end of one line, '555 0107' on the next), and a reader who copied
    one line dialled a wrong number."""
    numbers = [f"+31 20 555 {100 + i:04d}" for i in range(40)]
    links = ", ".join(f"[{n}](tel:{n.replace(' ', '')})" for n in numbers)
    prose = mini / "sources" / "mini" / "policy.md"
    prose.write_text(prose.read_text(encoding="utf-8") + f"\n{{#phones}}\nCall {links}.\n", encoding="utf-8")
    project, localized = prepare(mini, locales=["en"], allow_incomplete=True)
    pdf = render_pdf(project, localized[0], project.config.pdf_variant)
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode("utf-8")
    lines = [line.strip() for line in text.splitlines()]
    assert sum(1 for line in lines if "+31 20 555" in line) > 3  # the paragraph did wrap
    broken = [n for n in numbers if not any(n in line for line in lines)]
    assert not broken, broken
