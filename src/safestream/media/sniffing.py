"""Tell images from videos by their first bytes (magic numbers), never by file name.

An animated GIF counts as a video: vPDQ (through FFmpeg) hashes its frames, and a list made from
it holds frame hashes, so hashing only its first frame would miss every later one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from safestream.core.errors import UnsupportedMedia

MediaKind = Literal["image", "video"]
SNIFF_BYTES = 64

_IMAGE_PREFIXES = (
    b"\xff\xd8\xff",  # JPEG
    b"\x89PNG\r\n\x1a\n",
    b"GIF87a",
    b"GIF89a",
    b"BM",
    b"II*\x00",  # TIFF, little-endian
    b"MM\x00*",  # TIFF, big-endian
)
_VIDEO_PREFIXES = (
    b"\x1a\x45\xdf\xa3",  # Matroska / WebM
    b"FLV",
    b"\x00\x00\x01\xba",  # MPEG program stream
    b"\x00\x00\x01\xb3",  # MPEG-1/2 video elementary stream
    b"\x30\x26\xb2\x75\x8e\x66\xcf\x11",  # ASF / WMV
    b"OggS",
)
_GIF_PREFIXES = (b"GIF87a", b"GIF89a")
# ISO base media brands that are still images, not video.
_IMAGE_BRANDS = frozenset({b"avif", b"avis", b"heic", b"heix", b"mif1", b"msf1", b"heim"})
_MPEG_TS_PACKET = 188


def kind_from_header(head: bytes) -> MediaKind | None:
    """'image' or 'video' from a file's first bytes, or None when neither is recognised."""
    if head.startswith(_IMAGE_PREFIXES):
        return "image"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video"
    if head[4:8] == b"ftyp":
        return "image" if head[8:12] in _IMAGE_BRANDS else "video"
    if head.startswith(_VIDEO_PREFIXES):
        return "video"
    if len(head) > _MPEG_TS_PACKET and head[0] == 0x47 and head[_MPEG_TS_PACKET] == 0x47:
        return "video"
    return None


def media_kind(path: Path) -> MediaKind:
    """Sniff a file's content; raise `UnsupportedMedia` when it is neither image nor video."""
    try:
        with path.open("rb") as handle:
            head = handle.read(max(SNIFF_BYTES, _MPEG_TS_PACKET + 1))
    except OSError as exc:
        raise UnsupportedMedia(f"cannot read file: {exc.strerror or exc}") from exc
    if not head:
        raise UnsupportedMedia("empty file (0 bytes)")
    kind = kind_from_header(head)
    if kind is None:
        raise UnsupportedMedia("not an image or video we recognise")
    if kind == "image" and head.startswith(_GIF_PREFIXES) and is_animated_gif(path):
        return "video"
    return kind


def is_animated_gif(path: Path) -> bool:
    """Whether a GIF file holds more than one frame (Pillow reads frame headers only)."""
    # Imported here: sniffing stays cheap for callers that never meet a GIF.
    from PIL import Image

    try:
        with Image.open(path) as image:
            return image.format == "GIF" and bool(getattr(image, "is_animated", False))
    except Exception:  # an unreadable GIF is an image error for the image reader to report
        return False
