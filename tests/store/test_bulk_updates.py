"""Bulk updates by key rewrite only the rows whose values change (both stores)."""

from __future__ import annotations

from sqlalchemy import Table, select

from safestream.store.base import utcnow
from safestream.store.bulk import update_rows
from safestream.store.database import Database
from safestream.store.linking import insert_cases
from safestream.store.models.cases import CaseRow

CASES: Table = CaseRow.__table__  # type: ignore[assignment]


def _two_cases(database: Database) -> list[int]:
    now = utcnow()
    row = {"subject_kind": "account", "created_at": now, "updated_at": now}
    with database.session() as s:
        return insert_cases(s, [{**row, "subject_value": "a"}, {**row, "subject_value": "b"}])


def test_update_rows_changes_only_rows_whose_values_differ(database: Database) -> None:
    first, second = _two_cases(database)
    with database.session() as s:
        changed = update_rows(
            s,
            CASES,
            "id",
            [
                {"id": first, "priority": 3, "queue": "review"},  # what it holds already
                {"id": second, "priority": 1, "queue": "urgent"},
            ],
        )
    assert changed == 1
    with database.session() as s:
        rows = dict(s.execute(select(CaseRow.id, CaseRow.queue)).tuples().all())
    assert rows == {first: "review", second: "urgent"}


def test_update_rows_compares_missing_values_as_equal(database: Database) -> None:
    first, _ = _two_cases(database)
    with database.session() as s:
        assert update_rows(s, CASES, "id", [{"id": first, "merged_into": None}]) == 0
        assert update_rows(s, CASES, "id", [{"id": first, "merged_into": 7}]) == 1
