"""Animated GIFs are hashed frame by frame, as vPDQ hashes them; a still GIF stays an image."""

from __future__ import annotations

from pathlib import Path

import vpdq
from PIL import Image

from safestream.media.hash_records import hash_file_records
from safestream.media.hashing import hash_video, media_kind
from tests.media.hash_samples import photo


def write_gif(path: Path, names: list[str]) -> Path:
    frames = [Image.fromarray(photo(n)).convert("RGB").resize((320, 240)) for n in names]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=1000, loop=0)
    return path


def test_animated_gif_is_a_video(tmp_path: Path) -> None:
    assert media_kind(write_gif(tmp_path / "a.gif", ["coffee", "rocket"])) == "video"


def test_single_frame_gif_is_an_image(tmp_path: Path) -> None:
    assert media_kind(write_gif(tmp_path / "a.gif", ["coffee"])) == "image"


def test_animated_gif_frames_equal_vpdq(tmp_path: Path) -> None:
    path = write_gif(tmp_path / "a.gif", ["coffee", "rocket", "astronaut"])
    ours = [(f.pdq, f.quality, f.t) for f in hash_video(path, mode="exact")]
    theirs = [
        (f.hex, f.quality, f.timestamp) for f in vpdq.computeHash(str(path), seconds_per_hash=1.0)
    ]
    assert ours == theirs and len(ours) == 3


def test_hash_records_of_an_animated_gif_are_one_per_frame(tmp_path: Path) -> None:
    records = hash_file_records(write_gif(tmp_path / "a.gif", ["coffee", "rocket"])).records
    assert [r["kind"] for r in records] == ["video", "video"]
