"""Claiming and assigning chosen cases (the queue's bulk actions), each atomically, in scope.

Each case is taken by one conditional UPDATE that succeeds only while the case is still open,
not held by another agency and not held by another reviewer (or that reviewer's lease ran out),
so a bulk action never takes a case from under someone, on PostgreSQL or SQLite. What could not
be taken is reported per case with the reason, never silently skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session

from safestream.core.cases import CaseStatus
from safestream.core.errors import InvalidInput, NotFound, PermissionDenied
from safestream.core.principal import Permission, Principal
from safestream.store import audit
from safestream.store.access import User, get_user, list_users
from safestream.store.base import utcnow
from safestream.store.database import Database
from safestream.store.models.cases import CaseRow
from safestream.store.queues import CLAIM_LEASE
from safestream.store.scope import cases_visible, may_change_cases

MAX_CASES = 200


@dataclass(frozen=True)
class CaseOutcome:
    """What a bulk action did to one case: done, or why not."""

    case_id: int
    done: bool
    note: str


def _takeable(principal: Principal, now: datetime) -> ColumnElement[bool]:
    """Open, in scope, not held elsewhere, and free or already this person's."""
    return and_(
        cases_visible(principal),
        CaseRow.status == CaseStatus.OPEN.value,
        CaseRow.claimed_elsewhere_by.is_(None),
        or_(
            CaseRow.claimed_by_user.is_(None),
            CaseRow.claim_expires_at < now,
            CaseRow.claimed_by_user == principal.user_id,
        ),
    )


def _why_not(s: Session, principal: Principal, case_id: int, now: datetime) -> str:
    row = s.scalar(select(CaseRow).where(CaseRow.id == case_id, cases_visible(principal)))
    if row is None:
        return "not found"
    if row.status != CaseStatus.OPEN.value:
        return f"already {row.decision or row.status}"
    if row.claimed_elsewhere_by:
        return f"held by {row.claimed_elsewhere_by}"
    return "claimed by another reviewer"


def _checked_ids(case_ids: Sequence[int]) -> list[int]:
    ids = list(dict.fromkeys(case_ids))
    if not ids:
        raise InvalidInput("cases: choose at least one case")
    if len(ids) > MAX_CASES:
        raise InvalidInput(f"cases: at most {MAX_CASES} at once")
    return ids


class CaseAssignment:
    """Give chosen cases to a reviewer: oneself (claim) or a colleague (assign)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def assignees(self, principal: Principal) -> list[User]:
        """Colleagues cases may be assigned to: active reviewers of the principal's organisation
        (only the operator's people work cases), by email."""
        if principal.org is None or not may_change_cases(principal):
            return []
        org_id = principal.org.id
        return [
            u
            for u in list_users(self.db)
            if u.org_id == org_id and u.allows(Permission.REVIEW) and may_change_cases(u.principal)
        ]

    def assignee(self, principal: Principal, user_id: int) -> User:
        """The colleague cases may be assigned to: an active reviewer who may work them."""
        try:
            user = get_user(self.db, user_id)
        except NotFound:
            raise InvalidInput("assignee: no such reviewer") from None
        if not user.allows(Permission.REVIEW) or not may_change_cases(user.principal):
            raise InvalidInput(f"assignee: {user.email} may not work cases")
        if principal.org is None or user.org_id != principal.org.id:
            raise InvalidInput("assignee: choose a reviewer of your organisation")
        return user

    def give(self, principal: Principal, case_ids: Sequence[int], to: User) -> list[CaseOutcome]:
        """Claim each case for `to` (a fresh lease), one conditional UPDATE per case."""
        if not may_change_cases(principal) or principal.user_id is None:
            raise PermissionDenied(f"{principal.actor} may not claim or assign cases")
        action = "case.claim" if to.id == principal.user_id else "case.assign"
        outcomes = []
        for case_id in _checked_ids(case_ids):
            now = utcnow()
            with self.db.session() as s:
                taken = s.execute(
                    update(CaseRow)
                    .where(CaseRow.id == case_id, _takeable(principal, now))
                    .values(claimed_by_user=to.id, claim_expires_at=now + CLAIM_LEASE)
                    .execution_options(synchronize_session=False)
                )
                if taken.rowcount != 1:  # type: ignore[attr-defined]
                    outcomes.append(
                        CaseOutcome(case_id, False, _why_not(s, principal, case_id, now))
                    )
                    continue
                details: dict[str, object] = {} if action == "case.claim" else {"to": to.email}
                audit.append(
                    s, actor=principal.actor, action=action, subject=f"case:{case_id}",
                    details=details,
                )  # fmt: skip
                outcomes.append(CaseOutcome(case_id, True, f"claimed by {to.email}"))
        return outcomes
