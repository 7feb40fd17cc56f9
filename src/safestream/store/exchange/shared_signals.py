"""Shared signals in the store: our collections to publish, peers' entries as received.

Every change to one of our entries (add, relabel, withdraw) gives it the next change number, so
"everything after change N" is one indexed range read: a puller's checkpoint is simply the last
change number it applied. Withdrawn entries stay as tombstones so pullers learn of withdrawals.
Peers' entries are upserted by (publisher, collection, kind, value) in batches, with the peer's
checkpoint moved in the same transaction as the entries it covers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from safestream.core.classification import parse_grade
from safestream.core.errors import NotFound
from safestream.core.principal import Principal
from safestream.core.shared_signals import (
    LOCAL,
    BundleHeader,
    NewSignal,
    SharedSignal,
    SignalKind,
    canonical_value,
)
from safestream.store.base import utcnow
from safestream.store.database import Database
from safestream.store.exchange import bulk, wire_rows
from safestream.store.exchange_grants import check_writer
from safestream.store.models.exchange import ExchangePeerRow, SharedSignalRow
from safestream.store.times import aware, aware_or_none

_CLAIM = text(
    "INSERT INTO exchange_change_numbers (publisher, last_seq) VALUES (:publisher, :count) "
    "ON CONFLICT (publisher) DO UPDATE "
    "SET last_seq = exchange_change_numbers.last_seq + excluded.last_seq "
    "RETURNING last_seq"
)


def _claim_numbers(session: Session, count: int) -> int:
    """Claim `count` change numbers for our next changes; return the last one.

    The row stays locked until the transaction ends (on SQLite the write lock is taken here), so
    the caller must claim before anything else it does in the transaction.
    """
    return int(session.execute(_CLAIM, {"publisher": LOCAL, "count": count}).scalar_one())


def _tags(tags: tuple[str, ...]) -> str:
    return json.dumps(list(tags)) if tags else "[]"


def _signal(row: SharedSignalRow) -> SharedSignal:
    return SharedSignal(
        kind=SignalKind(row.kind),
        value=row.value,
        label=row.label,
        tags=tuple(json.loads(row.tags)),
        source=row.source,
        added_at=aware(row.added_at),
        expires_at=aware_or_none(row.expires_at),
        deleted=row.deleted,
        seq=row.seq,
        collection=row.collection,
        negative=row.negative,
    )


class SignalStore:
    """Our published collections and what peers sent us."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def publish(
        self, collection: str, signals: Iterable[NewSignal], *, principal: Principal
    ) -> int:
        """Add or update entries of one of our collections; return how many changed.

        Only the collection's owner may (`store.exchange_grants.check_writer`)."""
        prepared: dict[tuple[str, str], tuple[NewSignal, str]] = {}
        for s in signals:
            k = SignalKind(s.kind)
            label = parse_grade(s.label).label  # refuse unknown labels; store canonical
            prepared[(k.value, canonical_value(k, s.value))] = (s, label)
        if not prepared:
            return 0
        with self.db.session() as session:
            # First statement of the transaction: see `ExchangeChangeNumberRow`.
            seq = _claim_numbers(session, len(prepared)) - len(prepared)
            check_writer(session, principal, collection)
            connection = session.connection()
            now = bulk.db_time(connection, utcnow())
            rows: list[bulk.Row] = []
            for (kind, value), (s, label) in prepared.items():
                seq += 1
                rows.append((
                    LOCAL, collection, kind, value, label, _tags(s.tags), s.source,
                    now, bulk.db_time(connection, s.expires_at), False,
                    s.negative or label == "benign", seq, "active", "",
                ))  # fmt: skip
            bulk.upsert(connection, rows, keep_added=True)
        return len(rows)

    def withdraw(self, collection: str, kind: str, value: str, *, principal: Principal) -> None:
        """Withdraw one of our entries: it stays as a tombstone with a new change number."""
        canonical = canonical_value(kind, value)
        with self.db.session() as session:
            seq = _claim_numbers(session, 1)  # rolled back with the rest if nothing matches
            check_writer(session, principal, collection)
            done = session.execute(
                update(SharedSignalRow)
                .where(
                    SharedSignalRow.publisher == LOCAL,
                    SharedSignalRow.collection == collection,
                    SharedSignalRow.kind == SignalKind(kind).value,
                    SharedSignalRow.value == canonical,
                    SharedSignalRow.deleted.is_(False),
                )
                .values(deleted=True, seq=seq)
            )
            if done.rowcount != 1:  # type: ignore[attr-defined]
                raise NotFound(f"{collection} has no entry {kind}:{value}")

    def changes(
        self, after: int, limit: int, collections: Sequence[str]
    ) -> tuple[list[SharedSignal], int, bool]:
        """Our changes after `after` in these collections: entries, checkpoint, more to come.

        A full fetch (after 0) leaves tombstones out: there is nothing to withdraw yet."""
        rows, checkpoint, more = self._change_rows(after, limit, collections)
        kinds = {k.value: k for k in SignalKind}
        signals = [
            SharedSignal(
                kinds[str(kind)], str(value), str(label), tuple(json.loads(str(tags))),
                str(source), bulk.parse_time(added), bulk.parse_time(expires), bool(deleted),
                int(str(seq)), str(coll), bool(negative),
            )
            for kind, value, label, tags, source, added, expires, deleted, seq, coll, negative
            in rows
            if not (after == 0 and deleted)
        ]  # fmt: skip
        return signals, checkpoint, more

    def change_lines(
        self, after: int, limit: int, collections: Sequence[str]
    ) -> tuple[list[bytes], int, bool]:
        """`changes` as bundle lines, without an object per entry (what the API serves)."""
        rows, checkpoint, more = self._change_rows(after, limit, collections)
        return wire_rows.lines_of(rows, full=after == 0), checkpoint, more

    def _change_rows(
        self, after: int, limit: int, collections: Sequence[str]
    ) -> tuple[list[bulk.Row], int, bool]:
        with self.db.session() as session:
            # The newest committed number first: changes are committed in number order, so
            # every change up to it is visible to the next read (on PostgreSQL each statement
            # has its own snapshot; reading this last could skip a change committed between).
            upto = max(after, self._last_seq(session, LOCAL))
            rows = bulk.changes(session.connection(), LOCAL, after, upto, limit + 1, collections)
        more = len(rows) > limit
        rows = rows[:limit]
        return rows, int(str(rows[-1][8])) if more else upto, more

    def apply(self, publisher: str, signals: Sequence[SharedSignal], checkpoint: int) -> int:
        """Store a peer's entries (tombstones included) and its new checkpoint, atomically."""
        with self.db.session() as session:
            connection = session.connection()
            now = bulk.db_time(connection, utcnow())
            rows: list[bulk.Row] = [
                (
                    publisher, s.collection[:128], s.kind.value, canonical_value(s.kind, s.value),
                    s.label[:64], _tags(s.tags), s.source,
                    bulk.db_time(connection, s.added_at) if s.added_at else now,
                    bulk.db_time(connection, s.expires_at), s.deleted, s.negative, s.seq,
                    "active", "",
                )
                for s in signals
            ]  # fmt: skip
            bulk.upsert(connection, rows, keep_added=False)
            session.execute(
                update(ExchangePeerRow)
                .where(ExchangePeerRow.key_id == publisher)
                .values(checkpoint=checkpoint, last_fetch_at=utcnow(), last_error="")
            )
        return len(rows)

    def apply_bundle(self, publisher: str, header: BundleHeader, body: bytes) -> int:
        """`apply` for a verified bundle's entry lines, read straight into store rows."""
        with self.db.session() as session:
            connection = session.connection()
            rows = wire_rows.rows_of(
                body, header, publisher, lambda t: bulk.db_time(connection, t),
                bulk.db_time(connection, utcnow()),
            )  # fmt: skip
            bulk.upsert(connection, rows, keep_added=False)
            session.execute(
                update(ExchangePeerRow)
                .where(ExchangePeerRow.key_id == publisher)
                .values(checkpoint=header.checkpoint, last_fetch_at=utcnow(), last_error="")
            )
        return len(rows)

    def count(self, publisher: str, *, live_only: bool = True) -> int:
        """How many entries a publisher has here (without tombstones by default)."""
        with self.db.session() as session:
            query = select(func.count()).where(SharedSignalRow.publisher == publisher)
            if live_only:
                query = query.where(SharedSignalRow.deleted.is_(False))
            return int(session.scalar(query) or 0)

    def entries(self, publisher: str, collection: str | None = None) -> list[SharedSignal]:
        """Every entry of a publisher (optionally one collection), by change number."""
        with self.db.session() as session:
            query = select(SharedSignalRow).where(SharedSignalRow.publisher == publisher)
            if collection is not None:
                query = query.where(SharedSignalRow.collection == collection)
            return [_signal(r) for r in session.scalars(query.order_by(SharedSignalRow.seq))]

    @staticmethod
    def _last_seq(session: Session, publisher: str) -> int:
        found = session.scalar(
            select(func.max(SharedSignalRow.seq)).where(SharedSignalRow.publisher == publisher)
        )
        return int(found or 0)
