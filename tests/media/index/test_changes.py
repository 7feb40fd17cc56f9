"""Adds, removes, re-adds and rebuilds keep the index equal to a plain id -> code mapping."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safestream.core.errors import InvalidInput, InvalidSignal
from safestream.media.index import PdqIndex, pdq_index
from tests.media.index.brute_force import flip_bits, radius_search, random_codes


def _model_search(model: dict[int, np.ndarray], query: np.ndarray, radius: int) -> tuple:
    if not model:
        return [], []
    ids = np.array(sorted(model), dtype=np.int64)
    codes = np.stack([model[i] for i in ids.tolist()])
    got_ids, got_d = radius_search(ids, codes, query, radius)
    return got_ids.tolist(), got_d.tolist()


def test_empty_index_finds_nothing() -> None:
    ids, distances = PdqIndex().query(np.zeros(32, dtype=np.uint8), 256)
    assert len(PdqIndex()) == 0
    assert ids.shape == (0,) and distances.shape == (0,)


def test_index_of_one_hash_matches_it() -> None:
    # HMA issue #1318: a bank with a single hash returned no match.
    code = random_codes(np.random.default_rng(1), 1)
    index = PdqIndex()
    index.add(np.array([42]), code)
    ids, distances = index.query(code[0])
    assert ids.tolist() == [42] and distances.tolist() == [0]


def test_readding_an_id_replaces_its_code() -> None:
    rng = np.random.default_rng(2)
    old, new = random_codes(rng, 2)
    index = PdqIndex()
    index.add(np.array([7]), old[None])
    index.add(np.array([7]), new[None])
    assert len(index) == 1
    assert index.query(old, 31)[0].tolist() == []
    assert index.query(new, 0)[0].tolist() == [7]


def test_last_code_wins_when_a_batch_repeats_an_id() -> None:
    rng = np.random.default_rng(3)
    first, last = random_codes(rng, 2)
    index = PdqIndex()
    index.add(np.array([5, 5]), np.stack([first, last]))
    assert len(index) == 1
    assert index.query(last, 0)[0].tolist() == [5]


def test_removed_id_no_longer_matches_and_unknown_ids_are_ignored() -> None:
    rng = np.random.default_rng(4)
    codes = random_codes(rng, 3)
    index = PdqIndex()
    index.add(np.array([1, 2, 3]), codes)
    index.remove(np.array([2, 999]))
    assert len(index) == 2
    assert index.query(codes[1], 0)[0].tolist() == []
    assert index.query(codes[0], 0)[0].tolist() == [1]


def test_remove_then_readd_of_a_row_in_the_built_segment_matches_again() -> None:
    rng = np.random.default_rng(5)
    codes = random_codes(rng, 10_000)
    ids = np.arange(10_000, dtype=np.int64)
    index = PdqIndex()
    index.add(ids, codes)  # large enough to be built into the main segment at once
    index.remove(np.array([17]))
    assert index.query(codes[17], 0)[0].tolist() == []
    moved = flip_bits(codes[17], 9, rng)
    index.add(np.array([17]), moved[None])
    assert index.query(codes[17], 8)[0].tolist() == []
    assert index.query(codes[17], 9)[0].tolist() == [17]
    assert len(index) == 10_000


def test_codes_of_returns_stored_codes_from_both_segments() -> None:
    rng = np.random.default_rng(6)
    codes = random_codes(rng, 5_000)
    index = PdqIndex()
    index.add(np.arange(5_000), codes)
    extra = random_codes(rng, 1)
    index.add(np.array([9_000]), extra)
    got, found = index.codes_of(np.array([3, 9_000, 12_345]))
    assert found.tolist() == [True, True, False]
    assert np.array_equal(got[0], codes[3]) and np.array_equal(got[1], extra[0])


@settings(max_examples=40, deadline=None)
@given(
    ops=st.lists(
        st.tuples(
            st.sampled_from(["add", "remove", "query", "settle"]),
            st.lists(st.integers(0, 60), min_size=1, max_size=12),
            st.integers(0, 2**32 - 1),
        ),
        max_size=40,
    ),
    background=st.booleans(),
)
def test_any_sequence_of_changes_matches_a_dict_model(
    ops: list[tuple[str, list[int], int]], background: bool
) -> None:
    # Tiny thresholds force frequent rebuilds, tombstones and delta folds; with `background`
    # the folds run in a thread and lookups and changes meet them half-done.
    old = pdq_index.DELTA_MIN_ROWS
    pdq_index.DELTA_MIN_ROWS = 8
    try:
        model: dict[int, np.ndarray] = {}
        index = PdqIndex(background_rows=0) if background else PdqIndex()
        for op, ids, seed in ops:
            rng = np.random.default_rng(seed)
            if op == "add":
                # Codes near a few shared centres, so near-duplicates and duplicates occur.
                centres = random_codes(np.random.default_rng(0), 3)
                codes = np.stack(
                    [flip_bits(centres[i % 3], int(rng.integers(0, 40)), rng) for i in ids]
                )
                index.add(np.array(ids), codes)
                for item, code in zip(ids, codes, strict=True):
                    model[item] = code
            elif op == "remove":
                index.remove(np.array(ids))
                for item in ids:
                    model.pop(item, None)
            elif op == "settle":
                index.settle(wait=True)
            else:
                query = random_codes(np.random.default_rng(0), 3)[ids[0] % 3]
                radius = int(rng.integers(0, 60))
                got_ids, got_d = index.query(query, radius)
                assert (got_ids.tolist(), got_d.tolist()) == _model_search(model, query, radius)
            assert len(index) == len(model)
    finally:
        pdq_index.DELTA_MIN_ROWS = old


def test_many_add_remove_cycles_do_not_grow_the_index() -> None:
    rng = np.random.default_rng(8)
    index = PdqIndex()
    index.add(np.arange(20_000), random_codes(rng, 20_000))
    sizes = []
    for cycle in range(3_000):
        code = random_codes(rng, 1)
        index.add(np.array([100_000 + cycle]), code)
        assert index.query(code[0], 0)[0].tolist() == [100_000 + cycle]
        index.remove(np.array([100_000 + cycle]))
        index.remove(np.array([cycle]))
        index.add(np.array([cycle]), code)
        sizes.append(index._main.size + len(index._delta))
    assert len(index) == 20_000
    assert max(sizes) <= 20_000 + pdq_index.DELTA_MIN_ROWS + 1


@pytest.mark.parametrize(
    "codes",
    [
        np.zeros((2, 31), dtype=np.uint8),
        np.zeros((2, 32), dtype=np.int64),
        np.zeros((2, 2, 32), dtype=np.uint8),
    ],
)
def test_codes_of_the_wrong_shape_or_type_are_rejected(codes: np.ndarray) -> None:
    with pytest.raises(InvalidSignal):
        PdqIndex().add(np.arange(2), codes)


def test_ids_and_codes_of_different_lengths_are_rejected() -> None:
    with pytest.raises(InvalidSignal):
        PdqIndex().add(np.arange(3), np.zeros((2, 32), dtype=np.uint8))


@pytest.mark.parametrize("radius", [-1, 1.5, True])
def test_a_negative_or_non_integer_radius_is_rejected(radius: object) -> None:
    with pytest.raises(InvalidInput):
        PdqIndex().query(np.zeros(32, dtype=np.uint8), radius)  # type: ignore[arg-type]
