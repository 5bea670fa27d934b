"""Diff stage: two versions of a policy -> typed :class:`Change` records.

Facts are compared as deepdiff compares them (by deepdiff itself only for what is not plain data),
on a normalized form where every list of facts is a mapping keyed by fact ID and every list of
references is compared as a set, so reordering a list is no change at all. Each difference
becomes a :class:`Change` that says what changed (subject, kind, field) and carries the predicates
the classification rules test: a data category is ``sensitive``, a retention period got
``longer``, a minimum age got ``lower``.

Prose is compared clause by clause (a clause is a block or a heading, with its ID). Clauses
with the same ID are compared by text; the order of the common IDs shows which clauses moved;
clauses whose ID disappeared are paired with new ones by text similarity, so a renamed clause
is reported as a rename, not as a deletion plus an insertion. Each text change is graded as
``editorial`` (whitespace, punctuation, case, a typo) or ``substantive``.
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from functools import lru_cache
from itertools import groupby, pairwise
from operator import attrgetter
from typing import Any

from policygen.changes.coverage import SUBJECT, Coverage, country_code, new_mentions, uncovered_findings
from policygen.changes.lexicon import reads
from policygen.changes.prose import (
    INVISIBLE,
    Document,
    Finding,
    analyse,
    clause_lead,
    editorial_reason,
    is_furniture,
    leads_to_data,
    moved_text,
    only_furniture,
    only_version_notes,
    plain,
    regulated_topics,
    renamed_name,
    repeated_contact_dropped,
    says_nothing_about_data,
)
from policygen.model import FACT_KINDS, PERIOD_IN_PROSE_RE, PLACEHOLDER_RE, Duration, Facts, Policy

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


_COLLECTIONS = {k.collection: k.kind for k in FACT_KINDS}
_COLLECTION_OF = {k.kind: k.collection for k in FACT_KINDS} | {"clause": "prose"}
_PLACEHOLDER_ROOT = {k.kind: k.root for k in FACT_KINDS} | {name: name for name in ("controller", "minimum_age", "risk")}


def normalize(policy: Policy) -> dict[str, Any]:
    """Facts as plain data keyed by ID: what deepdiff compares."""
    facts: Facts = policy.facts
    out: dict[str, Any] = {
        "controller": {k: getattr(facts.controller, k, None) for k in ("name", "address", "email", "phone", "url", "registration")},
        "minimum_age": facts.minimum_age,
        "risk": {"level": facts.risk.level if facts.risk else None, "assessed_on": facts.risk.assessed_on.isoformat() if facts.risk else None},
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


@dataclass(frozen=True, slots=True)
class _Prose:
    """What the diff needs of one version's prose, computed once."""

    texts: dict[str, str]
    placeholders: dict[str, set[str]]
    by_fact: dict[tuple[str, str], set[str]]
    owner: dict[str, str | None]
    """Clause ID -> its top-level section."""
    section_topics: dict[str | None, set[str]]
    document: Document
    """The whole version's plain text, for "is this term new?" questions."""
    locale: str
    prose_only: bool
    """The policy models none of the facts the prose could be checked against."""
    coverage: Coverage
    """What the policy's facts cover, for prose that names a recipient, a country or data."""
    before: dict[str, str]
    """List or table clause ID -> the paragraph right before it in the same section."""

    def topics(self, clause: str) -> set[str]:
        """The fact types the clause's top-level section talks about (through placeholders)."""
        return self.section_topics.get(self.owner.get(clause), set())

    def lead(self, clause: str) -> str:
        """The lead-in of a list or table clause, from the paragraph before it ("We share your name
        with these providers:"), or ""; asked only of changed clauses."""
        previous = self.before.get(clause)
        return clause_lead(self.texts[previous], self.locale) if previous in self.texts else ""


def _prose(policy: Policy, labels: Mapping[tuple[str, str], str]) -> _Prose:
    groups = _clause_groups(policy)  # the clauses' texts, joined once for both uses
    texts = dict(groups)
    placeholders = _placeholder_index(groups)
    owner = _owners(policy)
    section_topics: dict[str | None, set[str]] = {}
    for clause, names in placeholders.items():
        section_topics.setdefault(owner.get(clause), set()).update(n.split(".")[0] for n in names)
    prose_only = any(name in ("recipients", "transfers", "retention", "data_categories", "purposes") for name, _line in policy.missing_facts)
    return _Prose(texts, placeholders, _by_fact(placeholders), owner, section_topics, Document.of(list(texts.values())), policy.source_locale,
                  prose_only, Coverage(policy, labels), _paragraph_before(policy))


_LISTS = frozenset({"bullet_list", "ordered_list", "table"})


def _paragraph_before(policy: Policy) -> dict[str, str]:
    """List and table clauses -> the paragraph right before each in the same section: the import
    makes a lead-in and its list two blocks."""
    found: dict[str, str] = {}
    clauses = policy.document.clauses
    for previous, clause in pairwise(clauses):
        if clause.kind in _LISTS and previous.kind == "paragraph" and previous.section == clause.section:
            found[clause.id] = previous.id
    return found


def diff_policies(old: Policy, new: Policy, labels: Mapping[tuple[str, str], str] | None = None) -> list[Change]:
    """Every change from ``old`` to ``new``: facts first, then prose, each in a stable order.
    ``labels``: (subject, ID) -> the facts' glossary labels, which prose is matched against."""
    old_prose, new_prose = _prose(old, labels or {}), _prose(new, labels or {})
    prose = _prose_changes(old_prose, new_prose, new, old)
    if prose and prose[0].kind in ("not-a-policy", "old-not-a-policy"):
        return prose  # a page that is no policy (a crawl failure) states no facts either: one change says it all
    facts = _fact_changes(old, new, old_prose.by_fact, new_prose.by_fact)
    if prose and prose[0].kind == "truncated" and any(c.kind == "removed" for c in facts):
        # A text cut short (a crawl that stopped early) no longer states what the rest of it did:
        # a fact it lost is the truncation's, counted in it, not a removal graded on its own
        # (a contact read from the old text's last section, "removed", was a major change).
        lost = sum(c.kind == "removed" for c in facts)
        whole = prose[0]
        quote = f"{whole.details['quote']}; {lost} {'fact' if lost == 1 else 'facts'} it no longer states not listed one by one"
        prose = [replace(whole, details={**whole.details, "quote": quote}), *prose[1:]]
        facts = [c for c in facts if c.kind != "removed"]
    return facts + prose


# --- facts ---------------------------------------------------------------------------------------


def _fact_changes(old: Policy, new: Policy, old_index: dict[tuple[str, str], set[str]], new_index: dict[tuple[str, str], set[str]]) -> list[Change]:
    before, after = normalize(old), normalize(new)
    if _canonical(before) == _canonical(after):
        return []  # the common case for prose-only policies: nothing for deepdiff to walk
    # Group deepdiff's leaves by the fact they belong to: (top-level key, fact ID, field).
    grouped: dict[tuple[str, str | None, str | None], dict[str, list[Any]]] = {}
    _group(before, after, [], grouped)
    changes = []
    for (key, ident, fld), bucket in sorted(grouped.items(), key=lambda kv: tuple(str(p) for p in kv[0])):
        changes.append(_fact_change(key, ident, fld, bucket, before, after, old, new, old_index, new_index))
    return changes


def _group(before: Any, after: Any, prefix: list[Any], grouped: dict[tuple[str, str | None, str | None], dict[str, list[Any]]]) -> None:
    """deepdiff's leaves between ``before`` and ``after`` (found at ``prefix``), into ``grouped``."""
    for kind, where, old_value, new_value in _leaves(before, after, prefix):
        path = prefix + where
        key, ident, fld = _locate(path)
        if (key in _COLLECTIONS or key in ("controller", "risk")) and fld is None and isinstance(old_value, dict) and isinstance(new_value, dict):
            # deepdiff reports a whole collection (or fact) as one changed value when too
            # little stays the same (every contact replaced, or the first one added): compare
            # it fact by fact (field by field), so each gets its own change.
            _group_items(old_value, new_value, path, grouped)
            continue
        bucket = grouped.setdefault((key, ident, fld), {"added": [], "removed": [], "changed": []})
        if kind == "added":
            bucket["added"].append((path, new_value))
        elif kind == "removed":
            bucket["removed"].append((path, old_value))
        else:
            bucket["changed"].append((path, old_value, new_value))


_SCALARS = (str, int, float, bool, type(None))
_DEEPER = 0.33
"""deepdiff's ``threshold_to_diff_deeper``: two mappings that share less than this share of their
keys are one changed value, not keys added and removed."""


def _leaves(before: Any, after: Any, prefix: list[Any]) -> list[tuple[str, list[Any], Any, Any]]:
    """(``added``, ``removed`` or ``changed``, path, old value, new value) for each difference,
    as ``DeepDiff(before, after, ignore_order=True)`` reports it. Facts are plain data (mappings,
    lists of names, strings, numbers): those are compared here (:func:`_plain_leaves`), which
    gives the places deepdiff gives; deepdiff, whose import (numpy and pydantic with it) cost a
    fresh ``policygen diff`` 0.44 s of CPU, reads anything else."""
    found: list[tuple[str, list[Any], Any, Any]] = []
    if _plain_leaves(before, after, [], prefix, found):
        return found
    from deepdiff import DeepDiff  # imported on first use: it pulls in numpy, which check and a prose-only diff do not need

    tree = DeepDiff(before, after, ignore_order=True, view="tree", verbose_level=2)
    kinds = {"dictionary_item_added": "added", "iterable_item_added": "added", "dictionary_item_removed": "removed",
             "iterable_item_removed": "removed"}
    return [(kinds.get(report_type, "changed"), level.path(output_format="list"), level.t1, level.t2)
            for report_type, levels in tree.items() for level in levels]


def _plain_leaves(old: Any, new: Any, path: list[Any], prefix: list[Any], found: list[tuple[str, list[Any], Any, Any]]) -> bool:
    """The differences between ``old`` and ``new`` at ``path`` into ``found``, as deepdiff finds
    them: another type is a changed value; mappings by key (keys added, removed, or the whole
    mapping changed when they share less than :data:`_DEEPER` of their keys); lists of names as
    sets (ignore_order, repetitions not reported: which item deepdiff names does not matter, the
    fact and field it belongs to do); other values by equality. False, with ``found`` left as it
    may be, for anything else (then deepdiff compares)."""
    if type(old) is not type(new):
        if not (isinstance(old, (dict, list, *_SCALARS)) and isinstance(new, (dict, list, *_SCALARS))):
            return False
        found.append(("changed", path, old, new))
        return True
    if isinstance(old, dict):
        if any(not isinstance(k, str) or k.startswith("__") for k in (*old, *new)):
            return False  # deepdiff leaves out keys that start with "__"
        shared = old.keys() & new.keys()
        union = len(old.keys() | new.keys())
        if union > 1 and len(shared) / union < _DEEPER:
            found.append(("changed", path, old, new))
            return True
        found += [("added", [*path, k], None, new[k]) for k in new if k not in old]
        found += [("removed", [*path, k], old[k], None) for k in old if k not in new]
        return all(_plain_leaves(old[k], new[k], [*path, k], prefix, found) for k in old if k in shared)
    if isinstance(old, list):
        whole = prefix + path
        # Which item deepdiff names (its index) must not matter: :func:`_locate` must cut it off
        # (a list in a fact's field, in the controller's or the risk's, or a top-level value).
        if not whole or len(whole) < (3 if str(whole[0]) in _COLLECTIONS else 2 if str(whole[0]) in ("controller", "risk") else 1):
            return False
        items = [*old, *new]
        if not all(type(v) in _SCALARS and v == v for v in items):  # v == v: no NaN
            return False
        if {(type(v), v) for v in old} != {(type(v), v) for v in new}:
            found.append(("changed", [*path, 0], old, new))
        return True
    if type(old) in _SCALARS and old == old and new == new:
        if old != new:
            found.append(("changed", path, old, new))
        return True
    return False


def _group_items(old: dict[str, Any], new: dict[str, Any], path: list[Any],
                 grouped: dict[tuple[str, str | None, str | None], dict[str, list[Any]]]) -> None:
    for name in sorted(old.keys() | new.keys()):
        where = [*path, name]
        if name in old and name in new:
            if _canonical(old[name]) != _canonical(new[name]):
                _group(old[name], new[name], where, grouped)
            continue
        bucket = grouped.setdefault(_locate(where), {"added": [], "removed": [], "changed": []})
        if name in new:
            bucket["added"].append((where, new[name]))
        else:
            bucket["removed"].append((where, old[name]))


def _canonical(value: Any) -> Any:
    """A form in which reordered lists compare equal (deepdiff's ignore_order, for the quick check)."""
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return sorted((_canonical(v) for v in value), key=repr)
    return value


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
        # No deadline at all is the weakest promise: dropping one makes it "longer".
        a = Duration.parse(old_value).approx_days if old_value else float("inf")
        b = Duration.parse(new_value).approx_days if new_value else float("inf")
        details["direction"] = "longer" if b > a else "shorter" if b < a else "same"
    elif subject == "minimum_age" and old_value is not None and new_value is not None:
        details["direction"] = "lower" if new_value < old_value else "higher"
    elif subject == "data_category" and fld == "sensitive":
        details["sensitive"] = bool(new_value)
    elif subject == "risk" and fld == "level" and old_value and new_value:
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


_CLAUSE = attrgetter("clause")


def _placeholder_index(groups: list[tuple[str, str]]) -> dict[str, set[str]]:
    """Clause ID -> placeholder names used in it (``groups``: see :func:`_clause_groups`)."""
    index: dict[str, set[str]] = {}
    for clause, text in groups:
        found = PLACEHOLDER_RE.findall(text) if "{{" in text else None
        if found:
            index.setdefault(clause, set()).update(found)
    return index


def _by_fact(index: dict[str, set[str]]) -> dict[tuple[str, str], set[str]]:
    """(root, second part of the name) -> clauses: ``data.health`` files under ("data", "health"),
    ``data.*`` under ("data", "*"), ``minimum_age`` under ("minimum_age", "")."""
    inverted: dict[tuple[str, str], set[str]] = {}
    for clause, names in index.items():
        for name in names:
            root, _, rest = name.partition(".")
            inverted.setdefault((root, rest.split(".")[0]), set()).add(clause)
    return inverted


def _affected(inverted: dict[tuple[str, str], set[str]], subject: str, ident: str | None, fld: str | None = None) -> tuple[str, ...]:
    """Clauses whose placeholders show the fact that changed (found through the inverted index,
    so the cost is the size of the answer, not of the policy)."""
    root = _PLACEHOLDER_ROOT.get(subject)
    if root is None:
        return ()
    if ident is None:
        keys = [(root, fld or "")] if fld else [key for key in inverted if key[0] == root]
    else:
        keys = [(root, "*"), (root, ident)]
    return tuple(sorted(set().union(*(inverted.get(key, set()) for key in keys))))


# --- prose ---------------------------------------------------------------------------------------

# Words, punctuation, and each placeholder as one token (the placeholder pattern, uncaptured).
_TOKEN = re.compile(PLACEHOLDER_RE.pattern.replace("(", "(?:", 1) + r"|\w+|[^\w\s]", re.UNICODE)
_DURATION = PERIOD_IN_PROSE_RE  # the importer's suggestions read periods with the same pattern
_DAYS = {"y": 365.25, "j": 365.25, "m": 30.44, "w": 7.0, "d": 1.0}


def clause_texts(policy: Policy) -> dict[str, str]:
    """Clause ID -> its source text (segments joined), in document order."""
    return dict(_clause_groups(policy))


def _clause_groups(policy: Policy) -> list[tuple[str, str]]:
    """(clause ID, its segments' text joined) for each run of segments of one clause, in document order."""
    # A clause's segments are contiguous in document order, so grouping needs no lookups.
    return [(clause, "\n".join(segment.text for segment in segments))
            for clause, segments in groupby((policy.document.title, *policy.document.segments), key=_CLAUSE)]


def _owners(policy: Policy) -> dict[str, str | None]:
    """Clause or section ID -> the top-level section it belongs to."""
    parent = {s.id: s.parent for s in policy.document.sections}
    top: dict[str, str] = {}
    for section in policy.document.sections:
        node = section.id
        while (up := parent.get(node)) is not None:
            node = up
        top[section.id] = node
    owner: dict[str, str | None] = {c.id: top.get(c.section) if c.section else None for c in policy.document.clauses}
    owner.update(top)
    return owner


def words(text: str) -> list[str]:
    return _TOKEN.findall(text)


_ANCHOR_TARGET = re.compile(r"\]\(#[^)\s]*\)")


def edit_kind(before: str, after: str) -> str:
    """``editorial`` when only whitespace, punctuation, case or typos changed; else ``substantive``.

    An in-page link target does not count: it changes when the clause it points to is renamed.
    """
    if not PLACEHOLDER_RE.search(before) and not PLACEHOLDER_RE.search(after):
        return "editorial" if editorial_reason(before, after) is not None else "substantive"
    a, b = words(_ANCHOR_TARGET.sub("](#)", before)), words(_ANCHOR_TARGET.sub("](#)", after))
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
        for old_word, new_word in zip(plain_a[i1:i2], plain_b[j1:j2], strict=True):
            # A typo fix keeps the word recognisable; numbers and placeholders never count as typos.
            if old_word.isdigit() or new_word.isdigit() or old_word.startswith("{{") or new_word.startswith("{{"):
                return "substantive"
            if difflib.SequenceMatcher(None, old_word, new_word).ratio() < 0.75:
                return "substantive"
    return "editorial"


def longest_duration(text: str, *policies: Policy | None) -> float:
    """The longest period a reader sees in a text, in days: written out ("5 years", "30 dagen")
    or rendered by a placeholder (``{{retention.account}}``), with the period of the first of
    ``policies`` that has the fact."""
    best = 0.0
    for amount, unit in _DURATION.findall(text):
        best = max(best, int(amount) * _DAYS[unit[0].lower()])
    periods: dict[str, Any] = {}
    for policy in reversed([p for p in policies if p is not None]):
        periods |= {f"retention.{r.id}": r.period for r in policy.facts.retention}
        periods |= {f"right.{r.id}.response_time": r.response_time for r in policy.facts.rights if r.response_time}
    for name in PLACEHOLDER_RE.findall(text):
        if name in periods:
            best = max(best, periods[name].approx_days)
    return best


def _prose_details(before: str, after: str, new: Policy, topics: set[str], old: Policy | None = None,
                   context: tuple[_Prose, _Prose] | None = None, lead: str = "") -> dict[str, Any]:
    details: dict[str, Any] = {"edit": edit_kind(before, after), "topics": sorted(topics)}
    if details["edit"] == "editorial":
        details["editorial"] = _editorial_reason(before, after, new.source_locale)
    old_ph = set(PLACEHOLDER_RE.findall(before))
    new_ph = set(PLACEHOLDER_RE.findall(after))
    added_data = [n.split(".")[1] for n in new_ph - old_ph if n.startswith("data.") and n.count(".") == 1]
    if _sensitive(new, added_data):
        details["sensitive"] = True
    # A placeholder both versions' facts define reads the new period on both sides: a fact whose
    # period changed is graded as that fact (longer-retention), not again as every clause showing it.
    a, b = longest_duration(before, new, old), longest_duration(after, new)
    if b > a and a > 0:
        details["duration"] = "longer"
    elif b < a and b > 0:
        details["duration"] = "shorter"
    if details["edit"] == "substantive" and context is not None and not old_ph and not new_ph:
        # Prose the facts render is graded through the facts; prose analysis reads the rest.
        _add_findings(details, before, after, context, lead=lead)
    elif details["edit"] == "substantive" and context is not None and context[1].coverage.modelled:
        # Around the placeholders, a new sentence may still name what no fact covers.
        _add_findings(details, before, after, context, uncovered_only=True)
    return details


def _editorial_reason(before: str, after: str, locale: str) -> str:
    if PLACEHOLDER_RE.search(before) or PLACEHOLDER_RE.search(after):
        return "typo, punctuation or formatting"
    return editorial_reason(before, after, locale) or "typo, punctuation or formatting"


def _add_findings(details: dict[str, Any], before: str, after: str, context: tuple[_Prose, _Prose], uncovered_only: bool = False,
                  lead: str = "") -> None:
    """Prose analysis: the most severe finding decides (``finding``); all are listed (``findings``).
    ``lead``: the lead-in of a list or table clause, in the paragraph before it.

    Where the policy models the facts a finding is about (recipients, transfers, data
    categories), a finding they cover is left to the facts, and one they do not cover is marked
    ``uncovered`` (the facts to add), ``as_fact`` (the fact change it stands for, which the rules
    grade). With ``uncovered_only``, only such findings are kept."""
    old_prose, new_prose = context
    if uncovered_only:
        # Only what no fact covers, found straight from the new sentences: the full analysis
        # would re-read the whole document for every clause, and the facts grade the rest.
        analysed = new_mentions(before, after, old_prose.document.lower, new_prose.coverage)
    elif moved_text(before, after, old_prose.document, new_prose.document):
        details["edit"] = "editorial"
        details["editorial"] = "text moved between clauses"
        return
    else:
        analysed = analyse(before, after, old_prose.document, new_prose.document, new_prose.locale, lead)
    findings: list[Finding] = []
    missing: dict[Finding, str] = {}
    for finding, collection in uncovered_findings(analysed, new_prose.coverage, after):
        if collection is not None or not uncovered_only:
            findings.append(finding)
        if collection is not None:
            missing.setdefault(finding, collection)
    if uncovered_only and not findings:
        return
    if findings and findings[0] in missing:
        collection = missing[findings[0]]
        details["uncovered"] = collection
        fact_details: dict[str, Any] = {"sensitive": True} if findings[0].kind == "new-sensitive-data" else {}
        if collection == "transfers":
            fact_details["country"] = country_code(findings[0].quote, new_prose.locale)
        details["as_fact"] = {"subject": SUBJECT[collection], "kind": "added", "details": fact_details}
    if findings:
        details.pop("duration", None)  # the detector's finding quotes the periods
        details["finding"] = findings[0].kind
        details["findings"] = sorted({f.kind for f in findings})
        details["quote"] = findings[0].quote
        details["sentence"] = findings[0].sentence
    elif not reads(new_prose.locale):
        # No lexicon for this language (Khmer): its sentences match no pattern, so the tests
        # below would call any change furniture or "nothing about data". A person reads it.
        details["unread"] = True
        details["language"] = new_prose.locale
    elif not leads_to_data(lead, new_prose.locale) and (
            ((not before or not after) and is_furniture(after or before)) or only_furniture(before, after, new_prose.locale)):
        details["edit"] = "editorial"
        details["editorial"] = "navigation or page furniture (menu entries, labels, links; no sentence)"
    elif before and after and (renamed := renamed_name(before, after, new_prose.document, new_prose.locale, old_prose.document)):
        details["edit"] = "editorial"
        details["editorial"] = f"a name changed throughout ({renamed})"
    elif says_nothing_about_data(before, after, new_prose.locale, lead):
        details["edit"] = "editorial"
        details["editorial"] = "no statement about personal data (page text around the policy)"
    elif repeated_contact_dropped(before, after, new_prose.document, new_prose.locale):
        details["edit"] = "editorial"
        details["editorial"] = "a way to reach us that the policy still gives, dropped where it was said twice"
    elif only_version_notes(before, after, new_prose.locale):
        details["edit"] = "editorial"
        details["editorial"] = "a note on the policy's versions (when it takes effect, where earlier versions are)"
    elif before and new_prose.prose_only and (topics := _regulated(before, after, new_prose.locale, lead)):
        # Without facts, wording about sharing, transfers, retention or rights is all there is to go by.
        details["regulated"] = topics


def _regulated(before: str, after: str, locale: str, lead: str = "") -> list[str]:
    """The regulated topics a changed clause's sentences are about. Of a clause that is gone, only
    how long data is kept and the user's rights count: dropping what it said about those takes a
    limit or a way to act away, while a dropped sentence on what is collected, shared or
    transferred says less is done (an added clause is left to the detectors, which name what it adds)."""
    topics = regulated_topics(before, after, locale, lead)
    return topics if after else [t for t in topics if t in ("retention", "rights")]


def _prose_changes(old_prose: _Prose, new_prose: _Prose, new: Policy, old: Policy | None = None) -> list[Change]:
    old_texts, new_texts = old_prose.texts, new_prose.texts
    context = (old_prose, new_prose)
    whole = _document_change(old_prose, new_prose)
    if whole is not None:
        return [whole]
    changes: list[Change] = []
    # Once per diff, not once per changed clause: a section set per clause made the diff quadratic.
    new_headings, old_headings = _headings(new), (_headings(old) if old is not None else set())
    common = [c for c in new_texts if c in old_texts]
    in_place = _in_place(common, {c: i for i, c in enumerate(old_texts)})
    for clause in common:
        before, after = old_texts[clause], new_texts[clause]
        moved = clause not in in_place
        if not moved and before == after:
            continue  # the common case: nothing to compute for an unchanged clause
        topics = old_prose.topics(clause) | new_prose.topics(clause)
        if moved:
            details = {"edit": "editorial", "topics": sorted(topics)}
            if before != after:
                details = _prose_details(before, after, new, topics, old, context, new_prose.lead(clause))
            changes.append(Change("clause", "moved", clause, None, before, after, details, (clause,)))
        else:
            details = _prose_details(before, after, new, topics, old, context, new_prose.lead(clause))
            if clause in new_headings and details["edit"] == "substantive" and "finding" not in details:
                details["edit"], details["editorial"] = "editorial", "a heading"  # a heading names a section; it promises nothing
            changes.append(Change("clause", "changed", clause, None, before, after, details, (clause,)))
    gone = [c for c in old_texts if c not in new_texts]
    fresh = [c for c in new_texts if c not in old_texts]
    pairs = _pair_by_similarity(gone, fresh, old_texts, new_texts)
    for old_id, new_id in pairs:
        before, after = old_texts[old_id], new_texts[new_id]
        topics = old_prose.topics(old_id) | new_prose.topics(new_id)
        if before != after:
            details = _prose_details(before, after, new, topics, old, context, new_prose.lead(new_id))
        else:
            details = {"edit": "editorial", "topics": sorted(topics)}
        details["old_id"] = old_id
        changes.append(Change("clause", "renamed", new_id, None, before, after, details, (new_id,)))
    paired_old = {o for o, _n in pairs}
    paired_new = {n for _o, n in pairs}
    unpaired_old = [c for c in gone if c not in paired_old]
    unpaired_new = [c for c in fresh if c not in paired_new]
    regrouped = _regrouped(unpaired_old, unpaired_new, old_texts, new_texts)
    counterpart = {c: c for c in common} | {n: o for o, n in pairs}
    splits, merges = _split_and_merged([c for c in unpaired_old if c not in {s for _k, srcs in regrouped.values() for s in srcs}],
                                       [c for c in unpaired_new if c not in regrouped], counterpart, old_texts, new_texts,
                                       new_headings | old_headings)
    replaced = {p for _m, _o, group in splits for p in group} | {new_id for new_id, _o, _group in merges}
    changes = [c for c in changes if c.id not in replaced]
    for main, old_id, parts in splits:
        before, after = old_texts[old_id], "\n".join(new_texts[c] for c in parts)
        details = _prose_details(before, after, new, old_prose.topics(old_id) | new_prose.topics(main), old, context, new_prose.lead(main))
        details |= {"old_id": old_id, "parts": parts}
        if details["edit"] == "editorial":
            details["editorial"] = f"text of {old_id} split into {', '.join(parts)} ({details.get('editorial', 'no visible change')})"
        changes.append(Change("clause", "split", main, None, before, after, details, tuple(parts)))
        for part in [p for p in parts if p != main]:
            changes.append(Change("clause", "split", part, None, None, new_texts[part],
                                  {"edit": "editorial", "editorial": f"part of the text of {old_id}, split into {', '.join(parts)}",
                                   "topics": [], "old_id": old_id}, (part,)))
    for new_id, old_main, sources in merges:
        before, after = "\n".join(old_texts[c] for c in sources), new_texts[new_id]
        details = _prose_details(before, after, new, old_prose.topics(old_main) | new_prose.topics(new_id), old, context, new_prose.lead(new_id))
        details |= {"old_id": old_main, "old_ids": sources}
        if details["edit"] == "editorial":
            details["editorial"] = f"text of {', '.join(sources)} merged ({details.get('editorial', 'no visible change')})"
        changes.append(Change("clause", "merged", new_id, None, before, after, details, (new_id,)))
        for source in [s for s in sources if s != old_main]:
            # Reported under its old ID (old_id names it too), so nothing shows it as deleted.
            changes.append(Change("clause", "merged", source, None, old_texts[source], None,
                                  {"edit": "editorial", "editorial": f"text merged into {new_id}",
                                   "topics": [], "old_id": source}, (new_id,)))
    taken_new = {p for _m, _o, parts in splits for p in parts}
    taken_old = {s for _n, _o, sources in merges for s in sources} | {o for _m, o, _parts in splits}
    for clause in unpaired_new:
        if clause in taken_new:
            continue
        if clause in regrouped:
            kind, sources = regrouped[clause]
            changes.append(Change("clause", kind, clause, None, "\n".join(old_texts[s] for s in sources), new_texts[clause],
                                  {"edit": "editorial", "editorial": f"text of {', '.join(sources)} regrouped", "topics": [], "old_id": sources[0]},
                                  (clause,)))
            continue
        details = _prose_details("", new_texts[clause], new, new_prose.topics(clause), None, context, new_prose.lead(clause))
        if details.get("editorial") is None:
            details["edit"] = "substantive"
        if clause in new_headings and "finding" not in details:
            details["edit"], details["editorial"] = "editorial", "a heading"
        changes.append(Change("clause", "added", clause, None, None, new_texts[clause], details, (clause,)))
    for clause in unpaired_old:
        if clause in regrouped or clause in taken_old:
            continue
        details = {"edit": "substantive", "topics": sorted(old_prose.topics(clause))}
        _add_findings(details, old_texts[clause], "", context, lead=old_prose.lead(clause))
        if clause in old_headings and "finding" not in details:
            details["edit"], details["editorial"] = "editorial", "a heading"
        changes.append(Change("clause", "removed", clause, None, old_texts[clause], None, details, (clause,)))
    return changes


def _headings(policy: Policy) -> set[str]:
    """The title and the section IDs: their text names a part of the policy."""
    return {policy.document.title.clause, *(section.id for section in policy.document.sections)}


MIN_WORDS = 10
"""A version with fewer words of text is not a policy (a crawl failure, a page of navigation)."""
TRUNCATED = 0.2
"""A new version with less than this share of the old one's words (of 300 or more) is reported as cut short."""


def _document_change(old_prose: _Prose, new_prose: _Prose) -> Change | None:
    """One change for a new version that is not a policy or far shorter, instead of hundreds of
    removals, or for an old version that is not a policy, instead of hundreds of additions."""
    old_words, new_words = old_prose.document.words, new_prose.document.words
    if new_words < MIN_WORDS <= old_words:
        text = " ".join(new_prose.document.text.split())[:80]
        return Change("document", "not-a-policy", None, None, old_words, new_words,
                      {"quote": text, "topics": []})
    if old_words < MIN_WORDS <= new_words:
        # The old version is the crawl failure: every clause and fact of the new one would be "added".
        text = " ".join(old_prose.document.text.split())[:80]
        return Change("document", "old-not-a-policy", None, None, old_words, new_words, {"quote": text, "topics": []})
    if old_words >= 300 and new_words < old_words * TRUNCATED:
        return Change("document", "truncated", None, None, old_words, new_words, {"quote": f"{new_words} of {old_words} words", "topics": []})
    return None


PART_OF = 0.6
"""A clause is part of another when at least this share of its words stand there in order."""


def _best_run(pieces: list[str], position: dict[str, int], text: str, texts: dict[str, str]) -> list[str] | None:
    """Of the runs of consecutive ``pieces`` (by ``position``), the one of two or more whose
    texts joined are most alike ``text``, if alike enough to be its parts (a split read one way,
    a merge the other); else None."""
    runs: list[list[str]] = []
    for piece in pieces:
        if runs and position[piece] == position[runs[-1][-1]] + 1:
            runs[-1].append(piece)
        else:
            runs.append([piece])
    best = max((r for r in runs if len(r) > 1), key=lambda r: _ratio(text, "\n".join(texts[c] for c in r)), default=None)
    if best and _ratio(text, "\n".join(texts[c] for c in best)) >= RENAME_SIMILARITY:
        return best
    return None


def _split_and_merged(gone: list[str], fresh: list[str], counterpart: dict[str, str], old_texts: dict[str, str], new_texts: dict[str, str],
                      headings: set[str]) -> tuple[list[tuple[str, str, list[str]]], list[tuple[str, str, list[str]]]]:
    """Clauses split or merged with edits, found by text similarity: an old clause whose words now
    stand in two or more consecutive new clauses, or the reverse.

    ``gone`` and ``fresh`` are the old and new clauses nothing else accounts for; ``counterpart``
    maps the others (same ID, renamed) from new to old. Returns the splits as (main new clause,
    old clause, new parts in order) and the merges as (new clause, main old clause, old sources
    in order); the main clause carries the comparison of the whole texts."""
    new_order, old_order = list(new_texts), list(old_texts)
    new_at, old_at = {c: i for i, c in enumerate(new_order)}, {c: i for i, c in enumerate(old_order)}
    split_of: dict[str, str] = {}  # new clause -> the old clause it is a part of
    parts: dict[str, list[str]] = {}  # old clause -> its new parts, in order
    fresh_set = {c for c in fresh if c not in headings}
    # 1. A new clause next to the new version of an old one, made of that old clause's words.
    for clause in [c for c in new_order if c in fresh_set]:
        for step in (-1, 1):
            at = new_at[clause] + step
            neighbour = new_order[at] if 0 <= at < len(new_order) else None
            old_id = split_of.get(neighbour, counterpart.get(neighbour)) if neighbour else None
            if neighbour is None or old_id is None or neighbour in headings or old_id in headings:
                continue
            group = parts.get(old_id) or [neighbour]
            candidate = sorted([*group, clause], key=new_at.__getitem__)
            if _part_of(new_texts[clause], old_texts[old_id]) and _closer(old_texts[old_id], group, candidate, new_texts):
                parts[old_id] = candidate
                split_of[clause] = old_id
                break
    # 2. An old clause no new one continues, whose words stand in a run of consecutive new clauses.
    fresh_ordered = sorted(fresh_set, key=new_at.__getitem__)
    gone_ordered = sorted((c for c in gone if c not in headings), key=old_at.__getitem__)
    near = _sharing_grams(gone_ordered, fresh_ordered, old_texts, new_texts)
    for old_id in gone_ordered:
        pieces = [c for c in fresh_ordered if c not in split_of and c in near.get(old_id, ()) and _part_of(new_texts[c], old_texts[old_id])]
        best = _best_run(pieces, new_at, old_texts[old_id], new_texts)
        if best:
            parts[old_id] = best
            split_of.update(dict.fromkeys(best, old_id))
    splits = [(next((c for c in group if counterpart.get(c) == old_id), group[0]), old_id, group) for old_id, group in parts.items() if len(group) > 1]
    # Merges: the same, with old and new swapped.
    merged_into: dict[str, str] = {}
    sources: dict[str, list[str]] = {}
    origin = {old: new for new, old in counterpart.items()}
    gone_set = {c for c in gone if c not in headings}
    for clause in [c for c in old_order if c in gone_set]:
        for step in (-1, 1):
            at = old_at[clause] + step
            neighbour = old_order[at] if 0 <= at < len(old_order) else None
            new_id = merged_into.get(neighbour, origin.get(neighbour)) if neighbour else None
            if (neighbour is None or new_id is None or neighbour in headings or new_id in headings or new_id in split_of
                    or new_id in {m for m, _o, _g in splits}):
                continue
            group = sources.get(new_id) or [neighbour]
            candidate = sorted([*group, clause], key=old_at.__getitem__)
            if _part_of(old_texts[clause], new_texts[new_id]) and _closer(new_texts[new_id], group, candidate, old_texts):
                sources[new_id] = candidate
                merged_into[clause] = new_id
                break
    for new_id in [c for c in fresh if c in fresh_set and c not in split_of]:
        pieces = [c for c in gone_ordered if c not in merged_into and c not in parts and new_id in near.get(c, ())
                  and _part_of(old_texts[c], new_texts[new_id])]
        best = _best_run(pieces, old_at, new_texts[new_id], old_texts)
        if best:
            sources[new_id] = best
            merged_into.update(dict.fromkeys(best, new_id))
    merges = [(new_id, counterpart.get(new_id, group[0]) if counterpart.get(new_id) in group else group[0], group)
              for new_id, group in sources.items() if len(group) > 1]
    return splits, merges


def _sharing_grams(gone: list[str], fresh: list[str], old_texts: dict[str, str], new_texts: dict[str, str]) -> dict[str, set[str]]:
    """Old clause -> the new clauses that share a rare run of three words with it: a part of a
    clause shares many, so only these pairs are compared (not every old clause with every new one)."""
    index: dict[tuple[str, ...], list[str]] = {}
    for new_id in fresh:
        tokens = _tokens(new_texts[new_id])
        for gram in {tokens[i : i + 3] for i in range(len(tokens) - 2)}:
            index.setdefault(gram, []).append(new_id)
    common = max(8, len(fresh) // 20)
    near: dict[str, set[str]] = {}
    for old_id in gone:
        tokens = _tokens(old_texts[old_id])
        for gram in {tokens[i : i + 3] for i in range(len(tokens) - 2)}:
            holders = index.get(gram, ())
            if len(holders) <= common:
                near.setdefault(old_id, set()).update(holders)
    return near


def _part_of(part: str, whole: str) -> bool:
    """Most of ``part``'s words (at least three) stand in ``whole``, in order."""
    a, b = _tokens(part), _tokens(whole)
    if len(a) < 3 or len(a) > len(b) * 1.2 or len(_vocabulary(part) & _vocabulary(whole)) < PART_OF * len(_vocabulary(part)):
        return False
    # The words the two have in common, counted as difflib's quick_ratio counts them, but from the
    # counts of each text (kept): quick_ratio walks the whole text on every call, and a long clause
    # read as the whole of hundreds of small ones (a policy that is one list in one version and
    # paragraphs in the other) took seconds.
    counts, whole_counts = _counts(part), _counts(whole)
    if sum(min(n, whole_counts.get(w, 0)) for w, n in counts.items()) < PART_OF * len(a):
        return False
    matcher = difflib.SequenceMatcher(None, autojunk=False)
    matcher.set_seq2(a)
    if len(b) > 4 * len(a) + 50:
        # Matching walks the whole text too: first only the stretch of it where the part's rarest
        # words stand. A part found there is a part; one not found there is looked for everywhere.
        start, end = _stretch(a, whole)
        if end > start:
            matcher.set_seq1(b[start:end])
            if sum(block.size for block in matcher.get_matching_blocks()) >= PART_OF * len(a):
                return True
    matcher.set_seq1(b)
    return sum(block.size for block in matcher.get_matching_blocks()) >= PART_OF * len(a)


def _stretch(part: tuple[str, ...], whole: str) -> tuple[int, int]:
    """Where in ``whole``'s words ``part`` most likely stands: the window of twice its length that
    holds most places of its rarest words there, widened by half its length on each side."""
    at = _positions(whole)
    rare = sorted({w for w in part if w in at}, key=lambda w: (len(at[w]), w))[:8]
    places = sorted(p for w in rare for p in at[w])
    if not places:
        return 0, 0
    span, best, first = 2 * len(part), (0, 0), 0
    for last, place in enumerate(places):
        while place - places[first] > span:
            first += 1
        if last - first + 1 > best[0]:
            best = (last - first + 1, places[first])
    return max(0, best[1] - len(part) // 2), best[1] + span + len(part) // 2


@lru_cache(maxsize=64)
def _positions(text: str) -> dict[str, list[int]]:
    at: dict[str, list[int]] = {}
    for i, token in enumerate(_tokens(text)):
        at.setdefault(token, []).append(i)
    return at


def _closer(whole: str, group: list[str], candidate: list[str], texts: dict[str, str]) -> bool:
    """Joining one more clause to ``group`` makes it closer to ``whole``."""
    return _ratio(whole, "\n".join(texts[c] for c in candidate)) > _ratio(whole, "\n".join(texts[c] for c in group))


def _ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, _tokens(a), _tokens(b), autojunk=False).ratio()


@lru_cache(maxsize=4096)
def _tokens(text: str) -> tuple[str, ...]:
    """A clause's words, lowercase (each clause is compared with several candidates)."""
    return tuple(w.lower() for w in words(text) if w[0].isalnum())


@lru_cache(maxsize=4096)
def _vocabulary(text: str) -> frozenset[str]:
    return frozenset(_tokens(text))


@lru_cache(maxsize=4096)
def _counts(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for token in _tokens(text):
        counts[token] = counts.get(token, 0) + 1
    return counts


def _regrouped(gone: list[str], fresh: list[str], old_texts: dict[str, str], new_texts: dict[str, str]) -> dict[str, tuple[str, list[str]]]:
    """New clauses made only of the sentences of vanished ones: ``split`` (one old clause into
    several new ones) or ``merged`` (several old clauses into one). New clause -> (kind, old clauses)."""
    if not gone or not fresh:
        return {}
    owner: dict[str, str] = {}
    for old_id in gone:
        for sentence in _sentence_keys(old_texts[old_id]):
            owner.setdefault(sentence, old_id)
    found: dict[str, tuple[str, list[str]]] = {}
    uses: dict[str, int] = {}
    for new_id in fresh:
        keys = _sentence_keys(new_texts[new_id])
        if not keys or any(k not in owner for k in keys):
            continue
        sources = sorted({owner[k] for k in keys}, key=gone.index)
        found[new_id] = ("merged" if len(sources) > 1 else "split", sources)
        for source in sources:
            uses[source] = uses.get(source, 0) + 1
    # Only old clauses whose text went entirely into new ones are accounted for.
    covered = {k for new_id in found for k in _sentence_keys(new_texts[new_id])}
    complete = {o for o in gone if _sentence_keys(old_texts[o]) and all(k in covered for k in _sentence_keys(old_texts[o]))}
    return {n: (("split" if uses.get(srcs[0], 0) > 1 and kind == "split" else kind), srcs) for n, (kind, srcs) in found.items()
            if all(s in complete for s in srcs)}


@lru_cache(maxsize=4096)  # asked about each vanished clause's text several times
def _sentence_keys(text: str) -> tuple[str, ...]:
    return tuple(k for k in (" ".join(_WORDS.findall(s.lower())) for s in _SENTENCE_BREAK.split(plain(text))) if k)


_WORDS = re.compile(r"\w+")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?;:])\s+|\n+")


def _in_place(common: list[str], old_position: dict[str, int]) -> set[str]:
    """The clauses that kept their relative order: the longest increasing run of old positions.

    Every other common clause moved. Patience sorting finds it in O(n log n).
    """
    tails: list[int] = []  # tails[k]: index in ``common`` ending the best run of length k + 1
    tail_positions: list[int] = []  # their old positions, kept sorted for bisect
    previous: list[int] = [-1] * len(common)
    for i, clause in enumerate(common):
        position = old_position[clause]
        k = bisect.bisect_left(tail_positions, position)
        if k > 0:
            previous[i] = tails[k - 1]
        if k == len(tails):
            tails.append(i)
            tail_positions.append(position)
        else:
            tails[k] = i
            tail_positions[k] = position
    kept: set[str] = set()
    at = tails[-1] if tails else -1
    while at >= 0:
        kept.add(common[at])
        at = previous[at]
    return kept


def _pair_by_similarity(gone: list[str], fresh: list[str], old_texts: dict[str, str], new_texts: dict[str, str]) -> list[tuple[str, str]]:
    """Pair vanished clauses with new ones whose text is close enough, best pairs first.

    Comparing every vanished clause with every new one is quadratic in the number of changes.
    Instead, clauses are indexed by their word 3-grams: only pairs that share some are
    compared, and only the few best candidates of each new clause. Identical texts pair first.
    """
    if not gone or not fresh:
        return []
    pairs: list[tuple[str, str]] = []
    used_old: set[str] = set()
    used_new: set[str] = set()
    by_text: dict[str, list[str]] = {}
    for old_id in gone:
        by_text.setdefault(old_texts[old_id], []).append(old_id)
    for new_id in fresh:
        same = by_text.get(new_texts[new_id])
        if same:
            old_id = same.pop(0)
            pairs.append((old_id, new_id))
            used_old.add(old_id)
            used_new.add(new_id)
    old_words = {o: _pairing_words(old_texts[o]) for o in gone if o not in used_old}
    index: dict[tuple[str, ...], list[str]] = {}
    for old_id, tokens in old_words.items():
        for gram in set(_grams(tokens)):
            index.setdefault(gram, []).append(old_id)
    common = max(8, len(old_words) // 20)  # a 3-gram in many clauses tells nothing apart
    candidates = []
    for new_id in fresh:
        if new_id in used_new:
            continue
        tokens = _pairing_words(new_texts[new_id])
        shared: dict[str, int] = {}
        for gram in set(_grams(tokens)):
            holders = index.get(gram, ())
            if len(holders) <= common:
                for old_id in holders:
                    shared[old_id] = shared.get(old_id, 0) + 1
        best = sorted(shared.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
        if not best:
            continue  # no candidate: no matcher to make (it indexes the clause's words)
        matcher = difflib.SequenceMatcher(None, autojunk=False)
        matcher.set_seq2(tokens)
        for old_id, _count in best:
            matcher.set_seq1(old_words[old_id])
            # real_quick_ratio (the lengths alone) first: quick_ratio walks the old text, and a long
            # old clause is a candidate of every small new one made of its words.
            if matcher.real_quick_ratio() < RENAME_SIMILARITY or matcher.quick_ratio() < RENAME_SIMILARITY:
                continue
            ratio = matcher.ratio()
            if ratio >= RENAME_SIMILARITY:
                candidates.append((-ratio, old_id, new_id))
    for _neg, old_id, new_id in sorted(candidates):
        if old_id not in used_old and new_id not in used_new:
            pairs.append((old_id, new_id))
            used_old.add(old_id)
            used_new.add(new_id)
    return sorted(pairs, key=lambda p: p[1])


_WEB = re.compile(r"\]\([^)]*\)|(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}\b(?:/\S*)?", re.I)
"""Link targets and web addresses (a bare domain too): "xing.com: [https://...](https://...)"."""


_HIDDEN = re.compile(f"[{INVISIBLE}]" + r"|\\(?=[^\w\s])")
"""Characters no reader sees, and the backslashes that escape markup ("\\_")."""


def _pairing_words(text: str) -> list[str]:
    """The words a clause is paired by: its text without link targets and web addresses, which a
    new version may change all at once (a list of opt-out links moved to another host) while the
    words around them stay. A text of addresses alone is paired by them. Invisible characters,
    escapes and underscores at a word's ends (emphasis a crawl left unclosed: "\\_Contact\\_") are
    not words: a heading that gains them is the same heading."""
    shown = _HIDDEN.sub("", text)
    return [w for w in (t.strip("_") for t in words(_WEB.sub(" ", shown)) or words(shown)) if w]


def _grams(tokens: list[str]) -> list[tuple[str, ...]]:
    lowered = [t.lower() for t in tokens if t[0].isalnum() or t.startswith("{{")]
    if len(lowered) < 3:
        return [tuple(lowered)] if lowered else []
    return [tuple(lowered[i : i + 3]) for i in range(len(lowered) - 2)]
