"""Whether a stream's B-frames can all be left undecoded without damaging the other frames.

Full sampling skips non-reference frames (`skip_frame=NONREF`). Skipping every B-frame
(`BIDIR`) saves another third of the decoding when B-frames are also used as references, as
x264's B-pyramid does, but it is only safe if no I- or P-frame predicts from a B-frame. That
depends on the encoder (x264 `veryfast`, OBS's default, never does; x264 `medium` does), and
nothing in the bitstream says so up front. So the first GOP of each connection is decoded a
second time with `BIDIR` beside the real decoder, and the two must agree, pixel for pixel, on
every frame both produce; only then does the stream switch to `BIDIR`.
"""

from __future__ import annotations

import zlib
from typing import Any

import av
import numpy as np

# Frames both decoders must produce (and agree on) before B-frames may be skipped.
MIN_COMPARED = 12
# Give up after this much stream time without a verdict (very long GOPs).
MAX_PROBE_SECONDS = 10.0


def luma_digest(frame: Any) -> int:
    """CRC-32 of every other luma sample of every other visible row (line padding excluded).

    A frame decoded from a missing reference is wrong in whole 4x4 blocks or more, so a quarter
    of the samples shows it, at a quarter of the cost of reading every pixel.
    """
    plane = frame.planes[0]
    rows = np.frombuffer(plane, dtype=np.uint8).reshape(-1, plane.line_size)
    return zlib.crc32(rows[: frame.height : 2, : frame.width : 2].tobytes())


class FrameAgreement:
    """Compares the frames of the real decoder and of the B-skipping one by presentation time."""

    def __init__(self, needed: int = MIN_COMPARED) -> None:
        self.needed = needed
        self.compared = 0
        self.mismatch = False
        self._main: dict[int, int] = {}
        self._probe: dict[int, int] = {}

    def main_frame(self, pts: int, digest: int) -> None:
        """A frame from the real decoder."""
        self._match(pts, digest, self._main, self._probe)

    def probe_frame(self, pts: int, digest: int) -> None:
        """A frame from the decoder that skips every B-frame."""
        self._match(pts, digest, self._probe, self._main)

    def _match(self, pts: int, digest: int, mine: dict[int, int], theirs: dict[int, int]) -> None:
        other = theirs.pop(pts, None)
        if other is None:
            mine[pts] = digest
            return
        self.compared += 1
        self.mismatch = self.mismatch or other != digest

    @property
    def verdict(self) -> bool | None:
        """True once enough frames agreed, False on any disagreement, None while undecided."""
        if self.mismatch:
            return False
        return True if self.compared >= self.needed else None


class BidirProbe:
    """Decodes a connection's packets from its first keyframe with every B-frame skipped."""

    def __init__(self, stream: Any, start_t: float) -> None:
        source = stream.codec_context
        self._ctx = av.CodecContext.create(source.name, "r")
        if source.extradata:
            self._ctx.extradata = source.extradata
        self._ctx.thread_count = 1
        self._ctx.options = {"skip_loop_filter": "all"}  # as the real decoder (monitor.py)
        self._ctx.skip_frame = "BIDIR"
        self.agreement = FrameAgreement()
        self.start_t = start_t
        self.failed = False

    def feed(self, packet: Any) -> None:
        """Decode one packet with B-frames skipped and note the frames it yields."""
        try:
            for frame in self._ctx.decode(packet):
                if frame.pts is not None:
                    self.agreement.probe_frame(frame.pts, luma_digest(frame))
        except av.error.FFmpegError:
            self.failed = True

    def main_frame(self, frame: Any) -> None:
        """Note a frame of the real decoder."""
        if frame.pts is not None:
            self.agreement.main_frame(frame.pts, luma_digest(frame))

    def verdict(self, t: float) -> bool | None:
        """True if skipping B-frames is safe, False if not (or no verdict in time), else None."""
        if self.failed:
            return False
        verdict = self.agreement.verdict
        if verdict is None and t - self.start_t > MAX_PROBE_SECONDS:
            return False
        return verdict
