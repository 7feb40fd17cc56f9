"""The schema comes from Alembic migrations, identical on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import inspect

from safestream.store import Database


def test_migrate_creates_bank_tables(database: Database) -> None:
    tables = set(inspect(database.engine).get_table_names())
    assert {"banks", "bank_entries", "alembic_version"} <= tables


def test_migrate_twice_is_a_no_op(database: Database) -> None:
    database.migrate()
    assert "banks" in inspect(database.engine).get_table_names()


def test_migrations_match_the_models(database: Database) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from safestream.store.models import Base

    with database.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
