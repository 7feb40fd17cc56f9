"""The million-row paths of the exchange, in driver SQL: upsert entries, read changes.

A full exchange moves every entry through here twice (read on one side, written on the other);
SQLAlchemy's per-row parameter and result processing cost more than SQLite's own work, so these
two statements go to the driver directly with plain tuples. Times are stored the way
SQLAlchemy's `DateTime` stores them on each backend, so the ORM reads these rows as its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter

from sqlalchemy.engine import Connection

COLUMNS = (
    "publisher", "collection", "kind", "value", "label", "tags", "source", "added_at",
    "expires_at", "deleted", "negative", "seq", "state", "state_reason",
)  # fmt: skip
KEYS = ("kind", "value", "publisher", "collection")
CHANGING = ("label", "tags", "source", "expires_at", "deleted", "negative", "seq")
READ = (
    "kind", "value", "label", "tags", "source", "added_at", "expires_at", "deleted", "seq",
    "collection", "negative",
)  # fmt: skip
BATCH = 20_000
# Page cache while a bulk upsert runs (KiB, negative as SQLite wants): the (kind, value) index of
# a million entries is ~100 MB, and random inserts into it thrash a small cache.
BULK_CACHE_KIB = 262_144

Row = tuple[object, ...]
_INDEX_ORDER = itemgetter(2, 3)  # (kind, value): the unique index's leading columns


def _sqlite(connection: Connection) -> bool:
    return connection.dialect.name == "sqlite"


def db_time(connection: Connection, value: datetime | None) -> object:
    """A time as the backend's DateTime column holds it (SQLite: naive UTC text)."""
    if value is None or not _sqlite(connection):
        return value
    return _sqlite_text(value)


@lru_cache(maxsize=4096)  # bulk rows mostly share a handful of times
def _sqlite_text(value: datetime) -> str:
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return aware.strftime("%Y-%m-%d %H:%M:%S.%f")


def parse_time(value: object) -> datetime | None:
    """A time read back by driver SQL, as an aware UTC datetime."""
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def upsert(connection: Connection, rows: Sequence[Row], *, keep_added: bool) -> None:
    """Insert rows (in `COLUMNS` order), updating the entry's fields where it exists."""
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    changing = CHANGING if keep_added else (*CHANGING, "added_at")
    sql = (
        f"INSERT INTO exchange_signals ({', '.join(COLUMNS)}) "
        f"VALUES ({', '.join([mark] * len(COLUMNS))}) "
        f"ON CONFLICT ({', '.join(KEYS)}) DO UPDATE SET "
        + ", ".join(f"{c} = excluded.{c}" for c in changing)
    )
    # In index order, so each B-tree page is visited once rather than at random.
    ordered = sorted(rows, key=_INDEX_ORDER) if len(rows) > BATCH else list(rows)
    sqlite = _sqlite(connection)
    if sqlite and len(rows) > BATCH:
        connection.exec_driver_sql(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
    try:
        for start in range(0, len(ordered), BATCH):
            connection.exec_driver_sql(sql, ordered[start : start + BATCH])
    finally:
        if sqlite and len(rows) > BATCH:
            connection.exec_driver_sql("PRAGMA cache_size=-2000")


def changes(
    connection: Connection,
    publisher: str,
    after: int,
    upto: int,
    limit: int,
    collections: Sequence[str],
) -> list[Row]:
    """Rows (in `READ` order) of a publisher's changes in (after, upto], oldest first."""
    if not collections:
        return []
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"SELECT {', '.join(READ)} FROM exchange_signals "
        f"WHERE publisher = {mark} AND seq > {mark} AND seq <= {mark} "
        f"AND collection IN ({', '.join([mark] * len(collections))}) "
        f"ORDER BY seq LIMIT {int(limit)}"
    )
    # The driver's own cursor: its tuples, without a result row object per entry.
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql, (publisher, after, upto, *collections))
        return list(cursor.fetchall())
    finally:
        cursor.close()
