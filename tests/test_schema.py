"""The published JSON Schemas are the ones policygen validates with, and every shipped project
(sample, starter, fixtures) passes them as an editor would check it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from conftest import FIXTURES, ROOT, SAMPLE

from policygen import api
from policygen.errors import Collector
from policygen.source.files import read_yaml
from policygen.source.load import _explain, _validator, _verdict, schema

STARTER = ROOT / "policygen" / "data" / "starter"
PROJECTS = [SAMPLE, STARTER, FIXTURES / "projects" / "mini"]


@pytest.mark.parametrize("name", ["policy", "project", "glossary", "rules", "change-report"])
def test_published_schema_matches_package(name: str) -> None:
    published = json.loads((ROOT / "docs" / "schema" / f"{name}.schema.json").read_text(encoding="utf-8"))
    assert published == schema(name)
    jsonschema.Draft202012Validator.check_schema(published)


@pytest.mark.parametrize("project", PROJECTS, ids=[p.name for p in PROJECTS])
def test_shipped_projects_validate(project: Path) -> None:
    files = [(project / "policygen.yaml", "project"), (project / "glossary.yaml", "glossary")]
    files += [(p, "policy") for p in sorted((project / "sources").glob("*/policy.yaml"))]
    for path, name in files:
        errors = Collector()
        data, _ = read_yaml(path, errors)
        assert not errors
        validator = jsonschema.Draft202012Validator(schema(name), format_checker=jsonschema.FormatChecker())
        assert list(validator.iter_errors(data)) == [], path



SCHEMA_COMMENT = re.compile(r"^# yaml-language-server: \$schema=(\S+)$", re.MULTILINE)


def _schema_comments(project: Path) -> list[tuple[Path, str]]:
    """Each YAML source of ``project`` that names its schema for editors, with the path it names."""
    found = []
    for path in sorted([project / "policygen.yaml", project / "glossary.yaml", *(project / "sources").glob("*/policy.yaml")]):
        match = SCHEMA_COMMENT.search(path.read_text(encoding="utf-8")) if path.is_file() else None
        if match:
            found.append((path, match.group(1)))
    return found


def test_editor_schema_comments_point_at_the_schema(tmp_path: Path) -> None:
    """An editor's YAML language server follows the comment: in the sample and in a project
    ``policygen init`` makes, it must lead to the schema of that kind of file."""
    started = tmp_path / "started"
    api.init(started)
    for project in (SAMPLE, started):
        comments = _schema_comments(project)
        assert any(path.name == "policy.yaml" for path, _target in comments), project
        for path, target in comments:
            schema_file = (path.parent / target).resolve()
            assert schema_file.is_file() and schema_file.is_relative_to(project.resolve()), f"{path}: {target}"
            kind = {"policygen.yaml": "project", "glossary.yaml": "glossary"}.get(path.name, "policy")
            assert schema_file.name == f"{kind}.schema.json", f"{path}: {target}"


BROKEN = {
    "policy": {"id": "Bad ID", "version": 3, "effective_date": "2026-13-01", "locales": ["en", "xx", "en"], "extra": True,
               "data_categories": [{"id": "ok"}, {"id": "x y", "label": 5}], "purposes": [{"id": "p", "basis": "whim", "data": ["ok"]}]},
    "project": {"site": {"title": 7}, "locales": ["en", "fr"], "archive": {"notice_days": "thirty"}, "typo": 1},
    "glossary": {"data_category": {"x": 5}, "nonsense": {}},
}
SHIPPED = {"policy": "sources/*/policy.yaml", "project": "policygen.yaml", "glossary": "glossary.yaml"}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_references_inlined_give_the_same_errors(name: str) -> None:
    """policygen validates with the schema's local references inlined (faster); the verdicts,
    and every error's place and wording, are those of the schema as published."""
    ours = _validator(name)
    published = type(ours)(schema(name), format_checker=jsonschema.FormatChecker())
    shipped = [read_yaml(path, Collector())[0] for project in PROJECTS for path in sorted(project.glob(SHIPPED[name]))]

    def errors(validator: jsonschema.protocols.Validator, instance: object) -> list[tuple[list[object], str]]:
        return sorted((list(e.absolute_path), _explain(e)) for e in validator.iter_errors(instance))

    assert len(errors(ours, BROKEN[name])) >= 2 and len(shipped) >= 3
    for instance in [BROKEN[name], *shipped]:
        assert errors(ours, instance) == errors(published, instance)


def _variants(instance: object) -> list[object]:
    """``instance`` with one value at a time replaced by another kind of value, a key dropped or
    a key added: valid and invalid files of every shape the schemas judge."""
    replacements: list[object] = ["", "x y", "Bad ID", "2026-13-01", "2026-02-03", "ok", 0, 7, -1, 2.5, 3.0, True, None, [], ["a", "a"], ["a"], {}, {"x": 1}]
    out: list[object] = []
    if isinstance(instance, dict):
        out.append({**instance, "unexpected": 1})
        for key, value in instance.items():
            out.append({k: v for k, v in instance.items() if k != key})
            out.extend({**instance, key: new} for new in [*replacements, *_variants(value)[:40]])
    elif isinstance(instance, list):
        out.append([*instance, *instance[:1]])
        for i, value in enumerate(instance):
            out.extend([*instance[:i], new, *instance[i + 1:]] for new in [*replacements[:8], *_variants(value)[:40]])
    return out


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_quick_verdict_agrees_with_jsonschema(name: str) -> None:
    """A file the quick check calls valid is one jsonschema finds nothing wrong with, and one it
    calls invalid is one jsonschema reports: so a valid file skips jsonschema, and every problem
    is still worded by it. Shipped files are judged without jsonschema."""
    published = jsonschema.Draft202012Validator(schema(name), format_checker=jsonschema.FormatChecker())
    shipped = [read_yaml(path, Collector())[0] for project in PROJECTS for path in sorted(project.glob(SHIPPED[name]))]
    bundled = schema(name)
    certain = 0
    for instance in shipped:
        assert _verdict(bundled, instance, bundled) is True
    variants = [v for s in shipped for v in _variants(s)]
    instances = [BROKEN[name], *shipped, *variants[:: len(variants) // 700 + 1]]  # a spread of them, to keep the test short
    for instance in instances:
        verdict = _verdict(bundled, instance, bundled)
        if verdict is not None:
            certain += 1
            assert verdict == published.is_valid(instance), instance
    assert certain > 0.9 * len(instances)
