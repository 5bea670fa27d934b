"""The placeholder language: ``{{ data.health }}`` in prose names a fact.

This module parses placeholder names and checks them against a policy's facts. It is shared
by the ``load`` stage (which rejects unknown facts in the source) and the ``localize`` stage
(which formats the fact for a locale); neither needs to know the grammar.

Grammar: ``root`` | ``root.field`` | ``root.ID`` | ``root.ID.field`` | ``root.*``.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from policygen.model import (
    CONTROLLER_FIELDS,
    KIND,
    PLACEHOLDER_RE,
    RISK_FIELDS,
    ROOT,
    SCALAR_FACTS,
    Facts,
)


@dataclass(frozen=True, slots=True)
class Ref:
    """A resolved placeholder."""

    root: str
    """``data``, ``controller``, ``minimum_age``, ..."""
    item: str | None = None
    """The fact ID, ``*`` for all of them, or None for scalars and controller/risk fields."""
    field: str | None = None


def resolve(name: str, facts: Facts) -> Ref | str:
    """Resolve ``name`` against ``facts``: a :class:`Ref`, or an error message saying why not."""
    parts = name.split(".")
    root = parts[0]
    if root in SCALAR_FACTS:
        if len(parts) != 1:
            return f"'{root}' has no parts; write {{{{{root}}}}}"
        if root == "minimum_age" and facts.minimum_age is None:
            return f"'{name}' is used but policy.yaml gives no minimum_age"
        return Ref(root)
    if root == "controller":
        if len(parts) != 2 or parts[1] not in CONTROLLER_FIELDS:
            return f"unknown fact '{name}'{_hint(name, ['controller.' + f for f in CONTROLLER_FIELDS])}"
        if facts.controller is None:
            return f"'{name}' is used but policy.yaml names no controller"
        if getattr(facts.controller, parts[1]) is None:
            return f"'{name}' is used but policy.yaml gives the controller no {parts[1]}"
        return Ref("controller", field=parts[1])
    if root == "risk":
        if len(parts) != 2 or parts[1] not in RISK_FIELDS:
            return f"unknown fact '{name}'{_hint(name, ['risk.' + f for f in RISK_FIELDS])}"
        if facts.risk is None:
            return f"'{name}' is used but policy.yaml gives no risk"
        return Ref("risk", field=parts[1])
    if root not in ROOT:
        known = sorted([*SCALAR_FACTS, "controller", "risk", *ROOT])
        return f"unknown fact '{name}'{_hint(root, known, prefix_of=name)}; a placeholder starts with one of: {', '.join(known)}"
    kind = ROOT[root]
    noun, fields, listable = kind.noun, kind.fields, kind.listable
    ids = [item.id for item in facts.items(kind.kind)]
    if len(parts) < 2:
        return f"'{root}' needs an ID: {{{{{root}.ID}}}}" + (f" or {{{{{root}.*}}}} for all" if listable else "")
    item = parts[1]
    if item == "*":
        if not listable:
            return f"'{root}.*' is not supported"
        if len(parts) > 2:
            return f"'{root}.*' takes no field"
        if not ids:
            return f"'{name}' lists nothing: the policy has no {noun} facts; add some or rephrase the sentence"
        return Ref(root, "*")
    if item not in ids:
        return f"unknown fact '{name}': no {noun} with ID '{item}'{_hint(item, ids, prefix_of=root + '.')}"
    field = parts[2] if len(parts) == 3 else None
    if len(parts) > 3 or field not in fields:
        options = ", ".join(f"'{root}.{item}" + (f".{f}'" if f else "'") for f in fields)
        return f"unknown fact '{name}'; use one of {options}"
    if field in dict(kind.refs):
        if not getattr(facts.find(kind.kind, item), field):
            return f"'{name}' lists nothing: {noun} '{item}' has an empty '{field}' list in policy.yaml"
    if root == "right" and field == "response_time":
        right = next(r for r in facts.rights if r.id == item)
        if right.response_time is None:
            return f"'{name}' is used but the right '{item}' has no response_time in policy.yaml"
    return Ref(root, item, field)


def problem(name: str, facts: Facts) -> str | None:
    """Why ``name`` is not a usable placeholder, or None when it is."""
    ref = resolve(name, facts)
    return ref if isinstance(ref, str) else None


def _hint(word: str, candidates: list[str], prefix_of: str = "") -> str:
    close = difflib.get_close_matches(word, candidates, n=1)
    if not close:
        return ""
    suggestion = close[0]
    if prefix_of and not suggestion.startswith(prefix_of):
        suggestion = prefix_of + suggestion if prefix_of.endswith(".") else suggestion
    return f"; did you mean '{suggestion}'?"


def names_in(text: str) -> list[str]:
    """The placeholder names in a piece of Markdown source, in order."""
    return PLACEHOLDER_RE.findall(text)


def kept(source: Iterable[str], translation: Iterable[str]) -> list[str]:
    """The one check that a translation keeps its source's placeholders: one message per
    placeholder it drops or adds, and one per placeholder it has more often than its source
    (a doubled placeholder is repeated, not one "the source does not have")."""
    want, got = Counter(source), Counter(translation)
    return [f"drops the placeholder {{{{{name}}}}}; a translation keeps every placeholder of its source"
            for name in sorted((want - got).elements())] + \
           [f"adds the placeholder {{{{{name}}}}}, which the source does not have; remove it (a translation has only its source's placeholders)"
            for name in sorted((got - want).elements()) if name not in want] + \
           [f"repeats the placeholder {{{{{name}}}}}: the translation has it {_times(got[name])}, the source {_times(want[name])}; "
            "keep it as many times as the source has it"
            for name in sorted(got) if name in want and got[name] > want[name]]


def _times(count: int) -> str:
    return {1: "once", 2: "twice"}.get(count, f"{count} times")


def labels_used(ref: Ref, facts: Facts) -> list[tuple[str, str]]:
    """The glossary labels, as ``(kind, id)``, that rendering ``ref`` shows."""
    kind = ROOT.get(ref.root)
    if kind is None or ref.item is None:
        return []
    if ref.item == "*":
        return [label for item in facts.items(kind.kind) for label in labels_used(Ref(ref.root, item.id), facts)]
    refs = dict(kind.refs)
    if ref.field is None:
        return [(kind.kind, ref.item)] if kind.labelled else []
    if ref.field in refs:
        target = refs[ref.field]
        shown = getattr(facts.find(kind.kind, ref.item), ref.field)
        return [(target, ident) for ident in shown] if KIND[target].labelled else []
    return []
