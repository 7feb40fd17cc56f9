"""Hits on peers' entries, counted against their peers' flood limits (`exchange.entry_screen`).

An entry that is not active (quarantined, disabled), withdrawn or expired raises nothing; one a
reviewer confirmed (its latest feedback is `confirm`) raises matches uncounted; any other raises
matches for at most its peer's flood limit of distinct items within `FLOOD_WINDOW`, and the item
that goes past the limit quarantines it (audited). The entries' states are read, the hits
recorded and a quarantine written in one transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from safestream.core.exchange_peers import FLOOD_WINDOW
from safestream.core.peer_banks import BankHit, bank_name
from safestream.store import audit
from safestream.store.database import Database
from safestream.store.models.exchange import SharedSignalRow, SignalFeedbackRow, SignalHitRow


def _confirmed_ids(s: Session, ids: Sequence[int]) -> set[int]:
    """The entries whose latest reviewer feedback is `confirm`."""
    latest: dict[int, str] = {}
    for signal_id, verdict in s.execute(
        select(SignalFeedbackRow.signal_id, SignalFeedbackRow.verdict)
        .where(SignalFeedbackRow.signal_id.in_(list(ids)))
        .order_by(SignalFeedbackRow.id)
    ):
        latest[signal_id] = verdict
    return {i for i, verdict in latest.items() if verdict == "confirm"}


def _count_hits(
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


class PeerEntryHits:
    """Records hits on peers' entries and decides which may raise matches (module text)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def screen(
        self,
        key_id: str,
        hits: Sequence[BankHit],
        *,
        limit: int,
        peer_name: str | None,
        moment: datetime,
    ) -> list[bool]:
        """For each hit on one peer's banks, whether it may raise a match.

        `peer_name` (None for a peer no longer registered) names the banks a hit's entry is in;
        an entry the peer no longer lists (or a bank only named like a peer's) is not screened."""
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
            confirmed = _confirmed_ids(s, [r.id for r in rows])
            # Which of the peer's entries each hit stands for, and the items each one matched.
            entries_of = [_entries(hit, rows, peer_name) for hit in hits]
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
                    may[row.id] = _count_hits(s, row, items[row.id], limit, moment)
        return [
            all(hit.item[:128] in may[row.id] for row in entries)
            for hit, entries in zip(hits, entries_of, strict=True)
        ]

    def floods(self, signal_id: int, item: str, *, limit: int, moment: datetime) -> bool:
        """Count a hit of an entry for `item`; whether it went past `limit` (now quarantined).

        A confirmed entry is not counted: a reviewer vouched for it."""
        with self.db.session() as s:
            if _confirmed_ids(s, [signal_id]):
                return False
            stored = s.get(SharedSignalRow, signal_id)
            return stored is not None and not _count_hits(s, stored, [item], limit, moment)


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
