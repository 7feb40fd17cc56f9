"""Cryptographic digests (MD5, SHA-256) of a file's bytes: exact-copy signals beside PDQ."""

from __future__ import annotations

import hashlib
from pathlib import Path

_CHUNK = 1024 * 1024


def digests_of_bytes(data: bytes) -> tuple[str, str]:
    """MD5 and SHA-256 of `data`, as lower-case hex."""
    return hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest()


def file_digests(path: Path) -> tuple[str, str]:
    """MD5 and SHA-256 of a file, streamed in 1 MiB chunks so large videos fit in memory."""
    md5 = hashlib.md5()
    sha256 = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            md5.update(chunk)
            sha256.update(chunk)
    return md5.hexdigest(), sha256.hexdigest()
