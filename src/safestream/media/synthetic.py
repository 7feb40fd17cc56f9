"""Benign synthetic media for tests, benchmarks and demos: encoded stills and panned clips.

Callers supply the stills (e.g. scikit-image's sample photos); nothing is downloaded.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

from safestream.media.pdq import ByteImage


def sample_photo(name: str) -> ByteImage:
    """A scikit-image sample photo (e.g. "chelsea", "rocket") as an RGB uint8 array."""
    import skimage.data

    pixels = np.asarray(getattr(skimage.data, name)())
    if pixels.ndim == 2:
        pixels = np.stack([pixels] * 3, axis=-1)
    return np.ascontiguousarray(pixels[..., :3].astype(np.uint8))


def encode_image(pixels: ByteImage, format: str = "JPEG", **options: object) -> bytes:
    """Encode an RGB or grey array as an image file in memory (Pillow format name)."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=format, **options)
    return buffer.getvalue()


def resized(pixels: ByteImage, width: int, height: int) -> ByteImage:
    """An RGB copy of `pixels` resized to width x height (Lanczos)."""
    image = Image.fromarray(pixels).convert("RGB").resize((width, height), Image.Resampling.LANCZOS)
    return np.asarray(image, dtype=np.uint8)


def write_clip(
    path: Path,
    stills: Sequence[ByteImage],
    *,
    seconds: float = 4.0,
    fps: int | Fraction = 25,
    width: int = 1280,
    height: int = 720,
    codec: str = "libx264",
    crf: int = 23,
    pix_fmt: str = "yuv420p",
    container_options: dict[str, str] | None = None,
) -> Path:
    """Encode a clip that shows each still in turn, slowly panned, with a moving coloured box."""
    if not stills:
        raise ValueError("need at least one still")
    margin = max(16, width // 8)
    canvases = [resized(s, width + margin, height + margin) for s in stills]
    frames = max(1, round(seconds * float(fps)))
    with av.open(str(path), mode="w", options=container_options or {}) as container:
        stream = container.add_stream(codec, rate=fps)
        assert isinstance(stream, av.VideoStream)
        stream.width = width
        stream.height = height
        stream.pix_fmt = pix_fmt
        if codec == "libx264":
            stream.options = {"preset": "veryfast", "crf": str(crf)}
        for index in range(frames):
            canvas = canvases[index * len(canvases) // frames]
            shift = (index * 3) % margin
            frame = canvas[shift // 2 : shift // 2 + height, shift : shift + width].copy()
            box_y = (index * 7) % max(1, height - height // 8)
            frame[box_y : box_y + height // 9, width // 12 : width // 4] = (255, index * 5 % 256, 0)
            video_frame = av.VideoFrame.from_ndarray(frame, format="rgb24")
            for packet in stream.encode(video_frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
