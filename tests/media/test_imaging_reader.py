"""Image reading: supported formats from paths and bytes, limits, and clear errors on bad input."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from safestream.core.errors import MediaTooLarge, UnsupportedMedia
from safestream.core.signals import pdq_distance
from safestream.media.hashing import hash_image
from safestream.media.imaging import ImageLimits
from safestream.media.synthetic import encode_image
from tests.media.hash_samples import photo

FORMATS = ["JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_supported_format_hashes_close_to_the_png_original(fmt: str) -> None:
    pixels = photo("chelsea")
    original = hash_image(encode_image(pixels, "PNG"), mode="exact")
    result = hash_image(encode_image(pixels, fmt), mode="exact")
    assert (result.width, result.height) == (451, 300)
    # GIF quantises to 256 colours and JPEG/WebP are lossy; all stay far inside 31 bits.
    assert pdq_distance(result.pdq, original.pdq) <= 16


def test_path_and_bytes_give_the_same_hashes(tmp_path: Path) -> None:
    data = encode_image(photo("coffee"), "JPEG", quality=90)
    path = tmp_path / "coffee.jpg"
    path.write_bytes(data)
    assert hash_image(path) == hash_image(data)


def test_md5_and_sha256_are_of_the_file_bytes() -> None:
    import hashlib

    data = encode_image(photo("coffee"), "PNG")
    result = hash_image(data)
    assert result.md5 == hashlib.md5(data).hexdigest()
    assert result.sha256 == hashlib.sha256(data).hexdigest()


def test_gif_is_hashed_from_its_first_frame() -> None:
    first, second = photo("astronaut"), photo("camera")
    buffer = io.BytesIO()
    frames = [Image.fromarray(first), Image.fromarray(second)]
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    animated = hash_image(buffer.getvalue(), mode="exact")
    still = hash_image(encode_image(first, "GIF"), mode="exact")
    assert pdq_distance(animated.pdq, still.pdq) <= 10


def test_exif_orientation_is_ignored_and_pixels_hashed_as_stored() -> None:
    pixels = photo("astronaut")
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    tagged = encode_image(pixels, "JPEG", quality=95, exif=exif.tobytes())
    plain = encode_image(pixels, "JPEG", quality=95)
    assert hash_image(tagged, mode="exact").pdq == hash_image(plain, mode="exact").pdq


def test_zero_byte_file_is_unsupported_media(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(UnsupportedMedia, match="empty"):
        hash_image(empty)


def test_text_file_is_unsupported_media() -> None:
    with pytest.raises(UnsupportedMedia, match="not a readable image"):
        hash_image(b"hello, this is not an image\n" * 10)


@pytest.mark.parametrize("mode", ["fast", "exact"])
def test_truncated_jpeg_is_unsupported_media(mode: str) -> None:
    data = encode_image(photo("coffee"), "JPEG")
    with pytest.raises(UnsupportedMedia, match="truncated"):
        hash_image(data[: len(data) // 2], mode=mode)  # type: ignore[arg-type]


def test_corrupt_png_is_unsupported_media() -> None:
    data = bytearray(encode_image(photo("coffee"), "PNG"))
    data[200:400] = bytes(200)
    with pytest.raises(UnsupportedMedia):
        hash_image(bytes(data), mode="exact")


def test_unsupported_format_is_named_in_the_error() -> None:
    with pytest.raises(UnsupportedMedia, match="ICO"):
        hash_image(encode_image(photo("coffee")[:64, :64], "ICO"))


def test_image_over_the_pixel_limit_is_refused_before_decoding() -> None:
    data = encode_image(photo("coffee"), "PNG")  # 600 x 400
    with pytest.raises(MediaTooLarge, match="240000 pixels"):
        hash_image(data, limits=ImageLimits(max_pixels=100_000))


def test_decompression_bomb_png_is_refused_from_its_header() -> None:
    # A tiny PNG whose header claims 60000 x 60000 pixels (3.6 GB decoded).
    data = bytearray(encode_image(photo("coffee")[:8, :8], "PNG"))
    ihdr = data.index(b"IHDR")
    data[ihdr + 4 : ihdr + 12] = struct.pack(">II", 60000, 60000)
    crc = zlib.crc32(bytes(data[ihdr : ihdr + 17]))
    data[ihdr + 17 : ihdr + 21] = struct.pack(">I", crc)
    with pytest.raises(MediaTooLarge, match="too large"):
        hash_image(bytes(data))


def test_file_over_the_byte_limit_is_refused_without_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    path.write_bytes(encode_image(photo("coffee"), "PNG"))
    with pytest.raises(MediaTooLarge, match="bytes"):
        hash_image(path, limits=ImageLimits(max_bytes=1000))


def test_missing_file_is_unsupported_media(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedMedia, match="cannot read"):
        hash_image(tmp_path / "nope.jpg")


@pytest.mark.parametrize("mode", ["RGBA", "L", "P", "CMYK", "1", "I;16"])
def test_every_pillow_mode_hashes_in_fast_mode(mode: str) -> None:
    image = Image.fromarray(photo("astronaut")).convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, format="TIFF")
    result = hash_image(buffer.getvalue())
    assert len(result.pdq) == 64 and 0 <= result.quality <= 100


def test_uniform_grey_image_hashes_with_low_quality() -> None:
    grey = np.full((300, 400, 3), 90, dtype=np.uint8)
    assert hash_image(encode_image(grey, "PNG")).quality < 50
