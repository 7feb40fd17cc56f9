"""Flood prevention and reviewers' decisions reach peers' entries matched through the banks.

A peer's hash entries are matched by the media matcher through the banks a pull syncs
(`x.<peer>.<collection>`). Whatever matches them (`match`, the HTTP match and lookup routes,
intake's attachment matching, the live monitor, retroactive matching) goes through the
`Matcher`, which asks the safety screen about every hit on a peer's entry: a quarantined,
disabled or flooding entry raises nothing until a reviewer confirms or enables it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from safestream.core.shared_signals import SharedSignal, SignalKind
from safestream.exchange.bank_sync import sync_peer_banks
from safestream.exchange.identity import Identity
from safestream.exchange.safety import SignalScreen
from safestream.media.bank_index import BankIndex
from safestream.media.matching import FrameVariants, Matcher
from safestream.media.retro import RetroMatcher
from safestream.reports.intake import DetectorSink
from safestream.store import Database
from safestream.store.banks import BankRepository, NewEntry
from safestream.store.exchange.peers import PeerRegistry
from safestream.store.exchange.shared_signals import SignalStore
from safestream.store.exchange.signal_entries import SignalEntries
from safestream.store.models.exchange import SharedSignalRow
from safestream.store.seen_hashes import SeenHash, SeenHashes

PEER = Identity.generate()
PDQ = "f8f8f0cce0f4e84d0e370a22028f67f0b36e2ed596623e1d33e6339c4e9c9b22"
NEAR = "f8f8f0cce0f4e84d0e370a22028f67f0b36e2ed596623e1d33e6339c4e9c9b2d"  # 3 bits away
LIMIT = 3


@pytest.fixture
def db(database: Database) -> Iterator[Database]:
    PeerRegistry(database).add("peer", "http://peer.test", PEER.public_text, flood_limit=LIMIT)
    SignalStore(database).apply(
        PEER.key_id,
        [SharedSignal(SignalKind.PDQ, PDQ, label="a1", seq=1, collection="theirs")],
        1,
    )
    sync_peer_banks(database, "peer", PEER.key_id)
    yield database


def _matcher(db: Database, tmp_path: Path) -> Matcher:
    banks = BankRepository(db)
    return Matcher(banks, BankIndex.open(banks, tmp_path / "index"))


def _match(matcher: Matcher, item: str, value: str = PDQ) -> list[str]:
    (found,) = matcher.match_variants([FrameVariants({"original": value}, 100, item=item)])
    return [m.bank for m in found]


def _state(db: Database) -> str:
    with db.session() as s:
        return str(s.scalar(select(SharedSignalRow.state)))


def _signal_id(db: Database) -> int:
    with db.session() as s:
        return int(s.scalar(select(SharedSignalRow.id)) or 0)


def test_a_quarantined_peer_entry_matches_nothing_through_the_media_matcher(
    db: Database, tmp_path: Path
) -> None:
    matcher = _matcher(db, tmp_path)
    assert _match(matcher, "upload-a") == ["x.peer.theirs"]
    screen = SignalScreen(db)
    for i in range(LIMIT + 1):  # exact lookups elsewhere trip the flood limit
        screen.lookup("pdq", PDQ, f"item-{i}")
    assert _state(db) == "quarantined"
    # The peer's bank still holds the entry until the next sync: the matcher must ask.
    assert _match(matcher, "upload-b") == []
    assert _match(_matcher(db, tmp_path), "upload-a") == []


def test_a_peer_entry_matching_more_items_than_its_limit_in_the_matcher_is_quarantined(
    db: Database, tmp_path: Path
) -> None:
    matcher = _matcher(db, tmp_path)
    for i in range(LIMIT):
        assert _match(matcher, f"upload-{i}") == ["x.peer.theirs"]
    assert _match(matcher, "upload-3") == []
    assert _state(db) == "quarantined"
    assert _match(matcher, "upload-0") == []


def test_the_same_item_matched_again_is_not_a_flood(db: Database, tmp_path: Path) -> None:
    matcher = _matcher(db, tmp_path)
    for _ in range(LIMIT * 3):
        assert _match(matcher, "stream:abc") == ["x.peer.theirs"]
    assert _state(db) == "active"


def test_hash_lookups_without_an_item_count_each_hash_as_one(db: Database, tmp_path: Path) -> None:
    matcher = _matcher(db, tmp_path)
    near = [PDQ[:-1] + c for c in "0123"]  # four different hashes within the threshold
    found = [matcher.match_hash(h) for h in near]
    assert [len(f) for f in found] == [1, 1, 1, 0]
    assert _state(db) == "quarantined"


def test_a_confirmed_entry_matches_again_and_is_no_longer_counted(
    db: Database, tmp_path: Path
) -> None:
    matcher = _matcher(db, tmp_path)
    for i in range(LIMIT + 1):
        _match(matcher, f"upload-{i}")
    assert _state(db) == "quarantined"
    SignalEntries(db).give_feedback(_signal_id(db), "confirm", actor="rev", reason="checked")
    assert _state(db) == "active"
    for i in range(LIMIT * 2):
        assert _match(matcher, f"later-{i}") == ["x.peer.theirs"]
    assert _state(db) == "active"


def test_a_deconfirmed_entry_is_disabled_here_with_the_reason(db: Database, tmp_path: Path) -> None:
    matcher = _matcher(db, tmp_path)
    SignalEntries(db).give_feedback(_signal_id(db), "deconfirm", actor="rev", reason="a meme")
    assert _state(db) == "disabled"
    assert _match(matcher, "upload-1") == []


def test_a_disabled_peer_entry_matches_nothing_before_the_next_sync(
    db: Database, tmp_path: Path
) -> None:
    matcher = _matcher(db, tmp_path)
    SignalEntries(db).set_state(_signal_id(db), "disabled", actor="rev", reason="too broad")
    assert _match(matcher, "upload-1") == []


def test_local_banks_are_never_flood_counted(db: Database, tmp_path: Path) -> None:
    banks = BankRepository(db)
    banks.create("ours")
    banks.add_entries("ours", [NewEntry("pdq", "0f" * 32, "A1")])
    matcher = _matcher(db, tmp_path)
    for i in range(LIMIT * 3):
        assert _match(matcher, f"upload-{i}", "0f" * 32) == ["ours"]


def test_exact_peer_entries_are_screened_too(db: Database, tmp_path: Path) -> None:
    sha = "ab" * 32
    SignalStore(db).apply(
        PEER.key_id, [SharedSignal(SignalKind.SHA256, sha, seq=2, collection="theirs")], 2
    )
    sync_peer_banks(db, "peer", PEER.key_id)
    matcher = _matcher(db, tmp_path)
    assert [m.bank for m in matcher.exact_matches("", sha)] == ["x.peer.theirs"]
    with db.session() as s:
        row = s.scalars(select(SharedSignalRow).where(SharedSignalRow.value == sha)).one()
    SignalEntries(db).set_state(row.id, "disabled", actor="rev", reason="not ours to act on")
    assert matcher.exact_matches("", sha) == []


def test_retroactive_matching_of_a_peer_entry_stops_at_its_flood_limit(
    db: Database,
) -> None:
    now = datetime.now(UTC)
    seen = [SeenHash("upload", f"{i:064x}", NEAR, now - timedelta(hours=1)) for i in range(6)]
    from safestream.core.principal import Principal

    SeenHashes(db).record(Principal.system("test"), seen)
    retro = RetroMatcher(db, timedelta(days=30), DetectorSink(db, detector="retro"))
    entries = list(BankRepository(db).iter_entries("x.peer.theirs"))
    assert len(retro.match(entries)) == LIMIT
    assert _state(db) == "quarantined"
