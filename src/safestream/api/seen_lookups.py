"""What platforms hash, match and look up over the API, kept for retroactive matching.

A platform that asks about content tells us it saw it. When the operator keeps recently seen
hashes (`recent_seen_days` above 0), the PDQ hashes of files hashed or matched over the API
(`/v1/hash`, `/v1/match`, HMA's `/h/hash` and `/m/lookup`) and the hashes looked up (`/v1/lookup`,
HMA's `/m/lookup` and `/m/raw_lookup`) are kept with the calling organisation as provenance, for
the same retention as attachments and frames: a hash that reaches a bank later raises a detector
report naming the organisation, the file's SHA-256 or the hash (`media.retro`). Never the media.

Only PDQ hashes of quality 50 or more are kept (MD5 lookups are exact and not searched
retroactively), and an organisation's repeat of a hash within `REPEAT_WINDOW` is kept once (a
set check), so a platform rescanning popular content does not fill the store. Hashes are queued
and written in batches by a background thread (`media.seen_queue`), so a lookup pays a queue
put, not a store write. `recent_seen_lookups = false` keeps none of them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, datetime

from safestream.core.principal import Principal
from safestream.core.signals import PDQ_MIN_QUALITY
from safestream.media.matching import FrameVariants
from safestream.media.seen_queue import SeenHashQueue
from safestream.media.upload_hashing import HashedUpload
from safestream.store.seen_hashes import SeenHash, SeenHashes

RECORDER = Principal.system("api-lookups")
REPEAT_WINDOW = 3600.0  # seconds in which an organisation's repeat of a hash is not kept again
REPEAT_MAX = 1_000_000  # (organisation, hash) pairs remembered; the window restarts when full


class SeenLookups:
    """Records what organisations showed the API; does nothing when none is kept."""

    def __init__(self, store: SeenHashes | None) -> None:
        self.queue = SeenHashQueue(store, RECORDER) if store is not None else None
        self._recent: set[tuple[int, str, str]] = set()
        self._window_start = time.monotonic()

    def _new(self, org_id: int, ref: str, pdqs: Iterable[str]) -> list[str]:
        """The hashes this organisation has not shown with this ref within the window."""
        now = time.monotonic()
        if now - self._window_start > REPEAT_WINDOW or len(self._recent) > REPEAT_MAX:
            self._recent, self._window_start = set(), now
        fresh = []
        for pdq in pdqs:
            key = (org_id, ref or pdq, pdq)
            if key not in self._recent:
                self._recent.add(key)
                fresh.append(pdq)
        return fresh

    def hashes(self, org_id: int, pdqs: Iterable[str]) -> None:
        """Bare PDQ hashes an organisation looked up (each stands for itself)."""
        if self.queue is None:
            return
        fresh = self._new(org_id, "", pdqs)
        if fresh:
            now = datetime.now(UTC)
            self.queue.put([SeenHash("lookup", pdq, pdq, now, org_id=org_id) for pdq in fresh])

    def upload(self, org_id: int, hashed: HashedUpload) -> None:
        """A file an organisation had hashed or matched: its variants' hashes, by SHA-256."""
        if self.queue is None:
            return
        variants = [FrameVariants.of(hashed.image)] if hashed.image else []
        variants += [FrameVariants.of(f) for f in hashed.frames]
        self.file(org_id, hashed.sha256, variants)

    def file(self, org_id: int, sha256: str, variants: Iterable[FrameVariants]) -> None:
        """A file's hashes (quality 50 or more), by SHA-256."""
        if self.queue is None:
            return
        now = datetime.now(UTC)
        pdqs = {p for v in variants if v.quality >= PDQ_MIN_QUALITY for p in v.hashes.values()}
        fresh = self._new(org_id, sha256, sorted(pdqs))
        self.queue.put([SeenHash("upload", sha256, p, now, org_id=org_id) for p in fresh])

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until what was queued is written (tests)."""
        return self.queue.flush(timeout) if self.queue is not None else True

    def close(self) -> None:
        """Write what is queued and stop."""
        if self.queue is not None:
            self.queue.close()
