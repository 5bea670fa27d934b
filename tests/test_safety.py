"""Markdown is safe by default: raw HTML is text, only safe link schemes pass, nothing remote
is embedded, and IDs that become paths are validated."""

from __future__ import annotations

from pathlib import Path

import pytest


def write_prose(project: Path, body: str) -> None:
    (project / "sources" / "mini" / "policy.md").write_text("# Mini policy\n\n## About {#about}\n\n" + body + "\n", encoding="utf-8")


def test_raw_html_is_escaped(mini: Path, cli) -> None:
    write_prose(mini, '<script>alert(1)</script>\n\n{#p}\nInline <img src=x onerror="alert(1)"> and <b>bold</b>.')
    result = cli("build", "--locale", "en", cwd=mini)
    assert result.exit_code == 0, result.stderr
    page = (mini / "output" / "mini" / "en" / "index.html").read_text(encoding="utf-8")
    assert "<script" not in page and "<img" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page


@pytest.mark.parametrize("href", [
    "javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:text/html,x", "file:///etc/passwd", "vbscript:x", "//evil.example/x", "../other/policy.html",
])
def test_unsafe_links_are_errors(mini: Path, cli, href: str) -> None:
    write_prose(mini, f"{{#p}}\nSee [this]({href}).")
    result = cli("check", cwd=mini)
    assert result.exit_code == 1
    assert f"sources/mini/policy.md:6: link to '{href}' is not allowed" in result.stderr


@pytest.mark.parametrize("href", ["https://example.org/a?b=c", "http://example.org", "mailto:a@example.org", "tel:+31200000000", "#about"])
def test_safe_links_pass(mini: Path, cli, href: str) -> None:
    write_prose(mini, f"{{#p}}\nSee [this]({href}) and <https://example.org/auto>.")
    result = cli("build", "--locale", "en", cwd=mini)
    assert result.exit_code == 0, result.stderr
    page = (mini / "output" / "mini" / "en" / "index.html").read_text(encoding="utf-8")
    assert f'href="{href.replace("&", "&amp;")}"' in page
    assert 'href="https://example.org/auto"' in page


def test_unsafe_link_in_translation_is_an_error(mini: Path, cli) -> None:
    po = mini / "locales" / "nl" / "LC_MESSAGES" / "mini.po"
    po.write_text(po.read_text(encoding="utf-8").replace("zie [je rechten](#rights).", "zie [je rechten](javascript:alert(1))."), encoding="utf-8")
    result = cli("check", cwd=mini)
    assert result.exit_code == 1
    assert "locales/nl/LC_MESSAGES/mini.po:" in result.stderr
    assert "clause 'about-list.2': link to 'javascript:alert(1)' is not allowed" in result.stderr


def test_no_remote_resources_in_pages(sample: Path, cli) -> None:
    assert cli("build", cwd=sample).exit_code == 0
    for page in (sample / "output").rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        for tag in ("<img", "<script", "<iframe", "<object", "<embed", "@import"):
            assert tag not in text, (page, tag)
        assert 'src="http' not in text and "url(http" not in text
    css = (sample / "output" / "assets" / "policygen.css").read_text(encoding="utf-8")
    assert "url(http" not in css and "@import" not in css


def test_theme_overrides_templates_and_assets(mini: Path, cli) -> None:
    theme = mini / "theme"
    (theme / "templates").mkdir(parents=True)
    (theme / "assets").mkdir()
    (theme / "templates" / "page.html").write_text("<!DOCTYPE html><html lang=\"{{ locale }}\"><body class=\"acme\">{{ fragment "
        "}}</body></html>\n", encoding="utf-8")
    (theme / "assets" / "policygen.css").write_text("body { color: black; }\n", encoding="utf-8")
    result = cli("build", cwd=mini)
    assert result.exit_code == 0, result.stderr
    page = (mini / "output" / "mini" / "en" / "index.html").read_text(encoding="utf-8")
    assert page.startswith('<!DOCTYPE html><html lang="en"><body class="acme"><article')
    assert (mini / "output" / "assets" / "policygen.css").read_text(encoding="utf-8") == "body { color: black; }\n"


def test_theme_assets_behind_a_folder_link_are_published_and_one_out_of_the_project_refused(mini: Path, cli, tmp_path: Path) -> None:
    """theme/assets/img linked to a folder elsewhere in the project: the PDF's fetcher reads its
    files and the PDF's key counts them, so the site publishes them too (it did not: rglob does not
    enter folder links, and a page's <img src="assets/img/..."> broke). A folder link that leads out
    of the project is refused, as a file link out is, instead of being skipped without a word."""
    (mini / "images").mkdir()
    (mini / "images" / "logo.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>\n", encoding="utf-8")
    (mini / "theme" / "assets").mkdir(parents=True)
    (mini / "theme" / "assets" / "img").symlink_to(Path("..") / ".." / "images")
    result = cli("build", "--format", "html", cwd=mini)
    assert result.exit_code == 0, result.stderr
    assert (mini / "output" / "assets" / "img" / "logo.svg").read_bytes() == (mini / "images" / "logo.svg").read_bytes()
    manifest = (mini / "output" / "manifest.json").read_text(encoding="utf-8")
    assert '"assets/img/logo.svg"' in manifest
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "secret.txt").write_text("not the project's\n", encoding="utf-8")
    (mini / "theme" / "assets" / "ext").symlink_to(outside)
    result = cli("check", "--no-cache", cwd=mini)
    assert result.exit_code == 1
    assert "theme/assets/ext: leads outside the project" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_unsafe_policy_folder_name(mini: Path, cli) -> None:
    (mini / "sources" / "mini").rename(mini / "sources" / "Mini_Policy")
    result = cli("check", cwd=mini)
    assert result.exit_code == 1
    assert "sources/Mini_Policy: policy ID 'Mini_Policy' is not a safe slug" in result.stderr
