"""Evidence vault: media kept only under an explicit evidence hold, encrypted with AES-256-GCM.

Files live in `$SAFESTREAM_HOME/evidence/<id>.bin` as `MAGIC || nonce(12) || ciphertext+tag`, with
the evidence id as associated data so a file cannot be swapped for another. The key is 32 random
bytes in `$SAFESTREAM_HOME/evidence/.key` (owner-only), or base64 in `SAFESTREAM_EVIDENCE_KEY`.
Reading a file is only possible through `EvidenceVault.read`, which callers reach through
`cases.wellbeing.view_media` so every access is recorded in the audit log.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from safestream.core.config import Settings
from safestream.core.errors import InvalidInput, StoreError
from safestream.core.reports import MediaFile
from safestream.store.base import utcnow
from safestream.store.models.reports import EvidenceRow

MAGIC = b"SSEV1"
NONCE_BYTES = 12
KEY_ENV = "SAFESTREAM_EVIDENCE_KEY"
HOLD_PERIOD = timedelta(days=365)


@dataclass(frozen=True)
class EvidenceFile:
    """Decrypted evidence and what it is."""

    id: str
    filename: str
    content_type: str
    data: bytes


def _decode(media: MediaFile, index: int) -> bytes:
    try:
        return base64.b64decode(media.data_base64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(f"media.{index}.data_base64: not valid base64") from exc


def _create_key(key_file: Path) -> None:
    """Write a new key whole, then link it into place, so server workers starting together
    never read a half-written key and the first one to link wins."""
    tmp = key_file.with_name(f".key.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(32))
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, key_file)
    finally:
        tmp.unlink(missing_ok=True)


class EvidenceVault:
    """Encrypts evidence files into the home and decrypts them for audited viewers."""

    def __init__(self, directory: Path, key: bytes) -> None:
        if len(key) != 32:
            raise StoreError("the evidence key must be 32 bytes (AES-256)")
        self.directory = directory
        self._aead = AESGCM(key)

    @classmethod
    def for_settings(
        cls, settings: Settings, environ: dict[str, str] | None = None
    ) -> EvidenceVault:
        """The vault of a home, creating its key on first use."""
        env = os.environ if environ is None else environ
        directory = settings.evidence_dir
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        if env.get(KEY_ENV):
            try:
                return cls(directory, base64.b64decode(env[KEY_ENV], validate=True))
            except (binascii.Error, ValueError) as exc:
                raise StoreError(f"{KEY_ENV} is not base64") from exc
        key_file = directory / ".key"
        if not key_file.exists():
            _create_key(key_file)
        return cls(directory, key_file.read_bytes())

    def seal(self, media: list[MediaFile]) -> list[EvidenceRow]:
        """Encrypt and write each file; return rows for the caller to commit with the report."""
        rows: list[EvidenceRow] = []
        decoded = [_decode(m, i) for i, m in enumerate(media)]
        now = utcnow()
        for m, data in zip(media, decoded, strict=True):
            eid = str(uuid.uuid4())
            nonce = secrets.token_bytes(NONCE_BYTES)
            sealed = MAGIC + nonce + self._aead.encrypt(nonce, data, eid.encode())
            path = self.directory / f"{eid}.bin"
            tmp = path.with_suffix(".tmp")
            with open(tmp, "wb") as f:
                f.write(sealed)
                f.flush()
                os.fsync(f.fileno())
            tmp.replace(path)
            rows.append(
                EvidenceRow(
                    id=eid,
                    filename=m.filename,
                    content_type=m.content_type,
                    sha256=hashlib.sha256(data).hexdigest(),
                    md5=hashlib.md5(data, usedforsecurity=False).hexdigest(),
                    size=len(data),
                    path=path.name,
                    held_at=now,
                    hold_until=now + HOLD_PERIOD,
                )
            )
        return rows

    def read(self, row: EvidenceRow) -> EvidenceFile:
        """Decrypt one evidence file; raise `StoreError` if it is missing or was tampered with."""
        path = self.directory / row.path
        try:
            blob = path.read_bytes()
        except FileNotFoundError as exc:
            raise StoreError(f"evidence {row.id} is missing from {self.directory}") from exc
        if not blob.startswith(MAGIC):
            raise StoreError(f"evidence {row.id}: not a SafeStream evidence file")
        nonce = blob[len(MAGIC) : len(MAGIC) + NONCE_BYTES]
        try:
            data = self._aead.decrypt(nonce, blob[len(MAGIC) + NONCE_BYTES :], row.id.encode())
        except InvalidTag as exc:
            raise StoreError(
                f"evidence {row.id}: failed authentication (altered or wrong key)"
            ) from exc
        return EvidenceFile(row.id, row.filename, row.content_type, data)

    def discard(self, rows: list[EvidenceRow]) -> None:
        """Remove files written for a report that was not stored after all."""
        for row in rows:
            (self.directory / row.path).unlink(missing_ok=True)
