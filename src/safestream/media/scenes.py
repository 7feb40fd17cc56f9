"""Benign generated scenes for tests and benchmarks: textures and simple rendered rooms.

A room is a box (back, left and right walls, floor) with a bed, a poster and curtains, each
covered by a procedural texture seeded by the room's number; `render_room` draws it through a
pinhole camera from a given viewpoint and lighting, so the same room can be shown from new
positions. `family` changes the generator's style (layout, palette, light) so a benchmark can
keep one family out of all tuning. "Generic" rooms have plain walls and furniture drawn from a
small shared catalogue, the kind of scene a room bank must not match. Nothing is downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]
TEXTURE = 256
COMMON_FURNITURE = 6  # size of the shared catalogue used by generic rooms


def texture(rng: np.random.Generator, style: str, size: int = TEXTURE) -> Image:
    """A size x size RGB texture: blobs, stripes, noise, tiles, wood or plain."""
    base = rng.integers(40, 220, size=3)
    img = np.zeros((size, size, 3), np.float32) + base.astype(np.float32)
    if style == "blobs":
        for _ in range(int(rng.integers(25, 60))):
            colour = tuple(int(c) for c in rng.integers(0, 256, size=3))
            centre = (int(rng.integers(0, size)), int(rng.integers(0, size)))
            top = max(size // 5, 6)
            axes = (int(rng.integers(3, top)), int(rng.integers(3, top)))
            cv2.ellipse(img, centre, axes, float(rng.uniform(0, 180)), 0, 360, colour, -1)
    elif style == "stripes":
        period = rng.uniform(8, 40)
        x = np.arange(size, dtype=np.float32)
        wave = (np.sin(2 * np.pi * x / period) > 0).astype(np.float32)
        other = rng.integers(0, 256, size=3).astype(np.float32)
        img = img * (1 - wave[None, :, None]) + other * wave[None, :, None]
    elif style == "tiles":
        tile = texture(rng, "blobs", size=int(rng.integers(24, 64)))
        reps = size // tile.shape[0] + 1
        img = np.tile(tile, (reps, reps, 1))[:size, :size].astype(np.float32)
    elif style == "wood":
        y = np.arange(size, dtype=np.float32)[:, None]
        x = np.arange(size, dtype=np.float32)[None, :]
        grain = np.sin(y / rng.uniform(3, 9) + 3 * np.sin(x / rng.uniform(20, 60)))
        img = img + 35 * grain[..., None]
    if style in ("noise", "blobs", "wood"):
        noise = rng.normal(0, 1, (size // 8, size // 8, 3)).astype(np.float32)
        img = img + 25 * cv2.resize(noise, (size, size), interpolation=cv2.INTER_CUBIC)
    if style == "plain":
        img = img + rng.normal(0, 2, img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class Room:
    """The textures of one room's surfaces and where its furniture stands."""

    walls: tuple[Image, Image, Image, Image]  # back, left, right, floor
    bed: Image
    poster: Image
    curtain: Image
    bed_x: float
    poster_x: float
    curtain_x: float = 0.6


@dataclass(frozen=True)
class View:
    """Camera position (room units; room is 4 wide, 2.6 high, 4 deep), yaw/pitch in degrees."""

    x: float = 0.0
    y: float = 1.4
    z: float = -0.6
    yaw: float = 0.0
    pitch: float = -10.0
    gain: float = 1.0
    tint: tuple[float, float, float] = (1.0, 1.0, 1.0)
    noise: float = 3.0


def make_room(seed: int, family: str = "bedroom", generic: bool = False) -> Room:
    """A room from its seed. `generic`: plain walls and catalogue furniture (shared by many)."""
    rng = np.random.default_rng(seed)
    styles = ["blobs", "stripes", "tiles", "wood", "noise"]
    if family == "loft":  # held-out family: only wood, tiles and noise
        styles = ["wood", "tiles", "noise"]
    if generic:
        common = np.random.default_rng(10_000 + int(rng.integers(COMMON_FURNITURE)))
        back, left, right = (texture(rng, "plain") for _ in range(3))
        floor = texture(common, "wood")
        bed = texture(common, "stripes")
        poster = texture(rng, "plain")
        curtain = texture(common, "stripes")
    else:
        back, left, right, floor = (texture(rng, str(rng.choice(styles))) for _ in range(4))
        bed = texture(rng, str(rng.choice(styles)))
        poster = texture(rng, "blobs")
        curtain = texture(rng, str(rng.choice(["stripes", "blobs", "noise"])))
    bed_x, poster_x = float(rng.uniform(-1.2, 0.2)), float(rng.uniform(-1.0, 1.0))
    curtain_x = float(rng.uniform(-1.8, 0.6))
    return Room((back, left, right, floor), bed, poster, curtain, bed_x, poster_x, curtain_x)


def _camera(view: View, width: int, height: int) -> tuple[npt.NDArray[np.float64], ...]:
    f = 0.75 * width
    k = np.array([[f, 0, width / 2], [0, f, height / 2], [0, 0, 1]], dtype=np.float64)
    yaw, pitch = np.radians(view.yaw), np.radians(-view.pitch)
    ry = np.array([[np.cos(yaw), 0, np.sin(yaw)], [0, 1, 0], [-np.sin(yaw), 0, np.cos(yaw)]])
    rx = np.array(
        [[1, 0, 0], [0, np.cos(pitch), -np.sin(pitch)], [0, np.sin(pitch), np.cos(pitch)]]
    )
    r = (ry @ rx).T
    return k, r, np.array([view.x, view.y, view.z])


def _draw_quad(
    canvas: npt.NDArray[np.float32],
    tex: Image,
    corners: npt.NDArray[np.float64],
    cam: tuple[npt.NDArray[np.float64], ...],
) -> None:
    """Paint a textured 3-D rectangle (corners: top-left, top-right, bottom-right, bottom-left)."""
    k, r, c = cam
    local = (r @ (corners - c).T).T
    local[:, 1] *= -1  # world y is up, image y is down
    if np.any(local[:, 2] < 0.05):
        return  # behind the camera: a partial view is not worth the clipping code here
    pix = (k @ local.T).T
    pix = (pix[:, :2] / pix[:, 2:3]).astype(np.float32)
    h, w = canvas.shape[:2]
    size = tex.shape[0]
    src = np.array([[0, 0], [size, 0], [size, size], [0, size]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(src, pix)
    warped = cv2.warpPerspective(tex, m, (w, h), flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.ones((size, size), np.uint8), m, (w, h)) > 0
    canvas[mask] = warped[mask]


def render_room(
    room: Room, view: View, width: int = 640, height: int = 360, seed: int = 0
) -> Image:
    """The room seen from `view`, with its lighting and sensor noise."""
    cam = _camera(view, width, height)
    canvas = np.zeros((height, width, 3), np.float32) + 30
    wx, hy, d = 2.0, 2.6, 4.0
    back, left, right, floor = room.walls
    cx = room.curtain_x
    quads = [
        (floor, [[-wx, 0, d], [wx, 0, d], [wx, 0, 0.3], [-wx, 0, 0.3]]),
        (left, [[-wx, hy, 0.3], [-wx, hy, d], [-wx, 0, d], [-wx, 0, 0.3]]),
        (right, [[wx, hy, d], [wx, hy, 0.3], [wx, 0, 0.3], [wx, 0, d]]),
        (back, [[-wx, hy, d], [wx, hy, d], [wx, 0, d], [-wx, 0, d]]),
        (
            room.curtain,
            [
                [cx, 2.3, d - 0.01],
                [cx + 1.2, 2.3, d - 0.01],
                [cx + 1.2, 0.3, d - 0.01],
                [cx, 0.3, d - 0.01],
            ],
        ),
        (
            room.poster,
            [
                [room.poster_x - 0.4, 2.0, d - 0.02],
                [room.poster_x + 0.4, 2.0, d - 0.02],
                [room.poster_x + 0.4, 1.4, d - 0.02],
                [room.poster_x - 0.4, 1.4, d - 0.02],
            ],
        ),
        (
            room.bed,
            [
                [room.bed_x, 0.5, d - 0.1],
                [room.bed_x + 1.6, 0.5, d - 0.1],
                [room.bed_x + 1.6, 0.5, d - 2.1],
                [room.bed_x, 0.5, d - 2.1],
            ],
        ),
        (
            room.bed,
            [
                [room.bed_x, 0.5, d - 2.1],
                [room.bed_x + 1.6, 0.5, d - 2.1],
                [room.bed_x + 1.6, 0.0, d - 2.1],
                [room.bed_x, 0.0, d - 2.1],
            ],
        ),
    ]
    for tex, corners in quads:
        _draw_quad(canvas, tex, np.array(corners, dtype=np.float64), cam)
    canvas *= view.gain * np.array(view.tint, dtype=np.float32)
    rng = np.random.default_rng(seed)
    canvas += rng.normal(0, view.noise, canvas.shape).astype(np.float32)
    return np.clip(canvas, 0, 255).astype(np.uint8)


def random_view(rng: np.random.Generator, spread: float = 1.0) -> View:
    """A viewpoint and lighting near the default one; `spread` scales how far it strays."""
    return View(
        x=float(rng.uniform(-0.5, 0.5) * spread),
        y=float(1.4 + rng.uniform(-0.25, 0.25) * spread),
        z=float(-0.6 + rng.uniform(-0.4, 0.6) * spread),
        yaw=float(rng.uniform(-12, 12) * spread),
        pitch=float(-10 + rng.uniform(-5, 5) * spread),
        gain=float(rng.uniform(0.6, 1.3)),
        tint=(float(rng.uniform(0.85, 1.15)), 1.0, float(rng.uniform(0.85, 1.15))),
        noise=float(rng.uniform(1, 6)),
    )


def procedural_scene(seed: int, width: int = 640, height: int = 360) -> Image:
    """A flat generated picture (texture collage), for bank fillers and distractors."""
    rng = np.random.default_rng(seed)
    canvas = texture(rng, str(rng.choice(["blobs", "noise", "wood", "plain"])))
    canvas = np.asarray(cv2.resize(canvas, (width, height)), dtype=np.uint8)
    for _ in range(int(rng.integers(2, 6))):
        patch = texture(rng, str(rng.choice(["blobs", "stripes", "tiles", "wood", "noise"])))
        pw, ph = (
            int(rng.integers(width // 8, width // 2)),
            int(rng.integers(height // 8, height // 2)),
        )
        x, y = int(rng.integers(0, width - pw)), int(rng.integers(0, height - ph))
        canvas[y : y + ph, x : x + pw] = cv2.resize(patch, (pw, ph))
    return canvas
