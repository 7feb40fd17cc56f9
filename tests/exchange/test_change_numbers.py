"""Change numbers under concurrent publishers: unique, none lost, and never seen out of order.

A puller keeps only its last change number, so a change committed with a number below one it has
already read would never reach it. Publishers and withdrawals running at once must therefore get
distinct numbers, every change must be stored, and numbers must become visible in order.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from alembic import command
from sqlalchemy import text

from safestream.core.principal import Principal
from safestream.core.shared_signals import NewSignal
from safestream.store import Database
from safestream.store.database import alembic_config
from safestream.store.exchange.shared_signals import SignalStore

PUBLISHERS = 4
ROUNDS = 12
PER_ROUND = 5
SYSTEM = Principal.system("test")


def _value(publisher: int, round_: int, i: int) -> str:
    return f"word {publisher}-{round_}-{i}"


def _run_all(workers: list[Callable[[], None]]) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(len(workers))

    def run(work: Callable[[], None]) -> None:
        try:
            start.wait()
            work()
        except BaseException as exc:  # collected for the assertion, not swallowed
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return errors


def _publisher(store: SignalStore, publisher: int) -> Callable[[], None]:
    def work() -> None:
        for r in range(ROUNDS):
            batch = [NewSignal("keyword", _value(publisher, r, i)) for i in range(PER_ROUND)]
            store.publish("c", batch, principal=SYSTEM)

    return work


def test_concurrent_publishers_get_distinct_change_numbers_and_lose_nothing(
    database: Database,
) -> None:
    store = SignalStore(database)
    errors = _run_all([_publisher(store, p) for p in range(PUBLISHERS)])
    assert errors == []
    signals, checkpoint, more = store.changes(0, 10_000, ["c"])
    numbers = [s.seq for s in signals]
    total = PUBLISHERS * ROUNDS * PER_ROUND
    assert (len(signals), more) == (total, False)
    assert sorted(numbers) == list(range(1, total + 1))
    assert checkpoint == total


def test_a_withdrawal_racing_publishers_gets_its_own_change_number(database: Database) -> None:
    store = SignalStore(database)
    targets = [f"old {i}" for i in range(20)]
    store.publish("c", [NewSignal("keyword", t) for t in targets], principal=SYSTEM)

    def withdraw_all() -> None:
        for t in targets:
            store.withdraw("c", "keyword", t, principal=SYSTEM)

    errors = _run_all([withdraw_all, *(_publisher(store, p) for p in range(2))])
    assert errors == []
    everything = store.entries("local", "c")
    assert sum(s.deleted for s in everything) == len(targets)
    seqs = [s.seq for s in everything]
    assert len(seqs) == len(set(seqs))


def test_a_puller_reading_while_others_publish_misses_no_change(database: Database) -> None:
    store = SignalStore(database)
    received: set[str] = set()
    done = threading.Event()

    def puller() -> None:
        checkpoint = 0
        while True:
            finished = done.is_set()  # read before the page: a last page after all commits
            signals, checkpoint, _ = store.changes(checkpoint, 7, ["c"])
            received.update(s.value for s in signals)
            if finished and not signals:
                return

    reader = threading.Thread(target=puller)
    reader.start()
    errors = _run_all([_publisher(store, p) for p in range(PUBLISHERS)])
    done.set()
    reader.join(timeout=120)
    assert errors == []
    expected = {
        _value(p, r, i) for p in range(PUBLISHERS) for r in range(ROUNDS) for i in range(PER_ROUND)
    }
    assert received == expected


def test_an_upgraded_store_carries_on_from_the_numbers_it_had_given(database_url: str) -> None:
    db = Database(database_url)
    command.upgrade(alembic_config(db.engine), "0032_exchange_indexes")
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO exchange_signals (publisher, collection, kind, value, label, tags,"
                " source, added_at, deleted, negative, seq, state, state_reason) VALUES ('local',"
                " 'c', 'keyword', 'before', 'unclassified', '[]', '', CURRENT_TIMESTAMP, false,"
                " false, 41, 'active', '')"
            )
        )
    db.migrate()
    SignalStore(db).publish("c", [NewSignal("keyword", "after")], principal=SYSTEM)
    assert [(s.value, s.seq) for s in SignalStore(db).entries("local")] == [
        ("before", 41),
        ("after", 42),
    ]
    db.dispose()
