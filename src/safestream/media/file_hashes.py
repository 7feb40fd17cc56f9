"""Hash one media file into what a bank stores or what the matcher looks up.

Both run inside worker processes of the batch runner, so they take a path and return
picklable values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from safestream.core.signals import PDQ_MIN_QUALITY
from safestream.media.hashing import (
    FrameHash,
    HashMode,
    ImageHash,
    file_digests,
    hash_image,
    hash_video,
    media_kind,
)
from safestream.store.banks import NewEntry


@dataclass(frozen=True)
class MediaEntries:
    """The entries one media file contributes to a bank."""

    kind: str
    entries: list[NewEntry]
    skipped_low_quality: int


def entries_from_media(
    path: Path, *, exact: bool, label: str, source: str, note: str
) -> MediaEntries:
    """Hash a file into bank entries: its PDQ (per second for video) and its MD5."""
    mode: HashMode = "exact" if exact else "fast"
    kind = media_kind(path)
    md5, sha256 = file_digests(path)

    def entry(
        signal_type: str, value: str, quality: int | None = None, t: float | None = None
    ) -> NewEntry:
        return NewEntry(signal_type, value, label, source, note, quality, sha256, t)

    entries = [entry("md5", md5)]
    low = 0
    if kind == "image":
        h = hash_image(path, mode=mode)
        if h.quality >= PDQ_MIN_QUALITY:
            entries.append(entry("pdq", h.pdq, h.quality))
        else:
            low += 1
    else:
        seen: set[str] = set()
        for frame in hash_video(path, mode=mode):
            if frame.quality < PDQ_MIN_QUALITY:
                low += 1
            elif frame.pdq not in seen:
                seen.add(frame.pdq)
                entries.append(entry("pdq", frame.pdq, frame.quality, frame.t))
    return MediaEntries(kind, entries, low)


@dataclass(frozen=True)
class HashedMedia:
    """The hashes of one file with every variant the matcher looks up."""

    kind: str
    image: ImageHash | None = None
    frames: list[FrameHash] = field(default_factory=list)


def hash_for_matching(path: Path, *, exact: bool) -> HashedMedia:
    """Hash one file with its rotated and mirrored variants, ready to match."""
    mode: HashMode = "exact" if exact else "fast"
    kind = media_kind(path)
    if kind == "image":
        return HashedMedia(kind, image=hash_image(path, mode=mode, dihedral=True))
    return HashedMedia(kind, frames=list(hash_video(path, mode=mode, dihedral=True)))
