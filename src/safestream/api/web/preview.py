"""Wellbeing previews: a small, heavily blurred (and optionally grayscale) stand-in for an image.

The browser gets only this preview by default, never the clear file, so a reviewer who has not
asked to see an item cannot see it by accident (no hover-to-unblur, no CSS filter to switch off).
"""

from __future__ import annotations

import io

from PIL import Image, ImageFilter, UnidentifiedImageError

from safestream.core.errors import UnsupportedMedia

PREVIEW_MAX_SIDE = 96
PREVIEW_BLUR_RADIUS = 6


def blurred_preview(data: bytes, grayscale: bool = True) -> bytes:
    """A PNG preview: shrunk to a thumbnail, blurred beyond recognition, grayscale if asked."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.draft("RGB", (PREVIEW_MAX_SIDE * 2, PREVIEW_MAX_SIDE * 2))
            small = image.convert("RGB")
            small.thumbnail((PREVIEW_MAX_SIDE, PREVIEW_MAX_SIDE))
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        raise UnsupportedMedia(f"not an image this console can preview: {exc}") from exc
    if grayscale:
        small = small.convert("L")
    blurred = small.filter(ImageFilter.GaussianBlur(PREVIEW_BLUR_RADIUS))
    out = io.BytesIO()
    blurred.save(out, format="PNG")
    return out.getvalue()
