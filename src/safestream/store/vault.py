"""The evidence vault: every evidence file SafeStream writes, in one encrypted format.

Report media (intake), stream clips (live monitor) and anything the console opens are sealed the
same way, with AES-256-GCM under the home's current key (see `store.vault_keys`):

    SSEV2 | key id (8 bytes) | nonce (12 bytes) | ciphertext and tag

The associated data is the header (magic and key id) followed by the file's context: the evidence
id for report media, the manifest for a stream clip. Swapping a file for another, editing the
manifest or the header, or using the wrong key all fail authentication.

Files of the first version (`SSEV1 | nonce | ciphertext`, context only as associated data) still
open: the vault tries each key of its ring on them.

Decrypting for a person goes through `store.evidence_access`, which checks who is asking and
writes the access to the audit log; this module only knows keys and bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from safestream.core.config import Settings
from safestream.core.errors import InvalidInput, StoreError
from safestream.core.reports import MediaFile
from safestream.store.base import utcnow
from safestream.store.models.reports import EvidenceRow
from safestream.store.vault_keys import (
    KEY_ENV,
    KEY_ID_BYTES,
    OLD_KEYS_ENV,
    KeyRing,
    load_key_ring,
)

MAGIC = b"SSEV2"
LEGACY_MAGIC = b"SSEV1"
NONCE_BYTES = 12
HOLD_PERIOD = timedelta(days=365)


class EvidenceUnreadable(StoreError):
    """An evidence file is missing, is not a SafeStream file, or fails authentication."""


@dataclass(frozen=True)
class EvidenceFile:
    """Decrypted report media and what it is."""

    id: str
    filename: str
    content_type: str
    data: bytes


class SealedEvidence(Protocol):
    """A stored report file as opening it needs: an evidence row, or a repository's copy of one
    (`store.cybertip_submissions`), so callers outside the store never hold a row to read a file."""

    @property
    def id(self) -> str: ...

    @property
    def filename(self) -> str: ...

    @property
    def content_type(self) -> str: ...

    @property
    def path(self) -> str: ...


@dataclass(frozen=True)
class SealedHeader:
    """What a sealed file says about itself before decryption."""

    version: int
    key_id: bytes | None  # None for first-version files, which did not name their key


def read_header(blob: bytes) -> SealedHeader:
    """The format version and key id of a sealed file; raise if it is not one."""
    if blob.startswith(MAGIC) and len(blob) >= len(MAGIC) + KEY_ID_BYTES + NONCE_BYTES:
        return SealedHeader(2, blob[len(MAGIC) : len(MAGIC) + KEY_ID_BYTES])
    if blob.startswith(LEGACY_MAGIC) and len(blob) >= len(LEGACY_MAGIC) + NONCE_BYTES:
        return SealedHeader(1, None)
    raise EvidenceUnreadable("not a SafeStream evidence file")


def _decode(media: MediaFile, index: int) -> bytes:
    try:
        return base64.b64decode(media.data_base64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(f"media.{index}.data_base64: not valid base64") from exc


def write_private(path: Path, data: bytes) -> None:
    """Write a file owner-only, whole or not at all (temporary name, fsync, rename)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


class EvidenceVault:
    """Seals and opens evidence files under one folder with one key ring."""

    def __init__(self, directory: Path, keys: KeyRing) -> None:
        self.directory = directory
        self.keys = keys

    @classmethod
    def for_settings(
        cls, settings: Settings, environ: Mapping[str, str] | None = None
    ) -> EvidenceVault:
        """The vault of a SafeStream home, creating its key ring on first use."""
        settings.ensure_home()
        directory = settings.evidence_dir
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        if environ is None:
            environ = {
                KEY_ENV: settings.secret("evidence_key"),
                OLD_KEYS_ENV: settings.secret("evidence_old_keys"),
            }
        return cls(directory, load_key_ring(settings.home, environ))

    # -- bytes -------------------------------------------------------------------------------

    def seal_bytes(self, data: bytes, context: bytes) -> bytes:
        """Encrypt `data` bound to `context` under the current key."""
        header = MAGIC + self.keys.current_id
        nonce = secrets.token_bytes(NONCE_BYTES)
        return header + nonce + AESGCM(self.keys.current).encrypt(nonce, data, header + context)

    def open_bytes(self, blob: bytes, context: bytes, *, name: str = "evidence") -> bytes:
        """Decrypt a sealed blob of either format; raise `EvidenceUnreadable` if it fails."""
        try:
            header = read_header(blob)
        except EvidenceUnreadable as exc:
            raise EvidenceUnreadable(f"{name}: {exc}") from None
        if header.version == 1:
            nonce, body = blob[5 : 5 + NONCE_BYTES], blob[5 + NONCE_BYTES :]
            for key in self.keys.all_keys():
                try:
                    return AESGCM(key).decrypt(nonce, body, context)
                except InvalidTag:
                    continue
            raise EvidenceUnreadable(f"{name}: failed authentication (altered or wrong key)")
        assert header.key_id is not None
        named = self.keys.by_id(header.key_id)
        if named is None:
            raise EvidenceUnreadable(
                f"{name}: failed authentication (wrong key: sealed with key id "
                f"{header.key_id.hex()}, which this key ring does not hold)"
            )
        start = len(MAGIC) + KEY_ID_BYTES
        nonce, body = blob[start : start + NONCE_BYTES], blob[start + NONCE_BYTES :]
        try:
            return AESGCM(named).decrypt(nonce, body, blob[:start] + context)
        except InvalidTag as exc:
            raise EvidenceUnreadable(f"{name}: failed authentication (altered)") from exc

    def read_path(self, path: Path, context: bytes) -> bytes:
        """Decrypt a file of the vault (or any sealed file) bound to `context`."""
        try:
            blob = path.read_bytes()
        except FileNotFoundError as exc:
            raise EvidenceUnreadable(f"evidence file {path} is missing") from exc
        return self.open_bytes(blob, context, name=str(path))

    # -- report media ----------------------------------------------------------------------

    def seal(self, media: list[MediaFile]) -> list[EvidenceRow]:
        """Encrypt and write each file; return rows for the caller to commit with the report."""
        rows: list[EvidenceRow] = []
        decoded = [_decode(m, i) for i, m in enumerate(media)]
        now = utcnow()
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        for m, data in zip(media, decoded, strict=True):
            eid = str(uuid.uuid4())
            path = self.directory / f"{eid}.bin"
            try:
                write_private(path, self.seal_bytes(data, eid.encode()))
            except BaseException:
                self.discard(rows)  # all of a report's evidence is kept, or none of it
                raise
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

    def read(self, row: SealedEvidence) -> EvidenceFile:
        """Decrypt one report file; raise `EvidenceUnreadable` if missing or tampered with.

        Callers that show a file to a person go through `store.evidence_access`, which audits.
        """
        path = self.directory / row.path
        if not path.exists():
            raise EvidenceUnreadable(f"evidence {row.id} is missing from {self.directory}")
        data = self.open_bytes(path.read_bytes(), row.id.encode(), name=f"evidence {row.id}")
        return EvidenceFile(row.id, row.filename, row.content_type, data)

    def discard(self, rows: list[EvidenceRow]) -> None:
        """Remove files written for a report that was not stored after all."""
        for row in rows:
            (self.directory / row.path).unlink(missing_ok=True)
