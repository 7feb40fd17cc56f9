"""The matching stages stream threads share: PDQ against the banks, then local features.

Each is one object behind a lock that every stream's thread calls, and each applies bank edits
on its own schedule (at most `refresh_every` seconds late).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from safestream.core.banks import Match
from safestream.media.features.stage import LocalStage
from safestream.media.matching import FrameVariants, Matcher

MatchFunction = Callable[[FrameVariants], list[Match]]
# Second stage: grey or RGB pixels of a frame and its stream time -> local-feature matches.
LocalMatchFunction = Callable[[np.ndarray, float], list[Match]]
LOCAL_LONG_SIDE = 640


class LocalMatchService:
    """The second matching stage shared by stream threads (and snapshots), refreshed like PDQ's.

    Runs only on frames PDQ left unmatched; the monitor calls it for streams whose risk score
    reaches `local_from_score`, and the snapshot route for every snapshot.
    """

    def __init__(self, stage: LocalStage, refresh_every: float = 10.0) -> None:
        self.stage = stage
        self.refresh_every = refresh_every
        self._lock = threading.Lock()
        self._refreshed = time.monotonic()

    def __call__(self, pixels: np.ndarray, t: float) -> list[Match]:
        """Second-stage matches of one frame's pixels."""
        with self._lock:
            now = time.monotonic()
            if now - self._refreshed >= self.refresh_every:
                self._refreshed = now
                self.stage.features.refresh()
            return self.stage.match_pixels(pixels, t)


def frame_grey_long_side(frame: Any, long_side: int = LOCAL_LONG_SIDE) -> np.ndarray:
    """Grey pixels of a PyAV frame with its long side at most `long_side` (libswscale)."""
    scale = min(1.0, long_side / max(frame.width, frame.height))
    width, height = max(2, round(frame.width * scale)), max(2, round(frame.height * scale))
    grey = frame.reformat(width, height, "gray", interpolation="AREA").to_ndarray()
    return np.ascontiguousarray(grey, dtype=np.uint8)


class MatchService:
    """A `Matcher` shared by stream threads, with its bank index refreshed periodically."""

    def __init__(self, matcher: Matcher, refresh_every: float = 10.0) -> None:
        self.matcher = matcher
        self.refresh_every = refresh_every
        self._lock = threading.Lock()
        self._refreshed = time.monotonic()

    def __call__(self, frame: FrameVariants) -> list[Match]:
        """Matches of one sampled frame (applies bank edits at most `refresh_every` s late)."""
        with self._lock:
            now = time.monotonic()
            if now - self._refreshed >= self.refresh_every:
                self._refreshed = now
                self.matcher.index.refresh()
            return self.matcher.match_variants([frame])[0]
