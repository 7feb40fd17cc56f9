"""Evidence keys: one source, several keys (rotation), each named by an id kept in file headers.

Where the keys come from, in this order:
1. `SAFESTREAM_EVIDENCE_KEY`: the current key (64 hex digits or base64 of 32 bytes), with
   `SAFESTREAM_EVIDENCE_OLD_KEYS` (comma-separated, same forms) kept for reading only;
2. the key ring file `$SAFESTREAM_HOME/evidence.keys` (mode 0600; one key per line, hex or base64,
   `#` comments; the LAST key is the current one). Keys of the ring file are readable also when
   the environment names the current key, so moving from a file to an environment key loses
   nothing.

The first version had two key files, `$SAFESTREAM_HOME/evidence.key` (hex, written by the live
monitor) and `$SAFESTREAM_HOME/evidence/.key` (32 raw bytes, written by report intake). When the
ring file does not exist yet, both are folded into a new ring file (the intake key becomes current,
since console viewing reads intake files most) and stay readable forever; nothing is re-encrypted.

`key_id(key)` is the first 8 bytes of SHA-256 over a fixed label and the key: it tells which key
sealed a file without revealing anything about the key.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from safestream.core.errors import InvalidInput, StoreError

KEY_ENV = "SAFESTREAM_EVIDENCE_KEY"
OLD_KEYS_ENV = "SAFESTREAM_EVIDENCE_OLD_KEYS"
RING_FILE_NAME = "evidence.keys"
LEGACY_HEX_KEY_FILE = "evidence.key"  # the live monitor's key file in the first version
LEGACY_RAW_KEY_FILE = Path("evidence") / ".key"  # report intake's key file in the first version
KEY_BYTES = 32
KEY_ID_BYTES = 8
_KEY_ID_LABEL = b"safestream evidence key id v1\x00"


def key_id(key: bytes) -> bytes:
    """The id written into the header of files sealed with `key`."""
    return hashlib.sha256(_KEY_ID_LABEL + key).digest()[:KEY_ID_BYTES]


def parse_key(text: str, where: str) -> bytes:
    """A 32-byte key from 64 hex digits or base64; `where` names the source in errors."""
    text = text.strip()
    try:
        if len(text) == 2 * KEY_BYTES and all(c in "0123456789abcdefABCDEF" for c in text):
            key = bytes.fromhex(text)
        else:
            key = base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise InvalidInput(f"{where}: not a hex or base64 key") from exc
    if len(key) != KEY_BYTES:
        raise InvalidInput(f"{where}: the evidence key must be 32 bytes, got {len(key)}")
    return key


@dataclass(frozen=True)
class KeyRing:
    """The current key (seals new files) and every key that may still open old ones."""

    current: bytes
    readable: tuple[bytes, ...]

    def __post_init__(self) -> None:
        for key in (self.current, *self.readable):
            if len(key) != KEY_BYTES:
                raise StoreError("an evidence key must be 32 bytes (AES-256)")

    @classmethod
    def single(cls, key: bytes) -> KeyRing:
        """A ring of one key (tests, or a key handed over by a caller)."""
        return cls(key, ())

    @property
    def current_id(self) -> bytes:
        """The id of the key new files are sealed with."""
        return key_id(self.current)

    def all_keys(self) -> list[bytes]:
        """The current key first, then the others, without repeats."""
        return list(dict.fromkeys((self.current, *self.readable)))

    def by_id(self, wanted: bytes) -> bytes | None:
        """The key with this id, or None when the ring does not hold it."""
        return next((k for k in self.all_keys() if key_id(k) == wanted), None)


def _check_private(path: Path) -> None:
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise InvalidInput(f"{path} is readable by others (mode {mode:o}); chmod 600 it")


def read_ring_file(path: Path) -> list[bytes]:
    """The keys of a ring file, oldest first; refuse a file that others may read."""
    _check_private(path)
    keys = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if text:
            keys.append(parse_key(text, f"{path}:{number}"))
    if not keys:
        raise InvalidInput(f"{path}: holds no key")
    return keys


def _legacy_keys(home: Path) -> list[bytes]:
    keys = []
    hex_file = home / LEGACY_HEX_KEY_FILE
    if hex_file.exists():
        _check_private(hex_file)
        keys.append(parse_key(hex_file.read_text(), str(hex_file)))
    raw_file = home / LEGACY_RAW_KEY_FILE
    if raw_file.exists():
        raw = raw_file.read_bytes()
        if len(raw) != KEY_BYTES:
            raise InvalidInput(f"{raw_file}: the evidence key must be 32 bytes, got {len(raw)}")
        keys.append(raw)
    return keys


def _write_new_file(path: Path, text: str) -> None:
    """Write a file whole, then link it into place: processes starting together never read a
    half-written ring, and the first one to link wins (the others read the winner's)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _ring_text(keys: Sequence[bytes]) -> str:
    lines = ["# SafeStream evidence keys, oldest first; the last one seals new files."]
    lines += [f"{k.hex()}  # id {key_id(k).hex()}" for k in keys]
    return "\n".join(lines) + "\n"


def ensure_ring_file(home: Path) -> Path:
    """The home's ring file, created on first use from the legacy key files or a new key."""
    path = home / RING_FILE_NAME
    if not path.exists():
        keys = _legacy_keys(home) or [secrets.token_bytes(KEY_BYTES)]
        _write_new_file(path, _ring_text(keys))
    return path


def load_key_ring(home: Path, environ: Mapping[str, str]) -> KeyRing:
    """The evidence keys of a SafeStream home (see the module docstring for the order).

    `environ` holds `SAFESTREAM_EVIDENCE_KEY` and `_OLD_KEYS` when the keys come from outside
    the home; `EvidenceVault.for_settings` passes them from the settings."""
    env = environ
    from_env = env.get(KEY_ENV, "").strip()
    if from_env:
        current = parse_key(from_env, KEY_ENV)
        old = [
            parse_key(part, OLD_KEYS_ENV)
            for part in env.get(OLD_KEYS_ENV, "").split(",")
            if part.strip()
        ]
        ring_file = home / RING_FILE_NAME
        stored = read_ring_file(ring_file) if ring_file.exists() else _legacy_keys(home)
        return KeyRing(current, tuple(old + stored))
    keys = read_ring_file(ensure_ring_file(home))
    return KeyRing(keys[-1], tuple(keys[:-1]))


def rotate_key(home: Path) -> bytes:
    """Add a new current key to the home's ring file (old keys stay for reading); return its id.

    With the key in the environment, rotate there instead: set the new key in
    `SAFESTREAM_EVIDENCE_KEY` and move the old one to `SAFESTREAM_EVIDENCE_OLD_KEYS`.
    """
    path = ensure_ring_file(home)
    keys = read_ring_file(path)
    new = secrets.token_bytes(KEY_BYTES)
    tmp = path.with_name(f".{path.name}.rotate.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(_ring_text([*keys, new]))
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)
    return key_id(new)
