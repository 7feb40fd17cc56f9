"""Uniform-border trimming: a known photo inside bars still matches through `pdq_trimmed`."""

from __future__ import annotations

import numpy as np
import pytest

from safestream.core.signals import PDQ_MATCH_MAX_BITS, pdq_distance
from safestream.media.borders import find_content_box
from safestream.media.hashing import hash_image
from safestream.media.synthetic import encode_image, resized
from tests.media.hash_samples import photo


def _padded(pixels: np.ndarray, top: int, bottom: int, left: int, right: int, colour: int = 0):
    height, width = pixels.shape[:2]
    canvas = np.full((height + top + bottom, width + left + right, 3), colour, dtype=np.uint8)
    canvas[top : top + height, left : left + width] = pixels
    return canvas


@pytest.mark.parametrize("mode", ["exact", "fast"])
@pytest.mark.parametrize("name", ["astronaut", "coffee", "rocket"])
def test_letterboxed_photo_matches_original_only_after_trimming(mode: str, name: str) -> None:
    original = resized(photo(name), 640, 360)
    letterboxed = _padded(original, 180, 180, 0, 0)
    known = hash_image(encode_image(original, "JPEG", quality=92), mode=mode)  # type: ignore[arg-type]
    seen = hash_image(encode_image(letterboxed, "JPEG", quality=92), mode=mode)  # type: ignore[arg-type]
    assert seen.pdq_trimmed is not None
    assert pdq_distance(seen.pdq, known.pdq) > PDQ_MATCH_MAX_BITS
    assert pdq_distance(seen.pdq_trimmed, known.pdq) <= PDQ_MATCH_MAX_BITS


def test_pillarbox_in_any_solid_colour_is_trimmed() -> None:
    original = resized(photo("chelsea"), 400, 300)
    framed = _padded(original, 0, 0, 160, 160, colour=200)
    known = hash_image(encode_image(original, "PNG"), mode="exact")
    seen = hash_image(encode_image(framed, "JPEG", quality=80), mode="exact")
    assert seen.pdq_trimmed is not None
    assert pdq_distance(seen.pdq_trimmed, known.pdq) <= PDQ_MATCH_MAX_BITS


def test_content_box_is_found_despite_jpeg_noise_in_the_bars() -> None:
    original = resized(photo("coffee"), 300, 200)
    padded = _padded(original, 40, 40, 20, 20)
    rng = np.random.default_rng(7)
    noisy = np.clip(padded.astype(int) + rng.integers(-8, 9, padded.shape), 0, 255).astype(float)
    box = find_content_box(noisy.mean(axis=2).astype(np.float32))
    assert box is not None
    assert abs(box.top - 40) <= 2 and abs(box.bottom - 240) <= 2
    assert abs(box.left - 20) <= 2 and abs(box.right - 320) <= 2


def test_photo_without_border_has_no_trimmed_hash() -> None:
    assert hash_image(encode_image(photo("astronaut"), "PNG")).pdq_trimmed is None


def test_uniform_image_is_not_treated_as_all_border() -> None:
    flat = np.full((200, 300), 17.0, dtype=np.float32)
    assert find_content_box(flat) is None


def test_one_pixel_edge_line_is_not_a_border() -> None:
    luma = np.asarray(photo("astronaut").mean(axis=2), dtype=np.float32).copy()
    luma[0, :] = 0.0
    assert find_content_box(luma) is None
