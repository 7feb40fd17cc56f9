"""Hash one media file into what a bank stores or what the matcher looks up.

Bank entries are always reference hashes (exact mode: what pdqhash, vpdq, pytx and HMA compute),
never the fast scanning approximation: a bank is shared with partners, and a hash nobody else
computes matches their copies of the file a few bits worse than it should. For an image Pillow
decodes to something other than RGB (palette GIFs and PNGs, CMYK, LAB, ...), pytx and HMA hash
the decoded array without converting it, so that hash is stored too (note `pytx-array`); either
one then matches a copy hashed by either tool.

Both run inside worker processes of the batch runner, so they take a path and return
picklable values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from safestream.core.banks import classify_label
from safestream.core.errors import InvalidInput
from safestream.core.signals import PDQ_MIN_QUALITY, SignalType
from safestream.media.features.extract import LocalFeatures, bank_features, query_features
from safestream.media.features.verify import MEDIA_POLICY
from safestream.media.hashing import (
    FrameHash,
    HashMode,
    ImageHash,
    file_digests,
    frame_hash,
    hash_image,
    hash_video,
    media_kind,
)
from safestream.media.imaging import decode_rgb
from safestream.store.banks import BankRepository, NewEntry, NewFeatures

if TYPE_CHECKING:
    from safestream.media.features.video import FrameFeatures

PYTX_ARRAY_NOTE = "pytx-array"


@dataclass(frozen=True)
class HashedMedia:
    """The hashes of one file with every variant the matcher looks up."""

    kind: str
    image: ImageHash | None = None
    frames: list[FrameHash] = field(default_factory=list)
    features: LocalFeatures | None = None  # an image's local features, for the second stage
    # A video's sampled frames with local features (one every 2 s), for the second stage.
    frame_features: list[FrameFeatures] = field(default_factory=list)


def hash_for_matching(path: Path, *, exact: bool, local: bool = False) -> HashedMedia:
    """Hash one file with its rotated and mirrored variants, ready to match; with `local`, an
    image also gets its local features for the second stage, and a video those of a sampled
    frame every 2 s (from the same decode)."""
    mode: HashMode = "exact" if exact else "fast"
    kind = media_kind(path)
    if kind == "image":
        image = hash_image(path, mode=mode, dihedral=True)
        features = image_features(path, query=True) if local else None
        return HashedMedia(kind, image=image, features=features)
    if not local:
        return HashedMedia(kind, frames=list(hash_video(path, mode=mode, dihedral=True)))
    from safestream.media.features.video import LocalSampler
    from safestream.media.video import sample_frames

    sampler = LocalSampler()
    frames = []
    for sample in sample_frames(path, mode=mode):
        frames.append(frame_hash(sample, dihedral=True))
        sampler.offer(sample)
    return HashedMedia(kind, frames=frames, frame_features=sampler.frames)


def image_features(path: Path, *, query: bool) -> LocalFeatures:
    """Local features of an image file (a query keeps more keypoints than a bank entry)."""
    rgb = decode_rgb(path.read_bytes())
    return query_features(rgb) if query else bank_features(rgb)


def local_record(path: Path, *, label: str, source: str, note: str) -> NewFeatures:
    """The second-stage bank record of one image: its features only, never its pixels."""
    if media_kind(path) != "image":
        raise InvalidInput("local features are taken from images (photos of a room or item)")
    features = image_features(path, query=False)
    if len(features) < MEDIA_POLICY.min_inliers:
        raise InvalidInput(
            f"only {len(features)} keypoints: too plain to recognise (a wall or a flat image)"
        )
    digest = file_digests(path)[1]
    return NewFeatures(features.to_bytes(), len(features), label, source, note, digest)


@dataclass(frozen=True)
class MediaEntries:
    """The entries one media file contributes to a bank."""

    kind: str
    entries: list[NewEntry]
    skipped_low_quality: int


@dataclass(frozen=True)
class LabelConflict:
    """An entry the bank already held under another label; the stored label was kept."""

    entry_id: int
    signal_type: str
    value: str
    stored_label: str
    asked_label: str


def entries_from_media(path: Path, *, label: str, source: str, note: str) -> MediaEntries:
    """Hash a file into bank entries: its reference PDQ (per second for video) and its MD5."""
    kind = media_kind(path)
    md5, sha256 = file_digests(path)

    def entry(
        value: str, quality: int | None = None, t: float | None = None, extra_note: str = ""
    ) -> NewEntry:
        text = "; ".join(part for part in (note, extra_note) if part)
        return NewEntry(SignalType.PDQ.value, value, label, source, text, quality, sha256, t)

    entries = [NewEntry(SignalType.MD5.value, md5, label, source, note, None, sha256)]
    low = 0
    if kind == "image":
        h = hash_image(path, mode="exact")
        if h.quality >= PDQ_MIN_QUALITY:
            entries.append(entry(h.pdq, h.quality))
        else:
            low += 1
        if h.pdq_pytx is not None and h.pdq_pytx_quality >= PDQ_MIN_QUALITY:
            entries.append(entry(h.pdq_pytx, h.pdq_pytx_quality, extra_note=PYTX_ARRAY_NOTE))
    else:
        seen: set[str] = set()
        for frame in hash_video(path, mode="exact"):
            if frame.quality < PDQ_MIN_QUALITY:
                low += 1
            elif frame.pdq not in seen:
                seen.add(frame.pdq)
                entries.append(entry(frame.pdq, frame.quality, frame.t))
    return MediaEntries(kind, entries, low)


def label_conflicts(
    banks: BankRepository, bank_name: str, entries: list[NewEntry], ids: list[int]
) -> list[LabelConflict]:
    """Entries that were already in the bank (so kept their label) under a different label."""
    conflicts: list[LabelConflict] = []
    seen: set[int] = set()
    for new, entry_id in zip(entries, ids, strict=True):
        asked = classify_label(new.label).value
        if entry_id in seen:
            continue
        seen.add(entry_id)
        for stored, bank in banks.find_exact(new.signal_type, new.value):
            if bank.name == bank_name and stored.id == entry_id and stored.label.value != asked:
                conflicts.append(
                    LabelConflict(entry_id, new.signal_type, new.value, stored.label.value, asked)
                )
    return conflicts
