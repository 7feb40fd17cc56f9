"""Local features: ORB keypoints with binary descriptors, and their compact stored form.

A bank image keeps at most `BANK_KEYPOINTS` keypoints, chosen for spread (the strongest few in
each cell of a grid) so that a crop, banner or overlay hiding part of the image still leaves
enough of them, and `SMALL_KEYPOINTS` more found on the image shrunk to `SMALL_LONG_SIDE`, so that
a copy shown small (picture-in-picture) still shares keypoints with it. Records made before the
small keypoints were added hold only the first kind and still work (re-adding the image adds
them). A query frame keeps more keypoints (`QUERY_KEYPOINTS`), since it may show the bank image
small among other content.

Stored form (`to_bytes`), little-endian, no pickle:
  magic "SSLF", version u8, reserved u8, count u16, width u16, height u16,
  then count x (x u16, y u16) in 1/65535 of the analysed image's width and height,
  then count x 32-byte ORB descriptors.
256 + 128 keypoints take 12 + 384 * 36 = 13,836 bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from safestream.core.errors import InvalidInput

MAGIC = b"SSLF"
VERSION = 1
HEADER = struct.Struct("<4sBBHHH")
DESCRIPTOR_BYTES = 32
# Images are analysed with their long side at this many pixels: enough detail for a quarter-frame
# picture-in-picture at 720p, and ORB's cost stays a few milliseconds.
ANALYSIS_LONG_SIDE = 640
BANK_KEYPOINTS = 256

# A copy shown small (picture-in-picture at a quarter of a 720p frame is 180-320 analysed pixels)
# shares few keypoints with the full-size analysis: ORB's pyramid finds most of them at fine
# scales. So a bank image also keeps keypoints found on it at this long side.
SMALL_LONG_SIDE = 256
SMALL_KEYPOINTS = 128
QUERY_KEYPOINTS = 700
# A query frame lets ORB keep this many corners before the grid pass: ORB ranks corners over
# the whole frame, so a low-contrast picture shown small among busy video (picture-in-picture)
# loses its corners to the video's unless far more than are kept are detected. Only the kept
# ones are described, so the cost is in detection.
QUERY_DETECT = 3000
GRID = 8

Descriptors = npt.NDArray[np.uint8]
Points = npt.NDArray[np.float32]


@dataclass(frozen=True)
class LocalFeatures:
    """Keypoint positions (pixels of the analysed image) and their ORB descriptors."""

    width: int
    height: int
    points: Points  # (n, 2) float32, x then y
    descriptors: Descriptors  # (n, 32) uint8
    scale: float = 1.0  # analysed pixels per source pixel

    def __len__(self) -> int:
        return int(self.points.shape[0])

    def to_bytes(self) -> bytes:
        """The compact stored form described in the module docstring."""
        n = len(self)
        header = HEADER.pack(MAGIC, VERSION, 0, n, self.width, self.height)
        size = np.array([max(self.width - 1, 1), max(self.height - 1, 1)], dtype=np.float64)
        unit = np.clip(np.rint(self.points / size * 65535.0), 0, 65535).astype("<u2")
        return header + unit.tobytes() + np.ascontiguousarray(self.descriptors).tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> LocalFeatures:
        """Parse the stored form; raise `InvalidInput` on anything malformed."""
        if len(data) < HEADER.size:
            raise InvalidInput("local features: truncated header")
        magic, version, _, n, width, height = HEADER.unpack_from(data)
        if magic != MAGIC or version != VERSION:
            raise InvalidInput("local features: not a SafeStream feature record")
        expected = HEADER.size + n * (4 + DESCRIPTOR_BYTES)
        if len(data) != expected or width == 0 or height == 0:
            raise InvalidInput(f"local features: {len(data)} bytes, expected {expected}")
        start = HEADER.size
        unit = np.frombuffer(data, dtype="<u2", count=2 * n, offset=start).reshape(n, 2)
        size = np.array([max(width - 1, 1), max(height - 1, 1)], dtype=np.float32)
        points = (unit.astype(np.float32) / 65535.0 * size).astype(np.float32)
        desc = np.frombuffer(data, dtype=np.uint8, offset=start + 4 * n).reshape(n, 32).copy()
        return cls(width, height, points, desc)


def analysis_grey(
    pixels: npt.NDArray[np.uint8], long_side: int = ANALYSIS_LONG_SIDE
) -> tuple[npt.NDArray[np.uint8], float]:
    """Grey image resized so its long side is `long_side` (never enlarged), and the scale."""
    if pixels.ndim == 3:
        channels = pixels.shape[2]
        code = cv2.COLOR_RGBA2GRAY if channels == 4 else cv2.COLOR_RGB2GRAY
        grey: npt.NDArray[np.uint8] = np.asarray(
            cv2.cvtColor(np.ascontiguousarray(pixels[..., : min(channels, 4)]), code), np.uint8
        )
    else:
        grey = np.ascontiguousarray(pixels)
    h, w = grey.shape[:2]
    scale = min(1.0, long_side / max(h, w))
    if scale < 1.0:
        size = (max(round(w * scale), 1), max(round(h * scale), 1))
        grey = np.asarray(cv2.resize(grey, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)
    return grey, scale


def _spread(
    xy: npt.NDArray[np.float32],
    response: npt.NDArray[np.float32],
    width: int,
    height: int,
    limit: int,
) -> npt.NDArray[np.int64]:
    """Indices of at most `limit` keypoints: the strongest of every grid cell first, then the
    second strongest of every cell, and so on (ties within a round by response)."""
    cx = np.minimum((xy[:, 0] * GRID / width).astype(np.int64), GRID - 1)
    cy = np.minimum((xy[:, 1] * GRID / height).astype(np.int64), GRID - 1)
    cell = cy * GRID + cx
    order = np.lexsort((-response, cell))  # by cell, strongest first within a cell
    sorted_cells = cell[order]
    first = np.searchsorted(sorted_cells, sorted_cells, side="left")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order)) - first
    chosen = np.lexsort((-response, rank))[:limit]
    return chosen.astype(np.int64)


def extract_features(
    pixels: npt.NDArray[np.uint8],
    *,
    max_keypoints: int = QUERY_KEYPOINTS,
    long_side: int = ANALYSIS_LONG_SIDE,
    detect: int | None = None,
) -> LocalFeatures:
    """ORB keypoints and descriptors of an RGB or grey image, spread over a grid.

    ORB keeps the `detect` corners with the strongest response over the whole image before the
    grid pass chooses `max_keypoints` of them (default: twice as many, all described). A query
    frame detects `QUERY_DETECT` (see there) and describes only the ones it keeps."""
    grey, scale = analysis_grey(pixels, long_side)
    h, w = grey.shape[:2]
    if min(h, w) < 32:
        return _empty(w, h, scale)
    # A low FAST threshold so dim rooms still give corners; the grid pass then keeps the
    # strongest per cell.
    orb = cv2.ORB.create(
        nfeatures=detect or max_keypoints * 2, fastThreshold=10, edgeThreshold=19, patchSize=19
    )
    descriptors: Descriptors | None
    if detect is None:
        keypoints, found_desc = orb.detectAndCompute(grey, None)
        descriptors = None if found_desc is None else np.asarray(found_desc, np.uint8)
    else:
        found = orb.detect(grey, None)
        keypoints, descriptors = _describe(orb, grey, found, max_keypoints)
    if descriptors is None or not keypoints:
        return _empty(w, h, scale)
    xy = np.array([kp.pt for kp in keypoints], dtype=np.float32).reshape(-1, 2)
    response = np.array([kp.response for kp in keypoints], dtype=np.float32)
    keep = _spread(xy, response, w, h, max_keypoints)
    points = xy[keep]
    return LocalFeatures(w, h, points, descriptors[keep].astype(np.uint8), scale)


def _describe(
    orb: cv2.ORB, grey: npt.NDArray[np.uint8], found: Sequence[cv2.KeyPoint], limit: int
) -> tuple[Sequence[cv2.KeyPoint], Descriptors | None]:
    # Choose by the grid first, then compute descriptors of the chosen keypoints only.
    if not found:
        return [], None
    xy = np.array([kp.pt for kp in found], dtype=np.float32).reshape(-1, 2)
    response = np.array([kp.response for kp in found], dtype=np.float32)
    h, w = grey.shape[:2]
    chosen = [found[i] for i in _spread(xy, response, w, h, limit)]
    keypoints, descriptors = orb.compute(grey, chosen)
    return keypoints, None if descriptors is None else np.asarray(descriptors, np.uint8)


def query_features(pixels: npt.NDArray[np.uint8]) -> LocalFeatures:
    """The features a query frame is looked up with (see `QUERY_DETECT`)."""
    return extract_features(pixels, detect=QUERY_DETECT)


def bank_features(pixels: npt.NDArray[np.uint8]) -> LocalFeatures:
    """The features a bank keeps for one image: at most `BANK_KEYPOINTS` at the analysis size
    and `SMALL_KEYPOINTS` more found on the image at `SMALL_LONG_SIDE` (positions in the
    analysis size's pixels)."""
    full = extract_features(pixels, max_keypoints=BANK_KEYPOINTS)
    small = extract_features(pixels, max_keypoints=SMALL_KEYPOINTS, long_side=SMALL_LONG_SIDE)
    if len(small) == 0:
        return full
    ratio = np.array([full.width / small.width, full.height / small.height], dtype=np.float32)
    return LocalFeatures(
        full.width,
        full.height,
        np.concatenate([full.points, small.points * ratio]).astype(np.float32),
        np.concatenate([full.descriptors, small.descriptors]),
        full.scale,
    )


def _empty(width: int, height: int, scale: float) -> LocalFeatures:
    return LocalFeatures(
        max(width, 1),
        max(height, 1),
        np.zeros((0, 2), dtype=np.float32),
        np.zeros((0, DESCRIPTOR_BYTES), dtype=np.uint8),
        scale,
    )
