"""Taking SQLite's write lock ahead of background writers, for writes that must not wait.

SQLite grants its one write lock to whichever connection asks at the moment it is free. A
connection that found it taken sleeps in SQLite's busy handler with a growing back-off of up to
100 ms between tries, so behind a stream of short background transactions (the group commit of
small reports, the linker's batches) a waiting write can lose every race for a second or more.
Polling every millisecond instead puts it in front of the writers that back off. PostgreSQL
queues row locks in order and needs none of this.
"""

from __future__ import annotations

import time

from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError

POLL_SECONDS = 0.001
# How long any write waits for the lock before "database is locked" (every connection's
# busy_timeout; the polling above keeps to it too).
BUSY_TIMEOUT_MS = 10_000


def take_write_lock(connection: Connection, *, timeout: float) -> None:
    """Begin the connection's transaction holding the write lock (`BEGIN IMMEDIATE`).

    The connection must not be in a driver-level transaction yet. Raises the driver's
    `OperationalError` ("database is locked") after `timeout` seconds, as the busy handler
    would."""
    raw = connection.connection.dbapi_connection
    assert raw is not None
    raw.execute("PRAGMA busy_timeout=0")  # fail at once, and poll here instead
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
                return
            except OperationalError as error:
                if "locked" not in str(error.orig) or time.monotonic() >= deadline:
                    raise
            time.sleep(POLL_SECONDS)
    finally:
        raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
