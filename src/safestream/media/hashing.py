"""The one entry point for hashing media: images and videos to PDQ, MD5 and SHA-256.

Modes:

* `exact`: the same bits as Meta's reference as HMA/ThreatExchange run it (PyPI `pdqhash` on
  Pillow's full RGB decode) for images, and as `vpdq` for videos;
* `fast` (the default for scanning): reduced-size, luma-only decoding, with the PDQ grid read
  where the full-size pipeline would read it. On 1080p photos it stays a few bits from exact
  (median 2, p99 8 in `bench/results/image_hashing.md`), well inside the match threshold of 31;
  for video it hashes the same frames as exact mode, from the Y plane.

Every hash also carries `pdq_trimmed`, the hash of the content inside uniform borders (None when
there are none), so a known image shown letterboxed or pillarboxed still matches, and on request
the 8 dihedral hashes, so a mirrored or rotated copy matches one of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from safestream.core.errors import UnsupportedMedia
from safestream.media.borders import find_content_box
from safestream.media.exact_hashes import digests_of_bytes, file_digests
from safestream.media.imaging import (
    DEFAULT_IMAGE_LIMITS,
    PYTX_DIFFERENT_MODES,
    ImageLimits,
    check_byte_size,
    decode_luma,
    decode_rgb_and_pytx,
)
from safestream.media.pdq import (
    FloatImage,
    PdqResult,
    luma_from_rgb_float64,
    pdq_from_luma,
    pdq_from_scaled_luma,
)
from safestream.media.sniffing import MediaKind, media_kind

if TYPE_CHECKING:
    from safestream.media.video import SampledFrame, VideoLimits

HashMode = Literal["fast", "exact"]

__all__ = [
    "FrameHash",
    "HashMode",
    "ImageHash",
    "ImageLimits",
    "MediaKind",
    "file_digests",
    "hash_image",
    "hash_video",
    "media_kind",
]


@dataclass(frozen=True)
class ImageHash:
    """Hashes of one image; `dihedral` maps variant name to hex and includes "original"."""

    pdq: str
    quality: int
    md5: str
    sha256: str
    width: int
    height: int
    pdq_trimmed: str | None = None
    dihedral: dict[str, str] | None = None
    # The hash pytx and HMA compute, when the image is not RGB and it differs (see imaging).
    pdq_pytx: str | None = None
    pdq_pytx_quality: int = 0


@dataclass(frozen=True)
class FrameHash:
    """PDQ of one sampled video frame at `t` seconds (frame number counted from 0)."""

    t: float
    frame_number: int
    pdq: str
    quality: int
    pdq_trimmed: str | None = None
    dihedral: dict[str, str] | None = None


def hash_image(
    source: Path | bytes,
    *,
    mode: HashMode = "fast",
    dihedral: bool = False,
    limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
) -> ImageHash:
    """Hash an image file or its bytes; raise `UnsupportedMedia` or `MediaTooLarge` if bad."""
    data = _read_limited(source, limits) if isinstance(source, Path) else source
    check_byte_size(len(data), limits)
    md5, sha256 = digests_of_bytes(data)
    pytx: PdqResult | None = None
    if mode == "exact":
        rgb, pytx_array = decode_rgb_and_pytx(data, limits)
        luma = luma_from_rgb_float64(rgb)
        height, width = rgb.shape[:2]
        if pytx_array is not None:
            pytx = pdq_from_luma(luma_from_rgb_float64(pytx_array))
    elif mode == "fast":
        decoded = decode_luma(data, limits)
        luma, width, height = decoded.luma, decoded.width, decoded.height
        if decoded.mode in PYTX_DIFFERENT_MODES:
            pytx_array = decode_rgb_and_pytx(data, limits)[1]
            if pytx_array is not None:
                pytx = pdq_from_luma(luma_from_rgb_float64(pytx_array))
    else:
        raise ValueError(f"unknown hash mode {mode!r}")
    result = pdq_from_scaled_luma(luma, width, height, dihedral=dihedral)
    return ImageHash(
        pdq=result.hex,
        quality=result.quality,
        md5=md5,
        sha256=sha256,
        width=width,
        height=height,
        pdq_trimmed=_trimmed_hash(luma, width, height),
        dihedral=result.dihedral,
        pdq_pytx=pytx.hex if pytx is not None and pytx.hex != result.hex else None,
        pdq_pytx_quality=pytx.quality if pytx is not None else 0,
    )


def hash_video(
    path: Path,
    *,
    mode: HashMode = "fast",
    seconds_per_hash: float = 1.0,
    dihedral: bool = False,
    limits: VideoLimits | None = None,
) -> Iterator[FrameHash]:
    """Yield one `FrameHash` per `seconds_per_hash` of video as frames are decoded."""
    # PyAV loads only when a video is hashed.
    from safestream.media.video import DEFAULT_VIDEO_LIMITS, sample_frames

    if mode not in ("fast", "exact"):
        raise ValueError(f"unknown hash mode {mode!r}")
    limits = limits or DEFAULT_VIDEO_LIMITS
    for sample in sample_frames(path, mode=mode, seconds_per_hash=seconds_per_hash, limits=limits):
        yield frame_hash(sample, dihedral=dihedral)


def frame_hash(sample: SampledFrame, *, dihedral: bool = False) -> FrameHash:
    """The `FrameHash` of one sampled video frame."""
    width, height = sample.full_size
    result = pdq_from_scaled_luma(sample.luma, width, height, dihedral=dihedral)
    return FrameHash(
        t=sample.t,
        frame_number=sample.frame_number,
        pdq=result.hex,
        quality=result.quality,
        pdq_trimmed=_trimmed_hash(sample.luma, width, height),
        dihedral=result.dihedral,
    )


def _trimmed_hash(luma: FloatImage, width: int, height: int) -> str | None:
    """Hash of the content inside uniform borders; `width` x `height` is the full image size."""
    box = find_content_box(luma)
    if box is None:
        return None
    rows, cols = luma.shape
    content = box.crop(luma)
    full_width = round(content.shape[1] * width / cols)
    full_height = round(content.shape[0] * height / rows)
    return pdq_from_scaled_luma(content, full_width, full_height).hex


def _read_limited(path: Path, limits: ImageLimits) -> bytes:
    try:
        check_byte_size(path.stat().st_size, limits)
        return path.read_bytes()
    except OSError as exc:
        raise UnsupportedMedia(f"cannot read file: {exc.strerror or exc}") from exc
