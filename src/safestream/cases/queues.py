"""Review queues: open cases sorted by priority then age; claiming is atomic.

Two reviewers never get the same case: on PostgreSQL the next case is picked with
`SELECT ... FOR UPDATE SKIP LOCKED`; on SQLite (one writer at a time) with a conditional UPDATE
that only succeeds while the case is still unclaimed. Claims expire (a lease) so a case left by a
reviewer who walked away returns to the queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from safestream.cases.review import case_summary
from safestream.core.cases import Case, CaseStatus
from safestream.core.errors import Conflict, PermissionDenied
from safestream.store import audit
from safestream.store.access import Permission, User
from safestream.store.base import utcnow
from safestream.store.database import Database
from safestream.store.models.cases import CaseRow

CLAIM_LEASE = timedelta(minutes=30)
SQLITE_CLAIM_TRIES = 20


@dataclass(frozen=True)
class QueueSummary:
    """One queue: how many cases wait, and the most urgent priority among them."""

    name: str
    waiting: int
    top_priority: int | None
    oldest: datetime | None


def _available(now: datetime) -> list[object]:
    return [
        CaseRow.status == CaseStatus.OPEN.value,
        CaseRow.claimed_elsewhere_by.is_(None),
        or_(CaseRow.claimed_by_user.is_(None), CaseRow.claim_expires_at < now),
    ]


def list_queues(db: Database) -> list[QueueSummary]:
    """Every queue with cases waiting, by name."""
    now = utcnow()
    with db.session() as s:
        rows = s.execute(
            select(
                CaseRow.queue,
                func.count(),
                func.min(CaseRow.priority),
                func.min(CaseRow.created_at),
            )
            .where(*_available(now))  # type: ignore[arg-type]
            .group_by(CaseRow.queue)
            .order_by(CaseRow.queue)
        ).all()
        return [QueueSummary(q, n, p, t) for q, n, p, t in rows]


def list_cases(db: Database, queue: str, *, limit: int = 50) -> list[Case]:
    """Cases waiting in a queue, most urgent then oldest first."""
    now = utcnow()
    with db.session() as s:
        rows = s.scalars(
            select(CaseRow)
            .where(CaseRow.queue == queue, *_available(now))  # type: ignore[arg-type]
            .order_by(CaseRow.priority, CaseRow.created_at, CaseRow.id)
            .limit(limit)
        ).all()
        return [case_summary(s, r) for r in rows]


def _pick_postgres(s: Session, queue: str, now: datetime) -> CaseRow | None:
    return s.scalars(
        select(CaseRow)
        .where(CaseRow.queue == queue, *_available(now))  # type: ignore[arg-type]
        .order_by(CaseRow.priority, CaseRow.created_at, CaseRow.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).first()


def _pick_sqlite(s: Session, queue: str, now: datetime, user_id: int) -> int | None:
    for _ in range(SQLITE_CLAIM_TRIES):
        candidate = s.scalar(
            select(CaseRow.id)
            .where(CaseRow.queue == queue, *_available(now))  # type: ignore[arg-type]
            .order_by(CaseRow.priority, CaseRow.created_at, CaseRow.id)
            .limit(1)
        )
        if candidate is None:
            return None
        won = s.execute(
            update(CaseRow)
            .where(CaseRow.id == candidate, *_available(now))  # type: ignore[arg-type]
            .values(claimed_by_user=user_id, claim_expires_at=now + CLAIM_LEASE)
        )
        if won.rowcount == 1:  # type: ignore[attr-defined]
            return int(candidate)
    return None


def claim_next(db: Database, user: User, queue: str) -> Case | None:
    """Give the reviewer the most urgent, oldest unclaimed case of a queue, or None."""
    if not user.allows(Permission.REVIEW):
        raise PermissionDenied(f"{user.email} ({user.role}) may not review cases")
    now = utcnow()
    with db.session() as s:
        if db.engine.dialect.name == "postgresql":
            row = _pick_postgres(s, queue, now)
            if row is None:
                return None
            row.claimed_by_user = user.id
            row.claim_expires_at = now + CLAIM_LEASE
            case_id = row.id
        else:
            picked = _pick_sqlite(s, queue, now, user.id)
            if picked is None:
                return None
            case_id = picked
        audit.append(s, actor=user.email, action="case.claim", subject=f"case:{case_id}")
        s.flush()
        claimed = s.get(CaseRow, case_id)
        assert claimed is not None
        return case_summary(s, claimed)


def release(db: Database, user: User, case_id: int) -> None:
    """Give a claimed case back to its queue."""
    with db.session() as s:
        done = s.execute(
            update(CaseRow)
            .where(CaseRow.id == case_id, CaseRow.claimed_by_user == user.id)
            .values(claimed_by_user=None, claim_expires_at=None)
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(f"case {case_id} is not claimed by {user.email}")
        audit.append(s, actor=user.email, action="case.release", subject=f"case:{case_id}")
