"""Diff stage: two versions of a policy -> typed :class:`Change` records.

Facts are compared with deepdiff, on a normalized form where every list of facts is a mapping
keyed by fact ID and every list of references is compared as a set, so reordering a list is no
change at all. Each difference becomes a :class:`Change` that says what changed (subject, kind,
field) and carries the predicates the classification rules test: a data category is
``sensitive``, a retention period got ``longer``, a minimum age got ``lower``.

Prose is compared clause by clause (a clause is a block or a heading, with its ID). Clauses
with the same ID are compared by text; the order of the common IDs shows which clauses moved;
clauses whose ID disappeared are paired with new ones by text similarity, so a renamed clause
is reported as a rename, not as a deletion plus an insertion. Each text change is graded as
``editorial`` (whitespace, punctuation, case, a typo) or ``substantive``.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from deepdiff import DeepDiff

from .model import Duration, Facts, Policy

RENAME_SIMILARITY = 0.6
"""Below this similarity a vanished and a new clause are a deletion and an insertion."""


@dataclass(frozen=True, slots=True)
class Change:
    """One difference between two versions of a policy."""

    subject: str
    """What changed: ``data_category``, ``purpose``, ``recipient``, ``transfer``, ``retention``,
    ``right``, ``contact``, ``complaint``, ``controller``, ``minimum_age``, ``risk``, ``locales``,
    or ``clause`` for prose."""
    kind: str
    """``added``, ``removed``, ``changed``, ``moved`` or ``renamed``."""
    id: str | None = None
    """The fact or clause ID (the new one, for a rename)."""
    field: str | None = None
    """The field of a fact that changed (``sensitive``, ``data``, ``period``...)."""
    before: Any = None
    after: Any = None
    details: dict[str, Any] = dataclass_field(default_factory=dict)
    """Predicates for the rules: ``sensitive``, ``direction``, ``edit``, ``topics``..."""
    clauses: tuple[str, ...] = ()
    """Clauses of the new version (or the old one, for removals) that this change affects."""

    @property
    def path(self) -> str:
        collection = _COLLECTION_OF.get(self.subject, self.subject)
        return "/".join(p for p in (collection, self.id, self.field) if p)


_COLLECTIONS = {
    "data_categories": "data_category", "purposes": "purpose", "recipients": "recipient", "transfers": "transfer",
    "retention": "retention", "rights": "right", "contacts": "contact", "complaints": "complaint",
}
_COLLECTION_OF = {v: k for k, v in _COLLECTIONS.items()} | {"clause": "prose"}
_PLACEHOLDER_ROOT = {"data_category": "data", "purpose": "purpose", "recipient": "recipient", "transfer": "transfer",
                     "retention": "retention", "right": "right", "contact": "contact", "complaint": "complaint",
                     "controller": "controller", "minimum_age": "minimum_age", "risk": "risk"}


def normalize(policy: Policy) -> dict[str, Any]:
    """Facts as plain data keyed by ID: what deepdiff compares."""
    facts: Facts = policy.facts
    out: dict[str, Any] = {
        "controller": {k: getattr(facts.controller, k) for k in ("name", "address", "email", "phone", "url", "registration")},
        "minimum_age": facts.minimum_age,
        "risk": {"level": facts.risk.level, "assessed_on": facts.risk.assessed_on.isoformat()},
        "locales": sorted(policy.locales),
    }
    for collection, _subject in _COLLECTIONS.items():
        items = {}
        for item in getattr(facts, collection):
            fields = {}
            for name in item.__dataclass_fields__:
                if name == "id":
                    continue
                value = getattr(item, name)
                if isinstance(value, Duration):
                    value = value.iso
                elif isinstance(value, tuple):
                    value = sorted(value)
                fields[name] = value
            items[item.id] = fields
        out[collection] = items
    return out


def diff_policies(old: Policy, new: Policy) -> list[Change]:
    """Every change from ``old`` to ``new``: facts first, then prose, each in a stable order."""
    changes = _fact_changes(old, new)
    changes += _prose_changes(old, new)
    return changes


# --- facts ---------------------------------------------------------------------------------------


def _fact_changes(old: Policy, new: Policy) -> list[Change]:
    before, after = normalize(old), normalize(new)
    tree = DeepDiff(before, after, ignore_order=True, view="tree", verbose_level=2)
    # Group deepdiff's leaves by the fact they belong to: (top-level key, fact ID, field).
    grouped: dict[tuple[str, str | None, str | None], dict[str, list[Any]]] = {}
    for report_type, levels in tree.items():
        for level in levels:
            path = level.path(output_format="list")
            key, ident, fld = _locate(path)
            bucket = grouped.setdefault((key, ident, fld), {"added": [], "removed": [], "changed": []})
            if report_type in ("dictionary_item_added", "iterable_item_added"):
                bucket["added"].append((path, level.t2))
            elif report_type in ("dictionary_item_removed", "iterable_item_removed"):
                bucket["removed"].append((path, level.t1))
            else:
                bucket["changed"].append((path, level.t1, level.t2))
    changes = []
    old_index, new_index = _placeholder_index(old), _placeholder_index(new)
    for (key, ident, fld), bucket in sorted(grouped.items(), key=lambda kv: tuple(str(p) for p in kv[0])):
        changes.append(_fact_change(key, ident, fld, bucket, before, after, old, new, old_index, new_index))
    return changes


def _locate(path: list[Any]) -> tuple[str, str | None, str | None]:
    key = str(path[0])
    if key in _COLLECTIONS:
        ident = str(path[1]) if len(path) > 1 else None
        fld = str(path[2]) if len(path) > 2 else None
        return key, ident, fld
    if key in ("controller", "risk"):
        return key, None, str(path[1]) if len(path) > 1 else None
    return key, None, None


def _sensitive(policy: Policy, ids: list[str]) -> bool:
    sensitive = {d.id for d in policy.facts.data_categories if d.sensitive}
    return any(i in sensitive for i in ids)


def _fact_change(key, ident, fld, bucket, before, after, old, new, old_index, new_index) -> Change:
    subject = _COLLECTIONS.get(key, key)
    details: dict[str, Any] = {}
    if key in _COLLECTIONS and fld is None:
        # A whole fact was added or removed.
        kind = "added" if bucket["added"] else "removed"
        value = after[key][ident] if kind == "added" else before[key][ident]
        if subject == "data_category":
            details["sensitive"] = value["sensitive"]
        if subject in ("purpose", "recipient", "retention") and "data" in value:
            details["sensitive"] = _sensitive(new if kind == "added" else old, value["data"])
        if subject == "transfer":
            details["country"] = value["country"]
        index = new_index if kind == "added" else old_index
        return Change(subject, kind, ident, None, None if kind == "added" else value, value if kind == "added" else None,
                      details, _affected(index, subject, ident))
    if key in _COLLECTIONS:
        old_value, new_value = before[key][ident].get(fld), after[key][ident].get(fld)
    elif key in ("controller", "risk"):
        old_value, new_value = before[key].get(fld), after[key].get(fld)
    else:
        old_value, new_value = before[key], after[key]
    if isinstance(old_value, list) or isinstance(new_value, list):
        added = sorted(set(new_value or []) - set(old_value or []))
        removed = sorted(set(old_value or []) - set(new_value or []))
        details["added"], details["removed"] = added, removed
        details["direction"] = "added" if added and not removed else "removed" if removed and not added else "both"
        if fld == "data":
            details["sensitive"] = _sensitive(new, added)
    elif (subject == "retention" and fld == "period") or fld == "response_time":
        a = Duration.parse(old_value).approx_days if old_value else 0.0
        b = Duration.parse(new_value).approx_days if new_value else 0.0
        details["direction"] = "longer" if b > a else "shorter" if b < a else "same"
    elif subject == "minimum_age":
        details["direction"] = "lower" if new_value < old_value else "higher"
    elif subject == "data_category" and fld == "sensitive":
        details["sensitive"] = bool(new_value)
    elif subject == "risk" and fld == "level":
        order = {"low": 0, "medium": 1, "high": 2}
        details["direction"] = "higher" if order[new_value] > order[old_value] else "lower"
        details["to"] = new_value
    elif subject == "locales":
        details["added"] = sorted(set(new_value) - set(old_value))
        details["removed"] = sorted(set(old_value) - set(new_value))
    kind = "changed"
    if old_value is None and new_value is not None:
        kind = "added"
    elif new_value is None and old_value is not None:
        kind = "removed"
    clauses = _affected(new_index, subject, ident, fld) or _affected(old_index, subject, ident, fld)
    return Change(subject, kind, ident, fld, old_value, new_value, details, clauses)


def _placeholder_index(policy: Policy) -> dict[str, set[str]]:
    """Clause ID -> placeholder names used in it."""
    index: dict[str, set[str]] = {}
    for segment in (policy.document.title, *policy.document.segments):
        names = set(re.findall(r"\{\{\s*([^{}\s]+)\s*\}\}", segment.text))
        if names:
            index.setdefault(segment.clause, set()).update(names)
    return index


def _affected(index: dict[str, set[str]], subject: str, ident: str | None, fld: str | None = None) -> tuple[str, ...]:
    root = _PLACEHOLDER_ROOT.get(subject)
    if root is None:
        return ()
    if ident is None:
        prefixes = (f"{root}.{fld}",) if fld else (root,)
        wanted = lambda name: name == root or name.startswith(prefixes)  # noqa: E731
    else:
        wanted = lambda name: name == f"{root}.*" or name == f"{root}.{ident}" or name.startswith(f"{root}.{ident}.")  # noqa: E731
    return tuple(sorted(clause for clause, names in index.items() if any(wanted(n) for n in names)))


# --- prose ---------------------------------------------------------------------------------------

_TOKEN = re.compile(r"\{\{[^{}]*\}\}|\w+|[^\w\s]", re.UNICODE)
_DURATION = re.compile(
    r"(\d+)\s*(years?|jaar|jaren|months?|maanden|maand|weeks?|weken|week|days?|dagen|dag)\b", re.IGNORECASE)
_DAYS = {"y": 365.25, "j": 365.25, "m": 30.44, "w": 7.0, "d": 1.0}


def clause_texts(policy: Policy) -> dict[str, str]:
    """Clause ID -> its source text (segments joined), in document order."""
    texts: dict[str, list[str]] = {}
    for segment in (policy.document.title, *policy.document.segments):
        texts.setdefault(segment.clause, []).append(segment.text)
    return {clause: "\n".join(parts) for clause, parts in texts.items()}


def _topics(policy: Policy) -> dict[str, set[str]]:
    """Clause ID -> the fact types its top-level section talks about (through placeholders)."""
    parent = {s.id: s.parent for s in policy.document.sections}
    top = {}
    for section in policy.document.sections:
        node = section.id
        while parent.get(node):
            node = parent[node]
        top[section.id] = node
    owner = {c.id: top.get(c.section, c.section) if c.section else None for c in policy.document.clauses}
    owner.update({s.id: top[s.id] for s in policy.document.sections})
    index = _placeholder_index(policy)
    by_section: dict[str | None, set[str]] = {}
    for clause, names in index.items():
        by_section.setdefault(owner.get(clause), set()).update(n.split(".")[0] for n in names)
    return {clause: by_section.get(owner.get(clause), set()) for clause in clause_texts(policy)}


def words(text: str) -> list[str]:
    return _TOKEN.findall(text)


def edit_kind(before: str, after: str) -> str:
    """``editorial`` when only whitespace, punctuation, case or typos changed; else ``substantive``."""
    a, b = words(before), words(after)
    if a == b:
        return "editorial"
    plain_a = [w.lower() for w in a if w[0].isalnum() or w.startswith("{{")]
    plain_b = [w.lower() for w in b if w[0].isalnum() or w.startswith("{{")]
    if plain_a == plain_b:
        return "editorial"
    matcher = difflib.SequenceMatcher(None, plain_a, plain_b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag != "replace" or (i2 - i1) != (j2 - j1):
            return "substantive"
        for old_word, new_word in zip(plain_a[i1:i2], plain_b[j1:j2]):
            # A typo fix keeps the word recognisable; numbers and placeholders never count as typos.
            if old_word.isdigit() or new_word.isdigit() or old_word.startswith("{{") or new_word.startswith("{{"):
                return "substantive"
            if difflib.SequenceMatcher(None, old_word, new_word).ratio() < 0.75:
                return "substantive"
    return "editorial"


def longest_duration(text: str) -> float:
    """The longest period written out in prose ("5 years", "30 dagen"), in days."""
    best = 0.0
    for amount, unit in _DURATION.findall(text):
        best = max(best, int(amount) * _DAYS[unit[0].lower()])
    return best


def _prose_details(before: str, after: str, new: Policy, topics: set[str]) -> dict[str, Any]:
    details: dict[str, Any] = {"edit": edit_kind(before, after), "topics": sorted(topics)}
    old_ph = set(re.findall(r"\{\{\s*([^{}\s]+)\s*\}\}", before))
    new_ph = set(re.findall(r"\{\{\s*([^{}\s]+)\s*\}\}", after))
    added_data = [n.split(".")[1] for n in new_ph - old_ph if n.startswith("data.") and n.count(".") == 1]
    if _sensitive(new, added_data):
        details["sensitive"] = True
    a, b = longest_duration(before), longest_duration(after)
    if b > a and a > 0:
        details["duration"] = "longer"
    elif b < a and b > 0:
        details["duration"] = "shorter"
    return details


def _prose_changes(old: Policy, new: Policy) -> list[Change]:
    old_texts, new_texts = clause_texts(old), clause_texts(new)
    old_topics, new_topics = _topics(old), _topics(new)
    changes: list[Change] = []
    common = [c for c in new_texts if c in old_texts]
    old_order = [c for c in old_texts if c in new_texts]
    matcher = difflib.SequenceMatcher(None, old_order, common, autojunk=False)
    in_place = {common[j] for block in matcher.get_matching_blocks() for j in range(block.b, block.b + block.size)}
    for clause in common:
        before, after = old_texts[clause], new_texts[clause]
        topics = old_topics.get(clause, set()) | new_topics.get(clause, set())
        if clause not in in_place:
            details = {"edit": "editorial", "topics": sorted(topics)}
            if before != after:
                details = _prose_details(before, after, new, topics)
            changes.append(Change("clause", "moved", clause, None, before, after, details, (clause,)))
        elif before != after:
            changes.append(Change("clause", "changed", clause, None, before, after, _prose_details(before, after, new, topics), (clause,)))
    gone = [c for c in old_texts if c not in new_texts]
    fresh = [c for c in new_texts if c not in old_texts]
    pairs = _pair_by_similarity(gone, fresh, old_texts, new_texts)
    for old_id, new_id in pairs:
        before, after = old_texts[old_id], new_texts[new_id]
        topics = old_topics.get(old_id, set()) | new_topics.get(new_id, set())
        details = _prose_details(before, after, new, topics) if before != after else {"edit": "editorial", "topics": sorted(topics)}
        details["old_id"] = old_id
        changes.append(Change("clause", "renamed", new_id, None, before, after, details, (new_id,)))
    paired_old = {o for o, _n in pairs}
    paired_new = {n for _o, n in pairs}
    for clause in fresh:
        if clause not in paired_new:
            details = _prose_details("", new_texts[clause], new, new_topics.get(clause, set()))
            details["edit"] = "substantive"
            changes.append(Change("clause", "added", clause, None, None, new_texts[clause], details, (clause,)))
    for clause in gone:
        if clause not in paired_old:
            details = {"edit": "substantive", "topics": sorted(old_topics.get(clause, set()))}
            changes.append(Change("clause", "removed", clause, None, old_texts[clause], None, details, (clause,)))
    return changes


def _pair_by_similarity(gone: list[str], fresh: list[str], old_texts: dict[str, str], new_texts: dict[str, str]) -> list[tuple[str, str]]:
    """Pair vanished clauses with new ones whose text is close enough, best pairs first."""
    if not gone or not fresh:
        return []
    candidates = []
    fresh_words = {n: words(new_texts[n]) for n in fresh}
    for old_id in gone:
        matcher = difflib.SequenceMatcher(None, autojunk=False)
        matcher.set_seq2(words(old_texts[old_id]))
        for new_id in fresh:
            matcher.set_seq1(fresh_words[new_id])
            # Cheap upper bounds first: most pairs are rejected without the full comparison.
            if matcher.real_quick_ratio() < RENAME_SIMILARITY or matcher.quick_ratio() < RENAME_SIMILARITY:
                continue
            ratio = matcher.ratio()
            if ratio >= RENAME_SIMILARITY:
                candidates.append((-ratio, old_id, new_id))
    pairs, used_old, used_new = [], set(), set()
    for _neg, old_id, new_id in sorted(candidates):
        if old_id not in used_old and new_id not in used_new:
            pairs.append((old_id, new_id))
            used_old.add(old_id)
            used_new.add(new_id)
    return sorted(pairs, key=lambda p: p[1])
