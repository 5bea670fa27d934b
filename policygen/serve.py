"""Live preview: build, serve the output on localhost, rebuild on every save, reload the page.

``serve`` builds the project (HTML first, then the PDFs), serves the output folder over HTTP on
127.0.0.1 (or the ``--host`` given; a port of your choice), and watches what a build reads with ``watchfiles``. On a save it
rebuilds the HTML at once, tells open pages to reload, and then builds the whole site with its
PDFs in the background (the build cache keeps that to the PDFs whose inputs changed; the pages
then link their PDFs, and reload once more); a newer save cancels PDFs still rendering, so its
HTML does not wait for them. A build error is reported (through ``complain``: the CLI's stderr)
and shown at the bottom of the open page, and the last good output stays up.

Only files inside the output folder are served: a path is resolved (symlinks followed) and
refused unless it lies inside the output, so neither ``..`` nor a symlink in the output reaches
another file. Served on a loopback address, only requests naming localhost or a loopback address
are answered (DNS rebinding). Every response is ``Cache-Control: no-store``, so a reloaded page
never takes a stylesheet or PDF of an older build from the browser's cache. The pages on disk are
never changed: the few lines that make an open page reload (and show a failed build) are added to
HTML responses only.
"""

from __future__ import annotations

import errno
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

from policygen.atomic import OutputBusy, editors_own, work_dir
from policygen.build import BuildResult, Cancelled, build
from policygen.cache import CACHE_DIR
from policygen.errors import PolicygenError, TranslationsIncomplete
from policygen.records import INPUTS
from policygen.source.load import find_project

if TYPE_CHECKING:
    import http.server

STATUS_PATH = "/__policygen__/status"
RELOAD_SCRIPT = (
    "<script>/* policygen serve: reload when the site is rebuilt; show a failed build */(function(){var seen=null;"
    # The error as text (textContent: a source's text never becomes markup), in a box at the
    # bottom of the page, which stays the last good build until a save fixes it.
    "function show(e){var b=document.getElementById('policygen-serve-error');if(!e){if(b){b.remove()}return}"
    "if(!b){b=document.createElement('pre');b.id='policygen-serve-error';b.setAttribute('role','alert');"
    "b.style.cssText='position:fixed;left:0;right:0;bottom:0;z-index:2147483647;margin:0;max-height:50vh;overflow:auto;"
    "padding:0.75em 1em;background:#fff;color:#8b0000;border-top:4px solid #8b0000;font:14px/1.4 monospace;white-space:pre-wrap';"
    "document.body.appendChild(b)}"
    "b.textContent='policygen serve: the build failed; this page is the last good build.\\n'+e}"
    "function poll(){fetch('" + STATUS_PATH + "',{cache:'no-store'}).then(function(r){return r.json()}).then(function(s){"
    "if(seen!==null&&s.html!==seen){location.reload();return}seen=s.html;show(s.error)})"
    ".catch(function(){}).finally(function(){setTimeout(poll,300)})}"
    "poll()})();</script>"
)


@dataclass
class State:
    """What the server knows about the builds, shared by the watcher and the request handlers."""

    html: int = 0
    """Counts the HTML builds that succeeded; an open page reloads when it changes."""
    pdf: int = 0
    """Counts the PDF builds that succeeded."""
    cancelled: int = 0
    """Counts the PDF builds a newer save cancelled."""
    error: str | None = None
    """The last build's error, while it stands."""
    lock: threading.Lock = field(default_factory=threading.Lock)


def _loopback(name: str) -> bool:
    """Whether a host name or address names this machine's loopback (localhost, 127.x, ::1)."""
    import ipaddress

    name = name.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _handler(out: Path, state: State, host: str = "127.0.0.1") -> type[http.server.SimpleHTTPRequestHandler]:
    import http.server  # imported on first use: every other command starts without it

    root = out.resolve()
    # Served on the loopback address, only requests that name it are answered: a page of another
    # site whose name an attacker points at 127.0.0.1 (DNS rebinding) must not read the drafts.
    # The server's own flag, when it has one, is taken from the address it bound (Preview).
    loopback_only = _loopback(host)

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(out), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: the terminal shows builds, not requests

        def end_headers(self) -> None:
            # Every response, stylesheets and PDFs included: a file a rebuild changed must not
            # be taken from the browser's cache when the page reloads.
            self.send_header("Cache-Control", "no-store")
            super().end_headers()

        def _foreign_host(self) -> bool:
            """Whether the request names a host other than the loopback (refused with 403)."""
            given = self.headers.get("Host")
            if not getattr(self.server, "loopback_only", loopback_only) or given is None:  # no Host header: HTTP/1.0, never a browser
                return False
            name = given.strip()
            if name.startswith("["):
                name = name[1:name.find("]")] if "]" in name else name
            elif name.count(":") == 1:
                name = name.split(":")[0]
            if _loopback(name):
                return False
            self.send_error(403, "This preview answers only requests for localhost")
            return True

        def do_GET(self) -> None:
            self._respond(body=True)

        def do_HEAD(self) -> None:
            self._respond(body=False)

        def _respond(self, body: bool) -> None:
            """A GET, or a HEAD (``body=False``: the headers the GET sends, its type and length)."""
            if self._foreign_host():
                return
            if urlsplit(self.path).path == STATUS_PATH:
                status = json.dumps({"html": state.html, "pdf": state.pdf, "error": state.error}).encode()
                self._send(200, "application/json", status, body=body)
                return
            target = self._inside()
            if target is None:
                self.send_error(404, "Not found")
                return
            if self._redirected(target):
                return
            page = self._page(target)
            if page is not None:  # with the reload snippet: its length is the page's as served
                self._send(200, "text/html; charset=utf-8", page, body=body)
                return
            if body:
                super().do_GET()
            else:
                super().do_HEAD()

        def _page(self, target: Path) -> bytes | None:
            """An HTML file as served: with the reload snippet before ``</body>``; None for
            anything else."""
            if not (target.is_file() and target.suffix == ".html"):
                return None
            try:
                body = target.read_bytes()
            except OSError:
                # Gone since the lookup (a rebuild swapped the output in between): the standard
                # library answers as the path now is (its folder's listing, or a 404).
                return None
            marker = body.lower().rfind(b"</body>")
            return body[:marker] + RELOAD_SCRIPT.encode() + body[marker:] if marker >= 0 else body + RELOAD_SCRIPT.encode()

        def _redirected(self, target: Path) -> bool:
            """Send a folder asked for without its slash to the folder (relative links need the
            slash); whether it did."""
            url = urlsplit(self.path)
            if not ((target.name == "index.html" and not url.path.endswith(("/", ".html"))) or (target.is_dir() and not url.path.endswith("/"))):
                return False
            self.send_response(301)
            # The folder's own path, not the one asked for: '/\host/..' (which a browser reads
            # as another site) never becomes a Location.
            folder = (target if target.is_dir() else target.parent).relative_to(root).as_posix()
            location = "/" + (quote(folder) + "/" if folder != "." else "")
            self.send_header("Location", location + (f"?{url.query}" if url.query else ""))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return True

        def _inside(self) -> Path | None:
            """The file a request names, when it really lies in the output folder."""
            path = unquote(urlsplit(self.path).path)
            if "\0" in path:
                return None
            try:
                target = (root / path.lstrip("/")).resolve()
                if target != root and not target.is_relative_to(root):
                    return None
                if target.is_dir():
                    index = (target / "index.html").resolve()
                    if not index.is_relative_to(root):
                        return None
                    return index if index.is_file() else target
                return target if target.exists() else None
            except (OSError, RuntimeError):
                # A name or path too long for the file system, a symlink loop (RuntimeError
                # from resolve): nothing to serve, and no traceback for a request.
                return None

        def translate_path(self, path: str) -> str:
            found = self._inside()
            # Never a file outside: an unknown path becomes one that does not exist in the output.
            return str(found) if found is not None else str(root / "__policygen_not_found__")

        def _send(self, status: int, kind: str, content: bytes, body: bool = True) -> None:
            """A response of ``content``; with ``body=False`` (HEAD) its headers alone."""
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            if body:
                self.wfile.write(content)

    return Handler


class Preview:
    """A running preview: the server, the watcher, and the builds they trigger."""

    def __init__(self, project: Path, port: int = 8000, host: str = "127.0.0.1", output: Path | None = None,
                 today: date | None = None, say: Callable[[str], None] = print, pdf: bool = True,
                 allow_incomplete: bool | None = None, complain: Callable[[str], None] | None = None,
                 announce: Callable[[str], None] | None = None) -> None:
        # No project there (a mistyped -C): an error now, as every other command gives, rather
        # than a preview of nothing that reports a failed build until Ctrl-C.
        self.project = find_project(project).resolve()
        self.announce = announce
        self.allow_incomplete = allow_incomplete
        self.pdf = pdf
        self.out = (output or self.project / "output").resolve()
        self.today = today
        self.say = say
        self.complain = complain
        """Where a failed build is reported (else through ``say``): the CLI's stderr, which ``-q`` leaves open."""
        self.state = State()
        self.stop = threading.Event()
        self.host = host
        handler = _handler(self.out, self.state, host)
        import socket
        from http.server import ThreadingHTTPServer

        class Server(ThreadingHTTPServer):
            # An IPv6 address (::1) needs an IPv6 socket; a name or an IPv4 address, IPv4's.
            address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
            loopback_only = True
            """Whether only requests naming the loopback are answered (the handler's Host check)."""

        self.server = Server((host, port), handler)
        # The address bound, not --host as written: '127.1', '0x7f000001' or a name that
        # resolves to 127.0.0.1 serve the loopback too, and must refuse other host names as well.
        self.server.loopback_only = _loopback(str(self.server.server_address[0]))
        self.server.daemon_threads = True
        self._threads: list[threading.Thread] = []
        self._pdfs: tuple[threading.Thread, threading.Event] | None = None
        self._rebuilding = threading.Lock()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.server.server_address[1]}/"

    def rebuild(self) -> None:
        """HTML first (an open page reloads), then the PDFs in the background. A newer save
        cancels PDFs still rendering, so its HTML never waits for them (a cancelled build stores
        nothing, so the next one renders its PDFs again, apart from those already cached)."""
        with self._rebuilding:
            self._cancel_pdfs()
            if self.stop.is_set():
                return
            if self._build(["html"]) and self.pdf and not self.stop.is_set():
                cancel = threading.Event()
                # The whole site again, PDFs and all (pages and unchanged PDFs from the cache): a
                # page links its PDF with its size, which the HTML-only build leaves out.
                thread = threading.Thread(target=self._build, args=(["html", "pdf"], cancel), name="policygen-pdfs", daemon=True)
                self._pdfs = (thread, cancel)
                thread.start()

    def _cancel_pdfs(self) -> None:
        if self._pdfs is not None:
            thread, cancel = self._pdfs
            cancel.set()
            thread.join()
            self._pdfs = None

    def _build(self, formats: list[str], cancel: threading.Event | None = None) -> bool:
        """One build of ``formats``; whether it succeeded. A failure is reported and leaves the
        last good output up."""
        try:
            result = self._build_when_free(formats, cancel)
        except Cancelled:
            with self.state.lock:
                self.state.cancelled += 1
            return False
        except PolicygenError as exc:
            diagnostics = exc.diagnostics()
            self.state.error = "\n".join(d.format() for d in diagnostics) if diagnostics else str(exc)
            hint = ""
            if isinstance(exc, TranslationsIncomplete):
                # The usual case while writing: a source edit that its translations do not have yet.
                hint = ("\nto preview it now, with the untranslated text in the source language, "
                        "run 'policygen serve --allow-incomplete'")
            (self.complain or self.say)(f"build failed; still serving the last good output:\n{self.state.error}{hint}")
            return False
        self.state.error = None
        with self.state.lock:
            if "pdf" in formats:
                self.state.pdf += 1
            if formats == ["html"] or any(path.endswith(".html") for path in result.written):
                self.state.html += 1  # open pages reload: their text changed, or now they link their PDF
        self.say(_summary(formats[-1], result))
        return True

    def _build_when_free(self, formats: list[str], cancel: threading.Event | None) -> BuildResult:
        """One build of ``formats``. While another build (a ``policygen build`` run beside the
        preview) writes into the output folder, this one waits for it and then builds: failed at
        once, the save was lost until the next one, and the page showed that failure meanwhile.
        A newer save (``cancel``) or the end of the preview stops the wait (:class:`Cancelled`)."""
        told = False
        while True:
            try:
                return build(self.project, output_dir=self.out, formats=formats, today=self.today,
                             allow_incomplete=self.allow_incomplete, cancel=cancel)
            except OutputBusy:
                if not told:
                    told = True
                    self.say(f"another build is writing into {self.out}; the preview builds when it is done")
                if self.stop.wait(0.2) or (cancel is not None and cancel.is_set()):
                    raise Cancelled("the build was cancelled") from None

    def start(self) -> None:
        """Serve, watch for saves, and build the HTML (the PDFs follow in the background). The
        project is watched before the first build starts: a save made while it runs is rebuilt
        after it (the watcher's rebuild waits for the first one)."""
        # The output folder is the build's to make: one it refuses (inside sources/) is never made.
        self._threads = [threading.Thread(target=self.server.serve_forever, name="policygen-serve", daemon=True),
                         threading.Thread(target=self._watch, name="policygen-watch", daemon=True)]
        self._threads[0].start()
        (self.announce or self.say)(f"Serving {self.out} at {self.url} (Ctrl-C to stop)")
        self._threads[1].start()
        self.rebuild()

    def _watch(self) -> None:
        from watchfiles import watch

        # Only what a build reads (policygen.yaml, glossary.yaml, rules.yaml, sources/, locales/,
        # theme/, archive/): the project folder often holds more (a README, CI files, an IDE's
        # folder that it rewrites on its own). Not the output, its work folder and policygen's
        # own state either, should they lie there (an output given inside theme/ is refused).
        inputs = [self.project / name for name in INPUTS]
        ignored = [self.out, work_dir(self.out), self.project / Path(CACHE_DIR).parts[0]]

        def wanted(_change: Any, path: str) -> bool:
            changed = Path(path)
            return (any(changed == folder or changed.is_relative_to(folder) for folder in inputs)
                    and not any(changed == folder or changed.is_relative_to(folder) for folder in ignored) and not editors_own(changed.name))

        for _changes in watch(self.project, watch_filter=wanted, debounce=50, step=25, rust_timeout=500, stop_event=self.stop,
                              raise_interrupt=False):
            self.rebuild()

    def close(self) -> None:
        self.stop.set()
        with self._rebuilding:
            self._cancel_pdfs()
        self.server.shutdown()
        self.server.server_close()
        for thread in self._threads:
            if thread.ident is not None:  # started (close may come before start)
                thread.join(10)


def _summary(kind: str, result: BuildResult) -> str:
    if kind == "pdf":
        return (f"PDFs: {len(result.pdfs_rendered)} rendered, {len(result.pdfs_cached)} from cache "
                f"({result.seconds:.1f} s)")
    pages, written = result.pages, len(result.written)
    return (f"HTML: {pages} page{'' if pages == 1 else 's'}, {written} file{'' if written == 1 else 's'} written, "
            f"{len(result.unchanged)} unchanged ({result.seconds:.1f} s)")


def serve(project: Path, port: int = 8000, host: str = "127.0.0.1", output: Path | None = None, today: date | None = None,
          say: Callable[[str], None] = print, pdf: bool = True, allow_incomplete: bool | None = None,
          complain: Callable[[str], None] | None = None, announce: Callable[[str], None] | None = None) -> None:
    """Run the preview until interrupted (Ctrl-C). ``allow_incomplete`` as for a build; a failed
    build is reported through ``complain``, the address served through ``announce`` (both
    default: ``say``)."""
    try:
        preview = Preview(project, port, host, output, today, say, pdf, allow_incomplete, complain, announce)
    except OSError as exc:
        # A port in use or not allowed is the port's problem; anything else (a name that does
        # not resolve, an address this machine does not have) the host's.
        fix = "choose another --port" if exc.errno in (errno.EADDRINUSE, errno.EACCES) else "check --host (an address of this machine)"
        raise PolicygenError(f"cannot serve on {host}:{port} ({exc.strerror}); {fix}") from None
    try:
        preview.start()
        preview.stop.wait()
    finally:
        preview.close()


__all__ = ["Preview", "serve"]
