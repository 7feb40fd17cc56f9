"""A live worker's connection to NATS: it reconnects for as long as an outage lasts.

Before, the client gave up after three reconnect attempts (about six seconds) and the worker
exited with `ConnectionClosedError`; streams stayed unwatched until someone restarted it. Now:

* the first connect is retried with doubling waits capped at `MAX_CONNECT_BACKOFF` seconds;
* once connected, nats-py reconnects every second without limit (`max_reconnect_attempts=-1`),
  so the worker is taking work again within about a second of the server's return;
* `BusHealth` follows the connection through nats-py's callbacks, for the worker's health
  endpoint and its lifecycle lines (`bus_disconnected`, `bus_connected`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client

MAX_CONNECT_BACKOFF = 5.0
# Errors a worker rides out while the bus is away: the loop waits and tries again.
BUS_ERRORS = (TimeoutError, nats.errors.Error, nats.js.errors.Error, OSError)


def _ignore(record: dict[str, Any]) -> None:
    del record


@dataclass
class BusHealth:
    """The worker's view of its NATS connection, for the health endpoint and lifecycle lines."""

    emit: Callable[[dict[str, Any]], None] = _ignore
    state: str = "connecting"
    since: float = field(default_factory=time.time)
    outages: int = 0
    last_error: str = ""
    resync: bool = False

    def _set(self, state: str) -> None:
        if state != self.state:
            self.state, self.since = state, time.time()
            self.emit({"event": f"bus_{state}"})

    async def disconnected(self) -> None:
        """nats-py callback: the connection dropped (it will reconnect)."""
        if self.state == "connected":
            self.outages += 1
        self._set("disconnected")

    async def reconnected(self) -> None:
        """nats-py callback: back; JetStream state is checked again before the next fetch."""
        self.resync = True
        self._set("connected")

    async def error(self, exc: Exception) -> None:
        """nats-py callback: an error the client handles itself (logged, kept for health)."""
        self.last_error = f"{type(exc).__name__}: {exc}"

    async def closed(self) -> None:
        """nats-py callback: the client gave up (only on shutdown, as reconnects are endless)."""
        self._set("closed")

    def note_failure(self, message: str) -> None:
        """Record a failed connect or request."""
        self.last_error = message

    def to_json(self) -> dict[str, Any]:
        """The bus part of the worker's health answer."""
        return {
            "state": self.state,
            "since": round(self.since, 3),
            "outages": self.outages,
            "last_error": self.last_error,
        }


async def connect_until_stopped(url: str, bus: BusHealth, stop: asyncio.Event) -> Client | None:
    """A client that never gives up: the first connect is retried with bounded backoff, and
    once connected nats-py reconnects every second for as long as it takes.

    Returns None if `stop` is set before NATS ever answered."""
    delay = 0.5
    while not stop.is_set():
        try:
            return await nats.connect(
                url,
                connect_timeout=2,
                allow_reconnect=True,
                max_reconnect_attempts=-1,  # forever: a worker outlives any outage
                reconnect_time_wait=1,  # so streams report again within a second of return
                disconnected_cb=bus.disconnected,
                reconnected_cb=bus.reconnected,
                error_cb=bus.error,
                closed_cb=bus.closed,
            )
        except Exception as exc:
            bus.note_failure(f"cannot reach NATS at {url}: {exc}")
            await sleep_or_stop(stop, delay)
            delay = min(delay * 2, MAX_CONNECT_BACKOFF)
    return None


async def sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    """Wait `seconds`, or less if `stop` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


def drop_late_deliveries(pull: Any, idle_seconds: float, ack_wait: float) -> int:
    """Discard work items left in the pull subscription's queue if they may be stale.

    nats-py's `fetch` first returns messages that arrived after an earlier fetch had timed out
    on the client side. Normally the next fetch follows within a second and they are fresh; but
    if this worker's loop stalled for a good part of `ack_wait` since its last fetch, JetStream
    may already have redelivered them to another worker, and taking them too would have two
    workers watch one stream. Dropping them is safe: unacknowledged, each comes back after
    `ack_wait` to whichever worker fetches it. Returns how many were dropped."""
    sub = getattr(pull, "_sub", None)
    queue = getattr(sub, "_pending_queue", None)
    if queue is None or idle_seconds < ack_wait / 2:
        return 0
    dropped = 0
    while not queue.empty():
        msg = queue.get_nowait()
        sub._pending_size -= len(msg.data)  # type: ignore[union-attr]
        dropped += 1
    return dropped


def resume_point(realtime: bool, msg: Any, delivered: int) -> float:
    """Where a taken-over paced file resumes: as far in as a live source that started when the
    item was queued (its JetStream timestamp) would be by now. Network sources are live."""
    if not realtime or delivered <= 1 or msg.metadata is None:
        return 0.0
    queued = msg.metadata.timestamp
    return max(0.0, time.time() - queued.timestamp()) if queued is not None else 0.0
