"""What hashing a hostile video file may do: give well-formed frame hashes or raise our errors."""

from __future__ import annotations

from pathlib import Path

from safestream.core.errors import MediaTooLarge, UnsupportedMedia
from safestream.media.hashing import hash_video


def assert_hashes_or_raises_our_errors(path: Path) -> None:
    """Both hashing modes either give 64-digit PDQ hashes or refuse with a SafeStream error;
    any other exception escapes and fails the test."""
    for mode in ("fast", "exact"):
        try:
            frames = list(hash_video(path, mode=mode))  # type: ignore[arg-type]
        except (UnsupportedMedia, MediaTooLarge):
            continue
        assert all(len(frame.pdq) == 64 for frame in frames)
