"""Reading still images safely: format allow-list, byte and pixel limits, clear errors.

Formats: JPEG (and MPO, Pillow's name for multi-picture camera JPEGs), PNG, WebP, GIF (first
frame), BMP and TIFF (first page). Every failure is raised as `UnsupportedMedia` or
`MediaTooLarge` with a message naming the problem; no Pillow exception escapes.

The pixels are hashed **as stored**: EXIF orientation is ignored. That is what Meta's
reference and HMA/ThreatExchange do (`PdqSignal` never calls `exif_transpose`), and hash lists
are built that way, so applying the tag would make an upright photo hash differently from the
list's entry for the same file. A copy that really is rotated is caught by the dihedral hashes.

Two decodes serve the two hash modes:

* `decode_rgb` (exact): full decode converted to RGB by Pillow, the reference path;
* `decode_luma` (fast): luma only, at reduced size. For JPEG, libjpeg's DCT-domain scaling
  (`Image.draft`) decodes only the Y channel at 1/2, 1/4 or 1/8 size, keeping the short side at
  least `min_short_side` px; other formats are decoded, turned to grey and box-reduced the same
  way. Measured drift from the exact hash is small at a 512 px short side (see media.md, 4a).
"""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from PIL import Image

from safestream.core.errors import MediaTooLarge, UnsupportedMedia
from safestream.media.pdq import ByteImage, FloatImage, luma_from_grey

SUPPORTED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "GIF", "BMP", "TIFF"})
FAST_MIN_SHORT_SIDE = 512
# Modes whose raw array (what pytx hashes) is not the RGB colours; the others (RGB, RGBA, RGBX,
# L, LA, I;16) give pytx the same luma as the RGB conversion.
PYTX_DIFFERENT_MODES = frozenset({"P", "CMYK", "YCbCr", "LAB", "HSV", "1"})

T = TypeVar("T")


@dataclass(frozen=True)
class ImageLimits:
    """Upper bounds checked before decoding, against decompression bombs and huge uploads."""

    max_pixels: int = 100_000_000
    max_bytes: int = 200 * 1024 * 1024


DEFAULT_IMAGE_LIMITS = ImageLimits()


@dataclass(frozen=True)
class DecodedLuma:
    """Float luma for hashing plus the image's stored size."""

    luma: FloatImage
    width: int
    height: int
    mode: str = "L"  # Pillow's mode of the stored image, before conversion to grey


def check_byte_size(size: int, limits: ImageLimits) -> None:
    """Raise if a file of `size` bytes is empty or over the byte limit."""
    if size == 0:
        raise UnsupportedMedia("empty file (0 bytes)")
    if size > limits.max_bytes:
        raise MediaTooLarge(f"file is {size} bytes, over the limit of {limits.max_bytes}")


def open_image(data: bytes, limits: ImageLimits = DEFAULT_IMAGE_LIMITS) -> Image.Image:
    """Parse an image's header (no pixel decode yet) and enforce format and limits."""
    check_byte_size(len(data), limits)
    try:
        with warnings.catch_warnings():
            # Our own pixel limit below replaces Pillow's bomb warning; its other warnings
            # (corrupt TIFF tags, EXIF) are about input we either decode or reject anyway.
            warnings.simplefilter("ignore")
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise MediaTooLarge(f"image is too large to decode safely: {exc}") from exc
    except Exception as exc:
        raise UnsupportedMedia(f"not a readable image: {_describe(exc)}") from exc
    if image.format not in SUPPORTED_FORMATS:
        raise UnsupportedMedia(f"image format {image.format} is not supported")
    width, height = image.size
    if width <= 0 or height <= 0:
        raise UnsupportedMedia(f"image has no pixels ({width}x{height})")
    if width * height > limits.max_pixels:
        raise MediaTooLarge(
            f"image is {width}x{height} = {width * height} pixels, "
            f"over the limit of {limits.max_pixels}"
        )
    return image


def decode_rgb(data: bytes, limits: ImageLimits = DEFAULT_IMAGE_LIMITS) -> ByteImage:
    """Fully decode the first frame to an RGB array, exactly as the reference path does."""
    return decode_rgb_and_pytx(data, limits)[0]


def decode_rgb_and_pytx(
    data: bytes, limits: ImageLimits = DEFAULT_IMAGE_LIMITS
) -> tuple[ByteImage, ByteImage | None]:
    """The RGB array, and the array pytx/HMA hash when it differs from RGB (else None).

    pytx hashes `np.asarray(image)` as Pillow decodes it (only LA and I;16 go through RGB), so
    for palette, CMYK, YCbCr, LAB, HSV and bilevel images it hashes other numbers than the
    colours: palette indices, ink amounts, ... Hash lists made with pytx or HMA hold those.
    """
    image = open_image(data, limits)
    _decode(image.load)
    rgb = np.asarray(_decode(lambda: image.convert("RGB")), dtype=np.uint8)
    if image.mode not in PYTX_DIFFERENT_MODES:
        return rgb, None
    raw = np.asarray(image)
    if raw.dtype == np.bool_:
        raw = raw.astype(np.uint8)  # pdqhash reads a bilevel array's bytes: 0 and 1
    if raw.ndim == 2:
        raw = np.repeat(raw[:, :, np.newaxis], 3, axis=2)
    pytx = np.ascontiguousarray(raw[:, :, :3], dtype=np.uint8)
    return rgb, (None if np.array_equal(pytx, rgb) else pytx)


def decode_luma(
    data: bytes,
    limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
    min_short_side: int = FAST_MIN_SHORT_SIDE,
) -> DecodedLuma:
    """Decode luma only, reduced so the short side stays at least `min_short_side` px."""
    image = open_image(data, limits)
    width, height = image.size
    stored_mode = image.mode
    target = _reduced_size(width, height, min_short_side)
    if image.format in ("JPEG", "MPO") and target != (width, height):
        # DCT-domain scaling: libjpeg skips most of the work; 'L' keeps only the Y channel.
        _decode(lambda: image.draft("L", target))
    grey = _decode(lambda: _to_grey(image))
    factor = min(grey.size) // min_short_side
    if factor >= 2:
        grey = _decode(lambda: grey.reduce(factor))
    array = np.asarray(grey, dtype=np.uint8)
    return DecodedLuma(luma_from_grey(array, 0.0, 1.0), width, height, stored_mode)


def _reduced_size(width: int, height: int, min_short_side: int) -> tuple[int, int]:
    short = min(width, height)
    if short <= min_short_side:
        return width, height
    scale = min_short_side / short
    return math.ceil(width * scale), math.ceil(height * scale)


def _to_grey(image: Image.Image) -> Image.Image:
    image.load()
    if image.mode == "L":
        return image
    if image.mode not in ("RGB", "RGBA", "P", "YCbCr"):
        # Unusual modes (I, F, CMYK, LAB, 1, ...) go through RGB as in the exact path.
        image = image.convert("RGB")
    return image.convert("L")


def _decode(step: Callable[[], T]) -> T:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return step()
    except (MemoryError, Image.DecompressionBombError) as exc:
        raise MediaTooLarge(f"image is too large to decode: {_describe(exc)}") from exc
    except Exception as exc:
        raise UnsupportedMedia(f"corrupt or truncated image: {_describe(exc)}") from exc


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
