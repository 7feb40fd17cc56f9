"""A small per-client rate limit for the unauthenticated-ish panic endpoint (publishable keys).

Sliding window per client address, in process memory: enough to stop one page from flooding a
server with panic reports; a deployment behind a proxy adds its own limits in front.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class RateLimiter:
    """At most `limit` events per `window` seconds per key."""

    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Count one event for `key`; False when it is over the limit (the event is not counted)."""
        now = self._clock()
        with self._lock:
            events = self._events.setdefault(key, deque())
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) >= self.limit:
                return False
            events.append(now)
            if len(self._events) > 10_000:  # forget idle clients so memory stays bounded
                self._forget_idle(now)
            return True

    def give_back(self, key: str) -> None:
        """Uncount the newest event of `key` (one that did not happen after all: a press the
        store refused, so its retry is not turned away as one too many)."""
        with self._lock:
            events = self._events.get(key)
            if events:
                events.pop()

    def wait(self, key: str) -> float:
        """Seconds until `key` may have another event (0 when it may now)."""
        now = self._clock()
        with self._lock:
            events = self._events.get(key)
            if not events or len(events) < self.limit:
                return 0.0
            return max(events[-self.limit] + self.window - now, 0.0)

    def _forget_idle(self, now: float) -> None:
        idle = [k for k, v in self._events.items() if not v or v[-1] <= now - self.window]
        for key in idle:
            del self._events[key]
