"""Content sniffing: images and videos are told apart by their bytes, not their names."""

from __future__ import annotations

from pathlib import Path

import pytest

from safestream.core.errors import UnsupportedMedia
from safestream.media.hashing import file_digests, media_kind
from safestream.media.synthetic import encode_image
from tests.media.hash_samples import bigbuckbunny, photo


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF"])
def test_each_image_format_is_sniffed_as_image(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "picture.bin"
    path.write_bytes(encode_image(photo("coffee")[:64, :64], fmt))
    assert media_kind(path) == "image"


def test_mp4_is_sniffed_as_video_whatever_its_name(tmp_path: Path) -> None:
    path = tmp_path / "holiday.jpg"
    path.write_bytes(bigbuckbunny().read_bytes())
    assert media_kind(path) == "video"


@pytest.mark.parametrize(
    "head",
    [b"\x1a\x45\xdf\xa3" + bytes(60), b"RIFF\x00\x00\x00\x00AVI LIST" + bytes(50), b"FLV\x01"],
)
def test_matroska_avi_and_flv_headers_are_video(tmp_path: Path, head: bytes) -> None:
    path = tmp_path / "clip"
    path.write_bytes(head)
    assert media_kind(path) == "video"


def test_text_file_is_neither_and_raises(tmp_path: Path) -> None:
    path = tmp_path / "notes.jpg"
    path.write_text("just some words\n")
    with pytest.raises(UnsupportedMedia, match="not an image or video"):
        media_kind(path)


def test_zero_byte_file_raises_naming_it_empty(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp4"
    path.write_bytes(b"")
    with pytest.raises(UnsupportedMedia, match="empty"):
        media_kind(path)


def test_file_digests_stream_md5_and_sha256(tmp_path: Path) -> None:
    import hashlib

    data = bytes(range(256)) * 10_000
    path = tmp_path / "blob"
    path.write_bytes(data)
    assert file_digests(path) == (hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest())
