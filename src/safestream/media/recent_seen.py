"""Retroactive matching: hashes of recently seen content, searched when new bank entries arrive.

Uploads and sampled live frames are hashed anyway; keeping their PDQ hashes for a retention
period the operator sets (not the media) lets a hash that reaches a bank later (a hotline's new
entry, a peer's list) find the content it would have matched. The hashes live in their own exact
radius-search index (`PdqIndex`), apart from the banks, and expire by age.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from safestream.core.signals import PDQ_MATCH_MAX_BITS
from safestream.media.index import PdqIndex
from safestream.media.index.codes import hex_to_codes

# One thread by default: on the shared 2-core machine at load 7-10, two threads took 12.5-21.6 s
# for the 10M benchmark's update against 10.6 s on one (bench/results/exchange.md). A dedicated
# server with idle cores can pass more.
WORKERS = 1
# Twelve 21-bit tables instead of the banks' eleven (252 of 256 bits used): about a fifth fewer
# buckets probed and candidates checked per entry at 10M hashes (19-25% faster in a side-by-side
# run), for about 4 more bytes per hash. Nothing saves this index, so its layout is its own.
TABLES = 12


@dataclass(frozen=True)
class RetroMatch:
    """Past content that a new bank entry matches."""

    entry_id: int
    item: str  # what was seen: a report, an upload, "stream:<id>@<seconds>"
    distance: int
    seen_at: datetime
    source_id: int | None = None  # the store's row (`store.seen_hashes`), when loaded from it


class RecentlySeen:
    """PDQ hashes of content seen within `retention`, with what carried each."""

    def __init__(self, retention: timedelta) -> None:
        if retention <= timedelta(0):
            raise ValueError("retention must be positive")
        self.retention = retention
        self.index = PdqIndex(tables=TABLES)
        self._items: list[str] = []  # interned item names
        self._item_ids: dict[str, int] = {}
        # Per hash id (arrival order): which item carried it and when (unix time, never
        # decreasing, so the expired hashes are always a prefix). Grown by doubling.
        self._item_of = np.empty(1024, dtype=np.int64)
        self._source = np.empty(1024, dtype=np.int64)  # store row number, -1 if none
        self._seen = np.empty(1024, dtype=np.float64)
        self._count = 0
        self._oldest_live = 0  # hash ids below this are pruned

    def __len__(self) -> int:
        return len(self.index)

    def observe(self, item: str, pdqs: Sequence[str], at: datetime | None = None) -> None:
        """Remember the hashes of one item (an upload's variants, a stream's sampled frames)."""
        moment = (at or datetime.now(UTC)).timestamp()
        self.observe_many([item] * len(pdqs), pdqs, np.full(len(pdqs), moment))

    def observe_many(self, items: Sequence[str], pdqs: Sequence[str], seen: np.ndarray) -> None:
        """Bulk `observe`: hash i was carried by items[i] at unix time seen[i]."""
        if pdqs:
            self.observe_codes(items, hex_to_codes(list(pdqs)), seen)

    def observe_codes(self, items: Sequence[str], codes: np.ndarray, seen: np.ndarray) -> None:
        """`observe_many` with the hashes as a `(n, 32)` uint8 array."""
        n = codes.shape[0]
        item_ids = np.empty(n, dtype=np.int64)
        for row, name in enumerate(items):
            found = self._item_ids.get(name)
            if found is None:
                found = self._item_ids[name] = len(self._items)
                self._items.append(name)
            item_ids[row] = found
        self._append(item_ids, np.full(n, -1, dtype=np.int64), codes, seen)

    def observe_stored(self, sources: np.ndarray, codes: np.ndarray, seen: np.ndarray) -> None:
        """Hashes read from the store, known by row number (`store.seen_hashes`): what carried
        each is looked up there for the few that match, rather than held for millions."""
        n = codes.shape[0]
        self._append(np.full(n, -1, dtype=np.int64), np.asarray(sources, np.int64), codes, seen)

    def _append(
        self, item_ids: np.ndarray, sources: np.ndarray, codes: np.ndarray, seen: np.ndarray
    ) -> None:
        n = codes.shape[0]
        times = np.asarray(seen, dtype=np.float64)
        floor = self._seen[self._count - 1] if self._count else -np.inf
        times = np.maximum.accumulate(np.maximum(times, floor))
        self._reserve(self._count + n)
        self._item_of[self._count : self._count + n] = item_ids
        self._source[self._count : self._count + n] = sources
        self._seen[self._count : self._count + n] = times
        ids = np.arange(self._count, self._count + n, dtype=np.int64)
        self._count += n
        self.index.add(ids, codes)

    def _reserve(self, size: int) -> None:
        if size <= self._seen.shape[0]:
            return
        capacity = max(size, 2 * self._seen.shape[0])
        self._item_of = np.resize(self._item_of, capacity)
        self._source = np.resize(self._source, capacity)
        self._seen = np.resize(self._seen, capacity)

    def prune(self, now: datetime | None = None) -> int:
        """Forget hashes older than the retention period; return how many went."""
        cutoff = ((now or datetime.now(UTC)) - self.retention).timestamp()
        # Hash ids are given in arrival order, so the expired ones are a prefix.
        end = int(np.searchsorted(self._seen[: self._count], cutoff, side="left"))
        if end <= self._oldest_live:
            return 0
        self.index.remove(np.arange(self._oldest_live, end, dtype=np.int64))
        gone = end - self._oldest_live
        self._oldest_live = end
        return gone

    def match_new_entries(
        self,
        entries: Sequence[tuple[int, str]],
        radius: int = PDQ_MATCH_MAX_BITS,
        *,
        workers: int = WORKERS,
    ) -> list[RetroMatch]:
        """Past content within `radius` of each new bank entry (entry id, PDQ hex).

        A bank update is a batch job: its entries can be searched on `workers` threads."""
        if not entries or not len(self.index):
            return []
        found: list[RetroMatch] = []
        codes = hex_to_codes([h for _, h in entries])
        results = self.index.query_many(codes, radius, workers=workers)
        for (entry_id, _), (ids, distances) in zip(entries, results, strict=True):
            for hash_id, distance in zip(ids.tolist(), distances.tolist(), strict=True):
                item, source = int(self._item_of[hash_id]), int(self._source[hash_id])
                found.append(
                    RetroMatch(
                        entry_id,
                        self._items[item] if item >= 0 else f"seen:{source}",
                        int(distance),
                        datetime.fromtimestamp(float(self._seen[hash_id]), UTC),
                        source if source >= 0 else None,
                    )
                )
        return found
