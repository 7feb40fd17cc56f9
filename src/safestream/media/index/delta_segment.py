"""Recent additions: a small dense array of codes searched by exact scan.

Removal moves the last row into the freed slot, so the array never holds dead rows and a long
run of add/remove cycles does not grow it.
"""

from __future__ import annotations

import numpy as np

from safestream.media.index import kernels
from safestream.media.index.codes import CODE_BYTES, to_words

_INITIAL_CAPACITY = 64


class DeltaSegment:
    """Codes added since the main segment was built, keyed by id."""

    def __init__(self) -> None:
        self._ids = np.empty(_INITIAL_CAPACITY, dtype=np.int64)
        self._codes = np.empty((_INITIAL_CAPACITY, CODE_BYTES), dtype=np.uint8)
        self._slot: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._slot)

    def __contains__(self, item: int) -> bool:
        return item in self._slot

    def put(self, item: int, code: np.ndarray) -> None:
        """Store or replace the code of `item`."""
        slot = self._slot.get(item)
        if slot is None:
            slot = len(self._slot)
            if slot == self._ids.shape[0]:
                self._resize(slot * 2)
            self._slot[item] = slot
            self._ids[slot] = item
        self._codes[slot] = code

    def discard(self, item: int) -> bool:
        """Remove `item` if present; return whether it was."""
        slot = self._slot.pop(item, None)
        if slot is None:
            return False
        last = len(self._slot)
        if slot != last:
            moved = int(self._ids[last])
            self._ids[slot] = moved
            self._codes[slot] = self._codes[last]
            self._slot[moved] = slot
        # Give memory back after a burst, but keep slack so add/remove cycles do not thrash.
        if self._ids.shape[0] > _INITIAL_CAPACITY and last * 4 < self._ids.shape[0]:
            self._resize(max(_INITIAL_CAPACITY, self._ids.shape[0] // 2))
        return True

    def clear(self) -> None:
        """Drop every row."""
        self._ids = np.empty(_INITIAL_CAPACITY, dtype=np.int64)
        self._codes = np.empty((_INITIAL_CAPACITY, CODE_BYTES), dtype=np.uint8)
        self._slot = {}

    def live(self) -> tuple[np.ndarray, np.ndarray]:
        """Ids and codes of every row (copies)."""
        n = len(self._slot)
        return self._ids[:n].copy(), self._codes[:n].copy()

    def search(self, query: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
        """Ids within `radius` of the query words, and their distances."""
        n = len(self._slot)
        if n == 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int32)
        rows, distances = kernels.collect(kernels.scan, to_words(self._codes), n, query, radius)
        return self._ids[rows], distances

    def _resize(self, capacity: int) -> None:
        n = len(self._slot)
        ids = np.empty(capacity, dtype=np.int64)
        codes = np.empty((capacity, CODE_BYTES), dtype=np.uint8)
        ids[:n] = self._ids[:n]
        codes[:n] = self._codes[:n]
        self._ids, self._codes = ids, codes
