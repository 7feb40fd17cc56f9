"""Sampled live frames' hashes to the store, for retroactive matching (`media.retro`).

Every sampled frame is hashed anyway; its PDQ hash (never the frame) is queued and written in
batches by a background thread (`media.seen_queue`), so a slow or locked store never holds up a
decode thread. When the queue is full the newest hashes are dropped and counted: live detection
comes first.
"""

from __future__ import annotations

from datetime import UTC, datetime

from safestream.core.principal import Principal
from safestream.core.signals import PDQ_MIN_QUALITY
from safestream.live.alerts import SampledMatches
from safestream.media.seen_queue import SeenHashQueue
from safestream.store.seen_hashes import SeenHash, SeenHashes

RECORDER = Principal.system("live-monitor")


class SeenFrameRecorder:
    """An `AlertRouter` observer that records each sampled frame's hash."""

    def __init__(self, store: SeenHashes, *, flush_seconds: float = 2.0) -> None:
        self.queue = SeenHashQueue(store, RECORDER, flush_seconds=flush_seconds)

    @property
    def recorded(self) -> int:
        """Hashes written so far."""
        return self.queue.recorded

    @property
    def dropped(self) -> int:
        """Hashes lost to a full queue or an unreachable store."""
        return self.queue.dropped

    def __call__(self, sample: SampledMatches) -> None:
        """Queue one sampled frame's hash (frames too flat to hash reliably are skipped)."""
        if sample.quality < PDQ_MIN_QUALITY or not sample.frame_hash:
            return
        seen = SeenHash(
            "frame", sample.stream[:256], sample.frame_hash, datetime.now(UTC), sample.t
        )
        self.queue.put((seen,))

    def close(self, timeout: float = 30.0) -> None:
        """Write what is queued and stop."""
        self.queue.close(timeout)
