"""API keys looked up in the store with a short per-process cache, for every server that takes them.

Lookups are cached for a second per process, so a server does not query keys on every request (one
query a second per key and process); a key revoked or rotated by `safestream apikey` is refused by
every server process (the API's and the live workers') within `KEY_CACHE_SECONDS`, wherever the
command ran. While the store does not answer, a key looked up before keeps its last answer
(nothing can be revoked meanwhile); a key never seen raises the store's retryable error.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from threading import Lock
from typing import Generic, TypeVar

from safestream.store.access import Organisation, hash_api_key, org_for_api_key
from safestream.store.database import Database
from safestream.store.faults import store_failure

KEY_CACHE_SECONDS = 1.0
MISS = object()
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class StoreAnswers(Generic[K, V]):
    """The store's answers to one kind of question, kept `ttl` seconds in this process.

    While the store does not answer, a question asked before keeps its last answer; a question
    never asked raises the store's retryable error. At most `limit` answers are kept (questions
    from a scanner, such as unknown keys, must not grow it forever)."""

    def __init__(self, ttl: float, limit: int = 10_000) -> None:
        self.ttl = ttl
        self.limit = limit
        self._lock = Lock()
        self._entries: dict[K, tuple[V, float]] = {}

    def cached(self, key: K) -> V | object:
        """The fresh answer for `key`, or `MISS` when the store must be asked."""
        hit = self._entries.get(key)
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        return MISS

    def get(self, key: K, ask: Callable[[], V]) -> V:
        """The answer for `key`: kept, or asked of the store with `ask` and kept."""
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(key)
        if hit is not None and hit[1] > now:
            return hit[0]
        try:
            answer = ask()
        except Exception as exc:  # the driver's own errors too: only the store is asked here
            if hit is not None:
                return hit[0]
            raise store_failure(exc, "the request", "retry later") from exc
        with self._lock:
            if len(self._entries) > self.limit:
                self._entries.clear()
            self._entries[key] = (answer, now + self.ttl)
        return answer


class ApiKeyCache:
    """Maps API keys (by hash) to organisations for a short time."""

    def __init__(self, db: Database, ttl: float = KEY_CACHE_SECONDS) -> None:
        self.db = db
        self.ttl = ttl
        self._answers: StoreAnswers[str, Organisation | None] = StoreAnswers(ttl)

    def cached(self, key: str) -> Organisation | object | None:
        """The cached answer for a key, or `MISS` when it must be looked up."""
        return self._answers.cached(hash_api_key(key))

    def lookup(self, key: str) -> Organisation | None:
        """The organisation of a key, or None if the key is unknown or revoked."""
        return self._answers.get(hash_api_key(key), lambda: org_for_api_key(self.db, key))
