"""A linking transaction on PostgreSQL: one linker at a time, plans made for the batch's data."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from safestream.store import Database
from safestream.store.linking import begin_linking

LOCK_KEY = 0x5AFE_7E57

on_postgres = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


@on_postgres
def test_linking_transaction_plans_each_statement_for_its_parameters(database: Database) -> None:
    with database.session() as s:
        begin_linking(s, LOCK_KEY)
        assert s.execute(text("show plan_cache_mode")).scalar_one() == "force_custom_plan"


@on_postgres
def test_custom_plans_end_with_the_linking_transaction(database: Database) -> None:
    with database.session() as s:
        begin_linking(s, LOCK_KEY)
    with database.session() as s:
        assert s.execute(text("show plan_cache_mode")).scalar_one() == "auto"


@on_postgres
def test_linking_transaction_holds_the_linker_lock(database: Database) -> None:
    with database.session() as s:
        begin_linking(s, LOCK_KEY)
        held = s.execute(
            text(
                "select count(*) from pg_locks where locktype = 'advisory'"
                " and objid = :k and pid = pg_backend_pid()"
            ),
            {"k": LOCK_KEY},
        ).scalar_one()
        assert held == 1


@on_postgres
def test_a_linker_that_will_not_wait_is_told_another_holds_the_lock(database: Database) -> None:
    with database.session() as holder:
        assert begin_linking(holder, LOCK_KEY)
        with database.session() as other:
            assert begin_linking(other, LOCK_KEY, wait=False) is False
    with database.session() as later:
        assert begin_linking(later, LOCK_KEY, wait=False) is True
