"""An installation's Ed25519 identity: the key it signs bundles and requests with.

The private key lives in the home (owner-only file); peers know each other by the public key and
its id (`core.exchange_peers.key_id`).
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from safestream.core.exchange_peers import key_id

IDENTITY_FILE = "exchange-identity.key"


def verify(public_key: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    """Whether `signature` is the key's signature of `data`."""
    try:
        public_key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


@dataclass(frozen=True)
class Identity:
    """This installation's signing key."""

    private_key: Ed25519PrivateKey

    @property
    def public_bytes(self) -> bytes:
        """The raw 32-byte public key."""
        return self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def public_text(self) -> str:
        """The public key as base64, the form peers exchange."""
        return base64.b64encode(self.public_bytes).decode()

    @property
    def key_id(self) -> str:
        """The short name peers know this installation by."""
        return key_id(self.public_bytes)

    def sign(self, data: bytes) -> bytes:
        """An Ed25519 signature of `data`."""
        return self.private_key.sign(data)

    @classmethod
    def generate(cls) -> Identity:
        """A fresh identity (tests, and first start of an installation)."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def load_or_create(cls, home: Path) -> Identity:
        """The identity kept in a home, created (owner-only) on first use."""
        path = home / IDENTITY_FILE
        if not path.exists():
            home.mkdir(parents=True, exist_ok=True, mode=0o700)
            seed = Ed25519PrivateKey.generate().private_bytes_raw()
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(seed)
        return cls(Ed25519PrivateKey.from_private_bytes(path.read_bytes()))
