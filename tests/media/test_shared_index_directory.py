"""Processes sharing one bank index directory: writes wait for its lock, and a process whose
files another has saved over builds on those files instead of writing its own view over them."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from safestream.media.bank_index import STATE_FILE, BankIndex
from safestream.media.directory_lock import directory_lock
from safestream.media.index import PdqIndex, hex_to_codes
from safestream.store.banks import BankRepository, NewEntry


@pytest.fixture
def banks(banks: BankRepository) -> BankRepository:
    banks.create("known")
    return banks


def random_hashes(seed: int, n: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return [rng.bytes(32).hex() for _ in range(n)]


def add(banks: BankRepository, hashes: list[str]) -> list[int]:
    return banks.add_entries("known", [NewEntry("pdq", h) for h in hashes])


def ids_on_disk(directory: Path, hashes: list[str]) -> list[list[int]]:
    """What the saved files alone (no catching up) find for each hash at distance 0."""
    saved = PdqIndex.load(directory)
    return [ids.tolist() for ids, _ in saved.query_many(hex_to_codes(hashes), 0)]


def test_saving_waits_while_another_process_holds_the_directory_lock(
    banks: BankRepository, tmp_path: Path
) -> None:
    directory = tmp_path / "index"
    index = BankIndex.open(banks, directory)
    hashes = random_hashes(1, 3)
    ids = add(banks, hashes)
    state_before = (directory / STATE_FILE).read_text()
    with directory_lock(directory):
        saver = threading.Thread(target=index.refresh)
        saver.start()
        time.sleep(0.5)
        assert saver.is_alive()
        assert (directory / STATE_FILE).read_text() == state_before
    saver.join(timeout=30)
    assert ids_on_disk(directory, hashes) == [[i] for i in ids]


def test_a_process_whose_files_were_rebuilt_by_another_adopts_them(
    banks: BankRepository, tmp_path: Path
) -> None:
    directory = tmp_path / "index"
    add(banks, random_hashes(2, 5))
    first, second = BankIndex.open(banks, directory), BankIndex.open(banks, directory)
    add(banks, random_hashes(3, 5))
    first.refresh()
    with directory_lock(directory):
        first.index.compact()  # a rebuild: a new base file
        first.save()
    rebuilt_base = first.base_on_disk()
    later = random_hashes(4, 3)
    later_ids = add(banks, later)
    second.refresh()
    assert second.base_on_disk() == rebuilt_base
    assert second.index.saved_base == rebuilt_base
    assert ids_on_disk(directory, later) == [[i] for i in later_ids]


def test_appends_of_two_processes_both_stay_in_the_log(
    banks: BankRepository, tmp_path: Path
) -> None:
    directory = tmp_path / "index"
    first, second = BankIndex.open(banks, directory), BankIndex.open(banks, directory)
    one, two = random_hashes(5, 4), random_hashes(6, 4)
    one_ids = add(banks, one)
    first.refresh()
    two_ids = add(banks, two)
    second.refresh()
    assert second.index.in_step_with(directory)
    assert ids_on_disk(directory, one + two) == [[i] for i in one_ids + two_ids]
    banks.remove_entry("known", one_ids[0])
    first.refresh()  # first is behind second's save: it adopts, then appends the removal
    assert ids_on_disk(directory, one[:1]) == [[]]


def test_a_reader_maps_the_files_only_after_the_writer_lets_go(
    banks: BankRepository, tmp_path: Path
) -> None:
    directory = tmp_path / "index"
    BankIndex.open(banks, directory)
    loaded: list[BankIndex | None] = []
    with directory_lock(directory):
        reader = threading.Thread(
            target=lambda: loaded.append(BankIndex.load_saved(banks, directory))
        )
        reader.start()
        time.sleep(0.3)
        assert reader.is_alive() and not loaded
    reader.join(timeout=30)
    assert loaded and loaded[0] is not None


def test_the_feature_index_saves_only_while_holding_the_directory_lock(
    banks: BankRepository, tmp_path: Path
) -> None:
    from safestream.media.features.bank import STATE_FILE as FEATURE_STATE
    from safestream.media.features.bank import FeatureBank

    directory = tmp_path / "features"
    features = FeatureBank.open(banks, directory)
    add(banks, random_hashes(7, 1))  # any logged change moves the saved position
    state_before = (directory / FEATURE_STATE).read_text()
    with directory_lock(directory):
        saver = threading.Thread(target=features.refresh)
        saver.start()
        time.sleep(0.5)
        assert saver.is_alive()
        assert (directory / FEATURE_STATE).read_text() == state_before
    saver.join(timeout=30)
    assert (directory / FEATURE_STATE).read_text() != state_before
