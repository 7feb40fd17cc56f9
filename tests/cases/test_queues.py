"""Queues are sorted by priority then age, and two reviewers never get the same case."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from safestream.cases.engine import CaseEngine
from safestream.cases.queues import claim_next, list_cases, list_queues, release
from safestream.core.errors import Conflict, PermissionDenied
from safestream.core.principal import Principal
from safestream.store.database import Database
from tests.reports.builders import account, banked_match, live, org, report, store, user

SYSTEM = Principal.system("test")


def _cases(db: Database, n: int) -> None:
    acme = org(db)
    for i in range(n):
        store(db, acme, report(reported_accounts=[account("acme", f"u{i}")]))
    CaseEngine.for_settings(db).process_pending()


def test_queue_lists_most_urgent_first_then_oldest(database: Database) -> None:
    acme = org(database)
    store(database, acme, report(reported_accounts=[account("acme", "old")]))
    store(database, acme, report(reported_accounts=[account("acme", "new")]))
    store(database, acme, report(reported_accounts=[account("acme", "high")], child_in_danger=True))
    CaseEngine.for_settings(database).process_pending()
    subjects = [c.subject.value for c in list_cases(database, SYSTEM, "review") if c.subject]
    assert subjects == ["acme:high", "acme:old", "acme:new"]


def test_claim_gives_the_most_urgent_case(database: Database) -> None:
    acme = org(database)
    store(database, acme, report(reported_accounts=[account("acme", "low")]))
    store(
        database,
        acme,
        report(
            reported_accounts=[account("acme", "live")],
            live_stream=live("s"),
            matches=[banked_match(database)],
        ),
    )
    CaseEngine.for_settings(database).process_pending()
    reviewer = user(database, "r@hotline.org", "reviewer")
    claimed = claim_next(database, reviewer.principal, "urgent")
    assert claimed is not None and claimed.subject is not None
    assert claimed.subject.value == "acme:live"


def test_claimed_case_leaves_the_queue_until_released(database: Database) -> None:
    _cases(database, 1)
    reviewer = user(database, "r@hotline.org", "reviewer")
    case = claim_next(database, reviewer.principal, "review")
    assert case is not None
    assert (
        claim_next(database, user(database, "s@hotline.org", "reviewer").principal, "review")
        is None
    )
    release(database, reviewer.principal, case.id)
    assert [q.waiting for q in list_queues(database, SYSTEM)] == [1]


def test_release_by_someone_else_is_refused(database: Database) -> None:
    _cases(database, 1)
    case = claim_next(database, user(database, "r@hotline.org", "reviewer").principal, "review")
    assert case is not None
    with pytest.raises(Conflict):
        release(database, user(database, "s@hotline.org", "reviewer").principal, case.id)


def test_auditor_cannot_claim_cases(database: Database) -> None:
    _cases(database, 1)
    with pytest.raises(PermissionDenied):
        claim_next(database, user(database, "a@hotline.org", "auditor").principal, "review")


def test_concurrent_reviewers_never_get_the_same_case(database: Database) -> None:
    _cases(database, 12)
    reviewers = [user(database, f"r{i}@hotline.org", "reviewer") for i in range(6)]

    def claim_all(who: int) -> list[int]:
        got = []
        while (case := claim_next(database, reviewers[who].principal, "review")) is not None:
            got.append(case.id)
        return got

    with ThreadPoolExecutor(len(reviewers)) as pool:
        claimed = [c for batch in pool.map(claim_all, range(len(reviewers))) for c in batch]
    assert len(claimed) == 12
    assert len(set(claimed)) == 12
