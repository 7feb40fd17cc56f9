"""Hash media received as bytes (an HTTP upload or a fetched URL): images in memory, videos and
animated GIFs through a private temporary file (PyAV reads files), deleted right after.
"""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from safestream.core.errors import UnsupportedMedia
from safestream.media.exact_hashes import digests_of_bytes
from safestream.media.hashing import (
    FrameHash,
    HashMode,
    ImageHash,
    frame_hash,
    hash_image,
    hash_video,
)
from safestream.media.sniffing import MediaKind, kind_from_header

if TYPE_CHECKING:
    from safestream.media.features.video import FrameFeatures


@dataclass(frozen=True)
class HashedUpload:
    """The hashes of one uploaded file: an image's, or a video's sampled frames."""

    kind: MediaKind
    md5: str
    sha256: str
    image: ImageHash | None = None
    frames: list[FrameHash] = field(default_factory=list)
    # With `local`: a video's sampled frames with local features (one every 2 s).
    frame_features: list[FrameFeatures] = field(default_factory=list)


def upload_kind(data: bytes) -> MediaKind:
    """'image' or 'video' from the bytes; an animated GIF is a video (vPDQ hashes its frames)."""
    if not data:
        raise UnsupportedMedia("empty file (0 bytes)")
    kind = kind_from_header(data[:256])
    if kind is None:
        raise UnsupportedMedia("not an image or video we recognise")
    if kind == "image" and data[:4] == b"GIF8":
        from PIL import Image

        try:
            with Image.open(io.BytesIO(data)) as image:
                if getattr(image, "is_animated", False):
                    return "video"
        except Exception:  # an unreadable GIF is reported by the image reader
            return kind
    return kind


def hash_upload(
    data: bytes,
    *,
    mode: HashMode = "fast",
    dihedral: bool = False,
    seconds_per_hash: float = 1.0,
    local: bool = False,
) -> HashedUpload:
    """Hash uploaded bytes; raise `UnsupportedMedia` or `MediaTooLarge` for bad input. With
    `local`, a video's sampled frames also get local features (from the same decode)."""
    kind = upload_kind(data)
    if kind == "image":
        image = hash_image(data, mode=mode, dihedral=dihedral)
        return HashedUpload(kind, image.md5, image.sha256, image=image)
    md5, sha256 = digests_of_bytes(data)
    with tempfile.NamedTemporaryFile(prefix="safestream-upload-", suffix=".bin") as tmp:
        tmp.write(data)
        tmp.flush()
        if not local:
            frames = list(
                hash_video(
                    Path(tmp.name), mode=mode, dihedral=dihedral, seconds_per_hash=seconds_per_hash
                )
            )
            return HashedUpload(kind, md5, sha256, frames=frames)
        from safestream.media.features.video import LocalSampler
        from safestream.media.video import sample_frames

        sampler = LocalSampler()
        frames = []
        for sample in sample_frames(Path(tmp.name), mode=mode, seconds_per_hash=seconds_per_hash):
            frames.append(frame_hash(sample, dihedral=dihedral))
            sampler.offer(sample)
    return HashedUpload(kind, md5, sha256, frames=frames, frame_features=sampler.frames)
