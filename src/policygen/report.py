"""Report stage: two project versions -> graded change reports, notices and redlines.

Takes two project folders (a path, or ``git:REV`` for the project as it was in a commit),
loads both, diffs each policy they share (:mod:`policygen.diff`), grades the changes
(:mod:`policygen.classify`) and produces what people and machines read:

* a JSON change report (schema: ``docs/schema/change-report.schema.json``);
* notice texts for every locale, from translatable templates (``data/notices/*.po``): a banner
  line and an e-mail listing the major changes in plain words;
* a redline page per locale: the new text with word-level insertions and deletions, Khmer
  split into words by a segmenter rather than at spaces, the major changes summarised on top.
"""

from __future__ import annotations

import contextlib
import html
import io
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po
from markupsafe import Markup

from . import __version__
from .catalogs import Translations, load_translations
from .classify import RANK, SEVERITIES, Graded, classify, load_rules, overall, source_labels
from .diff import Change, diff_policies
from .errors import Collector, PolicygenError
from .load import load_project
from .localize import Formatter, LocalizedPolicy, localize, plain_text
from .model import Duration, Policy, Project
from .render_html import environment, render_template

REPORT_VERSION = 1


@dataclass
class PolicyReport:
    """The graded differences of one policy between two versions."""

    policy_id: str
    old: Policy
    new: Policy
    old_project: Project
    new_project: Project
    graded: list[Graded]
    old_translations: Translations
    new_translations: Translations

    @property
    def severity(self) -> str | None:
        return overall(self.graded)

    @property
    def major(self) -> list[Graded]:
        return [g for g in self.graded if g.severity == "major"]


# --- where the two versions come from ------------------------------------------------------------


@contextlib.contextmanager
def checkout(spec: str, base: Path) -> Iterator[tuple[Path, str]]:
    """A project folder for ``spec``: a path as it is, or ``git:REV`` extracted from git.

    ``base`` is the project folder the command runs in; ``git:REV`` means that same folder as
    it was at revision REV of its repository.
    """
    if "@" in spec and not spec.startswith("git:") and not Path(spec).exists():
        from .archive import materialize, releases
        from .load import load_project

        policy, _, version = spec.partition("@")
        project = load_project(base)
        found = next((r for r in releases(project.root, policy) if r.version == version), None)
        if found is None:
            known = ", ".join(r.version for r in releases(project.root, policy)) or "none"
            raise PolicygenError(f"{spec}: no archived release {version} of {policy} (released: {known})")
        with materialize(found, project) as root:
            yield root, spec
        return
    if not spec.startswith("git:"):
        yield Path(spec), spec
        return
    revision = spec[4:]
    if not revision or revision.startswith("-"):
        raise PolicygenError(f"'{spec}' names no revision; write git:HEAD~1, git:v2.0 or git:<commit>")
    try:
        top = subprocess.run(["git", "-C", str(base), "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=True).stdout.strip()
        relative = base.resolve().relative_to(Path(top).resolve()).as_posix()
        archive = subprocess.run(["git", "-C", top, "archive", "--format=tar", revision, "--", relative if relative != "." else "."],
                                 capture_output=True, check=True).stdout
    except FileNotFoundError:
        raise PolicygenError("git is not installed; compare two folders instead of git revisions") from None
    except subprocess.CalledProcessError as exc:
        message = (exc.stderr.decode() if isinstance(exc.stderr, bytes) else exc.stderr or "").strip().splitlines()
        raise PolicygenError(f"{spec}: git could not provide this revision of {base}: {message[-1] if message else exc}") from None
    with tempfile.TemporaryDirectory(prefix="policygen-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        yield Path(tmp) / relative, spec


def compare(old_root: Path, new_root: Path, policies: list[str] | None = None) -> list[PolicyReport]:
    """Diff and grade every policy both versions have (or the selected ones)."""
    old_project = load_project(old_root)
    new_project = load_project(new_root)
    wanted = policies if policies is not None else sorted(set(old_project.policies) | set(new_project.policies))
    errors = Collector()
    for ident in wanted:
        if ident not in old_project.policies or ident not in new_project.policies:
            side = "old" if ident not in old_project.policies else "new"
            errors.add(new_root / "sources" / ident, 0, f"policy '{ident}' is not in the {side} version; a diff needs it in both")
    errors.raise_if_any()
    old_tr = load_translations(old_project, None, Collector())
    new_tr = load_translations(new_project, None, Collector())
    rules = load_rules(new_project)
    labels = source_labels(old_project) | source_labels(new_project)
    reports = []
    for ident in wanted:
        old, new = old_project.policies[ident], new_project.policies[ident]
        graded = classify(diff_policies(old, new), rules, labels)
        reports.append(PolicyReport(ident, old, new, old_project, new_project, graded, old_tr, new_tr))
    return reports


def worst(reports: list[PolicyReport]) -> str | None:
    return max((r.severity for r in reports if r.severity), key=RANK.__getitem__, default=None)


# --- JSON ------------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def report_json(reports: list[PolicyReport], old_label: str, new_label: str) -> dict[str, Any]:
    """The change report, as documented by ``docs/schema/change-report.schema.json``."""
    return {
        "report_version": REPORT_VERSION,
        "generator": f"policygen {__version__}",
        "from": old_label,
        "to": new_label,
        "severity": worst(reports),
        "reports": [_policy_json(r) for r in reports],
    }


def _policy_json(report: PolicyReport) -> dict[str, Any]:
    counts = {name: sum(1 for g in report.graded if g.severity == name) for name in SEVERITIES}
    return {
        "policy": report.policy_id,
        "from": {"version": report.old.version, "effective_date": report.old.effective_date.isoformat()},
        "to": {"version": report.new.version, "effective_date": report.new.effective_date.isoformat()},
        "severity": report.severity,
        "counts": counts,
        "changes": [
            {
                "path": g.change.path, "subject": g.change.subject, "kind": g.change.kind, "id": g.change.id,
                "field": g.change.field, "severity": g.severity, "rule": g.rule.id, "basis": g.rule.basis,
                "reason": g.reason, "before": _jsonable(g.change.before), "after": _jsonable(g.change.after),
                "clauses": list(g.change.clauses),
            }
            for g in sorted(report.graded, key=lambda g: (-RANK[g.severity], g.change.path, g.change.kind))
        ],
        "notices": {loc: notices(report, loc) for loc in report.new.locales},
    }


# --- notices ---------------------------------------------------------------------------------


@cache
def _templates(locale: str) -> dict[str, str]:
    """Notice templates for ``locale``: the English msgids, or the catalog's translations."""
    folder = resources.files("policygen").joinpath("data", "notices")
    with folder.joinpath("notices.pot").open("rb") as handle:
        english = {m.context: str(m.id) for m in read_po(handle) if m.id}
    if locale == "en":
        return english
    with folder.joinpath(f"{locale}.po").open("rb") as handle:
        translated = {m.context: m.string for m in read_po(handle, locale=locale) if m.id and m.string and not m.fuzzy}
    return {key: translated.get(key, value) for key, value in english.items()}


def template(locale: str, key: str) -> str:
    return _templates(locale)[key]


def _localized_fields(change: Change, fmt: Formatter) -> dict[str, str]:
    """The fields a notice template may use, in the notice's language."""
    subject, ident, details = change.subject, change.id, change.details

    def label(kind: str, item: str) -> str:
        try:
            return fmt.label(kind, item)[0]
        except KeyError:
            return item

    list_kind = {"data": "data_category", "recipients": "recipient", "purposes": "purpose"}.get(change.field or "", "data_category")

    def value(v: Any) -> str:
        if isinstance(v, str) and v.startswith("P") and v[1:-1].isdigit():
            return fmt.duration(Duration.parse(v))
        if isinstance(v, int) and not isinstance(v, bool):
            return fmt.number(v)
        if isinstance(v, (list, tuple)):
            return fmt.list_of([label(list_kind, x) for x in v])
        return "" if v is None else str(v)

    if subject in ("data_category", "purpose", "recipient", "right") and ident:
        main = label(subject, ident)
    elif subject == "retention" and ident:
        retention = next((r for r in fmt.policy.facts.retention if r.id == ident), None)
        main = fmt.list_of([label("data_category", d) for d in retention.data]) if retention else ident
    else:
        main = ident or ""
    country = details.get("country") or ""
    return {
        "label": main, "id": ident or "", "field": change.field or "", "before": value(change.before), "after": value(change.after),
        "added": fmt.list_of([label(list_kind, x) for x in details.get("added", [])]),
        "removed": fmt.list_of([label(list_kind, x) for x in details.get("removed", [])]),
        "country": fmt.babel.territories.get(country, country), "subject": subject, "topics": "", "old_id": details.get("old_id", ""),
    }


def notice_lines(report: PolicyReport, locale: str) -> list[str]:
    """One plain sentence per major change, in ``locale``; duplicates merged."""
    fmt = Formatter(report.new_project, report.new, locale, report.new_translations)
    lines: list[str] = []
    for graded in report.major:
        text = graded.rule.notice.get(locale) or graded.rule.notice.get("en")
        if text is None:
            text = _templates(locale).get(graded.rule.id) or graded.reason
        line = text.format(**_localized_fields(graded.change, fmt))
        if line not in lines:
            lines.append(line)
    return lines


def notices(report: PolicyReport, locale: str) -> dict[str, Any]:
    """Banner and e-mail texts for users, in ``locale``, listing the major changes."""
    fmt = Formatter(report.new_project, report.new, locale, report.new_translations)
    localized = localize(report.new_project, report.new, locale, report.new_translations, Collector())
    title = localized.title_text
    when = fmt.date(report.new.effective_date)
    lines = notice_lines(report, locale)
    base = report.new_project.config.base_url
    url = f"{base}{report.policy_id}/{locale}/" if base else ""
    facts = report.new.facts
    contact = facts.controller.email or next((c.value for c in facts.contacts if c.kind == "email"), "") or facts.controller.url or ""
    body = template(locale, "email.body").format(
        title=title, date=when, changes="\n".join(f"- {line}" for line in lines),
        link=template(locale, "email.link").format(url=url) if url else "", contact=contact, controller=facts.controller.name,
    )
    return {
        "banner": template(locale, "banner").format(title=title, date=when) if lines else "",
        "items": lines,
        "email_subject": template(locale, "email.subject").format(title=title, date=when) if lines else "",
        "email_body": body if lines else "",
    }


# --- redline ---------------------------------------------------------------------------------


def tokenize(text: str, locale: str) -> list[str]:
    """Words for a word-level diff. Khmer has no spaces: a segmenter finds its words."""
    import re

    if locale == "km":
        from khmercut import tokenize as khmer_words

        tokens: list[str] = []
        for part in re.split(r"(\s+)", text):
            if not part:
                continue
            if part.isspace() or not any("\u1780" <= ch <= "\u17ff" for ch in part):
                tokens.extend(re.findall(r"\s+|\w+|[^\w\s]", part) if not part.isspace() else [part])
            else:
                tokens.extend(khmer_words(part))
        return tokens
    return re.findall(r"\s+|\w+|[^\w\s]", text)


def word_diff(before: str, after: str, locale: str, labels: tuple[str, str]) -> Markup:
    """``after`` with insertions and deletions marked, not by colour alone."""
    import difflib

    a, b = tokenize(before, locale), tokenize(after, locale)
    inserted, deleted = labels
    out = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            out.append(html.escape("".join(b[j1:j2])))
            continue
        if i2 > i1:
            out.append(f'<del><span class="pg-sr">[{html.escape(deleted)}: </span>{html.escape("".join(a[i1:i2]))}<span class="pg-sr">]</span></del>')
        if j2 > j1:
            out.append(f'<ins><span class="pg-sr">[{html.escape(inserted)}: </span>{html.escape("".join(b[j1:j2]))}<span class="pg-sr">]</span></ins>')
    return Markup("".join(out).replace("\n", "<br>\n"))


def _clause_texts(localized: LocalizedPolicy) -> tuple[dict[str, str], set[str]]:
    """Clause ID -> its text as a reader of this locale sees it (facts filled in), and the
    clauses shown in the source language because they are not translated."""
    texts: dict[str, list[str]] = {}
    fallback: set[str] = set()
    for segment in (localized.policy.document.title, *localized.policy.document.segments):
        token = localized.segment_tokens[segment.context]
        if (token.meta or {}).get("lang"):
            fallback.add(segment.clause)
        fmt = localized.source_formatter if (token.meta or {}).get("lang") else localized.formatter
        texts.setdefault(segment.clause, []).append(plain_text(token.children or [], fmt))
    return {clause: "\n".join(parts) for clause, parts in texts.items()}, fallback


def redline(report: PolicyReport, locale: str) -> bytes:
    """The comparison page of one policy in one locale."""
    collector = Collector()
    old_locale = locale if locale in report.old.locales else report.old.source_locale
    old = localize(report.old_project, report.old, old_locale, report.old_translations, collector)
    new = localize(report.new_project, report.new, locale, report.new_translations, collector)
    (old_texts, _), (new_texts, untranslated) = _clause_texts(old), _clause_texts(new)
    # A clause the new version has not translated yet is compared in the source language:
    # old translation against new source text would mark every word as changed.
    source = report.new.source_locale
    if untranslated and locale != source:
        old_source, _ = _clause_texts(localize(report.old_project, report.old, report.old.source_locale, report.old_translations, collector))
    else:
        old_source = {}
    by_clause = {g.change.id: g for g in report.graded if g.change.subject == "clause"}
    fact_marks: dict[str, str] = {}
    for g in report.graded:
        if g.change.subject != "clause":
            for clause in g.change.clauses:
                if clause not in fact_marks or RANK[g.severity] > RANK[fact_marks[clause]]:
                    fact_marks[clause] = g.severity
    marks = (template(locale, "redline.inserted"), template(locale, "redline.deleted"))
    levels = {s.id: s.level for s in report.new.document.sections}
    old_levels = {s.id: s.level for s in report.old.document.sections}
    blocks = []
    for clause, text in new_texts.items():
        graded = by_clause.get(clause)
        old_id = graded.change.details.get("old_id", clause) if graded else clause
        lang = source if clause in untranslated and locale != source else None
        previous = (old_source if lang else old_texts).get(old_id)
        severity = graded.severity if graded else fact_marks.get(clause)
        if previous is None:
            body = word_diff("", text, lang or locale, marks)
        elif previous != text:
            body = word_diff(previous, text, lang or locale, marks)
        else:
            body = Markup(html.escape(text).replace("\n", "<br>\n"))
        blocks.append({"id": clause, "level": levels.get(clause), "html": body, "severity": severity, "removed": False, "lang": lang})
    # Removed clauses go where they stood, after the clause that preceded them.
    order = [b["id"] for b in blocks]
    for graded in report.graded:
        if graded.change.subject == "clause" and graded.change.kind == "removed" and graded.change.id in old_texts:
            old_ids = list(old_texts)
            index = old_ids.index(graded.change.id)
            anchor = next((c for c in reversed(old_ids[:index]) if c in order), None)
            at = order.index(anchor) + 1 if anchor else 0
            blocks.insert(at, {"id": graded.change.id, "level": old_levels.get(graded.change.id), "removed": True,
                               "html": word_diff(old_texts[graded.change.id], "", locale, marks), "severity": graded.severity, "lang": None})
            order.insert(at, graded.change.id)
    fmt = new.formatter
    context = {
        "locale": locale, "dir": new.direction,
        "title": template(locale, "redline.title").format(title=new.title_text, old=report.old.version, new=report.new.version),
        "effective": template(locale, "redline.effective").format(date=fmt.date(report.new.effective_date)),
        "summary_heading": template(locale, "redline.summary"), "none": template(locale, "redline.none"),
        "text_heading": template(locale, "redline.text"), "all_heading": template(locale, "redline.all"),
        "legend": template(locale, "redline.legend"), "removed_label": template(locale, "redline.removed-clause"),
        "untranslated_label": fmt.ui("untranslated_short"),
        "major": notice_lines(report, locale),
        "severity_names": {s: template(locale, f"severity.{s}") for s in SEVERITIES},
        "changes": [{"severity": g.severity, "path": g.change.path, "kind": g.change.kind, "reason": g.reason}
                    for g in sorted(report.graded, key=lambda g: (-RANK[g.severity], g.change.path))],
        "blocks": blocks, "generator": f"policygen {__version__}", "reason_lang": "en",
    }
    return render_template(environment(report.new_project), "redline.html", context).encode("utf-8")
