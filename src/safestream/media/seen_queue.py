"""Seen hashes written to the store in batches by a background thread, off the hot path.

The live monitor (sampled frames) and the API's hashing and lookup routes (what platforms
hashed, matched or looked up) hand their PDQ hashes here; a daemon thread, started on the first
hash, writes them in batches, so a slow or locked store never holds up a decode thread or a
lookup. When the queue is full the newest hashes are dropped and counted: detection and answers
come first, retroactive matching second.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterable

from safestream.core.principal import Principal
from safestream.store.seen_hashes import SeenHash, SeenHashes

log = logging.getLogger(__name__)
BATCH = 2048  # rows per write: the commit is most of a small batch's cost
QUEUE = 100_000


class SeenHashQueue:
    """Queue `SeenHash`es; a background thread records them as `recorder`."""

    def __init__(
        self, store: SeenHashes, recorder: Principal, *, flush_seconds: float = 2.0
    ) -> None:
        self.store = store
        self.recorder = recorder
        self.flush_seconds = flush_seconds
        self.recorded = 0
        self.dropped = 0
        self._queue: queue.Queue[SeenHash | None] = queue.Queue(maxsize=QUEUE)
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()

    def put(self, hashes: Iterable[SeenHash]) -> None:
        """Queue hashes to record (never blocks: a full queue drops and counts them)."""
        if self._thread is None:
            self._start_thread()
        for seen in hashes:
            try:
                self._queue.put_nowait(seen)
            except queue.Full:
                self.dropped += 1

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything queued so far is written (or dropped); False on timeout."""
        done = threading.Event()
        if self._thread is None:
            return True
        self._queue.put(_Marker(done))  # type: ignore[arg-type]
        return done.wait(timeout)

    def close(self, timeout: float = 30.0) -> None:
        """Write what is queued and stop."""
        if self._thread is None:
            return
        self._queue.put(None)
        self._thread.join(timeout)

    def _start_thread(self) -> None:
        with self._start:
            if self._thread is None:
                thread = threading.Thread(target=self._run, name="seen-hashes", daemon=True)
                thread.start()
                self._thread = thread

    def _run(self) -> None:
        done = False
        while not done:
            batch: list[SeenHash] = []
            markers: list[_Marker] = []
            try:
                item = self._queue.get(timeout=self.flush_seconds)
                while item is not None:
                    if isinstance(item, _Marker):
                        markers.append(item)
                    else:
                        batch.append(item)
                    if len(batch) >= BATCH or markers:
                        break
                    item = self._queue.get_nowait()
                done = item is None
            except queue.Empty:
                pass
            if batch:
                self._write(batch)
            for marker in markers:
                marker.done.set()

    def _write(self, batch: list[SeenHash]) -> None:
        # The same content seen again before the write (a platform looking a hash up twice, a
        # frame repeated) is kept once: its first sighting is what retroactive matching needs.
        unique = {(h.kind, h.ref, h.pdq, h.org_id, h.t): h for h in reversed(batch)}
        batch = list(reversed(unique.values()))
        try:
            self.recorded += self.store.record(self.recorder, batch)
        except Exception:  # the store may be away; the loss is counted, nothing else stops
            self.dropped += len(batch)
            log.exception("recording %d seen hashes failed", len(batch))


class _Marker:
    """Set once everything queued before it is written."""

    def __init__(self, done: threading.Event) -> None:
        self.done = done
