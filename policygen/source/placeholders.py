"""The placeholder language: ``{{ data.health }}`` in prose names a fact.

This module parses placeholder names and checks them against a policy's facts. It is shared
by the ``load`` stage (which rejects unknown facts in the source) and the ``localize`` stage
(which formats the fact for a locale); neither needs to know the grammar.

Grammar: ``root`` | ``root.field`` | ``root.ID`` | ``root.ID.field`` | ``root.*``.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from policygen.model import Facts

SCALARS = ("minimum_age", "version", "effective_date")
CONTROLLER_FIELDS = ("name", "address", "email", "phone", "url", "registration")
RISK_FIELDS = ("level", "assessed_on")

# For each collection root: the Facts attribute, a noun for messages, the fields an item has
# (None = the item itself), and whether ``root.*`` lists them all.
COLLECTIONS: dict[str, tuple[str, str, tuple[str | None, ...], bool]] = {
    "data": ("data_categories", "data category", (None,), True),
    "purpose": ("purposes", "purpose", (None, "basis", "data"), True),
    "recipient": ("recipients", "recipient", (None, "category", "data"), True),
    "transfer": ("transfers", "transfer", (None, "country", "safeguard", "recipients"), True),
    "retention": ("retention", "retention period", (None, "data"), False),
    "right": ("rights", "right", (None, "channels", "response_time"), True),
    "contact": ("contacts", "contact", (None,), True),
    "complaint": ("complaints", "complaint channel", (None,), True),
}


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
    if root in SCALARS:
        if len(parts) == 1:
            return Ref(root)
        return f"'{root}' has no parts; write {{{{{root}}}}}"
    if root == "controller":
        if len(parts) != 2 or parts[1] not in CONTROLLER_FIELDS:
            return f"unknown fact '{name}'{_hint(name, ['controller.' + f for f in CONTROLLER_FIELDS])}"
        if getattr(facts.controller, parts[1]) is None:
            return f"'{name}' is used but policy.yaml gives the controller no {parts[1]}"
        return Ref("controller", field=parts[1])
    if root == "risk":
        if len(parts) != 2 or parts[1] not in RISK_FIELDS:
            return f"unknown fact '{name}'{_hint(name, ['risk.' + f for f in RISK_FIELDS])}"
        return Ref("risk", field=parts[1])
    if root not in COLLECTIONS:
        known = sorted([*SCALARS, "controller", "risk", *COLLECTIONS])
        return f"unknown fact '{name}'{_hint(root, known, prefix_of=name)}; a placeholder starts with one of: {', '.join(known)}"
    attr, noun, fields, listable = COLLECTIONS[root]
    ids = [item.id for item in getattr(facts, attr)]
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
    if field in ("data", "recipients", "channels"):
        entry = next(e for e in getattr(facts, attr) if e.id == item)
        if not getattr(entry, field):
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
