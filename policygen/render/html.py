"""Render stage: :class:`~policygen.i18n.localize.LocalizedPolicy` -> HTML page and fragment bytes.

The policy body is rendered by markdown-it's renderer with a few rules of our own (sections,
permalinks on headings, placeholders, source-language spans). Around it, Jinja2 templates
build the page: the package's templates, unless the project's ``theme/templates/`` has one of
the same name. Templates are autoescaped; the only markup that reaches them unescaped is what
this module rendered from tokens.
"""

from __future__ import annotations

import functools
import html
import posixpath
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import BuiltinMethodType, MappingProxyType, MethodType
from typing import TYPE_CHECKING, Any, TypeVar, cast

from markupsafe import Markup

from policygen import __version__
from policygen.atomic import files_under
from policygen.errors import Collector, Diagnostic, SourceError
from policygen.i18n.localize import Formatter, LocalizedPolicy, TocEntry, bind_numbers_html, placeholder_context
from policygen.model import Project
from policygen.resources import PACKAGE, TEMPLATES, builtin, font_files, stylesheet
from policygen.source.files import inside
from policygen.source.prose import parser

if TYPE_CHECKING:
    import jinja2
    from markdown_it.renderer import RendererHTML
    from markdown_it.token import Token

    _RendererBase = RendererHTML
else:
    # The rules below are joined to markdown-it's renderer on first use (renderer_class):
    # markdown-it is imported by a command that renders, not by every command.
    _RendererBase = object


class PolicyRenderer(_RendererBase):
    """markdown-it's HTML renderer, taught policygen's tokens (made into one by
    :func:`renderer_class`)."""

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
        children = token.children or []
        lang = (token.meta or {}).get("lang")
        # A block shown in the source language formats its facts in that language too, so a
        # Dutch fallback sentence never carries an English date (or the other way round).
        formatter = env["source_formatter"] if lang else env["formatter"]
        inline_env = {**env, "formatter": formatter, "placeholders": placeholder_context(children)}
        # A number written in the prose keeps its unit too ("{{minimum_age}} years", "30 dagen").
        rendered = bind_numbers_html(self.renderInline(children, options, inline_env))
        return f'<span lang="{lang}">{rendered}</span>' if lang else rendered

    def placeholder(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        formatter: Formatter = env["formatter"]
        sentence_start, in_link = env["placeholders"][idx]
        return formatter.render(tokens[idx].content, sentence_start=sentence_start, in_link=in_link)

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
            # A copy: the tokens belong to the frozen model, which rendering never changes.
            token = token.copy(attrs={**token.attrs, "rel": "noopener noreferrer"})
        return self.renderToken([token], 0, options, env)

    def td_open(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        # On a narrow screen policygen.css stacks a table's rows and starts each cell with its
        # column's header; CSS cannot read another element's text, so the cell carries it.
        label = self._column_label(tokens, idx, options, env)
        token = tokens[idx].copy(attrs={**tokens[idx].attrs, "data-label": label}) if label else tokens[idx]
        return f"<td{self.renderAttrs(token)}>"

    def _column_label(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        """The plain text of the header of the column that the cell opened at ``idx`` is in."""
        column, start = 0, idx - 1
        while start >= 0 and tokens[start].type != "tr_open":
            column += tokens[start].type == "td_open"
            start -= 1
        labels = self._column_labels(tokens, start, options, env)
        return labels[column] if column < len(labels) else ""

    def _column_labels(self, tokens: Sequence[Token], row: int, options: Any, env: Any) -> list[str]:
        """The plain text of every column header of the table that the row opened at ``row`` is
        in. Worked out once per table, not once per cell (a table of n columns would render its
        header row n times a row), and kept in ``env``, the render's own: the labels depend on
        its formatter. The memo holds the tokens it is keyed by, so their ``id`` is never another's."""
        memo: dict[int, tuple[Token, list[str]]] = env.setdefault("_column_labels", {})
        found = memo.get(id(tokens[row])) if row >= 0 else None
        if found is not None and found[0] is tokens[row]:
            return found[1]
        start = row
        while start >= 0 and tokens[start].type != "table_open":
            start -= 1
        found = memo.get(id(tokens[start])) if start >= 0 else None
        if found is not None and found[0] is tokens[start]:
            labels = found[1]
        else:
            labels = []
            for i in range(start + 1, len(tokens)):
                if tokens[i].type in ("thead_close", "tbody_open", "table_close") or i == row:
                    break
                if tokens[i].type == "th_open" and tokens[i + 1].type == "inline":
                    labels.append(Markup(self.inline(tokens[i + 1], options, env)).striptags())
        for index in (start, row):
            if index >= 0:
                memo[id(tokens[index])] = (tokens[index], labels)
        return labels


_Rules = TypeVar("_Rules", bound=PolicyRenderer)


@cache
def renderer_class(rules: type[_Rules]) -> type[_Rules]:
    """``rules`` (:class:`PolicyRenderer` or a subclass) on markdown-it's HTML renderer, which
    registers every public method named after a token type as its rule."""
    from markdown_it.renderer import RendererHTML

    return cast("type[_Rules]", type(rules.__name__, (rules, RendererHTML), {"__doc__": rules.__doc__}))


@cache
def _renderer() -> PolicyRenderer:
    return renderer_class(PolicyRenderer)(parser())


def render_body(localized: LocalizedPolicy) -> str:
    env = {"formatter": localized.formatter, "source_formatter": localized.source_formatter}
    return _renderer().render(localized.tokens, parser().options, env)


def render_title(localized: LocalizedPolicy) -> str:
    env = {"formatter": localized.formatter, "source_formatter": localized.source_formatter}
    return _renderer().inline(localized.title, parser().options, env)


_SCALARS = (str, Markup, int, float, bool, type(None))
MAX_TEMPLATE_SEQUENCE = 10_000_000
"""The longest string or list a template may make with ``*`` (``"x" * n``)."""
MAX_TEMPLATE_POWER_BITS = 100_000
"""The largest number, in bits, a template may make with ``**``."""
MAX_TEMPLATE_OUTPUT = 100_000_000
"""The most characters one rendered template may produce (a loop's output adds up)."""
_FORMAT_WIDTH = re.compile(r"%(?:\([^)]*\))?[-+ #0]*(\*|\d*)(?:\.(\*|\d*))?")
"""A printf-style conversion's width and precision (``%08.3f``, ``%*d``)."""
_BRACE_NUMBERS = re.compile(r"\{[^{}]*?(\d+)[^{}]*\}|\{[^{}]*\{")
"""A number in a ``str.format`` field (its width or precision), or a field nested in one."""


_NO_BYTES = frozenset({"encode", "to_bytes"})
"""The attributes that make bytes of a string or a number; a template may not reach them."""


def _too_long(size: int, what: str) -> None:
    """Refuse a string or list of ``size`` items before it is made."""
    if size > MAX_TEMPLATE_SEQUENCE:
        from jinja2.sandbox import SecurityError

        raise SecurityError(f"{what} would be longer than {MAX_TEMPLATE_SEQUENCE:,} items")


def _length(value: Any) -> int:
    return len(value) if isinstance(value, (str, list, tuple)) else len(str(value))


def _weigh(value: Any) -> int:
    """About how many characters ``value`` makes as text (``{{ }}``, ``|string``, ``~``, ``|tojson``,
    ``%s``), counted without making it, and refused past :data:`MAX_TEMPLATE_SEQUENCE`.

    A list may hold one long string many times over (``[s] * 1000`` holds a thousand references,
    not a thousand copies), so its length in items says nothing of the text it makes: each item
    counts every time it appears. The walk stops as soon as the limit is passed."""
    total, todo = 0, [value]
    while todo:
        item = todo.pop()
        if isinstance(item, str):
            total += len(item)
        elif type(item) is int:
            total += item.bit_length() // 3 + 1  # at least its decimal digits
        elif type(item) in (list, tuple, set, frozenset):
            total += 2 + 2 * len(item)
            if total <= MAX_TEMPLATE_SEQUENCE:
                todo.extend(item)
        elif type(item) in (dict, MappingProxyType):
            total += 2 + 4 * len(item)
            if total <= MAX_TEMPLATE_SEQUENCE:
                todo.extend(item.keys())
                todo.extend(item.values())
        else:
            total += 8  # a float, a boolean, none, a range: a short text
        if total > MAX_TEMPLATE_SEQUENCE:
            _too_long(total, "this value as text (one long text many times over?)")
    return total


def _check_percent(template: Any, args: Any) -> None:
    """``template % args``: no width or precision past the limit, given or taken from ``args``."""
    if not isinstance(template, str):
        return
    values = args if isinstance(args, tuple) else (args,)
    for width, precision in _FORMAT_WIDTH.findall(template):
        for number in (width, precision):
            if number == "*":
                _too_long(max((v for v in values if type(v) is int), default=0), "'%' formatting with a '*' width")
            elif number:
                _too_long(int(number), "'%' formatting")
    _too_long(len(template) + sum(_length(v) for v in values), "'%' formatting")


def _check_format(template: Any, args: Any, kwargs: Any) -> None:
    """``template.format(...)``: no width or precision past the limit, written or nested."""
    if not isinstance(template, str):
        return
    for match in _BRACE_NUMBERS.finditer(template):
        if match.group(1) is not None:
            _too_long(int(match.group(1)), "str.format")
        else:  # a nested field ('{:>{}}') takes its width from an argument
            _too_long(max((v for v in (*args, *kwargs.values()) if type(v) is int), default=0), "str.format with a nested width")


def _replaced_length(text: str, old: str, new: str, count: Any = None) -> int:
    times = text.count(old) if old else len(text) + 1
    if type(count) is int and count >= 0:
        times = min(times, count)
    return len(text) + times * (len(new) - len(old))


def _bound_str_call(method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """The methods of a string that make one longer than the string itself, checked before they run."""
    text, name = method.__self__, method.__name__
    numbers = [v for v in (*args, *kwargs.values()) if type(v) is int]
    if name in ("center", "ljust", "rjust", "zfill"):
        _too_long(max(numbers, default=0), f"str.{name}")
    elif name == "expandtabs":
        _too_long(len(text) * max(numbers or [8]), "str.expandtabs")
    elif name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
        _too_long(_replaced_length(text, args[0], args[1], args[2] if len(args) > 2 else kwargs.get("count")), "str.replace")
    elif name == "join" and args and isinstance(args[0], (list, tuple, str)):
        items = args[0]
        _too_long(sum(_length(i) for i in items) + len(text) * max(len(items) - 1, 0), "str.join")
    elif name in ("format", "format_map"):
        _check_format(text, args, kwargs)


@cache
def _jinja_classes() -> tuple[Callable[[Path, Path], jinja2.BaseLoader], type[jinja2.Environment], type[jinja2.StrictUndefined]]:
    """The theme loader, the sandbox and the undefined of every environment, made (and Jinja
    imported) when the first environment is: a command that renders nothing, such as a check
    answered from its record or a no-op build, does not load Jinja at all."""
    import jinja2
    from jinja2 import nodes
    from jinja2.compiler import CodeGenerator, optimizeconst
    from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

    class _ThemeLoader(jinja2.FileSystemLoader):
        """Loads a project's theme templates, refusing any that lead outside the project."""

        def __init__(self, folder: Path, root: Path):
            super().__init__(str(folder))
            self.root = root.resolve()

        def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
            source, filename, uptodate = super().get_source(environment, template)
            if not Path(filename).resolve().is_relative_to(self.root):
                raise SourceError([Diagnostic(Path(filename), 0, "theme template leads outside the project (through a symlink?); policygen reads only "
                    "files inside the project")])
            return source, filename, uptodate

    class _Generator(CodeGenerator):
        def buffer(self, frame: Any) -> None:
            # The output of a macro, a call block, a filter block or '{% set x %}...{% endset %}'
            # is kept in a list until it is joined: a bounded one, as the page's own output is.
            # (A class called, not a method: no frame of Python code, so a macro that calls itself
            # still runs out of stack at its call, and the error names that line.)
            frame.buffer = self.temporary_identifier()
            self.writeline(f"{frame.buffer} = environment.buffer_class()")

        @optimizeconst
        def visit_Concat(self, node: Any, frame: Any) -> None:
            # '~' joins its operands through the sandbox, which bounds the result: each operand is
            # weighed before it is made text (a list of one long string many times over would make
            # any length), so the join makes at most a few times the limit before it is refused.
            # (Jinja's own visit_Concat, with each operand weighed.)
            if frame.eval_ctx.volatile:
                join = "(markup_join if context.eval_ctx.volatile else str_join)"
            else:
                join = "markup_join" if frame.eval_ctx.autoescape else "str_join"
            self.write(f"environment.bounded_join({join}((")
            for arg in node.nodes:
                self.write("environment.weighed(")
                self.visit(arg, frame)
                self.write("), ")
            self.write(")))")

        def visit_List(self, node: Any, frame: Any) -> None:
            # A list, tuple or mapping written in a template may name one long string many times.
            self._weighed(super().visit_List, node, frame)

        def visit_Dict(self, node: Any, frame: Any) -> None:
            self._weighed(super().visit_Dict, node, frame)

        def visit_Tuple(self, node: Any, frame: Any) -> None:
            if node.ctx != "load":  # an assignment's targets ('{% for a, b in ... %}')
                super().visit_Tuple(node, frame)
            else:
                self._weighed(super().visit_Tuple, node, frame)

        def _weighed(self, visit: Callable[[Any, Any], None], node: Any, frame: Any) -> None:
            self.write("environment.weighed(")
            visit(node, frame)
            self.write(")")

        def _output_child_to_const(self, node: Any, frame: Any, finalize: Any) -> str:
            # Jinja folds a constant expression ('{{ "a".upper }}') when it compiles the template,
            # and escapes the folded value before finalize sees it: finalize would get the escaped
            # repr, which is text. The value itself is checked first; what fails here is left to
            # run at render time, where finalize sees it before escape does.
            if not isinstance(node, nodes.TemplateData):
                _printable(node.as_const(frame.eval_ctx))
            return str(super()._output_child_to_const(node, frame, finalize))

    class _Sandbox(ImmutableSandboxedEnvironment):
        """Jinja's immutable sandbox, the second wall behind the plain data templates get.

        The first wall is :func:`template_data`: a template's context holds only strings,
        numbers, booleans, tuples and read-only mappings, so no attribute leads to a path, a file,
        a module or a model object. The sandbox adds: no attribute starting with ``_``, no
        ``str.format`` tricks, no change to any list or dict, ranges of at most 100,000 items, and
        (below) no number or string so big that making it alone exhausts the machine.
        """

        intercepted_binops = frozenset({"*", "**", "+", "%"})
        code_generator_class = _Generator

        def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
            # Bytes are no data for a page, and their methods are not bounded as a string's are:
            # '(1).to_bytes(10 ** 10, "big")' or '"x".encode().ljust(10 ** 10)' made 10 GB.
            if attr in _NO_BYTES:
                return False
            return bool(super().is_safe_attribute(obj, attr, value))

        def bounded_join(self, joined: Any) -> Any:
            if isinstance(joined, str):
                _too_long(len(joined), "the result of '~'")
            return joined

        def weighed(self, value: Any) -> Any:
            _weigh(value)
            return value

        buffer_class = _Buffer

        def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
            for value in (*args, *kwargs.values()):
                _weigh(value)  # a string method, a macro or a global given a list that makes a huge text
            method = getattr(__obj, "__wrapped__", __obj)  # the sandbox hands out str.format wrapped in a function of its own
            if isinstance(method, (BuiltinMethodType, MethodType)) and isinstance(getattr(method, "__self__", None), str):
                if method.__name__ == "join" and args and not isinstance(args[0], (list, tuple, str)):
                    args = (list(args[0]), *args[1:])  # read once: by the check, then by join
                _bound_str_call(method, args, kwargs)
            return super().call(__context, __obj, *args, **kwargs)

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            if operator == "+" and isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)):
                _too_long(len(left) + len(right), "the result of '+'")
            elif operator == "%":
                _weigh(right)
                _check_percent(left, right)
            elif operator == "*":
                for sequence, times in ((left, right), (right, left)):
                    if isinstance(sequence, (str, list, tuple)) and isinstance(times, int) and len(sequence) * times > MAX_TEMPLATE_SEQUENCE:
                        raise SecurityError(f"the result of '*' would be longer than {MAX_TEMPLATE_SEQUENCE:,} items")
                    if isinstance(sequence, (list, tuple)) and isinstance(times, int) and times > 0:
                        _too_long(_weigh(sequence) * times, "the result of '*' as text (one long text many times over?)")
            elif operator == "**" and isinstance(left, int) and isinstance(right, int) and abs(left) > 1:
                if right > 0 and abs(left).bit_length() * right > MAX_TEMPLATE_POWER_BITS:
                    raise SecurityError(f"the result of '**' would be larger than {MAX_TEMPLATE_POWER_BITS:,} bits")
            return super().call_binop(context, operator, left, right)

    class _Undefined(jinja2.StrictUndefined):
        """Jinja's strict undefined, saying what a mapping of template data does have."""

        __slots__ = ()

        @property
        def _undefined_message(self) -> str:
            owner, name = self._undefined_obj, self._undefined_name
            if not self._undefined_hint and type(owner) is MappingProxyType and isinstance(name, str):
                return f"no '{name}' here; this has {', '.join(sorted(owner))}"
            return str(super()._undefined_message)

    return _ThemeLoader, _Sandbox, _Undefined


class _Buffer(list[str]):
    """The output of a macro or block while it is made, refused past :data:`MAX_TEMPLATE_OUTPUT`
    characters, as the page's own output is (a loop inside a macro adds up in memory)."""

    size = 0

    def append(self, item: str) -> None:
        self._add(len(item) if isinstance(item, str) else 0)
        super().append(item)

    def extend(self, items: Iterable[str]) -> None:
        items = tuple(items)
        self._add(sum(len(item) for item in items if isinstance(item, str)))
        super().extend(items)

    def _add(self, size: int) -> None:
        self.size += size
        if self.size > MAX_TEMPLATE_OUTPUT:
            from jinja2.sandbox import SecurityError

            raise SecurityError(f"the output of a macro or block would be longer than {MAX_TEMPLATE_OUTPUT:,} characters; a loop makes too much")


def _printable(value: Any) -> Any:
    """What ``{{ ... }}`` may print: text, numbers and containers of them. A function, a
    method or any other object would print its ``repr``, which is no text for a page."""
    import jinja2
    from jinja2.sandbox import SecurityError

    if isinstance(value, jinja2.Undefined) or _plain(value, 0):
        _weigh(value)
        return value
    kind = "a function or method" if callable(value) else f"a {type(value).__name__} object"
    raise SecurityError(f"a template prints text, numbers and lists or mappings of them, not {kind}")


def _plain(value: Any, depth: int) -> bool:
    if type(value) in _SCALARS or type(value) is range:
        return True
    if depth > 20:
        return False
    if type(value) in (dict, MappingProxyType):
        return all(_plain(key, depth + 1) and _plain(item, depth + 1) for key, item in value.items())
    if type(value) in (list, tuple, set, frozenset):
        return all(_plain(item, depth + 1) for item in value)
    return False


def _json_default(value: Any) -> Any:
    # The ``tojson`` filter on template data: its mappings are read-only views.
    if isinstance(value, MappingProxyType):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def environment(project: Project) -> jinja2.Environment:
    """Templates from the project's theme first, then the package's own.

    A theme is data a web team edits, and a template must not be able to reach the machine
    that builds the site: templates get plain data (:func:`template_data`), never an object,
    and run in Jinja's immutable sandbox. ``lipsum`` is removed from the globals: it makes
    text of any length and has no place on a published page.
    """
    theme = project.theme_dir / "templates"
    names = tuple(sorted(p.relative_to(theme).as_posix() for p in theme.rglob("*"))) if theme.is_dir() else None
    return _environment(theme.resolve(), names, project.root.resolve())  # resolved: the same key whatever the working folder


@cache
def _environment(theme: Path, names: tuple[str, ...] | None, root: Path) -> jinja2.Environment:
    # One environment per theme (and set of theme files), so a build, and every build of
    # 'policygen serve', compiles each template once; Jinja reloads a template whose file changed.
    import jinja2

    theme_loader, sandbox, undefined = _jinja_classes()
    loaders: list[jinja2.BaseLoader] = []
    if names is not None:
        loaders.append(theme_loader(theme, root))
    loaders.append(jinja2.PackageLoader(PACKAGE, TEMPLATES))
    env = sandbox(
        loader=jinja2.ChoiceLoader(loaders), autoescape=True, undefined=undefined, finalize=_printable,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )
    env.globals.pop("lipsum", None)
    _bound_filters(env)
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "default": _json_default}
    return env



def _bound_filters(env: jinja2.Environment) -> None:
    """Jinja's filters that can make a string or list much longer than what they are given,
    each checked before it runs: no filter makes one longer than :data:`MAX_TEMPLATE_SEQUENCE`."""
    from jinja2.utils import _PassArg

    filters = env.filters

    def checked(name: str, check: Callable[..., Any]) -> None:
        original = filters[name]
        # A filter marked to receive the environment, context or evaluation context (join, and
        # every filter Jinja also has an async form of, such as slice) gets it first.
        lead = 1 if _PassArg.from_obj(original) is not None else 0

        @functools.wraps(original)  # keeps that mark
        def bounded(*args: Any, **kwargs: Any) -> Any:
            given = args[lead:]
            return original(*args[:lead], *(check(*given, **kwargs) or given), **kwargs)

        filters[name] = bounded

    def center(value: Any, width: Any = 80) -> None:
        _too_long(width if type(width) is int else 0, "the center filter")

    def indent(s: Any, width: Any = 4, *rest: Any, **kwargs: Any) -> None:
        step = width if type(width) is int else len(str(width))
        _too_long(_length(s) + (str(s).count("\n") + 1) * step, "the indent filter")

    def format_(value: Any, *args: Any, **kwargs: Any) -> None:
        _check_percent(value, kwargs if kwargs else args)

    def replace(s: Any, old: Any, new: Any, count: Any = None) -> None:
        _too_long(_replaced_length(str(s), str(old), str(new), count), "the replace filter")

    def join(value: Any, d: Any = "", attribute: Any = None) -> tuple[Any, ...] | None:
        if attribute is not None:
            return None
        items = list(value)  # read once: by the check, then by join
        _too_long(sum(_length(i) for i in items) + _length(d) * max(len(items) - 1, 0), "the join filter")
        return (items, d)

    def wordwrap(s: Any, width: Any = 79, break_long_words: Any = True, wrapstring: Any = None, *rest: Any,
                 **kwargs: Any) -> None:
        if wrapstring is not None:
            lines = _length(s) // max(width if type(width) is int else 1, 1) + 1
            _too_long(_length(s) + lines * _length(wrapstring), "the wordwrap filter")

    def batch(value: Any, linecount: Any, fill_with: Any = None) -> None:
        if fill_with is not None:
            _too_long(linecount if type(linecount) is int else 0, "the batch filter")

    def slice_(value: Any, slices: Any, fill_with: Any = None) -> None:
        _too_long(slices if type(slices) is int else 0, "the slice filter")

    for name, check in (("center", center), ("indent", indent), ("format", format_), ("replace", replace), ("join", join),
                        ("wordwrap", wordwrap), ("batch", batch), ("slice", slice_)):
        checked(name, check)

    def weighed(name: str) -> None:
        # Most filters make text of what they are given (string, e, tojson, pprint, upper...):
        # a list that holds one long text many times over is refused before any of them runs.
        original = filters[name]
        lead = 1 if _PassArg.from_obj(original) is not None else 0

        @functools.wraps(original)
        def bounded(*args: Any, **kwargs: Any) -> Any:
            for value in (*args[lead:], *kwargs.values()):
                _weigh(value)
            return original(*args, **kwargs)

        filters[name] = bounded

    for name in list(filters):
        weighed(name)

    original_map = filters["map"]

    @functools.wraps(original_map)
    def bounded_map(*args: Any, **kwargs: Any) -> Iterator[Any]:
        # map makes a new value of each item ('range(100000) | map("center", 9000000)'): what
        # it makes in all is bounded, not each value alone.
        total = 0
        for item in original_map(*args, **kwargs):
            total += _weigh(item)
            _too_long(total, "the map filter's values as text")
            yield item

    filters["map"] = bounded_map


def theme_templates(project: Project, names: Iterable[str]) -> list[Path]:
    """The files of the project's theme that rendering the templates ``names`` reads: those among
    them and among the templates they include, import or extend, all the way down (every theme
    template when one names another at run time). A cache key of an output made with ``names``
    holds their bytes; policygen's own templates are part of its code."""
    import jinja2
    from jinja2 import meta

    theme = project.theme_dir / "templates"
    if not theme.is_dir():
        return []
    env = environment(project)
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            found = list(meta.find_referenced_templates(env.parse(env.loader.get_source(env, name)[0]))) if env.loader else []
        except (jinja2.TemplateError, RecursionError, MemoryError):
            found = []  # rendering reports it, at its line (RecursionError: an expression nested too deep to parse)
        if None in found:
            seen |= {p.relative_to(theme).as_posix() for p in theme.rglob("*") if p.is_file()}
        todo += [ref for ref in found if ref is not None]
    return [theme / name for name in sorted(seen) if (theme / name).is_file()]

def template_data(value: Any) -> Any:
    """``value`` as plain, immutable data for a template: strings (:class:`~markupsafe.Markup`
    for HTML policygen rendered), numbers, booleans, None, tuples and read-only mappings with
    string keys.

    Every template context goes through here, so whatever a context builder puts in it, a
    template never holds a path, a file, a date, a model object or a module. Anything else is
    a bug in policygen and raises :class:`TypeError` (never reaching a template).
    """
    if type(value) in _SCALARS:  # exact types: a subclass could bring methods of its own
        return value
    if type(value) in (dict, MappingProxyType):
        return MappingProxyType({_key(key): template_data(item) for key, item in value.items()})
    if type(value) in (list, tuple):
        return tuple(template_data(item) for item in value)
    raise TypeError(f"{type(value).__module__}.{type(value).__qualname__} is not template data; build strings, numbers, lists and mappings for "
                    "templates")


def _key(key: Any) -> str:
    if type(key) is not str:
        raise TypeError(f"template data keys are strings, not {type(key).__qualname__}")
    return key


def render_template(env: jinja2.Environment, name: str, context: Mapping[str, Any]) -> str:
    """Render one template with ``context`` made :func:`template_data`; anything that goes
    wrong inside a template becomes a ``path:line: template error: ...`` diagnostic."""
    import jinja2
    from jinja2.sandbox import SecurityError

    data = template_data(dict(context))
    try:
        template = env.get_template(name)
        return _bounded_output(template.generate(data), Path(template.filename or name))
    except jinja2.TemplateSyntaxError as exc:
        raise SourceError([Diagnostic(Path(exc.filename or name), exc.lineno or 0, f"template error: {exc.message}")]) from None
    except jinja2.TemplateNotFound as exc:
        path, line = _template_frame(exc)  # an include, import or extends names it; else it is the template itself
        raise SourceError([Diagnostic(path or Path(name), line, f"template error: no template '{exc.name}' in the theme or in policygen")]) from None
    except (jinja2.TemplateError, SecurityError) as exc:
        path, line = _template_frame(exc)
        raise SourceError([Diagnostic(path or Path(name), line, f"template error: {exc}")]) from None
    except SourceError:
        raise  # a theme template that leads outside the project (_ThemeLoader)
    except RecursionError as exc:
        path, line = _template_frame(exc, calls_itself=True)
        if path is None:  # no template code ran: Jinja could not read the template
            raise SourceError([Diagnostic(_template_file(env, name), 0, "template error: expressions or blocks nested too deep to read "
                                          "(maximum recursion depth exceeded)")]) from None
        raise SourceError([Diagnostic(path, line, "template error: a macro, include or block calls itself without end "
                                      "(maximum recursion depth exceeded)")]) from None
    except MemoryError as exc:
        path, line = _template_frame(exc)
        raise SourceError([Diagnostic(path or _template_file(env, name), line, "template error: out of memory")]) from None
    except Exception as exc:  # the context is plain data: whatever else fails here, a template did it
        path, line = _template_frame(exc)
        raise SourceError([Diagnostic(path or _template_file(env, name), line, f"template error: {_describe(exc)}")]) from None


def _template_file(env: jinja2.Environment, name: str) -> Path:
    """The file of the template ``name`` (the theme's or policygen's), or its name."""
    try:
        found = env.loader.get_source(env, name)[1] if env.loader else None
        return Path(found or name)
    except Exception:  # not found, or leading out of the project: its own error is reported elsewhere
        return Path(name)


def _bounded_output(chunks: Iterable[str], template: Path) -> str:
    """The output of ``template``, refused once it passes :data:`MAX_TEMPLATE_OUTPUT` (a loop
    that prints a long string adds up, however short each expression is)."""
    parts, size = [], 0
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_TEMPLATE_OUTPUT:
            raise SourceError([Diagnostic(template, 0, f"template error: the page would be longer than {MAX_TEMPLATE_OUTPUT:,} characters; "
                                          "a loop prints too much")])
        parts.append(chunk)
    return "".join(parts)


def _describe(exc: BaseException) -> str:
    """A template's runtime error in words: ``division by zero (ZeroDivisionError)``."""
    text = str(exc).strip()
    if len(text) > 200:
        text = text[:199] + "…"
    return f"{text} ({type(exc).__name__})" if text else type(exc).__name__


def _template_frame(exc: BaseException, calls_itself: bool = False) -> tuple[Path | None, int]:
    """The innermost template file and line in a traceback. Jinja rewrites the frames of
    template code to point at the template's file and line, and marks them (``__jinja_exception__``).

    With ``calls_itself`` (a recursion that ran out of stack), the innermost frame may have
    just begun (a macro's first line) when the stack ran out, which depends on how deep the
    stack was to start with: the line is then the call in the frame before it, in the same file."""
    frames: list[tuple[Path, int]] = []
    tb = exc.__traceback__
    while tb is not None:
        if "__jinja_exception__" in tb.tb_frame.f_globals:
            frames.append((Path(tb.tb_frame.f_code.co_filename), tb.tb_lineno))
        tb = tb.tb_next
    if not frames:
        return (None, 0)
    if calls_itself and len(frames) >= 2 and frames[-2][0] == frames[-1][0]:
        return frames[-2]
    return frames[-1]


@dataclass(frozen=True, slots=True)
class PagePaths:
    """Where a policy's outputs go, relative to the output folder (always POSIX)."""

    policy: str
    locale: str
    version: str | None = None
    """Set for an archived version, which lives in ``versions/<version>/`` of its locale."""
    draft: bool = False
    """The sources' unreleased state, previewed in ``draft/`` of its locale (never indexed)."""

    @property
    def page(self) -> str:
        return f"{self.folder}index.html"

    @property
    def fragment(self) -> str:
        return f"{self.folder}fragment.html"

    @property
    def folder(self) -> str:
        return f"{self.policy}/{self.locale}/" + (f"versions/{self.version}/" if self.version else "draft/" if self.draft else "")

    @property
    def pdf(self) -> str:
        return f"{self.folder}{self.policy}-{self.locale}.pdf"

    @property
    def feed(self) -> str:
        """The policy's Atom feed in this locale (one per locale, whatever the version)."""
        return f"{self.policy}/{self.locale}/feed.atom"


def relative(from_file: str, to: str) -> str:
    """A relative URL from one output file to another, so the site works from any base path."""
    rel = posixpath.relpath(to, posixpath.dirname(from_file) or ".")
    if to.endswith("/"):
        rel += "/"
    return rel


def link(project: Project, from_file: str, to: str) -> str:
    """A link from one output file to another: absolute under ``base_url`` when the project
    has one (pages are embedded elsewhere), else relative (the site works from any path)."""
    base = project.config.base_url
    return base + to if base else relative(from_file, to)


def file_size(fmt: Formatter, size: int) -> str:
    """A file's size as a reader reads it: CLDR's short unit ("212 kB", "1,4 MB"), in the
    locale's digits, the number never parted from its unit at a line end."""
    from babel.units import format_unit

    if size < 1_000_000:
        text = format_unit(max(1, round(size / 1000)), "digital-kilobyte", length="short", locale=fmt.babel)
    else:
        text = format_unit(round(size / 1_000_000, 1), "digital-megabyte", length="short", locale=fmt.babel)
    return fmt.digits(text.replace(" ", "\u00a0"))


def owner(project: Project, localized: LocalizedPolicy | None) -> dict[str, str] | None:
    """Who publishes the page, for its footer: the policy's controller from the facts, else the
    project's ``site.owner``, else no one (the footer then names only the generator). The site
    index, which is no one policy's page, names the site's owner."""
    person = (localized.policy.facts.controller if localized else None) or project.config.owner
    if person is None:
        return None
    return {
        "name": person.name, "address": person.address or "", "email": person.email or "",
        "phone": person.phone or "", "phone_href": "".join(c for c in person.phone or "" if c.isdigit() or c == "+"),
        "url": person.url or "", "url_text": (person.url or "").split("://", 1)[-1].rstrip("/"),
    }


def chrome(project: Project, localized: LocalizedPolicy, page: str, alternates: list[dict[str, Any]], feed: bool) -> dict[str, Any]:
    """What every page of the site has around its content (templates/layout.html): the site
    header with the language switcher (``alternates``), the feed's ``<link rel="alternate">``
    when the policy has one, the footer with the publisher's contact, and for print the page's
    own URL (known only with ``base_url``)."""
    fmt, base = localized.formatter, project.config.base_url
    folder = posixpath.dirname(page) + "/"
    return {
        "locale": localized.locale, "dir": localized.direction,
        "assets": relative(page, "assets/"), "site_title": project.config.site_title, "index_href": relative(page, "index.html"),
        "generator": f"policygen {__version__}", "alternates": alternates,
        "feed_link": {"href": link(project, page, PagePaths(localized.policy.id, localized.locale).feed), "title": fmt.ui("feed")} if feed else None,
        "owner": owner(project, localized),
        "print_url": {"label": fmt.ui("print_source"), "href": base + folder} if base else None,
    }


CHROME_UI = ("skip_to_content", "languages", "generated_by")
"""The UI strings of templates/layout.html."""


def render_policy(
    project: Project, localized: LocalizedPolicy, env: jinja2.Environment | None = None,
    banner: str | None = None, archive: bool = False, version: str | None = None, draft: bool = False,
    drafted: Iterable[str] = (), pdf_size: int | None = None, languages: Iterable[str] | None = None,
) -> tuple[bytes, bytes]:
    """The full page and the body-only fragment of one policy in one locale. ``banner`` is the
    major-change banner's HTML, if one is active; ``archive`` links the page to its archive;
    ``version`` renders the page for its place in the archive (``versions/<version>/``), with
    its links pointing to the same version in the other languages. ``draft`` renders the
    sources' unreleased state as a preview in ``draft/``: marked "draft, not in force", kept out
    of search engines (``noindex``), linked to the current page and, in the other languages, to
    their draft where ``drafted`` names them (else to their current page). ``pdf_size``, the
    size of the PDF the build publishes beside the page, adds a "Download PDF" link (the PDF
    itself renders from the fragment without it, so it never depends on its own size); a page
    with an archive links its feed too. ``languages``, when given, are the languages the site
    publishes the policy in, for the language switcher (a page in force rendered from its
    release's sources would otherwise link the release's languages, not the site's)."""
    policy, locale, fmt = localized.policy, localized.locale, localized.formatter
    paths = PagePaths(policy.id, locale, version, draft)
    drafts = set(drafted) | {locale} if draft else set()
    env = env or environment(project)
    base = project.config.base_url
    alternates = []
    # The same order on every page of the site, whatever order a policy lists its locales in.
    order = {loc: i for i, loc in enumerate(project.config.locales)}
    for other in sorted(policy.locales if languages is None else languages, key=lambda loc: order.get(loc, len(order))):
        target = PagePaths(policy.id, other, version, other in drafts).folder
        alternates.append({
            "locale": other,
            "name": native_name(other),
            "href": (base + target) if base else relative(paths.page, target),
            "current": other == locale,
        })
    context = {
        "policy": {
            "id": policy.id, "version": policy.version, "effective_date": policy.effective_date.isoformat(),
            "source_locale": policy.source_locale, "locales": policy.locales,
        },
        "title": localized.title_text,
        "title_html": Markup(render_title(localized)),
        "body_html": Markup(render_body(localized)),
        "toc": [_toc_entry(entry) for entry in localized.toc],
        "ui": {key: fmt.ui(key) for key in ("contents", "version", "effective_date", *CHROME_UI)},
        "effective_date": Markup(fmt._time(policy.effective_date, True)),
        "version": policy.version,
        "version_text": fmt.version(policy.version),
        "untranslated_notice": (
            fmt.ui("untranslated").format(language=fmt.list_of([fmt.language_name(loc) for loc in localized.fallback_locales]))
            if localized.fallback_locales else ""
        ),
        "prevailing": _prevailing(project, localized, paths, version, drafts),
        "banner": Markup(banner) if banner else "",
        # With base_url every link out of the page is absolute: fragments and banners are embedded
        # in other sites' pages, where a relative link would point somewhere else.
        "archive_link": {"href": (base + PagePaths(policy.id, locale).folder + "archive/") if base else "../archive/" if draft else "archive/",
                         "text": fmt.ui("archive")} if archive else None,
        "draft_notice": {"text": fmt.ui("draft_notice"), "link_text": fmt.ui("draft_current"),
                         "href": (base + PagePaths(policy.id, locale).folder) if base else "../"} if draft else None,
        "pdf_link": {"href": link(project, paths.page, paths.pdf),
                     "text": fmt.ui("download_pdf").replace("{size}", file_size(fmt, pdf_size))} if pdf_size is not None else None,
        "robots": "noindex" if draft else None,
        "source_locale": policy.source_locale,
        "digits": project.config.options(locale).digits,
        "x_default": next(a["href"] for a in alternates if a["locale"] == policy.source_locale),
        "canonical": (base + paths.folder) if base and not draft else None,
        **chrome(project, localized, paths.page, alternates, feed=archive),
    }
    fragment = render_template(env, "fragment.html", context)
    page = render_template(env, "page.html", {**context, "fragment": Markup(fragment)})
    return page.encode("utf-8"), fragment.encode("utf-8")


def _toc_entry(entry: TocEntry) -> dict[str, Any]:
    return {"id": entry.id, "level": entry.level, "text": entry.text, "children": [_toc_entry(child) for child in entry.children]}


def _prevailing(project: Project, localized: LocalizedPolicy, paths: PagePaths, version: str | None = None,
                drafts: set[str] | frozenset[str] = frozenset()) -> dict[str, str] | None:
    """The prevailing-language statement of a translated page, with a link to that version."""
    policy, fmt = localized.policy, localized.formatter
    prevailing = policy.source_locale if project.config.prevailing == "source" else project.config.prevailing
    if localized.locale == prevailing or prevailing not in policy.locales:
        return None
    language = fmt.language_name(prevailing)
    statement = project.config.prevailing_statement.get(localized.locale) or fmt.ui("prevailing")
    target = PagePaths(policy.id, prevailing, version, prevailing in drafts).folder
    return {
        "statement": statement.replace("{language}", language),
        "link_text": fmt.ui("read_version").replace("{language}", language),
        "href": (project.config.base_url + target) if project.config.base_url else relative(paths.page, target),
        "locale": prevailing,
    }


def native_name(locale: str) -> str:
    """A language's name in itself, as a language switcher shows it ("Nederlands")."""
    from babel import Locale

    name = Locale.parse(locale).display_name or locale
    return name[:1].upper() + name[1:]


_native_name = native_name  # the name build.py imports


def render_index(project: Project, entries: list[dict[str, Any]], env: jinja2.Environment | None = None) -> bytes:
    """The site index: every policy, in every locale it is published in, in the site's frame."""
    from babel import Locale

    env = env or environment(project)
    locale = project.config.locales[0]
    ui = builtin()["ui"]
    base = project.config.base_url
    page = render_template(env, "index.html", {
        "locale": locale,
        "dir": "rtl" if Locale.parse(locale).character_order == "right-to-left" else "ltr",
        "site_title": project.config.site_title,
        "policies_label": ui["policies"][locale],
        "entries": entries,
        # The frame every page of the site has (templates/layout.html); one language, no feed.
        "assets": "assets/", "index_href": "index.html", "alternates": [], "feed_link": None,
        "owner": owner(project, None), "print_url": {"label": ui["print_source"][locale], "href": base} if base else None,
        "ui": {key: ui[key][locale] for key in CHROME_UI},
        "generator": f"policygen {__version__}",
    })
    return page.encode("utf-8")


_PRINT_CSS = """\
/* policygen's print layout, linked with media="print" after policygen.css. Made by policygen
   for each project: the page numbers are in each locale's words and digits. A project's
   theme/assets/policygen-print.css replaces it. */

/* Paper has no navigation: the reader keeps the text, who publishes it, and where it is online. */
.site-header, .skip-link, .permalink, .policy-download, .policy-archive-link, .site-generator { display: none; }
.site-footer { display: block; border-top: 1px solid #999; margin-top: 1.5rem; padding: .5rem 0 0; font-size: 9pt; color: #000; }
.site-owner { font-style: normal; display: flex; flex-wrap: wrap; gap: 0 1.5em; }
.print-source[hidden] { display: block; font-size: 9pt; margin: 1rem 0 0; }
/* Links print their target where the text does not already show it. */
.policygen-page a[href^="mailto:"]::after, .policygen-page a[href^="tel:"]::after { content: none; }
.site-owner a { text-decoration: none; }
.archived-notice a[href]::after, .policy-versions a[href]::after { content: none; }

/* Page numbers in the bottom margin (browsers that print CSS margin boxes: Chromium 131 and
   later; the others print their own header and footer). Each locale's pages are a named page
   that numbers in its own words. */
"""


_LATIN_FONTS = '"Noto Sans", "Source Sans 3", "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
_KHMER_FONTS = '"Noto Sans Khmer", "Khmer OS Siemreap", "Khmer OS", "Khmer UI", "Leelawadee UI"'


def print_stylesheet(project: Project) -> bytes:
    """``assets/policygen-print.css``: the print layout (see ``_PRINT_CSS``), with a named page
    per locale whose bottom margin says "Page 2 of 7" in that locale's words and digits."""
    rules = [_PRINT_CSS]
    for locale in project.config.locales:
        words = builtin()["ui"]["page_of"][locale]
        style = ", khmer" if locale == "km" and project.config.options(locale).digits == "native" else ""
        content = " ".join(_css_string(part) if part not in ("{page}", "{pages}") else f"counter({part[1:-1]}{style})"
                           for part in re.split(r"(\{pages?\})", words) if part)
        # Spelled out: a page's margin boxes do not see the custom properties of the document.
        font = (_KHMER_FONTS + ", " if locale == "km" else "") + _LATIN_FONTS
        rules.append(f'html[lang="{locale}"] > body {{ page: policygen-{locale}; }}\n'
                     f"@page policygen-{locale} {{ @bottom-right {{ content: {content}; font-family: {font}; font-size: 9pt; }} }}\n")
    return "\n".join(rules).encode("utf-8")


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def asset_files(project: Project) -> dict[str, bytes]:
    """Static files for ``output/assets/``: the stylesheets and the Khmer web font.

    A project's ``theme/assets/`` adds files or replaces ours by name.
    """
    files: dict[str, bytes] = {
        "assets/policygen.css": stylesheet(),
        "assets/policygen-print.css": print_stylesheet(project),
    }
    # Many readers, and most fresh systems, have no Khmer font at all; shipping one makes the
    # Khmer pages render the same everywhere. The variable font covers every weight in one file.
    files["assets/fonts/NotoSansKhmer.ttf"] = font_files().khmer.read_bytes()
    theme_assets = project.theme_dir / "assets"
    if theme_assets.is_dir():
        errors = Collector()
        # Through a folder link inside the project too, as the PDF's fetcher reads them and the
        # PDF's cache key counts them (policygen.cache.folder_digest walks the same way).
        linked_out: list[Path] = []
        for path in files_under(theme_assets, project.root, linked_out):
            if path.is_file() and inside(path, project.root, errors):
                files["assets/" + path.relative_to(theme_assets).as_posix()] = path.read_bytes()
        for folder in linked_out:
            inside(folder, project.root, errors)
        errors.raise_if_any()
    return files
