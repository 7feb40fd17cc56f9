"""Wellbeing previews: a small, heavily blurred (optionally grayscale) stand-in for a file.

The browser gets only this preview by default, never the clear file, so a reviewer who has not
asked to see an item cannot see it by accident (no hover-to-unblur, no CSS filter to switch off).
"""

from __future__ import annotations

import io

import av
from PIL import Image, ImageFilter, UnidentifiedImageError

from safestream.core.errors import UnsupportedMedia

PREVIEW_MAX_SIDE = 96
PREVIEW_BLUR_RADIUS = 6


def _image_thumbnail(data: bytes) -> Image.Image:
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.draft("RGB", (PREVIEW_MAX_SIDE * 2, PREVIEW_MAX_SIDE * 2))
            small = image.convert("RGB")
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        raise UnsupportedMedia(f"not an image this console can preview: {exc}") from exc
    small.thumbnail((PREVIEW_MAX_SIDE, PREVIEW_MAX_SIDE))
    return small


def _video_thumbnail(data: bytes) -> Image.Image:
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.video:
                raise UnsupportedMedia("not a video this console can preview: no video stream")
            frame = next(container.decode(container.streams.video[0]), None)
            if frame is None:
                raise UnsupportedMedia("not a video this console can preview: no frame decoded")
            small: Image.Image = frame.to_image()  # type: ignore[no-untyped-call]
    except av.FFmpegError as exc:
        raise UnsupportedMedia(f"not a video this console can preview: {exc}") from exc
    small.thumbnail((PREVIEW_MAX_SIDE, PREVIEW_MAX_SIDE))
    return small


def blurred_preview(data: bytes, grayscale: bool = True, *, video: bool = False) -> bytes:
    """A PNG preview: shrunk to a thumbnail, blurred beyond recognition, grayscale if asked.

    For a video the preview is made from its first frame.
    """
    small = _video_thumbnail(data) if video else _image_thumbnail(data)
    if grayscale:
        small = small.convert("L")
    blurred = small.filter(ImageFilter.GaussianBlur(PREVIEW_BLUR_RADIUS))
    out = io.BytesIO()
    blurred.save(out, format="PNG")
    return out.getvalue()
