"""Login throttling per account and per client address, and a bound on concurrent Argon2 checks.

Each password check costs Argon2id's 64 MiB; without a bound, 64 parallel wrong guesses took the
server from 357 to 1,198 MiB. With 2 at once they take it from 333 to 468 MiB
(`bench/bench_login_memory.py`; 596 MiB with 4). Failures are counted in a sliding window in
this process (a multi-worker deployment counts per worker, so the limits are per worker).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class LoginThrottle:
    """Counts failed logins; `retry_after` says how long a caller must wait (0 = may try)."""

    ACCOUNT_FAILURES = 5
    ADDRESS_FAILURES = 20
    WINDOW_SECONDS = 900.0
    CONCURRENT_HASHES = 2  # 2 x 64 MiB over a ~330 MiB worker stays under 500 MiB

    def __init__(
        self,
        *,
        concurrent_hashes: int = CONCURRENT_HASHES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._accounts: dict[str, deque[float]] = {}
        self._addresses: dict[str, deque[float]] = {}
        self._hashing = threading.BoundedSemaphore(concurrent_hashes)

    def _recent(self, table: dict[str, deque[float]], key: str, now: float) -> deque[float]:
        times = table.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.WINDOW_SECONDS:
            times.popleft()
        if not times:
            del table[key]
        return times

    def retry_after(self, account: str, address: str) -> float:
        """Seconds until this account and address may try again; 0 when they may now."""
        now = self._clock()
        with self._lock:
            waits = [0.0]
            for table, key, limit in (
                (self._accounts, account, self.ACCOUNT_FAILURES),
                (self._addresses, address, self.ADDRESS_FAILURES),
            ):
                times = self._recent(table, key, now)
                if len(times) >= limit:
                    waits.append(times[-limit] + self.WINDOW_SECONDS - now)
            return max(waits)

    def failed(self, account: str, address: str) -> None:
        """Count a failed attempt against both the account and the address."""
        now = self._clock()
        with self._lock:
            for table, key in ((self._accounts, account), (self._addresses, address)):
                # Bounded per key: only the newest `limit` times matter.
                table.setdefault(key, deque(maxlen=self.ADDRESS_FAILURES)).append(now)

    def succeeded(self, account: str) -> None:
        """A right password clears the account's count (not the address's)."""
        with self._lock:
            self._accounts.pop(account, None)

    @contextmanager
    def hashing(self) -> Iterator[None]:
        """Hold one of the few slots for an Argon2 check; other callers wait their turn."""
        with self._hashing:
            yield
