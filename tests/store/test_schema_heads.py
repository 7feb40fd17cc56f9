"""Opening an up-to-date store skips Alembic; anything else still migrates."""

from __future__ import annotations

from alembic import command
from alembic.script import ScriptDirectory

from safestream.store import Database
from safestream.store.database import alembic_config
from safestream.store.schema_heads import packaged_heads, schema_is_current


def test_heads_read_from_the_files_are_alembics_heads(database: Database) -> None:
    scripts = ScriptDirectory.from_config(alembic_config(database.engine))
    assert packaged_heads() == frozenset(scripts.get_heads())


def test_a_fresh_store_is_not_current_and_a_migrated_one_is(database_url: str) -> None:
    db = Database(database_url)
    assert not schema_is_current(db.engine)
    db.migrate()
    assert schema_is_current(db.engine)
    db.dispose()


def test_a_store_behind_the_code_is_migrated(database_url: str) -> None:
    db = Database(database_url)
    command.upgrade(alembic_config(db.engine), "0001_core")
    assert not schema_is_current(db.engine)
    db.migrate()
    assert schema_is_current(db.engine)
    db.dispose()
