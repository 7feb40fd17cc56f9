"""A large index folds its delta in a background thread while lookups and changes go on."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from safestream.media.index import PdqIndex, pdq_index
from safestream.media.index.main_segment import MainSegment
from tests.media.index.brute_force import radius_search, random_codes

REBUILD_THREAD = "safestream-index-rebuild"


@pytest.fixture
def small_thresholds() -> Iterator[None]:
    old = pdq_index.DELTA_MIN_ROWS
    pdq_index.DELTA_MIN_ROWS = 8
    yield
    pdq_index.DELTA_MIN_ROWS = old


@pytest.fixture
def held_build(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Background builds wait for the returned event (at most 20 s), so a test sees them pending."""
    release = threading.Event()
    build = MainSegment.build.__func__  # type: ignore[attr-defined]

    def held(cls: type[MainSegment], ids: np.ndarray, codes: np.ndarray, **how: int) -> MainSegment:
        if threading.current_thread().name == REBUILD_THREAD:
            release.wait(20)
        return build(cls, ids, codes, **how)  # type: ignore[no-any-return]

    monkeypatch.setattr(MainSegment, "build", classmethod(held))
    yield release
    release.set()


def _index_past_the_threshold(codes: np.ndarray, built: int, total: int) -> PdqIndex:
    """An index of `built` codes, then codes up to `total` added one at a time, as edits arrive."""
    index = PdqIndex(background_rows=0)
    index.add(np.arange(built), codes[:built])
    for i in range(built, total):
        index.add(np.array([i]), codes[i : i + 1])
    return index


def _answers(index: PdqIndex, ids: np.ndarray, codes: np.ndarray, queries: np.ndarray) -> None:
    for query in queries:
        got_ids, got_d = index.query(query, 31)
        want_ids, want_d = radius_search(ids, codes, query, 31)
        assert got_ids.tolist() == want_ids.tolist()
        assert got_d.tolist() == want_d.tolist()


def test_crossing_the_delta_threshold_returns_before_the_rebuild_finishes(
    small_thresholds: None, held_build: threading.Event
) -> None:
    rng = np.random.default_rng(1)
    codes = random_codes(rng, 300)
    index = _index_past_the_threshold(codes, 200, 300)
    assert index.rebuilding
    _answers(index, np.arange(300), codes, codes[::7])
    held_build.set()
    index.settle(wait=True)
    assert not index.rebuilding
    _answers(index, np.arange(300), codes, codes[::7])


def test_changes_made_during_a_rebuild_survive_the_swap(
    small_thresholds: None, held_build: threading.Event
) -> None:
    rng = np.random.default_rng(2)
    codes = random_codes(rng, 260)
    index = _index_past_the_threshold(codes, 200, 240)
    assert index.rebuilding
    # After the snapshot: new ids, a replaced code, removes of old and new rows.
    for first in range(240, 260, 5):  # small batches: a bulk add would wait for the fold
        index.add(np.arange(first, first + 5), codes[first : first + 5])
    index.add(np.array([5]), codes[259:260])
    index.remove(np.array([0, 1, 245]))
    assert index.rebuilding
    held_build.set()
    index.settle(wait=True)
    model = {i: codes[i] for i in range(260)}
    model[5] = codes[259]
    for gone in (0, 1, 245):
        del model[gone]
    ids = np.array(sorted(model))
    _answers(index, ids, np.stack([model[i] for i in ids.tolist()]), codes[::5])
    assert len(index) == len(model)


def test_a_failed_rebuild_leaves_the_index_exact(
    small_thresholds: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    build = MainSegment.build.__func__  # type: ignore[attr-defined]

    def failing(
        cls: type[MainSegment], ids: np.ndarray, codes: np.ndarray, **how: int
    ) -> MainSegment:
        if threading.current_thread().name == REBUILD_THREAD:
            raise MemoryError("no room for a second segment")
        return build(cls, ids, codes, **how)  # type: ignore[no-any-return]

    monkeypatch.setattr(MainSegment, "build", classmethod(failing))
    rng = np.random.default_rng(3)
    codes = random_codes(rng, 240)
    index = _index_past_the_threshold(codes, 200, 240)
    index.settle(wait=True)
    assert not index.rebuilding
    _answers(index, np.arange(240), codes, codes[::6])


def test_saving_during_a_rebuild_loads_the_same_answers(
    small_thresholds: None, held_build: threading.Event, tmp_path: Path
) -> None:
    rng = np.random.default_rng(4)
    codes = random_codes(rng, 250)
    index = PdqIndex(background_rows=0)
    index.add(np.arange(200), codes[:200])
    index.save(tmp_path)
    for i in range(200, 250):
        index.add(np.array([i]), codes[i : i + 1])
    assert index.rebuilding
    index.save(tmp_path)
    _answers(PdqIndex.load(tmp_path), np.arange(250), codes, codes[::9])
    held_build.set()
    index.settle(wait=True)
    index.save(tmp_path)
    _answers(PdqIndex.load(tmp_path), np.arange(250), codes, codes[::9])
