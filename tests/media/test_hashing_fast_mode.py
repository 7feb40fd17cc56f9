"""Fast mode: reduced-size luma decoding stays within a few bits of the exact hash."""

from __future__ import annotations

import numpy as np
import pytest

from safestream.core.signals import pdq_distance
from safestream.media.hashing import hash_image
from safestream.media.imaging import decode_luma
from safestream.media.pdq import pdq_from_luma, pdq_from_scaled_luma
from safestream.media.synthetic import encode_image, resized
from tests.media.hash_samples import PHOTO_NAMES, photo


def _distances(width: int, height: int) -> list[int]:
    distances = []
    for name in PHOTO_NAMES:
        data = encode_image(resized(photo(name), width, height), "JPEG", quality=90)
        distances.append(pdq_distance(hash_image(data).pdq, hash_image(data, mode="exact").pdq))
    return distances


def test_fast_hash_of_1080p_jpegs_is_within_the_drift_budget_of_exact() -> None:
    distances = _distances(1920, 1080)
    assert np.median(distances) <= 6
    assert max(distances) <= 16


def test_fast_hash_of_small_jpegs_is_nearly_exact() -> None:
    assert max(_distances(640, 480)) <= 8


def test_scaled_pipeline_drifts_less_than_hashing_the_reduced_image_plainly() -> None:
    plain, scaled = [], []
    for name in PHOTO_NAMES:
        data = encode_image(resized(photo(name), 1920, 1080), "JPEG", quality=90)
        exact = hash_image(data, mode="exact").pdq
        decoded = decode_luma(data)
        assert decoded.luma.shape == (540, 960)
        plain.append(pdq_distance(pdq_from_luma(decoded.luma).hex, exact))
        reduced = pdq_from_scaled_luma(decoded.luma, decoded.width, decoded.height)
        scaled.append(pdq_distance(reduced.hex, exact))
    assert sum(scaled) < sum(plain)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "BMP"])
def test_fast_mode_reduces_large_non_jpeg_images_too(fmt: str) -> None:
    data = encode_image(resized(photo("coffee"), 2400, 1600), fmt)
    fast = hash_image(data)
    assert (fast.width, fast.height) == (2400, 1600)
    assert pdq_distance(fast.pdq, hash_image(data, mode="exact").pdq) <= 16


def test_fast_and_exact_report_the_same_quality_band() -> None:
    data = encode_image(resized(photo("astronaut"), 1920, 1080), "JPEG", quality=90)
    assert abs(hash_image(data).quality - hash_image(data, mode="exact").quality) <= 10


def test_unknown_mode_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        hash_image(encode_image(photo("coffee"), "PNG"), mode="slow")  # type: ignore[arg-type]
