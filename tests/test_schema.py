"""The published JSON Schemas are the ones policygen validates with, and every shipped project
(sample, starter, fixtures) passes them as an editor would check it."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from conftest import FIXTURES, ROOT, SAMPLE

from policygen.errors import Collector
from policygen.source.files import read_yaml
from policygen.source.load import schema

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
