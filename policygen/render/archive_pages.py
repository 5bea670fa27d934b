"""Render stage, archive: releases -> archive pages, archived copies, banners and feeds.

Takes the archive (:mod:`policygen.archive`) and a date ("today", which a build takes as
``--today`` for reproducibility) and produces, for every policy and locale:

* ``archive/index.html``: every version with its effective date, severity, notes (translated
  through the policy's catalogs, else marked with their language), and links to its HTML, its
  PDF and the redline against the version before it; the version in force and any upcoming one
  are marked;
* ``versions/<version>/``: the archived copy (the policy exactly as released, framed as a page
  of today's site with a notice of its status: :func:`archived_copy`), and the PDF and redline
  exactly as released;
* ``feed.atom``: an Atom feed with one entry per release, carrying its severity and the
  localized summary of its major changes;
* while a major change is upcoming or inside the notice period after its effective date: a
  banner, shown at the top of the current page, and written as ``banner.html`` (to embed) and
  ``banner.json`` (for a site's own pop-up).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, cast

from markupsafe import Markup

from policygen import __version__
from policygen.archive.store import Release, archived_file, latest_in_force, releases
from policygen.atomic import sha256
from policygen.changes.notices import items_in_force
from policygen.errors import PolicygenError
from policygen.i18n.localize import LocalizedPolicy, bind_numbers
from policygen.i18n.translations import notes_context
from policygen.model import Project
from policygen.render.html import CHROME_UI, PagePaths, chrome, environment, file_size, link, native_name, relative, render_template
from policygen.resources import notice_template


@dataclass(frozen=True, slots=True)
class Banner:
    release: Release
    """The version readers have from the change's effective date: the newest release of that date."""
    banner: str
    items: list[str]
    html: str = ""
    """The rendered banner, shown in the page and written as ``banner.html``."""
    changed: tuple[Release, ...] = ()
    """The major releases of that date, whose recorded changes the banner lists (in order)."""


@dataclass
class ArchiveSite:
    """What the archive adds to a build."""

    files: dict[str, bytes]
    outputs: list[dict[str, Any]]
    banners: dict[tuple[str, str], Banner]
    archived: set[tuple[str, str]]
    """(policy, locale) pairs that have releases, whose pages link to their archive."""


class _Changes:
    """Each release's ``changes.json`` (None for a release that has none, such as the first), read
    once through its hash like every file published from the archive."""

    def __init__(self) -> None:
        self._cache: dict[Path, dict[str, Any] | None] = {}

    def __call__(self, rel: Release) -> dict[str, Any] | None:
        if rel.folder not in self._cache:
            self._cache[rel.folder] = _change_report(rel) if CHANGES_FILE in rel.files else None
        return self._cache[rel.folder]


CHANGES_FILE = "changes.json"


def _change_report(rel: Release) -> dict[str, Any]:
    """The report in a release's ``changes.json``, checked for the shape the banner and the feed
    read: the newest ``release.json`` can be rewritten to list any file (an edit only a pinned
    head or a signature shows; see docs/archive.md), so its hash alone does not make it sound."""
    data = archived_file(rel, CHANGES_FILE)
    try:
        report = json.loads(data)["reports"][0]
        notices, changes = report["notices"], report["changes"]
        if not (isinstance(notices, dict) and isinstance(changes, list) and all(isinstance(c, dict) for c in changes)
                and all(isinstance(n, dict) and isinstance(n.get("banner"), str) and isinstance(n.get("items", []), list)
                        and all(isinstance(i, str) for i in n.get("items", [])) for n in notices.values())):
            raise TypeError
    except (ValueError, KeyError, IndexError, TypeError, RecursionError):  # RecursionError: JSON nested too deep to parse
        raise _not_a_report(rel) from None
    return cast("dict[str, Any]", report)


def _not_a_report(rel: Release) -> PolicygenError:
    return PolicygenError(f"{rel.folder / CHANGES_FILE}: not a change report policygen wrote; run 'policygen archive verify'")


def active_banner(found: list[Release], locale: str, today: date, notice_days: int, changes: _Changes,
                  shown_from: date | None = None) -> Banner | None:
    """The major change users must be told about today: the next one ahead, else the newest one
    still inside its notice period. A change is announced by its effective date: two major
    releases ahead are announced one after the other (a reader is first told what changes against
    the text they have), and a release made again on the same date (docs/archive.md: to complete
    its translations) is the version readers get on it, though the change is the earlier one's.
    ``shown_from`` is the effective date of the release the page shows when none is in force yet
    (build.versions_on_page: its first release): a change up to that date is the page itself."""
    found = [rel for rel in found if locale in rel.locales]
    days = sorted({rel.effective_date for rel in found if rel.severity == "major"})
    # today - effective, never effective + days: a date near 9999-12-31 plus a period overflows.
    ahead = [day for day in days if day > max(today, shown_from or today)]
    recent = [day for day in days if day <= today][-1:]
    for day in ahead + [day for day in recent if (today - day).days <= notice_days]:
        on_day = [rel for rel in found if rel.effective_date == day]
        changed = tuple(rel for rel in on_day if rel.severity == "major")
        notices = [(changes(rel) or {}).get("notices", {}).get(locale) for rel in changed]
        items = [line for notice in notices if notice for line in notice.get("items", [])]
        if items:
            first = next(notice for notice in notices if notice and notice.get("items"))
            return Banner(max(on_day, key=lambda rel: rel.sequence), first["banner"], items, changed=changed)
    return None


Memo = Callable[[str, tuple[str, ...], Any, list[Path], Callable[[], bytes]], bytes]
"""How an archive output is made: told ``(kind, templates, data, reads, render)``, it returns
the output's bytes, ``render()``'s or a copy of them kept from an earlier build. The bytes
``render()`` makes follow from ``data`` (everything the output shows: the values its template is
given, or the feed's fields), the archived files it ``reads`` (byte for byte) and the
``templates`` it is made with, and from nothing else: the build keys its cache by them
(:class:`policygen.build.Renders`)."""


def _render(kind: str, templates: tuple[str, ...], data: Any, reads: list[Path], render: Callable[[], bytes]) -> bytes:
    return render()


def data_key(value: Any) -> str:
    """``data`` of a :data:`Memo` as one string: equal strings for equal data only (HTML a
    template shows as is, :class:`~markupsafe.Markup`, differs from the same text escaped)."""
    def tagged(value: Any) -> Any:
        if isinstance(value, Markup):
            return "m" + str(value)
        if isinstance(value, str):
            return "s" + value
        if isinstance(value, dict):
            return {key: tagged(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [tagged(item) for item in value]
        if value is None or type(value) in (bool, int, float):
            return value
        raise TypeError(f"{type(value).__qualname__} is not archive data")

    return json.dumps(tagged(value), sort_keys=True, ensure_ascii=False)


def render_archive(project: Project, localized: list[LocalizedPolicy], today: date, memo: Memo = _render) -> ArchiveSite:
    """Archive pages, archived copies, feeds and banners for every localized page that has
    releases. Each output is made through ``memo``, told what it shows (:data:`Memo`)."""
    env = environment(project)
    site = ArchiveSite({}, [], {}, set())
    changes = _Changes()
    by_policy = {policy: releases(project.root, policy) for policy in sorted({item.policy.id for item in localized})}
    for item in localized:
        policy, locale = item.policy.id, item.locale
        found = [r for r in by_policy[policy] if locale in r.locales]
        if not found:
            continue
        site.archived.add((policy, locale))

        def add(path: str, kind: str, templates: tuple[str, ...], data: Any, reads: list[Path], render: Callable[[], bytes],
                version: str | None = None, policy: str = policy, locale: str = locale) -> bytes:
            made = memo(kind, templates, data, reads, render)
            site.files[path] = made
            site.outputs.append({"policy": policy, "locale": locale, "format": kind, "path": path, "sha256": sha256(made),
                                 **({"version": version} if version else {})})
            return made

        _archive_of(project, env, item, by_policy[policy], changes, today, add)
        banner = _banner(project, env, item, by_policy[policy], changes, today, add)
        if banner is not None:
            site.banners[(policy, locale)] = banner
    return site


_Add = Callable[..., bytes]


def _archive_of(project: Project, env: Any, item: LocalizedPolicy, chain: list[Release], changes: _Changes, today: date, add: _Add) -> None:
    """One (policy, locale)'s archive page, feed, archived copies, PDFs and redlines, through ``add``."""
    policy, locale, fmt = item.policy.id, item.locale, item.formatter
    found = [r for r in chain if locale in r.locales]
    base = PagePaths(policy, locale).folder
    current = latest_in_force(chain, today)
    rows = []
    before = {rel.sequence: prev for prev, rel in zip(chain, chain[1:], strict=False)}
    for rel in reversed(found):
        folder = f"{base}versions/{rel.version}/"
        pdf = f"output/{locale}/{policy}-{locale}.pdf"
        copy = archived_copy_data(project, item, rel, chain, current, today, _archived_size(rel, pdf))
        page = f"output/{locale}/index.html"
        add(f"{folder}index.html", "archived-html", ("archived.html",), [copy, page, rel.files.get(page)], [rel.folder / page],
            lambda copy=copy, rel=rel, page=page: render_template(env, "archived.html", {
                **copy, "archived_html": Markup(archived_body(archived_file(rel, page).decode("utf-8")))}).encode("utf-8"),
            rel.version)
        add(f"{folder}{policy}-{locale}.pdf", "archived-pdf", (), [pdf, rel.files.get(pdf)], [rel.folder / pdf],
            lambda rel=rel, pdf=pdf: archived_file(rel, pdf), rel.version)
        # The redline, its changes-only page and its PDF, as far as the release has them (releases
        # made before policygen wrote the last two have the redline only).
        for name, kind in (("redline.html", "redline"), ("redline-changes.html", "redline"), ("redline.pdf", "redline-pdf")):
            file = f"output/{locale}/{name}"
            if file in rel.files:
                boxed = fmt.ui("changes") if name == "redline.html" and f"output/{locale}/redline-changes.html" not in rel.files else None
                add(f"{folder}{name}", kind, (), [file, rel.files[file], boxed], [rel.folder / file],
                    lambda rel=rel, file=file, boxed=boxed: scrolling_tables(archived_file(rel, file), boxed) if boxed is not None
                    else archived_file(rel, file), rel.version)
        rows.append(_row(item, rel, before.get(rel.sequence), chain, current, today))
    ui = {key: fmt.ui(key) for key in ("version", "effective_date", "changes", "notes", "redline", "feed", *CHROME_UI)}
    archive_page = f"{base}archive/index.html"
    archived_locales = [loc for loc in item.policy.locales if any(loc in r.locales for r in chain)]
    switcher = _alternates(project, item, archive_page, {loc: f"{policy}/{loc}/archive/" for loc in archived_locales})
    context = {
        **chrome(project, item, archive_page, switcher, feed=True),
        "heading": fmt.ui("archive_title").replace("{title}", item.title_text),
        "canonical": project.config.base_url + archive_page.removesuffix("index.html") if project.config.base_url else None,
        "current_href": link(project, archive_page, base), "current_title": item.title_text, "rows": rows, "ui": ui,
        "head": _head(chain[-1], fmt.ui("archive_head"), fmt.version(chain[-1].version), fmt.number(chain[-1].sequence)),
    }
    add(archive_page, "archive-page", ("archive.html",), context, [],
        lambda: render_template(env, "archive.html", context).encode("utf-8"))
    feed = _feed_data(project, item, found, changes, chain[-1], today)
    add(f"{base}feed.atom", "feed", (), feed, [], lambda: _feed(feed))


def replaced_by(rel: Release, chain: list[Release], locale: str) -> Release | None:
    """The release that replaced ``rel``: a later release of the same effective date (made to
    complete its translations, or to fix it), which is the version in force from that date, as
    readers of ``locale`` get it; None when no release replaced ``rel``. Whether the replacement
    was made before or after that date, the archive does not record, so the copy's notice says
    only what both cases share."""
    same_day = [r for r in chain if r.sequence > rel.sequence and r.effective_date == rel.effective_date and locale in r.locales]
    return same_day[-1] if same_day else None


def _row(item: LocalizedPolicy, rel: Release, previous: Release | None, chain: list[Release], current: Release | None,
         today: date) -> dict[str, Any]:
    """One release as the archive page lists it."""
    policy, locale, fmt = item.policy.id, item.locale, item.formatter
    status = ""
    replacement = replaced_by(rel, chain, locale)
    if replacement is not None:
        status = fmt.ui("replaced").replace("{version}", fmt.version(replacement.version))
    elif rel.effective_date > today:
        status = fmt.ui("upcoming").replace("{date}", fmt.date(rel.effective_date))
    elif current is not None and rel.version == current.version:
        status = fmt.ui("in_force")
    return {
        "version": fmt.version(rel.version), "iso": rel.effective_date.isoformat(), "date": fmt.date(rel.effective_date),
        "severity": notice_template(locale, f"severity.{rel.severity}") if rel.severity else "",
        "notes": _notes(item, rel), "status": status,
        "html": f"../versions/{rel.version}/", "pdf": f"../versions/{rel.version}/{policy}-{locale}.pdf",
        "redline": f"../versions/{rel.version}/redline.html" if (rel.folder / "output" / locale / "redline.html").is_file() else "",
        "pending": _languages(item, "pending", rel.incomplete),
        "completed": _languages(item, "completed", set(previous.incomplete) - set(rel.incomplete) if previous is not None else ()),
    }


def _archived_size(rel: Release, name: str) -> int:
    """The size of an archived file, without reading it (the output that publishes it reads and
    checks it: :func:`~policygen.archive.store.archived_file`)."""
    try:
        return (rel.folder / name).stat().st_size
    except OSError:
        return len(archived_file(rel, name))  # says that it is missing from the archive


def _banner(project: Project, env: Any, item: LocalizedPolicy, chain: list[Release], changes: _Changes, today: date,
            add: _Add) -> Banner | None:
    """The banner of a major change users must be told about today, made into ``banner.html``
    and ``banner.json`` through ``add``; None when there is none."""
    policy, locale, fmt = item.policy.id, item.locale, item.formatter
    # Before a locale's first release takes effect, its page shows that release (build.versions_on_page).
    first = min((rel.effective_date for rel in chain if locale in rel.locales), default=today)
    banner = active_banner(chain, locale, today, project.config.notice_days, changes, shown_from=first)
    if banner is None:
        return _next_version_notice(project, env, item, chain, max(today, first))
    base = PagePaths(policy, locale).folder
    # Languages still pending now: the newest release's, whichever release the banner is about.
    pending = sorted(chain[-1].incomplete)
    # The tense follows the date: "will change on" before the effective date, "changed on"
    # after it (the text recorded at release time is in the present tense, so it is not shown).
    upcoming = banner.release.effective_date > today
    when = fmt.date(banner.release.effective_date)
    sentence = fmt.ui("change_upcoming" if upcoming else "change_past").replace("{date}", when)
    # The list follows the date too: before it, the sentences recorded at release ("We will
    # keep ..."); once in force, the same changes said as they are now ("We now keep ..."),
    # rebuilt from the recorded changes with the labels of the version in force. Either
    # way a number keeps its unit on one line.
    items = [bind_numbers(line) for line in banner.items]
    if not upcoming:
        items = []
        for rel in banner.changed:
            recorded = changes(rel)
            try:
                items += items_in_force(recorded["changes"], fmt) if recorded is not None else []
            except (KeyError, TypeError, ValueError, AttributeError, IndexError):  # a record no release wrote (see _change_report)
                raise _not_a_report(rel) from None
    version_path = f"{base}versions/{banner.release.version}/"
    # The redline of the (first) major release of the day: the change against the text in force
    # before it, which is what the banner is about.
    redline_path = f"{base}versions/{(banner.changed or (banner.release,))[0].version}/redline.html"

    href = _banner_href(project, base)

    ui = {key: fmt.ui(key) for key in ("version", "effective_date", "changes", "notes", "redline", "feed", *CHROME_UI)}
    context = {
        "policy": policy, "locale": locale, "dir": item.direction, "banner": sentence, "items": items, "kind": "",
        "pending": _languages(item, "pending", pending), "iso": banner.release.effective_date.isoformat(),
        # Every version still to come, nearest first, the major one announced among them: the
        # page has room for one banner, and a release ahead that is not a major change (an
        # editorial fix before or after it, or in force already when a change is) must not be
        # reachable only through the archive page. The sentence and banner.json stay about the
        # major change.
        "version_links": (links := upcoming_links(chain, item, max(today, first), href)),
        "version_link": links[0] if links else None,  # the one link of themes written before version_links
        "ui": ui, "redline_href": href(redline_path),
    }
    html = add(f"{base}banner.html", "banner-html", ("banner.html",), context, [],
               lambda: render_template(env, "banner.html", context).encode("utf-8")).decode("utf-8")
    payload = {"policy": policy, "locale": locale, "version": banner.release.version,
               "effective_date": banner.release.effective_date.isoformat(),
               "upcoming": upcoming, "banner": sentence, "items": items, "pending": pending,
               "redline": href(redline_path),
               "href": href(version_path) if upcoming else ""}
    add(f"{base}banner.json", "banner-json", (), payload, [],
        lambda: (json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    return Banner(banner.release, sentence, items, html, banner.changed)


def _next_version_notice(project: Project, env: Any, item: LocalizedPolicy, chain: list[Release], after: date) -> Banner | None:
    """Where no major change is to be told: the next release after ``after`` (the build's date,
    or the date of the release the page shows when none is in force yet), announced at the top of
    the page and of ``fragment.html`` ("A new version of this policy applies from ...", with
    links to it and to its redline), so that no upcoming version is reachable only through the
    archive page. Not written as ``banner.html`` or ``banner.json``: a site's own pop-up is for
    the changes users must be told about. None when no release is upcoming."""
    policy, locale, fmt = item.policy.id, item.locale, item.formatter
    ahead = [rel for rel in chain if locale in rel.locales and rel.effective_date > after]
    if not ahead:
        return None
    on_day = [rel for rel in ahead if rel.effective_date == ahead[0].effective_date]
    shown = on_day[-1]  # a release made again on the same date is the one readers get
    base = PagePaths(policy, locale).folder

    href = _banner_href(project, base)

    when = fmt.date(shown.effective_date)
    sentence = fmt.ui("upcoming_version_notice").replace("{date}", when)
    # The redline of the day's first release: the change against the text in force now.
    redline = f"{base}versions/{on_day[0].version}/redline.html" if f"output/{locale}/redline.html" in on_day[0].files else ""
    context = {
        "policy": policy, "locale": locale, "dir": item.direction, "banner": sentence, "items": [], "pending": "", "kind": "next",
        "version_links": (links := upcoming_links(chain, item, after, href)),  # the nearest one first, then any later ones
        "version_link": links[0] if links else None,  # the one link of themes written before version_links
        "ui": {key: fmt.ui(key) for key in ("redline",)}, "redline_href": href(redline) if redline else "",
    }
    return Banner(shown, sentence, [], render_template(env, "banner.html", context))


def _banner_href(project: Project, base: str) -> Callable[[str], str]:
    """How a banner links a path of the output: absolute with ``site.base_url`` (banner.html and
    banner.json are embedded in other sites' pages), else relative to the policy's page ``base``."""
    site_url = project.config.base_url or ""
    return lambda path: site_url + path if site_url else relative(f"{base}index.html", path)


def upcoming_links(chain: list[Release], item: LocalizedPolicy, after: date, href: Callable[[str], str]) -> list[dict[str, str]]:
    """Every version of ``chain`` in ``item``'s locale that applies after ``after``, nearest
    first, as the banner links them: ``{"href", "text"}``, ``href`` made by ``href`` from the
    version's folder in the output. One link per effective date: a release made again on the
    same date (to complete its translations, or to fix it) is the version readers get on it."""
    locale, fmt = item.locale, item.formatter
    base = PagePaths(item.policy.id, locale).folder
    shown: dict[date, Release] = {}
    for rel in chain:  # in release order, so the day's last release wins
        if locale in rel.locales and rel.effective_date > after:
            shown[rel.effective_date] = rel
    return [{"href": href(f"{base}versions/{rel.version}/"), "text": fmt.ui("read_upcoming").replace("{date}", fmt.date(day))}
            for day, rel in sorted(shown.items())]


_TABLE = re.compile(r"<table>(.*?)</table>", re.DOTALL)
_SCROLL_STYLE = (b"<style>body { overflow-wrap: anywhere; } .pg-scroll { overflow-x: auto; max-width: 100%; } "
                 b".pg-scroll:focus { outline: 2px solid currentColor; }</style>\n</head>")


def scrolling_tables(page: bytes, label: str) -> bytes:
    """An archived redline of an older release (one made before redlines kept the policy's
    structure) as the site publishes it: each ``<table>`` inside a labelled, focusable box that
    scrolls sideways, so its wide table of changes never makes the page wider than a phone's
    screen, and a long word (a Dutch compound) breaks rather than widen the page. Only the
    published copy changes; the archive keeps the released bytes, which
    ``archive verify`` checks. Newer redlines use the site's stylesheet and are published as is."""
    text = page.decode("utf-8")
    boxed = _TABLE.sub(lambda m: f'<div class="pg-scroll" role="region" tabindex="0" aria-label="{Markup.escape(label)}">'
                                 f"{m.group(0)}</div>", text)
    return boxed.encode("utf-8").replace(b"</head>", _SCROLL_STYLE, 1)


def _notes(item: LocalizedPolicy, rel: Release) -> dict[str, str] | None:
    """A release's notes in the page's language: the catalog's translation, else the notes as
    written, marked with their language (and its direction) for readers and screen readers."""
    text = rel.released_notes.strip()
    if not text:
        return None
    source = item.policy.source_locale
    if item.locale != source:
        entry = item.formatter.translations.get(item.policy.id, item.locale, notes_context(rel.version), rel.released_notes)
        if entry is None:
            order = item.source_formatter.babel.character_order
            return {"text": text, "lang": source, "dir": "rtl" if order == "right-to-left" else "ltr"}
        text = entry.text.strip()
    return {"text": text, "lang": "", "dir": ""}


def _alternates(project: Project, item: LocalizedPolicy, page: str, folders: dict[str, str]) -> list[dict[str, Any]]:
    """The language switcher of an archive page or an archived copy: the same page in each
    language (``folders``: locale -> its folder), in the project's order of locales."""
    order = {loc: i for i, loc in enumerate(project.config.locales)}
    return [{"locale": loc, "name": native_name(loc), "href": link(project, page, folder), "current": loc == item.locale}
            for loc, folder in sorted(folders.items(), key=lambda pair: order.get(pair[0], len(order)))]


_MAIN = re.compile(r'<main id="_content">\n?(.*)</main>', re.DOTALL)
_BODY = re.compile(r"<body[^>]*>(.*)</body>", re.DOTALL | re.IGNORECASE)


def archived_body(page: str) -> str:
    """The policy as an archived page shows it: what its ``<main>`` holds (the fragment the
    release rendered), else, for a page a theme laid out otherwise, its whole body."""
    found = _MAIN.search(page) or _BODY.search(page)
    return found.group(1) if found else page


def archived_copy_data(project: Project, item: LocalizedPolicy, rel: Release, chain: list[Release], current: Release | None,
                       today: date, pdf_size: int) -> dict[str, Any]:
    """What ``versions/<version>/index.html`` shows around the archived page's policy (which
    the template is given as ``archived_html``, byte for byte as released, read through the
    verified archive): the site's frame of today (header, language switcher, footer), its own
    title, and a notice that says whether the version is archived (not in force since the next
    one took effect), in force, or still to come, with links to the version in force, the next
    version, the archive page and the version's PDF. The archive itself is never rewritten:
    the frame is added as the site is published."""
    policy, locale, fmt = rel.policy, item.locale, item.formatter
    page = PagePaths(policy, locale, rel.version).page
    later = [r for r in chain if r.sequence > rel.sequence]
    # The next version readers get: a release replaced on its own date by a later one is skipped.
    shown = [r for r in later if locale in r.locales and replaced_by(r, chain, locale) is None]
    replacement = replaced_by(rel, chain, locale)
    if replacement is not None:
        status, notice = "archived", fmt.ui("replaced_notice").replace("{version}", fmt.version(replacement.version)).replace(
            "{date}", fmt.date(rel.effective_date))
    elif rel.effective_date > today:
        status, notice = "upcoming", fmt.ui("upcoming_notice").replace("{date}", fmt.date(rel.effective_date))
    elif current is not None and rel.sequence == current.sequence:
        status, notice = "in-force", fmt.ui("in_force_notice").replace("{date}", fmt.date(rel.effective_date))
    else:
        # Superseded: out of force since the release after it took effect.
        status, notice = "archived", fmt.ui("archived_notice").replace("{date}", fmt.date(later[0].effective_date))
    title = fmt.ui({"upcoming": "upcoming_title", "in-force": "in_force_title", "archived": "archived_title"}[status])
    base, current_folder = project.config.base_url, PagePaths(policy, locale).folder
    # Only the languages the site still publishes: a language the policy dropped has no pages.
    published = [loc for loc in rel.locales if loc in item.policy.locales]
    context = {
        **chrome(project, item, page, _alternates(project, item, page, {loc: PagePaths(policy, loc, rel.version).folder for loc in published}), feed=True),
        "heading": title.replace("{title}", item.title_text).replace("{version}", fmt.version(rel.version)),
        "policy": policy, "version": rel.version, "effective_date": rel.effective_date.isoformat(), "status": status, "notice": notice,
        # The version in force is the top-level page: search engines are pointed there.
        "canonical": (base + (current_folder if status == "in-force" else PagePaths(policy, locale, rel.version).folder)) if base else None,
        "current": {"href": link(project, page, current_folder), "text": fmt.ui("draft_current")},
        "next": {"href": link(project, page, PagePaths(policy, locale, shown[0].version).folder),
                 "text": fmt.ui("read_next").replace("{version}", fmt.version(shown[0].version))} if shown else None,
        "archive": {"href": link(project, page, f"{current_folder}archive/"), "text": fmt.ui("archive")},
        "pdf": {"href": link(project, page, PagePaths(policy, locale, rel.version).pdf),
                "text": fmt.ui("download_pdf").replace("{size}", file_size(fmt, pdf_size))},
        "ui": {key: fmt.ui(key) for key in CHROME_UI},
    }
    return context


def _languages(item: LocalizedPolicy, key: str, locales: Iterable[str]) -> str:
    """The ``pending``/``completed`` sentence naming ``locales`` in the page's language, or ""."""
    fmt = item.formatter
    names = [fmt.language_name(loc) for loc in sorted(locales)]
    return fmt.ui(key).replace("{languages}", fmt.list_of(names)) if names else ""


def _head(head: Release, label: str, version_shown: str, sequence_shown: str) -> dict[str, str]:
    """The head of the policy's chain, as the archive page shows it: anyone can pin it and later
    check the archive against it (``policygen archive verify --head``). The label is localized
    (digits too); the digest and the data attributes are not."""
    return {"policy": head.policy, "digest": head.digest, "version": head.version, "sequence": str(head.sequence),
            "label": label.replace("{version}", version_shown).replace("{sequence}", sequence_shown)}


HEAD_NS = "tag:policygen,2026:archive"
"""The namespace of the feed's ``<policygen:archive-head>`` element (the chain's head)."""


def _feed_ids(project: Project, policy: str, locale: str, found: list[Release]) -> tuple[str, str]:
    """The page's URL ("" without ``base_url``) and the prefix of the feed's IDs: URLs under the
    publisher's ``base_url``, else ``tag:`` URIs (RFC 4151) under its ``feed.id_authority``, dated
    by the year of the first release. Never an authority the publisher does not own."""
    base = project.config.base_url
    if base:
        page_url = f"{base}{policy}/{locale}/"
        return page_url, page_url
    authority = project.config.id_authority
    if not authority:
        path = project.config.path
        try:
            line = next((n for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text.startswith("site:")), 1)
        except OSError:
            line = 1
        raise PolicygenError(f"{path}:{line}: {policy} has releases, so its feeds need IDs under an authority you own: set site.base_url, "
                             "or feed: {id_authority: <a domain or e-mail address you own>}")
    return "", f"tag:{authority},{found[0].effective_date.year}:{policy}/{locale}/"


def _feed_data(project: Project, item: LocalizedPolicy, found: list[Release], changes: _Changes, head: Release, today: date) -> dict[str, Any]:
    """Everything ``feed.atom`` says, as plain data (:func:`_feed` writes it)."""
    policy, locale = item.policy.id, item.locale
    page_url, ident = _feed_ids(project, policy, locale, found)

    def published(rel: Release) -> str:
        # A release in force is dated by its effective date. An upcoming one is announced by the
        # day it was released (release.json's released_on), so its date stays put from one daily
        # build to the next; a release made before release.json recorded that day is dated by the
        # build's date instead. Never after the build's date: no <updated> lies ahead of the feed.
        if rel.effective_date > today and rel.released_on is not None:
            return min(rel.released_on, today).isoformat()
        return min(rel.effective_date, today).isoformat()

    controller = item.policy.facts.controller
    entries = []
    for rel in found:
        notice = (changes(rel) or {}).get("notices", {}).get(locale) or {}
        pending = _languages(item, "pending", rel.incomplete)
        summary = " ".join([notice.get("banner", ""), *notice.get("items", []), pending]).strip()
        entries.append({"id": f"{ident}versions/{rel.version}/", "title": f"{item.title_text} {item.formatter.version(rel.version)}",
                        "updated": published(rel), "link": f"{page_url}versions/{rel.version}/",
                        "summary": summary or notice_template(locale, "redline.none"),
                        "category": [rel.severity, notice_template(locale, f"severity.{rel.severity}")] if rel.severity else None})
    return {
        "id": ident + "feed.atom", "title": item.title_text, "author": controller.name if controller else project.config.site_title,
        # Without a base URL the links are relative to the feed itself (RFC 4287 section 3.2: IRIs
        # are resolved against the feed's own location).
        "alternate": page_url or "./", "self": page_url + "feed.atom" if page_url else "feed.atom", "language": locale,
        "updated": max(published(r) for r in found), "entries": entries,
        "head": {"policy": head.policy, "version": head.version, "sequence": str(head.sequence), "digest": head.digest},
    }


def _feed(data: dict[str, Any]) -> bytes:
    """``feed.atom`` from :func:`_feed_data`'s fields."""
    from feedgen.ext.base import BaseExtension
    from feedgen.feed import FeedGenerator

    head = data["head"]

    class ArchiveHead(BaseExtension):
        """``<policygen:archive-head policy=".." version=".." sequence="..">SHA-256</policygen:archive-head>``."""

        def extend_ns(self) -> dict[str, str]:
            return {"policygen": HEAD_NS}

        def extend_atom(self, feed: Any) -> Any:
            element = feed.makeelement(f"{{{HEAD_NS}}}archive-head", {"policy": head["policy"], "version": head["version"],
                                                                      "sequence": head["sequence"]})
            element.text = head["digest"]
            feed.append(element)
            return feed

    def stamp(day: str) -> datetime:
        return datetime.combine(date.fromisoformat(day), time(), tzinfo=UTC)

    feed = FeedGenerator()
    feed.id(data["id"])
    feed.title(data["title"])
    feed.author(name=data["author"])
    feed.link(href=data["alternate"], rel="alternate")
    feed.link(href=data["self"], rel="self", type="application/atom+xml")
    feed.language(data["language"])
    feed.updated(stamp(data["updated"]))
    feed.generator("policygen", version=__version__)
    feed.register_extension("policygen", ArchiveHead, None, atom=True, rss=False)
    for item in data["entries"]:
        entry = feed.add_entry(order="append")
        entry.id(item["id"])
        entry.title(item["title"])
        entry.updated(stamp(item["updated"]))
        entry.link(href=item["link"], rel="alternate")
        entry.summary(item["summary"])
        if item["category"]:
            entry.category(term=item["category"][0], label=item["category"][1])
    return feed.atom_str(pretty=True)
