"""Bank repository behaviour on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from safestream.core.banks import Classification
from safestream.core.errors import BankNotFound, Conflict, EntryNotFound, InvalidInput
from safestream.store import Database
from safestream.store.banks import BankRepository, NewEntry

CAT = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
ROCKET = "0" * 32 + "f" * 32


@pytest.fixture
def banks(database: Database) -> BankRepository:
    return BankRepository(database)


def test_created_bank_is_listed_with_its_settings(banks: BankRepository) -> None:
    banks.create("known", threshold=20, source="hotline")
    (bank,) = banks.list_banks()
    assert (bank.name, bank.threshold, bank.source) == ("known", 20, "hotline")
    assert not bank.negative


def test_creating_a_bank_twice_is_a_conflict(banks: BankRepository) -> None:
    banks.create("known")
    with pytest.raises(Conflict):
        banks.create("known")


def test_bank_name_with_spaces_is_rejected(banks: BankRepository) -> None:
    with pytest.raises(InvalidInput):
        banks.create("my bank")


def test_adding_to_a_missing_bank_names_it(banks: BankRepository) -> None:
    with pytest.raises(BankNotFound, match="nope"):
        banks.add_entries("nope", [NewEntry("pdq", CAT)])


def test_added_entries_are_normalised_and_counted(banks: BankRepository) -> None:
    banks.create("known")
    banks.add_entries("known", [NewEntry("pdq", CAT.upper(), label="a2"), NewEntry("pdq", ROCKET)])
    entries = list(banks.iter_entries("known"))
    assert [e.value for e in entries] == [CAT, ROCKET]
    assert entries[0].label is Classification.A2
    assert banks.get("known").entry_count == 2


def test_adding_the_same_hash_again_keeps_one_entry(banks: BankRepository) -> None:
    banks.create("known")
    first = banks.add_entries("known", [NewEntry("pdq", CAT)])
    again = banks.add_entries("known", [NewEntry("pdq", CAT), NewEntry("pdq", CAT)])
    assert again == first * 2
    assert banks.get("known").entry_count == 1


def test_invalid_hash_rejects_the_whole_batch(banks: BankRepository) -> None:
    banks.create("known")
    with pytest.raises(InvalidInput):
        banks.add_entries("known", [NewEntry("pdq", CAT), NewEntry("pdq", "xyz")])
    assert banks.get("known").entry_count == 0


def test_removed_entry_is_gone_and_logged(banks: BankRepository) -> None:
    banks.create("known")
    (entry_id,) = banks.add_entries("known", [NewEntry("pdq", CAT)])
    banks.remove_entry("known", entry_id)
    assert list(banks.iter_entries("known")) == []
    assert [(c.op, c.entry_id) for c in banks.changes_since(0)] == [
        ("add", entry_id),
        ("remove", entry_id),
    ]


def test_removing_an_entry_of_another_bank_is_not_found(banks: BankRepository) -> None:
    banks.create("a")
    banks.create("b")
    (entry_id,) = banks.add_entries("a", [NewEntry("pdq", CAT)])
    with pytest.raises(EntryNotFound):
        banks.remove_entry("b", entry_id)


def test_deleting_a_bank_logs_removal_of_its_entries(banks: BankRepository) -> None:
    banks.create("known")
    md5 = "d41d8cd98f00b204e9800998ecf8427e"
    banks.add_entries("known", [NewEntry("pdq", CAT), NewEntry("md5", md5)])
    assert banks.delete("known") == 2
    assert [c.op for c in banks.changes_since(2)] == ["remove", "remove"]
    assert banks.list_banks() == []


def test_exact_lookup_finds_md5_entries(banks: BankRepository) -> None:
    banks.create("known")
    banks.add_entries("known", [NewEntry("md5", "D41D8CD98F00B204E9800998ECF8427E")])
    ((entry, bank),) = banks.find_exact("md5", "d41d8cd98f00b204e9800998ecf8427e")
    assert bank.name == "known" and entry.signal_type == "md5"


def test_exact_lookup_of_several_signals_answers_in_the_order_asked(banks: BankRepository) -> None:
    md5, sha256 = "d41d8cd98f00b204e9800998ecf8427e", "e3b0c442" + "98fc1c14" * 7
    banks.create("first")
    banks.create("second")
    banks.add_entries("first", [NewEntry("sha256", sha256), NewEntry("md5", md5)])
    banks.add_entries("second", [NewEntry("md5", md5)])
    found = banks.find_exact_any([("md5", md5), ("sha256", sha256), ("md5", "")])
    assert [(e.signal_type, b.name) for e, b in found] == [
        ("md5", "first"),
        ("md5", "second"),
        ("sha256", "first"),
    ]
    one_by_one = banks.find_exact("md5", md5) + banks.find_exact("sha256", sha256)
    assert [e.id for e, _ in found] == [e.id for e, _ in one_by_one]
    assert banks.find_exact_any([("md5", "0" * 32)]) == banks.find_exact_any([]) == []


def test_large_batch_is_added_in_one_call(banks: BankRepository) -> None:
    banks.create("big")
    values = [f"{i:064x}" for i in range(5000)]
    ids = banks.add_entries("big", [NewEntry("pdq", v) for v in values])
    assert len(set(ids)) == 5000
    assert sum(len(b) for b in banks.iter_live_pdq(batch=1000)) == 5000
