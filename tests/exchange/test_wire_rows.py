"""The million-entry paths: store rows to bundle lines and back, losing and bending nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from safestream.core.errors import ExchangeError
from safestream.core.principal import Principal
from safestream.core.shared_signals import NewSignal, SharedSignal, SignalKind
from safestream.exchange.bundle import entry_line, read_bundle, sign_lines, verify_bundle
from safestream.exchange.identity import Identity
from safestream.store import Database
from safestream.store.exchange.peers import PeerRegistry
from safestream.store.exchange.shared_signals import SignalStore

PUBLISHER = Identity.generate()
SYSTEM = Principal.system("test")
EXPIRES = datetime(2031, 1, 1, 12, 30, tzinfo=UTC)


def _publish(db: Database) -> SignalStore:
    store = SignalStore(db)
    store.publish("c", [
        NewSignal("pdq", "F" * 64, label="prepubescent_exhibition", tags=("a", "b"),
                  source="analyst 4", expires_at=EXPIRES),
        NewSignal("url", "HTTP://X.example/a#f"),
        NewSignal("keyword", "ünïcode", negative=True),
        NewSignal("md5", "a" * 32),
    ], principal=SYSTEM)  # fmt: skip
    store.withdraw("c", "md5", "a" * 32, principal=SYSTEM)
    return store


@pytest.mark.parametrize("after", [0, 2])
def test_served_lines_are_the_lines_of_the_entries_they_stand_for(
    database: Database, after: int
) -> None:
    store = _publish(database)
    lines, checkpoint, more = store.change_lines(after, 100, ["c"])
    signals, checkpoint_too, more_too = store.changes(after, 100, ["c"])
    assert lines == [entry_line(s).encode() for s in signals]
    assert (checkpoint, more) == (checkpoint_too, more_too)


def test_a_full_fetch_leaves_tombstones_out_and_an_incremental_one_carries_them(
    database: Database,
) -> None:
    store = _publish(database)
    full, _, _ = store.change_lines(0, 100, ["c"])
    later, _, _ = store.change_lines(4, 100, ["c"])
    assert not any(b'"d":true' in line for line in full)
    assert [b'"d":true' in line for line in later] == [True]


def _received(database: Database, lines: list[bytes], after: int, checkpoint: int) -> SignalStore:
    PeerRegistry(database).add("pub", "http://pub.test", PUBLISHER.public_text)
    data = sign_lines(PUBLISHER, lines, after=after, checkpoint=checkpoint)
    header, body = verify_bundle(data, {PUBLISHER.key_id: PUBLISHER.private_key.public_key()})
    store = SignalStore(database)
    store.apply_bundle(PUBLISHER.key_id, header, body)
    return store


def test_applied_lines_store_every_field_a_signal_carries(database: Database) -> None:
    sent = [
        SharedSignal(SignalKind.PDQ, "e" * 64, "pubescent_exhibition", ("x", "y"), "who",
                     datetime(2026, 1, 1, tzinfo=UTC), EXPIRES, False, 5, "list-1"),
        SharedSignal(SignalKind.URL, "http://x.example/", deleted=True, seq=6, collection="l",
                     added_at=datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=UTC)),
        SharedSignal(SignalKind.KEYWORD, "wörd", negative=True, seq=7, collection="benign",
                     added_at=datetime(2026, 2, 2, tzinfo=UTC)),
    ]  # fmt: skip
    store = _received(database, [entry_line(s).encode() for s in sent], after=4, checkpoint=7)
    assert store.entries(PUBLISHER.key_id) == sent


def test_a_peers_value_in_another_spelling_is_stored_canonical(database: Database) -> None:
    line = b'{"s":1,"k":"pdq","v":"' + b"AB" * 32 + b'","c":"c"}'
    store = _received(database, [line], after=0, checkpoint=1)
    assert [s.value for s in store.entries(PUBLISHER.key_id)] == ["ab" * 32]


@pytest.mark.parametrize(
    ("line", "why"),
    [
        (b'{"s":1,"k":"pdq","v":"not hex","c":"c"}', "unreadable"),
        (b'{"s":1,"k":"telepathy","v":"x","c":"c"}', "unreadable"),
        (b'{"s":9,"k":"keyword","v":"x","c":"c"}', "outside the bundle's change range"),
        (b'["s",1]', "unreadable"),
    ],
)
def test_a_bad_entry_refuses_the_whole_page_and_stores_nothing(
    database: Database, line: bytes, why: str
) -> None:
    good = b'{"s":1,"k":"keyword","v":"fine","c":"c"}'
    with pytest.raises(ExchangeError, match=why):
        _received(database, [good, line], after=0, checkpoint=2)
    assert SignalStore(database).count(PUBLISHER.key_id) == 0
    assert PeerRegistry(database).get("pub").checkpoint == 0


def test_the_fast_and_the_plain_reader_agree_on_a_bundle(database: Database) -> None:
    store = _publish(database)
    lines, checkpoint, _ = store.change_lines(0, 100, ["c"])
    data = sign_lines(PUBLISHER, lines, after=0, checkpoint=checkpoint)
    plain = read_bundle(data, {PUBLISHER.key_id: PUBLISHER.private_key.public_key()})
    received = _received(database, lines, after=0, checkpoint=checkpoint)
    assert [
        (s.kind, s.value, s.label, s.tags, s.expires_at, s.negative) for s in plain.signals
    ] == [
        (s.kind, s.value, s.label, s.tags, s.expires_at, s.negative)
        for s in received.entries(PUBLISHER.key_id)
    ]
