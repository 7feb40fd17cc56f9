"""What keeps the audit log honest against someone who can write the database: keys outside it.

An HMAC-SHA256 key authenticates every entry, so a chain recomputed without the key fails. A signed
checkpoint (Ed25519 over the entry count and head hash), written to a file after each commit,
catches removal from the end, a deleted head row and wiped tables, which a chain alone cannot.
Both keys live in the SafeStream home with mode 0600, never in the store.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

MAC_KEY_FILE = "audit.key"
SIGNING_KEY_FILE = "audit-signing.key"
CHECKPOINT_FILE = "audit-checkpoint.json"


@dataclass(frozen=True)
class Checkpoint:
    """The newest signed (count, head hash) seen by any writer of this home."""

    seq: int
    hash: str


def _owner_only(path: Path, data: bytes) -> None:
    """Create `path` with mode 0600 unless another process made it first."""
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)


def _message(seq: int, head: str) -> bytes:
    return f"safestream-audit-checkpoint:{seq}:{head}".encode()


class AuditAnchor:
    """The HMAC key, the signing key and the checkpoint file of one SafeStream home."""

    def __init__(self, home: Path) -> None:
        home.mkdir(parents=True, exist_ok=True)
        _owner_only(home / MAC_KEY_FILE, os.urandom(32).hex().encode())
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        _owner_only(home / SIGNING_KEY_FILE, pem)
        self._mac_key = bytes.fromhex((home / MAC_KEY_FILE).read_text().strip())
        loaded = serialization.load_pem_private_key((home / SIGNING_KEY_FILE).read_bytes(), None)
        if not isinstance(loaded, Ed25519PrivateKey):
            raise ValueError(f"{home / SIGNING_KEY_FILE} is not an Ed25519 key")
        self._signing = loaded
        self.checkpoint_path = home / CHECKPOINT_FILE
        self._lock_path = home / (CHECKPOINT_FILE + ".lock")

    def mac(self, text: str) -> str:
        """HMAC-SHA256 of a chained entry's text, hex."""
        return hmac.new(self._mac_key, text.encode(), hashlib.sha256).hexdigest()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def advance(self, seq: int, head: str) -> None:
        """Sign and write a checkpoint, unless a newer one is already on file."""
        with self._locked():
            current = self._read_unchecked()
            if current is not None and current.seq >= seq:
                return
            signature = self._signing.sign(_message(seq, head)).hex()
            tmp = self.checkpoint_path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"seq": seq, "hash": head, "signature": signature}))
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.checkpoint_path)

    def _read_unchecked(self) -> Checkpoint | None:
        try:
            data = json.loads(self.checkpoint_path.read_text())
        except FileNotFoundError:
            return None
        return Checkpoint(int(data["seq"]), str(data["hash"]))

    def checkpoint(self) -> Checkpoint | None:
        """The checkpoint on file, its signature checked; raise `ValueError` if forged."""
        try:
            data = json.loads(self.checkpoint_path.read_text())
        except FileNotFoundError:
            return None
        seq, head = int(data["seq"]), str(data["hash"])
        try:
            self._signing.public_key().verify(bytes.fromhex(data["signature"]), _message(seq, head))
        except (InvalidSignature, ValueError) as exc:
            raise ValueError("the audit checkpoint's signature does not verify") from exc
        return Checkpoint(seq, head)
