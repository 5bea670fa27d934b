"""Render stage, archive: releases -> archive pages, archived copies, banners and feeds.

Takes the archive (:mod:`policygen.archive`) and a date ("today", which a build takes as
``--today`` for reproducibility) and produces, for every policy and locale:

* ``archive/index.html``: every version with its effective date, severity, notes, and links to
  its HTML, its PDF and the redline against the version before it; the version in force and
  any upcoming one are marked;
* ``versions/<version>/``: the archived page, PDF and redline, exactly as released;
* ``feed.atom``: an Atom feed with one entry per release, carrying its severity and the
  localized summary of its major changes;
* while a major change is upcoming or inside the notice period after its effective date: a
  banner, shown at the top of the current page, and written as ``banner.html`` (to embed) and
  ``banner.json`` (for a site's own pop-up).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from policygen import __version__
from policygen.archive.store import Release, archived_file, latest_in_force, releases
from policygen.atomic import sha256
from policygen.errors import PolicygenError
from policygen.i18n.localize import LocalizedPolicy
from policygen.model import Project
from policygen.render.html import PagePaths, environment, relative, render_template
from policygen.resources import notice_template


@dataclass(frozen=True, slots=True)
class Banner:
    release: Release
    banner: str
    items: list[str]
    html: str = ""
    """The rendered banner, shown in the page and written as ``banner.html``."""


@dataclass
class ArchiveSite:
    """What the archive adds to a build."""

    files: dict[str, bytes]
    outputs: list[dict[str, Any]]
    banners: dict[tuple[str, str], Banner]
    archived: set[tuple[str, str]]
    """(policy, locale) pairs that have releases, whose pages link to their archive."""


class _Changes:
    """Each release's ``changes.json``, read once."""

    def __init__(self) -> None:
        self._cache: dict[Path, dict[str, Any] | None] = {}

    def __call__(self, rel: Release) -> dict[str, Any] | None:
        if rel.folder not in self._cache:
            path = rel.folder / "changes.json"
            self._cache[rel.folder] = json.loads(path.read_text(encoding="utf-8"))["reports"][0] if path.is_file() else None
        return self._cache[rel.folder]


def active_banner(found: list[Release], locale: str, today: date, notice_days: int, changes: _Changes) -> Banner | None:
    """The major change users must be told about today: upcoming, or within the notice period."""
    for rel in reversed(found):
        if rel.severity != "major" or locale not in rel.locales:
            continue
        # today - effective, never effective + days: a date near 9999-12-31 plus a period overflows.
        if rel.effective_date > today or (today - rel.effective_date).days <= notice_days:
            notice = (changes(rel) or {}).get("notices", {}).get(locale)
            if notice and notice.get("items"):
                return Banner(rel, notice["banner"], list(notice["items"]))
        return None  # an older major change is past its notice period, whatever came before it
    return None


def render_archive(project: Project, localized: list[LocalizedPolicy], today: date) -> ArchiveSite:
    """Archive pages, archived copies, feeds and banners for every localized page that has releases."""
    env = environment(project)
    site = ArchiveSite({}, [], {}, set())
    files, outputs = site.files, site.outputs
    changes = _Changes()
    by_policy = {policy: releases(project.root, policy) for policy in sorted({item.policy.id for item in localized})}
    for item in localized:
        policy, locale, fmt = item.policy.id, item.locale, item.formatter
        found = [r for r in by_policy[policy] if locale in r.locales]
        if not found:
            continue
        site.archived.add((policy, locale))
        base = PagePaths(policy, locale).folder
        current = latest_in_force(by_policy[policy], today)

        def add(path: str, data: bytes, kind: str, version: str | None = None, policy: str = policy, locale: str = locale) -> None:
            files[path] = data
            outputs.append({"policy": policy, "locale": locale, "format": kind, "path": path, "sha256": sha256(data),
                            **({"version": version} if version else {})})

        rows = []
        before = {rel.sequence: prev for prev, rel in zip(by_policy[policy], by_policy[policy][1:], strict=False)}
        for rel in reversed(found):
            folder = f"{base}versions/{rel.version}/"
            add(f"{folder}index.html", archived_file(rel, f"output/{locale}/index.html"), "archived-html", rel.version)
            add(f"{folder}{policy}-{locale}.pdf", archived_file(rel, f"output/{locale}/{policy}-{locale}.pdf"), "archived-pdf", rel.version)
            redline = rel.folder / "output" / locale / "redline.html"
            # The redline, its changes-only page and its PDF, as far as the release has them (releases
            # made before policygen wrote the last two have the redline only).
            for name, kind in (("redline.html", "redline"), ("redline-changes.html", "redline"), ("redline.pdf", "redline-pdf")):
                if f"output/{locale}/{name}" in rel.files:
                    add(f"{folder}{name}", archived_file(rel, f"output/{locale}/{name}"), kind, rel.version)
            status = ""
            if rel.effective_date > today:
                status = fmt.ui("upcoming").replace("{date}", fmt.date(rel.effective_date))
            elif current is not None and rel.version == current.version:
                status = fmt.ui("in_force")
            rows.append({
                "version": fmt.version(rel.version), "iso": rel.effective_date.isoformat(), "date": fmt.date(rel.effective_date),
                "severity": notice_template(locale, f"severity.{rel.severity}") if rel.severity else "",
                "notes": rel.released_notes, "status": status,
                "html": f"../versions/{rel.version}/", "pdf": f"../versions/{rel.version}/{policy}-{locale}.pdf",
                "redline": f"../versions/{rel.version}/redline.html" if redline.is_file() else "",
                "pending": _languages(item, "pending", rel.incomplete),
                "completed": _languages(item, "completed", set(before[rel.sequence].incomplete) - set(rel.incomplete) if rel.sequence in before else ()),
            })
        ui = {key: fmt.ui(key) for key in ("version", "effective_date", "changes", "notes", "redline", "feed")}
        page = render_template(env, "archive.html", {
            "locale": locale, "dir": item.direction, "heading": fmt.ui("archive_title").replace("{title}", item.title_text),
            "site_title": project.config.site_title, "generator": f"policygen {__version__}", "assets": relative(f"{base}archive/index.html", "assets/"),
            "feed_href": "../feed.atom", "current_title": item.title_text, "rows": rows, "ui": ui,
            "head": _head(by_policy[policy][-1], fmt.ui("archive_head"), fmt.version(by_policy[policy][-1].version),
                          fmt.number(by_policy[policy][-1].sequence)),
        })
        add(f"{base}archive/index.html", page.encode("utf-8"), "archive-page")
        add(f"{base}feed.atom", _feed(project, item, found, changes, by_policy[policy][-1], today), "feed")
        banner = active_banner(by_policy[policy], locale, today, project.config.notice_days, changes)
        if banner is not None:
            # Languages still pending now: the newest release's, whichever release the banner is about.
            pending = sorted(by_policy[policy][-1].incomplete)
            # The tense follows the date: "will change on" before the effective date, "changed on"
            # after it (the text recorded at release time is in the present tense, so it is not shown).
            upcoming = banner.release.effective_date > today
            when = fmt.date(banner.release.effective_date)
            sentence = fmt.ui("change_upcoming" if upcoming else "change_past").replace("{date}", when)
            version_path = f"{base}versions/{banner.release.version}/"
            # With base_url the banner's links are absolute: banner.html and banner.json are
            # embedded in other sites' pages. Without it they are relative to the policy's page.
            def href(path: str, site_url: str = project.config.base_url or "", page: str = f"{base}index.html") -> str:
                return site_url + path if site_url else relative(page, path)

            html = render_template(env, "banner.html", {
                "policy": policy, "locale": locale, "dir": item.direction, "banner": sentence, "items": banner.items,
                "pending": _languages(item, "pending", pending), "iso": banner.release.effective_date.isoformat(),
                "version_link": {"href": href(version_path), "text": fmt.ui("read_upcoming").replace("{date}", when)} if upcoming else None,
                "ui": ui, "redline_href": href(f"{version_path}redline.html"),
            })
            banner = Banner(banner.release, sentence, banner.items, html)
            site.banners[(policy, locale)] = banner
            add(f"{base}banner.html", html.encode("utf-8"), "banner-html")
            payload = {"policy": policy, "locale": locale, "version": banner.release.version,
                       "effective_date": banner.release.effective_date.isoformat(),
                       "upcoming": upcoming, "banner": banner.banner, "items": banner.items, "pending": pending,
                       "redline": href(f"{version_path}redline.html"),
                       "href": href(version_path) if upcoming else ""}
            add(f"{base}banner.json", (json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8"), "banner-json")
    return site


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


def _feed(project: Project, item: LocalizedPolicy, found: list[Release], changes: _Changes, head: Release, today: date) -> bytes:
    from feedgen.ext.base import BaseExtension
    from feedgen.feed import FeedGenerator

    class ArchiveHead(BaseExtension):
        """``<policygen:archive-head policy=".." version=".." sequence="..">SHA-256</policygen:archive-head>``."""

        def extend_ns(self) -> dict[str, str]:
            return {"policygen": HEAD_NS}

        def extend_atom(self, feed: Any) -> Any:
            element = feed.makeelement(f"{{{HEAD_NS}}}archive-head", {"policy": head.policy, "version": head.version,
                                                                      "sequence": str(head.sequence)})
            element.text = head.digest
            feed.append(element)
            return feed

    policy, locale = item.policy.id, item.locale
    page_url, ident = _feed_ids(project, policy, locale, found)

    def stamp(day: date) -> datetime:
        return datetime(day.year, day.month, day.day, tzinfo=UTC)

    def published(rel: Release) -> date:
        # An upcoming release is announced as of the build's date, never its future effective
        # date: no <updated> lies ahead of the feed. (The date only moves forward from build to build.)
        return min(rel.effective_date, today)

    feed = FeedGenerator()
    feed.id(ident + "feed.atom")
    feed.title(item.title_text)
    controller = item.policy.facts.controller
    feed.author(name=controller.name if controller else project.config.site_title)
    feed.link(href=page_url or "./", rel="alternate")
    # Without a base URL the links are relative to the feed itself (RFC 4287 section 3.2: IRIs
    # are resolved against the feed's own location).
    feed.link(href=page_url + "feed.atom" if page_url else "feed.atom", rel="self", type="application/atom+xml")
    feed.language(locale)
    feed.updated(stamp(max(published(r) for r in found)))
    feed.generator("policygen", version=__version__)
    feed.register_extension("policygen", ArchiveHead, None, atom=True, rss=False)
    for rel in found:
        entry = feed.add_entry(order="append")
        entry.id(f"{ident}versions/{rel.version}/")
        entry.title(f"{item.title_text} {item.formatter.version(rel.version)}")
        entry.updated(stamp(published(rel)))
        entry.link(href=f"{page_url}versions/{rel.version}/", rel="alternate")
        notice = (changes(rel) or {}).get("notices", {}).get(locale) or {}
        pending = _languages(item, "pending", rel.incomplete)
        summary = " ".join([notice.get("banner", ""), *notice.get("items", []), pending]).strip()
        entry.summary(summary or notice_template(locale, "redline.none"))
        if rel.severity:
            entry.category(term=rel.severity, label=notice_template(locale, f"severity.{rel.severity}"))
    return feed.atom_str(pretty=True)
