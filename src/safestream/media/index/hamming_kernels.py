"""Compiled loops of the index: Hamming distance, exact scan, multi-index table build and probe.

Codes are handled as rows of four uint64 words. Every function here is single-threaded on
purpose: lookups are measured per core, and callers parallelise across queries or processes.
All of them release the GIL (`nogil`), so lookups in a server's threads run on several cores
at once, and read-only (memory-mapped) arrays are accepted.

This is numba source, compiled ahead of time into `_index_aot` by `media.kernels_build` and run
through `index.kernels` (which falls back to numba's JIT without a current build). Kernels write
into arrays the caller allocates, a calling convention that ahead-of-time export supports.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic


def _ctpop(typingctx: object, word: types.Type) -> tuple[object, object]:
    signature = types.int64(types.uint64)

    def codegen(context: object, builder: ir.IRBuilder, sig: object, args: list[object]) -> object:
        fn = builder.module.declare_intrinsic("llvm.ctpop", [ir.IntType(64)])
        return builder.call(fn, [args[0]])

    return signature, codegen


# Number of set bits in a uint64, as int64: LLVM's ctpop, i.e. one popcnt instruction.
popcount64 = cast(Callable[[np.uint64], int], intrinsic(_ctpop))


@numba.njit(cache=True, nogil=True, inline="always")
def distance_to(
    words: np.ndarray, row: int, q0: np.uint64, q1: np.uint64, q2: np.uint64, q3: np.uint64
) -> int:  # pragma: no cover - compiled
    """Hamming distance between stored code `row` and the query words."""
    return (
        popcount64(words[row, 0] ^ q0)
        + popcount64(words[row, 1] ^ q1)
        + popcount64(words[row, 2] ^ q2)
        + popcount64(words[row, 3] ^ q3)
    )


@numba.njit(cache=True, nogil=True)
def scan(
    words: np.ndarray,
    count: int,
    query: np.ndarray,
    radius: int,
    out_rows: np.ndarray,
    out_distances: np.ndarray,
) -> int:  # pragma: no cover - compiled
    """Rows among the first `count` within `radius` of `query`, with their distances.

    Like every search kernel here, it fills the output buffers up to their capacity and returns
    the total number of hits; the caller repeats with larger buffers when that number exceeds
    the capacity. (Growing arrays inside the loop makes numba's code several times slower.)
    """
    q0, q1, q2, q3 = query[0], query[1], query[2], query[3]
    capacity = out_rows.shape[0]
    found = 0
    for row in range(count):
        d = distance_to(words, row, q0, q1, q2, q3)
        if d <= radius:
            if found < capacity:
                out_rows[found] = row
                out_distances[found] = d
            found += 1
    return found


@numba.njit(cache=True, nogil=True)
def extract_keys_into(
    words: np.ndarray, bit_word: np.ndarray, bit_shift: np.ndarray, keys: np.ndarray
) -> None:  # pragma: no cover - compiled
    """Substring key of every row: bit j of the key is bit `bit_shift[j]` of word `bit_word[j]`."""
    n = words.shape[0]
    nbits = bit_word.shape[0]
    for row in range(n):
        key = np.uint32(0)
        for j in range(nbits):
            bit = (words[row, bit_word[j]] >> np.uint64(bit_shift[j])) & np.uint64(1)
            key |= np.uint32(bit) << np.uint32(j)
        keys[row] = key


@numba.njit(cache=True, nogil=True)
def build_table(keys: np.ndarray, buckets: int, starts: np.ndarray, rows: np.ndarray) -> None:
    # pragma: no cover - compiled
    """Counting sort of rows by key: rows of bucket k are `rows[starts[k]:starts[k + 1]]`."""
    starts[:] = 0
    for row in range(keys.shape[0]):
        starts[keys[row] + 1] += 1
    for k in range(buckets):
        starts[k + 1] += starts[k]
    cursor = starts[:buckets].copy()
    for row in range(keys.shape[0]):
        k = keys[row]
        rows[cursor[k]] = row
        cursor[k] += 1


@numba.njit(cache=True, nogil=True)
def query_key(query: np.ndarray, bit_word: np.ndarray, bit_shift: np.ndarray) -> np.uint32:
    # pragma: no cover - compiled
    """Substring key of one query code."""
    key = np.uint32(0)
    for j in range(bit_word.shape[0]):
        bit = (query[bit_word[j]] >> np.uint64(bit_shift[j])) & np.uint64(1)
        key |= np.uint32(bit) << np.uint32(j)
    return key


@numba.njit(cache=True, nogil=True)
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
) -> int:  # pragma: no cover - compiled
    """Multi-index hashing lookup: every live row within `radius`, each reported once.

    Table t is probed at every key within `table_radii[t]` of the query's substring. With
    disjoint substrings and sum(table_radii + 1) > radius, any row within `radius` has some
    table whose substring differs by at most that table's radius (pigeonhole), so it is found.
    A row is reported only by the first table that can find it, which removes duplicates
    without a per-query set. Bucket starts and table row numbers are little-endian,
    `start_bytes` and `row_bytes` (3 or 4) each.
    """
    # Three passes per table (bucket bounds, candidate rows, candidate codes) instead of one
    # nested loop: each pass issues independent memory reads the CPU can overlap, where the
    # nested loop would wait on bucket -> row -> code cache misses one chain at a time.
    found = 0
    bounds = np.empty((flips_upto[-1], 2), dtype=np.int64)
    candidates = np.empty(_CANDIDATE_BATCH, dtype=np.int64)
    for t in range(table_radii.shape[0]):
        r = table_radii[t]
        if r < 0:
            continue
        base = query_key(query, bit_words[t], bit_shifts[t])
        probes = flips_upto[r]
        for f in range(probes):
            at = int(base ^ flips[f]) * start_bytes
            bounds[f, 0] = _read_le(starts, t, at, start_bytes)
            bounds[f, 1] = _read_le(starts, t, at + start_bytes, start_bytes)
        pending = 0
        for f in range(probes):
            for i in range(bounds[f, 0], bounds[f, 1]):
                at = i * row_bytes
                row = int(rows[t, at]) | (int(rows[t, at + 1]) << 8) | (int(rows[t, at + 2]) << 16)
                if row_bytes == 4:
                    row |= int(rows[t, at + 3]) << 24
                candidates[pending] = row
                pending += 1
                if pending == _CANDIDATE_BATCH:
                    found = _verify(
                        words, dead, query, radius, t, table_radii, table_masks,
                        candidates, pending, out_rows, out_distances, found,
                    )  # fmt: skip
                    pending = 0
        found = _verify(
            words, dead, query, radius, t, table_radii, table_masks,
            candidates, pending, out_rows, out_distances, found,
        )  # fmt: skip
    return found


_CANDIDATE_BATCH = 4096


@numba.njit(cache=True, nogil=True, inline="always")
def _read_le(table: np.ndarray, t: int, at: int, width: int) -> int:  # pragma: no cover
    """The `width`-byte (3 or 4) little-endian number at byte `at` of row `t`."""
    value = int(table[t, at]) | (int(table[t, at + 1]) << 8) | (int(table[t, at + 2]) << 16)
    if width == 4:
        value |= int(table[t, at + 3]) << 24
    return value


@numba.njit(cache=True, nogil=True, inline="always")
def _verify(
    words: np.ndarray,
    dead: np.ndarray,
    query: np.ndarray,
    radius: int,
    table: int,
    table_radii: np.ndarray,
    table_masks: np.ndarray,
    candidates: np.ndarray,
    count: int,
    out_rows: np.ndarray,
    out_distances: np.ndarray,
    found: int,
) -> int:  # pragma: no cover - compiled
    """Append the candidates within `radius` that no earlier table reports; return the count."""
    q0, q1, q2, q3 = query[0], query[1], query[2], query[3]
    capacity = out_rows.shape[0]
    for c in range(count):
        row = candidates[c]
        d = distance_to(words, row, q0, q1, q2, q3)
        if d > radius or dead[row]:
            continue
        duplicate = False
        for s in range(table):
            if table_radii[s] < 0:
                continue
            sub = (
                popcount64((words[row, 0] ^ q0) & table_masks[s, 0])
                + popcount64((words[row, 1] ^ q1) & table_masks[s, 1])
                + popcount64((words[row, 2] ^ q2) & table_masks[s, 2])
                + popcount64((words[row, 3] ^ q3) & table_masks[s, 3])
            )
            if sub <= table_radii[s]:
                duplicate = True
                break
        if duplicate:
            continue
        if found < capacity:
            out_rows[found] = row
            out_distances[found] = d
        found += 1
    return found


@numba.njit(cache=True, nogil=True)
def scan_live(
    words: np.ndarray,
    dead: np.ndarray,
    query: np.ndarray,
    radius: int,
    out_rows: np.ndarray,
    out_distances: np.ndarray,
) -> int:  # pragma: no cover - compiled
    """Like `scan` over all rows, skipping rows marked dead."""
    q0, q1, q2, q3 = query[0], query[1], query[2], query[3]
    capacity = out_rows.shape[0]
    found = 0
    for row in range(words.shape[0]):
        d = distance_to(words, row, q0, q1, q2, q3)
        if d <= radius and not dead[row]:
            if found < capacity:
                out_rows[found] = row
                out_distances[found] = d
            found += 1
    return found
