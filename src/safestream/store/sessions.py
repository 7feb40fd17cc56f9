"""Console sessions held on the server: logout, a password change or disabling a user ends them.

A signed cookie alone cannot be taken back: a copy keeps working until it expires. So the cookie
carries a random session token, and a session is live only while its row here is: not ended, used
within the idle timeout, and younger than its lifetime. Only the token's SHA-256 is stored, so a
copy of the database opens no session.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlalchemy.orm import Session

from safestream.store.base import utcnow
from safestream.store.database import Database
from safestream.store.models.access import ConsoleSessionRow
from safestream.store.times import aware

# Writing `last_seen_at` on every page would make each console request a write; once a minute is
# as fine a grain as an idle timeout measured in minutes needs.
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class SessionPolicy:
    """How long a session lives: `idle` without a request, `lifetime` at most."""

    idle: timedelta
    lifetime: timedelta


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(db: Database, user_id: int, policy: SessionPolicy) -> str:
    """Open a session for a user who just proved their password; return its token (cookie only).

    The user's ended and expired sessions are removed on the way, so the table stays small.
    """
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with db.session() as s:
        s.execute(
            delete(ConsoleSessionRow).where(
                ConsoleSessionRow.user_id == user_id,
                or_(
                    ConsoleSessionRow.ended_at.is_not(None),
                    ConsoleSessionRow.last_seen_at < now - policy.idle,
                    ConsoleSessionRow.created_at < now - policy.lifetime,
                ),
            )
        )
        s.add(
            ConsoleSessionRow(
                token_hash=_digest(token), user_id=user_id, created_at=now, last_seen_at=now
            )
        )
    return token


def session_is_live(
    db: Database, token: str, user_id: int, policy: SessionPolicy, *, now: datetime | None = None
) -> bool:
    """Whether the session of this token is live for this user; a live one is marked as used."""
    now = now or utcnow()
    with db.session() as s:
        row = s.get(ConsoleSessionRow, _digest(token))
        if row is None or row.user_id != user_id or row.ended_at is not None:
            return False
        last_seen = aware(row.last_seen_at)
        if now - last_seen > policy.idle or now - aware(row.created_at) > policy.lifetime:
            return False
        if now - last_seen >= TOUCH_EVERY:
            row.last_seen_at = now
        return True


def end_session(db: Database, token: str, because: str = "logout") -> None:
    """End one session (logout); a copy of its cookie opens nothing afterwards."""
    with db.session() as s:
        s.execute(
            update(ConsoleSessionRow)
            .where(ConsoleSessionRow.token_hash == _digest(token))
            .where(ConsoleSessionRow.ended_at.is_(None))
            .values(ended_at=utcnow(), ended_because=because)
        )


def end_user_sessions(s: Session, user_id: int, because: str) -> int:
    """End every live session of a user inside the caller's transaction; return how many."""
    result = s.execute(
        update(ConsoleSessionRow)
        .where(ConsoleSessionRow.user_id == user_id, ConsoleSessionRow.ended_at.is_(None))
        .values(ended_at=utcnow(), ended_because=because)
    )
    return int(getattr(result, "rowcount", 0) or 0)
