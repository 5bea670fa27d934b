"""Render stage: :class:`~policygen.localize.LocalizedPolicy` -> HTML page and fragment bytes.

The policy body is rendered by markdown-it's renderer with a few rules of our own (sections,
permalinks on headings, placeholders, source-language spans). Around it, Jinja2 templates
build the page: the package's templates, unless the project's ``theme/templates/`` has one of
the same name. Templates are autoescaped; the only markup that reaches them unescaped is what
this module rendered from tokens.
"""

from __future__ import annotations

import html
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markupsafe import Markup

from . import __version__
from .localize import Formatter, LocalizedPolicy, starts_sentence
from .model import Project
from .prose import PARSER


class PolicyRenderer(RendererHTML):
    """markdown-it's HTML renderer, taught policygen's tokens."""

    def render(self, tokens: Sequence[Token], options: Any, env: Any) -> str:
        out = []
        for i, token in enumerate(tokens):
            if token.type == "inline":
                out.append(self.inline(token, options, env))
            elif token.type in self.rules:
                out.append(self.rules[token.type](tokens, i, options, env))
            else:
                out.append(self.renderToken(tokens, i, options, env))
        return "".join(out)

    def inline(self, token: Token, options: Any, env: Any) -> str:
        rendered = self.renderInline(token.children or [], options, env)
        lang = (token.meta or {}).get("lang")
        return f'<span lang="{lang}">{rendered}</span>' if lang else rendered

    def placeholder(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        formatter: Formatter = env["formatter"]
        opened = sum(1 if t.type == "link_open" else -1 if t.type == "link_close" else 0 for t in tokens[:idx])
        return formatter.render(tokens[idx].content, sentence_start=starts_sentence(list(tokens), idx), in_link=opened > 0)

    def section_open(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return f'<section aria-labelledby="{tokens[idx].meta["id"]}">\n'

    def section_close(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return "</section>\n"

    def heading_close(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        opener = tokens[idx - 2]
        ident = opener.attrGet("id")
        link = ""
        if ident:
            label = html.escape(env["formatter"].ui("link_to_section"))
            link = f' <a class="permalink" href="#{ident}" aria-label="{label}">#</a>'
        return f"{link}</{tokens[idx].tag}>\n"

    def link_open(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        token = tokens[idx]
        href = str(token.attrGet("href") or "")
        if not href.startswith("#") and not href.startswith(("mailto:", "tel:")):
            token.attrSet("rel", "noopener noreferrer")
        return self.renderToken(tokens, idx, options, env)


@cache
def _renderer() -> PolicyRenderer:
    renderer = PolicyRenderer(PARSER)
    renderer.rules["placeholder"] = renderer.placeholder
    renderer.rules["section_open"] = renderer.section_open
    renderer.rules["section_close"] = renderer.section_close
    renderer.rules["heading_close"] = renderer.heading_close
    renderer.rules["link_open"] = renderer.link_open
    return renderer


def render_body(tokens: Sequence[Token], formatter: Formatter) -> str:
    return _renderer().render(tokens, PARSER.options, {"formatter": formatter})


def render_title(title: Token, formatter: Formatter) -> str:
    return _renderer().inline(title, PARSER.options, {"formatter": formatter})


def environment(project: Project) -> jinja2.Environment:
    """Templates from the project's theme first, then the package's own."""
    loaders: list[jinja2.BaseLoader] = []
    theme = project.theme_dir / "templates"
    if theme.is_dir():
        loaders.append(jinja2.FileSystemLoader(str(theme)))
    loaders.append(jinja2.PackageLoader("policygen", "templates"))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders), autoescape=True, undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )
    return env


@dataclass(frozen=True, slots=True)
class PagePaths:
    """Where a policy's outputs go, relative to the output folder (always POSIX)."""

    policy: str
    locale: str

    @property
    def page(self) -> str:
        return f"{self.policy}/{self.locale}/index.html"

    @property
    def fragment(self) -> str:
        return f"{self.policy}/{self.locale}/fragment.html"

    @property
    def folder(self) -> str:
        return f"{self.policy}/{self.locale}/"


def relative(from_file: str, to: str) -> str:
    """A relative URL from one output file to another, so the site works from any base path."""
    rel = posixpath.relpath(to, posixpath.dirname(from_file) or ".")
    if to.endswith("/"):
        rel += "/"
    return rel


def render_policy(project: Project, localized: LocalizedPolicy) -> tuple[bytes, bytes]:
    """The full page and the body-only fragment of one policy in one locale."""
    policy, locale, fmt = localized.policy, localized.locale, localized.formatter
    paths = PagePaths(policy.id, locale)
    env = environment(project)
    base = project.config.base_url
    alternates = []
    # The same order on every page of the site, whatever order a policy lists its locales in.
    order = {loc: i for i, loc in enumerate(project.config.locales)}
    for other in sorted(policy.locales, key=lambda loc: order.get(loc, len(order))):
        target = PagePaths(policy.id, other).folder
        alternates.append({
            "locale": other,
            "name": _native_name(other),
            "href": (base + target) if base else relative(paths.page, target),
            "current": other == locale,
        })
    context = {
        "policy": policy,
        "locale": locale,
        "dir": localized.direction,
        "title": localized.title_text,
        "title_html": Markup(render_title(localized.title, fmt)),
        "body_html": Markup(render_body(localized.tokens, fmt)),
        "toc": localized.toc,
        "ui": {key: fmt.ui(key) for key in ("contents", "version", "effective_date", "languages", "skip_to_content", "back_to_top", "generated_by")},
        "effective_date": Markup(fmt._time(policy.effective_date, True)),
        "version": policy.version,
        "untranslated_notice": (
            fmt.ui("untranslated").format(language=fmt.language_name(policy.source_locale))
            if localized.untranslated or fmt.missing_labels else ""
        ),
        "source_locale": policy.source_locale,
        "digits": project.config.options(locale).digits,
        "alternates": alternates,
        "x_default": next(a["href"] for a in alternates if a["locale"] == policy.source_locale),
        "canonical": (base + paths.folder) if base else None,
        "assets": relative(paths.page, "assets/"),
        "site_title": project.config.site_title,
        "index_href": relative(paths.page, "index.html"),
        "generator": f"policygen {__version__}",
    }
    fragment = env.get_template("fragment.html").render(context)
    page = env.get_template("page.html").render({**context, "fragment": Markup(fragment)})
    return page.encode("utf-8"), fragment.encode("utf-8")


def _native_name(locale: str) -> str:
    from babel import Locale

    name = Locale.parse(locale).display_name or locale
    return name[:1].upper() + name[1:]


def render_index(project: Project, entries: list[dict[str, Any]]) -> bytes:
    """The site index: every policy, in every locale it is published in."""
    env = environment(project)
    locale = project.config.locales[0]
    from .load import builtin

    page = env.get_template("index.html").render({
        "locale": locale,
        "site_title": project.config.site_title,
        "policies_label": builtin()["ui"]["policies"][locale],
        "entries": entries,
        "assets": "assets/",
        "generator": f"policygen {__version__}",
    })
    return page.encode("utf-8")


def asset_files(project: Project) -> dict[str, bytes]:
    """Static files for ``output/assets/``: the stylesheet and the Khmer web font.

    A project's ``theme/assets/`` adds files or replaces ours by name.
    """
    from importlib import resources

    import fontpkg_noto_sans_khmer

    files: dict[str, bytes] = {
        "assets/policygen.css": resources.files("policygen").joinpath("templates", "policygen.css").read_bytes(),
    }
    # Many readers, and most fresh systems, have no Khmer font at all; shipping one makes the
    # Khmer pages render the same everywhere. The variable font covers every weight in one file.
    font = next(Path(fontpkg_noto_sans_khmer.ROOT, "files").glob("NotoSansKhmer*.ttf"))
    files["assets/fonts/NotoSansKhmer.ttf"] = font.read_bytes()
    theme_assets = project.theme_dir / "assets"
    if theme_assets.is_dir():
        for path in sorted(theme_assets.rglob("*")):
            if path.is_file() and not path.is_symlink():
                files["assets/" + path.relative_to(theme_assets).as_posix()] = path.read_bytes()
    return files
