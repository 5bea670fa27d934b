"""Importing existing policies: the three real seeds keep their structure, their dates and
contacts are recognized, and once a person fills in what the report asks they build."""

from __future__ import annotations

import cProfile
import importlib.util
import re
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import yaml
from conftest import FIXTURES, ROOT

from policygen.importers.project import import_policy
from policygen.scaffold import init_project

SEEDS = ROOT.parent / "shared" / "seeds"
CASES = {
    # seed, policy ID, language, title, top-level sections, all sections, list items, nested items
    "000_9018008437f7b145": ("gov-privacy", "en", "Privacy policy", 0, 0, 0, 0),
    "001_c7fbc65c9766e21b": ("visa-privacy", "nl", "Privacybeleid", 15, 15, 11, 0),
    "002_b81b069f5d5ed17f": ("mall-privacy", "en", "Privacy Policy", 3, 24, 63, 3),
}

# Only the tests that read the seeds need them; the others run everywhere.
needs_seeds = pytest.mark.skipif(not SEEDS.is_dir(), reason="the seeds live in ../shared/seeds")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    init_project(tmp_path / "p")
    return tmp_path / "p"


def headings(markdown: str) -> list[tuple[int, str]]:
    return [(len(m.group(1)), m.group(2)) for m in re.finditer(r"^(#+) (.*?)(?: \{#[^}]+\})?$", markdown, re.M)]


@needs_seeds
@pytest.mark.parametrize("seed", sorted(CASES))
def test_seed_keeps_its_structure(project: Path, seed: str) -> None:
    policy, lang, title, top, sections, items, nested = CASES[seed]
    report = import_policy(project, SEEDS / f"{seed}.txt", policy, lang)
    assert (report.title, report.top_sections, report.sections, report.list_items, report.nested_items) == (title, top, sections, items, nested)
    markdown = (project / "sources" / policy / "policy.md").read_text(encoding="utf-8")
    assert headings(markdown)[0] == (1, title)
    # every block has an explicit, safe ID
    blocks = [b for b in re.split(r"\n\n+", markdown) if b and not b.startswith("#")]
    assert all(re.match(r"\{#[a-z0-9]+(-[a-z0-9]+)*\}\n", b) for b in blocks)


@needs_seeds
def test_nesting_follows_the_text(project: Path) -> None:
    import_policy(project, SEEDS / "002_b81b069f5d5ed17f.txt", "mall-privacy", "en")
    found = headings((project / "sources" / "mall-privacy" / "policy.md").read_text(encoding="utf-8"))
    assert (2, "Part Two: privacy policy") in found
    at = found.index((2, "Part Two: privacy policy"))
    assert found[at + 1] == (3, "How we collect and use your information")  # "1、" under "Part Two"
    assert found[at + 2] == (4, "Provide account")  # "(1)" under "1、"
    # the table of contents of Part Two became a list, not nine empty sections
    assert sum(1 for level, text in found if text == "How to contact us") == 1


@needs_seeds
def test_dates_and_contacts(project: Path) -> None:
    gov = import_policy(project, SEEDS / "000_9018008437f7b145.txt", "gov-privacy", "en")
    assert gov.effective_date is not None and gov.effective_date[0].isoformat() == "2026-05-05"
    facts = yaml.safe_load((project / "sources" / "gov-privacy" / "policy.yaml").read_text(encoding="utf-8"))
    assert str(facts["effective_date"]) == "2026-05-05"
    assert ("minimum age", "13") in [(s.kind, s.value) for s in gov.suggestions]
    mall = import_policy(project, SEEDS / "002_b81b069f5d5ed17f.txt", "mall-privacy", "en")
    assert ("email", "cambodiapostesolutions@cpes.com.kh") in [(k, v) for k, v, _ in mall.contacts]
    facts = yaml.safe_load((project / "sources" / "mall-privacy" / "policy.yaml").read_text(encoding="utf-8"))
    assert facts["controller"]["email"] == "cambodiapostesolutions@cpes.com.kh"
    # the ID comes from the value, not from the address's position in the text
    assert {"id": "email-cambodiapostesolutions-cpes-com-kh", "kind": "email", "value": "cambodiapostesolutions@cpes.com.kh"} in facts["contacts"]
    visa = import_policy(project, SEEDS / "001_c7fbc65c9766e21b.txt", "visa-privacy", "nl")
    kinds = {(s.kind, s.value) for s in visa.suggestions}
    assert ("retention period", "P5Y (5 jaar)") in kinds
    assert ("sensitive data", "gezichtsfoto") in kinds
    assert any(kind == "data category" and value.startswith("Een gescande kopie") for kind, value in kinds)
    sentence = next(s.sentence for s in visa.suggestions if s.kind == "retention period")
    assert "maximaal 5 jaar bewaard" in sentence


@needs_seeds
@pytest.mark.parametrize("seed", sorted(CASES))
def test_imported_seed_checks_as_it_is_and_builds(project: Path, seed: str, cli) -> None:
    policy, lang, *_ = CASES[seed]
    result = cli("import", str(SEEDS / f"{seed}.txt"), "--policy", policy, "--lang", lang, "--project", str(project))
    assert result.exit_code == 0, result.stderr
    assert "## Still to do" in result.stdout
    assert (project / "sources" / policy / "import-report.md").is_file()
    checked = cli("check", "--project", str(project))
    assert checked.exit_code == 0, checked.stderr  # no hand edit: missing facts are warnings
    assert f"sources/{policy}/policy.yaml:1: warning: recipients is not modelled" in checked.stderr
    path = project / "sources" / policy / "policy.yaml"
    facts = yaml.safe_load(path.read_text(encoding="utf-8"))
    fill = yaml.safe_load((FIXTURES / "import" / "fill.yaml").read_text(encoding="utf-8"))
    facts["controller"] = {**fill["controller"], **(facts.get("controller") or {})}
    facts["minimum_age"] = fill["minimum_age"]
    facts["risk"] = fill["risk"]
    path.write_text(yaml.safe_dump(facts, allow_unicode=True, sort_keys=False), encoding="utf-8")
    result = cli("build", "--project", str(project), "--policy", policy, "--format", "html,pdf", "--jobs", "1")
    assert result.exit_code == 0, result.stderr
    out = project / "output" / policy / lang
    page = (out / "index.html").read_text(encoding="utf-8")
    assert f'<html lang="{lang}"' in page
    assert (out / f"{policy}-{lang}.pdf").read_bytes().startswith(b"%PDF-")


@pytest.mark.parametrize(("name", "content", "message"), [
    ("empty.txt", b"  \n\n", "the file is empty"),
    ("scan.pdf", b"%PDF-1.7\n\x00\x01\x02binary\x00" * 20, "looks like a binary file"),
    ("latin1.txt", "Privacyverklaring\n\nWij bewaren gegevens één jaar.\n".encode("latin-1"), "not valid UTF-8"),
    # Formats whose bytes are all text: they imported as prose full of control words and PDF operators.
    ("policy.rtf", b"{\\rtf1\\ansi\\deff0 {\\fonttbl {\\f0 Times;}}\n\\f0\\fs24 Privacy Policy. We collect your e-mail address.\\par\n}\n",
     "an RTF document"),
    ("policy.txt", b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\nBT /F1 12 Tf (We collect your e-mail address.) Tj ET\n%%EOF\n",
     "a PDF file"),
])
def test_bad_input_writes_nothing(project: Path, tmp_path: Path, cli, name: str, content: bytes, message: str) -> None:
    source = tmp_path / name
    source.write_bytes(content)
    result = cli("import", str(source), "--policy", "bad", "--lang", "nl", "--project", str(project))
    assert result.exit_code == 1
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (project / "sources" / "bad").exists()


@needs_seeds
def test_import_refuses_to_overwrite(project: Path, cli) -> None:
    args = ("import", str(SEEDS / "000_9018008437f7b145.txt"), "--policy", "gov", "--lang", "en", "--project", str(project))
    assert cli(*args).exit_code == 0
    result = cli(*args)
    assert result.exit_code == 1 and "a policy with this ID exists" in result.stderr and "--update" in result.stderr
    assert cli(*args, "--force").exit_code == 0


def test_html_and_markdown_input(project: Path, tmp_path: Path) -> None:
    html = tmp_path / "policy.html"
    html.write_text("<html><body><h1>Privacy</h1><p>Last updated: 3 March 2026</p><h2>What we collect</h2>"
                    "<p>We collect:</p><ul><li>your <b>health</b> data</li><li>your name<ul><li>first name</li></ul></li></ul>"
                    "<script>ignored()</script><p>Mail privacy@example.org.</p></body></html>", encoding="utf-8")
    report = import_policy(project, html, "from-html", "en")
    assert (report.format, report.title, report.sections, report.list_items, report.nested_items) == ("html", "Privacy", 1, 3, 1)
    assert report.effective_date[0].isoformat() == "2026-03-03"
    markdown = (project / "sources" / "from-html" / "policy.md").read_text(encoding="utf-8")
    assert "- your **health** data" in markdown and "   - first name" in markdown and "ignored" not in markdown
    md = tmp_path / "policy.md"
    md.write_text("# Cookiebeleid\n\nLaatst bijgewerkt: 5 mei 2026\n\n## Wat zijn cookies\n\nEen *cookie* is [een bestand](x).\n\n1. een\n2. twee\n",
                  encoding="utf-8")
    report = import_policy(project, md, "from-md", "nl")
    assert (report.format, report.title, report.sections, report.list_items) == ("markdown", "Cookiebeleid", 1, 2)
    assert report.effective_date[0].isoformat() == "2026-05-05"


def test_no_text_is_lost(project: Path, tmp_path: Path) -> None:
    text = tmp_path / "policy.txt"
    text.write_text("Privacy\n\nEffective date: 1 May 2026. This policy applies to all users.\n\n~~~ strike & more\n\n"
                    "- your name and\n  your postal address,\n- your e-mail.\n", encoding="utf-8")
    report = import_policy(project, text, "lossless", "en")
    assert report.effective_date[0].isoformat() == "2026-05-01"
    markdown = (project / "sources" / "lossless" / "policy.md").read_text(encoding="utf-8")
    assert "This policy applies to all users." in markdown  # the date line kept its sentence
    assert "\\~\\~\\~ strike \\& more" in markdown           # no accidental code fence or entity
    assert "- your name and your postal address," in markdown
    html = tmp_path / "page.html"
    html.write_text("<html><head><title>Site title</title></head><body><h1>Privacy</h1>"
                    "<p>Write to <a href='mailto:dpo@example.org'>our officer</a>.</p></body></html>", encoding="utf-8")
    report = import_policy(project, html, "from-html-2", "en")
    assert report.title == "Privacy" and not report.title_guessed
    assert ("email", "dpo@example.org") in [(k, v) for k, v, _ in report.contacts]
    md = tmp_path / "keep.md"
    md.write_text("# Policy\n\nWe keep **your data** safe, see [rights](#x).\n\n    indented code block text\n", encoding="utf-8")
    import_policy(project, md, "from-md-2", "en")
    markdown = (project / "sources" / "from-md-2" / "policy.md").read_text(encoding="utf-8")
    assert "We keep **your data** safe" in markdown and "indented code block text" in markdown


# --- fixture cases: every repair and every recognition is a file in fixtures/import/cases/ -------

IMPORT_CASES = sorted((FIXTURES / "import" / "cases").glob("*.yaml"))


@pytest.mark.parametrize("case", IMPORT_CASES, ids=[c.stem for c in IMPORT_CASES])
def test_import_case(case: Path, tmp_path: Path, cli) -> None:
    spec = yaml.safe_load(case.read_text(encoding="utf-8"))
    lang = spec.get("lang", "en")
    project = tmp_path / "p"
    project.mkdir()
    (project / "policygen.yaml").write_text(f"site:\n  title: Cases\nlocales: [{lang}]\n", encoding="utf-8")
    source = tmp_path / f"input.{spec['format']}"
    source.write_text(spec["input"], encoding="utf-8")
    if "error" in spec:
        result = cli("import", str(source), "--policy", "case", "--lang", lang, "--project", str(project))
        assert result.exit_code == 1 and spec["error"] in result.stderr and "Traceback" not in result.stderr
        return
    report = import_policy(project, source, "case", lang, today=date(2026, 1, 2))
    markdown = (project / "sources" / "case" / "policy.md").read_text(encoding="utf-8")
    facts = yaml.safe_load((project / "sources" / "case" / "policy.yaml").read_text(encoding="utf-8"))
    for wanted in spec.get("markdown", []):
        assert wanted in markdown
    for unwanted in spec.get("absent", []):
        assert unwanted not in markdown
    for repair in spec.get("repairs", []):
        assert any(line.startswith(repair) for line in report.repairs), report.repairs
    if "repairs" not in spec:
        assert report.repairs == []
    assert [w for w in report.warnings if not any(w.startswith(x) for x in spec.get("warnings", []))] == []
    assert len(report.warnings) == len(spec.get("warnings", []))
    for todo in spec.get("todo", []):
        assert any(todo in line for line in report.todo), report.todo
    if "effective_date" in spec:
        assert str(facts["effective_date"]) == str(spec["effective_date"])
    if "controller" in spec:
        assert facts["controller"]["name"] == spec["controller"]
    found = {(c["kind"], c["value"]): c["id"] for c in facts.get("contacts", [])}
    for contact in spec.get("contacts", []):
        assert (contact[0], contact[1]) in found, found
        if len(contact) > 2:
            assert found[(contact[0], contact[1])] == contact[2]
    for value in spec.get("not_contacts", []):
        assert value not in {v for _k, v in found}
    checked = cli("check", "--project", str(project))
    assert checked.exit_code == 0, checked.stderr


def test_every_repair_has_a_case() -> None:
    kinds = "images|in-page links|script links|relative or unsupported|inline HTML|'{{'|empty blocks|nested deeper|navigation dropped"
    kinds += "|e-mail protection|footnotes written|hidden by Cloudflare decoded|made of an arrow only"
    kinds += "|line or page breaks from a word processor|control characters dropped|clause IDs of a policygen source"
    covered = " ".join(case.read_text(encoding="utf-8") for case in IMPORT_CASES)
    for kind in kinds.split("|"):
        assert kind in covered, f"no fixture case shows the repair '{kind}'"


# --- inputs that used to take seconds or raise ---------------------------------------------------

def _bench(name: str):
    spec = importlib.util.spec_from_file_location(f"{name}_bench", ROOT / "bench" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


LINEAR_INPUTS = _bench("import_linear").INPUTS
"""The inputs issue 16's sweep found quadratic, by file name: a function of their scale."""
COUNTED_MODULES = ("policygen.importers", "html.parser", "_markupbase", "markdown_it", "mdit_py_plugins")
"""Whose compiled regular expressions :class:`_Work` counts: the importer and the parsers it feeds."""


@dataclass
class _Work:
    """What an import did, counted, not timed (the same input gives the same counts on any
    machine, however loaded): ``calls``, every Python and built-in function call (cProfile's
    count); ``scanned``, the characters regular expressions went through, as far as the result
    shows it (a search up to the end of its match, or to the end of the text when it finds
    nothing; an iteration or substitution the whole text; a match attempt up to the end of its
    match, 1 when it fails). A pass over the text that is repeated for each of its parts (each
    ``<``, each line) shows in one of the two. What neither sees is backtracking inside one
    regular-expression call, which only time shows: bench/import_linear.py times the same inputs."""

    calls: int = 0
    scanned: int = 0


class _CountedPattern:
    """A compiled pattern that adds what each use of it scans to a :class:`_Work`."""

    def __init__(self, pattern: re.Pattern[str], work: _Work) -> None:
        self._pattern, self._work = pattern, work

    def __getattr__(self, name: str):
        return getattr(self._pattern, name)

    def search(self, string, pos=0, endpos=sys.maxsize):
        found = self._pattern.search(string, pos, endpos)
        self._work.scanned += 1 + (found.end() if found else min(len(string), endpos)) - pos
        return found

    def match(self, string, pos=0, endpos=sys.maxsize):
        found = self._pattern.match(string, pos, endpos)
        self._work.scanned += 1 + (found.end() - pos if found else 0)
        return found

    def fullmatch(self, string, pos=0, endpos=sys.maxsize):
        found = self._pattern.fullmatch(string, pos, endpos)
        self._work.scanned += 1 + (found.end() - pos if found else 0)
        return found

    def _whole(self, method: str, string, *args, **kwargs):
        self._work.scanned += 1 + len(string)
        return getattr(self._pattern, method)(string, *args, **kwargs)

    def finditer(self, string, *args, **kwargs):
        return self._whole("finditer", string, *args, **kwargs)

    def findall(self, string, *args, **kwargs):
        return self._whole("findall", string, *args, **kwargs)

    def split(self, string, *args, **kwargs):
        return self._whole("split", string, *args, **kwargs)

    def sub(self, repl, string, *args, **kwargs):
        self._work.scanned += 1 + len(string)
        return self._pattern.sub(repl, string, *args, **kwargs)

    def subn(self, repl, string, *args, **kwargs):
        self._work.scanned += 1 + len(string)
        return self._pattern.subn(repl, string, *args, **kwargs)


def _work_of_import(project: Path, source: Path, monkeypatch: pytest.MonkeyPatch) -> _Work:
    """The :class:`_Work` of importing ``source`` (over an earlier import)."""
    work = _Work()
    with monkeypatch.context() as patch:
        for name, module in list(sys.modules.items()):
            if module is not None and name.startswith(COUNTED_MODULES):
                for attr, value in list(vars(module).items()):
                    if isinstance(value, re.Pattern):
                        patch.setattr(module, attr, _CountedPattern(value, work))
        compile_pattern = re._compile  # re.match(r"...", text) and re.compile at run time

        def counted(pattern, flags):
            compiled = compile_pattern(pattern, flags)
            return _CountedPattern(compiled, work) if isinstance(compiled, re.Pattern) else compiled

        patch.setattr(re, "_compile", counted)
        profile = cProfile.Profile()
        profile.enable()
        try:
            import_policy(project, source, "fast", "en", force=True, today=date(2026, 1, 2))
        finally:
            profile.disable()
    work.calls = sum(entry.callcount for entry in profile.getstats())
    return work


def _growth(project: Path, tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch, small: float = 1 / 16) -> tuple[_Work, _Work]:
    """The work of importing the input ``name`` at scale ``small`` and 4 times that."""
    works = []
    for scale in (small, 4 * small):
        source = tmp_path / name
        source.write_text(LINEAR_INPUTS[name](scale), encoding="utf-8")
        works.append(_work_of_import(project, source, monkeypatch))
    return works[0], works[1]


@pytest.fixture
def warm_project(project_dir: Path, tmp_path: Path) -> Path:
    """A project with one import done, so what the first import does once (compiling patterns,
    building the Markdown parser, reading the word lists) is not counted as the work of an input."""
    for name, text in (("warm.txt", "Privacy\n\nWe keep a@b.example for 5 days.\n\n- one\n"),
                       ("warm.html", "<h1>T</h1><p>x <a href='mailto:a@b.example'>y</a></p>"), ("warm.md", "# T\n\nText.[^1]\n\n[^1]: Note.\n")):
        (tmp_path / name).write_text(text, encoding="utf-8")
        import_policy(project_dir, tmp_path / name, "fast", "en", force=True, today=date(2026, 1, 2))
    return project_dir


@pytest.mark.parametrize("name", sorted(LINEAR_INPUTS))
def test_import_is_linear(warm_project: Path, tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each input that made the import quadratic (issue 16) does about 4 times the work at 4 times
    the size: counted work (:class:`_Work`), so that the test does not depend on the machine's load
    (it timed the import, with a 15 s bound). Quadratic work would grow about 16 times."""
    scale = 1 / 64 if name == "items.txt" else 1 / 16  # 1,250 items already take 0.5 s under cProfile
    small, large = _growth(warm_project, tmp_path, name, monkeypatch, scale)
    assert large.calls <= 5 * small.calls, (small, large)
    assert large.scanned <= 5 * small.scanned, (small, large)
    assert (warm_project / "sources" / "fast" / "policy.md").stat().st_size < 4 * len(LINEAR_INPUTS[name](4 * scale)) + 10_000


@pytest.mark.parametrize("name", sorted(set(LINEAR_INPUTS) - {"items.txt"}))
def test_the_sweep_inputs_import_at_full_size(project_dir: Path, tmp_path: Path, name: str) -> None:
    """At the size the sweep found them (a list nested 3,000 deep, 30 KB of '<a '...), each input
    imports without an error (20,000 list items take 2 s; their shape is counted above)."""
    source = tmp_path / name
    source.write_text(LINEAR_INPUTS[name](1), encoding="utf-8")
    import_policy(project_dir, source, "fast", "en", today=date(2026, 1, 2))
    assert (project_dir / "sources" / "fast" / "policy.md").stat().st_size < 4 * len(LINEAR_INPUTS[name](1)) + 10_000


def test_the_linearity_count_sees_a_quadratic_import(warm_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The counts of test_import_is_linear catch the blow-ups they guard against: without the step
    that makes broken tags text (read._safe_html), html.parser rescans the rest of the page at each
    '<a ' (31 s for 30 KB), and a step that walks all earlier blocks for each block is quadratic calls."""
    from policygen.importers import project, read

    monkeypatch.setattr(read, "_safe_html", lambda text: text)
    small, large = _growth(warm_project, tmp_path, "tags.html", monkeypatch, 1 / 32)
    assert large.scanned > 5 * small.scanned, (small, large)  # test_import_is_linear fails
    monkeypatch.undo()
    blocks_from_text = read.blocks_from_text

    def rescanning(text: str, repairs: read.Repairs) -> list[read.Block]:
        blocks = blocks_from_text(text, repairs)
        for at in range(len(blocks)):  # compares each block with every earlier one
            for earlier in blocks[:at]:
                len(earlier.text)
        return blocks

    monkeypatch.setattr(project, "blocks_from_text", rescanning)
    small, large = _growth(warm_project, tmp_path, "items.txt", monkeypatch, 1 / 64)
    assert large.calls > 5 * small.calls, (small, large)  # test_import_is_linear fails


def test_a_huge_page_is_refused(project_dir: Path, tmp_path: Path, cli) -> None:
    source = tmp_path / "site.html"
    source.write_text("<html><body>" + "<p>We keep your data.</p>" * 220_000 + "</body></html>", encoding="utf-8")
    result = cli("import", str(source), "--policy", "huge", "--lang", "en", "--project", str(project_dir))
    assert result.exit_code == 1 and "MB; policygen imports files up to 4 MB" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(("config", "message"), [
    ("site: [unclosed\n", "policygen.yaml:2: malformed YAML"),
    ("- a\n- b\n", "policygen.yaml:1: policygen.yaml must be a mapping of settings"),
    ("site:\n  title: T\nlocales: en\n", "policygen.yaml:3: 'locales' must be a list"),
])
def test_a_broken_config_is_a_located_error(tmp_path: Path, cli, config: str, message: str) -> None:
    project = tmp_path / "p"
    project.mkdir()
    (project / "policygen.yaml").write_text(config, encoding="utf-8")
    source = tmp_path / "in.txt"
    source.write_text("Privacy\n\nWe collect your e-mail address to send you receipts.\n", encoding="utf-8")
    result = cli("import", str(source), "--policy", "imp", "--lang", "en", "--project", str(project))
    assert result.exit_code == 1 and message in result.stderr and "Traceback" not in result.stderr
    assert not (project / "sources").exists()


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "policygen.yaml").write_text("site:\n  title: T\nlocales: [en]\n", encoding="utf-8")
    return project


# --- re-import --------------------------------------------------------------------------------------

OLD_TEXT = """# Privacy

## What we collect

We collect your name and e-mail address when you sign up for an account.

We collect the pages you visit on our site, to improve them.

## Sharing

We share your data with our payment provider to process your orders.

## Contact

Write to privacy@shop.example with any question about this policy.
"""


def _ids(markdown: str) -> dict[str, str]:
    """Clause ID -> its text."""
    return {m.group(1): m.group(2) for m in re.finditer(r"^\{#([^}]+)\}\n(.+)$", markdown, re.M)}


def test_update_keeps_ids_by_content(project_dir: Path, tmp_path: Path, cli) -> None:
    old = tmp_path / "v1.md"
    old.write_text(OLD_TEXT, encoding="utf-8")
    import_policy(project_dir, old, "shop", "en", today=date(2026, 1, 2))
    prose = project_dir / "sources" / "shop" / "policy.md"
    before = _ids(prose.read_text(encoding="utf-8"))
    facts = project_dir / "sources" / "shop" / "policy.yaml"
    facts.write_text(facts.read_text(encoding="utf-8") + "minimum_age: 16\n", encoding="utf-8")  # a person's edit
    new_text = OLD_TEXT.replace("# Privacy\n", "# Privacy\n\nLast updated: 1 June 2026\n\n## Who we are\n\nShop Example Ltd runs this web shop from Utrecht.\n")
    new_text = new_text.replace("to improve them.", "to improve them and to show you advertising.")
    new = tmp_path / "v2.md"
    new.write_text(new_text, encoding="utf-8")
    result = cli("import", str(new), "--policy", "shop", "--lang", "en", "--update", "--project", str(project_dir))
    assert result.exit_code == 0, result.stderr
    assert "kept their IDs from the earlier import" in result.stdout
    after = _ids(prose.read_text(encoding="utf-8"))
    by_text = {text: ident for ident, text in after.items()}
    for ident, text in before.items():
        if "improve them" in text:
            assert after[ident].endswith("to show you advertising.")  # edited: same ID
        else:
            assert by_text[text] == ident  # unchanged: same ID, although every block moved down
    assert len(after) == len(before) + 1
    kept = facts.read_text(encoding="utf-8")
    assert "minimum_age: 16" in kept and "effective_date: 2026-06-01" in kept


def test_update_needs_an_earlier_import(project_dir: Path, tmp_path: Path, cli) -> None:
    source = tmp_path / "v1.md"
    source.write_text(OLD_TEXT, encoding="utf-8")
    result = cli("import", str(source), "--policy", "shop", "--lang", "en", "--update", "--project", str(project_dir))
    assert result.exit_code == 1 and "import it first without --update" in result.stderr


LINKED_TEXT = """# Privacy

## Cookies

We use cookies to keep you signed in and to remember your language, as this section explains.

Google Chrome: [Google Chrome cookie settings](https://support.google.com/chrome/answer/95647?hl=en)

Mozilla Firefox: [Firefox cookie settings](https://support.mozilla.org/en-US/kb/enhanced-tracking-protection-firefox-desktop)

\\_\\_adroll \\_\\_ar\\_v4 \\_\\_adroll\\_shared \\_\\_adroll\\_fpc
"""


@pytest.mark.parametrize("first", ["md", "html"])
def test_update_keeps_the_ids_of_clauses_made_of_links(project_dir: Path, tmp_path: Path, cli, first: str) -> None:
    """A clause that is mostly a link kept its ID on an --update only when its link text made up 60 %
    of its words with the URL counted: the earlier import's clause (Markdown) was compared with its
    link target, the new block (plain text) without it, so 'Google Chrome: [Google Chrome cookie
    settings](https://...)' got a new ID although not a character of it changed; a list of cookie
    names did too ('\\_\\_ga' against '__ga'). Found on real policies (Disqus, Alibaba, Daily Mail, AdRoll)."""
    old = tmp_path / "v1.md"
    old.write_text(LINKED_TEXT, encoding="utf-8")
    if first == "html":
        old = tmp_path / "v1.html"
        old.write_text("<h1>Privacy</h1><h2>Cookies</h2><p>We use cookies to keep you signed in and to remember your language, as this "
                       "section explains.</p><p>Google Chrome: <a href='https://support.google.com/chrome/answer/95647?hl=en'>Google "
                       "Chrome cookie settings</a></p><p>Mozilla Firefox: <a href='https://support.mozilla.org/en-US/kb/enhanced-tracking-"
                       "protection-firefox-desktop'>Firefox cookie settings</a></p><p>__adroll __ar_v4 __adroll_shared "
                       "__adroll_fpc</p>", encoding="utf-8")
    import_policy(project_dir, old, "shop", "en", today=date(2026, 1, 2))
    prose = project_dir / "sources" / "shop" / "policy.md"
    before = _ids(prose.read_text(encoding="utf-8"))
    new = tmp_path / "v2.md"
    new.write_text(LINKED_TEXT.replace("## Cookies\n", "## Who we are\n\nShop Example Ltd runs this web shop from "
                                                  "Utrecht, in the Netherlands.\n\n## Cookies\n"), encoding="utf-8")
    result = cli("import", str(new), "--policy", "shop", "--lang", "en", "--update", "--project", str(project_dir))
    assert result.exit_code == 0, result.stderr
    after = _ids(prose.read_text(encoding="utf-8"))
    for ident, text in before.items():
        words = " ".join(re.findall(r"[A-Za-z]+", re.sub(r"\]\([^)]*\)", "", text)))
        assert [i for i, t in after.items() if " ".join(re.findall(r"[A-Za-z]+", re.sub(r"\]\([^)]*\)", "", t))) == words] == [ident], (text, after)


def test_a_decimal_figure_is_no_retention_period() -> None:
    """'Median response time: 1.19 days' was suggested as a period of 19 days (P19D), and '1.00 day'
    as 'P00D' (a real policy's table of request statistics, Disqus). A whole number of days is still one."""
    from policygen.importers.read import Block
    from policygen.importers.suggest import suggest

    blocks = [Block("item", "Requests to delete: Received: 1,175 | Median response time: 1.19 days | Mean response time: 1.00 day", 3),
              Block("paragraph", "We keep your order history for 6 years, and delete chat logs after 30 days.", 5)]
    periods = [s.value for s in suggest(blocks) if s.kind == "retention period"]
    assert periods == ["P6Y (6 years)", "P30D (30 days)"]


def test_update_gives_unchanged_clauses_their_ids_first(project_dir: Path, tmp_path: Path) -> None:
    """Clauses were matched in order, so an edited clause that now reads much like an unchanged one
    further on took that one's ID, and the unchanged one took another's (AdRoll's two cookie
    clauses swapped IDs on an update). Unchanged texts keep their IDs before any is matched by likeness."""
    old = tmp_path / "v1.md"
    old.write_text("# Privacy\n\n## Cookies\n\nAcme Technology uses cookies on the websites of its customers, who are advertisers, "
                   "to show their ads.\n\nWe also use cookies, tracking pixels and related technologies to provide our services "
                   "for our customers.\n", encoding="utf-8")
    import_policy(project_dir, old, "shop", "en", today=date(2026, 1, 2))
    prose = project_dir / "sources" / "shop" / "policy.md"
    before = {text: ident for ident, text in _ids(prose.read_text(encoding="utf-8")).items()}
    new = tmp_path / "v2.md"
    new.write_text("# Privacy\n\n## Cookies\n\nWe also use first and third party cookies, tracking pixels and related technologies to "
                   "provide our services to our customers.\n\nWe also use cookies, tracking pixels and related technologies to "
                   "provide our services for our customers.\n", encoding="utf-8")
    import_policy(project_dir, new, "shop", "en", update=True, today=date(2026, 1, 2))
    after = {text: ident for ident, text in _ids(prose.read_text(encoding="utf-8")).items()}
    unchanged = "We also use cookies, tracking pixels and related technologies to provide our services for our customers."
    assert after[unchanged] == before[unchanged]


@pytest.mark.parametrize(("sentence", "period"), [
    ("We keep the log for 1,5 dagen.", None),
    ("We keep the log for 1.5 days.", None),
    ("Bewaartermijn: ,5 dagen.", None),  # the importer read "5 dagen" here, the diff nothing
    ("Our form x5 days ago.", None),     # the diff read "5 days" here, the importer nothing
    ("We keep the log for 5 dagen.", ("P5D (5 dagen)", 5.0)),
    ("We keep invoices for 7 years.", ("P7Y (7 years)", 7 * 365.25)),
    ("Backups go after 1000 days.", ("P1000D (1000 days)", 1000.0)),  # the importer stopped at 3 digits
])
def test_the_importer_and_the_diff_read_the_same_periods(sentence: str, period: tuple[str, float] | None) -> None:
    """A suggested retention period is one the diff sees in the same sentence, and the reverse: both
    read periods with model.PERIOD_IN_PROSE_RE (their two patterns disagreed on ',5 dagen', 'x5 days'
    and '1000 days')."""
    from policygen.changes.diff import longest_duration
    from policygen.importers.read import Block
    from policygen.importers.suggest import suggest

    suggested = [s.value for s in suggest([Block("paragraph", sentence, 1)]) if s.kind == "retention period"]
    assert (suggested, longest_duration(sentence)) == (([period[0]], period[1]) if period else ([], 0.0))


PLACEHOLDER_TEXT = """# Privacy

## Who we are

Shop Example Ltd is the controller of the personal data this web shop collects.

## Accounts

You must be 16 or older to open an account with us.

Children under 16 may browse the shop but cannot place orders.

## Contact

Write to privacy@shop.example with any question about this policy.
"""


def test_update_keeps_the_placeholders_a_person_wrote(project_dir: Path, tmp_path: Path, cli) -> None:
    """--update replaced policy.md, so the placeholders a person had written into it were lost
    without a word (policy.yaml was kept). A placeholder comes back where the clause with its ID
    still says the text it renders; each one that cannot come back is a 'Still to do' line at its
    place in the earlier policy.md."""
    old = tmp_path / "v1.md"
    old.write_text(PLACEHOLDER_TEXT, encoding="utf-8")
    import_policy(project_dir, old, "shop", "en", today=date(2026, 1, 2))
    prose = project_dir / "sources" / "shop" / "policy.md"
    facts = project_dir / "sources" / "shop" / "policy.yaml"
    facts.write_text(facts.read_text(encoding="utf-8") + "minimum_age: 16\n", encoding="utf-8")
    edited = (prose.read_text(encoding="utf-8").replace("Shop Example Ltd is", "{{controller.name}} is")
              .replace("be 16 or older", "be {{ minimum_age }} or older").replace("under 16 may", "under {{minimum_age}} may")
              .replace("Write to privacy@shop.example", "Write to {{contact.email-privacy-shop-example}}"))
    prose.write_text(edited, encoding="utf-8")
    assert cli("check", "--project", str(project_dir)).exit_code == 0
    dropped_line = next(n for n, line in enumerate(edited.split("\n"), start=1) if "under {{minimum_age}}" in line)
    new = tmp_path / "v2.md"
    new.write_text(PLACEHOLDER_TEXT.replace("# Privacy\n", "# Privacy\n\nLast updated: 1 June 2026\n\n## Scope\n\nThis policy covers the "
                                            "web shop and its mobile app.\n").replace("Children under 16", "Children under 13"),
                   encoding="utf-8")
    result = cli("import", str(new), "--policy", "shop", "--lang", "en", "--update", "--project", str(project_dir))
    assert result.exit_code == 0, result.stderr
    markdown = prose.read_text(encoding="utf-8")
    assert "{{controller.name}} is the controller" in markdown
    assert "You must be {{ minimum_age }} or older" in markdown  # the person's own spelling
    assert "Write to {{contact.email-privacy-shop-example}} with" in markdown
    assert "Children under 13 may" in markdown  # the new text no longer says 16: its placeholder is not put back...
    assert (f"sources/shop/policy.md:{dropped_line}: the placeholder {{{{minimum_age}}}} written here in the earlier version"
            in result.stdout)  # ...and the report says so, at its place
    assert "- 3 placeholders written into the earlier policy.md kept" in result.stdout
    checked = cli("check", "--project", str(project_dir))
    assert checked.exit_code == 0, checked.stderr


def test_update_reports_every_placeholder_it_cannot_render(project_dir: Path, tmp_path: Path, cli) -> None:
    """When the project does not load (here a placeholder whose fact policy.yaml lacks), no value
    is known: each placeholder is reported at its line, none is put back by guesswork."""
    old = tmp_path / "v1.md"
    old.write_text(PLACEHOLDER_TEXT, encoding="utf-8")
    import_policy(project_dir, old, "shop", "en", today=date(2026, 1, 2))
    prose = project_dir / "sources" / "shop" / "policy.md"
    prose.write_text(prose.read_text(encoding="utf-8").replace("be 16 or older", "be {{minimum_age}} or older"), encoding="utf-8")
    line = next(n for n, text in enumerate(prose.read_text(encoding="utf-8").split("\n"), start=1) if "{{minimum_age}}" in text)
    report = import_policy(project_dir, old, "shop", "en", update=True, today=date(2026, 1, 2))
    assert "{{" not in prose.read_text(encoding="utf-8") and report.placeholders_kept == 0
    [todo] = [t for t in report.todo if t.startswith("sources/shop/policy.md:")]
    assert todo.startswith(f"sources/shop/policy.md:{line}: the placeholder {{{{minimum_age}}}} written here in the earlier version")
    assert "the project does not load, so their values are unknown" in todo and "gives no minimum_age" in todo


def test_update_puts_no_placeholder_into_a_link_target_or_an_id(project_dir: Path, tmp_path: Path) -> None:
    """A placeholder comes back in a link's text, not in its target (where check refuses it), and
    a value that is also part of a heading's ID is counted once, in the heading's text."""
    old = tmp_path / "v1.md"
    old.write_text("# Privacy\n\n## Users under 16\n\nWe ask the consent of a parent for every user under 16 years.\n\n## Contact\n\n"
                   "Write to [privacy@shop.example](mailto:privacy@shop.example) with any question about this policy.\n", encoding="utf-8")
    import_policy(project_dir, old, "shop", "en", today=date(2026, 1, 2))
    facts = project_dir / "sources" / "shop" / "policy.yaml"
    facts.write_text(facts.read_text(encoding="utf-8") + "minimum_age: 16\n", encoding="utf-8")
    prose = project_dir / "sources" / "shop" / "policy.md"
    prose.write_text(prose.read_text(encoding="utf-8").replace("[privacy@shop.example]", "[{{contact.email-privacy-shop-example}}]")
                     .replace("## Users under 16 ", "## Users under {{minimum_age}} "), encoding="utf-8")
    report = import_policy(project_dir, old, "shop", "en", update=True, today=date(2026, 1, 2))
    markdown = prose.read_text(encoding="utf-8")
    assert "Write to [{{contact.email-privacy-shop-example}}](mailto:privacy@shop.example) with" in markdown
    assert "## Users under {{minimum_age}} {#users-under-16}" in markdown
    assert report.placeholders_kept == 2 and not [t for t in report.todo if "placeholder" in t]


def test_update_renders_placeholders_in_the_policys_language(tmp_path: Path) -> None:
    """The values of a person's placeholders are rendered in the language policy.md is written in
    (policy.yaml's source_locale), not in the --lang of the update: '{{effective_date}}' reads
    '2 januari 2026' in a Dutch policy, whatever the command line says."""
    project = tmp_path / "p"
    project.mkdir()
    (project / "policygen.yaml").write_text("site:\n  title: T\nlocales: [nl, en]\n", encoding="utf-8")
    source = tmp_path / "v1.md"
    source.write_text("# Privacy\n\n## Over deze tekst\n\nWij hebben deze tekst op 2 januari 2026 herzien, samen met onze juristen.\n",
                      encoding="utf-8")
    import_policy(project, source, "shop", "nl", today=date(2026, 1, 2))
    prose = project / "sources" / "shop" / "policy.md"
    prose.write_text(prose.read_text(encoding="utf-8").replace("op 2 januari 2026 herzien", "op {{effective_date}} herzien"), encoding="utf-8")
    report = import_policy(project, source, "shop", "en", update=True, today=date(2026, 1, 2))
    assert "Wij hebben deze tekst op {{effective_date}} herzien" in prose.read_text(encoding="utf-8")
    assert report.placeholders_kept == 1
