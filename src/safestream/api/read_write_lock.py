"""A readers-writer lock: lookups share the index, a refresh changing it waits for them alone.

The index's lookup kernels release the GIL, so lookups in a worker's threads run on several
cores at once; a plain lock would queue every lookup (a 1,000-hash batch included) behind the
one running. A waiting writer holds off new readers, so a refresh is never starved by a steady
stream of lookups.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class ReadWriteLock:
    """Any number of readers at once, or one writer (not reentrant)."""

    def __init__(self) -> None:
        self._changed = threading.Condition(threading.Lock())
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0
        # One reusable context manager: a generator-based one costs more than the lock itself
        # on a lookup path answered thousands of times a second.
        self._reading = _Reading(self)

    def reading(self) -> _Reading:
        """Hold the lock shared (while no writer holds or awaits it): `with lock.reading():`."""
        return self._reading

    def _enter_reading(self) -> None:
        with self._changed:
            while self._writing or self._writers_waiting:
                self._changed.wait()
            self._readers += 1

    def _leave_reading(self) -> None:
        with self._changed:
            self._readers -= 1
            if self._readers == 0:
                self._changed.notify_all()

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the lock alone, once the readers already in have left."""
        with self._changed:
            self._writers_waiting += 1
            try:
                while self._writing or self._readers:
                    self._changed.wait()
            finally:
                self._writers_waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._changed:
                self._writing = False
                self._changed.notify_all()


class _Reading:
    """`with lock.reading():` holds `lock` shared for the block (stateless, so shared)."""

    def __init__(self, lock: ReadWriteLock) -> None:
        self._lock = lock

    def __enter__(self) -> None:
        self._lock._enter_reading()

    def __exit__(self, *exc: object) -> None:
        self._lock._leave_reading()
