"""Login throttling per account and per client address, and a bound on concurrent Argon2 checks.

Each password check costs Argon2id's 64 MiB; without a bound, 64 parallel wrong guesses took the
server from 357 to 1,198 MiB. With 2 at once they take it from 333 to 468 MiB
(`bench/bench_login_memory.py`; 596 MiB with 4). The bound is per process, as the memory is.

Attempts are counted in the store (`store.login_attempts`), so every worker process of
`serve --workers N`, and every server on the same store, throttles one count: N processes do not
give an attacker N times the attempts. An attempt is counted before its password is checked and
taken back when the password is right, so guesses still hashing count as well.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from safestream.store.base import utcnow
from safestream.store.database import Database
from safestream.store.login_attempts import Limit, admit, take_back


@dataclass(frozen=True)
class Attempt:
    """One counted login attempt; `wait` > 0 means it was refused (and not counted)."""

    account: str
    ids: tuple[int, ...]
    wait: float

    @property
    def refused(self) -> bool:
        """Whether the caller must wait before trying again."""
        return self.wait > 0


class LoginThrottle:
    """Counts login attempts in the store; `admit` says whether one may go ahead."""

    ACCOUNT_FAILURES = 5
    ADDRESS_FAILURES = 20
    WINDOW_SECONDS = 900.0
    CONCURRENT_HASHES = 2  # 2 x 64 MiB over a ~330 MiB worker stays under 500 MiB

    def __init__(
        self,
        db: Database,
        *,
        concurrent_hashes: int = CONCURRENT_HASHES,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self._clock = clock
        self._window = timedelta(seconds=self.WINDOW_SECONDS)
        self._hashing = threading.BoundedSemaphore(concurrent_hashes)

    def admit(self, account: str, address: str) -> Attempt:
        """Count an attempt for this account and address, or refuse it while either is at its
        limit (the wait in seconds; even a right password waits)."""
        limits = (
            Limit(f"account:{account}", self.ACCOUNT_FAILURES),
            Limit(f"address:{address}", self.ADDRESS_FAILURES),
        )
        ids, wait = admit(self.db, limits, self._clock(), self._window)
        return Attempt(account, ids, wait)

    def succeeded(self, attempt: Attempt) -> None:
        """A right password: the attempt is taken back and the account's count cleared (the
        address keeps its other attempts)."""
        take_back(self.db, attempt.ids, clear=f"account:{attempt.account}")

    def unchecked(self, attempt: Attempt) -> None:
        """The password was never checked (the form was refused first): take the attempt back."""
        take_back(self.db, attempt.ids)

    @contextmanager
    def hashing(self) -> Iterator[None]:
        """Hold one of the few slots for an Argon2 check; other callers wait their turn."""
        with self._hashing:
            yield
