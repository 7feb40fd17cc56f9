"""Peers: other installations this one pulls from or lets pull, known by their Ed25519 keys.

A peer is known by its public key and the key's id (the first 16 hex digits of the key's
SHA-256); this installation's own key and signing are `exchange.identity`.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from safestream.core.errors import InvalidInput

DEFAULT_FLOOD_LIMIT = 50
FLOOD_WINDOW = timedelta(hours=1)


def key_id(public_key: bytes) -> str:
    """The short name of a public key."""
    return hashlib.sha256(public_key).hexdigest()[:16]


def public_key_from_text(text: str) -> Ed25519PublicKey:
    """A peer's public key from its base64 text; raise `InvalidInput` if it is not one."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:
        raise InvalidInput("not a base64 Ed25519 public key") from exc


@dataclass(frozen=True)
class Peer:
    """Another installation."""

    id: int
    name: str
    url: str
    key_id: str
    public_key: str
    checkpoint: int
    last_fetch_at: datetime | None
    last_error: str
    flood_limit: int
    enabled: bool

    @property
    def verifier(self) -> Ed25519PublicKey:
        """The key its bundles and requests must be signed with."""
        return public_key_from_text(self.public_key)
