"""Words of linked reports become searchable: at once for reports linked by name, after the
backlog for reports the linker works through in batches (both stores)."""

from __future__ import annotations

from sqlalchemy import func, select

from safestream.cases.engine import CaseEngine
from safestream.store.database import Database
from safestream.store.models.reports import ReportRow, ReportTextQueueRow
from safestream.store.report_text import report_text_match
from tests.reports.builders import org, report, store


def _found(db: Database, words: list[str]) -> list[str]:
    with db.session() as s:
        dialect = s.get_bind().dialect.name
        return list(s.scalars(select(ReportRow.id).where(report_text_match(dialect, words))))


def _queued(db: Database) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(ReportTextQueueRow)) or 0)


def test_a_report_linked_by_name_is_searchable_at_once(database: Database) -> None:
    rid = store(database, org(database), report(description="gift cards for the host"))
    CaseEngine.for_settings(database).process([rid])
    assert _found(database, ["gift", "host"]) == [rid]
    assert _queued(database) == 0


def test_a_backlog_batch_queues_its_words_instead_of_indexing_them(database: Database) -> None:
    rid = store(database, org(database), report(description="gift cards for the host"))
    engine = CaseEngine.for_settings(database)
    engine.process([rid], defer_text=True)
    assert _found(database, ["gift"]) == []
    assert _queued(database) == 1
    assert engine.index_queued_text() == 1
    assert _found(database, ["gift"]) == [rid]
    assert _queued(database) == 0


def test_the_linker_indexes_the_queue_once_it_has_caught_up(database: Database) -> None:
    acme = org(database)
    ids = [store(database, acme, report(description=f"w{i}")) for i in range(3)]
    assert CaseEngine.for_settings(database).process_pending(batch=2) == 3
    assert [_found(database, [f"w{i}"]) for i in range(3)] == [[rid] for rid in ids]
    assert _queued(database) == 0


def test_a_linker_that_has_not_caught_up_leaves_the_words_queued(database: Database) -> None:
    acme = org(database)
    for _ in range(3):
        store(database, acme, report(description="w"))
    assert CaseEngine.for_settings(database).process_pending(2, batch=2) == 2
    assert _queued(database) == 2
    assert _found(database, ["w"]) == []
