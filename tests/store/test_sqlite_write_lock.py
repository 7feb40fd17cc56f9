"""A write a person waits on (a panic press) takes SQLite's write lock ahead of writers that
back off, and still gives up after the busy timeout like any other write."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from safestream.store.database import Database
from safestream.store.sqlite_write_lock import BUSY_TIMEOUT_MS, take_write_lock


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'store.db'}")
    with db.engine.begin() as connection:
        connection.exec_driver_sql("create table t (x integer)")
    return db


def _path(db: Database) -> str:
    path = db.engine.url.database
    assert path is not None
    return path


def _hold_write_lock(path: str, seconds: float, taken: threading.Event) -> None:
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    taken.set()
    time.sleep(seconds)
    other.execute("COMMIT")
    other.close()


@contextmanager
def _locked_by_another_connection(db: Database, seconds: float) -> Iterator[None]:
    """Another connection holds the write lock for `seconds` from the start of the block."""
    taken = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(_path(db), seconds, taken))
    holder.start()
    taken.wait()
    try:
        yield
    finally:
        holder.join()


def _other_writer_is_locked_out(path: str) -> bool:
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        return "locked" in str(error)
    finally:
        other.close()
    return False


def test_a_write_first_session_holds_the_write_lock_from_its_start(sqlite_db: Database) -> None:
    path = _path(sqlite_db)
    with sqlite_db.session(write_first=True):
        assert _other_writer_is_locked_out(path)
    assert not _other_writer_is_locked_out(path)


def test_a_write_first_session_waits_for_the_lock_and_then_writes(sqlite_db: Database) -> None:
    with _locked_by_another_connection(sqlite_db, 0.3), sqlite_db.session(write_first=True) as s:
        s.connection().exec_driver_sql("insert into t values (1)")
    with sqlite_db.session() as s:
        assert s.connection().exec_driver_sql("select count(*) from t").scalar() == 1


def test_taking_the_lock_gives_up_after_its_timeout_and_keeps_the_busy_timeout(
    sqlite_db: Database,
) -> None:
    with _locked_by_another_connection(sqlite_db, 0.5), sqlite_db.engine.connect() as connection:
        with pytest.raises(OperationalError, match="locked"):
            take_write_lock(connection, timeout=0.05)
        busy = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
    assert busy == BUSY_TIMEOUT_MS
