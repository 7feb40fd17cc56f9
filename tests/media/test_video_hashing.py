"""Video hashing: vPDQ-identical in exact mode, close and by presentation time in fast mode."""

from __future__ import annotations

import inspect
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import vpdq

from safestream.core.errors import UnsupportedMedia
from safestream.core.signals import pdq_distance
from safestream.media.hashing import FrameHash, hash_video
from safestream.media.synthetic import encode_image, write_clip
from tests.media.hash_samples import bigbuckbunny, clip, photo, workdir


def _vpdq(path: Path, seconds_per_hash: float = 1.0) -> list[tuple[int, str, int, float]]:
    features = vpdq.computeHash(str(path), seconds_per_hash=seconds_per_hash, thread_count=1)
    return [(f.frame_number, f.hex, f.quality, f.timestamp) for f in features]


def _ours(frames: list[FrameHash]) -> list[tuple[int, str, int, float]]:
    return [(f.frame_number, f.pdq, f.quality, f.t) for f in frames]


def test_exact_mode_equals_vpdq_on_a_generated_720p_clip() -> None:
    path = clip()
    assert _ours(list(hash_video(path, mode="exact"))) == _vpdq(path)


def test_exact_mode_equals_vpdq_on_big_buck_bunny() -> None:
    path = bigbuckbunny()
    assert _ours(list(hash_video(path, mode="exact"))) == _vpdq(path)


def test_exact_mode_equals_vpdq_at_two_hashes_per_second() -> None:
    path = clip()
    ours = _ours(list(hash_video(path, mode="exact", seconds_per_hash=0.5)))
    assert ours == _vpdq(path, seconds_per_hash=0.5)
    assert len(ours) == 7


@pytest.mark.parametrize(("codec", "pix_fmt"), [("png", "rgb24"), ("mpeg4", "yuv420p")])
def test_exact_mode_equals_vpdq_on_other_codecs_and_pixel_formats(codec: str, pix_fmt: str) -> None:
    path = write_clip(
        workdir() / f"{codec}.mov", [photo("rocket"), photo("chelsea")], seconds=2.5, fps=10,
        width=320, height=240, codec=codec, pix_fmt=pix_fmt,
    )  # fmt: skip
    ours = list(hash_video(path, mode="exact"))
    assert _ours(ours) == _vpdq(path)
    fast = list(hash_video(path, mode="fast"))
    assert all(pdq_distance(f.pdq, e.pdq) <= 16 for f, e in zip(fast, ours, strict=True))


def test_fast_mode_hashes_the_same_frames_within_a_few_bits_of_exact() -> None:
    # The clip has B-frames, which fast mode skips between sampling times but not at them.
    path = clip()
    exact = list(hash_video(path, mode="exact"))
    fast = list(hash_video(path, mode="fast"))
    assert [f.frame_number for f in fast] == [e.frame_number for e in exact]
    assert [f.t for f in fast] == pytest.approx([e.t for e in exact], abs=1e-6)
    assert all(pdq_distance(f.pdq, e.pdq) <= 8 for f, e in zip(fast, exact, strict=True))
    assert all(abs(f.quality - e.quality) <= 10 for f, e in zip(fast, exact, strict=True))


def test_fast_mode_samples_by_presentation_time_at_ntsc_frame_rate() -> None:
    path = write_clip(
        workdir() / "ntsc.mp4", [photo("coffee")], seconds=4, fps=Fraction(30000, 1001),
        width=320, height=240,
    )  # fmt: skip
    times = [f.t for f in hash_video(path, mode="fast")]
    assert len(times) == 4
    # One sample per second of presentation time; a frame-count rule (every 29th frame) drifts.
    assert all(k <= t < k + 0.1 for k, t in enumerate(times))


def test_every_frame_is_hashed_when_seconds_per_hash_is_zero() -> None:
    frames = list(hash_video(clip(), mode="fast", seconds_per_hash=0))
    assert [f.frame_number for f in frames] == list(range(75))


def test_dihedral_hashes_are_given_per_frame_on_request() -> None:
    frame = next(iter(hash_video(clip(), dihedral=True)))
    assert frame.dihedral is not None and frame.dihedral["original"] == frame.pdq
    assert len(frame.dihedral) == 8


def test_hash_video_is_a_lazy_iterator() -> None:
    frames = hash_video(clip())
    assert inspect.isgenerator(frames)
    assert next(frames).frame_number == 0
    frames.close()


def test_letterboxed_video_frames_carry_a_trimmed_hash() -> None:
    still = photo("astronaut")
    boxed = np.zeros((512 + 256, 512, 3), dtype=np.uint8)
    boxed[128:640] = still
    path = write_clip(workdir() / "boxed.mp4", [boxed], seconds=1, width=480, height=720)
    frame = next(iter(hash_video(path)))
    assert frame.pdq_trimmed is not None


def test_file_with_only_audio_is_unsupported_media(tmp_path: Path) -> None:
    path = tmp_path / "tone.mp4"
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("aac", rate=48000)
        samples = np.sin(np.linspace(0, 440 * 2 * np.pi, 48000)).astype(np.float32)
        for start in range(0, 48000, 1024):
            chunk = samples[None, start : start + 1024]
            frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
            frame.sample_rate = 48000
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    with pytest.raises(UnsupportedMedia, match="no video stream"):
        list(hash_video(path))


def test_truncated_video_with_index_at_the_end_is_unsupported_media(tmp_path: Path) -> None:
    data = clip().read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(UnsupportedMedia):
        list(hash_video(cut))


@pytest.mark.parametrize("mode", ["fast", "exact"])
def test_truncated_faststart_video_reports_where_it_stops(tmp_path: Path, mode: str) -> None:
    path = write_clip(
        tmp_path / "faststart.mp4", [photo("coffee"), photo("rocket")], seconds=6,
        width=320, height=240, container_options={"movflags": "faststart"},
    )  # fmt: skip
    data = path.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 3])
    with pytest.raises(UnsupportedMedia, match="truncated"):
        list(hash_video(cut, mode=mode))  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["fast", "exact"])
def test_broken_packet_mid_file_ends_hashing_with_an_error(tmp_path: Path, mode: str) -> None:
    path = clip()
    with av.open(str(path)) as container:
        packets = [(p.pos, p.size) for p in container.demux(video=0) if p.size]
    position, _ = packets[len(packets) // 2]
    data = bytearray(path.read_bytes())
    data[position : position + 4] = b"\xff\xff\xff\xff"  # an impossible NAL unit length
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(bytes(data))
    seen: list[float] = []
    with pytest.raises(UnsupportedMedia, match="corrupt video after"):
        for frame in hash_video(broken, mode=mode):  # type: ignore[arg-type]
            seen.append(frame.t)
    assert seen == [0.0, 1.0]


def test_empty_file_is_unsupported_media(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(UnsupportedMedia, match="empty"):
        list(hash_video(empty))


def test_negative_seconds_per_hash_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        list(hash_video(clip(), seconds_per_hash=-1))


def test_still_image_is_not_hashed_as_a_one_frame_video(tmp_path: Path) -> None:
    path = tmp_path / "photo.mp4"
    path.write_bytes(encode_image(photo("coffee"), "JPEG"))
    with pytest.raises(UnsupportedMedia, match="image, not a video"):
        list(hash_video(path))
