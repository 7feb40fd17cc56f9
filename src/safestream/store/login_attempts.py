"""Login attempts counted in the store, so every server process (`serve --workers N`) and every
server on the same store throttle one count, not one count each.

An attempt is counted *before* its password is checked, under its account and its client
address, and taken back when the password is right; so attempts still hashing count too, and
parallel guesses sent to several processes cannot all pass the check before any is counted.
Admissions are serialised (SQLite: the transaction starts with a write, so it holds the one
writer lock; PostgreSQL: a transaction-scoped advisory lock), which keeps the count exact.
Keys are stored as SHA-256 of `account:EMAIL` / `address:IP`; attempts older than the window are
removed on the way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from safestream.store.database import Database
from safestream.store.models.access import LoginAttemptRow
from safestream.store.times import aware

# Any constant other locks do not use: admissions of every account and address queue on it.
_ADVISORY_LOCK = 0x5AFE_106
_NO_WAIT = 0.0


@dataclass(frozen=True)
class Limit:
    """At most `attempts` counted attempts under `key` within the window."""

    key: str
    attempts: int


def key_hash(key: str) -> str:
    """The stored form of a throttle key (an account or address, never kept as typed)."""
    return hashlib.sha256(key.encode()).hexdigest()


def _serialise(s: Session, window_start: datetime) -> None:
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("select pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK})
    # On SQLite this write takes the writer lock before anything is read.
    s.execute(delete(LoginAttemptRow).where(LoginAttemptRow.attempted_at <= window_start))


def _wait(s: Session, limit: Limit, now: datetime, window: timedelta) -> float:
    """Seconds until `limit.key` is under its limit again (0 when it is now)."""
    recent = s.scalars(
        select(LoginAttemptRow.attempted_at)
        .where(
            LoginAttemptRow.key_hash == key_hash(limit.key),
            LoginAttemptRow.attempted_at > now - window,
        )
        .order_by(LoginAttemptRow.attempted_at.desc())
        .limit(limit.attempts)
    ).all()
    if len(recent) < limit.attempts:
        return _NO_WAIT
    return max((aware(recent[-1]) + window - now).total_seconds(), 0.001)


def admit(
    db: Database, limits: Sequence[Limit], now: datetime, window: timedelta
) -> tuple[tuple[int, ...], float]:
    """Count one attempt under every key, unless one of them is at its limit.

    Returns the counted attempts' ids (to take back on success) and 0, or no ids and the seconds
    to wait when refused (a refused attempt is not counted)."""
    with db.session() as s:
        _serialise(s, now - window)
        wait = max((_wait(s, limit, now, window) for limit in limits), default=_NO_WAIT)
        if wait > 0:
            return (), wait
        rows = [LoginAttemptRow(key_hash=key_hash(limit.key), attempted_at=now) for limit in limits]
        s.add_all(rows)
        s.flush()
        return tuple(row.id for row in rows), _NO_WAIT


def take_back(db: Database, attempt_ids: Sequence[int], *, clear: str | None = None) -> None:
    """Uncount these attempts (the password was right, or never checked); with `clear`, also
    every attempt counted under that key (a right password clears its account's count)."""
    with db.session() as s:
        if attempt_ids:
            s.execute(delete(LoginAttemptRow).where(LoginAttemptRow.id.in_(attempt_ids)))
        if clear is not None:
            s.execute(delete(LoginAttemptRow).where(LoginAttemptRow.key_hash == key_hash(clear)))
