"""Sampled live frames' hashes to the store, for retroactive matching (`media.retro`).

Every sampled frame is hashed anyway; its PDQ hash (never the frame) is queued here and written
in batches by a daemon thread, so a slow or locked store never holds up a decode thread. When
the queue is full the newest hashes are dropped and counted: live detection comes first.
"""

from __future__ import annotations

import logging
import queue
import threading
from datetime import UTC, datetime

from safestream.core.principal import Principal
from safestream.core.signals import PDQ_MIN_QUALITY
from safestream.live.alerts import SampledMatches
from safestream.store.seen_hashes import SeenHash, SeenHashes

log = logging.getLogger(__name__)
RECORDER = Principal.system("live-monitor")
BATCH = 512
QUEUE = 100_000


class SeenFrameRecorder:
    """An `AlertRouter` observer that records each sampled frame's hash."""

    def __init__(self, store: SeenHashes, *, flush_seconds: float = 2.0) -> None:
        self.store = store
        self.flush_seconds = flush_seconds
        self.recorded = 0
        self.dropped = 0
        self._queue: queue.Queue[SeenHash | None] = queue.Queue(maxsize=QUEUE)
        self._thread = threading.Thread(target=self._run, name="seen-frames", daemon=True)
        self._thread.start()

    def __call__(self, sample: SampledMatches) -> None:
        """Queue one sampled frame's hash (frames too flat to hash reliably are skipped)."""
        if sample.quality < PDQ_MIN_QUALITY or not sample.frame_hash:
            return
        seen = SeenHash(
            "frame", sample.stream[:256], sample.frame_hash, datetime.now(UTC), sample.t
        )
        try:
            self._queue.put_nowait(seen)
        except queue.Full:
            self.dropped += 1

    def close(self, timeout: float = 30.0) -> None:
        """Write what is queued and stop."""
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        done = False
        while not done:
            batch: list[SeenHash] = []
            try:
                item = self._queue.get(timeout=self.flush_seconds)
                while item is not None:
                    batch.append(item)
                    if len(batch) >= BATCH:
                        break
                    item = self._queue.get_nowait()
                done = item is None
            except queue.Empty:
                pass
            if batch:
                self._write(batch)

    def _write(self, batch: list[SeenHash]) -> None:
        try:
            self.recorded += self.store.record(RECORDER, batch)
        except Exception:  # the store may be away; detection goes on, the loss is counted
            self.dropped += len(batch)
            log.exception("recording %d seen frame hashes failed", len(batch))
