"""The index kernels this process runs: the ahead-of-time build when it is current, else numba's
JIT (`media.aot` says when a build is current; `SAFESTREAM_JIT_KERNELS=1` forces the JIT).

Every process that opens an index (watch, match, each server worker) paid for importing numba
and loading its cached code before its first lookup; the `_index_aot` extension loads in
milliseconds. A compiled function takes exactly the array types it was built for and checks
little more than item sizes, so the wrappers here hand it contiguous arrays of those types (a
no-op for what the segments hold) and refuse an output array it would write past.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np

from safestream.media.aot import digest_of, load_current, load_kernels

AOT_MODULE = "safestream.media.index._index_aot"
KERNEL_SOURCE = Path(__file__).with_name("hamming_kernels.py")


def source_digest() -> int:
    """The digest of the index kernels' source."""
    return digest_of(KERNEL_SOURCE)


def load_aot() -> ModuleType | None:
    """The ahead-of-time index kernels if built from the current source, else None."""
    return load_current(AOT_MODULE, KERNEL_SOURCE)


_KERNELS = load_kernels(AOT_MODULE, KERNEL_SOURCE, "safestream.media.index.hamming_kernels")


def _in(array: np.ndarray, dtype: type) -> np.ndarray:
    return np.ascontiguousarray(array, dtype=dtype)


def _out(array: np.ndarray, dtype: type) -> np.ndarray:
    # Outputs are written in place: converting one would write into a copy.
    if array.dtype != dtype or not array.flags.c_contiguous or not array.flags.writeable:
        raise TypeError(f"output array must be writable contiguous {np.dtype(dtype)}")
    return array


def scan(
    words: np.ndarray,
    count: int,
    query: np.ndarray,
    radius: int,
    out_rows: np.ndarray,
    out_distances: np.ndarray,
) -> int:
    """Rows among the first `count` within `radius` of `query`; see `hamming_kernels.scan`."""
    return int(
        _KERNELS.scan(
            _in(words, np.uint64),
            int(count),
            _in(query, np.uint64),
            int(radius),
            _out(out_rows, np.int64),
            _out(out_distances, np.int32),
        )
    )


def scan_live(
    words: np.ndarray,
    dead: np.ndarray,
    query: np.ndarray,
    radius: int,
    out_rows: np.ndarray,
    out_distances: np.ndarray,
) -> int:
    """Like `scan` over all rows, skipping rows marked dead."""
    return int(
        _KERNELS.scan_live(
            _in(words, np.uint64),
            _in(dead, np.bool_),
            _in(query, np.uint64),
            int(radius),
            _out(out_rows, np.int64),
            _out(out_distances, np.int32),
        )
    )


def extract_keys(words: np.ndarray, bit_word: np.ndarray, bit_shift: np.ndarray) -> np.ndarray:
    """Substring key of every row (uint32): bit j is bit `bit_shift[j]` of word `bit_word[j]`."""
    keys = np.empty(words.shape[0], dtype=np.uint32)
    _KERNELS.extract_keys_into(
        _in(words, np.uint64), _in(bit_word, np.int64), _in(bit_shift, np.int64), keys
    )
    return keys


def build_table(keys: np.ndarray, buckets: int, starts: np.ndarray, rows: np.ndarray) -> None:
    """Counting sort of rows by key into `starts` and `rows` (both written in place)."""
    _KERNELS.build_table(
        _in(keys, np.uint32), int(buckets), _out(starts, np.uint32), _out(rows, np.uint32)
    )


def probe(
    words: np.ndarray,
    dead: np.ndarray,
    query: np.ndarray,
    radius: int,
    table_radii: np.ndarray,
    bit_words: np.ndarray,
    bit_shifts: np.ndarray,
    table_masks: np.ndarray,
    flips: np.ndarray,
    flips_upto: np.ndarray,
    starts: np.ndarray,
    start_bytes: int,
    rows: np.ndarray,
    row_bytes: int,
    out_rows: np.ndarray,
    out_distances: np.ndarray,
) -> int:
    """Multi-index hashing lookup: every live row within `radius`; see `hamming_kernels.probe`."""
    return int(
        _KERNELS.probe(
            _in(words, np.uint64),
            _in(dead, np.bool_),
            _in(query, np.uint64),
            int(radius),
            _in(table_radii, np.int64),
            _in(bit_words, np.int64),
            _in(bit_shifts, np.int64),
            _in(table_masks, np.uint64),
            _in(flips, np.uint32),
            _in(flips_upto, np.int64),
            _in(starts, np.uint8),
            int(start_bytes),
            _in(rows, np.uint8),
            int(row_bytes),
            _out(out_rows, np.int64),
            _out(out_distances, np.int32),
        )
    )


class Prober:
    """`probe` over one segment's arrays at one radius, its arguments converted once.

    A lookup's own Python work is a good part of its cost at HTTP rates: converting the eleven
    arrays on every call costs more than the rest of the call together."""

    def __init__(
        self,
        words: np.ndarray,
        dead: np.ndarray,
        radius: int,
        table_radii: np.ndarray,
        layout: tuple[np.ndarray, np.ndarray, np.ndarray],
        flips: tuple[np.ndarray, np.ndarray],
        tables: tuple[np.ndarray, int, np.ndarray, int],
    ) -> None:
        bit_words, bit_shifts, table_masks = layout
        starts, start_bytes, rows, row_bytes = tables
        self._head = (_in(words, np.uint64), _in(dead, np.bool_))
        self._tail = (
            int(radius),
            _in(table_radii, np.int64),
            _in(bit_words, np.int64),
            _in(bit_shifts, np.int64),
            _in(table_masks, np.uint64),
            _in(flips[0], np.uint32),
            _in(flips[1], np.int64),
            _in(starts, np.uint8),
            int(start_bytes),
            _in(rows, np.uint8),
            int(row_bytes),
        )

    def __call__(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows within the radius of the query words, and their distances."""
        query = _in(query, np.uint64)
        capacity = 256
        while True:
            rows = np.empty(capacity, dtype=np.int64)
            distances = np.empty(capacity, dtype=np.int32)
            found = int(_KERNELS.probe(*self._head, query, *self._tail, rows, distances))
            if found <= capacity:
                return rows[:found], distances[:found]
            capacity = found


def collect(kernel: Callable[..., int], *args: object) -> tuple[np.ndarray, np.ndarray]:
    """Run a search kernel with output buffers big enough for all its hits; return the hits."""
    capacity = 256
    while True:
        rows = np.empty(capacity, dtype=np.int64)
        distances = np.empty(capacity, dtype=np.int32)
        found = int(kernel(*args, rows, distances))
        if found <= capacity:
            return rows[:found], distances[:found]
        capacity = found
