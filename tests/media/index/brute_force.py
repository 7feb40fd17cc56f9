"""A brute-force oracle for radius search and seeded test data for the index tests."""

from __future__ import annotations

import numpy as np

_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.int32)


def distances(codes: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Hamming distance from `query` to every row of `codes`."""
    return _POPCOUNT[np.bitwise_xor(codes, query)].sum(axis=1)


def radius_search(
    ids: np.ndarray, codes: np.ndarray, query: np.ndarray, radius: int
) -> tuple[np.ndarray, np.ndarray]:
    """(ids, distances) within `radius`, sorted by distance then id, by comparing every row."""
    d = distances(codes, query)
    hit = d <= radius
    order = np.lexsort((ids[hit], d[hit]))
    return ids[hit][order], d[hit][order]


def flip_bits(code: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """A copy of `code` with exactly `count` distinct bits flipped."""
    bits = np.unpackbits(code)
    where = rng.choice(bits.shape[0], size=count, replace=False)
    bits[where] ^= 1
    return np.packbits(bits)


def random_codes(rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` uniformly random 256-bit codes."""
    return rng.integers(0, 256, size=(n, 32), dtype=np.uint8)


def clustered_codes(rng: np.random.Generator, centres: int, per_centre: int) -> np.ndarray:
    """Near-duplicate clusters (like frames of one video): each member 0-20 bits from its centre,
    with exact duplicates among them."""
    out = []
    for centre in random_codes(rng, centres):
        for k in range(per_centre):
            flips = 0 if k % 5 == 0 else int(rng.integers(1, 21))
            out.append(flip_bits(centre, flips, rng))
    return np.asarray(out, dtype=np.uint8)
