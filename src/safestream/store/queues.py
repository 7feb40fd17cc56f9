"""Queue repository: waiting cases by priority then age, and atomic claims, inside scope.

Two reviewers never get the same case: on PostgreSQL the next case is picked with
`SELECT ... FOR UPDATE SKIP LOCKED`; on SQLite (one writer at a time) with a conditional UPDATE
that only succeeds while the case is still unclaimed. Claims expire (a lease) so a case left by a
reviewer who walked away returns to the queue. Only principals that may change cases (the
operator and the system) have queues; for anyone else every queue is empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, false, func, or_, select, true, update
from sqlalchemy.orm import Session

from safestream.core.cases import Case, CaseStatus
from safestream.core.errors import Conflict
from safestream.core.principal import Principal
from safestream.store import audit
from safestream.store.base import utcnow
from safestream.store.cases import case_summary, visible_case_row
from safestream.store.database import Database
from safestream.store.models.cases import CaseRow
from safestream.store.scope import cases_visible, may_change_cases

CLAIM_LEASE = timedelta(minutes=30)
SQLITE_CLAIM_TRIES = 20


@dataclass(frozen=True)
class QueueSummary:
    """One queue: how many cases wait, and the most urgent priority among them."""

    name: str
    waiting: int
    top_priority: int | None
    oldest: datetime | None


def _in_queue(queue: str | None) -> ColumnElement[bool]:
    """One queue, or (None) every queue: the console's landing view works across tabs."""
    return true() if queue is None else CaseRow.queue == queue


def _available(principal: Principal, now: datetime) -> list[ColumnElement[bool]]:
    return [
        cases_visible(principal) if may_change_cases(principal) else false(),
        CaseRow.status == CaseStatus.OPEN.value,
        CaseRow.claimed_elsewhere_by.is_(None),
        or_(CaseRow.claimed_by_user.is_(None), CaseRow.claim_expires_at < now),
    ]


class QueueRepository:
    """Review queues of one store, for an acting principal."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def summaries(self, principal: Principal) -> list[QueueSummary]:
        """Every queue with cases waiting, by name."""
        with self.db.session() as s:
            rows = s.execute(
                select(
                    CaseRow.queue,
                    func.count(),
                    func.min(CaseRow.priority),
                    func.min(CaseRow.created_at),
                )
                .where(*_available(principal, utcnow()))
                .group_by(CaseRow.queue)
                .order_by(CaseRow.queue)
            ).all()
            return [QueueSummary(q, n, p, t) for q, n, p, t in rows]

    def waiting(self, principal: Principal, queue: str, *, limit: int = 50) -> list[Case]:
        """Cases waiting in a queue, most urgent then oldest first."""
        with self.db.session() as s:
            rows = s.scalars(
                select(CaseRow)
                .where(CaseRow.queue == queue, *_available(principal, utcnow()))
                .order_by(CaseRow.priority, CaseRow.created_at, CaseRow.id)
                .limit(limit)
            ).all()
            return [case_summary(s, r) for r in rows]

    def held_by(self, principal: Principal) -> list[Case]:
        """Open cases this person holds (claimed, lease not expired), oldest claim first."""
        if principal.user_id is None:
            return []
        with self.db.session() as s:
            rows = s.scalars(
                select(CaseRow)
                .where(
                    cases_visible(principal),
                    CaseRow.claimed_by_user == principal.user_id,
                    CaseRow.status == CaseStatus.OPEN.value,
                    CaseRow.claim_expires_at > utcnow(),
                )
                .order_by(CaseRow.priority, CaseRow.created_at)
            ).all()
            return [case_summary(s, row) for row in rows]

    def claim_next(self, principal: Principal, queue: str | None) -> Case | None:
        """Give the person the most urgent, oldest unclaimed case of a queue (None: any)."""
        if principal.user_id is None:
            raise Conflict("only a person can claim a case")
        now = utcnow()
        with self.db.session() as s:
            if self.db.engine.dialect.name == "postgresql":
                row = self._pick_postgres(s, principal, queue, now)
                if row is None:
                    return None
                row.claimed_by_user = principal.user_id
                row.claim_expires_at = now + CLAIM_LEASE
                case_id = row.id
            else:
                picked = self._pick_sqlite(s, principal, queue, now)
                if picked is None:
                    return None
                case_id = picked
            audit.append(s, actor=principal.actor, action="case.claim", subject=f"case:{case_id}")
            s.flush()
            claimed = s.get(CaseRow, case_id)
            assert claimed is not None
            return case_summary(s, claimed)

    def release(self, principal: Principal, case_id: int) -> None:
        """Give a case this person claimed back to its queue."""
        with self.db.session() as s:
            visible_case_row(s, principal, case_id)
            done = s.execute(
                update(CaseRow)
                .where(CaseRow.id == case_id, CaseRow.claimed_by_user == principal.user_id)
                .values(claimed_by_user=None, claim_expires_at=None)
                .execution_options(synchronize_session=False)
            )
            if done.rowcount != 1:  # type: ignore[attr-defined]
                raise Conflict(f"case {case_id} is not claimed by {principal.actor}")
            audit.append(s, actor=principal.actor, action="case.release", subject=f"case:{case_id}")

    @staticmethod
    def _pick_postgres(
        s: Session, principal: Principal, queue: str | None, now: datetime
    ) -> CaseRow | None:
        return s.scalars(
            select(CaseRow)
            .where(_in_queue(queue), *_available(principal, now))
            .order_by(CaseRow.priority, CaseRow.created_at, CaseRow.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        ).first()

    @staticmethod
    def _pick_sqlite(
        s: Session, principal: Principal, queue: str | None, now: datetime
    ) -> int | None:
        for _ in range(SQLITE_CLAIM_TRIES):
            candidate = s.scalar(
                select(CaseRow.id)
                .where(_in_queue(queue), *_available(principal, now))
                .order_by(CaseRow.priority, CaseRow.created_at, CaseRow.id)
                .limit(1)
            )
            if candidate is None:
                return None
            won = s.execute(
                update(CaseRow)
                .where(CaseRow.id == candidate, *_available(principal, now))
                .values(claimed_by_user=principal.user_id, claim_expires_at=now + CLAIM_LEASE)
                .execution_options(synchronize_session=False)
            )
            if won.rowcount == 1:  # type: ignore[attr-defined]
                return int(candidate)
        return None
