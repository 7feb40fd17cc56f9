"""PDQ conformance: exact mode gives the reference bits (PyPI pdqhash / Meta's expected hashes)."""

from __future__ import annotations

import io

import numpy as np
import pdqhash
import pytest
from PIL import Image

from safestream.media.hashing import hash_image
from safestream.media.pdq import (
    DIHEDRAL_NAMES,
    ZERO_HASH,
    luma_from_rgb_float64,
    pdq_from_luma,
    pdq_from_scaled_luma,
)
from safestream.media.synthetic import encode_image
from tests.media.hash_samples import PDQ_DATA, PHOTO_NAMES, needs_pdq_data, photo

BRIDGE_HASH = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"


def _expected_rows() -> list[tuple[str, str, int, list[str]]]:
    table = PDQ_DATA / "expected-pdqhash.tsv"
    if not table.is_file():
        return []
    rows = []
    for line in table.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        path, pdq, quality, dihedral = line.split("\t")
        rows.append((path, pdq, int(quality), dihedral.split(",")))
    return rows


def _reference(rgb: np.ndarray) -> tuple[str, int]:
    bits, quality = pdqhash.compute(rgb)
    return np.packbits(bits.astype(np.uint8)).tobytes().hex(), int(quality)


@needs_pdq_data()
def test_bridge_photo_hashes_to_the_java_and_pytx_reference_value() -> None:
    result = hash_image(PDQ_DATA / "bridge-mods" / "aaa-orig.jpg", mode="exact")
    assert (result.pdq, result.quality) == (BRIDGE_HASH, 100)


@needs_pdq_data()
@pytest.mark.parametrize("row", _expected_rows(), ids=lambda row: row[0])
def test_exact_mode_matches_expected_hash_quality_and_dihedrals(
    row: tuple[str, str, int, list[str]],
) -> None:
    path, pdq, quality, dihedral = row
    result = hash_image(PDQ_DATA / path, mode="exact", dihedral=True)
    assert result.dihedral is not None
    assert (result.pdq, result.quality) == (pdq, quality)
    assert [result.dihedral[name] for name in DIHEDRAL_NAMES] == dihedral


@pytest.mark.parametrize("name", PHOTO_NAMES)
def test_exact_mode_is_bit_identical_to_pdqhash_on_sample_photos(name: str) -> None:
    data = encode_image(photo(name), "PNG")
    expected = _reference(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))
    result = hash_image(data, mode="exact")
    assert (result.pdq, result.quality) == expected


def test_rotated_or_mirrored_photo_hashes_near_the_matching_dihedral_hash_only() -> None:
    rgb = photo("astronaut")
    transforms = {
        "rotate90": np.rot90(rgb, 1),
        "rotate180": np.rot90(rgb, 2),
        "rotate270": np.rot90(rgb, 3),
        "flipx": rgb[::-1],
        "flipy": rgb[:, ::-1],
        "flip_plus1": rgb.transpose(1, 0, 2),
        "flip_minus1": np.rot90(rgb, 2).transpose(1, 0, 2),
    }
    result = pdq_from_luma(luma_from_rgb_float64(rgb), dihedral=True)
    assert result.dihedral is not None
    for name, pixels in transforms.items():
        plain = pdq_from_luma(luma_from_rgb_float64(np.ascontiguousarray(pixels)))
        distances = {
            variant: (int(plain.hex, 16) ^ int(value, 16)).bit_count()
            for variant, value in result.dihedral.items()
        }
        # Not bit-exact (the box filter and cell centres are not symmetric), but a clear match.
        assert distances[name] <= 20, (name, distances)
        assert min(d for v, d in distances.items() if v != name) > 80, (name, distances)


def test_image_under_five_pixels_a_side_gets_zero_hash_and_quality_like_the_reference() -> None:
    tiny = np.full((4, 40, 3), 128, dtype=np.uint8)
    result = hash_image(encode_image(tiny, "PNG"), mode="exact")
    assert (result.pdq, result.quality) == (ZERO_HASH, 0)
    assert _reference(tiny) == (ZERO_HASH, 0)


def test_flat_image_has_quality_zero() -> None:
    flat = np.full((64, 64, 3), 200, dtype=np.uint8)
    assert hash_image(encode_image(flat, "PNG"), mode="exact").quality == 0


def test_scaled_pipeline_at_full_size_is_the_reference_pipeline() -> None:
    luma = luma_from_rgb_float64(photo("coffee"))
    height, width = luma.shape
    assert pdq_from_scaled_luma(luma, width, height, dihedral=True) == pdq_from_luma(
        luma, dihedral=True
    )
