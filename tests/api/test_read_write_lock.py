"""The index's readers-writer lock: lookups share it, a refresh has it alone and is not starved."""

from __future__ import annotations

import threading

from safestream.api.read_write_lock import ReadWriteLock

WAIT = 5.0


def _hold(lock: ReadWriteLock, write: bool, entered: threading.Event, leave: threading.Event):
    def run() -> None:
        with lock.writing() if write else lock.reading():
            entered.set()
            leave.wait(WAIT)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_two_readers_hold_the_lock_at_once() -> None:
    lock = ReadWriteLock()
    first, second, leave = threading.Event(), threading.Event(), threading.Event()
    threads = [_hold(lock, False, first, leave), _hold(lock, False, second, leave)]
    assert first.wait(WAIT) and second.wait(WAIT)
    leave.set()
    for t in threads:
        t.join(WAIT)


def test_a_writer_waits_for_the_readers_already_in() -> None:
    lock = ReadWriteLock()
    reading, writing, leave_read, leave_write = (threading.Event() for _ in range(4))
    reader = _hold(lock, False, reading, leave_read)
    assert reading.wait(WAIT)
    writer = _hold(lock, True, writing, leave_write)
    assert not writing.wait(0.2)
    leave_read.set()
    assert writing.wait(WAIT)
    leave_write.set()
    for t in (reader, writer):
        t.join(WAIT)


def test_a_waiting_writer_holds_off_new_readers() -> None:
    lock = ReadWriteLock()
    first, writing, late, leave_first, leave_write, leave_late = (
        threading.Event() for _ in range(6)
    )
    reader = _hold(lock, False, first, leave_first)
    assert first.wait(WAIT)
    writer = _hold(lock, True, writing, leave_write)
    assert not writing.wait(0.2)
    late_reader = _hold(lock, False, late, leave_late)
    assert not late.wait(0.2)
    leave_first.set()
    assert writing.wait(WAIT) and not late.is_set()
    leave_write.set()
    assert late.wait(WAIT)
    leave_late.set()
    for t in (reader, writer, late_reader):
        t.join(WAIT)
