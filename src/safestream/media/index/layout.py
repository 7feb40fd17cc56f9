"""How the 256 bits of a PDQ code are split into multi-index hashing substrings.

Each of `TABLES` tables keys its rows by a disjoint set of `bits` bit positions. The positions
come from a fixed pseudo-random permutation so that each substring mixes DCT frequencies: PDQ
bits of neighbouring coefficients are correlated, and a substring of correlated bits would
crowd rows into few buckets.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import cache

import numpy as np

from safestream.core.signals import PDQ_BITS

# 11 tables: with two bits of tolerance per substring, 11 * 3 = 33 > 31 covers the match radius.
TABLES = 11
MIN_BITS = 8
# 23-bit substrings from about 6M rows: against 22 bits a 10M-row lookup fetches half the
# candidates (0.22 instead of 0.30 ms of CPU, bench/results/index.md, 2026-12-05). Bucket starts
# are stored 3 bytes wide under 2**24 rows, so the 11 directories take 11 x 24 MiB at 23 bits.
MAX_BITS = 23
# Per-table tolerance beyond which probing costs more than it saves.
MAX_TABLE_RADIUS = 4
PERMUTATION_SEED = 0x5AFE57


def bits_for_size(rows: int) -> int:
    """Substring length for `rows` stored codes: about log2(rows) (Norouzi et al.), clamped."""
    if rows <= 1:
        return MIN_BITS
    return max(MIN_BITS, min(MAX_BITS, round(math.log2(rows))))


@dataclass(frozen=True)
class TableLayout:
    """The bit positions (0..255, in the little-endian uint64 view) of every table's key."""

    positions: np.ndarray  # (tables, bits) uint8

    @classmethod
    def for_size(cls, rows: int, tables: int = TABLES) -> TableLayout:
        """The layout for an index of `rows` codes in `tables` tables (default: `TABLES`)."""
        if not 1 <= tables <= PDQ_BITS // MIN_BITS:
            raise ValueError(f"between 1 and {PDQ_BITS // MIN_BITS} tables, not {tables}")
        bits = min(bits_for_size(rows), PDQ_BITS // tables)
        order = np.random.default_rng(PERMUTATION_SEED).permutation(PDQ_BITS)
        return cls(order[: tables * bits].reshape(tables, bits).astype(np.uint8))

    @property
    def tables(self) -> int:
        """Number of tables."""
        return int(self.positions.shape[0])

    @property
    def bits(self) -> int:
        """Key length of each table in bits."""
        return int(self.positions.shape[1])

    @property
    def bit_words(self) -> np.ndarray:
        """Word index (0..3) of each key bit, shape (tables, bits)."""
        return (self.positions.astype(np.int64) // 64).copy()

    @property
    def bit_shifts(self) -> np.ndarray:
        """Bit index inside its word of each key bit, shape (tables, bits)."""
        return (self.positions.astype(np.int64) % 64).copy()

    @property
    def masks(self) -> np.ndarray:
        """Each table's bits as a 256-bit mask of four uint64 words, shape (tables, 4)."""
        masks = np.zeros((self.tables, 4), dtype=np.uint64)
        for t in range(self.tables):
            for position in self.positions[t]:
                masks[t, int(position) // 64] |= np.uint64(1) << np.uint64(int(position) % 64)
        return masks

    def validate(self) -> None:
        """Raise ValueError unless the substrings are disjoint bit positions below 256."""
        flat = self.positions.reshape(-1)
        if len(set(flat.tolist())) != flat.size or (flat.size and int(flat.max()) >= PDQ_BITS):
            raise ValueError("table bit positions must be distinct and below 256")
        if not MIN_BITS <= self.bits <= MAX_BITS or self.tables < 1:
            raise ValueError(f"unsupported layout: {self.tables} tables of {self.bits} bits")


def table_radii(tables: int, radius: int) -> np.ndarray:
    """Per-table probe radius r_t with sum(r_t + 1) = radius + 1 (pigeonhole); -1 skips a table."""
    slots = radius + 1
    share, extra = divmod(slots, tables)
    radii = np.full(tables, share - 1, dtype=np.int64)
    radii[:extra] += 1
    return radii


@cache
def flip_masks(bits: int) -> tuple[np.ndarray, np.ndarray]:
    """All `bits`-bit masks of weight <= MAX_TABLE_RADIUS ordered by weight, and the count of
    masks of weight <= r for each r (so `masks[:upto[r]]` enumerates one Hamming ball)."""
    masks: list[int] = []
    upto = np.zeros(MAX_TABLE_RADIUS + 1, dtype=np.int64)
    for weight in range(MAX_TABLE_RADIUS + 1):
        for combo in itertools.combinations(range(bits), weight):
            masks.append(sum(1 << b for b in combo))
        upto[weight] = len(masks)
    return np.asarray(masks, dtype=np.uint32), upto
