"""Bank repository: create and list banks, add and remove entries, and log every change.

Every add and remove also appends to `bank_changes` in the same transaction, so a matching index
can catch up from its last applied sequence number instead of rebuilding from every entry.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, func, insert, or_, select
from sqlalchemy.orm import Session

from safestream.core.banks import BANK_KINDS, Bank, BankEntry, Classification, classify_label
from safestream.core.errors import BankNotFound, Conflict, EntryNotFound, InvalidInput
from safestream.core.signals import PDQ_BITS, SignalType, normalize_hash
from safestream.store.database import Database
from safestream.store.models.media import BankChangeRow, BankEntryRow, BankFeatureRow, BankRow

# Signal type of second-stage entries; not a `SignalType`, so reports and hash lists never carry it.
LOCAL_SIGNAL = "local"
MAX_FEATURE_BYTES = 20 * 1024
BANK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
# Rows per INSERT statement: big enough to amortise round trips, small enough for SQLite's limits.
INSERT_BATCH = 2000


@dataclass(frozen=True)
class NewEntry:
    """A hash to add to a bank, before it has an id."""

    signal_type: str
    value: str
    label: str = "unclassified"
    source: str = ""
    note: str = ""
    quality: int | None = None
    content_id: str | None = None
    t: float | None = None
    added_at: datetime | None = None


@dataclass(frozen=True)
class NewFeatures:
    """The local-feature record of one image to add to a bank (see media.features)."""

    data: bytes
    keypoints: int
    label: str = "unclassified"
    source: str = ""
    note: str = ""
    content_id: str | None = None


@dataclass(frozen=True)
class Change:
    """One logged add or remove of a bank entry."""

    seq: int
    entry_id: int
    op: str
    signal_type: str
    value: str


def _bank(row: BankRow, count: int = 0) -> Bank:
    return Bank(
        id=row.id,
        name=row.name,
        negative=row.negative,
        threshold=row.threshold,
        source=row.source,
        created_at=row.created_at,
        entry_count=count,
        kind=row.kind,
        verified=row.verified,
    )


def _entry(row: BankEntryRow, bank_name: str) -> BankEntry:
    return BankEntry(
        id=row.id,
        bank=bank_name,
        signal_type=row.signal_type,
        value=row.value,
        label=Classification(row.label),
        source=row.source,
        added_at=row.added_at,
        note=row.note,
        quality=row.quality,
        content_id=row.content_id,
        t=row.t,
    )


class BankRepository:
    """Banks and their entries in one store."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(
        self,
        name: str,
        *,
        negative: bool = False,
        threshold: int = 31,
        source: str = "",
        kind: str = "media",
    ) -> Bank:
        """Create a bank; raise `Conflict` if the name is taken."""
        if kind not in BANK_KINDS:
            raise InvalidInput(f"bank kind {kind!r}: use one of {', '.join(BANK_KINDS)}")
        if not BANK_NAME.match(name):
            raise InvalidInput(
                f"bank name {name!r}: use letters, digits, '_', '.' or '-' (at most 128)"
            )
        if not 0 <= threshold <= PDQ_BITS:
            raise InvalidInput(f"threshold {threshold} is outside 0..{PDQ_BITS}")
        with self.db.session() as s:
            if s.scalar(select(BankRow.id).where(BankRow.name == name)) is not None:
                raise Conflict(f"bank {name!r} already exists")
            row = BankRow(
                name=name, negative=negative, threshold=threshold, source=source, kind=kind
            )
            s.add(row)
            s.flush()
            return _bank(row)

    def list_banks(self) -> list[Bank]:
        """All banks with their entry counts, by name."""
        with self.db.session() as s:
            counts = dict(
                s.execute(select(BankEntryRow.bank_id, func.count()).group_by(BankEntryRow.bank_id))
                .tuples()
                .all()
            )
            rows = s.scalars(select(BankRow).order_by(BankRow.name)).all()
            return [_bank(r, counts.get(r.id, 0)) for r in rows]

    def get(self, name: str) -> Bank:
        """One bank by name, or raise `BankNotFound`."""
        with self.db.session() as s:
            row = self._row(s, name)
            count = s.scalar(select(func.count()).where(BankEntryRow.bank_id == row.id)) or 0
            return _bank(row, count)

    def delete(self, name: str) -> int:
        """Delete a bank and all its entries; return how many entries went."""
        with self.db.session() as s:
            row = self._row(s, name)
            entries = s.execute(
                select(BankEntryRow.id, BankEntryRow.signal_type, BankEntryRow.value).where(
                    BankEntryRow.bank_id == row.id
                )
            ).all()
            self._log(s, [(e.id, "remove", e.signal_type, e.value) for e in entries])
            s.execute(delete(BankEntryRow).where(BankEntryRow.bank_id == row.id))
            s.delete(row)
            return len(entries)

    def add_entries(self, name: str, entries: Iterable[NewEntry]) -> list[int]:
        """Add entries to a bank in one transaction; a hash already in the bank keeps its id.

        Returns the entry id of every input, in input order.
        """
        prepared = [self._validated(e) for e in entries]
        ids: list[int] = []
        with self.db.session() as s:
            bank = self._row(s, name)
            existing = self._existing_ids(s, bank.id, prepared)
            fresh: dict[tuple[str, str], NewEntry] = {}
            for e in prepared:
                key = (e.signal_type, e.value)
                if key not in existing:
                    fresh.setdefault(key, e)
            new_rows = list(fresh.values())
            for start in range(0, len(new_rows), INSERT_BATCH):
                chunk = new_rows[start : start + INSERT_BATCH]
                result = s.execute(
                    insert(BankEntryRow).returning(
                        BankEntryRow.id, BankEntryRow.signal_type, BankEntryRow.value
                    ),
                    [
                        {
                            "bank_id": bank.id,
                            "signal_type": e.signal_type,
                            "value": e.value,
                            "label": e.label,
                            "source": e.source,
                            "note": e.note,
                            "quality": e.quality,
                            "content_id": e.content_id,
                            "t": e.t,
                            "added_at": e.added_at or datetime.now().astimezone(),
                        }
                        for e in chunk
                    ],
                )
                inserted = result.all()
                for row in inserted:
                    existing[(row.signal_type, row.value)] = row.id
                self._log(s, [(r.id, "add", r.signal_type, r.value) for r in inserted])
            ids = [existing[(e.signal_type, e.value)] for e in prepared]
        return ids

    def remove_entry(self, name: str, entry_id: int) -> BankEntry:
        """Remove one entry from a bank; raise `EntryNotFound` if it is not in that bank."""
        with self.db.session() as s:
            bank = self._row(s, name)
            row = s.get(BankEntryRow, entry_id)
            if row is None or row.bank_id != bank.id:
                raise EntryNotFound(f"bank {name!r} has no entry {entry_id}")
            entry = _entry(row, name)
            self._log(s, [(row.id, "remove", row.signal_type, row.value)])
            s.delete(row)
            return entry

    def iter_entries(self, name: str, batch: int = 10_000) -> Iterator[BankEntry]:
        """Every entry of a bank in id order, read in batches so big banks stream."""
        last = 0
        while True:
            with self.db.session() as s:
                bank = self._row(s, name)
                rows = s.scalars(
                    select(BankEntryRow)
                    .where(BankEntryRow.bank_id == bank.id, BankEntryRow.id > last)
                    .order_by(BankEntryRow.id)
                    .limit(batch)
                ).all()
                entries = [_entry(r, name) for r in rows]
            if not entries:
                return
            yield from entries
            last = entries[-1].id

    def entries_by_id(self, ids: Sequence[int]) -> dict[int, tuple[BankEntry, Bank]]:
        """Entries with their banks, for the ids a matcher found."""
        if not ids:
            return {}
        out: dict[int, tuple[BankEntry, Bank]] = {}
        with self.db.session() as s:
            for start in range(0, len(ids), INSERT_BATCH):
                rows = s.execute(
                    select(BankEntryRow, BankRow)
                    .join(BankRow, BankRow.id == BankEntryRow.bank_id)
                    .where(BankEntryRow.id.in_(list(ids[start : start + INSERT_BATCH])))
                ).all()
                for entry_row, bank_row in rows:
                    out[entry_row.id] = (_entry(entry_row, bank_row.name), _bank(bank_row))
        return out

    def bank_rules(self) -> list[Bank]:
        """Every bank's name and rules, by name, without counting entries (cheap to poll)."""
        with self.db.session() as s:
            return [_bank(r) for r in s.scalars(select(BankRow).order_by(BankRow.name)).all()]

    def count_entries(self, signal_type: str) -> int:
        """How many entries of a signal type the banks hold."""
        with self.db.session() as s:
            query = select(func.count()).where(BankEntryRow.signal_type == signal_type)
            return int(s.scalar(query) or 0)

    def signal_values(self, signal_types: Sequence[str], limit: int) -> set[str] | None:
        """Every value of entries of these signal types, or None when there are over `limit`."""
        with self.db.session() as s:
            values = s.scalars(
                select(BankEntryRow.value)
                .where(BankEntryRow.signal_type.in_(list(signal_types)))
                .limit(limit + 1)
            ).all()
        return set(values) if len(values) <= limit else None

    def find_exact(self, signal_type: str, value: str) -> list[tuple[BankEntry, Bank]]:
        """Entries whose hash equals this one exactly (MD5, SHA-256 or an identical PDQ)."""
        with self.db.session() as s:
            rows = s.execute(
                select(BankEntryRow, BankRow)
                .join(BankRow, BankRow.id == BankEntryRow.bank_id)
                .where(BankEntryRow.signal_type == signal_type, BankEntryRow.value == value)
            ).all()
            return [(_entry(e, b.name), _bank(b)) for e, b in rows]

    def find_exact_any(self, signals: Sequence[tuple[str, str]]) -> list[tuple[BankEntry, Bank]]:
        """`find_exact` of each (signal type, value) in one query, in the order given: an upload
        checks its MD5 and SHA-256 together (each query costs more than the lookup it does)."""
        wanted = [(kind, value) for kind, value in signals if value]
        if not wanted:
            return []
        where = or_(
            *(and_(BankEntryRow.signal_type == k, BankEntryRow.value == v) for k, v in wanted)
        )
        with self.db.session() as s:
            rows = s.execute(
                select(BankEntryRow, BankRow)
                .join(BankRow, BankRow.id == BankEntryRow.bank_id)
                .where(where)
                .order_by(BankEntryRow.id)
            ).all()
            found = [(_entry(e, b.name), _bank(b)) for e, b in rows]
        rank = {pair: n for n, pair in reversed(list(enumerate(wanted)))}
        return sorted(found, key=lambda f: rank[(f[0].signal_type, f[0].value)])

    def content_sizes(self, content_ids: Sequence[str]) -> dict[str, int]:
        """How many distinct PDQ hashes each source video contributed (for vPDQ percentages)."""
        if not content_ids:
            return {}
        with self.db.session() as s:
            rows = s.execute(
                select(BankEntryRow.content_id, func.count(func.distinct(BankEntryRow.value)))
                .where(
                    BankEntryRow.content_id.in_(list(content_ids)),
                    BankEntryRow.signal_type == SignalType.PDQ.value,
                )
                .group_by(BankEntryRow.content_id)
            ).tuples()
            return {cid: n for cid, n in rows if cid is not None}

    def content_of(self, ids: Sequence[int]) -> dict[int, tuple[str | None, float | None]]:
        """Source media id and video time of entries."""
        with self.db.session() as s:
            rows = s.execute(
                select(BankEntryRow.id, BankEntryRow.content_id, BankEntryRow.t).where(
                    BankEntryRow.id.in_(list(ids))
                )
            ).tuples()
            return {i: (c, t) for i, c, t in rows}

    def changes_since(self, seq: int, limit: int = 100_000) -> list[Change]:
        """Logged changes after a sequence number, oldest first."""
        with self.db.session() as s:
            rows = s.scalars(
                select(BankChangeRow)
                .where(BankChangeRow.seq > seq)
                .order_by(BankChangeRow.seq)
                .limit(limit)
            ).all()
            return [Change(r.seq, r.entry_id, r.op, r.signal_type, r.value) for r in rows]

    def last_change(self) -> int:
        """Sequence number of the newest logged change (0 when none)."""
        with self.db.session() as s:
            return s.scalar(select(func.max(BankChangeRow.seq))) or 0

    def iter_live_pdq(self, batch: int = 200_000) -> Iterator[list[tuple[int, str]]]:
        """All current PDQ entries as (id, hex) batches, for a full index build."""
        last = 0
        while True:
            with self.db.session() as s:
                rows = s.execute(
                    select(BankEntryRow.id, BankEntryRow.value)
                    .where(BankEntryRow.signal_type == SignalType.PDQ.value, BankEntryRow.id > last)
                    .order_by(BankEntryRow.id)
                    .limit(batch)
                ).all()
            if not rows:
                return
            yield [(r.id, r.value) for r in rows]
            last = rows[-1].id

    def add_local_features(self, name: str, records: Sequence[NewFeatures]) -> list[int]:
        """Add second-stage entries (local features of an image) to a bank.

        Each becomes an entry of signal type "local" whose value is the SHA-256 of its feature
        record; the record itself goes to `bank_features`. A record already in the bank keeps
        its id. Returns the entry id of every input, in input order.
        """
        ids: list[int] = []
        with self.db.session() as s:
            bank = self._row(s, name)
            for record in records:
                if not record.data or len(record.data) > MAX_FEATURE_BYTES:
                    raise InvalidInput(
                        f"a feature record must be 1..{MAX_FEATURE_BYTES} bytes, "
                        f"got {len(record.data)}"
                    )
                value = hashlib.sha256(record.data).hexdigest()
                found = s.scalar(
                    select(BankEntryRow.id).where(
                        BankEntryRow.bank_id == bank.id,
                        BankEntryRow.signal_type == LOCAL_SIGNAL,
                        BankEntryRow.value == value,
                    )
                )
                if found is not None:
                    ids.append(found)
                    continue
                row = BankEntryRow(
                    bank_id=bank.id,
                    signal_type=LOCAL_SIGNAL,
                    value=value,
                    label=classify_label(record.label).value,
                    source=record.source,
                    note=record.note,
                    content_id=record.content_id,
                    quality=record.keypoints,
                )
                s.add(row)
                s.flush()
                s.add(BankFeatureRow(entry_id=row.id, data=record.data))
                self._log(s, [(row.id, "add", LOCAL_SIGNAL, value)])
                ids.append(row.id)
        return ids

    def local_features(self, ids: Sequence[int]) -> dict[int, tuple[str, bool, bytes]]:
        """Feature records of entries: id -> (bank kind, bank is negative, record)."""
        out: dict[int, tuple[str, bool, bytes]] = {}
        with self.db.session() as s:
            for start in range(0, len(ids), INSERT_BATCH):
                rows = s.execute(
                    select(
                        BankFeatureRow.entry_id, BankRow.kind, BankRow.negative, BankFeatureRow.data
                    )
                    .join(BankEntryRow, BankEntryRow.id == BankFeatureRow.entry_id)
                    .join(BankRow, BankRow.id == BankEntryRow.bank_id)
                    .where(BankFeatureRow.entry_id.in_(list(ids[start : start + INSERT_BATCH])))
                ).tuples()
                out.update({i: (k, bool(n), bytes(d)) for i, k, n, d in rows})
        return out

    def iter_live_features(self, batch: int = 2_000) -> Iterator[list[int]]:
        """Ids of every current second-stage entry, in batches, for a full index build."""
        last = 0
        while True:
            with self.db.session() as s:
                rows = s.scalars(
                    select(BankFeatureRow.entry_id)
                    .where(BankFeatureRow.entry_id > last)
                    .order_by(BankFeatureRow.entry_id)
                    .limit(batch)
                ).all()
            if not rows:
                return
            yield list(rows)
            last = rows[-1]

    @staticmethod
    def _row(s: Session, name: str) -> BankRow:
        row = s.scalar(select(BankRow).where(BankRow.name == name))
        if row is None:
            raise BankNotFound(f"no bank named {name!r}")
        return row

    @staticmethod
    def _validated(e: NewEntry) -> NewEntry:
        try:
            kind = SignalType(e.signal_type)
        except ValueError as exc:
            raise InvalidInput(f"unknown signal type {e.signal_type!r}") from exc
        return NewEntry(
            signal_type=kind.value,
            value=normalize_hash(kind, e.value),
            label=classify_label(e.label).value,
            source=e.source,
            note=e.note,
            quality=e.quality,
            content_id=e.content_id,
            t=e.t,
            added_at=e.added_at,
        )

    @staticmethod
    def _existing_ids(
        s: Session, bank_id: int, entries: Sequence[NewEntry]
    ) -> dict[tuple[str, str], int]:
        found: dict[tuple[str, str], int] = {}
        values = sorted({e.value for e in entries})
        for start in range(0, len(values), INSERT_BATCH):
            rows = s.execute(
                select(BankEntryRow.id, BankEntryRow.signal_type, BankEntryRow.value).where(
                    BankEntryRow.bank_id == bank_id,
                    BankEntryRow.value.in_(values[start : start + INSERT_BATCH]),
                )
            ).all()
            for r in rows:
                found[(r.signal_type, r.value)] = r.id
        return found

    @staticmethod
    def _log(s: Session, changes: Sequence[tuple[int, str, str, str]]) -> None:
        for start in range(0, len(changes), INSERT_BATCH):
            s.execute(
                insert(BankChangeRow),
                [
                    {"entry_id": i, "op": op, "signal_type": t, "value": v}
                    for i, op, t, v in changes[start : start + INSERT_BATCH]
                ],
            )
