"""Hostile and damaged video: each is one clear error, bounded in time and memory, never a crash.

The files are generated from benign clips by `bench.hostile_media` (nothing is downloaded).
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from bench.hostile_media import (
    good_clip,
    resolution_switch,
    with_edit_list,
    with_many_streams,
    with_unknown_codec,
)

from safestream.core.errors import MediaTooLarge, UnsupportedMedia
from safestream.media.hashing import hash_video
from safestream.media.mp4_boxes import largest_edit_list
from tests.media.hash_samples import workdir


@functools.cache
def _clip() -> bytes:
    return good_clip(workdir() / "hostile-seed.mp4").read_bytes()


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_a_video_whose_codec_cannot_be_read_is_unsupported_media(tmp_path: Path) -> None:
    path = _write(tmp_path, "damaged.mp4", with_unknown_codec(_clip()))
    with pytest.raises(UnsupportedMedia, match="codec cannot be read"):
        list(hash_video(path))


def test_edit_list_entries_are_counted_from_the_box_tree(tmp_path: Path) -> None:
    path = _write(tmp_path, "edits.mp4", with_edit_list(_clip(), 5000))
    with path.open("rb") as handle:
        assert largest_edit_list(handle) == 5000


@pytest.mark.timeout(60)
def test_a_million_edit_list_entries_are_refused_before_demuxing(tmp_path: Path) -> None:
    path = _write(tmp_path, "edits.mp4", with_edit_list(_clip(), 1_000_000))
    with pytest.raises(MediaTooLarge, match="edit list has 1000000 entries"):
        list(hash_video(path))


@pytest.mark.parametrize("mode", ["fast", "exact"])
def test_a_stream_that_switches_to_a_huge_frame_size_is_refused(tmp_path: Path, mode: str) -> None:
    path = resolution_switch(tmp_path / "switch.ts", (160, 120), (9000, 9000))
    with pytest.raises(MediaTooLarge, match="9000x9000"):
        list(hash_video(path, mode=mode))  # type: ignore[arg-type]


def test_an_absurd_number_of_streams_is_an_error_not_a_crash(tmp_path: Path) -> None:
    path = _write(tmp_path, "streams.mp4", with_many_streams(_clip(), 3000))
    try:
        frames = list(hash_video(path))
    except (UnsupportedMedia, MediaTooLarge):
        return
    assert all(len(frame.pdq) == 64 for frame in frames)
