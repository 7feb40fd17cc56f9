"""Engine, sessions and migrations for one store (SQLite file or PostgreSQL)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from safestream.core.config import Settings
from safestream.core.errors import StoreError
from safestream.store.audit_anchor import AuditAnchor
from safestream.store.schema_heads import schema_is_current
from safestream.store.sqlite_write_lock import BUSY_TIMEOUT_MS, take_write_lock

if TYPE_CHECKING:
    from alembic.config import Config

# What the database driver raises (locked, gone, full, ...); edges map it to a status without
# importing SQLAlchemy themselves.
DatabaseError = DBAPIError
# An open transaction as the parts hold it: the case engine opens one per batch and hands it to the
# store's functions, which alone query with it (tests/store/test_store_boundary.py keeps
# SQLAlchemy inside the store).
Transaction = Session

log = logging.getLogger(__name__)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the API read while a batch writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


def create_store_engine(url: str) -> Engine:
    """Create an engine for a SQLite or PostgreSQL URL with SafeStream's connection settings.

    Parameters stay out of error messages (`hide_parameters`): a failed insert would otherwise
    carry a report's body, identifiers and description into every log that prints the error.
    """
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        url, pool_pre_ping=True, pool_size=10, max_overflow=20, hide_parameters=True
    )


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration pointing at the packaged migrations and this engine."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("safestream.store") / "migrations"))
    cfg.attributes["connection_engine"] = engine
    return cfg


class Database:
    """One store: an engine, a session factory and its migrations."""

    def __init__(self, url: str, audit_anchor: AuditAnchor | None = None) -> None:
        self.url = url
        self.engine = create_store_engine(url)
        self.audit_anchor = audit_anchor
        # The audit log reads the anchor (HMAC and checkpoint keys) from each session's info.
        self._sessions = sessionmaker(
            self.engine, expire_on_commit=False, info={"audit_anchor": audit_anchor}
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        """Open the store configured for a SafeStream home."""
        settings.ensure_home()
        return cls(settings.database_url, AuditAnchor(settings.home))

    def migrate(self) -> None:
        """Bring the schema to the newest revision of every part (`alembic upgrade heads`)."""
        if schema_is_current(self.engine):
            return
        from alembic import command

        try:
            command.upgrade(alembic_config(self.engine), "heads")
        except Exception as exc:  # Alembic raises many unrelated types; surface one.
            where = self.engine.url.render_as_string()
            raise StoreError(f"migrating {where} failed: {exc}") from exc

    @contextmanager
    def session(self, *, write_first: bool = False) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error.

        `write_first` is for the few writes a person waits on (a panic press): on SQLite the
        transaction starts holding the write lock, taken ahead of background writers
        (`sqlite_write_lock`); elsewhere it changes nothing."""
        with self._sessions() as session, session.begin():
            if write_first and self.engine.dialect.name == "sqlite":
                take_write_lock(session.connection(), timeout=BUSY_TIMEOUT_MS / 1000)
            yield session

    def ping(self) -> None:
        """Run a trivial query; raise if the database does not answer."""
        with self.session() as s:
            s.execute(text("select 1"))

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


class HeldConnection:
    """One connection kept across many transactions by a single thread (intake's writer), so a
    batch skips the pool's checkout; after a failure it is dropped, since its state is unknown."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._connection: Connection | None = None

    def get(self) -> Connection:
        """The held connection, opened on first use or after a drop."""
        if self._connection is None:
            self._connection = self._db.engine.connect()
        return self._connection

    def drop(self) -> None:
        """Invalidate and close the connection (the pool must not hand it out again)."""
        if self._connection is not None:
            try:
                self._connection.invalidate()
                self._connection.close()
            except Exception:  # already broken; the pool forgets it either way
                log.debug("closing a failed held connection", exc_info=True)
            self._connection = None
