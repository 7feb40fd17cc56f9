"""Safety for peers' entries wherever they match: flood counting and reviewers' decisions.

A peer's hash entries reach near-match search through the banks a pull syncs
(`exchange.bank_sync`, source `exchange:<key id>`), and a sync runs only after a pull, so the
bank may still hold an entry that was quarantined, disabled or de-confirmed since. Every hit on
a peer's bank is therefore checked against the entry itself (`store.exchange.entry_hits`)
before it may raise a match:

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
from datetime import UTC, datetime

from safestream.core.exchange_peers import DEFAULT_FLOOD_LIMIT
from safestream.core.peer_banks import PEER_SOURCE, BankHit, is_peer_bank
from safestream.store.database import Database
from safestream.store.exchange.entry_hits import PeerEntryHits
from safestream.store.exchange.peers import PeerRegistry


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
        return PeerEntryHits(self.db).screen(
            key_id, hits, limit=limit, peer_name=peer.name if peer else None, moment=moment
        )


def _now() -> datetime:
    return datetime.now(UTC)
