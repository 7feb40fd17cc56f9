"""Fixtures shared by every part's tests: a SafeStream home and a migrated store per backend."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from safestream.core.config import Settings
from safestream.store import Database
from tests.store_templates import MigratedTemplates

POSTGRES_URL = os.environ.get(
    "SAFESTREAM_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _postgres_answers() -> bool:
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 2})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return True
    except Exception:
        return False


_POSTGRES_UP = _postgres_answers()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh SAFESTREAM_HOME with a SQLite store, set in the environment for the CLI."""
    home = tmp_path / "home"
    monkeypatch.setenv("SAFESTREAM_HOME", str(home))
    monkeypatch.delenv("SAFESTREAM_DATABASE_URL", raising=False)
    return home


@pytest.fixture
def settings(home: Path) -> Settings:
    """Settings of the fresh home."""
    return Settings.from_env()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty store on SQLite, and on PostgreSQL in a schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    if not _POSTGRES_UP:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL does not answer at {POSTGRES_URL}")
        pytest.skip("PostgreSQL is not running")
    schema = _schema_name()
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f"create schema {schema}"))
    sep = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f"drop schema {schema} cascade"))
    admin.dispose()


def _schema_name() -> str:
    return f"t_{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory: pytest.TempPathFactory) -> MigratedTemplates:
    """One migrated store per backend for the session, copied into each test's store."""
    return MigratedTemplates(tmp_path_factory.mktemp("templates"), POSTGRES_URL)


@pytest.fixture
def database(database_url: str, migrated_templates: MigratedTemplates) -> Iterator[Database]:
    """A migrated store on each backend (a copy of the session's migrated template)."""
    if database_url.startswith("sqlite"):
        migrated_templates.copy_sqlite(database_url)
    else:
        schema = database_url.rsplit("search_path%3D", 1)[1]
        migrated_templates.fill_postgres(schema)
    db = Database(database_url)
    db.migrate()  # a no-op on a current copy; migrates when pg_dump is missing
    yield db
    db.dispose()
