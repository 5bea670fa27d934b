"""Release signatures: Ed25519 keys, and a detached signature of each ``release.json``.

A project that signs its releases keeps its public keys in ``archive/_keys/<name>.pub`` (PEM,
committed with the archive; ``_keys`` cannot be a policy ID, which has no underscore). The
private key lives outside the project: :func:`load_signer` refuses one inside it. ``release``
writes ``release.sig`` beside ``release.json``: the Ed25519 signature of the exact bytes of
``release.json``, with the fingerprint of the key that made it. The signature is listed in no
manifest (it cannot list itself), so the hash chain is the same with or without signatures;
:func:`check` is what ``archive verify`` runs on it.

``cryptography`` is imported inside the functions that use it: most commands never sign.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policygen.atomic import contained
from policygen.errors import Diagnostic, PolicygenError

KEYS_DIR = "_keys"
"""``archive/_keys/``: the project's public keys. Not a policy: policy IDs have no underscore."""
SIGNATURE_FILE = "release.sig"
PRIVATE_KEY_ENV = "POLICYGEN_SIGNING_KEY"
"""The environment variable that gives ``release`` the path of the private key."""
KEY_NAME_RE = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
ALGORITHM = "ed25519"


@dataclass(frozen=True, slots=True)
class PublicKey:
    """One trusted public key."""

    name: str
    raw: bytes
    """The 32 bytes of the Ed25519 public key."""
    path: Path

    @property
    def fingerprint(self) -> str:
        return "sha256:" + hashlib.sha256(self.raw).hexdigest()


@dataclass(frozen=True, slots=True)
class Signer:
    """A private key, loaded from outside the project."""

    private: Any
    """A ``cryptography`` Ed25519PrivateKey."""
    fingerprint: str


def keys_dir(archive: Path) -> Path:
    return archive / KEYS_DIR


def read_public_key(path: Path, name: str | None = None) -> PublicKey:
    """A PEM public key file; raises PolicygenError naming the file when it is not an Ed25519 key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if path.exists() and not path.is_file():  # a pipe or a device would be read without end
        raise PolicygenError(f"{path}: not a regular file; give the public key's .pub file")
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except OSError as exc:
        raise PolicygenError(f"{path}: cannot read the public key ({exc.strerror})") from None
    except (ValueError, TypeError):
        raise PolicygenError(f"{path}: not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise PolicygenError(f"{path}: not an Ed25519 public key")
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return PublicKey(name or path.stem, raw, path)


def project_keys(archive: Path) -> tuple[dict[str, PublicKey], list[Diagnostic]]:
    """The public keys in ``archive/_keys/`` by fingerprint, and the problems with that folder."""
    folder = keys_dir(archive)
    keys: dict[str, PublicKey] = {}
    problems: list[Diagnostic] = []
    if folder.is_symlink() or not folder.is_dir():
        return keys, problems  # a symlink is reported by verify with every other symlink
    for path in sorted(folder.iterdir()):
        if path.is_symlink() or not path.is_file() or path.suffix != ".pub" or not KEY_NAME_RE.fullmatch(path.stem):
            continue  # reported by verify as not part of the archive
        try:
            key = read_public_key(path)
        except PolicygenError as exc:
            problems.append(Diagnostic(path, 0, str(exc).removeprefix(f"{path}: ")))
            continue
        keys[key.fingerprint] = key
    return keys, problems


def is_key_file(path: Path) -> bool:
    """Whether ``path`` (inside ``archive/_keys/``) is named as a public key file."""
    return path.suffix == ".pub" and bool(KEY_NAME_RE.fullmatch(path.stem))


def _outside(project_root: Path, path: Path) -> None:
    resolved, root = path.expanduser().resolve(), project_root.resolve()
    if resolved == root or resolved.is_relative_to(root):
        raise PolicygenError(f"{path}: the private signing key must not be inside the project (it would be committed and published); "
                             "keep it outside, for example in ~/.config/policygen/")


def generate(archive: Path, project_root: Path, name: str, private_path: Path) -> tuple[Path, Path]:
    """A new key pair: the private key at ``private_path`` (outside the project, mode 0600) and the
    public key in ``archive/_keys/<name>.pub``. Returns (public, private)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if not KEY_NAME_RE.fullmatch(name):
        raise PolicygenError(f"key name '{name}' is not safe: use lowercase letters, digits and single hyphens, like release-2026")
    private_path = private_path.expanduser()
    _outside(project_root, private_path)
    public_path = contained(keys_dir(archive) / f"{name}.pub", project_root)  # archive/_keys may not lead outside
    for path in (public_path, private_path):
        if path.exists() or path.is_symlink():
            raise PolicygenError(f"{path}: already exists; keys are never overwritten (choose another name or path)")
    if not private_path.parent.is_dir():
        raise PolicygenError(f"{private_path.parent}: no such folder for the private key")
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    try:
        fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(private_pem)
        public_path.parent.mkdir(parents=True, exist_ok=True)
        with public_path.open("xb") as handle:
            handle.write(public_pem)
    except OSError as exc:
        raise PolicygenError(f"{exc.filename or private_path}: cannot write the key ({exc.strerror})") from None
    return public_path, private_path


def load_signer(project_root: Path, path: Path) -> Signer:
    """The private key at ``path``, refused when it lies inside the project."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    _outside(project_root, path)
    try:
        key = serialization.load_pem_private_key(path.expanduser().read_bytes(), password=None)
    except OSError as exc:
        raise PolicygenError(f"{path}: cannot read the private signing key ({exc.strerror})") from None
    except (ValueError, TypeError):
        raise PolicygenError(f"{path}: not an unencrypted PEM private key (policygen archive keygen writes one)") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise PolicygenError(f"{path}: not an Ed25519 private key")
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return Signer(key, "sha256:" + hashlib.sha256(raw).hexdigest())


def signer_for(archive: Path, project_root: Path, path: Path | None) -> Signer | None:
    """The signer a release must use: none when the project has no keys and none is given;
    refused when the project has keys and none is given, or the given key is not one of them."""
    keys, problems = project_keys(archive)
    if problems:
        raise PolicygenError("\n".join(d.format() for d in problems))
    if path is None:
        if keys:
            raise PolicygenError(f"{keys_dir(archive)}: this project signs its releases; give the private key with --signing-key "
                                 f"or {PRIVATE_KEY_ENV}")
        return None
    signer = load_signer(project_root, path)
    if signer.fingerprint not in keys:
        raise PolicygenError(f"{path}: its public key is not in {keys_dir(archive)} (fingerprint {signer.fingerprint}); "
                             "add it there first ('policygen archive keygen' writes both)")
    return signer


def signature(signer: Signer, data: bytes) -> bytes:
    """The content of ``release.sig`` for ``data`` (the exact bytes of ``release.json``)."""
    raw = signer.private.sign(data)
    record = {"algorithm": ALGORITHM, "key": signer.fingerprint, "signature": base64.b64encode(raw).decode("ascii")}
    return (json.dumps(record, indent=2, sort_keys=True) + "\n").encode("utf-8")


def check(data: bytes, sig: bytes, keys: dict[str, PublicKey]) -> str | None:
    """Why ``sig`` is not a valid signature of ``data`` by one of ``keys``; None when it is."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        record = json.loads(sig)
        algorithm, fingerprint = record["algorithm"], record["key"]
        raw = base64.b64decode(record["signature"], validate=True)
    except (ValueError, KeyError, TypeError, binascii.Error, RecursionError):  # RecursionError: JSON nested too deep to parse
        return "not a valid signature file (expected algorithm, key and signature)"
    if algorithm != ALGORITHM:
        return f"signed with '{algorithm}', not {ALGORITHM}"
    key = keys.get(fingerprint) if isinstance(fingerprint, str) else None
    if key is None:
        return f"signed by a key that is not trusted here ({fingerprint}): the key was replaced, or the signature forged"
    try:
        Ed25519PublicKey.from_public_bytes(key.raw).verify(raw, data)
    except InvalidSignature:
        return (f"the signature by key '{key.name}' does not match release.json: the release was changed after it was signed, "
                "or the signature was forged")
    return None
