"""``policygen serve``: serves the output on 127.0.0.1, only files inside it, rebuilds on a save
and tells the open page to reload."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from policygen.atomic import work_dir
from policygen.serve import RELOAD_SCRIPT, STATUS_PATH, Preview


@pytest.fixture
def preview(mini: Path) -> Iterator[Preview]:
    running = Preview(mini, port=0, say=lambda _message: None, pdf=False)
    running.start()
    yield running
    running.close()


def get(preview: Preview, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    host, port = preview.server.server_address[:2]
    connection = http.client.HTTPConnection(str(host), int(port), timeout=10)
    connection.request(method, path)  # sent as written: no client-side normalization of '..'
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, dict(response.getheaders()), body


def status(preview: Preview) -> dict[str, object]:
    return json.loads(get(preview, STATUS_PATH)[2])


def test_serves_the_site_on_localhost_with_a_reload_script(preview: Preview, mini: Path) -> None:
    assert preview.server.server_address[0] == "127.0.0.1"
    code, headers, body = get(preview, "/")
    assert code == 200 and headers["Content-Type"].startswith("text/html")
    assert RELOAD_SCRIPT.encode() in body and b"Mini test site" in body
    assert RELOAD_SCRIPT.encode() not in (mini / "output" / "index.html").read_bytes()  # the files stay as built
    code, headers, _ = get(preview, "/mini/en")
    assert code == 301 and headers["Location"] == "/mini/en/"
    assert get(preview, "/mini/en/")[0] == 200
    code, headers, body = get(preview, "/assets/policygen.css")
    assert code == 200 and body == (mini / "output" / "assets" / "policygen.css").read_bytes()
    assert get(preview, "/nope.html")[0] == 404


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks")
def test_never_serves_a_file_outside_the_output(preview: Preview, mini: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret\n", encoding="utf-8")
    out = mini / "output"
    (out / "leak.txt").symlink_to(secret)
    (out / "leakdir").symlink_to(tmp_path)
    for path in ("/../policygen.yaml", "/%2e%2e/policygen.yaml", "/..%2fpolicygen.yaml", "/mini/../../policygen.yaml",
                 "/leak.txt", "/leakdir/secret.txt", "/leakdir/", "//etc/passwd", "/%00", "/assets/../../glossary.yaml"):
        code, _headers, body = get(preview, path)
        assert code == 404, path
        assert b"top secret" not in body and b"Mini B.V." not in body and b"root:" not in body


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks")
def test_a_path_the_system_cannot_look_up_is_not_found(preview: Preview, mini: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """A name longer than the file system allows, a path longer than it allows, and a symlink
    loop in the output: each gets its 404 (GET and HEAD), not a dropped connection and a
    traceback on the terminal."""
    out = mini / "output"
    (out / "loop-a").symlink_to("loop-b")
    (out / "loop-b").symlink_to("loop-a")
    for path in ("/" + "a" * 300, "/" + "a/" * 3000, "/" + "%61" * 300 + "/b", "/loop-a", "/loop-a/index.html"):
        assert get(preview, path)[0] == 404, path[:40]
        host, port = preview.server.server_address[:2]
        connection = http.client.HTTPConnection(str(host), int(port), timeout=10)
        connection.request("HEAD", path)
        assert connection.getresponse().status == 404, path[:40]
        connection.close()
    assert "Traceback" not in capfd.readouterr().err
    assert get(preview, "/mini/en/")[0] == 200  # still serving


def test_rebuilds_on_a_save_and_the_page_reloads(preview: Preview, mini: Path) -> None:
    first = status(preview)
    assert first["html"] == 1 and first["error"] is None
    config = mini / "policygen.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("Mini test site", "Mini preview site"), encoding="utf-8")
    deadline = time.monotonic() + 60
    _wait(lambda: status(preview)["html"] != first["html"], "no rebuild after a save")
    assert b"Mini preview site" in get(preview, "/")[2]
    # A mistake: the error is reported, and the last good site stays up until it is fixed.
    prose = mini / "sources" / "mini" / "policy.md"
    good = prose.read_text(encoding="utf-8")
    prose.write_text(good.replace("{{retention.account}}", "{{retention.nope}}"), encoding="utf-8")
    while status(preview)["error"] is None:
        assert time.monotonic() < deadline, "the broken source was not reported"
        time.sleep(0.05)
    assert "retention.nope" in str(status(preview)["error"])
    assert get(preview, "/")[0] == 200
    before = status(preview)["html"]
    prose.write_text(good, encoding="utf-8")
    while status(preview)["html"] == before:
        assert time.monotonic() < deadline, "no rebuild after the fix"
        time.sleep(0.05)
    assert status(preview)["error"] is None


def test_a_save_during_the_first_build_is_not_lost(mini: Path) -> None:
    """A save made while ``serve`` builds the site for the first time (seconds on a real
    project) is rebuilt like any other: the project is watched from the start, not from the end
    of that build. Before, the watcher started after it, and such a save waited for the next one."""
    running = Preview(mini, port=0, say=lambda _message: None, pdf=False)
    config = mini / "policygen.yaml"
    first_build = running._build

    def build_then_save(formats: list[str], cancel: Any = None) -> bool:
        built = first_build(formats, cancel)
        if running.state.html == 1 and "Mini test site" in config.read_text(encoding="utf-8"):
            config.write_text(config.read_text(encoding="utf-8").replace("Mini test site", "Mini preview site"), encoding="utf-8")
        return built

    running._build = build_then_save  # type: ignore[method-assign]
    try:
        running.start()
        deadline = time.monotonic() + 20
        while b"Mini preview site" not in get(running, "/")[2]:
            assert time.monotonic() < deadline, "the save made during the first build was never rebuilt"
            time.sleep(0.05)
    finally:
        running.close()


def test_pdfs_come_after_the_html(mini: Path) -> None:
    messages: list[str] = []
    running = Preview(mini, port=0, say=messages.append)
    try:
        running.start()
        assert running.state.html == 1  # the HTML is up when start returns; the PDFs render in the background
        assert b"mini-en.pdf" not in get(running, "/mini/en/")[2]  # no PDF yet, so no link to one
        _wait(lambda: running.state.pdf == 1, "the PDFs were not built")
        assert [m.split(":")[0] for m in messages[1:]] == ["HTML", "PDFs"]
        assert get(running, "/mini/en/mini-en.pdf")[2].startswith(b"%PDF-")
        # Then the page links its PDF, as a build's does, and open pages reload to show it.
        assert b'href="mini-en.pdf"' in get(running, "/mini/en/")[2] and running.state.html == 2
    finally:
        running.close()


def test_a_save_while_pdfs_render_cancels_them(mini: Path) -> None:
    """The HTML of a newer save never waits for the PDFs of the last one: they are cancelled
    (their workers stopped, nothing written), the HTML is rebuilt, and the PDFs start again."""
    messages: list[str] = []
    running = Preview(mini, port=0, say=messages.append)
    try:
        running.start()  # returns with the PDFs' build under way (three Khmer, Dutch and English PDFs take seconds)
        assert running.state.pdf == 0
        config = mini / "policygen.yaml"
        config.write_text(config.read_text(encoding="utf-8").replace("Mini test site", "Mini preview site"), encoding="utf-8")
        running.rebuild()  # what the watcher does on a save (it may see this save too, and rebuild once more)
        assert running.state.cancelled >= 1 and running.state.html >= 2
        assert b"Mini preview site" in get(running, "/")[2]
        _wait(lambda: running.state.pdf == 1, "the PDFs were not built after the cancel")
        said = [m.split(":")[0] for m in messages[1:]]
        assert said[-1] == "PDFs" and said[:-1] == ["HTML"] * (len(said) - 1)  # no PDFs before the last HTML
        work = work_dir(mini / "output")
        assert not (work / "tmp").exists() and not (work / "new").exists()  # the cancelled build left nothing behind
    finally:
        running.close()


def test_the_port_in_use_is_a_clear_error(preview: Preview, mini: Path, cli) -> None:
    port = preview.server.server_address[1]
    result = cli("serve", "-C", str(mini), "--port", str(port))
    assert result.exit_code == 1
    assert f"cannot serve on 127.0.0.1:{port}" in result.stderr


def _wait(predicate: Any, what: str) -> None:
    deadline = time.monotonic() + 60
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_an_edit_its_translations_lack_says_how_to_preview_it(mini: Path) -> None:
    """The usual edit while writing: an English clause the Dutch catalog has not caught up with.
    The publishing gate keeps it out of the site and says how to see it meanwhile; with
    ``allow_incomplete`` the page shows it at once (Dutch falls back to the English text)."""
    prose = mini / "sources" / "mini" / "policy.md"
    edited = prose.read_text(encoding="utf-8").replace("Write to", "Please write to")
    messages: list[str] = []
    strict = Preview(mini, port=0, say=messages.append, pdf=False)
    try:
        strict.start()
        assert status(strict)["error"] is None
        prose.write_text(edited, encoding="utf-8")
        _wait(lambda: status(strict)["error"] is not None, "the untranslated edit was not reported")
        assert "is not in the catalog" in str(status(strict)["error"])
        assert messages[-1].endswith("run 'policygen serve --allow-incomplete'")
        assert b"Please write to" not in get(strict, "/mini/en/")[2]  # the last good site stays up
    finally:
        strict.close()
    lenient = Preview(mini, port=0, say=messages.append, pdf=False, allow_incomplete=True)
    try:
        lenient.start()
        assert status(lenient)["error"] is None
        assert b"Please write to" in get(lenient, "/mini/en/")[2] and b"Please write to" in get(lenient, "/mini/nl/")[2]
    finally:
        lenient.close()


def test_a_broken_source_gets_no_translation_hint(preview: Preview, mini: Path) -> None:
    """The hint is for missing translations only: a broken placeholder is the author's to fix."""
    messages: list[str] = []
    preview.say = messages.append
    prose = mini / "sources" / "mini" / "policy.md"
    prose.write_text(prose.read_text(encoding="utf-8").replace("{{retention.account}}", "{{retention.nope}}"), encoding="utf-8")
    _wait(lambda: status(preview)["error"] is not None, "the broken source was not reported")
    assert "retention.nope" in messages[-1] and "--allow-incomplete" not in messages[-1]


def test_serve_quiet_still_prints_a_failed_build(mini: Path) -> None:
    """``serve -q`` prints nothing but errors: a save that breaks the build is still reported
    (on stderr), where before -q silenced it with everything else."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "policygen", "serve", "-q", "-C", str(mini), "--port", str(port), "--no-pdf"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        def state() -> dict[str, Any] | None:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", STATUS_PATH)
                return dict(json.loads(connection.getresponse().read()))
            except OSError:
                return None

        _wait(lambda: (state() or {}).get("html") == 1, "serve did not build")
        prose = mini / "sources" / "mini" / "policy.md"
        prose.write_text(prose.read_text(encoding="utf-8").replace("{{retention.account}}", "{{retention.nope}}"), encoding="utf-8")
        _wait(lambda: (state() or {}).get("error") is not None, "the broken source was not reported")
    finally:
        process.terminate()
        stdout, stderr = process.communicate(timeout=30)
    assert "retention.nope" in stderr and "build failed" in stderr
    # Only the address served, what serve is asked for (-q hid it too); no build summaries.
    assert stdout.splitlines() == [f"Serving {mini / 'output'} at http://127.0.0.1:{port}/ (Ctrl-C to stop)"], stdout


def test_serves_on_an_ipv6_address_and_names_a_bad_host(mini: Path, cli) -> None:
    """--host ::1 serves on IPv6's loopback (the URL in brackets); a host that does not resolve
    is named as the problem. Before, ::1 failed ('Address family for hostname not supported')
    and every failure said 'choose another --port'."""
    running = Preview(mini, port=0, host="::1", say=lambda _message: None, pdf=False)
    try:
        running.start()
        assert running.url.startswith("http://[::1]:")
        connection = http.client.HTTPConnection("::1", running.server.server_address[1], timeout=10)
        connection.request("GET", "/mini/en/")
        assert connection.getresponse().status == 200
        connection.close()
    finally:
        running.close()
    result = cli("serve", "-C", str(mini), "--host", "no-such-host.invalid", "--port", "8000")
    assert result.exit_code == 1 and "cannot serve on no-such-host.invalid:8000" in result.stderr
    assert "--host" in result.stderr and "another --port" not in result.stderr, result.stderr


def test_a_page_asked_for_under_another_host_name_is_refused(preview: Preview) -> None:
    """DNS rebinding: a web page of another site that gets its name pointed at 127.0.0.1 could
    read the preview (drafts not yet published, the status) from the reader's browser. Served on
    the loopback address, the preview answers only requests that name localhost or a loopback
    address; before, it answered any Host."""
    host, port = preview.server.server_address[:2]
    for name, allowed in ((f"127.0.0.1:{port}", True), (f"localhost:{port}", True), ("localhost", True),
                          (f"evil.example:{port}", False), ("attacker.example", False), (f"127.0.0.1.evil.example:{port}", False)):
        for path in ("/mini/en/", STATUS_PATH):
            connection = http.client.HTTPConnection(str(host), int(port), timeout=10)
            connection.putrequest("GET", path, skip_host=True)
            connection.putheader("Host", name)
            connection.endheaders()
            response = connection.getresponse()
            body = response.read()
            connection.close()
            assert (response.status == 200) == allowed, (name, path, response.status)
            if not allowed:
                assert b"Mini" not in body and b'"html"' not in body


def test_every_file_is_served_to_be_fetched_again(preview: Preview, mini: Path) -> None:
    """A stylesheet, a font, the manifest: every response tells the browser not to keep it.
    Before, only pages and the status did; a stylesheet came with Last-Modified alone, which a
    browser may reuse without asking (heuristic freshness: a tenth of its age), so a page that
    reloaded after a theme's CSS was saved could show the old CSS."""
    for path in ("/assets/policygen.css", "/manifest.json", "/assets/fonts/NotoSansKhmer.ttf", "/mini/en/", "/mini/en"):
        code, headers, _body = get(preview, path)
        assert code in (200, 301), (path, code)
        assert headers.get("Cache-Control") == "no-store", (path, headers)


def test_head_sends_the_headers_get_sends(preview: Preview) -> None:
    """HEAD of a page answers with GET's headers: its type with the charset (which
    docs/publishing.md says serve sends) and the length of the page as served, the reload
    snippet included. Before, HEAD went to the standard library: 'text/html' with no charset, and
    the length of the file on disk."""
    for path in ("/mini/en/", "/mini/en/fragment.html", STATUS_PATH):  # the status answered HEAD with a 404
        got_code, got, got_body = get(preview, path)
        head_code, head, head_body = get(preview, path, "HEAD")
        got_headers, head_headers = ({name.lower(): value for name, value in h.items()} for h in (got, head))
        assert got_code == head_code == 200 and head_body == b"", (path, got_code, head_code)
        kind = "application/json" if path == STATUS_PATH else "text/html; charset=utf-8"
        assert got_headers["content-type"] == head_headers["content-type"] == kind, (path, head_headers)
        assert head_headers["content-length"] == got_headers["content-length"] == str(len(got_body)), (path, head_headers)


def test_the_slash_redirect_stays_on_the_preview(preview: Preview) -> None:
    """A folder asked for without its slash is redirected to it; the redirect never leaves the
    preview. Before, '//evil.example/../mini/en' (which resolves to the folder mini/en) was sent
    to '//evil.example/../mini/en/', which a browser reads as http://evil.example/mini/en/."""
    for path, folder in (("//evil.example/../mini/en", "/mini/en/"), ("//evil.example/%2e%2e/mini/en", "/mini/en/"),
                         ("/\\evil.example/../mini/en", "/mini/en/"), ("/\\evil.example/../assets", "/assets/"),
                         ("/mini/en?lang=1", "/mini/en/?lang=1")):
        for method in ("GET", "HEAD"):  # HEAD went through the standard library's redirect, which echoed the path
            code, headers, _body = get(preview, path, method)
            # Each is the folder without its slash: redirected, and to the folder's own path.
            assert (code, headers.get("Location")) == (301, folder), (method, path, code, headers.get("Location"))


def test_an_output_folder_inside_the_sources_is_refused_and_not_made(mini: Path) -> None:
    """serve -o sources/preview is refused as build refuses it, and makes no folder there.
    Before, serve made the folder first: the build then failed on a policy folder without its
    files, and the project stayed broken (check failed) after serve ended."""
    messages: list[str] = []
    running = Preview(mini, port=0, output=mini / "sources" / "preview", say=messages.append, pdf=False)
    try:
        running.start()
        assert "overlaps the project's sources/ folder" in str(running.state.error), running.state.error
    finally:
        running.close()
    assert not (mini / "sources" / "preview").exists()


def _count_builds(running: Preview) -> list[list[str]]:
    """The formats of every build ``running`` starts from now on, in order (each build still runs)."""
    builds: list[list[str]] = []
    build = running._build

    def counted(formats: list[str], cancel: Any = None) -> bool:
        builds.append(formats)
        return build(formats, cancel)

    running._build = counted  # type: ignore[method-assign]
    return builds


def test_an_editors_own_files_start_no_build(mini: Path) -> None:
    """What editors write beside the file being edited (vim's swap file, rewritten while you
    type, and its write test '4913'; backups 'name~'; emacs' '#name#' and '.#name'; JetBrains'
    and gedit's temporary files) is no input: it starts no build, so the open page does not
    reload while you type. Before, each swap-file write rebuilt the site and reloaded the page."""
    running = Preview(mini, port=0, say=lambda _message: None, pdf=False, allow_incomplete=True)
    builds = _count_builds(running)
    folder = mini / "sources" / "mini"
    try:
        running.start()
        assert builds == [["html"]]
        for name in (".policy.md.swp", ".policy.md.swx", "4913", "policy.md~", "#policy.md#", ".#policy.md", "policy.md___jb_tmp___",
                     ".goutputstream-ABC123"):
            (folder / name).write_bytes(b"editor state\n")
        (mini / "sources" / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
        time.sleep(1.5)  # the watcher steps every 25 ms and waits 50 ms for a batch to settle
        assert builds == [["html"]], "an editor's own file started a build"
        prose = folder / "policy.md"
        prose.write_text(prose.read_text(encoding="utf-8").replace("Write to", "Please write to"), encoding="utf-8")
        _wait(lambda: running.state.html >= 2, "no rebuild after a save")
        assert builds == [["html"], ["html"]]
    finally:
        running.close()


def test_a_build_beside_the_preview_is_waited_for(mini: Path) -> None:
    """A 'policygen build' run in another terminal holds the output folder's lock while the
    preview would build (here, its first build): the preview waits for it and then builds.
    Before, the preview's build failed at once with 'another build is writing into this
    folder', the page showed that failure, and the save was lost until the next one."""
    lock = work_dir(mini / "output") / "lock"
    lock.parent.mkdir(parents=True)
    hold = ("import sys, time; from filelock import FileLock; held = FileLock(sys.argv[1], timeout=0); held.acquire(); "
            "print('held', flush=True); time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", hold, str(lock)], stdout=subprocess.PIPE, text=True)
    messages: list[str] = []
    running = Preview(mini, port=0, say=messages.append, pdf=False)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        starting = threading.Thread(target=running.start)
        starting.start()
        deadline = time.monotonic() + 20
        while not messages or "another build is writing" not in messages[-1]:
            assert time.monotonic() < deadline, messages
            time.sleep(0.05)
        time.sleep(0.5)
        assert running.state.error is None and running.state.html == 0  # waiting, not failed
        holder.kill()
        while running.state.html == 0:
            assert running.state.error is None, running.state.error
            assert time.monotonic() < deadline, "the preview did not build once the other build was done"
            time.sleep(0.05)
        assert get(running, "/mini/en/")[0] == 200
        starting.join(10)
    finally:
        holder.kill()
        holder.communicate()
        running.close()


def test_a_file_outside_the_projects_inputs_starts_no_build(mini: Path) -> None:
    """The project folder often holds more than policygen reads (a README, CI files, an IDE's
    folder such as .idea/, whose workspace.xml the IDE rewrites on its own, a folder of notes):
    a change there starts no build and reloads no page. Only policygen.yaml, glossary.yaml,
    rules.yaml, sources/, locales/, theme/ and archive/ (what a build reads) are watched."""
    running = Preview(mini, port=0, say=lambda _message: None, pdf=False)
    builds = _count_builds(running)
    try:
        running.start()
        assert builds == [["html"]]
        (mini / ".idea").mkdir()
        (mini / ".idea" / "workspace.xml").write_text("<project/>\n", encoding="utf-8")
        (mini / "README.md").write_text("# Our policies\n", encoding="utf-8")
        (mini / "notes").mkdir()
        (mini / "notes" / "todo.md").write_text("ask legal\n", encoding="utf-8")
        (mini / "sources-old").mkdir()
        time.sleep(1.5)  # the watcher steps every 25 ms and waits 50 ms for a batch to settle
        assert builds == [["html"]], "a file no build reads started a build"
        config = mini / "policygen.yaml"
        config.write_text(config.read_text(encoding="utf-8").replace("Mini test site", "Mini preview site"), encoding="utf-8")
        _wait(lambda: running.state.html >= 2, "no rebuild after a save")
        assert builds == [["html"], ["html"]]
    finally:
        running.close()


@pytest.mark.parametrize("host", ["127.1", "0x7f000001", "localhost"])
def test_the_loopback_spelled_another_way_refuses_other_host_names_too(mini: Path, host: str) -> None:
    """--host 127.1 (or 0x7f000001, or the name localhost) binds the loopback as 127.0.0.1
    does, so a page of another site pointed at it (DNS rebinding) must be refused there too.
    Before, the check asked whether --host as written was a loopback address: '127.1' was not,
    and every Host was answered."""
    running = Preview(mini, port=0, host=host, say=lambda _message: None, pdf=False)
    try:
        running.start()
        address, port = running.server.server_address[:2]
        assert address == "127.0.0.1"
        for name, allowed in ((f"127.0.0.1:{port}", True), (f"localhost:{port}", True), (f"evil.example:{port}", False)):
            connection = http.client.HTTPConnection(str(address), int(port), timeout=10)
            connection.putrequest("GET", "/mini/en/", skip_host=True)
            connection.putheader("Host", name)
            connection.endheaders()
            response = connection.getresponse()
            response.read()
            connection.close()
            assert (response.status == 200) == allowed, (host, name, response.status)
    finally:
        running.close()


def test_serve_outside_a_project_is_an_error(tmp_path: Path) -> None:
    """'policygen serve' in a folder that holds no policygen.yaml (a mistyped -C, the wrong
    folder) stops at once with the message every other command gives, exit code 1. Before, it
    served an empty folder and reported 'build failed; still serving the last good output'
    (there was none) until Ctrl-C."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for folder in (tmp_path, tmp_path / "no-such-folder"):
        done = subprocess.run([sys.executable, "-m", "policygen", "serve", "-C", str(folder), "--port", str(port), "--no-pdf"],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 1, (done.stdout, done.stderr)
        assert done.stderr.startswith(f"policygen: {folder}: no policygen.yaml here"), done.stderr
        assert "Serving" not in done.stdout
    assert not (tmp_path / "output").exists()


def test_a_page_gone_between_its_lookup_and_its_read_is_answered(preview: Preview, mini: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  capfd: pytest.CaptureFixture[str]) -> None:
    """A rebuild swaps the output folder while requests are answered: a page the new site no
    longer has (a draft released, a policy renamed) can go between the request's lookup and the
    read of its bytes. That request is answered as the folder now is; before, the read's error
    ended the request with a dropped connection and a traceback on the terminal."""
    capfd.readouterr()
    real_read = Path.read_bytes

    def gone(self: Path) -> bytes:
        if self.name == "index.html" and self.parent.name == "en":
            self.unlink(missing_ok=True)  # the swap lands here
        return real_read(self)

    monkeypatch.setattr(Path, "read_bytes", gone)
    for method in ("GET", "HEAD"):
        # Answered as the folder now is (the page gone: its listing), not a dropped connection.
        code, _headers, body = get(preview, "/mini/en/", method)
        assert code == 200 and (method == "HEAD" or b"fragment.html" in body), (method, code)
        (mini / "output" / "mini" / "en" / "index.html").write_bytes(b"<html><body>back</body></html>")
    monkeypatch.undo()
    assert "Traceback" not in capfd.readouterr().err
    assert get(preview, "/mini/en/")[0] == 200  # still serving
