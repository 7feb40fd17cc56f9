"""Safety for peers' entries wherever they match: flood counting and reviewers' decisions.

A peer's hash entries reach near-match search through the banks a pull syncs
(`exchange.bank_sync`, source `exchange:<key id>`), and a sync runs only after a pull, so the
bank may still hold an entry that was quarantined, disabled or de-confirmed since. Every hit on
a peer's bank is therefore checked against the entry itself (`SharedSignalRow`) before it may
raise a match:

- an entry that is not active (quarantined, disabled), withdrawn or expired raises nothing;
- an entry a reviewer confirmed (its latest feedback is `confirm`) raises matches, uncounted;
- any other entry raises matches for at most its peer's `flood_limit` distinct items within
  `FLOOD_WINDOW`; the item that goes past the limit quarantines it (audited), and it raises
  nothing more until a reviewer confirms or enables it.

Hits on other banks cost nothing here: no store access unless a peer's bank was hit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from safestream.core.exchange_peers import DEFAULT_FLOOD_LIMIT
from safestream.exchange.bank_sync import bank_name
from safestream.store import audit
from safestream.store.database import Database
from safestream.store.exchange.peers import PeerRegistry
from safestream.store.models.exchange import SharedSignalRow, SignalFeedbackRow, SignalHitRow

FLOOD_WINDOW = timedelta(hours=1)
PEER_SOURCE = "exchange:"


@dataclass(frozen=True)
class BankHit:
    """One bank entry matched for one item (an upload's SHA-256, a stream, a looked-up hash)."""

    item: str
    bank: str
    bank_source: str  # `exchange:<key id>` for a peer's bank
    signal_type: str
    value: str


def is_peer_bank(source: str) -> bool:
    """Whether a bank with this source holds a peer's entries."""
    return source.startswith(PEER_SOURCE)


def confirmed_ids(s: Session, ids: Sequence[int]) -> set[int]:
    """The entries whose latest reviewer feedback is `confirm`."""
    latest: dict[int, str] = {}
    for signal_id, verdict in s.execute(
        select(SignalFeedbackRow.signal_id, SignalFeedbackRow.verdict)
        .where(SignalFeedbackRow.signal_id.in_(list(ids)))
        .order_by(SignalFeedbackRow.id)
    ):
        latest[signal_id] = verdict
    return {i for i, verdict in latest.items() if verdict == "confirm"}


def count_hits(
    s: Session, row: SharedSignalRow, items: Sequence[str], limit: int, moment: datetime
) -> set[str]:
    """Record that `row` matched `items`; return the items it may raise a match for (all of
    them, unless the distinct items within the window go past `limit`: then the entry is
    quarantined from the item that went past it on)."""
    known = set(
        s.scalars(
            select(SignalHitRow.item)
            .distinct()
            .where(SignalHitRow.signal_id == row.id, SignalHitRow.at > moment - FLOOD_WINDOW)
        )
    )
    allowed: set[str] = set()
    for item in dict.fromkeys(i[:128] for i in items):
        s.add(SignalHitRow(signal_id=row.id, item=item, at=moment))
        known.add(item)
        if len(known) > limit:
            row.state = "quarantined"
            row.state_reason = (
                f"matched {len(known)} distinct items within an hour (limit {limit}); "
                "held for review"
            )
            audit.append(
                s, actor="system", action="exchange.quarantine", subject=f"signal:{row.id}",
                details={"distinct_items": len(known)},
            )  # fmt: skip
            break
        allowed.add(item)
    return allowed


class PeerEntryScreen:
    """Decides which bank hits on peers' entries may raise matches (see the module text)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def allowed(self, hits: Sequence[BankHit], now: datetime | None = None) -> list[bool]:
        """For each hit, whether it may raise a match (hits outside peers' banks always may)."""
        verdicts = [True] * len(hits)
        by_peer: dict[str, list[int]] = defaultdict(list)
        for i, hit in enumerate(hits):
            if is_peer_bank(hit.bank_source):
                by_peer[hit.bank_source.removeprefix(PEER_SOURCE)].append(i)
        for key_id, indices in by_peer.items():
            decided = self._screen_peer(key_id, [hits[i] for i in indices], now or _now())
            for i, ok in zip(indices, decided, strict=True):
                verdicts[i] = ok
        return verdicts

    def _screen_peer(self, key_id: str, hits: list[BankHit], moment: datetime) -> list[bool]:
        peer = PeerRegistry(self.db).by_key(key_id)
        limit = peer.flood_limit if peer else DEFAULT_FLOOD_LIMIT
        keys = {(h.signal_type, h.value) for h in hits}
        with self.db.session() as s:
            rows = s.scalars(
                select(SharedSignalRow).where(
                    SharedSignalRow.publisher == key_id,
                    SharedSignalRow.value.in_(sorted({v for _, v in keys})),
                    SharedSignalRow.deleted.is_(False),
                )
            ).all()
            rows = [r for r in rows if (r.kind, r.value) in keys]
            confirmed = confirmed_ids(s, [r.id for r in rows])
            # Which of the peer's entries each hit stands for, and the items each one matched.
            entries_of = [self._entries(hit, rows, peer.name if peer else None) for hit in hits]
            items: dict[int, list[str]] = defaultdict(list)
            for hit, entries in zip(hits, entries_of, strict=True):
                for row in entries:
                    items[row.id].append(hit.item)
            may: dict[int, set[str]] = {}
            for row in rows:
                if row.id not in items:
                    continue
                if not _live(row, moment):
                    may[row.id] = set()
                elif row.id in confirmed:
                    may[row.id] = {i[:128] for i in items[row.id]}
                else:
                    may[row.id] = count_hits(s, row, items[row.id], limit, moment)
        # An entry the peer no longer lists (or a bank only named like a peer's) is not screened.
        return [
            all(hit.item[:128] in may[row.id] for row in entries)
            for hit, entries in zip(hits, entries_of, strict=True)
        ]

    @staticmethod
    def _entries(
        hit: BankHit, rows: Sequence[SharedSignalRow], peer_name: str | None
    ) -> list[SharedSignalRow]:
        same = [r for r in rows if (r.kind, r.value) == (hit.signal_type, hit.value)]
        if peer_name is None:
            return same
        named = [
            r for r in same
            if bank_name(peer_name, r.collection, negative=r.negative or r.label == "benign")
            == hit.bank
        ]  # fmt: skip
        return named or same


def _live(row: SharedSignalRow, moment: datetime) -> bool:
    expires = row.expires_at
    if expires is not None and expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)
    return row.state == "active" and (expires is None or expires > moment)


def _now() -> datetime:
    return datetime.now(UTC)
