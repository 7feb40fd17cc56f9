"""Decode a video with PyAV and pick the frames to hash, as float luma, one sample per period.

Two samplers, matching the two hash modes:

* exact: what Meta's `vpdq` does (`vpdq/cpp/vpdq/cpp/hashing/filehasher.cpp`). Every frame is
  decoded; frame n (counting decoder output) is hashed when n % int(seconds_per_hash * fps) == 0,
  fps being the stream's average (else real base) frame rate; the frame goes through swscale
  to RGB24 at full size (SWS_AREA, BT.601 matrix, range from the pixel format: what
  `sws_getContext` does when no colour details are set), and luma is taken in float32 as the
  C++ does. Timestamps are float32(n) / float32(fps), as vpdq reports them. On a constant frame
  rate clip this is sampling by presentation time, and the hashes equal vpdq's bit for bit.
* fast: sampling by presentation time (robust to variable frame rate and dropped frames): the
  first frame at or after each multiple of `seconds_per_hash`, measured from the first frame.
  Between sampling times, frames that no other frame is predicted from are not decoded at all
  (`skip_frame=NONREF`, switched per packet, so the frame at the sampling time itself is still
  decoded); luma comes straight from the Y plane (expanded from studio range), box-reduced
  while the short side stays >= 512.

Frames are hashed as stored: a rotation tag (display matrix) is ignored, as vpdq ignores it;
dihedral hashes catch a rotated copy.

Bad input raises `UnsupportedMedia` (not a video, no video stream, corrupt packet, truncated
file) or `MediaTooLarge`; frames are yielded as they are decoded, so a long video streams.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import av
import numpy as np
from av.video.reformatter import Colorspace

from safestream.core.errors import MediaTooLarge, SafeStreamError, UnsupportedMedia
from safestream.media.budget import credit_media_seconds
from safestream.media.kernels import KERNELS
from safestream.media.mp4_boxes import largest_edit_list
from safestream.media.pdq import ByteImage, FloatImage, luma_from_grey, luma_from_rgb_float32
from safestream.media.sniffing import SNIFF_BYTES, is_animated_gif, kind_from_header

SampleMode = Literal["fast", "exact"]
# First boxes of MP4/MOV/3GP files, whose edit lists are counted before FFmpeg opens them.
_MP4_FIRST_BOXES = frozenset({b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip"})
FAST_MIN_SHORT_SIDE = 512
# 8-bit planar YUV layouts whose first plane is the luma we need.
_Y_PLANE_FORMATS = frozenset(
    {
        "yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p",
        "yuv440p", "yuvj440p", "yuv411p", "yuv410p", "nv12", "nv21", "nv16", "gray",
    }
)  # fmt: skip


@dataclass(frozen=True)
class VideoLimits:
    """Upper bounds on what a video may be before we spend time decoding it."""

    max_frame_pixels: int = 8192 * 4352
    # Real files have one to a few edits; FFmpeg's cost grows with each (see mp4_boxes).
    max_edit_list_entries: int = 1024
    # Seconds any one demuxer read may block (PyAV's interrupt callback).
    read_timeout: float = 30.0


DEFAULT_VIDEO_LIMITS = VideoLimits()


@dataclass(frozen=True)
class SampledFrame:
    """One frame chosen for hashing: its number, time in seconds and float luma."""

    frame_number: int
    t: float
    luma: FloatImage
    full_width: int = 0
    full_height: int = 0

    @property
    def full_size(self) -> tuple[int, int]:
        """Width and height of the decoded frame (the luma may be reduced from it)."""
        rows, cols = self.luma.shape
        return (self.full_width or cols, self.full_height or rows)


def sample_frames(
    path: Path,
    *,
    mode: SampleMode = "fast",
    seconds_per_hash: float = 1.0,
    limits: VideoLimits = DEFAULT_VIDEO_LIMITS,
) -> Iterator[SampledFrame]:
    """Yield the frames to hash, one per `seconds_per_hash` (0 = every frame)."""
    if seconds_per_hash < 0 or not math.isfinite(seconds_per_hash):
        raise ValueError(f"seconds_per_hash must be >= 0, got {seconds_per_hash}")
    container = _open(path, limits)
    try:
        stream = _video_stream(container, limits)
        if mode == "exact":
            yield from _exact_samples(container, stream, seconds_per_hash)
        else:
            yield from _fast_samples(container, stream, seconds_per_hash)
    finally:
        container.close()


def _open(path: Path, limits: VideoLimits) -> Any:
    if not path.is_file():
        raise UnsupportedMedia("not a file")
    if path.stat().st_size == 0:
        raise UnsupportedMedia("empty file (0 bytes)")
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if kind_from_header(head) == "image" and not is_animated_gif(path):
        # FFmpeg would happily open a still image as a one-frame video.
        raise UnsupportedMedia("this is an image, not a video")
    if head[4:8] in _MP4_FIRST_BOXES:
        _check_edit_lists(path, limits)
    try:
        timeout = limits.read_timeout
        return av.open(str(path), mode="r", metadata_errors="ignore", timeout=timeout)
    except Exception as exc:
        raise UnsupportedMedia(f"not a readable video: {_describe(exc)}") from exc


def _check_edit_lists(path: Path, limits: VideoLimits) -> None:
    with path.open("rb") as handle:
        edits = largest_edit_list(handle)
    if edits > limits.max_edit_list_entries:
        raise MediaTooLarge(
            f"edit list has {edits} entries, over the limit of {limits.max_edit_list_entries}"
        )


def _video_stream(container: Any, limits: VideoLimits) -> Any:
    streams = container.streams.video
    if not streams:
        raise UnsupportedMedia("no video stream")
    stream = streams[0]
    if stream.codec_context is None:
        # FFmpeg found a track but no decoder for it (e.g. a damaged sample description).
        raise UnsupportedMedia("the video codec cannot be read (damaged or unknown codec)")
    width = stream.codec_context.width
    height = stream.codec_context.height
    if width <= 0 or height <= 0:
        raise UnsupportedMedia(f"video stream has no frame size ({width}x{height})")
    if width * height > limits.max_frame_pixels:
        raise MediaTooLarge(
            f"video frames are {width}x{height}, over the limit of {limits.max_frame_pixels} pixels"
        )
    # FFmpeg refuses to allocate any frame over this size, so a stream that switches to a huge
    # frame size mid-way fails before the memory is spent; _frames then names the cause.
    stream.codec_context.options = {"max_pixels": str(limits.max_frame_pixels)}
    stream.thread_type = "AUTO"
    return stream


def _frames(
    container: Any, stream: Any, before_packet: Callable[[Any], None] | None = None
) -> Iterator[Any]:
    """Decoded frames; any decoder or demuxer failure becomes `UnsupportedMedia`.

    `before_packet` may adjust the decoder (e.g. which frames to skip) packet by packet.
    """
    packets = container.demux(stream)
    last_time = 0.0
    credited = 0.0  # media seconds already paid for in CPU budget (see budget.py)
    limit = _max_pixels(stream)
    while True:
        try:
            packet = next(packets)
            if before_packet is not None:
                before_packet(packet)
            frames = packet.decode()
        except StopIteration:
            return
        except Exception as exc:
            _check_frame_size(stream.codec_context, limit, last_time)
            if isinstance(exc, MemoryError):
                raise MediaTooLarge(
                    f"decoding needs more memory than allowed (at {last_time:.2f} s)"
                ) from exc
            raise UnsupportedMedia(
                f"corrupt video after {last_time:.2f} s: {_describe(exc)}"
            ) from exc
        # The decoder's size follows each new sequence header, even for frames it skips.
        _check_frame_size(stream.codec_context, limit, last_time)
        for frame in frames:
            _check_frame_size(frame, limit, last_time)
            if frame.time is not None:
                last_time = float(frame.time)
            if last_time > credited:
                # At most one second per frame, so a timestamp leap earns no extra time.
                earned = min(1.0, last_time - credited)
                credit_media_seconds(earned)
                credited = max(credited + earned, last_time - 1.0)
            yield frame


def _max_pixels(stream: Any) -> int:
    # The limit _video_stream gave the decoder, so the two checks can never disagree.
    return int(stream.codec_context.options["max_pixels"])


def _check_frame_size(frame: Any, limit: int, at: float) -> None:
    width, height = frame.width or 0, frame.height or 0
    if width * height > limit:
        raise MediaTooLarge(
            f"video frame at {at:.2f} s is {width}x{height}, over the limit of {limit} pixels"
        )


def _frame_rate(stream: Any) -> float:
    rate: Fraction | None = stream.average_rate or stream.base_rate
    if not rate:
        raise UnsupportedMedia("video stream has no frame rate")
    return float(rate)


def _exact_samples(container: Any, stream: Any, seconds_per_hash: float) -> Iterator[SampledFrame]:
    fps = _frame_rate(stream)
    frame_mod = max(1, int(seconds_per_hash * fps))
    width = stream.codec_context.width
    height = stream.codec_context.height
    fps32 = np.float32(fps)
    last_time: float | None = None
    first_time: float | None = None
    for number, frame in enumerate(_frames(container, stream)):
        if frame.time is not None:
            first_time = float(frame.time) if first_time is None else first_time
            last_time = float(frame.time)
        if number % frame_mod:
            continue
        rgb = _to_rgb_as_vpdq(frame, width, height)
        t = float(np.float32(number) / fps32)
        yield SampledFrame(number, t, luma_from_rgb_float32(rgb))
    _check_complete(stream, first_time, last_time)


def _to_rgb_as_vpdq(frame: Any, width: int, height: int) -> ByteImage:
    full_range = frame.format.name.startswith("yuvj")
    try:
        rgb = frame.to_ndarray(
            format="rgb24",
            width=width,
            height=height,
            interpolation="AREA",
            src_colorspace=Colorspace.ITU601,
            dst_colorspace=Colorspace.ITU601,
            src_color_range="JPEG" if full_range else "MPEG",
            dst_color_range="JPEG",
        )
    except Exception as exc:
        raise UnsupportedMedia(f"cannot convert video frame: {_describe(exc)}") from exc
    return np.ascontiguousarray(rgb, dtype=np.uint8)


def _fast_samples(container: Any, stream: Any, seconds_per_hash: float) -> Iterator[SampledFrame]:
    rate = stream.average_rate or stream.base_rate
    fps = float(rate) if rate else 0.0
    first_time: float | None = None
    last_time: float | None = None
    next_t = 0.0

    def skip_unwanted(packet: Any) -> None:
        # A frame before the next sampling time is not decoded at all unless other frames are
        # predicted from it; frames from that time on are, so the sample is the right frame.
        if packet.pts is None or packet.time_base is None or first_time is None:
            wanted = True
        else:
            wanted = float(packet.pts * packet.time_base) - first_time + 1e-6 >= next_t
        stream.codec_context.skip_frame = "DEFAULT" if wanted else "NONREF"

    hook = skip_unwanted if seconds_per_hash > 0 else None
    for count, frame in enumerate(_frames(container, stream, hook)):
        time = _frame_time(frame, count, fps)
        first_time = time if first_time is None else first_time
        last_time = time
        t = time - first_time
        if t + 1e-6 < next_t:
            continue
        if seconds_per_hash > 0:
            next_t = (math.floor(t / seconds_per_hash + 1e-6) + 1) * seconds_per_hash
        number = round(t * fps) if fps else count
        yield SampledFrame(number, round(t, 6), _fast_luma(frame), frame.width, frame.height)
    _check_complete(stream, first_time, last_time)


def _frame_time(frame: Any, count: int, fps: float) -> float:
    if frame.time is not None:
        return float(frame.time)
    # No timestamp (some raw streams): fall back to the frame count at the nominal rate.
    return count / fps if fps else float(count)


def _fast_luma(frame: Any) -> FloatImage:
    width, height = frame.width, frame.height
    if frame.format.name in _Y_PLANE_FORMATS:
        plane = frame.planes[0]
        rows = np.frombuffer(plane, dtype=np.uint8).reshape(height, plane.line_size)
        grey = rows[:, :width]
        full_range = frame.format.name.startswith("yuvj") or frame.format.name == "gray"
        full_range = full_range or getattr(frame, "color_range", 0) == 2
    else:
        grey = np.ascontiguousarray(frame.to_ndarray(format="gray"), dtype=np.uint8)
        full_range = True
    offset, scale = (0.0, 1.0) if full_range else (16.0, 255.0 / 219.0)
    factor = max(1, min(width, height) // FAST_MIN_SHORT_SIDE)
    if factor == 1:
        return luma_from_grey(grey, offset, scale)
    out = np.empty((grey.shape[0] // factor, grey.shape[1] // factor), dtype=np.float32)
    KERNELS.reduced_luma_into(grey, factor, offset, scale, out)
    return out


def _check_complete(stream: Any, first_time: float | None, last_time: float | None) -> None:
    # A file cut short still declares its full length; stopping well before it means damage.
    if first_time is None or last_time is None:
        raise UnsupportedMedia("video has no decodable frames")
    if stream.duration is None or stream.time_base is None:
        return
    declared = float(stream.duration * stream.time_base)
    reached = last_time - first_time
    if reached < declared - max(1.0, 0.05 * declared):
        raise UnsupportedMedia(
            f"video stops at {reached:.1f} s of its declared {declared:.1f} s (truncated?)"
        )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SafeStreamError):
        return str(exc)
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
