"""Which decoded frames to hash: by presentation time, plus scene cuts, or keyframes only.

* `full` mode decodes every reference frame (B-frames are skipped with `skip_frame=NONREF`
  because nothing is predicted from them) and hashes the first frame at or after each tick of
  the sampling clock (`fps` per second of stream time, so variable frame rates and dropped
  frames do not shift it), plus frames where a cheap luma-thumbnail difference sees a cut.
* `keyframes` mode decodes keyframe packets only (about a tenth of the decode cost) and hashes
  them, at most `fps` per second. Each keyframe is decoded and the decoder drained and reset at
  once: with `skip_frame=NONKEY` a B-frame stream's reorder delay would hold each keyframe
  back until two more keyframes arrived (4 s with a 2 s GOP). It sees one frame per GOP, so it
  is the low-risk first pass; a risk rise switches the stream to `full`.

Full decoding can only start at a keyframe (frames predicted from frames never decoded would
be garbage), so a switch to `full` is held until the next keyframe packet.

In `full` mode with `skip_to_keyframe` (the default), decoding pauses after a clock sample when
the stream's keyframes come at a steady interval and the next one is due no later than the next
tick: that keyframe will be the next clock sample, and nothing decoded in between would be
hashed except on a scene cut. With the usual 2 s GOP at 1 fps this halves the decoding. The
price is that scene cuts in the skipped stretch are not seen, so a still shown for less than a
second between a mid-GOP tick and the next keyframe is missed; a policy with
`skip_to_keyframe=False` decodes every reference frame.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np

from safestream.core.errors import InvalidInput

# Thumbnail grid for the scene-change test: ~32 x 18 samples of the Y plane.
THUMB_COLUMNS = 32
THUMB_ROWS = 18


class SamplingMode(StrEnum):
    """How much of a stream is decoded."""

    KEYFRAMES = "keyframes"
    FULL = "full"


@dataclass(frozen=True)
class SamplingPolicy:
    """A stream's sampling: mode, clock rate (samples per stream second), scene-change extras."""

    mode: SamplingMode = SamplingMode.FULL
    fps: float = 1.0
    scene_change: bool = True
    skip_to_keyframe: bool = True

    def __post_init__(self) -> None:
        if not (math.isfinite(self.fps) and 0 < self.fps <= 30):
            raise InvalidInput(f"sampling fps must be in (0, 30], got {self.fps}")

    @property
    def skip_frame(self) -> str:
        """The decoder's `skip_frame` setting for this policy."""
        return "DEFAULT" if self.mode is SamplingMode.KEYFRAMES else "NONREF"

    def describe(self) -> str:
        """Short text such as `full@2fps+scene`."""
        full = self.mode is SamplingMode.FULL
        extra = "+scene" if self.scene_change and full else ""
        extra += "+skip" if self.skip_to_keyframe and full else ""
        return f"{self.mode.value}@{self.fps:g}fps{extra}"


class SceneChangeDetector:
    """Flags a cut when the mean absolute difference of two luma thumbnails jumps.

    A cut is a difference above `factor` times the median of recent differences and above an
    absolute `floor` (in luma levels), so noise on a static scene and steady motion stay quiet.
    """

    def __init__(self, factor: float = 4.0, floor: float = 8.0, window: int = 30) -> None:
        self.factor = factor
        self.floor = floor
        self._previous: np.ndarray[Any, np.dtype[np.int16]] | None = None
        self._recent: deque[float] = deque(maxlen=window)

    def reset(self) -> None:
        """Forget the previous frame (after a reconnect)."""
        self._previous = None
        self._recent.clear()

    def is_cut(self, frame: Any) -> bool:
        """True when `frame` (a PyAV VideoFrame) starts a new scene."""
        thumb = luma_thumbnail(frame)
        previous, self._previous = self._previous, thumb
        if previous is None or previous.shape != thumb.shape:
            return False
        # Runs on every decoded frame: plain ufunc reduction and a median of at most `window`
        # floats in Python cost a fraction of ndarray.mean and np.median on so few values.
        diff = float(np.add.reduce(np.abs(thumb - previous), axis=None)) / thumb.size
        baseline = statistics.median(self._recent) if self._recent else diff
        self._recent.append(diff)
        return diff > self.floor and diff > self.factor * max(baseline, 0.5)


def luma_thumbnail(frame: Any) -> np.ndarray[Any, np.dtype[np.int16]]:
    """A strided view of the Y plane (no copy of the full frame), as int16."""
    width, height = frame.width, frame.height
    if frame.format.name.startswith(("yuv", "nv", "gray")):
        plane = frame.planes[0]
        rows = np.frombuffer(plane, dtype=np.uint8).reshape(height, plane.line_size)
        step_y = max(1, height // THUMB_ROWS)
        step_x = max(1, width // THUMB_COLUMNS)
        # Copy the few samples so the thumbnail does not pin the decoder's frame buffer.
        return rows[::step_y, :width:step_x].astype(np.int16)
    small = frame.reformat(THUMB_COLUMNS, THUMB_ROWS, "gray").to_ndarray()
    return np.asarray(small, dtype=np.int16)


class KeyframeCadence:
    """Predicts when the next keyframe is due, from the intervals between the last keyframes.

    The first interval is taken as the cadence; after that a prediction is made only when the
    last two intervals agree within `tolerance` seconds, so scene-cut keyframes or a changed GOP
    stop predictions until the cadence is steady again. A wrong prediction costs one late
    sample: decoding resumes at whichever keyframe comes.
    """

    def __init__(self, tolerance: float = 0.02) -> None:
        self.tolerance = tolerance
        self._last: float | None = None
        self._intervals: deque[float] = deque(maxlen=2)

    def observe(self, t: float) -> None:
        """Note a keyframe at stream time `t`."""
        if self._last is not None:
            if t <= self._last:
                # Timestamps went backwards or repeated: start learning afresh.
                self._intervals.clear()
            else:
                self._intervals.append(t - self._last)
        self._last = t

    def next_keyframe(self) -> float | None:
        """Stream time the next keyframe is due, or None while the cadence is unknown."""
        if self._last is None or not self._intervals:
            return None
        latest = self._intervals[-1]
        if abs(self._intervals[0] - latest) > self.tolerance:
            return None
        return self._last + latest

    def reset(self) -> None:
        """Forget the cadence (a new connection)."""
        self._last = None
        self._intervals.clear()


class FrameSampler:
    """Decides, frame by frame, whether to hash; holds policy switches until a keyframe."""

    # Extra scene-change samples are at least this far apart from the previous sample; a cut
    # seen sooner is sampled once the gap has passed (what follows a cut just after a tick
    # would otherwise go unseen until the next tick).
    MIN_SCENE_GAP = 0.2
    # A keyframe this little after a tick stands in for the frame at the tick (skipping
    # B-frames already moves a sample by up to two frames).
    KEYFRAME_SLACK = 0.05

    def __init__(self, policy: SamplingPolicy | None = None) -> None:
        self.policy = policy or SamplingPolicy()
        self.pending: SamplingPolicy | None = None
        self.scenes = SceneChangeDetector()
        self.keyframes = KeyframeCadence()
        self._next_t = -math.inf
        self._last_sample_t = -math.inf
        self._cut_waiting = False

    def request(self, policy: SamplingPolicy) -> None:
        """Ask for a new policy; it takes effect at the next `apply_pending` call allowed."""
        self.pending = None if policy == self.policy else policy

    def apply_pending(self, at_keyframe: bool) -> bool:
        """Switch to the pending policy if safe now; return True if the decoder must change."""
        if self.pending is None:
            return False
        relaxes = self.pending.mode is SamplingMode.FULL and self.policy.mode is not (
            SamplingMode.FULL
        )
        if relaxes and not at_keyframe:
            return False
        changed = self.pending.skip_frame != self.policy.skip_frame
        self.policy, self.pending = self.pending, None
        self.scenes.reset()
        # Re-align the clock so a faster rate starts at once.
        self._next_t = min(self._next_t, self._last_sample_t + 1.0 / self.policy.fps)
        return changed

    def offer(self, t: float, frame: Any) -> str | None:
        """The reason to hash the frame at stream time `t` ("clock" or "scene"), or None."""
        cut = False
        if self.policy.scene_change and self.policy.mode is SamplingMode.FULL:
            cut = self.scenes.is_cut(frame)
        if t + 1e-6 >= self._next_t:
            self._take(t)
            return "clock"
        if cut or self._cut_waiting:
            if t - self._last_sample_t >= self.MIN_SCENE_GAP:
                self._take(t)
                return "scene"
            self._cut_waiting = True
        return None

    def can_skip_to_keyframe(self) -> bool:
        """True when, after the sample just taken, nothing needs decoding until the next
        keyframe: it is due no later than the next tick, so it will be the next clock sample."""
        if self.policy.mode is not SamplingMode.FULL or not self.policy.skip_to_keyframe:
            return False
        due = self.keyframes.next_keyframe()
        return due is not None and self._last_sample_t < due <= self._next_t + self.KEYFRAME_SLACK

    def restart(self) -> None:
        """Start the clock afresh (a new connection whose times may restart)."""
        self._next_t = -math.inf
        self._last_sample_t = -math.inf
        self._cut_waiting = False
        self.scenes.reset()
        self.keyframes.reset()

    def _take(self, t: float) -> None:
        period = 1.0 / self.policy.fps
        self._last_sample_t = t
        self._cut_waiting = False
        self._next_t = max(self._next_t, (math.floor(t / period + 1e-6) + 1) * period)
        if self._next_t <= t:
            self._next_t = t + period
