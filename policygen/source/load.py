"""Load stage: a project folder -> :class:`~policygen.model.Project`.

Reads ``policygen.yaml``, ``glossary.yaml`` and every ``sources/<id>/`` (facts, then prose),
validates them against the JSON Schemas in ``policygen/schema/`` and against each other (every
referenced ID exists, every fact has a label), and returns typed model objects. All problems
in all files are collected and raised together as one :class:`~policygen.errors.SourceError`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policygen.errors import Collector, Diagnostic, ProjectNotFound
from policygen.model import (
    COLLECTION,
    FACT_KINDS,
    KIND,
    LABELLED_KINDS,
    PLACEHOLDER_RE,
    SUPPORTED_LOCALES,
    Complaint,
    Config,
    Contact,
    Controller,
    DataCategory,
    Document,
    Duration,
    Facts,
    Glossary,
    LocaleOptions,
    Policy,
    Project,
    Purpose,
    Recipient,
    Retention,
    Right,
    Risk,
    Term,
    Transfer,
    date_problem,
    quoted,
    slug_problem,
    unusual_character,
    version_problem,
)
from policygen.records import CONFIG_FILE
from policygen.resources import builtin, schema
from policygen.source.files import LineMap, control_characters, inside, read_source, read_yaml
from policygen.source.placeholders import problem
from policygen.source.prose import parse_prose

if TYPE_CHECKING:
    import jsonschema

GLOSSARY_FILE = "glossary.yaml"
FACTS_FILE = "policy.yaml"
PROSE_FILE = "policy.md"
RESERVED_IDS = {
    "glossary": "the shared glossary catalog uses it",
    # A policy's pages would share output/assets/ with the site's stylesheets, fonts and theme
    # files, and a theme file such as assets/en/index.html would silently replace its page.
    "assets": "the site's stylesheets, fonts and theme files are published in output/assets/",
}
"""Policy IDs a project's shared files use, each with the reason."""
# CLDR territory codes that are not countries: a transfer goes to a country.
_NOT_COUNTRIES = {"EU", "EZ", "UN", "ZZ", "QO", "XA", "XB"}
FACT_KEYS = ("controller", *(kind.collection for kind in FACT_KINDS), "minimum_age", "risk")
"""The facts of ``policy.yaml``, every one optional: a missing one is a warning (an error under
``facts: required`` in ``policygen.yaml``); an empty list says "none" and is no warning."""
_MISSING_HINT = {
    "controller": "name the organisation responsible, with an address and an e-mail, phone or URL",
    "transfers": "write 'transfers: []' if no data leaves the country",
    "minimum_age": "give the youngest age the service accepts",
    "risk": "give the level and date of the latest impact assessment",
}


def find_project(start: Path) -> Path:
    """The project folder: ``start`` itself, which must hold ``policygen.yaml``."""
    if (start / CONFIG_FILE).is_file():
        return start
    raise ProjectNotFound(f"{start}: no {CONFIG_FILE} here; run 'policygen init {start}' to start a project, or pass --project DIR")


def load_project(root: Path, policies: Iterable[str] | None = None, parsed: Mapping[str, Document] | None = None) -> Project:
    """Load and validate a whole project. ``policies`` limits which policies are read. ``parsed``:
    prose already parsed, by its exact text, with no problem (a file diff's import has just parsed
    its skeleton as check does); a ``policy.md`` with that text and no placeholder is not parsed again."""
    root = find_project(root)
    errors = Collector()
    config = _load_config(root / CONFIG_FILE, root, errors)
    glossary = _load_glossary(root, config.glossary_locale if config else "en", errors)
    sources = root / "sources"
    found: dict[str, Policy] = {}
    wanted = set(policies) if policies is not None else None
    if not sources.is_dir():
        errors.add(root / CONFIG_FILE, 0, "the project has no sources/ folder; each policy lives in sources/<policy-id>/")
    else:
        names = sorted(p.name for p in sources.iterdir() if p.is_dir() and not p.name.startswith("."))
        if not names:
            errors.add(sources, 0, "no policies; each policy lives in its own folder, sources/<policy-id>/")
        if wanted is not None:
            for missing in sorted(wanted - set(names)):
                errors.add(sources, 0, f"no policy '{missing}'; known policies: {', '.join(names) or 'none'}")
        for name in names:
            if wanted is not None and name not in wanted:
                continue
            problem = slug_problem(name, "rename the folder using lowercase letters, digits and single hyphens")
            if problem:
                # A name with a line break in it would break the path:line format: name the folder in the message.
                errors.add(sources / name if name.isprintable() else sources, 0, f"policy ID {quoted(name)} {problem}")
                continue
            if name in RESERVED_IDS:
                errors.add(sources / name, 0, f"'{name}' is reserved ({RESERVED_IDS[name]}); rename the folder")
                continue
            policy = _load_policy(root, sources / name, config, glossary, errors, parsed or {})
            if policy is not None:
                found[name] = policy
    warnings = missing_fact_diagnostics(found.values())
    if config is not None and config.facts_required:
        errors.items.extend(Diagnostic(w.path, w.line, w.message.replace("warning: ", "", 1)) for w in warnings)
        warnings = []
    errors.raise_if_any()
    assert config is not None and glossary is not None
    return Project(root, config, glossary, found, tuple(warnings))


def missing_fact_diagnostics(policies: Iterable[Policy]) -> list[Diagnostic]:
    """A warning per fact a policy does not model, at its place in ``policy.yaml``."""
    found = []
    for policy in policies:
        for name, line in policy.missing_facts:
            found.append(Diagnostic(policy.facts_path, line, f"warning: {name} is not modelled as a fact; "
                f"{_MISSING_HINT.get(name, _list_hint(name))} (see docs/source-format.md)"))
    return found


def _list_hint(name: str) -> str:
    if name.startswith("controller."):
        return "add it under 'controller:'"
    return f"list them under '{name}:' ('{name}: []' says there are none)"


def check_locales(project: Project, locales: Iterable[str] | None) -> None:
    """Raise unless every locale asked for (``--locale``) is one the project publishes. Every
    command that takes ``--locale`` calls this, so none passes a gate for a locale it never looked at."""
    errors = Collector()
    for loc in locales or ():
        if loc not in project.config.locales:
            close = difflib.get_close_matches(loc, project.config.locales, n=1, cutoff=0.5)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            errors.add(project.config.path, 0, f"unknown locale {quoted(loc)}; this project publishes {', '.join(project.config.locales)}{hint}")
    errors.raise_if_any()


# --- schema validation -------------------------------------------------------------------------


@cache
def _ecma_pattern(pattern: str) -> str:
    """A JSON Schema pattern (ECMA-262) as a Python regex with the same meaning: ECMA's ``$``
    matches only at the very end, Python's also before a final newline (``'evil\\n'`` would
    pass ``^[a-z]+$``). ``$`` becomes ``\\Z``, outside character classes and escapes."""
    out, escaped, in_class = [], False, False
    for ch in pattern:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "[":
            in_class = True
        elif ch == "]":
            in_class = False
        elif ch == "$" and not in_class:
            out.append("\\Z")
            continue
        out.append(ch)
    return "".join(out)


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    import jsonschema

    if isinstance(instance, str) and not re.search(_ecma_pattern(pattern), instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


@cache
def _validator(schema_name: str) -> Any:
    """One validator per bundled schema, made on first use: it resolves the schema's references
    once, however many files it checks, and jsonschema (a tenth of a second to import) is
    loaded only by commands that validate something."""
    import jsonschema

    extended = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"pattern": _pattern})
    bundled = schema(schema_name)
    return extended(_inline_refs(bundled, bundled), format_checker=jsonschema.FormatChecker())


def _inline_refs(node: Any, root: dict[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """``node`` with every local ``$ref`` replaced by what it points to (a ``$ref`` beside other
    keywords becomes an ``allOf`` of one): the same verdicts and errors, at half the cost, as
    jsonschema no longer resolves a reference at every value. A reference that leads back into
    itself stays a reference."""
    if isinstance(node, list):
        return [_inline_refs(item, root, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/") and ref not in seen:
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        inner = _inline_refs(target, root, (*seen, ref))
        rest = {key: _inline_refs(value, root, seen) for key, value in node.items() if key != "$ref"}
        return {**rest, "allOf": [inner]} if rest else inner
    return {key: _inline_refs(value, root, seen) for key, value in node.items()}


_ANNOTATIONS = frozenset({"$schema", "$id", "$defs", "$comment", "title", "description", "examples", "default"})
_TYPES: dict[str, Any] = {
    "string": lambda v: isinstance(v, str), "object": lambda v: isinstance(v, dict), "array": lambda v: isinstance(v, list),
    "boolean": lambda v: isinstance(v, bool), "null": lambda v: v is None,
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool) or (None if isinstance(v, float) else False),
    "number": lambda v: (not isinstance(v, bool)) if isinstance(v, (int, float)) else False if isinstance(v, (str, dict, list)) or v is None else None,
}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)


def _same(option: Any, value: Any) -> bool | None:
    """Whether ``enum``/``const`` ``option`` equals ``value`` as jsonschema compares them (a
    boolean is not a number), when that is certain: for strings, booleans and null."""
    for kind in (bool, str):
        if isinstance(option, kind) or isinstance(value, kind):
            return isinstance(option, kind) and isinstance(value, kind) and option == value
    if option is None or value is None:
        return option is value
    return None  # numbers and containers: jsonschema's own rules decide


def _verdict(node: Any, value: Any, root: dict[str, Any]) -> bool | None:
    """Whether ``value`` is valid against the schema ``node``, as jsonschema would say, for the
    keywords policygen's schemas use: True or False when that is certain, None when it is not (a
    keyword or a value this does not judge). A bundled file that is valid, as nearly every file
    of a project is, is then accepted without jsonschema (a tenth of a second to import and set
    up); anything else is validated by jsonschema, which words the problems."""
    if node is True or node == {}:
        return True
    if node is False:
        return False
    if not isinstance(node, dict):
        return None
    verdicts: list[bool | None] = []
    for key, spec in node.items():
        if key in _ANNOTATIONS or key in ("then", "else"):
            continue
        if key == "$ref":
            if not isinstance(spec, str) or not spec.startswith("#/"):
                return None
            target: Any = root
            for part in spec[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            verdicts.append(_verdict(target, value, root))
        elif key == "type":
            kinds = spec if isinstance(spec, list) else [spec]
            if any(k not in _TYPES for k in kinds):
                return None
            results = [_TYPES[k](value) for k in kinds]
            verdicts.append(True if True in results else None if None in results else False)
        elif key in ("enum", "const"):
            results = [_same(option, value) for option in (spec if key == "enum" else [spec])]
            verdicts.append(True if True in results else None if None in results else False)
        elif key == "properties":
            if isinstance(value, dict):
                verdicts.extend(_verdict(sub, value[name], root) for name, sub in spec.items() if name in value)
        elif key == "additionalProperties":
            if isinstance(value, dict):
                if "patternProperties" in node:
                    return None
                known = node.get("properties", {})
                verdicts.extend(_verdict(spec, item, root) for name, item in value.items() if name not in known)
        elif key == "propertyNames":
            if isinstance(value, dict):
                verdicts.extend(_verdict(spec, name, root) for name in value)
        elif key == "required":
            if isinstance(value, dict):
                verdicts.append(all(name in value for name in spec))
        elif key == "items":
            if isinstance(value, list):
                if "prefixItems" in node:
                    return None
                verdicts.extend(_verdict(spec, item, root) for item in value)
        elif key == "pattern":
            if isinstance(value, str):
                verdicts.append(re.search(_ecma_pattern(spec), value) is not None)
        elif key in ("maxLength", "minLength"):
            if isinstance(value, str):
                verdicts.append(len(value) <= spec if key == "maxLength" else len(value) >= spec)
        elif key in ("minItems", "maxItems"):
            if isinstance(value, list):
                verdicts.append(len(value) >= spec if key == "minItems" else len(value) <= spec)
        elif key == "uniqueItems":
            if isinstance(value, list) and spec:
                if not all(isinstance(item, str) for item in value):
                    return None
                verdicts.append(len(set(value)) == len(value))
        elif key in ("minimum", "maximum"):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                verdicts.append(value >= spec if key == "minimum" else value <= spec)
            elif not isinstance(value, (str, dict, list, bool)) and value is not None:
                return None  # another kind of number
        elif key == "format":
            if spec != "date":
                return None
            if isinstance(value, str):
                try:
                    verdicts.append(bool(_DATE.fullmatch(value)) and bool(date.fromisoformat(value)))
                except ValueError:
                    verdicts.append(False)
        elif key == "allOf":
            verdicts.extend(_verdict(sub, value, root) for sub in spec)
        elif key == "oneOf":
            results = [_verdict(sub, value, root) for sub in spec]
            verdicts.append(None if None in results else results.count(True) == 1)
        elif key == "if":
            condition = _verdict(spec, value, root)
            if condition is None:
                return None
            branch = node.get("then" if condition else "else")
            if branch is not None:
                verdicts.append(_verdict(branch, value, root))
        else:
            return None  # a keyword this does not judge: jsonschema decides
    if False in verdicts:
        return False
    return None if None in verdicts else True


def validate(data: Any, schema_name: str, path: Path, lines: LineMap, errors: Collector) -> bool:
    """Validate against a bundled schema, reporting every violation at its line."""
    bundled = schema(schema_name)
    if _verdict(bundled, data, bundled) is True:
        return True  # certainly valid: jsonschema would report nothing
    validator = _validator(schema_name)
    ok = True
    for error in sorted(validator.iter_errors(data), key=lambda e: (lines.line(tuple(e.absolute_path)), e.message)):
        ok = False
        errors.add(path, _line(error, lines), _explain(error))
    return ok


def _line(error: jsonschema.ValidationError, lines: LineMap) -> int:
    at = tuple(error.absolute_path)
    if isinstance(error.instance, str) and at + (error.instance,) in lines.lines:
        return lines.line(at + (error.instance,))  # a bad key (propertyNames): its own line
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        # Point at the offending key itself, not at the mapping that contains it.
        allowed = error.schema.get("properties", {})
        extra = [key for key in error.instance if key not in allowed]
        if extra:
            return lines.line(at + (extra[0],))
    return lines.line(at)


def _where(error: jsonschema.ValidationError) -> str:
    parts = [str(p) if not isinstance(p, int) else f"[{p}]" for p in error.absolute_path]
    return ".".join(parts).replace(".[", "[") or "the file"


def _explain(error: jsonschema.ValidationError) -> str:
    """Turn a schema violation into a sentence that says how to fix it."""
    where = _where(error)
    kind = error.validator
    inside = f" in {where}" if error.absolute_path else ""
    if kind == "required":
        missing = str(error.message).split("'")[1]
        return f"missing required fact '{missing}'{inside}; add it (see docs/source-format.md)"
    if kind == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = [p for p in error.instance if p not in allowed] if isinstance(error.instance, dict) else []
        hints = []
        for key in extra:
            close = difflib.get_close_matches(key, allowed, n=1)
            hints.append(f"'{key}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
        return f"unknown key {', '.join(hints)}{inside}; allowed keys: {', '.join(allowed)}"
    if kind == "enum" and list(error.validator_value) == list(SUPPORTED_LOCALES):
        return f"unknown locale {error.instance!r}; policygen supports {', '.join(SUPPORTED_LOCALES)}"
    if kind == "enum":
        options = ", ".join(str(o) for o in error.validator_value)
        return f"{where}: {error.instance!r} is not allowed; use one of: {options}"
    if kind == "pattern":
        desc = error.schema.get("description")
        odd = unusual_character(error.instance) if isinstance(error.instance, str) else None
        if odd:  # a line break, an invisible character, a letter that only looks Latin: say which
            return f"{where}: {quoted(error.instance)} {odd}" + (f". {desc}" if desc else "")
        if desc:
            return f"{where}: {error.instance!r} is not valid. {desc}"
        return f"{where}: {error.instance!r} is not valid (expected the pattern {error.validator_value})"
    if kind == "type":
        if isinstance(error.instance, bool) and error.validator_value == "string":
            return f"{where}: YAML read this as {str(error.instance).lower()}; put the value in quotes (YAML takes yes/no/on/off/NO as booleans)"
        if error.validator_value == "string" and isinstance(error.instance, (int, float)):
            return f"{where}: expected text, got the number {error.instance!r}; put it in quotes (\"{error.instance}\")"
        return f"{where}: expected {error.validator_value}, got {type(error.instance).__name__} {error.instance!r}"
    if kind == "format":
        return f"{where}: {error.instance!r} is not a valid {error.validator_value} (write dates as YYYY-MM-DD)"
    if kind == "uniqueItems":
        return f"{where}: list contains duplicates"
    return f"{where}: {error.message}"


# --- config and glossary -----------------------------------------------------------------------


def _load_config(path: Path, root: Path, errors: Collector) -> Config | None:
    # Checked before it is read: the content of a file outside the project must not end up in a message.
    if not inside(path, root, errors):
        return None
    loaded = read_yaml(path, errors)
    if loaded is None:
        return None
    data, lines = loaded
    if not validate(data, "project", path, lines, errors):
        return None
    # Each option a project leaves out keeps the locale's default.
    options = {loc: replace(LocaleOptions.default(loc), **opts) for loc, opts in data.get("locale_options", {}).items()}
    return Config(
        path=path,
        site_title=data["site"]["title"],
        base_url=data["site"].get("base_url"),
        locales=tuple(data["locales"]),
        glossary_locale=data.get("glossary_locale", "en"),
        locale_options=options,
        allow_incomplete=data.get("translation", {}).get("allow_incomplete", False),
        prevailing=data.get("translation", {}).get("prevailing", "source"),
        prevailing_statement=dict(data.get("translation", {}).get("prevailing_statement", {})),
        pdf_variant=data.get("pdf", {}).get("variant", "pdf/ua-1"),
        notice_days=data.get("archive", {}).get("notice_days", 30),
        id_authority=data.get("feed", {}).get("id_authority"),
        facts_required=data.get("facts", "optional") == "required",
        owner=Controller(**data["site"]["owner"]) if "owner" in data["site"] else None,
    )


def _load_glossary(root: Path, locale: str, errors: Collector) -> Glossary | None:
    path = root / GLOSSARY_FILE
    if not path.is_file():
        return Glossary(path, locale, {})
    if not inside(path, root, errors):
        return None
    loaded = read_yaml(path, errors)
    if loaded is None:
        return None
    data, lines = loaded
    if isinstance(data, dict):
        # An emptied section ("recipient:" with nothing under it) means no labels, not an error.
        data = {kind: ({} if value is None else value) for kind, value in data.items()}
    if not validate(data, "glossary", path, lines, errors):
        return None
    terms: dict[tuple[str, str], Term] = {}
    forms: dict[tuple[str, str, str], Term] = {}
    for kind in (*LABELLED_KINDS, "policy"):
        for ident, entry in (data.get(kind) or {}).items():
            # A label is a string, or a mapping with the label and the other forms sentences need.
            if isinstance(entry, str):
                terms[kind, ident] = Term(kind, ident, entry.strip(), lines.line((kind, ident)))
                continue
            terms[kind, ident] = Term(kind, ident, entry["label"].strip(), lines.line((kind, ident, "label")))
            for form in sorted(set(entry) - {"label"}):
                forms[kind, ident, form] = Term(kind, ident, entry[form].strip(), lines.line((kind, ident, form)), form)
    return Glossary(path, locale, terms, forms)


def has_label(glossary: Glossary, kind: str, ident: str) -> bool:
    """A label exists in the project glossary or among policygen's built-in terms."""
    return (kind, ident) in glossary.terms or ident in builtin()["terms"].get(kind, {})


# --- one policy --------------------------------------------------------------------------------


def _load_policy(root: Path, folder: Path, config: Config | None, glossary: Glossary | None, errors: Collector,
                 parsed: Mapping[str, Document]) -> Policy | None:
    facts_path, prose_path = folder / FACTS_FILE, folder / PROSE_FILE
    for required in (facts_path, prose_path):
        if not required.is_file():
            errors.add(required, 0, f"missing file; every policy folder needs {FACTS_FILE} and {PROSE_FILE}")
    if not facts_path.is_file() or not prose_path.is_file():
        return None
    if not (inside(facts_path, root, errors) & inside(prose_path, root, errors)):
        return None
    facts = _load_facts(facts_path, config, glossary, errors)
    data, _lines = facts if facts else (None, None)
    text = read_source(prose_path, errors)
    if text is None:
        return None
    control_characters(prose_path, text, errors)
    # With broken facts, the prose is still checked for everything but its placeholders, so
    # one run reports the problems of both files.
    check = (lambda name: problem(name, data.facts)) if data else (lambda name: None)
    # Placeholders are checked against this policy's facts, so only prose without any is reused.
    document = parsed.get(text) if PLACEHOLDER_RE.search(text) is None else None
    if document is None:
        document = parse_prose(prose_path, text, check, errors)
    if document is None or data is None:
        return None
    return Policy(
        id=folder.name,
        source_locale=data.raw["source_locale"],
        locales=tuple(data.raw["locales"]),
        version=data.raw["version"],
        effective_date=date.fromisoformat(data.raw["effective_date"]),
        facts=data.facts,
        document=document,
        facts_path=facts_path,
        prose_path=prose_path,
        missing_facts=data.missing,
    )


@dataclass(frozen=True, slots=True)
class _LoadedFacts:
    raw: dict[str, Any]
    facts: Facts
    missing: tuple[tuple[str, int], ...]
    """(fact, line) for every fact the file does not model."""


def _load_facts(path: Path, config: Config | None, glossary: Glossary | None, errors: Collector) -> tuple[_LoadedFacts, LineMap] | None:
    loaded = read_yaml(path, errors)
    if loaded is None:
        return None
    data, lines = loaded
    if not isinstance(data, dict):
        errors.add(path, 1, "policy.yaml must be a mapping of facts (see docs/source-format.md)")
        return None
    if not validate(data, "policy", path, lines, errors):
        return None
    before = len(errors.items)
    _check_names(data, path, lines, errors)
    _check_locales(data, path, lines, config, errors)
    _check_references(data, path, lines, errors)
    if glossary is not None:
        _check_labels(data, path, lines, glossary, errors)
    if len(errors.items) > before:
        return None
    return _LoadedFacts(data, _facts(data), _missing(data, lines)), lines


def _missing(data: dict[str, Any], lines: LineMap) -> tuple[tuple[str, int], ...]:
    missing = [(key, 1) for key in FACT_KEYS if key not in data]
    controller = data.get("controller")
    if controller is not None:
        line = lines.line(("controller",))
        if "address" not in controller:
            missing.append(("controller.address", line))
        if not any(key in controller for key in ("email", "phone", "url")):
            missing.append(("controller.email (or phone or url)", line))
    return tuple(missing)


def _check_names(data: dict[str, Any], path: Path, lines: LineMap, errors: Collector) -> None:
    """What the schema's patterns cannot say: a version label or a fact ID that Windows keeps
    for a device (``CON``, ``nul``), a label ending in a dot, which Windows would drop, and a
    date outside the range policygen works with."""
    problem = version_problem(data["version"])
    if problem:
        errors.add(path, lines.line(("version",)), f"version: {quoted(data['version'])} {problem}")
    for at in (("effective_date",), ("risk", "assessed_on")):
        text = data.get(at[0]) if len(at) == 1 else (data.get(at[0]) or {}).get(at[1])
        problem = date_problem(date.fromisoformat(text)) if isinstance(text, str) else None
        if problem:
            errors.add(path, lines.line(at), f"{'.'.join(at)}: {text} {problem}")
    for key in COLLECTION:
        for i, item in enumerate(data.get(key) or []):
            problem = slug_problem(item["id"])
            if problem:
                errors.add(path, lines.line((key, i, "id")), f"{key}[{i}].id: {quoted(item['id'])} {problem}")


def _check_locales(data: dict[str, Any], path: Path, lines: LineMap, config: Config | None, errors: Collector) -> None:
    if data["source_locale"] not in data["locales"]:
        errors.add(path, lines.line(("locales",)), f"locales must include the source locale '{data['source_locale']}'")
    if config is None:
        return
    for i, loc in enumerate(data["locales"]):
        if loc not in config.locales:
            errors.add(path, lines.line(("locales", i)), f"locale '{loc}' is not published by this project; add it to 'locales' in policygen.yaml "
                f"({', '.join(config.locales)})")




def _check_references(data: dict[str, Any], path: Path, lines: LineMap, errors: Collector) -> None:
    ids: dict[str, list[str]] = {}
    for key in COLLECTION:
        seen: dict[str, int] = {}
        for i, item in enumerate(data.get(key, [])):
            line = lines.line((key, i, "id"))
            if item["id"] in seen:
                errors.add(path, line, f"duplicate ID '{item['id']}' in {key}; it is already used on line {seen[item['id']]}")
            seen.setdefault(item["id"], line)
        ids[key] = list(seen)
    for kind in FACT_KINDS:
        key = kind.collection
        for i, item in enumerate(data.get(key, [])):
            for field, target_kind in kind.refs:
                target, noun = KIND[target_kind].collection, KIND[target_kind].noun
                for j, ref in enumerate(item.get(field, [])):
                    if ref not in ids[target]:
                        close = difflib.get_close_matches(ref, ids[target], n=1)
                        hint = f"; did you mean '{close[0]}'?" if close else f"; define it under {target}"
                        errors.add(path, lines.line((key, i, field, j)), f"{key}[{i}].{field} refers to unknown {noun} '{ref}'{hint}")
    from babel import Locale

    territories = Locale("en").territories
    for key in ("transfers", "complaints"):
        for i, item in enumerate(data.get(key, [])):
            country = item.get("country")
            if country and (country not in territories or country in _NOT_COUNTRIES):
                errors.add(path, lines.line((key, i, "country")), f"'{country}' is not an ISO 3166-1 alpha-2 country code")


def _check_labels(data: dict[str, Any], path: Path, lines: LineMap, glossary: Glossary, errors: Collector) -> None:
    for kind in LABELLED_KINDS:
        key = KIND[kind].collection
        for i, item in enumerate(data.get(key, [])):
            if not has_label(glossary, kind, item["id"]):
                errors.add(path, lines.line((key, i, "id")), f"{kind.replace('_', ' ')} '{item['id']}' has no label; add it to glossary.yaml under '{kind}:'")


def _facts(data: dict[str, Any]) -> Facts:
    c = data.get("controller")
    risk = data.get("risk")

    def each(key: str) -> list[dict[str, Any]]:
        return data.get(key) or []

    return Facts(
        controller=Controller(c["name"], c.get("address"), c.get("email"), c.get("phone"), c.get("url"), c.get("registration")) if c else None,
        data_categories=tuple(DataCategory(d["id"], d["sensitive"]) for d in each("data_categories")),
        purposes=tuple(Purpose(p["id"], p["legal_basis"], tuple(p["data"])) for p in each("purposes")),
        recipients=tuple(Recipient(r["id"], r["category"], tuple(r["data"]), tuple(r.get("purposes", ()))) for r in each("recipients")),
        transfers=tuple(Transfer(t["id"], t["country"], tuple(t["recipients"]), t["safeguard"]) for t in each("transfers")),
        retention=tuple(Retention(r["id"], tuple(r["data"]), Duration.parse(r["period"])) for r in each("retention")),
        rights=tuple(
            Right(r["id"], tuple(r["channels"]), Duration.parse(r["response_time"]) if "response_time" in r else None)
            for r in each("rights")
        ),
        minimum_age=data.get("minimum_age"),
        contacts=tuple(Contact(k["id"], k["kind"], k["value"]) for k in each("contacts")),
        complaints=tuple(Complaint(k["id"], k["name"], k["url"], k.get("country")) for k in each("complaints")),
        risk=Risk(risk["level"], date.fromisoformat(risk["assessed_on"])) if risk else None,
    )


__all__ = ["SUPPORTED_LOCALES", "find_project", "load_project"]
