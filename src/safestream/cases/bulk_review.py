"""Bulk actions of the queue: claim, dismiss or assign many chosen cases at once.

The console asks for confirmation first; this module only acts. Each case is handled on its own
(one transaction each), so one case taken meanwhile or decided by someone else is reported as
such and never stops the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from safestream.core.cases import Case, Decision
from safestream.core.errors import InvalidInput, SafeStreamError
from safestream.core.principal import Permission, Principal
from safestream.store.access import User
from safestream.store.case_assignment import MAX_CASES, CaseAssignment, CaseOutcome
from safestream.store.cases import CaseRepository
from safestream.store.database import Database
from safestream.store.scope import require

__all__ = ["BulkAction", "CaseOutcome", "apply_bulk", "assignees", "chosen_cases"]


class BulkAction(StrEnum):
    """What a reviewer may do to many cases at once."""

    CLAIM = "claim"
    DISMISS = "dismiss"
    ASSIGN = "assign"


def assignees(db: Database, principal: Principal) -> list[User]:
    """Colleagues the reviewer may assign cases to."""
    require(principal, Permission.REVIEW)
    return CaseAssignment(db).assignees(principal)


def chosen_cases(db: Database, principal: Principal, case_ids: Sequence[int]) -> list[Case]:
    """The chosen cases the reviewer may see, for the confirmation page (others left out)."""
    require(principal, Permission.REVIEW)
    if len(case_ids) > MAX_CASES:
        raise InvalidInput(f"cases: at most {MAX_CASES} at once")
    cases = []
    for case_id in dict.fromkeys(case_ids):
        try:
            cases.append(CaseRepository(db).get(principal, case_id))
        except SafeStreamError:
            continue
    return cases


def apply_bulk(
    db: Database,
    principal: Principal,
    action: BulkAction,
    case_ids: Sequence[int],
    *,
    reason: str = "",
    assignee_id: int | None = None,
) -> list[CaseOutcome]:
    """Do `action` to each case; say per case what happened."""
    require(principal, Permission.REVIEW)
    assignment = CaseAssignment(db)
    if action is BulkAction.ASSIGN:
        if assignee_id is None:
            raise InvalidInput("assignee: choose the reviewer the cases go to")
        return assignment.give(principal, case_ids, assignment.assignee(principal, assignee_id))
    if action is BulkAction.CLAIM:
        if principal.user_id is None:
            raise InvalidInput("only a person can claim cases")
        return assignment.give(
            principal, case_ids, assignment.assignee(principal, principal.user_id)
        )
    if not case_ids:
        raise InvalidInput("cases: choose at least one case")
    if len(case_ids) > MAX_CASES:
        raise InvalidInput(f"cases: at most {MAX_CASES} at once")
    outcomes = []
    for case_id in dict.fromkeys(case_ids):
        try:
            CaseRepository(db).record_decision(
                principal, case_id, Decision.DISMISS, reason=reason.strip(), agency=""
            )
            outcomes.append(CaseOutcome(case_id, True, "dismissed"))
        except SafeStreamError as error:
            outcomes.append(CaseOutcome(case_id, False, str(error)))
    return outcomes
