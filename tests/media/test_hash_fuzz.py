"""Fuzzing the readers: corrupted bytes of valid files give our errors, never a crash or hang.

Deadlines are generous because the suite shares CPUs with other jobs (a typical example takes
a few milliseconds); a real hang is stopped by the pytest timeout on each test.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safestream.core.errors import MediaTooLarge, UnsupportedMedia
from safestream.media.hashing import ImageHash, hash_image
from safestream.media.synthetic import encode_image, resized, write_clip
from tests.media.hash_samples import photo, workdir
from tests.media.video_outcomes import assert_hashes_or_raises_our_errors

IMAGE_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF")


@functools.cache
def _valid_image(fmt: str) -> bytes:
    return encode_image(resized(photo("chelsea"), 96, 64), fmt)


@functools.cache
def _valid_clip() -> bytes:
    path = workdir() / "fuzz-seed.mp4"
    write_clip(path, [photo("coffee")], seconds=1.2, fps=10, width=96, height=64)
    return path.read_bytes()


@st.composite
def corrupted(draw: st.DrawFn, original: bytes) -> bytes:
    """Truncate, overwrite bytes, or splice random bytes into a valid file."""
    data = bytearray(original)
    kind = draw(st.sampled_from(["truncate", "flip", "splice"]))
    if kind == "truncate":
        return bytes(data[: draw(st.integers(0, len(data) - 1))])
    if kind == "flip":
        for _ in range(draw(st.integers(1, 16))):
            position = draw(st.integers(0, len(data) - 1))
            data[position] = draw(st.integers(0, 255))
        return bytes(data)
    start = draw(st.integers(0, len(data)))
    end = draw(st.integers(start, min(len(data), start + 512)))
    return bytes(data[:start]) + draw(st.binary(min_size=1, max_size=256)) + bytes(data[end:])


@pytest.mark.timeout(240)
@settings(max_examples=500, deadline=10_000, derandomize=True, database=None)
@given(st.sampled_from(IMAGE_FORMATS).flatmap(lambda fmt: corrupted(_valid_image(fmt))))
def test_corrupted_images_hash_or_raise_our_errors(data: bytes) -> None:
    for mode in ("fast", "exact"):
        try:
            result = hash_image(data, mode=mode)  # type: ignore[arg-type]
        except (UnsupportedMedia, MediaTooLarge):
            continue
        assert isinstance(result, ImageHash) and len(result.pdq) == 64


@pytest.mark.timeout(240)
@settings(
    max_examples=150,
    deadline=20_000,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.just(None).flatmap(lambda _: corrupted(_valid_clip())))
def test_corrupted_videos_hash_or_raise_our_errors(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzzed.mp4"
        path.write_bytes(data)
        assert_hashes_or_raises_our_errors(path)
