"""Safety for signals from others: negative entries win, floods are quarantined, people decide.

- A value that any negative entry or negative bank holds (known benign: a test card, a stock
  photo, a meme) never matches, whoever else lists it.
- A peer's entry that matches more distinct items within an hour than its peer's flood limit is
  quarantined for review instead of raising more matches (HMA roadmap: flood prevention).
- Reviewers confirm or de-confirm a peer's entry (feedback the list owner can be sent), and may
  disable one entry with a reason; a disabled or quarantined entry matches nothing until enabled
  or confirmed (`store.exchange.signal_entries`). The same rules reach near matches through the
  banks (`exchange.entry_screen`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from safestream.core.exchange_peers import DEFAULT_FLOOD_LIMIT
from safestream.core.shared_signals import LOCAL, SignalEntry, SignalKind, canonical_value
from safestream.store.banks import BankRepository
from safestream.store.database import Database
from safestream.store.exchange.entry_hits import PeerEntryHits
from safestream.store.exchange.peers import PeerRegistry
from safestream.store.exchange.signal_entries import SignalEntries


@dataclass(frozen=True)
class SignalMatch:
    """An active entry that matched, with whose word it is."""

    signal_id: int
    publisher: str
    collection: str
    kind: str
    value: str
    label: str
    source: str


@dataclass(frozen=True)
class Screened:
    """The outcome of one lookup."""

    matches: list[SignalMatch]
    suppressed_by_negative: bool = False
    quarantined: tuple[int, ...] = ()


class SignalScreen:
    """Looks values up in shared signals with the safety rules applied."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.peers = PeerRegistry(db)
        self.banks = BankRepository(db)
        self.entries = SignalEntries(db)
        self.hits = PeerEntryHits(db)

    def lookup(self, kind: str, value: str, item: str, *, now: datetime | None = None) -> Screened:
        """Entries matching `value`, for the item (its id or hash) that carried it."""
        moment = now or datetime.now(UTC)
        k = SignalKind(kind)
        canonical = canonical_value(k, value)
        entries = self.entries.matching(k, canonical, moment)
        if any(e.negative or e.label == "benign" for e in entries) or self._negative_bank(
            k, canonical
        ):
            return Screened([], suppressed_by_negative=True)
        found, tripped = [], []
        for e in entries:
            if e.state != "active":
                continue
            if e.publisher != LOCAL and self._floods(e, item, moment):
                tripped.append(e.id)
                continue
            found.append(
                SignalMatch(e.id, e.publisher, e.collection, e.kind, e.value, e.label, e.source)
            )
        return Screened(found, quarantined=tuple(tripped))

    def _negative_bank(self, kind: SignalKind, value: str) -> bool:
        if not kind.is_hash:
            return False
        return any(bank.negative for _, bank in self.banks.find_exact(kind.value, value))

    def _floods(self, entry: SignalEntry, item: str, moment: datetime) -> bool:
        peer = self.peers.by_key(entry.publisher)
        limit = peer.flood_limit if peer else DEFAULT_FLOOD_LIMIT
        return self.hits.floods(entry.id, item, limit=limit, moment=moment)

    def feedback_export(self, publisher: str) -> str:
        """Feedback on one publisher's entries as JSON lines, to send to the list owner."""
        lines = [
            json.dumps({
                "collection": fb.collection, "kind": fb.kind, "value": fb.value,
                "verdict": fb.verdict, "reason": fb.reason, "at": fb.at.isoformat(),
                "entry_state": fb.entry_state,
            }, separators=(",", ":"))
            for fb in self.entries.feedback(publisher)
        ]  # fmt: skip
        return "\n".join(lines) + ("\n" if lines else "")
