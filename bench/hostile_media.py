"""Hostile and corrupt media, generated from benign clips (nothing downloaded, nothing abusive).

Each builder takes a valid file made by `safestream.media.synthetic` and rewrites it into the
shape an attacker or a broken encoder would send: MP4 edit lists with a million entries, a
stream that switches to a huge frame size mid-way, absurd stream counts, bit flips, images
whose header promises more pixels than we allow.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np

from safestream.media.synthetic import encode_image, resized, sample_photo, write_clip


def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        if size < 8:
            return
        yield kind, at, size
        at += size


def _find_box(data: bytes, path: list[bytes]) -> tuple[int, int]:
    start, end = 0, len(data)
    found = (0, 0)
    for name in path:
        for kind, at, size in _boxes(data, start, end):
            if kind == name:
                found = (at, size)
                start, end = at + 8, at + size
                break
        else:
            raise ValueError(f"no {name!r} box")
    return found


def with_edit_list(mp4: bytes, entries: int) -> bytes:
    """The MP4 (moov after mdat, as PyAV writes it) with an edit list of `entries` edits."""
    moov_at, moov_size = _find_box(mp4, [b"moov"])
    trak_at, trak_size = _find_box(mp4, [b"moov", b"trak"])
    edts_at, edts_size = _find_box(mp4, [b"moov", b"trak", b"edts"])
    if moov_at + moov_size != len(mp4):
        raise ValueError("moov must be the last box")
    edit = struct.pack(">IiI", 1, 0, 0x00010000)
    elst_body = struct.pack(">II", 0, entries) + edit * entries
    elst = struct.pack(">I4s", 8 + len(elst_body), b"elst") + elst_body
    edts = struct.pack(">I4s", 8 + len(elst), b"edts") + elst
    grow = len(edts) - edts_size
    out = bytearray(mp4[:edts_at] + edts + mp4[edts_at + edts_size :])
    struct.pack_into(">I", out, trak_at, trak_size + grow)
    struct.pack_into(">I", out, moov_at, moov_size + grow)
    return bytes(out)


def with_many_streams(mp4: bytes, copies: int) -> bytes:
    """The MP4 with its track box repeated `copies` times (an absurd stream count)."""
    moov_at, moov_size = _find_box(mp4, [b"moov"])
    trak_at, trak_size = _find_box(mp4, [b"moov", b"trak"])
    if moov_at + moov_size != len(mp4):
        raise ValueError("moov must be the last box")
    trak = mp4[trak_at : trak_at + trak_size]
    extra = trak * (copies - 1)
    out = bytearray(mp4[: trak_at + trak_size] + extra + mp4[trak_at + trak_size :])
    struct.pack_into(">I", out, moov_at, moov_size + len(extra))
    return bytes(out)


def with_unknown_codec(mp4: bytes) -> bytes:
    """The MP4 with its sample description renamed to a codec nobody knows (a damaged stsd)."""
    stsd = mp4.index(b"stsd")
    at = mp4.index(b"avc1", stsd)
    return mp4[:at] + b"zzzz" + mp4[at + 4 :]


def bit_flipped(data: bytes, seed: int, flips: int = 3, start: int = 0) -> bytes:
    """`data` with `flips` random bits flipped at or after `start`."""
    rnd = random.Random(seed)
    out = bytearray(data)
    for _ in range(flips):
        at = rnd.randrange(start, len(out))
        out[at] ^= 1 << rnd.randrange(8)
    return bytes(out)


def flipped_in_header(mp4: bytes, seed: int) -> bytes:
    """Bits flipped in the MP4's index (moov), where codec parameters live."""
    moov_at, _ = _find_box(mp4, [b"moov"])
    return bit_flipped(mp4, seed, flips=3, start=moov_at)


def resolution_switch(path: Path, small: tuple[int, int], big: tuple[int, int]) -> Path:
    """A MPEG-TS stream whose frames switch from `small` to `big` pixels mid-stream.

    Two encodes are concatenated at the byte level, as a broken or hostile encoder would send
    them; the container header only ever describes the small size. The big part is a few flat
    frames, so the file stays small while each decoded frame is huge.
    """
    first = path.with_suffix(".part1.ts")
    second = path.with_suffix(".part2.ts")
    _flat_ts(first, small, frames=25)
    _flat_ts(second, big, frames=3)
    path.write_bytes(first.read_bytes() + second.read_bytes())
    first.unlink()
    second.unlink()
    return path


def _flat_ts(path: Path, size: tuple[int, int], frames: int) -> None:
    width, height = size
    with av.open(str(path), mode="w", format="mpegts") as container:
        stream = container.add_stream("libx264", rate=25)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "40"}
        grey = np.full((height, width), 128, dtype=np.uint8)
        for index in range(frames):
            grey[:16, :16] = index * 9 % 256
            frame = av.VideoFrame.from_ndarray(grey, format="gray")
            for packet in stream.encode(frame.reformat(format="yuv420p")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def good_clip(path: Path, photo: str = "astronaut", seconds: float = 2.0) -> Path:
    """A small benign clip to start from."""
    return write_clip(path, [sample_photo(photo)], seconds=seconds, width=160, height=120)


def good_image(photo: str = "chelsea", fmt: str = "JPEG") -> bytes:
    """A small benign image."""
    return encode_image(resized(sample_photo(photo), 160, 120), fmt)


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height but whose data is a few bytes (a bomb header)."""
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    # Rows of zeros compress to almost nothing: a real decompression bomb.
    raw = zlib.compressobj(9)
    row = b"\x00" * (width + 1)
    body = b"".join(raw.compress(row) for _ in range(min(height, 64))) + raw.flush()
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks
