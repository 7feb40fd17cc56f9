"""Review queues: open cases sorted by priority then age; claiming is atomic (`store.queues`)."""

from __future__ import annotations

from safestream.core.cases import Case
from safestream.core.principal import Permission, Principal
from safestream.store import case_facets
from safestream.store.case_browse import CaseBrowser, CaseFilter, CasePage, PageKey
from safestream.store.case_facets import Choice
from safestream.store.database import Database
from safestream.store.queues import CLAIM_LEASE, QueueRepository, QueueSummary
from safestream.store.scope import require

__all__ = [
    "CLAIM_LEASE",
    "Choice",
    "QueueSummary",
    "browse_cases",
    "claim_next",
    "claimants",
    "claimed_by",
    "list_cases",
    "list_queues",
    "release",
    "reporting_orgs",
]


def list_queues(db: Database, principal: Principal) -> list[QueueSummary]:
    """Every queue with cases waiting that the principal may work, by name."""
    return QueueRepository(db).summaries(principal)


def list_cases(db: Database, principal: Principal, queue: str, *, limit: int = 50) -> list[Case]:
    """Cases waiting in a queue, most urgent then oldest first."""
    return QueueRepository(db).waiting(principal, queue, limit=limit)


def browse_cases(
    db: Database, principal: Principal, f: CaseFilter, *, after: PageKey | None, limit: int = 50
) -> CasePage:
    """One keyset page of the cases matching a reviewer's filters and search, most urgent first."""
    require(principal, Permission.REVIEW)
    return CaseBrowser(db).page(principal, f, after=after, limit=limit)


def claimed_by(db: Database, principal: Principal) -> list[Case]:
    """Open cases this reviewer holds, so one who navigated away can find them again."""
    return QueueRepository(db).held_by(principal)


def claim_next(db: Database, principal: Principal, queue: str | None) -> Case | None:
    """Give the reviewer the most urgent, oldest unclaimed case of a queue (None: any), or None."""
    require(principal, Permission.REVIEW)
    return QueueRepository(db).claim_next(principal, queue)


def release(db: Database, principal: Principal, case_id: int) -> None:
    """Give a claimed case back to its queue."""
    QueueRepository(db).release(principal, case_id)


def reporting_orgs(db: Database, principal: Principal) -> list[Choice]:
    """Organisations the queue can be filtered by: those with a report the reviewer may see."""
    require(principal, Permission.REVIEW)
    return case_facets.reporting_orgs(db, principal)


def claimants(db: Database, principal: Principal) -> list[Choice]:
    """People the queue can be filtered by: those holding a case the reviewer may see."""
    require(principal, Permission.REVIEW)
    return case_facets.claimants(db, principal)
