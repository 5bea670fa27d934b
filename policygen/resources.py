"""Package data in one place: schemas, policygen's own strings, notice templates, default rules,
page templates, the starter project and the shipped fonts.

Every stage that needs a file shipped with policygen asks here, so the package's layout is
known to one module, and each file is read (and parsed) once per process.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from policygen.errors import PolicygenError

PACKAGE = "policygen"
TEMPLATES = "templates"
"""The folder of the package's page templates (a Jinja2 ``PackageLoader`` reads it)."""


def package_file(*parts: str) -> Traversable:
    """A file or folder shipped inside the package."""
    return resources.files(PACKAGE).joinpath(*parts)


@cache
def schema(name: str) -> dict[str, Any]:
    """A JSON Schema shipped with policygen (``policy``, ``project``, ``glossary``, ``rules``,
    ``change-report``)."""
    return json.loads(package_file("schema", f"{name}.schema.json").read_text(encoding="utf-8"))


def package_yaml(*parts: str) -> Any:
    """A YAML file shipped with policygen (``package_yaml("data", "rules.yaml")``), parsed safely,
    by libyaml's safe loader where PyYAML has it (the same types as ``safe_load``): the
    pure-Python one took a quarter of a 30,000-word file diff's CPU time reading rules.yaml and
    the lexicons. PyYAML is imported here, on the first read, not by every command. A broken
    package file is a :class:`PolicygenError` that names it."""
    import yaml

    try:
        return yaml.load(package_file(*parts).read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise PolicygenError(f"policygen/{'/'.join(parts)}: {exc}") from None


@cache
def builtin() -> dict[str, Any]:
    """policygen's own strings and enumeration labels, in every supported locale."""
    return package_yaml("data", "builtin.yaml")


@cache
def default_rules() -> list[dict[str, Any]]:
    """The default classification rules, as written in ``data/rules.yaml``."""
    return package_yaml("data", "rules.yaml")["rules"]


@cache
def notice_templates(locale: str) -> dict[str, str]:
    """Notice, banner and redline texts for ``locale``: the English msgids of
    ``data/notices/notices.pot``, or the translations of ``data/notices/<locale>.po``."""
    from babel.messages.pofile import read_po

    folder = package_file("data", "notices")
    with folder.joinpath("notices.pot").open("rb") as handle:
        english = {str(m.context): str(m.id) for m in read_po(handle) if m.id}
    if locale == "en":
        return english
    with folder.joinpath(f"{locale}.po").open("rb") as handle:
        translated = {str(m.context): str(m.string) for m in read_po(handle, locale=locale) if m.id and m.string and not m.fuzzy}
    return {key: translated.get(key, value) for key, value in english.items()}


def notice_template(locale: str, key: str) -> str:
    """One notice text (``banner``, ``severity.major``, ``redline.title``, ...) in ``locale``."""
    return notice_templates(locale)[key]


def stylesheet() -> bytes:
    """The stylesheet of the HTML pages."""
    return package_file(TEMPLATES, "policygen.css").read_bytes()


def starter() -> Traversable:
    """The starter project that ``policygen init`` copies."""
    return package_file("data", "starter")


@dataclass(frozen=True, slots=True)
class FontFiles:
    """The font files every page and PDF uses, from the pinned font packages."""

    latin: Path
    latin_italic: Path
    khmer: Path


@cache
def font_files() -> FontFiles:
    """The shipped fonts. Named explicitly, never found through fontconfig, so a machine's own
    fonts can never change a page."""
    import fontpkg_noto_sans
    import fontpkg_noto_sans_khmer

    def one(root: str, pattern: str) -> Path:
        found = sorted(Path(root, "files").glob(pattern))
        if not found:
            raise PolicygenError(f"font file {pattern} is missing from {root}; reinstall policygen (bash scripts/setup.sh)")
        return found[0]

    return FontFiles(
        latin=one(fontpkg_noto_sans.ROOT, "NotoSans[[]*.ttf"),
        latin_italic=one(fontpkg_noto_sans.ROOT, "NotoSans-Italic*.ttf"),
        khmer=one(fontpkg_noto_sans_khmer.ROOT, "NotoSansKhmer*.ttf"),
    )
