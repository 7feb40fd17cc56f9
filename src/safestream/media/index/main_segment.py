"""The bulk of the index: an immutable multi-index hashing segment with a tombstone per row.

Rows are sorted by id, so a row's position is found by binary search and no separate id map is
kept. Removing a row only sets its tombstone; the owner rebuilds the segment when enough rows
are dead.

Memory is the constraint at 10M rows, so ids are held as uint32 when they all fit (database keys
usually do), and the tables' row numbers and bucket starts take 3 bytes while the segment has
under 2**24 rows (`row_bytes_for`).
"""

from __future__ import annotations

import uuid

import numpy as np

from safestream.media.index import kernels
from safestream.media.index.codes import to_words
from safestream.media.index.layout import (
    MAX_TABLE_RADIUS,
    TABLES,
    TableLayout,
    flip_masks,
    table_radii,
)

# Relative cost of one random bucket or code read versus one sequentially scanned code.
_RANDOM_READ_COST = 12.0
_UINT32_END = 1 << 32


def row_bytes_for(rows: int) -> int:
    """Bytes per row number in the tables: 3 below 2**24 rows, else 4."""
    return 3 if rows < (1 << 24) else 4


def compact_ids(ids: np.ndarray) -> np.ndarray:
    """Sorted int64 ids as uint32 when they all fit, else unchanged."""
    if ids.shape[0] and int(ids[0]) >= 0 and int(ids[-1]) < _UINT32_END:
        return ids.astype(np.uint32)
    return ids


def _low_bytes(numbers: np.ndarray, width: int) -> np.ndarray:
    """The low `width` bytes of each little-endian uint32, as an (n, width) uint8 view."""
    return numbers.astype("<u4", copy=False).view(np.uint8).reshape(-1, 4)[:, :width]


def bucket_starts(starts: np.ndarray, table: int, width: int) -> np.ndarray:
    """One table's bucket starts (uint32) from its `width`-byte little-endian directory."""
    raw = np.asarray(starts[table]).reshape(-1, width)
    out = np.zeros((raw.shape[0], 4), dtype=np.uint8)
    out[:, :width] = raw
    return out.view("<u4").reshape(-1)


class MainSegment:
    """Codes sorted by id, with one bucket directory and row list per substring table."""

    def __init__(
        self,
        generation: str,
        ids: np.ndarray,
        codes: np.ndarray,
        layout: TableLayout,
        starts: np.ndarray,
        rows: np.ndarray,
    ) -> None:
        self.generation = generation
        self.ids = ids
        self.codes = codes
        self.words = to_words(codes)
        self.layout = layout
        self.starts = starts
        self.rows = rows
        self.dead = np.zeros(ids.shape[0], dtype=np.bool_)
        self.dead_count = 0
        self._bit_words = layout.bit_words
        self._bit_shifts = layout.bit_shifts
        self._masks = layout.masks
        self._flips, self._flips_upto = flip_masks(layout.bits)
        self._plans: dict[int, np.ndarray | None] = {}
        self._probers: dict[int, kernels.Prober] = {}
        # Indexing a memmap goes through numpy's Python-level subclass hooks: a plain view does not.
        self._ids: np.ndarray = ids.view(np.ndarray)

    @classmethod
    def empty(cls, tables: int = TABLES) -> MainSegment:
        """A segment with no rows."""
        empty = np.empty(0, dtype=np.int64), np.empty((0, 32), dtype=np.uint8)
        return cls.build(*empty, tables=tables)

    @classmethod
    def build(cls, ids: np.ndarray, codes: np.ndarray, *, tables: int = TABLES) -> MainSegment:
        """Index `codes` under `ids` (sorted, unique int64) in freshly built tables."""
        n = ids.shape[0]
        layout = TableLayout.for_size(n, tables)
        words = to_words(codes)
        buckets = 1 << layout.bits
        width = row_bytes_for(n)
        starts = np.zeros((layout.tables, (buckets + 1) * width), dtype=np.uint8)
        rows = np.empty((layout.tables, n * width), dtype=np.uint8)
        bit_words, bit_shifts = layout.bit_words, layout.bit_shifts
        table_starts = np.empty(buckets + 1, dtype=np.uint32)
        table_rows = np.empty(n, dtype=np.uint32)
        for t in range(layout.tables if n else 0):
            keys = kernels.extract_keys(words, bit_words[t], bit_shifts[t])
            kernels.build_table(keys, buckets, table_starts, table_rows)
            starts[t].reshape(buckets + 1, width)[:] = _low_bytes(table_starts, width)
            rows[t].reshape(n, width)[:] = _low_bytes(table_rows, width)
        return cls(uuid.uuid4().hex, compact_ids(ids), codes, layout, starts, rows)

    def __len__(self) -> int:
        return int(self.ids.shape[0]) - self.dead_count

    @property
    def size(self) -> int:
        """Rows stored, dead ones included."""
        return int(self.ids.shape[0])

    @property
    def start_bytes(self) -> int:
        """Bytes per bucket start in the directories (4 in files of format 1, else row_bytes)."""
        return int(self.starts.shape[1]) // ((1 << self.layout.bits) + 1)

    @property
    def row_bytes(self) -> int:
        """Bytes per row number in the tables."""
        return int(self.rows.shape[1]) // max(1, self.size)

    def ids_at(self, rows: np.ndarray) -> np.ndarray:
        """The int64 ids of the given rows."""
        ids: np.ndarray = self._ids[rows].astype(np.int64, copy=False)
        return ids

    def positions_of(self, ids: np.ndarray) -> np.ndarray:
        """Row of each id, or -1 where the id is absent or dead."""
        if self.size == 0:
            return np.full(ids.shape[0], -1, dtype=np.int64)
        needles = ids
        if self.ids.dtype == np.uint32:
            # Search with uint32 needles: mixed types would make numpy copy the whole id array.
            in_range = (ids >= 0) & (ids < _UINT32_END)
            needles = np.where(in_range, ids, 0).astype(np.uint32)
        where = np.searchsorted(self.ids, needles)
        where = np.minimum(where, self.size - 1)
        hit = (self.ids[where] == needles) & ~self.dead[where]
        if needles is not ids:
            hit &= in_range
        return np.where(hit, where, -1).astype(np.int64)

    def kill(self, positions: np.ndarray) -> None:
        """Tombstone the given live rows."""
        if positions.shape[0] == 1:
            row = int(positions[0])
            if row >= 0 and not self.dead[row]:
                self.dead[row] = True
                self.dead_count += 1
            return
        positions = np.unique(positions[positions >= 0])
        positions = positions[~self.dead[positions]]
        self.dead[positions] = True
        self.dead_count += int(positions.shape[0])

    def live(self) -> tuple[np.ndarray, np.ndarray]:
        """Ids and codes of the live rows."""
        if self.dead_count == 0:
            return self.ids.astype(np.int64, copy=False), self.codes
        keep = ~self.dead
        return self.ids[keep].astype(np.int64, copy=False), self.codes[keep]

    def uses_tables(self, radius: int) -> bool:
        """Whether probing the tables is cheaper than scanning every row at this radius."""
        return self._plan(radius) is not None

    def _plan(self, radius: int) -> np.ndarray | None:
        """Per-table probe radii for `radius`, or None when an exact scan is cheaper."""
        if radius in self._plans:
            return self._plans[radius]
        radii: np.ndarray | None = table_radii(self.layout.tables, radius)
        assert radii is not None
        if int(radii.max()) > MAX_TABLE_RADIUS:
            radii = None
        else:
            probes = float(sum(int(self._flips_upto[r]) for r in radii if r >= 0))
            candidates = probes * self.size / float(1 << self.layout.bits)
            if (probes + candidates) * _RANDOM_READ_COST >= self.size:
                radii = None
        self._plans[radius] = radii
        return radii

    def search(self, query: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows of live codes within `radius` of the query words, and their distances."""
        prober = self._probers.get(radius)
        if prober is not None:
            return prober(query)
        if self.size == 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int32)
        radii = self._plan(radius)
        if radii is not None:
            prober = kernels.Prober(
                self.words,
                self.dead,
                radius,
                radii,
                (self._bit_words, self._bit_shifts, self._masks),
                (self._flips, self._flips_upto),
                (self.starts, self.start_bytes, self.rows, self.row_bytes),
            )
            self._probers[radius] = prober
            return prober(query)
        return kernels.collect(kernels.scan_live, self.words, self.dead, query, radius)
