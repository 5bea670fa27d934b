"""An archive that tells: nothing unlisted and no symbolic link goes unseen; the head of each
chain is published with every build and can be pinned (``--head``, ``--against``); signed
releases (Ed25519) are checked. Every case of the F08 reproducer is a test here, each with the
pin (if any) that catches it, as the threat model in docs/archive.md says."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from conftest import MINI, SAMPLE, build_once, built_sample, copy_project, private_copy
from test_archive import placeholder_pdf, placeholder_redline_pdf
from typer.testing import CliRunner

from policygen.cli import app

POLICY = "tonle-privacy"
ATOM = "{http://www.w3.org/2005/Atom}"
HEAD_TAG = "{tag:policygen,2026:archive}archive-head"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rewrite(path: Path, change: Callable[[dict], None]) -> None:
    """Rewrite a release.json the way release does (sorted, indented), after ``change``."""
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def forge_and_rechain(archive: Path, earlier: str, later: str, page: str = "output/en/index.html") -> None:
    """Replace an earlier release's page, fix its hash in release.json, and re-chain the next
    release to the new release.json: every hash and link is consistent again."""
    target = archive / earlier / page
    target.write_text("<p>forged policy text</p>", encoding="utf-8")
    rewrite(archive / earlier / "release.json", lambda d: d["files"].__setitem__(page, digest(target)))
    rewrite(archive / later / "release.json", lambda d: d.__setitem__("previous", digest(archive / earlier / "release.json")))


# --- 1. anything unlisted, and any symbolic link, is reported with no pin at all -------------

def _outside_link(a: Path) -> None:
    page = a / "2.0" / "output" / "en" / "index.html"
    outside = a.parent.parent.parent / "outside.html"
    shutil.copyfile(page, outside)  # the same bytes: the hash alone would not tell
    page.unlink()
    page.symlink_to(outside)


def _put(path: Path, text: str = "x") -> None:
    """A file, with the folders it needs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _linked_release(a: Path) -> None:
    shutil.move(a / "2.0", a.parent.parent.parent / "moved-2.0")
    (a / "2.0").symlink_to(a.parent.parent.parent / "moved-2.0")


STRAYS: list[tuple[str, Callable[[Path], object], str]] = [
    ("file next to the releases", lambda a: (a / "evil.html").write_text("<script>alert(1)</script>"),
     f"archive/{POLICY}/evil.html: not part of any release"),
    ("hidden folder next to the releases", lambda a: _put(a / ".hidden" / "x.html"),
     f"archive/{POLICY}/.hidden: not part of any release"),
    ("hidden policy folder in archive/", lambda a: shutil.copytree(a / "2.0", a.parent / ".shadow" / "2.0"),
     "archive/.shadow: not part of the archive"),
    ("file in archive/ itself", lambda a: (a.parent / "index.html").write_text("x"),
     "archive/index.html: not part of the archive"),
    ("folder not named like a policy", lambda a: (a.parent / "Not_A_Policy").mkdir(),
     "archive/Not_A_Policy: not part of the archive"),
    ("empty folder inside a release", lambda a: (a / "2.0" / "output" / "xx").mkdir(),
     f"archive/{POLICY}/2.0/output/xx: extra folder: holds no file listed in release.json"),
    ("hidden file inside a release", lambda a: (a / "2.1" / "locales" / ".notes").write_text("x"),
     f"archive/{POLICY}/2.1/locales/.notes: extra: not listed in release.json"),
    ("hidden folder inside a release", lambda a: _put(a / "3.0" / ".git" / "config"),
     f"archive/{POLICY}/3.0/.git: extra folder"),
    ("archived file replaced by a symlink to a copy outside", _outside_link,
     f"archive/{POLICY}/2.0/output/en/index.html: a symbolic link (to "),
    ("release folder replaced by a symlink", _linked_release, f"archive/{POLICY}/2.0: a symbolic link (to "),
    ("symlink next to the releases", lambda a: (a / "latest").symlink_to("3.0"), f"archive/{POLICY}/latest: a symbolic link (to 3.0)"),
    ("symlinked lock file", lambda a: (a / ".lock").symlink_to("/etc/passwd"), f"archive/{POLICY}/.lock: a symbolic link"),
    ("a stray in _keys/", lambda a: _put(a.parent / "_keys" / "notes.txt"),
     "archive/_keys/notes.txt: not a public key"),
    ("temp-like name that is a file", lambda a: (a / ".release-3.1-abcd1234").write_text("x"),
     f"archive/{POLICY}/.release-3.1-abcd1234: not part of any release"),
]


@pytest.mark.parametrize(("case", "tamper", "message"), STRAYS, ids=[case for case, _, _ in STRAYS])
def test_anything_unlisted_and_any_symlink_is_reported(sample: Path, cli, case: str, tamper: Callable[[Path], object], message: str) -> None:
    assert cli("archive", "verify", cwd=sample).exit_code == 0
    tamper(sample / "archive" / POLICY)
    result = cli("archive", "verify", cwd=sample)
    assert result.exit_code == 1, case
    assert message in result.stderr, result.stderr
    assert result.stderr.rstrip().endswith(("1 error", "errors")) and "Traceback" not in result.stderr


def test_the_lock_and_an_interrupted_release_are_not_strays(sample: Path, cli) -> None:
    """The release lock and a release's temporary folder (named as release.py makes them) are
    the two things the archive may hold besides releases; the folder is noted, not failed."""
    folder = sample / "archive" / POLICY
    (folder / ".lock").write_bytes(b"")
    temp = folder / ".release-3.1-k2x_9abc"
    (temp / "output" / "en").mkdir(parents=True)
    (temp / "output" / "en" / "index.html").write_text("half a release")
    result = cli("archive", "verify", cwd=sample)
    assert result.exit_code == 0, result.stderr
    assert f"note: archive/{POLICY}/.release-3.1-k2x_9abc: left by an interrupted release" in result.stderr


def test_the_names_verify_allows_are_the_names_release_uses() -> None:
    """store defines the lock file and the temp folder names; release.py uses those constants."""
    import inspect

    from policygen.archive import release, store

    source = inspect.getsource(release)
    assert "LOCK_FILE" in source and 'f"{TEMP_PREFIX}{version}-"' in source
    assert '".lock"' not in source and '".release-' not in source
    assert store.TEMP_RE.fullmatch(store.TEMP_PREFIX + "3.1-rc.2-" + "a1_b2c3d")


# --- 2. the head of each chain: published, pinned, compared --------------------------------

@pytest.fixture(scope="session")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample built once (HTML, as of 2026-03-10, shared with other modules): its output/
    is "the published site"."""
    return built_sample(tmp_path_factory, "2026-03-10") / "output"


def test_every_build_publishes_the_heads(published: Path) -> None:
    head = digest(SAMPLE / "archive" / POLICY / "3.0" / "release.json")
    manifest = json.loads((published / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["archive"] == {POLICY: {"head": head, "version": "3.0", "sequence": 3}}
    for locale in ("en", "nl", "km"):
        page = (published / POLICY / locale / "archive" / "index.html").read_text(encoding="utf-8")
        assert f'<code data-policy="{POLICY}" data-version="3.0" data-sequence="3">{head}</code>' in page
        feed = ET.fromstring((published / POLICY / locale / "feed.atom").read_bytes())
        element = feed.find(HEAD_TAG)
        assert element is not None and element.text == head
        assert element.attrib == {"policy": POLICY, "version": "3.0", "sequence": "3"}
        assert len(feed.findall(f"{ATOM}entry")) == 3  # the extension element leaves the entries as they were
    en = (published / POLICY / "en" / "archive" / "index.html").read_text(encoding="utf-8")
    assert "Archive fingerprint (SHA-256 of the release record of version 3.0, release 3):" in en


def test_a_project_without_releases_publishes_an_empty_archive_entry(mini: Path, cli) -> None:
    assert cli("build", cwd=mini).exit_code == 0
    assert json.loads((mini / "output" / "manifest.json").read_text(encoding="utf-8"))["archive"] == {}


def _edit_notes(a: Path) -> None:
    rewrite(a / "3.0" / "release.json", lambda d: d.__setitem__("notes", "X" + d["notes"]))


def _edit_effective_date(a: Path) -> None:
    rewrite(a / "3.0" / "release.json", lambda d: d.__setitem__("effective_date", "2027-03-01"))


HEAD_CASES: list[tuple[str, Callable[[Path], object], str]] = [
    ("edit the newest release.json (notes)", _edit_notes, f"archive/{POLICY}/3.0/release.json: differs from the published head of release 3"),
    ("change the newest release's effective date", _edit_effective_date, f"archive/{POLICY}/3.0/release.json: differs from the published head"),
    ("delete the newest release", lambda a: shutil.rmtree(a / "3.0"),
     f"archive/{POLICY}: the published manifest names release 3 (3.0, "),
    ("forge an earlier release and re-chain", lambda a: forge_and_rechain(a, "2.1", "3.0"),
     f"archive/{POLICY}/3.0/release.json: differs from the published head"),
]


@pytest.mark.parametrize(("case", "tamper", "message"), HEAD_CASES, ids=[case for case, _, _ in HEAD_CASES])
def test_the_newest_release_needs_a_pin(sample: Path, published: Path, tmp_path: Path, cli, case: str,
                                        tamper: Callable[[Path], object], message: str) -> None:
    """The chain alone cannot tell these (the threat model says so); a pin can: --head with the
    digest 'archive verify' printed, or --against a manifest.json saved from the published site."""
    saved = tmp_path / "saved-manifest.json"
    shutil.copyfile(published / "manifest.json", saved)
    head = json.loads(saved.read_text(encoding="utf-8"))["archive"][POLICY]["head"]
    tamper(sample / "archive" / POLICY)
    assert cli("archive", "verify", cwd=sample).exit_code == 0, "the chain alone cannot tell (see the threat model)"
    against = cli("archive", "verify", "--against", str(saved), cwd=sample)
    assert against.exit_code == 1 and message in against.stderr, against.stderr
    pinned = cli("archive", "verify", "--head", f"{POLICY}={head}", cwd=sample)
    assert pinned.exit_code == 1 and "the newest release was changed, removed or replaced" in pinned.stderr


def test_against_accepts_releases_made_since(sample: Path, tmp_path: Path, cli) -> None:
    """A manifest saved before the newest release names an older head: the chain ties the newer
    release to it, so that is no difference; a wrong digest for the same release is."""
    older = digest(sample / "archive" / POLICY / "2.1" / "release.json")
    saved = tmp_path / "manifest.json"
    saved.write_text(json.dumps({"archive": {POLICY: {"head": older, "version": "2.1", "sequence": 2}}}), encoding="utf-8")
    assert cli("archive", "verify", "--against", str(saved), cwd=sample).exit_code == 0
    saved.write_text(json.dumps({"archive": {POLICY: {"head": "0" * 64, "version": "2.1", "sequence": 2}}}), encoding="utf-8")
    result = cli("archive", "verify", "--against", str(saved), cwd=sample)
    assert result.exit_code == 1 and f"archive/{POLICY}/2.1/release.json: differs from the published head of release 2" in result.stderr
    saved.write_text(json.dumps({"archive": {"gone-policy": {"head": older, "version": "1.0", "sequence": 1}}}), encoding="utf-8")
    result = cli("archive", "verify", "--against", str(saved), cwd=sample)
    assert result.exit_code == 1 and "archive/gone-policy: the published manifest names release 1" in result.stderr


@pytest.mark.parametrize(("content", "message"), [
    (None, "cannot read the published manifest"),
    ("{not json", "not a JSON manifest"),
    ('{"outputs": []}', "no 'archive' entry"),
    ('{"archive": {"tonle-privacy": {"head": "abc", "version": "3.0", "sequence": 3}}}', "archive entry 'tonle-privacy' is not a head"),
    ('{"archive": {"tonle-privacy": {"head": "' + "a" * 64 + '", "version": "3.0", "sequence": true}}}', "is not a head"),
])
def test_a_bad_published_manifest_is_a_clear_error(sample: Path, tmp_path: Path, cli, content: str | None, message: str) -> None:
    saved = tmp_path / "manifest.json"
    if content is not None:
        saved.write_text(content, encoding="utf-8")
    result = cli("archive", "verify", "--against", str(saved), cwd=sample)
    assert result.exit_code == 1 and message in result.stderr and "Traceback" not in result.stderr


# --- 3. signed releases ------------------------------------------------------------------

def set_version(project: Path, version: str, effective: str) -> None:
    path = project / "sources" / "mini" / "policy.yaml"
    lines = [f'version: "{version}"' if line.startswith("version:") else f"effective_date: {effective}" if line.startswith("effective_date:")
             else line for line in path.read_text(encoding="utf-8").splitlines()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _make_signed(folder: Path) -> None:
    """The mini project with a key pair (private key outside the project) and two signed
    releases, whose PDFs are placeholders (test_archive.placeholder_pdfs)."""
    project = copy_project(MINI, folder / "mini")
    (folder / "secret").mkdir()
    runner = CliRunner()

    def run(*args: str, env: dict[str, str] | None = None) -> str:
        result = runner.invoke(app, [*args, "--project", str(project)], env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.stderr
        return result.stdout

    assert "archive/_keys/release.pub" in run("archive", "keygen", "release", "--private-key", str(folder / "secret" / "release.key"))
    with pytest.MonkeyPatch.context() as patch:  # as test_archive.placeholder_pdfs: signatures do not read what a PDF holds
        patch.setattr("policygen.archive.release.render_pdf", placeholder_pdf)
        patch.setattr("policygen.archive.release.redline_pdf", placeholder_redline_pdf)
        run("release", "mini", "--version", "1.0", "--effective", "2026-05-05", "--notes", "First version",
            "--signing-key", str(folder / "secret" / "release.key"))
        set_version(project, "1.1", "2026-07-01")
        run("release", "mini", "--version", "1.1", "--effective", "2026-07-01", "--notes", "Second",
            env={"POLICYGEN_SIGNING_KEY": str(folder / "secret" / "release.key")})


@pytest.fixture(scope="session")
def signed_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_once(tmp_path_factory, "mini-signed", _make_signed)


@pytest.fixture
def signed(signed_once: Path, tmp_path: Path) -> tuple[Path, Path]:
    """This test's own copy: (the project, the private key outside it)."""
    base = private_copy(signed_once, tmp_path / "signed")
    return base / "mini", base / "secret" / "release.key"


def test_signed_releases_verify(signed: tuple[Path, Path], cli) -> None:
    project, _key = signed
    archive = project / "archive"
    assert sorted(p.name for p in (archive / "_keys").iterdir()) == ["release.pub"]
    result = cli("archive", "verify", cwd=project)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("OK: 2 releases, 2 signed,")
    # The signature covers the exact bytes of release.json: anyone can check it with the public key alone.
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    public = load_pem_public_key((archive / "_keys" / "release.pub").read_bytes())
    assert isinstance(public, Ed25519PublicKey)
    for version in ("1.0", "1.1"):
        sig = json.loads((archive / "mini" / version / "release.sig").read_text(encoding="utf-8"))
        assert sig["algorithm"] == "ed25519" and sig["key"].startswith("sha256:")
        public.verify(base64.b64decode(sig["signature"]), (archive / "mini" / version / "release.json").read_bytes())
        assert "release.sig" not in json.loads((archive / "mini" / version / "release.json").read_text(encoding="utf-8"))["files"]
    # The chain is the same as without signatures: release.sig is listed in no manifest.
    second = json.loads((archive / "mini" / "1.1" / "release.json").read_text(encoding="utf-8"))
    assert second["previous"] == digest(archive / "mini" / "1.0" / "release.json")


SIGNED_TAMPERING: list[tuple[str, Callable[[Path], object], list[str]]] = [
    ("edit the newest notes", lambda a: rewrite(a / "mini" / "1.1" / "release.json", lambda d: d.__setitem__("notes", "rewritten")),
     ["archive/mini/1.1/release.sig: the signature by key 'release' does not match release.json"]),
    ("change the newest effective date", lambda a: rewrite(a / "mini" / "1.1" / "release.json", lambda d: d.__setitem__("effective_date", "2027-01-01")),
     ["archive/mini/1.1/release.sig: the signature by key 'release' does not match release.json"]),
    ("forge an earlier release and re-chain", lambda a: forge_and_rechain(a / "mini", "1.0", "1.1"),
     ["archive/mini/1.0/release.sig: the signature by key 'release' does not match",
      "archive/mini/1.1/release.sig: the signature by key 'release' does not match"]),
    ("remove the newest signature", lambda a: (a / "mini" / "1.1" / "release.sig").unlink(),
     ["archive/mini/1.1/release.json: not signed, but an earlier release is"]),
    ("remove every signature", lambda a: _remove(a.glob("mini/*/release.sig")),
     ["archive/mini/1.1/release.json: the newest release is not signed"]),
    ("swap the public key", lambda a: _swap_key(a),
     ["archive/mini/1.0/release.sig: signed by a key that is not trusted here (sha256:",
      "archive/mini/1.1/release.sig: signed by a key that is not trusted here"]),
    ("remove the public keys", lambda a: shutil.rmtree(a / "_keys"),
     ["archive/mini/1.1/release.sig: signed, but no public key is configured"]),
    ("a garbled signature file", lambda a: (a / "mini" / "1.1" / "release.sig").write_text("{}"),
     ["archive/mini/1.1/release.sig: not a valid signature file"]),
    ("a public key that is not one", lambda a: (a / "_keys" / "other.pub").write_text("not a key"),
     ["archive/_keys/other.pub: not a PEM public key"]),
]


def _remove(paths: Iterable[Path]) -> None:
    for path in paths:
        path.unlink()


def _swap_key(archive: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    other = Ed25519PrivateKey.generate().public_key()
    (archive / "_keys" / "release.pub").write_bytes(other.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))


@pytest.mark.parametrize(("case", "tamper", "messages"), SIGNED_TAMPERING, ids=[case for case, _, _ in SIGNED_TAMPERING])
def test_tampering_with_a_signed_archive_fails_verify(signed: tuple[Path, Path], cli, case: str, tamper: Callable[[Path], object],
                                                      messages: list[str]) -> None:
    project, _key = signed
    tamper(project / "archive")
    result = cli("archive", "verify", cwd=project)
    assert result.exit_code == 1, case
    for message in messages:
        assert message in result.stderr, result.stderr


def test_a_pinned_public_key_catches_an_attacker_who_re_signs(signed: tuple[Path, Path], tmp_path: Path, cli) -> None:
    """Someone who can write the whole repository can forge a release, add their own key and
    re-sign; only a key the verifier got elsewhere (--key) tells."""
    project, _key = signed
    trusted = tmp_path / "publisher.pub"
    shutil.copyfile(project / "archive" / "_keys" / "release.pub", trusted)
    attacker = tmp_path / "attacker.key"
    assert cli("archive", "keygen", "mallory", "--private-key", str(attacker), cwd=project).exit_code == 0
    a = project / "archive" / "mini"
    forge_and_rechain(a, "1.0", "1.1")
    from policygen.archive import sign

    signer = sign.load_signer(project, attacker)
    for version in ("1.0", "1.1"):
        (a / version / "release.sig").write_bytes(sign.signature(signer, (a / version / "release.json").read_bytes()))
    assert cli("archive", "verify", cwd=project).exit_code == 0  # the project's own keys now include the attacker's
    pinned = cli("archive", "verify", "--key", str(trusted), cwd=project)
    assert pinned.exit_code == 1
    assert "archive/mini/1.1/release.sig: signed by a key that is not trusted here" in pinned.stderr


def test_releases_of_a_signing_project_must_be_signed(signed: tuple[Path, Path], tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    project, key = signed
    monkeypatch.setattr("policygen.archive.release.render_pdf", placeholder_pdf)  # as in _make_signed
    monkeypatch.setattr("policygen.archive.release.redline_pdf", placeholder_redline_pdf)
    monkeypatch.delenv("POLICYGEN_SIGNING_KEY", raising=False)
    set_version(project, "1.2", "2026-09-01")
    unsigned = cli("release", "mini", "--version", "1.2", "--effective", "2026-09-01", cwd=project)
    assert unsigned.exit_code == 1 and "this project signs its releases; give the private key with --signing-key" in unsigned.stderr
    inside = project / "release.key"
    shutil.copyfile(key, inside)
    refused = cli("release", "mini", "--version", "1.2", "--effective", "2026-09-01", "--signing-key", str(inside), cwd=project)
    assert refused.exit_code == 1 and "the private signing key must not be inside the project" in refused.stderr
    stranger = tmp_path / "stranger.key"
    assert cli("archive", "keygen", "stranger", "--private-key", str(stranger), cwd=project).exit_code == 0
    (project / "archive" / "_keys" / "stranger.pub").unlink()
    unknown = cli("release", "mini", "--version", "1.2", "--effective", "2026-09-01", "--signing-key", str(stranger), cwd=project)
    assert unknown.exit_code == 1 and "its public key is not in" in unknown.stderr
    assert not (project / "archive" / "mini" / "1.2").exists()
    monkeypatch.setenv("POLICYGEN_SIGNING_KEY", str(key))
    assert cli("release", "mini", "--version", "1.2", "--effective", "2026-09-01", cwd=project).exit_code == 0
    assert cli("archive", "verify", cwd=project).stdout.startswith("OK: 3 releases, 3 signed,")


def test_keygen_refusals(sample: Path, tmp_path: Path, cli) -> None:
    inside = cli("archive", "keygen", "release", "--private-key", str(sample / "sources" / "release.key"), cwd=sample)
    assert inside.exit_code == 1 and "must not be inside the project" in inside.stderr
    assert not (sample / "archive" / "_keys").exists()
    bad = cli("archive", "keygen", "../evil", "--private-key", str(tmp_path / "k"), cwd=sample)
    assert bad.exit_code == 1 and "key name '../evil' is not safe" in bad.stderr
    assert cli("archive", "keygen", "release", "--private-key", str(tmp_path / "k"), cwd=sample).exit_code == 0
    assert (tmp_path / "k").stat().st_mode & 0o777 == 0o600
    again = cli("archive", "keygen", "release", "--private-key", str(tmp_path / "k2"), cwd=sample)
    assert again.exit_code == 1 and "already exists; keys are never overwritten" in again.stderr


def test_an_unsigned_archive_starts_signing_at_its_head(sample: Path, tmp_path: Path, cli) -> None:
    """Adding a key to a project with unsigned releases: verify asks for the head to be signed;
    'archive sign' adds release.sig to the newest release (the chain covers the earlier ones)."""
    key = tmp_path / "release.key"
    assert cli("archive", "keygen", "release", "--private-key", str(key), cwd=sample).exit_code == 0
    before = {p: p.read_bytes() for p in (sample / "archive" / POLICY).rglob("*") if p.is_file() and p.name != ".lock"}
    result = cli("archive", "verify", cwd=sample)
    assert result.exit_code == 1 and f"archive/{POLICY}/3.0/release.json: the newest release is not signed" in result.stderr
    assert cli("archive", "sign", POLICY, cwd=sample).exit_code == 1  # no key given
    assert cli("archive", "sign", POLICY, "--signing-key", str(key), cwd=sample).exit_code == 0
    after = {p: p.read_bytes() for p in (sample / "archive" / POLICY).rglob("*") if p.is_file() and p.name != ".lock"}
    assert set(after) - set(before) == {sample / "archive" / POLICY / "3.0" / "release.sig"}
    assert all(after[p] == data for p, data in before.items())  # nothing archived was rewritten
    assert cli("archive", "verify", cwd=sample).stdout.startswith("OK: 3 releases, 1 signed,")
    again = cli("archive", "sign", POLICY, "--signing-key", str(key), cwd=sample)
    assert again.exit_code == 1 and "already signed; a signature is never replaced" in again.stderr


def test_sign_refuses_a_tampered_archive(sample: Path, tmp_path: Path, cli) -> None:
    key = tmp_path / "release.key"
    assert cli("archive", "keygen", "release", "--private-key", str(key), cwd=sample).exit_code == 0
    (sample / "archive" / POLICY / "evil.html").write_text("x")
    result = cli("archive", "sign", POLICY, "--signing-key", str(key), cwd=sample)
    assert result.exit_code == 1 and "the archive does not verify, so its head was not signed" in result.stderr
    assert not (sample / "archive" / POLICY / "3.0" / "release.sig").exists()


def test_the_private_key_is_checked_through_symlinks(sample: Path, tmp_path: Path) -> None:
    """A path outside that is a symlink into the project is still inside it."""
    from policygen.archive import sign
    from policygen.errors import PolicygenError

    os.symlink(sample / "sources", tmp_path / "src-link")
    link = tmp_path / "src-link" / "release.key"
    with pytest.raises(PolicygenError, match="must not be inside the project"):
        sign.load_signer(sample, link)


def test_the_docs_give_the_pins_and_the_threat_model() -> None:
    """The reproducer's last finding: docs/archive.md did not mention --head."""
    from conftest import ROOT

    doc = (ROOT / "docs" / "archive.md").read_text(encoding="utf-8")
    for needle in ("--head POLICY=SHA256", "--against PUBLISHED_MANIFEST", "policygen archive keygen", "policygen archive sign",
                   "POLICYGEN_SIGNING_KEY", "archive/_keys/<name>.pub", "### Threat model",
                   "| tampering | no pin | head pinned | signed | signed, key pinned |"):
        assert needle in doc, needle
    # every case of the reproducer has its row
    for row in ("the newest release's `release.json` edited", "the newest release deleted", "an earlier release forged and every later one re-chained",
                "a file or folder next to the releases", "replaced by a symbolic link"):
        assert row in doc, row


def test_an_unreadable_file_or_folder_is_a_diagnostic_not_a_traceback(sample: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """Root reads everything, so the refusals are simulated where verify reads."""
    from policygen.archive import store

    page = (sample / "archive" / POLICY / "2.0" / "output" / "en" / "index.html").resolve()
    real_sha, real_iterdir = store._sha, Path.iterdir

    def sha(path: Path) -> str:
        if path.resolve() == page:
            raise PermissionError(13, "Permission denied", str(path))
        return real_sha(path)

    def iterdir(self: Path):
        if self.name == "archive" and self.resolve() == (sample / "archive").resolve():
            raise PermissionError(13, "Permission denied", str(self))
        return real_iterdir(self)

    monkeypatch.setattr(store, "_sha", sha)
    result = cli("archive", "verify", cwd=sample)
    assert result.exit_code == 1 and f"archive/{POLICY}/2.0/output/en/index.html: cannot be read (Permission denied)" in result.stderr
    monkeypatch.setattr(Path, "iterdir", iterdir)
    result = cli("archive", "verify", cwd=sample)
    assert result.exit_code == 1 and result.exception is None
    assert "archive: cannot be read (Permission denied)" in result.stderr


def test_keygen_does_not_write_through_a_symlinked_keys_folder(sample: Path, tmp_path: Path, cli) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (sample / "archive" / "_keys").symlink_to(outside)
    result = cli("archive", "keygen", "release", "--private-key", str(tmp_path / "release.key"), cwd=sample)
    assert result.exit_code == 1 and "leads outside" in result.stderr
    assert list(outside.iterdir()) == [] and not (tmp_path / "release.key").exists()


# --- JSON that the archive, a saved manifest or an output folder holds, written to hurt ---

DEEP_JSON = "[" * 100_000 + "]" * 100_000
"""Nesting Python's json module cannot parse: it raises RecursionError, not ValueError."""


@pytest.mark.parametrize(("name", "message"), [
    (DEEP_JSON, f"archive/{POLICY}/3.0/release.json: not a valid release manifest"),
    ('{"policy": ', f"archive/{POLICY}/3.0/release.json: not a valid release manifest"),
])
def test_a_release_json_nested_too_deep_is_a_diagnostic(sample: Path, cli, name: str, message: str) -> None:
    (sample / "archive" / POLICY / "3.0" / "release.json").write_text(name, encoding="utf-8")
    for command in (("archive", "verify"), ("archive", "list", POLICY), ("build",)):
        result = cli(*command, cwd=sample)
        assert result.exit_code == 1 and result.exception is None, (command, result.exception)
        assert message in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_a_published_manifest_nested_too_deep_is_a_clear_error(sample: Path, tmp_path: Path, cli) -> None:
    saved = tmp_path / "manifest.json"
    saved.write_text(DEEP_JSON, encoding="utf-8")
    result = cli("archive", "verify", "--against", str(saved), cwd=sample)
    assert result.exit_code == 1 and result.exception is None, result.exception
    assert "not a JSON manifest" in result.stderr


def test_a_signature_file_nested_too_deep_is_no_valid_signature() -> None:
    from policygen.archive import sign

    assert sign.check(b"{}", DEEP_JSON.encode("ascii"), {}) == "not a valid signature file (expected algorithm, key and signature)"


@pytest.mark.parametrize("content", ["{not json", DEEP_JSON, '{"reports": 5}', '{"reports": [{"notices": []}]}'])
def test_a_tampered_changes_json_stops_the_build_with_a_diagnostic(sample: Path, cli, content: str) -> None:
    """build reads each release's changes.json (banner, feed): like every file it publishes from
    the archive, through its hash; a changed one is a message naming it, never a traceback."""
    changes = sample / "archive" / POLICY / "3.0" / "changes.json"
    changes.write_text(content, encoding="utf-8")
    result = cli("build", "--today", "2026-03-05", cwd=sample)
    assert result.exit_code == 1 and result.exception is None, result.exception
    assert f"archive/{POLICY}/3.0/changes.json: differs from the hash recorded at release" in result.stderr


def test_a_changes_json_that_matches_a_forged_newest_release_is_a_diagnostic(sample: Path, cli) -> None:
    """Without a pin the newest release.json can be rewritten to list any changes.json (see the
    threat model); what build then reads is still checked for its shape, not trusted."""
    folder = sample / "archive" / POLICY / "3.0"
    for content in (DEEP_JSON, '{"reports": 5}', '{"reports": [{"notices": {"en": 3}}]}', '{"reports": [{"notices": {"en": {"items": 7}}}]}',
                    '{"reports": [{"notices": {"en": {"banner": "b", "items": ["i"]}}, "changes": [{"severity": "major"}]}]}',
                    '{"reports": [{"notices": {"en": {"items": ["i"]}}, "changes": []}]}'):
        (folder / "changes.json").write_text(content, encoding="utf-8")
        rewrite(folder / "release.json", lambda d: d["files"].__setitem__("changes.json", digest(folder / "changes.json")))
        result = cli("build", "--today", "2026-03-05", cwd=sample)
        assert result.exit_code == 1 and result.exception is None, (content[:40], result.exception)
        assert f"archive/{POLICY}/3.0/changes.json: not a change report policygen wrote" in result.stderr, result.stderr


def test_a_newest_release_dated_before_the_one_it_follows_is_reported(sample: Path, cli) -> None:
    """Releases take effect in the order they were made (release refuses an earlier date). The
    newest release.json, rewritten with an earlier effective date (an edit the chain alone
    cannot show, see the threat model), made build fail with an IndexError, and verify said OK."""
    rewrite(sample / "archive" / POLICY / "3.0" / "release.json", lambda d: d.__setitem__("effective_date", "2025-03-01"))
    for command in (("archive", "verify"), ("build", "--today", "2026-04-01")):
        result = cli(*command, cwd=sample)
        assert result.exit_code == 1 and result.exception is None, (command, result.exception)
        assert f"archive/{POLICY}/3.0/release.json: effective 2025-03-01, before 2.1 (effective 2025-07-01)" in result.stderr, result.stderr


def test_verify_reports_a_broken_release_json_and_still_checks_the_other_releases(sample: Path, cli) -> None:
    """A release.json that does not describe its folder (here the folder was renamed) stopped
    verify's check of that policy: no other release of it was checked, so a changed page of an
    earlier release went unreported, and the one message, printed by verify, said "run 'policygen
    archive verify'". Now it is one diagnostic among all the others."""
    archive = sample / "archive" / POLICY
    (archive / "3.0").rename(archive / "3.1")
    page = archive / "2.0" / "output" / "en" / "index.html"
    page.write_bytes(page.read_bytes() + b"<!-- changed -->")
    result = cli("archive", "verify", cwd=sample)
    assert result.exit_code == 1 and result.exception is None, result.exception
    lines = result.stderr.splitlines()
    assert (f"archive/{POLICY}/3.1/release.json: the manifest does not describe this folder safely (version, policy, sequence, file paths "
            "or locales)") in lines, result.stderr
    assert f"archive/{POLICY}/2.0/output/en/index.html: changed: its SHA-256 differs from the one recorded at release" in lines, result.stderr
    assert "run 'policygen archive verify'" not in result.stderr
