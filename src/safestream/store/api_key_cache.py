"""API keys looked up in the store with a short per-process cache, for every server that takes them.

Lookups are cached for a second per process, so a server does not query keys on every request (one
query a second per key and process); a key revoked or rotated by `safestream apikey` is refused by
every server process (the API's and the live workers') within `KEY_CACHE_SECONDS`, wherever the
command ran. While the store does not answer, a key looked up before keeps its last answer
(nothing can be revoked meanwhile); a key never seen raises the store's retryable error.
"""

from __future__ import annotations

import time
from threading import Lock

from safestream.store.access import Organisation, hash_api_key, org_for_api_key
from safestream.store.database import Database
from safestream.store.faults import store_failure

KEY_CACHE_SECONDS = 1.0
MISS = object()


class ApiKeyCache:
    """Maps API keys (by hash) to organisations for a short time."""

    def __init__(self, db: Database, ttl: float = KEY_CACHE_SECONDS) -> None:
        self.db = db
        self.ttl = ttl
        self._lock = Lock()
        self._entries: dict[str, tuple[Organisation | None, float]] = {}

    def cached(self, key: str) -> Organisation | object | None:
        """The cached answer for a key, or `MISS` when it must be looked up."""
        hit = self._entries.get(hash_api_key(key))
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        return MISS

    def lookup(self, key: str) -> Organisation | None:
        """The organisation of a key, or None if the key is unknown or revoked."""
        digest = hash_api_key(key)
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(digest)
        if hit is not None and hit[1] > now:
            return hit[0]
        try:
            org = org_for_api_key(self.db, key)
        except Exception as exc:  # the driver's own errors too: only the store is asked here
            if hit is not None:
                return hit[0]
            raise store_failure(exc, "the request", "retry later") from exc
        with self._lock:
            if len(self._entries) > 10_000:  # unknown keys from a scanner must not grow it forever
                self._entries.clear()
            self._entries[digest] = (org, now + self.ttl)
        return org
