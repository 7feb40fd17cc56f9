"""pytx's own PDQ hashing test vectors, run against SafeStream's hasher.

Pinned from facebook/ThreatExchange at baefb4ed (python-threatexchange/threatexchange/tests/
hashing/test_pdq_hasher.py and cli/tests/hash_cmd_test.py): the image files in data/pytx/ and
the hashes and qualities those tests expect. Each vector is also checked against the installed
`threatexchange` package, so a pinned value that drifted from the real peer fails here.

pytx hashes the decoded array as Pillow returns it; SafeStream reports that hash as `pdq_pytx`
when it differs from the RGB hash, so the pytx-compatible hash is `pdq_pytx or pdq`.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from threatexchange.signal_type.pdq import pdq_hasher

from safestream.media.hashing import ImageHash, hash_image

DATA = Path(__file__).parent / "data" / "pytx"

# (file, expected pdq, expected quality), from test_pdq_hasher.py and hash_cmd_test.py.
VECTORS = [
    ("LA.png", "accb6d39648035f8125c8ce6ba65007de7b54c67a2d93ef7b8f33b0611306715", 100),
    ("I16.png", "de2ef0e99ecdfc1d248a0eb055f023d1d61e79c3920cbb55d561c02accab1763", 36),
    ("rgb.jpeg", "fb4eed46cb8a6c78819ca06b756c541f7b07ef6d02c82fccd00f862166272cda", 100),
    ("sample-b.jpg", "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22", None),
    ("random.png", "ad64cd9875e131a177b1f2a0d6b38ae1de9ea80421e4c51dde1b0363deba3466", None),
]
STATIC_GIF_PDQ = "77ffdd3a9405fbb0805027270fa7d7065e7cf8da0c0d795881002667e44f266f"


def pytx_compatible(h: ImageHash) -> tuple[str, int]:
    """The hash (and quality) SafeStream reports for what pytx computes."""
    if h.pdq_pytx is not None:
        return h.pdq_pytx, h.pdq_pytx_quality
    return h.pdq, h.quality


def static_gif() -> bytes:
    """The 100x100 colour-ramp GIF that pytx's `test_file_content` builds."""
    image = Image.new("RGB", (100, 100))
    pixels = image.load()
    assert pixels is not None
    for i in range(100):
        for j in range(100):
            pixels[i, j] = ((i * 5) % 256, (j * 5) % 256, ((i + j) * 5) % 256)
    out = io.BytesIO()
    image.save(out, format="GIF")
    return out.getvalue()


@pytest.mark.parametrize(("name", "expected", "quality"), VECTORS)
def test_pinned_vector_is_what_installed_pytx_computes(
    name: str, expected: str, quality: int | None
) -> None:
    got, got_quality = pdq_hasher.pdq_from_bytes((DATA / name).read_bytes())
    assert got == expected
    assert quality is None or got_quality == quality


@pytest.mark.parametrize(("name", "expected", "quality"), VECTORS)
def test_safestream_exact_hash_equals_pytx_vector(
    name: str, expected: str, quality: int | None
) -> None:
    got, got_quality = pytx_compatible(hash_image(DATA / name, mode="exact"))
    assert got == expected
    assert quality is None or got_quality == quality


def test_static_gif_hashes_as_pytx_does() -> None:
    data = static_gif()
    assert pdq_hasher.pdq_from_bytes(data)[0] == STATIC_GIF_PDQ
    h = hash_image(data, mode="exact")
    assert h.pdq_pytx == STATIC_GIF_PDQ
    assert h.pdq != STATIC_GIF_PDQ  # the colours' hash is kept beside it


def test_static_gif_fast_mode_also_reports_the_pytx_hash() -> None:
    assert hash_image(static_gif(), mode="fast").pdq_pytx == STATIC_GIF_PDQ


@pytest.mark.parametrize("mode", ["CMYK", "LAB", "P"])
def test_non_rgb_modes_report_the_pytx_hash(mode: str) -> None:
    source = Image.open(DATA / "rgb.jpeg").convert(mode)
    out = io.BytesIO()
    source.save(out, format="TIFF")
    data = out.getvalue()
    expected = pdq_hasher.pdq_from_bytes(data)[0]
    h = hash_image(data, mode="exact")
    assert pytx_compatible(h)[0] == expected
    assert h.pdq != expected


def test_rgb_image_has_no_separate_pytx_hash() -> None:
    assert hash_image(DATA / "rgb.jpeg", mode="exact").pdq_pytx is None
