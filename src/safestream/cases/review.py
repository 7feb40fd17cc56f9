"""Review services the console calls: case detail, notes, decisions and deconfliction.

They check the role and the input, then call the case repository (`store.cases`) with the acting
principal; the repository applies tenant scope and writes the audit log with each change.
"""

from __future__ import annotations

from safestream.core.cases import Case, Decision, DecisionRecord, Note
from safestream.core.errors import InvalidInput
from safestream.core.principal import Permission, Principal
from safestream.store.case_views import CaseDetail, CaseMatch, EvidenceHold, EvidenceRef
from safestream.store.cases import ESCALATION_QUEUE, CaseRepository
from safestream.store.database import Database
from safestream.store.scope import require

MAX_NOTE = 10_000

__all__ = [
    "ESCALATION_QUEUE",
    "MAX_NOTE",
    "CaseDetail",
    "CaseMatch",
    "EvidenceHold",
    "EvidenceRef",
    "add_note",
    "case_detail",
    "get_case",
    "mark_claimed_elsewhere",
    "record_decision",
]


def get_case(db: Database, principal: Principal, case_id: int) -> Case:
    """A case the principal may see, or raise `NotFound`."""
    return CaseRepository(db).get(principal, case_id)


def case_detail(db: Database, principal: Principal, case_id: int) -> CaseDetail:
    """Reports, entities, matches, evidence refs, holds, notes and decisions of a case."""
    require(principal, Permission.REVIEW)
    return CaseRepository(db).detail(principal, case_id)


def add_note(db: Database, principal: Principal, case_id: int, body: str) -> Note:
    """Add an internal note to a case."""
    require(principal, Permission.REVIEW)
    text = body.strip()
    if not text or len(text) > MAX_NOTE:
        raise InvalidInput(f"note: write 1..{MAX_NOTE} characters")
    return CaseRepository(db).add_note(principal, case_id, text)


def record_decision(
    db: Database,
    principal: Principal,
    case_id: int,
    decision: Decision | str,
    *,
    reason: str = "",
    agency: str = "",
) -> DecisionRecord:
    """Record a decision: confirm, dismiss or refer close the case; escalate makes it urgent.

    Referring needs the agency's code (one of the case's routing, or any code of the routing file).
    """
    require(principal, Permission.REVIEW)
    try:
        chosen = Decision(decision)
    except ValueError as exc:
        raise InvalidInput(f"decision: use one of {', '.join(Decision)}") from exc
    if chosen is Decision.REFER and not agency.strip():
        raise InvalidInput("agency: name the agency the case is referred to")
    if chosen is Decision.ESCALATE and not reason.strip():
        raise InvalidInput("reason: say why the case is escalated")
    return CaseRepository(db).record_decision(
        principal, case_id, chosen, reason=reason.strip(), agency=agency.strip()
    )


def mark_claimed_elsewhere(
    db: Database, principal: Principal, case_id: int, *, claimed_by: str, reference: str = ""
) -> Case:
    """Deconfliction by the case's owner: another agency or organisation holds the case.

    The case stays open so new reports still join it, but it leaves the review queues. Only the
    operator (or the system) may do this; another organisation's claim is recorded as its claim
    (`store.claims`) and never hides a case.
    """
    if not claimed_by.strip():
        raise InvalidInput("claimed_by: name the agency or organisation holding the case")
    return CaseRepository(db).mark_claimed_elsewhere(
        principal, case_id, claimed_by=claimed_by.strip(), reference=reference.strip()
    )
