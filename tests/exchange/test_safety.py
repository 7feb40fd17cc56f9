"""Safety for signals from others: negatives win, floods quarantine, reviewers decide."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from safestream.core.errors import InvalidInput
from safestream.core.principal import Principal
from safestream.core.shared_signals import NewSignal, SharedSignal, SignalKind
from safestream.exchange.identity import Identity
from safestream.exchange.safety import SignalScreen
from safestream.store import Database
from safestream.store.banks import BankRepository, NewEntry
from safestream.store.exchange.peers import PeerRegistry
from safestream.store.exchange.shared_signals import SignalStore
from safestream.store.exchange.signal_entries import SignalEntries

PEER = Identity.generate()
PDQ = "e" * 64
SYSTEM = Principal.system("test")
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def db(database: Database) -> Iterator[Database]:
    PeerRegistry(database).add("peer", "http://peer.test", PEER.public_text, flood_limit=3)
    yield database


def _receive(db: Database, *signals: SharedSignal) -> None:
    SignalStore(db).apply(PEER.key_id, list(signals), max(s.seq for s in signals))


def _entry(kind: SignalKind, value: str, seq: int = 1, **extra: object) -> SharedSignal:
    return SharedSignal(kind, value, seq=seq, collection="theirs", **extra)  # type: ignore[arg-type]


def test_a_local_negative_entry_wins_over_a_peers_positive(db: Database) -> None:
    _receive(db, _entry(SignalKind.URL, "http://meme.example/"))
    SignalStore(db).publish(
        "allow", [NewSignal("url", "meme.example/", label="benign")], principal=SYSTEM
    )
    found = SignalScreen(db).lookup("url", "http://meme.example/", "item-1", now=NOW)
    assert found.matches == [] and found.suppressed_by_negative


def test_a_negative_bank_wins_over_a_peers_hash(db: Database) -> None:
    _receive(db, _entry(SignalKind.PDQ, PDQ))
    banks = BankRepository(db)
    banks.create("test-cards", negative=True)
    banks.add_entries("test-cards", [NewEntry("pdq", PDQ, label="benign")])
    assert SignalScreen(db).lookup("pdq", PDQ, "item-1", now=NOW).suppressed_by_negative


def test_an_entry_matching_more_items_than_its_limit_in_an_hour_is_quarantined(
    db: Database,
) -> None:
    _receive(db, _entry(SignalKind.KEYWORD, "flood"))
    screen = SignalScreen(db)
    for i in range(3):
        assert screen.lookup("keyword", "flood", f"item-{i}", now=NOW).matches
    tripped = screen.lookup("keyword", "flood", "item-3", now=NOW)
    assert tripped.matches == [] and tripped.quarantined
    assert screen.lookup("keyword", "flood", "item-0", now=NOW).matches == []


def test_the_same_item_seen_again_does_not_count_as_a_flood(db: Database) -> None:
    _receive(db, _entry(SignalKind.KEYWORD, "repeat"))
    screen = SignalScreen(db)
    for _ in range(10):
        assert screen.lookup("keyword", "repeat", "same-item", now=NOW).matches


def test_hits_older_than_an_hour_do_not_count(db: Database) -> None:
    _receive(db, _entry(SignalKind.KEYWORD, "slow"))
    screen = SignalScreen(db)
    for i in range(6):
        at = NOW + timedelta(minutes=25 * i)
        assert screen.lookup("keyword", "slow", f"item-{i}", now=at).matches


def test_a_disabled_entry_matches_nothing_until_enabled_and_needs_a_reason(db: Database) -> None:
    _receive(db, _entry(SignalKind.KEYWORD, "word"))
    screen, entries = SignalScreen(db), SignalEntries(db)
    (match,) = screen.lookup("keyword", "word", "i", now=NOW).matches
    with pytest.raises(InvalidInput):
        entries.set_state(match.signal_id, "disabled", actor="rev", reason=" ")
    entries.set_state(match.signal_id, "disabled", actor="rev", reason="too broad for us")
    assert screen.lookup("keyword", "word", "i", now=NOW).matches == []
    entries.set_state(match.signal_id, "active", actor="rev", reason="")
    assert screen.lookup("keyword", "word", "i", now=NOW).matches


def test_confirm_and_deconfirm_are_exported_for_the_list_owner(db: Database) -> None:
    _receive(db, _entry(SignalKind.KEYWORD, "a"), _entry(SignalKind.KEYWORD, "b", seq=2))
    screen = SignalScreen(db)
    (a,) = screen.lookup("keyword", "a", "i", now=NOW).matches
    (b,) = screen.lookup("keyword", "b", "i", now=NOW).matches
    SignalEntries(db).give_feedback(a.signal_id, "confirm", actor="rev")
    SignalEntries(db).give_feedback(b.signal_id, "deconfirm", actor="rev", reason="a stock photo")
    lines = screen.feedback_export(PEER.key_id).splitlines()
    assert len(lines) == 2 and '"verdict":"deconfirm"' in lines[1] and "stock photo" in lines[1]


def test_an_expired_entry_no_longer_matches(db: Database) -> None:
    _receive(db, _entry(SignalKind.KEYWORD, "old", expires_at=NOW - timedelta(days=1)))
    assert SignalScreen(db).lookup("keyword", "old", "i", now=NOW).matches == []


def test_published_changes_read_back_and_apply_on_each_store(db: Database) -> None:
    store = SignalStore(db)
    store.publish("ours", [NewSignal("keyword", f"w{i}") for i in range(5)], principal=SYSTEM)
    store.withdraw("ours", "keyword", "w0", principal=SYSTEM)
    signals, checkpoint, more = store.changes(0, 3, ["ours"])
    assert [s.value for s in signals] == ["w1", "w2", "w3"] and more
    rest, last, more = store.changes(checkpoint, 10, ["ours"])
    # w0 was withdrawn after w4 was added: its tombstone is the newest change.
    assert [(s.value, s.deleted) for s in rest] == [("w4", False), ("w0", True)]
    assert not more
    store.apply(PEER.key_id, [*signals, *rest], last)
    assert SignalStore(db).count(PEER.key_id) == 4
    assert PeerRegistry(db).get("peer").checkpoint == last
