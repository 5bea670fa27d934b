"""Every page type of the built sample in a real browser: Debian's Chromium, driven by selenium
through Debian's chromedriver, runs axe-core (npm, pinned in tools/browser/package-lock.json) on
each page in en, nl and km, and measures horizontal overflow at 320 and 390 CSS pixels (a phone,
and a 1280-pixel window zoomed to 400 %). Both must be zero.

The pages come from two builds of the sample: as of 2026-02-15 (release 3.0 announced: the
upcoming-version banner and the upcoming version's own page) and as of 2026-03-10 (3.0 in force
since March 1: the recently-changed banner, archive pages, archived copies, redlines, and a draft
preview, made by changing one retention period in the copy's sources). Fragments are tested
inside docs/publishing.md's host page, as a site would embed them. The pages are served over
HTTP on the loopback address, as a site would serve them.

scripts/setup.sh installs Chromium, chromedriver and axe-core. Without them the tests skip with
the reason, except where they must run: in CI (``CI`` set) or as root on Debian, where setup.sh
installs them, a missing browser fails the run instead of skipping it silently."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import MINI, ROOT, built_sample, copy_project
from typer.testing import CliRunner

from policygen.cli import app
from policygen.serve import Preview

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
except ImportError:  # the test extra is not installed: reported by _setup_problem
    webdriver = None  # type: ignore[assignment]

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
AXE = ROOT / "tools" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = (320, 390)
LOCALES = ("en", "nl", "km")

UPCOMING, CHANGED = "2026-02-15", "2026-03-10"
"""The two dates of the sample's builds: 3.0 (effective 2026-03-01) announced, and just in force."""

AXE_DISABLED: dict[str, str] = {}
"""axe rules switched off, each with the reason. None: every page must pass every rule that
axe-core runs by default (WCAG 2.0-2.2 A and AA, and axe's best practices)."""


def _setup_problem() -> str | None:
    if webdriver is None:
        return "selenium is not installed (pip install -e '.[test]', or bash scripts/setup.sh)"
    for path, what in ((CHROMIUM, "Debian's chromium"), (CHROMEDRIVER, "Debian's chromium-driver"), (AXE, "axe-core (npm ci in tools/browser)")):
        if not path.exists():
            return f"{what} is not installed at {path}; bash scripts/setup.sh installs it"
    return None


def _must_run() -> bool:
    """CI, and a root shell on Debian (where scripts/setup.sh installs the browser), must never
    skip these tests: a skip there would hide that the browser test did not run."""
    return bool(os.environ.get("CI")) or (os.geteuid() == 0 and Path("/etc/debian_version").exists())


def test_the_browser_test_is_set_up_where_it_must_run() -> None:
    problem = _setup_problem()
    if problem is None:
        return
    if _must_run():
        pytest.fail(f"the real-browser test cannot run: {problem}")
    pytest.skip(problem)


# -- the site: two builds, a draft, and the fragments in a host page ---------------------------------


def _make_a_draft(project: Path) -> None:
    """An unreleased change to a fact, so that every locale has a draft preview; and the
    redlines that ``policygen diff`` writes today, from 2.1 to these sources, in changes/."""
    facts = project / "sources" / "tonle-privacy" / "policy.yaml"
    text = facts.read_text(encoding="utf-8")
    assert "period: P13M" in text
    facts.write_text(text.replace("period: P13M", "period: P12M", 1), encoding="utf-8")
    args = ["diff", "tonle-privacy@2.1", str(project), "--project", str(project), "--policy", "tonle-privacy", "--output", str(project / "changes")]
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.stderr


HOST_CSS = """.shop-header, .shop-footer { padding: 1rem; background: #20303f; }
.shop-header a, .shop-footer a { color: #fff; }
.shop-content { max-width: 60rem; margin: 0 auto; padding: 0 1rem; }
"""
"""A host site's own stylesheet, for docs/publishing.md's embedding example."""


def _host_page(output: Path, policy: str, locale: str) -> str:
    """docs/publishing.md's embedding example with the policy's fragment in it, saved in the
    policy's folder (the fragment's links are relative to it: the sample has no base_url), with
    the stylesheets of this local site instead of the example's URLs."""
    docs = (ROOT / "docs" / "publishing.md").read_text(encoding="utf-8")
    host = docs.split("<!-- embedding example -->\n```html\n", 1)[1].split("```", 1)[0]
    fragment = (output / policy / locale / "fragment.html").read_text(encoding="utf-8")
    host = host.replace("<!-- the fragment -->", fragment)
    host = host.replace('href="/css/site.css"', 'href="/host-site.css"')
    host = host.replace('href="https://tonle.example/legal/assets/policygen.css"', 'href="/assets/policygen.css"')
    assert "https://tonle.example/legal/assets/" not in host
    path = output / policy / locale / "embedded.html"
    path.write_text(host, encoding="utf-8")
    (output / "host-site.css").write_text(HOST_CSS, encoding="utf-8")
    return path.relative_to(output).as_posix()


def _pages(changed: Path, upcoming: Path) -> dict[str, tuple[Path, str]]:
    """Every page type, by a readable name: (the site's folder, the page's path in it)."""
    pages: dict[str, tuple[Path, str]] = {"site index": (changed, "index.html")}
    for locale in LOCALES:
        privacy = f"tonle-privacy/{locale}/"
        pages |= {
            f"{locale} policy, changed banner": (changed, privacy + "index.html"),
            f"{locale} policy, upcoming banner": (upcoming, privacy + "index.html"),
            f"{locale} upcoming version": (upcoming, privacy + "versions/3.0/index.html"),
            f"{locale} draft preview": (changed, privacy + "draft/index.html"),
            f"{locale} archive page": (changed, privacy + "archive/index.html"),
            f"{locale} archived copy": (changed, privacy + "versions/2.1/index.html"),
            f"{locale} archived redline 2.1": (changed, privacy + "versions/2.1/redline.html"),
            f"{locale} archived redline 3.0": (changed, privacy + "versions/3.0/redline.html"),
            f"{locale} redline": (changed, f"changes/tonle-privacy/redline.{locale}.html"),
            f"{locale} redline, changes only": (changed, f"changes/tonle-privacy/redline-changes.{locale}.html"),
            f"{locale} fragment in a host page": (changed, _host_page(changed, "tonle-privacy", locale)),
            f"{locale} cookie policy": (changed, f"tonle-cookies/{locale}/index.html"),
        }
    return pages


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Private copies of the two built sites (the host pages are written into them)."""
    base = tmp_path_factory.mktemp("browser-sites")
    changed = built_sample(tmp_path_factory, CHANGED, edit=_make_a_draft, name="sample-html-with-draft")
    upcoming = built_sample(tmp_path_factory, UPCOMING)
    copies = []
    for name, project in (("changed", changed), ("upcoming", upcoming)):
        copies.append(shutil.copytree(project / "output", base / name))
    shutil.copytree(changed / "changes", copies[0] / "changes")
    return copies[0], copies[1]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def servers(sites: tuple[Path, Path]) -> Iterator[dict[Path, str]]:
    """Each site served over HTTP on the loopback address: its base URL by folder."""
    running, urls = [], {}
    for folder in sites:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        running.append(server)
        urls[folder] = f"http://127.0.0.1:{server.server_address[1]}/"
    yield urls
    for server in running:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One headless Chromium for the whole module."""
    problem = _setup_problem()
    if problem is not None:
        if _must_run():
            pytest.fail(f"the real-browser test cannot run: {problem}")
        pytest.skip(problem)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    profile = tmp_path_factory.mktemp("chromium-profile")
    for flag in (
        "--headless=new", "--no-sandbox",  # root in a container: Chromium's sandbox needs user namespaces
        "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars", "--force-device-scale-factor=1",
        # No network: the pages need none, and the machine has none.
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
        "--disable-features=Translate,OptimizationHints,MediaRouter", f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_script_timeout(120)
    try:
        yield driver
    finally:
        driver.quit()


def _open(driver: Any, url: str, width: int) -> None:
    """The page at ``width`` CSS pixels as a phone shows it (the viewport meta applies), with
    its fonts loaded."""
    _emulate(driver, width)
    driver.get(url)
    driver.execute_async_script("document.fonts.ready.then(() => arguments[arguments.length - 1](true));")


def _emulate(driver: Any, width: int) -> None:
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 800})


RESIZED = """
const [width, done] = [arguments[0], arguments[arguments.length - 1]];
let frames = 0;
const settled = () => {
  if (document.documentElement.clientWidth === width || ++frames > 120) document.fonts.ready.then(() => done(document.documentElement.clientWidth));
  else requestAnimationFrame(settled);
};
requestAnimationFrame(settled);
"""
"""Waits until the page is laid out at the emulated width (or two seconds of frames have
passed: the caller checks the width it returns), then for the fonts the new layout uses."""


def _resize(driver: Any, width: int) -> int:
    """The loaded page laid out again at ``width`` CSS pixels, as a phone (below 800 px) or a
    desktop window shows it; returns the width the page then has."""
    _emulate(driver, width)
    return int(driver.execute_async_script(RESIZED, width))


PAGE_NAMES = [
    "site index",
    *(f"{locale} {kind}" for locale in LOCALES for kind in (
        "policy, changed banner", "policy, upcoming banner", "upcoming version", "draft preview", "archive page",
        "archived copy", "archived redline 2.1", "archived redline 3.0", "redline", "redline, changes only", "fragment in a host page", "cookie policy",
    )),
]


@pytest.fixture(scope="module")
def pages(sites: tuple[Path, Path], servers: dict[Path, str]) -> dict[str, str]:
    """Each page's URL by name."""
    found = _pages(*sites)
    assert sorted(found) == sorted(PAGE_NAMES)
    urls = {}
    for name, (folder, path) in found.items():
        assert (folder / path).is_file(), f"{name}: the build wrote no {path}"
        urls[name] = servers[folder] + path
    return urls


# -- axe-core ---------------------------------------------------------------------------------------

AXE_RUN = """
const done = arguments[arguments.length - 1];
const rules = {};
for (const id of arguments[0]) rules[id] = {enabled: false};
axe.run(document, {rules, resultTypes: ['violations']}).then(
  result => done(result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + n.failureSummary.replace(/\\s+/g, ' '))
  }))),
  error => done([{id: 'axe-error', impact: 'error', help: String(error), nodes: []}]));
"""


@functools.cache
def _axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_no_axe_violations(name: str, pages: dict[str, str], examined: Any) -> None:
    violations = examined(name)["axe"]
    assert violations == [], f"{name} ({pages[name]}):\n" + "\n".join(
        f"  {v['id']} ({v['impact']}): {v['help']}\n" + "".join(f"    {node}\n" for node in v["nodes"]) for v in violations
    )


# -- horizontal overflow at 320 and 390 px -------------------------------------------------------

OVERFLOW = """
const root = document.documentElement, width = root.clientWidth;
const scrolls = el => { for (let a = el.parentElement; a && a !== document.body && a !== root; a = a.parentElement) {
  if (['auto', 'scroll'].includes(getComputedStyle(a).overflowX)) return true; } return false; };
const classes = el => typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + classes(el);
const text = el => (el.textContent || '').trim().slice(0, 40).replace(/\\s+/g, ' ');
const wide = [];
for (const el of document.body.querySelectorAll('*')) {
  const style = getComputedStyle(el);
  if (style.display === 'none' || style.visibility === 'hidden') continue;
  const box = el.getBoundingClientRect();
  if (box.right <= 0 || (box.width === 0 && box.height === 0)) continue;  // off-screen on purpose: a skip link until focused
  let right = box.right;
  // Content that spills out of its box (a long word, a wide table in a narrow cell) counts too.
  if (style.overflowX === 'visible' && el.clientWidth > 0 && el.scrollWidth > el.clientWidth) right = Math.max(right, box.left + el.scrollWidth);
  if ((right > width + 0.5 || box.left < -0.5) && !scrolls(el)) {
    wide.push(name(el) + ' [' + Math.round(box.left) + '..' + Math.round(right) + '] "' + text(el) + '"');
  }
}
return {scrollWidth: root.scrollWidth, clientWidth: width, wide: wide};
"""


KNOWN_OVERFLOW: dict[str, Any] = {}
"""Pages whose overflow is known, each with a strict xfail saying what is wrong. None today: the
archived redlines of older releases, whose change tables are wider than 320 px, are published with
those tables in a scrolling box (render/archive_pages.scrolling_tables)."""


def _examine(driver: Any, url: str) -> dict[str, Any]:
    """What the tests check on one page, from one load of it: the overflow at each of
    :data:`WIDTHS` (loaded at the narrowest as a phone, then laid out again at the next), then
    axe-core's violations in a 1280-pixel desktop window (laid out again once more). A page
    load costs as much as the checks; laying the loaded page out again is what the browser does
    when a phone turns or a window is resized, and each width's layout is checked to be in
    force before anything is measured."""
    found: dict[str, Any] = {"overflow": {}}
    for width in WIDTHS:
        if not found["overflow"]:
            _open(driver, url, width)
        else:
            _resize(driver, width)
        found["overflow"][width] = driver.execute_script(OVERFLOW)
    assert _resize(driver, 1280) == 1280, f"{url}: the window did not widen to 1280 px for axe-core"
    driver.execute_script(_axe_source())
    found["axe"] = driver.execute_async_script(AXE_RUN, sorted(AXE_DISABLED))
    return found


@pytest.fixture(scope="module")
def examined(pages: dict[str, str], browser: Any) -> Callable[[str], dict[str, Any]]:
    """Each page's findings (:func:`_examine`) by name, made when a test first asks for them:
    the page's axe test and its overflow test read the same load."""
    done: dict[str, dict[str, Any]] = {}

    def examine(name: str) -> dict[str, Any]:
        if name not in done:
            done[name] = _examine(browser, pages[name])
        return done[name]

    return examine


@pytest.mark.parametrize("name", [pytest.param(name, marks=KNOWN_OVERFLOW.get(name, ())) for name in PAGE_NAMES])
def test_no_horizontal_overflow(name: str, pages: dict[str, str], examined: Any) -> None:
    problems = []
    for width in WIDTHS:
        found = examined(name)["overflow"][width]
        assert found["clientWidth"] == width
        if found["scrollWidth"] > found["clientWidth"] or found["wide"]:
            problems.append(f"at {width} px the page is {found['scrollWidth']} px wide; wider than the screen, outside a scroll container:\n"
                            + "".join(f"    {element}\n" for element in found["wide"][:12]))
    assert not problems, f"{name} ({pages[name]}):\n" + "".join(problems)


def test_serve_reloads_the_open_page_and_shows_a_failed_build(browser: Any, tmp_path: Path) -> None:
    """``policygen serve`` in a real browser: a save reloads the open page with the new text; a
    save that breaks the build shows its error on the page (the page stays the last good one),
    and the save that fixes it takes the error away and reloads. Before, the error was printed
    in the terminal only, and the page gave no sign that it was out of date."""
    project = copy_project(MINI, tmp_path / "mini")
    prose = project / "sources" / "mini" / "policy.md"
    good = prose.read_text(encoding="utf-8")
    running = Preview(project, port=0, say=lambda _message: None, pdf=False, allow_incomplete=True)
    running.start()

    def wait(predicate: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + 30
        while not predicate():
            assert time.monotonic() < deadline, what
            time.sleep(0.05)

    def error_box() -> str | None:
        return browser.execute_script("var b = document.getElementById('policygen-serve-error'); return b ? b.textContent : null")

    try:
        browser.get(running.url + "mini/en/")
        browser.execute_script("window.policygenTestMark = 1")
        prose.write_text(good.replace("Write to", "Please write to"), encoding="utf-8")
        wait(lambda: browser.execute_script("return window.policygenTestMark") is None, "the page did not reload after a save")
        wait(lambda: "Please write to" in browser.find_element("tag name", "body").text, "the reloaded page lacks the edit")
        browser.execute_script("window.policygenTestMark = 2")
        prose.write_text(good.replace("{{retention.account}}", "{{retention.nope}}"), encoding="utf-8")
        wait(lambda: "retention.nope" in (error_box() or ""), "the failed build is not shown on the page")
        assert browser.execute_script("return window.policygenTestMark") == 2  # not reloaded: the last good page stays
        prose.write_text(good, encoding="utf-8")
        wait(lambda: browser.execute_script("return window.policygenTestMark") is None, "the page did not reload after the fix")
        wait(lambda: error_box() is None, "the error stays after the fix")
    finally:
        running.close()
