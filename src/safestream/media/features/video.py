"""Local features of sampled video frames, for the second stage to look at a video frame by frame.

The frames are the ones sampled for PDQ (one a second); every `LOCAL_EVERY_SECONDS` of them also
gets local features, from the reduced grey image the sampler already made (no second decode). The
features' `scale` is set against the full decoded frame, so the regions the stage reports are in
the video's own pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from safestream.media.features.extract import LocalFeatures, query_features

if TYPE_CHECKING:
    from safestream.media.video import SampledFrame

# A one-hour video gives 1,800 feature sets at this spacing; `MAX_LOCAL_FRAMES` bounds the cost.
LOCAL_EVERY_SECONDS = 2.0
MAX_LOCAL_FRAMES = 1800


@dataclass(frozen=True)
class FrameFeatures:
    """Local features of one sampled frame at `t` seconds."""

    t: float
    features: LocalFeatures


def frame_features(sample: SampledFrame) -> FrameFeatures:
    """Local features of a sampled frame, positions measured in the full frame's pixels."""
    grey = np.clip(np.rint(sample.luma), 0, 255).astype(np.uint8)
    features = query_features(grey)
    full_width = sample.full_size[0]
    to_full = grey.shape[1] / full_width if full_width else 1.0
    return FrameFeatures(sample.t, replace(features, scale=features.scale * to_full))


class LocalSampler:
    """Picks the sampled frames that get local features: one every `every` seconds, at most
    `limit` of them."""

    def __init__(self, every: float = LOCAL_EVERY_SECONDS, limit: int = MAX_LOCAL_FRAMES) -> None:
        self.every = every
        self.limit = limit
        self.frames: list[FrameFeatures] = []
        self._next_t = 0.0

    def offer(self, sample: SampledFrame) -> None:
        """Take the sample's features if it is due."""
        if len(self.frames) >= self.limit or sample.t + 1e-6 < self._next_t:
            return
        self.frames.append(frame_features(sample))
        self._next_t = sample.t + self.every
