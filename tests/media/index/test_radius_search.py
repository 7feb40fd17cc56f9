"""Radius search equals brute force, on both the multi-index path and the exact scan."""

from __future__ import annotations

import numpy as np
import pytest

from safestream.media.index import PdqIndex
from tests.media.index.brute_force import (
    clustered_codes,
    flip_bits,
    radius_search,
    random_codes,
)

# Large enough that radius 31 is answered by probing the tables, not by a scan.
TABLE_ROWS = 50_000


@pytest.fixture(scope="module")
def stored() -> tuple[PdqIndex, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(20261129)
    codes = np.concatenate([random_codes(rng, TABLE_ROWS - 6_000), clustered_codes(rng, 300, 20)])
    ids = rng.permutation(np.arange(10 * len(codes), dtype=np.int64))[: len(codes)]
    index = PdqIndex()
    index.add(ids, codes)
    return index, ids, codes


def _queries(codes: np.ndarray, radius: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Codes at exactly radius-1, radius and radius+1 bits from stored rows, plus strangers."""
    out = []
    for offset in (-1, 0, 1):
        bits = min(256, max(0, radius + offset))
        for row in rng.integers(0, len(codes), size=8):
            out.append(flip_bits(codes[row], bits, rng))
    out.extend(random_codes(rng, 8))
    return out


def test_table_path_is_used_at_radius_31(stored: tuple[PdqIndex, np.ndarray, np.ndarray]) -> None:
    index, _, _ = stored
    assert index._main.uses_tables(31)


@pytest.mark.parametrize("radius", [0, 1, 7, 16, 30, 31, 32, 40, 64, 128, 256])
def test_results_equal_brute_force_at_every_radius(
    stored: tuple[PdqIndex, np.ndarray, np.ndarray], radius: int
) -> None:
    index, ids, codes = stored
    rng = np.random.default_rng(radius)
    for query in _queries(codes, radius, rng):
        got_ids, got_d = index.query(query, radius)
        want_ids, want_d = radius_search(ids, codes, query, radius)
        assert np.array_equal(got_ids, want_ids)
        assert np.array_equal(got_d, want_d)


def test_code_exactly_at_radius_matches_and_one_bit_further_does_not() -> None:
    rng = np.random.default_rng(7)
    centre = random_codes(rng, 1)[0]
    at_radius = flip_bits(centre, 31, rng)
    beyond = flip_bits(centre, 32, rng)
    index = PdqIndex()
    index.add(np.array([1, 2]), np.stack([at_radius, beyond]))
    ids, distances = index.query(centre, 31)
    assert ids.tolist() == [1]
    assert distances.tolist() == [31]


def test_duplicate_codes_under_different_ids_are_all_returned_once(
    stored: tuple[PdqIndex, np.ndarray, np.ndarray],
) -> None:
    index, ids, codes = stored
    cluster = codes[TABLE_ROWS - 6_000 :]
    query = cluster[0]
    got_ids, _ = index.query(query, 31)
    want_ids, _ = radius_search(ids, codes, query, 31)
    assert len(got_ids) == len(set(got_ids.tolist())) == len(want_ids) >= 20


def test_query_many_returns_what_query_returns_for_each_code(
    stored: tuple[PdqIndex, np.ndarray, np.ndarray],
) -> None:
    index, _, codes = stored
    queries = codes[:20]
    many = index.query_many(queries, 31)
    for query, (ids, distances) in zip(queries, many, strict=True):
        one_ids, one_d = index.query(query, 31)
        assert np.array_equal(ids, one_ids) and np.array_equal(distances, one_d)


def test_results_are_sorted_by_distance_then_id(
    stored: tuple[PdqIndex, np.ndarray, np.ndarray],
) -> None:
    index, _, codes = stored
    ids, distances = index.query(codes[TABLE_ROWS - 6_000], 64)
    assert list(zip(distances.tolist(), ids.tolist(), strict=True)) == sorted(
        zip(distances.tolist(), ids.tolist(), strict=True)
    )


def test_a_batch_split_between_threads_answers_what_one_thread_does_in_order(
    stored: tuple[PdqIndex, np.ndarray, np.ndarray],
) -> None:
    index, _, codes = stored
    rng = np.random.default_rng(7)
    batch = np.stack([flip_bits(codes[r], 12, rng) for r in rng.integers(0, len(codes), 600)])
    alone = index.query_many(batch, 31)
    threaded = index.query_many(batch, 31, workers=3)
    assert len(threaded) == len(alone)
    for (ids_a, d_a), (ids_b, d_b) in zip(alone, threaded, strict=True):
        assert ids_a.tolist() == ids_b.tolist() and d_a.tolist() == d_b.tolist()


def test_an_index_with_twelve_tables_answers_what_brute_force_does(
    stored: tuple[PdqIndex, np.ndarray, np.ndarray],
) -> None:
    _, ids, codes = stored
    twelve = PdqIndex(tables=12)
    twelve.add(ids, codes)
    assert twelve._main.layout.tables == 12 and twelve._main.uses_tables(31)
    rng = np.random.default_rng(11)
    for query in _queries(codes, 31, rng):
        found_ids, found_distances = twelve.query(query, 31)
        truth_ids, truth_distances = radius_search(ids, codes, query, 31)
        assert found_ids.tolist() == truth_ids.tolist()
        assert found_distances.tolist() == truth_distances.tolist()
