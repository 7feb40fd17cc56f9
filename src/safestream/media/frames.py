"""Hash decoded video frames (PyAV frames or numpy arrays) the way the media engine hashes files.

Live streams arrive as decoded frames, not files, so this wraps the engine's PDQ (`pdq.py`) and
border finder (`borders.py`): the frame is scaled in libswscale to a small grey image (short side
`HASH_SHORT_SIDE`, aspect kept), which costs about 1 ms instead of 10 ms for a full 720p frame,
and is hashed with its 8 dihedral variants and the hash of the content inside uniform borders.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from safestream.media.borders import find_content_box
from safestream.media.matching import FrameVariants
from safestream.media.pdq import ByteImage, FloatImage, pdq_from_luma

# Pre-scaling to a 512 short side moves PDQ at most ~14 bits from the full-size hash (live.md).
HASH_SHORT_SIDE = 512


def scaled_size(width: int, height: int, short_side: int = HASH_SHORT_SIDE) -> tuple[int, int]:
    """Width and height with the short side at most `short_side`, aspect ratio kept, even."""
    scale = min(1.0, short_side / max(1, min(width, height)))
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def frame_grey(frame: Any, short_side: int = HASH_SHORT_SIDE) -> ByteImage:
    """The grey (full-range luma) pixels of a PyAV `VideoFrame`, scaled down in libswscale."""
    width, height = scaled_size(frame.width, frame.height, short_side)
    grey = frame.reformat(width, height, "gray", interpolation="AREA").to_ndarray()
    return np.ascontiguousarray(grey, dtype=np.uint8)


def hash_luma(
    luma: FloatImage | ByteImage, *, t: float | None = None, item: str = ""
) -> FrameVariants:
    """PDQ variants of a 2-D luma image (0-255): the 8 dihedral hashes of the whole image and,
    when it has uniform borders, the 8 dihedral hashes of the content inside them
    (`trimmed`, `trimmed_flipy`, ...), so a mirrored still shown pillarboxed still matches."""
    image = np.asarray(luma, dtype=np.float32)
    if image.ndim != 2:
        raise ValueError(f"luma must be 2-D, got shape {image.shape}")
    result = pdq_from_luma(image, dihedral=True)
    hashes = dict(result.dihedral or {"original": result.hex})
    box = find_content_box(image)
    if box is not None:
        inner = pdq_from_luma(box.crop(image), dihedral=True)
        for name, value in (inner.dihedral or {}).items():
            hashes["trimmed" if name == "original" else f"trimmed_{name}"] = value
    return FrameVariants(hashes, result.quality, t, item)


def hash_video_frame(
    frame: Any, *, t: float, short_side: int = HASH_SHORT_SIDE, item: str = ""
) -> FrameVariants:
    """Hash one decoded PyAV frame (scaled grey, dihedral variants, border trimming); `item`
    names what carried it (a stream) for flood counting."""
    return hash_luma(frame_grey(frame, short_side), t=t, item=item)


def prepare_frame_hashing() -> None:
    """Compile (or load from numba's cache) the frame-hashing kernels now, not on the first frame.

    A cold compile takes 20 s or more of CPU and holds the GIL, so a worker that meets it on its
    first stream's first frame misses its heartbeats and alerts late; workers call this at
    start-up instead."""
    # Bordered, so the border finder and the trimmed-content path are compiled too.
    luma = np.zeros((64, 96), dtype=np.float32)
    luma[:, 16:80] = np.arange(64 * 64, dtype=np.float32).reshape(64, 64) % 251
    hash_luma(luma)
