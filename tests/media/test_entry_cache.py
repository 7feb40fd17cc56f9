"""A server's matchers share the entries they found until the banks change."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from safestream.core.banks import Bank, BankEntry
from safestream.media.bank_index import BankIndex
from safestream.media.entry_cache import EntryCache
from safestream.media.matching import Matcher
from safestream.store.banks import BankRepository, NewEntry
from tests.media.test_matching import CAT, flipped


class CountingLoads:
    """`entries_by_id` that counts the ids asked for."""

    def __init__(self, banks: BankRepository) -> None:
        self.load = banks.entries_by_id
        self.asked: list[int] = []

    def __call__(self, ids: Sequence[int]) -> dict[int, tuple[BankEntry, Bank]]:
        self.asked += ids
        return self.load(ids)


def test_matchers_sharing_a_cache_load_an_entry_once(
    banks: BankRepository, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    banks.create("known")
    banks.add_entries("known", [NewEntry("pdq", CAT, label="A1")])
    loads = CountingLoads(banks)
    monkeypatch.setattr(banks, "entries_by_id", loads)
    index, cache = BankIndex.open(banks, tmp_path / "index"), EntryCache()
    for _ in range(3):
        (match,) = Matcher(banks, index, entry_cache=cache).match_hash(flipped(CAT, 3))
        assert match.label.value == "A1"
    assert len(loads.asked) == 1


def test_a_removed_entry_whose_id_is_reused_is_not_served_from_the_cache(
    banks: BankRepository, tmp_path: Path
) -> None:
    banks.create("known")
    (first,) = banks.add_entries("known", [NewEntry("pdq", CAT, label="A1")])
    index, cache = BankIndex.open(banks, tmp_path / "index"), EntryCache()
    assert Matcher(banks, index, entry_cache=cache).match_hash(CAT)[0].label.value == "A1"
    banks.remove_entry("known", first)
    banks.add_entries("known", [NewEntry("pdq", CAT, label="B1")])
    index.refresh()
    (match,) = Matcher(banks, index, entry_cache=cache).match_hash(CAT)
    assert match.label.value == "B1"


def test_a_recreated_bank_s_rules_apply_to_its_entries(
    banks: BankRepository, tmp_path: Path
) -> None:
    banks.create("known", threshold=31)
    banks.add_entries("known", [NewEntry("pdq", CAT)])
    index, cache = BankIndex.open(banks, tmp_path / "index"), EntryCache()
    assert Matcher(banks, index, entry_cache=cache).match_hash(flipped(CAT, 20))
    banks.delete("known")
    banks.create("known", threshold=10)
    banks.add_entries("known", [NewEntry("pdq", CAT)])
    index.refresh()
    assert Matcher(banks, index, entry_cache=cache).match_hash(flipped(CAT, 20)) == []


def test_the_cache_empties_when_the_change_number_moves() -> None:
    cache, asked = EntryCache(), []

    def load(ids: list[int]) -> dict[int, tuple[BankEntry, Bank]]:
        asked.append(list(ids))
        return {i: (BankEntry(i, "known", "pdq", CAT), Bank(1, "known")) for i in ids}

    cache.entries([1, 2], seq=5, load=load)
    cache.entries([1, 2], seq=5, load=load)
    cache.entries([2], seq=6, load=load)
    assert asked == [[1, 2], [2]]
