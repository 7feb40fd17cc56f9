"""The schema comes from Alembic migrations, identical on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import inspect

from safestream.store import Database
from safestream.store.report_text import SEARCH_SCHEMA_NAMES


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

    def modelled(obj: object, name: str | None, *_: object) -> bool:
        # The full-text search structures are per dialect and not modelled (store.report_text).
        base = (name or "").removesuffix("_config").removesuffix("_content")
        base = base.removesuffix("_data").removesuffix("_docsize").removesuffix("_idx")
        return base not in SEARCH_SCHEMA_NAMES

    with database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": modelled})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
