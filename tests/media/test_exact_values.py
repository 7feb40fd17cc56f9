"""A server asks the store for MD5/SHA-256 entries only when a file's digest is in a bank."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from safestream.core.banks import Bank, BankEntry
from safestream.media.bank_index import BankIndex
from safestream.media.exact_values import ExactValues
from safestream.media.matching import Matcher
from safestream.store.banks import BankRepository, NewEntry

MD5 = "9e107d9d372bb6826bd81d3542a419d6"
OTHER_MD5 = "e4d909c290d0fb1ca068ffaddf22cbd0"
SHA256 = "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592"


@pytest.fixture
def banks(banks: BankRepository) -> BankRepository:
    banks.create("known")
    banks.add_entries("known", [NewEntry("md5", MD5, label="A1")])
    return banks


class CountingQueries:
    def __init__(self, banks: BankRepository) -> None:
        self.query = banks.find_exact_any
        self.calls = 0

    def __call__(self, signals: Sequence[tuple[str, str]]) -> list[tuple[BankEntry, Bank]]:
        self.calls += 1
        return self.query(signals)


def _matcher(banks: BankRepository, index: BankIndex, known: ExactValues) -> Matcher:
    return Matcher(banks, index, exact_values=known)


def test_a_file_no_bank_holds_costs_no_query(
    banks: BankRepository, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    queries = CountingQueries(banks)
    monkeypatch.setattr(banks, "find_exact_any", queries)
    index, known = BankIndex.open(banks, tmp_path / "index"), ExactValues(banks)
    assert _matcher(banks, index, known).exact_matches(OTHER_MD5, SHA256) == []
    assert queries.calls == 0
    (match,) = _matcher(banks, index, known).exact_matches(MD5, SHA256)
    assert (match.variant, match.label.value, queries.calls) == ("exact_md5", "A1", 1)


def test_an_entry_added_is_found_once_the_index_has_caught_up(
    banks: BankRepository, tmp_path: Path
) -> None:
    index, known = BankIndex.open(banks, tmp_path / "index"), ExactValues(banks)
    assert _matcher(banks, index, known).exact_matches(OTHER_MD5, "") == []
    banks.add_entries("known", [NewEntry("md5", OTHER_MD5)])
    index.refresh()
    assert [m.entry_hash for m in _matcher(banks, index, known).exact_matches(OTHER_MD5, "")] == [
        OTHER_MD5
    ]


def test_past_its_limit_it_asks_the_store_every_time(
    banks: BankRepository, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    queries = CountingQueries(banks)
    monkeypatch.setattr(banks, "find_exact_any", queries)
    index, known = BankIndex.open(banks, tmp_path / "index"), ExactValues(banks, max_values=0)
    assert _matcher(banks, index, known).exact_matches(OTHER_MD5, SHA256) == []
    assert queries.calls == 1
