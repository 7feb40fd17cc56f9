"""Group commit: many reports share a transaction, each caller gets its own answer."""

from __future__ import annotations

import asyncio
from concurrent.futures import Future

import pytest

from safestream.core.errors import Conflict
from safestream.core.events import received
from safestream.core.reports import ReportIn
from safestream.reports.group_commit import GroupCommitWriter
from safestream.store.access import Organisation
from safestream.store.base import utcnow
from safestream.store.database import Database
from safestream.store.reports import NewReport, ReportRepository, StoredReport
from tests.reports.builders import account, org, report


def _new(owner: Organisation, body: ReportIn, key: str) -> NewReport:
    return NewReport(owner.id, owner.name, body, key, events=(received(body, utcnow()),))


def test_batch_stores_every_report_and_answers_each_in_order(database: Database) -> None:
    acme = org(database)
    items = [
        _new(acme, report(reported_accounts=[account("a", f"u{i}")]), f"k{i}") for i in range(20)
    ]
    results = ReportRepository(database).add_many(items)
    assert [
        r.report.body.reported_accounts[0].id for r in results if isinstance(r, StoredReport)
    ] == [f"u{i}" for i in range(20)]
    assert ReportRepository(database).count() == 20


def test_conflicting_key_in_a_batch_fails_only_that_report(database: Database) -> None:
    acme = org(database)
    first = _new(acme, report(description="one"), "same")
    clash = _new(acme, report(description="two"), "same")
    repeat = _new(acme, report(description="one"), "same")
    other = _new(acme, report(description="three"), "other")
    a, b, c, d = ReportRepository(database).add_many([first, clash, repeat, other])
    assert isinstance(a, StoredReport) and a.created
    assert isinstance(b, Conflict)
    assert isinstance(c, StoredReport) and not c.created and c.report.id == a.report.id
    assert isinstance(d, StoredReport) and d.created


def test_writer_answers_each_caller_after_commit(database: Database) -> None:
    acme = org(database)
    repo = ReportRepository(database)
    writer = GroupCommitWriter(repo, max_batch=8)
    writer.start()
    try:
        futures: list[Future[StoredReport]] = [
            writer.submit(_new(acme, report(description=f"r{i}"), f"k{i}")) for i in range(30)
        ]
        stored = [f.result(timeout=30) for f in futures]
    finally:
        writer.stop()
    assert set(repo.existing_ids([s.report.id for s in stored])) == {s.report.id for s in stored}


def test_writer_passes_a_conflict_to_its_caller_only(database: Database) -> None:
    acme = org(database)
    writer = GroupCommitWriter(ReportRepository(database))
    try:
        ok = writer.submit(_new(acme, report(description="a"), "k"))
        assert ok.result(timeout=30).created
        bad = writer.submit(_new(acme, report(description="b"), "k"))
        with pytest.raises(Conflict):
            bad.result(timeout=30)
    finally:
        writer.stop()


def test_event_loop_callers_each_get_their_own_report_after_commit(database: Database) -> None:
    acme = org(database)
    repo = ReportRepository(database)
    writer = GroupCommitWriter(repo)

    async def submit_all() -> list[StoredReport]:
        return await asyncio.gather(
            *(writer.store(_new(acme, report(description=f"r{i}"), f"k{i}")) for i in range(40))
        )

    try:
        stored = asyncio.run(submit_all())
    finally:
        writer.stop()
    assert [s.report.body.description for s in stored] == [f"r{i}" for i in range(40)]
    assert repo.existing_ids([s.report.id for s in stored]) == {s.report.id for s in stored}


def test_writer_opens_a_new_connection_after_its_own_breaks(database: Database) -> None:
    acme = org(database)
    repo = ReportRepository(database)
    writer = GroupCommitWriter(repo)
    try:
        writer.submit(_new(acme, report(description="a"), "a")).result(30)
        writer._connection.get().invalidate()  # as when the database restarts under it
        second = writer.submit(_new(acme, report(description="b"), "b"))
        assert second.result(timeout=30).created
    finally:
        writer.stop()
    assert repo.count() == 2
