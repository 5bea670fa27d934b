"""Theme templates see data, not objects, and run in a sandbox.

A theme is edited by a web team, not by whoever runs the build, so a template must not reach
the machine: no file read or written, no object of policygen or Python printed into a page.
Each payload below is a known way out of a Jinja sandbox, or a way to read or write files
through an object a context might hold (the first release exposed ``pathlib.Path`` objects:
``{{ policy.facts_path.joinpath("/etc/passwd").read_text() }}``). Each one is put into a theme
template and built: the build either renders without leaking anything and writes nothing
outside its output, or fails with ``path:line: template error: ...`` and exit 1. It never
exits 0 with leaked data, and never shows a traceback.
"""

from __future__ import annotations

import ast
import re
import types
from datetime import date
from pathlib import Path

import pytest
from conftest import MINI, SAMPLE, copy_project
from markupsafe import Markup

from policygen.atomic import work_dir
from policygen.cache import CACHE_DIR
from policygen.render import html as render_html
from policygen.render.html import template_data
from policygen.resources import builtin

PACKAGE = Path(render_html.__file__).resolve().parent.parent
FRAGMENT = (PACKAGE / "templates" / "fragment.html").read_text(encoding="utf-8")
SECRET = "pg-secret-5d1c0e"
"""The content of a file outside the project that payloads try to read."""

# {secret}: a file outside the project; {target}: where payloads try to write.
PAYLOADS = {
    # pathlib objects (the first release's context), read and write
    "path-read": '{{ policy.facts_path.joinpath("{secret}").read_text() }}',
    "path-read-prose": "{{ policy.prose_path.read_text() }}",
    "path-read-bytes": '{{ policy.facts_path.parent.joinpath("{secret}").read_bytes() }}',
    "path-write": '{{ policy.facts_path.joinpath("{target}").write_text("owned") }}',
    "path-open": '{{ policy.prose_path.open("w") }}',
    "path-touch": '{{ policy.facts_path.with_name("{target}").touch() }}',
    "path-unlink": "{{ policy.facts_path.unlink() }}",
    "path-repr": "{{ policy.facts_path }}",
    "path-parent-glob": "{{ policy.facts_path.parent.parent.glob('*') | list }}",
    "model-object": "{{ policy.facts.controller }}",
    "model-document": "{{ policy.document.tokens }}",
    "toc-children-append": "{{ toc[0].children.append(1) }}",
    # attribute walks to Python internals
    "str-class-mro": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "tuple-class-base": "{{ ().__class__.__base__.__subclasses__() }}",
    "list-class": "{{ [].__class__.__base__.__subclasses__()[0] }}",
    "int-class": "{{ (1).__class__.__mro__ }}",
    "markup-globals": "{{ body_html.__html__.__globals__ }}",
    "markup-class-init": "{{ title_html.__class__.__init__.__globals__['sys'].modules['os'] }}",
    "attr-filter": '{{ policy | attr("__class__") }}',
    "attr-filter-globals": '{{ (cycler | attr("__init__")) | attr("__globals__") }}',
    "map-attribute": '{{ alternates | map(attribute="__class__") | list }}',
    "getitem-dunder": "{{ policy['__class__'] }}",
    "mapping-copy-dunder": "{{ ui.copy().__class__.__subclasses__() }}",
    "policy-init": "{{ policy.__init__ }}",
    # Jinja's globals
    "cycler-globals-os": '{{ cycler.__init__.__globals__.os.popen("id").read() }}',
    "joiner-globals": "{{ joiner.__init__.__globals__ }}",
    "namespace-globals": "{{ namespace.__init__.__globals__ }}",
    "namespace-holds-data": "{% set ns = namespace(p=policy) %}{{ ns.p.id }}",
    "lipsum-globals-os": "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "lipsum-huge": "{{ lipsum(n=100000) }}",
    "range-globals": "{{ range.__globals__ }}",
    "range-huge": "{{ range(10 ** 9) | list }}",
    "range-nested-loop": "{% for i in range(100001) %}{% endfor %}",
    "dict-global-update": "{{ dict(a=1).update(b=2) }}",
    "self-init-globals": "{{ self.__init__.__globals__ }}",
    "self-private-context": "{{ self._TemplateReference__context }}",
    "self-repr": "{{ self }}",
    "loop-repr": "{% for x in toc %}{{ loop.cycle }}{% endfor %}",
    # names other frameworks put in a context
    "request-application": "{{ request.application.__globals__.__builtins__.open('{secret}').read() }}",
    "config-items": "{{ config.items() }}",
    "config-class": "{{ config.__class__.__init__.__globals__['os'] }}",
    "url-for-globals": "{{ url_for.__globals__ }}",
    "get-flashed-messages": "{{ get_flashed_messages.__globals__ }}",
    "environment-name": "{{ environment }}",
    "builtins-open": "{{ __builtins__.open('{secret}').read() }}",
    "open-name": "{{ open('{secret}').read() }}",
    "import-name": "{{ __import__('os').system('id') }}",
    "getattr-name": "{{ getattr(policy, 'facts_path') }}",
    # str.format and %-format tricks
    "format-class": '{{ "{0.__class__.__mro__}".format(policy) }}',
    "format-globals": '{{ "{0.__init__.__globals__}".format(cycler) }}',
    "format-map": '{{ "{p.__class__}".format_map({"p": policy}) }}',
    "markup-format": '{{ title_html.format("{0.__class__}") }}',
    "format-field": '{{ "{0.facts_path}".format(policy) }}',
    "percent-format": '{{ "%s" % policy.facts_path }}',
    "format-filter": '{{ "%s" | format(policy.prose_path) }}',
    "format-width": '{{ "{:999999999999}".format(1) }}',
    # methods printed as objects, mutation, loaders
    "method-repr": "{{ policy.keys }}",
    "str-method-repr": "{{ title.upper }}",
    # Jinja folds a constant expression when it compiles the template, and escaped the folded
    # value before the check of what may be printed saw it: the method's repr got through as text.
    "const-method-repr": '{{ "a".upper }}',
    "const-dict-method-repr": "{{ {}.keys }}",
    "list-append": "{% set xs = [] %}{{ xs.append(policy) }}",
    "list-pop": "{{ [].pop() }}",
    "include-absolute": '{% include "{secret}" %}',
    "include-parent": '{% include "../../policygen.yaml" %}',
    "import-absolute": '{% import "/etc/passwd" as x %}',
    "extends-parent": '{% extends "../../../policygen/templates/page.html" %}',
    "tojson": "<script>{{ policy | tojson }}</script>",
    "pprint": "{{ policy | pprint }}",
    # resource exhaustion
    "power": "{{ 2 ** 10000000 }}",
    "string-repeat": '{{ "x" * 10 ** 10 }}',
    "list-repeat": "{{ [0] * 10 ** 9 }}",
    "big-int-print": "{{ 2 ** 50000 }}",
    "recursive-macro": "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
    "zero-division": "{{ 1 / 0 }}",
}

LEAKS = (SECRET, "root:x:0:", "uid=", "PosixPath", "WindowsPath", "<module", "<function", "<built-in", "<bound method", " object at 0x",
         "site-packages", "Controller(", "Token(")
"""What no page and no error message may show: file content, command output, object reprs."""
PAGE_LEAKS = (*LEAKS, "<class ", "TemplateReference")
"""What no page may show (an error message may name a type: "access to attribute '__init__' of 'type' object is unsafe")."""
ERROR_LINE = re.compile(r"theme/templates/fragment\.html:\d+: template error: \S.*")


def _snapshot(root: Path, output: Path) -> dict[str, bytes]:
    """Every file under ``root`` but the build's output, its lock and work folder, and the build
    cache (``.policygen/cache/``, where a build that succeeds keeps what it rendered)."""
    skip = (output, work_dir(output), output.parent / CACHE_DIR)
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not any(p.is_relative_to(s) for s in skip) and "__pycache__" not in p.parts}


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_escape_payload_leaks_nothing(name: str, tmp_path: Path, cli) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET + "\n", encoding="utf-8")
    target = outside / "written.txt"
    project = copy_project(MINI, tmp_path / "project")
    payload = PAYLOADS[name].replace("{secret}", str(outside / "secret.txt")).replace("{target}", str(target))
    (project / "theme" / "templates").mkdir(parents=True)
    (project / "theme" / "templates" / "fragment.html").write_text(FRAGMENT + payload + "\n", encoding="utf-8")
    before = _snapshot(tmp_path, project / "output")

    result = cli("build", cwd=project)

    assert result.exception is None, f"crashed instead of reporting: {result.exception!r}"
    assert "Traceback" not in result.stdout + result.stderr
    assert _snapshot(tmp_path, project / "output") == before, "the build changed a file outside its output"
    assert not target.exists()
    if result.exit_code == 0:
        for page in (project / "output").rglob("*.html"):
            text = page.read_text(encoding="utf-8")
            for marker in (*PAGE_LEAKS, str(tmp_path)):
                assert marker not in text, f"{page.relative_to(project)} shows {marker!r}"
    else:
        assert result.exit_code == 1
        reported = [line for line in result.stderr.splitlines() if not line.startswith("policygen: ")]
        assert len(reported) == 1 and ERROR_LINE.fullmatch(reported[0]), result.stderr
        for marker in LEAKS:
            assert marker not in result.stderr
        assert not (project / "output").exists()


@pytest.mark.parametrize("name", ["path-read", "path-write", "path-repr", "str-class-mro", "cycler-globals-os", "format-class",
                                  "self-init-globals", "lipsum-globals-os", "method-repr", "recursive-macro"])
def test_escape_payload_fails_with_its_line(name: str, tmp_path: Path, cli) -> None:
    """The most direct payloads do not merely render harmlessly: they are errors, at their line."""
    project = copy_project(MINI, tmp_path / "project")
    (project / "theme" / "templates").mkdir(parents=True)
    (project / "theme" / "templates" / "fragment.html").write_text(FRAGMENT + PAYLOADS[name] + "\n", encoding="utf-8")
    result = cli("check", cwd=project)
    assert result.exit_code == 1
    line = FRAGMENT.count("\n") + 1
    assert result.stderr.startswith(f"theme/templates/fragment.html:{line}: template error: "), result.stderr


MEMORY_PAYLOADS = {
    # each makes one string or list of 50 million items or more in one expression, past the
    # limit of 10 million (MAX_TEMPLATE_SEQUENCE) that '*' already had
    "center-filter": '{{ "x" | center(50000000) }}',
    "center-method": '{{ "x".center(50000000) }}',
    "ljust-method": '{{ "x".ljust(50000000) }}',
    "zfill-method": '{{ "1".zfill(50000000) }}',
    "indent-filter": '{{ "x" | indent(50000000, true) }}',
    "format-filter-width": '{{ "%050000000d" | format(1) }}',
    "percent-width": '{{ "%050000000d" % 1 }}',
    "percent-star-width": '{{ "%*d" % (50000000, 1) }}',
    "str-format-width": '{{ "{:>50000000}".format(1) }}',
    "str-format-nested-width": '{{ "{:>{}}".format(1, 50000000) }}',
    "replace-filter": '{{ ("x" * 1000) | replace("x", "y" * 100000) }}',
    "replace-method": '{{ ("x" * 1000).replace("x", "y" * 100000) }}',
    "join-filter": '{{ (("x" * 100000,) * 1000) | join }}',
    "join-method": '{{ ",".join(("x" * 100000,) * 1000) }}',
    "list-plus": '{% set l = ["a"] * 9000000 %}{{ (l + l + l) | length }}',
    "concat-doubling": '{% set ns = namespace(s="x" * 1000000) %}{% for i in range(8) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}',
    "batch-fill": "{{ [1] | batch(50000000, 0) | list | length }}",
    "slice-many": "{{ [1] | slice(50000000) | list | length }}",
    "wordwrap-wrapstring": '{{ ("x " * 1000000) | wordwrap(1, wrapstring="y" * 100) | length }}',
    "output-of-a-loop": '{% for i in range(20) %}{{ "x" * 9000000 }}{% endfor %}',
    # a list holds one long text many times over (references, not copies): its length in items
    # is small, the text it makes is not (a thousand times 9 MB was 9 GB before anything refused it)
    "print-repeated-list": '{% set s = "x" * 5000000 %}{{ [s] * 10 }}',
    "string-filter-repeated-list": '{% set s = "x" * 5000000 %}{{ ([s] * 10) | string | length }}',
    "pprint-repeated-list": '{% set s = "x" * 5000000 %}{{ ([s] * 10) | pprint | length }}',
    "escape-repeated-list": '{% set s = "x" * 5000000 %}{{ ([s] * 10) | e | length }}',
    "percent-repeated-list": '{% set s = "x" * 5000000 %}{{ ("%s" % ([s] * 10,)) | length }}',
    "format-method-repeated-list": '{% set s = "x" * 5000000 %}{{ "{}".format([s] * 10) | length }}',
    "tojson-list-literal": '{% set s = "x" * 5000000 %}{% set l = [s, s, s, s, s, s, s, s, s, s] %}{{ l | tojson | length }}',
    "tojson-nested-lists": '{% set s = "x" * 100000 %}{% set a = [s] * 20 %}{% set b = [a] * 20 %}{{ [b] * 20 | tojson | length }}',
    # map makes a new value of each item: each is within the limit, all of them are not
    "map-many-values": '{{ range(100) | map("center", 1000000) | list | length }}',
    # a macro's or a block's output is kept in memory until it is joined
    "macro-output": '{% macro m() %}{% for i in range(20) %}{{ "x" * 9000000 }}{% endfor %}{% endmacro %}{{ m() | length }}',
    "set-block-output": '{% set x %}{% for i in range(20) %}{{ "x" * 9000000 }}{% endfor %}{% endset %}{{ x | length }}',
}


@pytest.mark.parametrize("name", sorted(MEMORY_PAYLOADS))
def test_one_expression_cannot_take_all_memory(name: str, mini: Path, cli) -> None:
    """docs/security.md: a theme cannot make the build use unbounded memory in one expression.
    Before these limits, each payload built a value of 50 million characters or items or more
    (a width of 4,000,000,000 makes 4 GB), and the page got it."""
    (mini / "theme" / "templates").mkdir(parents=True)
    (mini / "theme" / "templates" / "fragment.html").write_text(FRAGMENT + MEMORY_PAYLOADS[name] + "\n", encoding="utf-8")
    result = cli("build", cwd=mini)
    assert result.exception is None, result.exception
    assert result.exit_code == 1, "built a page with it"
    line = FRAGMENT.count("\n") + 1
    where = "theme/templates/fragment.html:" if name == "output-of-a-loop" else f"theme/templates/fragment.html:{line}:"  # the whole output
    assert result.stderr.startswith(f"{where} template error: "), result.stderr
    assert "10,000,000" in result.stderr or "100,000,000" in result.stderr, result.stderr


@pytest.mark.parametrize("payload", ['{{ (1).to_bytes(50000000, "big") | length }}', '{{ "x".encode().ljust(50000000) | length }}'],
                         ids=["int-to-bytes", "encode-ljust"])
def test_a_template_cannot_make_bytes(payload: str, mini: Path, cli) -> None:
    """Bytes are no data for a page, and their methods were not bounded as a string's are: each
    payload made 50 MB (10 GB with 10 ** 10) and the page printed its length."""
    (mini / "theme" / "templates").mkdir(parents=True)
    (mini / "theme" / "templates" / "fragment.html").write_text(FRAGMENT + payload + "\n", encoding="utf-8")
    result = cli("build", cwd=mini)
    assert result.exception is None, result.exception
    assert result.exit_code == 1, "built a page with it"
    line = FRAGMENT.count("\n") + 1
    assert result.stderr.startswith(f"theme/templates/fragment.html:{line}: template error: access to attribute "), result.stderr


@pytest.mark.parametrize("expression", ["(" * 1000 + "1" + ")" * 1000, "[" * 300 + "]" * 300, "-" * 100000 + "1", "1" + " + 1" * 50000],
                         ids=["parentheses", "brackets", "minus-signs", "additions"])
@pytest.mark.parametrize("command", ["check", "build"])
def test_an_expression_nested_too_deep_to_read_is_a_template_error(expression: str, command: str, mini: Path, cli) -> None:
    """Jinja reads an expression by recursion: one nested a thousand deep exhausted Python's
    stack while the build worked out which theme files a page reads, a RecursionError traceback."""
    (mini / "theme" / "templates").mkdir(parents=True)
    (mini / "theme" / "templates" / "fragment.html").write_text(FRAGMENT + "{{ " + expression + " }}\n", encoding="utf-8")
    result = cli(command, cwd=mini)
    assert result.exception is None, repr(result.exception)
    assert result.exit_code == 1
    assert result.stderr.startswith("theme/templates/fragment.html: template error: expressions or blocks nested too deep to read "
                                    "(maximum recursion depth exceeded)"), result.stderr


def test_harmless_template_code_still_works(mini: Path, cli) -> None:
    """Themes keep what Jinja offers for data: filters, loops, namespaces, JSON, mapping access."""
    extra = ("{% set ns = namespace(n=0) %}{% for alt in alternates %}{% set ns.n = ns.n + 1 %}{% endfor %}"
             '<p id="probe">{{ ns.n }}|{{ policy.id | upper }}|{{ policy.locales | join(",") }}|{{ policy.effective_date }}|'
             "{{ ui | dictsort | map('first') | join(',') }}|{{ range(3) | sum }}|{{ toc | length }}|{{ policy | tojson }}</p>\n")
    (mini / "theme" / "templates").mkdir(parents=True)
    (mini / "theme" / "templates" / "fragment.html").write_text(FRAGMENT + extra, encoding="utf-8")
    result = cli("build", cwd=mini)
    assert result.exit_code == 0, result.stderr
    page = (mini / "output" / "mini" / "en" / "index.html").read_text(encoding="utf-8")
    probe = re.search(r'<p id="probe">(.*)</p>', page)
    assert probe is not None
    assert probe.group(1).split("|")[:6] == ["2", "MINI", "en,nl", "2026-05-05", "contents,effective_date,generated_by,languages,skip_to_content,version",
                                             "3"]
    assert '"id": "mini"' in probe.group(1)


# --- the first wall: template data -------------------------------------------------------------


OBJECTS = {
    "path": Path("/etc/passwd"), "date": date(2026, 1, 1), "module": types, "builtin": len, "object": object(), "set": {1, 2}, "bytes": b"bytes",
    "str-subclass": type("Text", (str,), {})("subclass of str"), "nested-path": {"nested": [Path("x")]}, "int-key": {1: "key"},
    "function": builtin, "method": Markup.escape,
}


@pytest.mark.parametrize("value", list(OBJECTS.values()), ids=list(OBJECTS))
def test_template_data_refuses_objects(value: object) -> None:
    with pytest.raises(TypeError):
        template_data(value)


def test_template_data_is_plain_and_immutable() -> None:
    data = template_data({"id": "x", "html": Markup("<b>x</b>"), "n": 3, "on": True, "none": None, "items": [{"a": ["b"]}]})
    assert isinstance(data, types.MappingProxyType)
    assert type(data["items"]) is tuple and isinstance(data["items"][0], types.MappingProxyType) and data["items"][0]["a"] == ("b",)
    assert type(data["html"]) is Markup
    with pytest.raises(TypeError):
        data["id"] = "y"  # type: ignore[index]


def test_every_template_renders_through_render_template() -> None:
    """One door: a template is rendered only by ``render_template``, which makes its context
    template data, in the one environment :func:`~policygen.render.html.environment` makes. A
    second Jinja environment, or a template rendered directly, would bypass both walls.
    (Other modules may look a template up, to name its file in a message.)"""
    rendering = {"render", "render_async", "generate", "generate_async", "stream", "root_render_func", "make_module", "module", "new_context"}
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel == "render/html.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        templates = {target.id for node in ast.walk(tree) if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                     and isinstance(node.value.func, ast.Attribute) and node.value.func.attr == "get_template"
                     for target in node.targets if isinstance(target, ast.Name)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("from_string", "Environment", "SandboxedEnvironment", "ImmutableSandboxedEnvironment",
                                                                   "Template", "overlay"):
                found.append(f"{rel}:{node.lineno}: {node.attr}")
            elif isinstance(node, ast.Attribute) and node.attr in rendering and (
                    (isinstance(node.value, ast.Name) and node.value.id in templates)
                    or (isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Attribute) and node.value.func.attr == "get_template")):
                found.append(f"{rel}:{node.lineno}: renders a template itself")
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else [alias.name for alias in node.names]
                found.extend(f"{rel}:{node.lineno}: imports {m}" for m in modules if m.split(".")[0] == "jinja2")
    assert found == []


def test_every_template_gets_template_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli) -> None:
    """Build the sample (archive pages, banners, redlines, PDF wrapper): every template's
    context passes :func:`template_data`, and every package template is among them."""
    from policygen.render.pdf import pdf_html

    seen: dict[str, list[str]] = {}
    original = render_html.render_template

    def spy(env, name, context):  # type: ignore[no-untyped-def]
        seen.setdefault(name, []).append(type(template_data(dict(context))).__name__)
        return original(env, name, context)

    for module in ("policygen.render.html", "policygen.render.archive_pages", "policygen.render.redline", "policygen.render.pdf"):
        monkeypatch.setattr(f"{module}.render_template", spy)
    # The redline PDFs' templates render as they would; laying the pages out (most of the diff's
    # time) is left out, since the test is about what templates see (tests/test_redline.py reads
    # the laid-out redline PDF).
    monkeypatch.setattr("policygen.render.pdf._pdf_bytes", lambda *args, **kwargs: b"%PDF-1.7 placeholder")
    sample = copy_project(SAMPLE, tmp_path / "tonle")
    assert cli("build", "--today", "2026-03-15", cwd=sample).exit_code == 0  # the banner of 3.0 shows
    assert cli("diff", "tonle-privacy@2.1", str(sample), "-p", "tonle-privacy", "--output", str(tmp_path / "diff"), "--pdf", cwd=sample).exit_code == 0
    from policygen.i18n.prepare import prepare

    project, localized = prepare(sample, ["tonle-privacy"], ["km"])
    pdf_html(project, localized[0])
    # layout.html is the frame that page.html, archive.html and archived.html extend: it renders
    # inside them, with their context, and is never rendered by name.
    package_templates = {p.name for p in (PACKAGE / "templates").iterdir() if p.suffix == ".html"} - {"layout.html"} | {"pdf.css"}
    assert package_templates <= set(seen), f"not exercised: {package_templates - set(seen)}"
    assert {kind for kinds in seen.values() for kind in kinds} == {"mappingproxy"}
