"""What a failed write means for the caller: try again shortly, or the disk is full.

Intake answers 503 (`StoreUnavailable`) when the database cannot take a write now (refused or
dropped connections, a server restarting, SQLite busy) and 507 (`StorageFull`) when a disk is
full, both with Retry-After, so clients retry with the same idempotency key instead of treating
the report as rejected. Anything else stays a plain `StoreError` (500).
"""

from __future__ import annotations

import errno
import shutil
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError

from safestream.core.errors import StorageFull, StoreError, StoreUnavailable

RETRY_WITH_SAME_KEY = "nothing was stored; retry with the same idempotency key"
# Free space below which /readyz says not ready: a write could fail half-way.
MIN_FREE_BYTES = 64 * 1024 * 1024
_FULL_TEXTS = ("database or disk is full", "no space left on device", "disk full")
_DISK_FULL_SQLSTATE = "53100"


def is_disk_full(exc: BaseException) -> bool:
    """True when the failure is a full disk (file system, SQLite or PostgreSQL)."""
    for cause in _chain(exc):
        if isinstance(cause, OSError) and cause.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if getattr(cause, "sqlstate", None) == _DISK_FULL_SQLSTATE:
            return True
        if any(text in str(cause).lower() for text in _FULL_TEXTS):
            return True
    return False


def is_unavailable(exc: BaseException) -> bool:
    """True when the database could not be reached or dropped the connection."""
    for cause in _chain(exc):
        if isinstance(cause, (OperationalError, InterfaceError, DisconnectionError)):
            return True
        if isinstance(cause, DBAPIError) and cause.connection_invalidated:
            return True
        if isinstance(cause, (ConnectionError, TimeoutError)):
            return True
    return False


def store_failure(
    exc: BaseException, what: str = "the report", advice: str = RETRY_WITH_SAME_KEY
) -> StoreError:
    """The error to answer for a failed write of `what` (`advice` says what the caller may do)."""
    if is_disk_full(exc):
        return StorageFull(f"the disk is full: {what} was not stored; {advice}")
    if is_unavailable(exc):
        return StoreUnavailable(f"the database is unavailable: {what} was not stored; {advice}")
    if isinstance(exc, StoreError):
        return exc
    return StoreError(f"{what} could not be stored; {advice}")


@dataclass(frozen=True)
class DiskSpace:
    """Free space of the folder a store writes to."""

    path: str
    free_bytes: int
    ok: bool


def disk_space(path: Path, minimum: int = MIN_FREE_BYTES) -> DiskSpace:
    """Free bytes where `path` lives (its nearest existing parent)."""
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    free = shutil.disk_usage(existing).free
    return DiskSpace(str(path), free, free >= minimum)


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 10:
        seen.append(current)
        orig = getattr(current, "orig", None)
        current = (
            orig if isinstance(orig, BaseException) else current.__cause__ or current.__context__
        )
    return seen
