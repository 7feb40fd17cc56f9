"""Find uniform borders (letterbox, pillarbox, a frame of any solid colour) around content.

A known image inside black bars hashes far from the original (the bars dominate the 64x64
downsample), so the hasher also hashes the content box found here. Detection works on the luma
that is being hashed: from each edge inward, a line is border while nearly all of its pixels
stay within a tolerance of that edge's colour, which absorbs JPEG noise and ringing at the bar.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from safestream.media.kernels import KERNELS
from safestream.media.pdq import FloatImage

# Luma levels a border pixel may differ from the border colour (JPEG noise near bars).
BORDER_TOLERANCE = 20.0
# Share of a line's pixels that must be border-coloured for the line to count as border.
BORDER_LINE_SHARE = 0.97
# A side is trimmed only if its border is at least this share of the dimension (and 2 px).
MIN_BORDER_SHARE = 0.01
# If less than this share of a dimension is left, the image is uniform, not bordered.
MIN_CONTENT_SHARE = 0.1


@dataclass(frozen=True)
class ContentBox:
    """Rows [top, bottom) and columns [left, right) inside the borders."""

    top: int
    bottom: int
    left: int
    right: int

    def crop(self, luma: FloatImage) -> FloatImage:
        """The content of `luma` inside this box, as a contiguous array."""
        return np.ascontiguousarray(luma[self.top : self.bottom, self.left : self.right])


def find_content_box(luma: FloatImage, tolerance: float = BORDER_TOLERANCE) -> ContentBox | None:
    """The box inside uniform borders, or None when there is no border (or nothing inside)."""
    rows, cols = luma.shape
    if rows < 8 or cols < 8:
        return None
    image = np.asarray(luma, dtype=np.float32)
    row_limit = rows // 2
    col_limit = cols // 2
    top = KERNELS.border_depth(image, tolerance, BORDER_LINE_SHARE, row_limit)
    bottom = KERNELS.border_depth(image[::-1], tolerance, BORDER_LINE_SHARE, row_limit)
    left = KERNELS.border_depth(image.T, tolerance, BORDER_LINE_SHARE, col_limit)
    right = KERNELS.border_depth(image.T[::-1], tolerance, BORDER_LINE_SHARE, col_limit)
    top, bottom = (_significant(d, rows) for d in (top, bottom))
    left, right = (_significant(d, cols) for d in (left, right))
    if top == bottom == left == right == 0:
        return None
    box = ContentBox(top, rows - bottom, left, cols - right)
    if (box.bottom - box.top) < MIN_CONTENT_SHARE * rows:
        return None
    if (box.right - box.left) < MIN_CONTENT_SHARE * cols:
        return None
    return box


def _significant(depth: int, size: int) -> int:
    return depth if depth >= max(2, MIN_BORDER_SHARE * size) else 0
