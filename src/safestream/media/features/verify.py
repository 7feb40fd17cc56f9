"""Geometric verification: is a large, consistent part of a bank image present in a frame?

Descriptor matches alone are weak evidence: brick, grass, fabric and plain walls give many similar
corners. A candidate is accepted only when, after Lowe's ratio test, a RANSAC (MAGSAC++)
homography explains enough *distinct* correspondences, those inliers are spread over the bank
image (grid cells and convex-hull area), the transform is a plausible view (orientation kept,
bounded scale and perspective), and the frame shows a large enough share of the bank image.

Rooms are 3-D: a new viewpoint moves the bed against the wall, so no single homography fits the
whole room. Room banks therefore also accept an epipolar fit (fundamental matrix), with stricter
counts because a point-to-line constraint lets more chance matches through.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import faiss
import numpy as np
import numpy.typing as npt

from safestream.media.features.extract import LocalFeatures

RATIO = 0.8
MAX_HAMMING = 64
CELLS = 4
# Bank keypoints closer than this (analysed pixels) are one place seen at two scales.
SAME_PLACE = 6.0


@dataclass(frozen=True)
class VerifyPolicy:
    """How much geometric evidence a match needs."""

    min_inliers: int
    min_cells: int  # of CELLS x CELLS cells of the bank image holding an inlier
    min_hull: float  # inliers' convex hull, share of the bank image's area
    min_coverage: float  # share of the bank image inside the frame
    min_inlier_ratio: float = 0.25
    epipolar_inliers: int = 0  # 0: homography only


MEDIA_POLICY = VerifyPolicy(min_inliers=14, min_cells=4, min_hull=0.08, min_coverage=0.2)
ROOM_POLICY = VerifyPolicy(
    min_inliers=22, min_cells=6, min_hull=0.15, min_coverage=0.15, epipolar_inliers=45
)


@dataclass(frozen=True)
class Verification:
    """An accepted match: where the bank image is in the frame and how much of it."""

    inliers: int
    coverage: float  # share of the bank image present in the frame, 0..1
    region: tuple[int, int, int, int]  # x, y, width, height in the frame's source pixels
    transform: list[list[float]] | None  # 3x3 homography, bank unit square -> frame pixels
    model: str  # "homography" or "epipolar"
    cells: int
    hull: float


def correspondences(
    query: LocalFeatures, bank: LocalFeatures
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Ratio-tested matches, one per bank keypoint: (bank points, query points)."""
    empty = np.zeros((0, 2), dtype=np.float32)
    if len(query) < 2 or len(bank) < 2:
        return empty, empty
    index = faiss.IndexBinaryFlat(bank.descriptors.shape[1] * 8)
    index.add(np.ascontiguousarray(bank.descriptors))
    k = min(3, len(bank))
    dist, nearest = index.search(np.ascontiguousarray(query.descriptors), k)
    ok = (dist[:, 0] <= MAX_HAMMING) & (dist[:, 0] < RATIO * _second(dist, nearest, bank.points))
    qi = np.flatnonzero(ok)
    if len(qi) == 0:
        return empty, empty
    bi, d = nearest[qi, 0], dist[qi, 0]
    # Keep the closest query keypoint for each bank keypoint.
    order = np.lexsort((d, bi))
    first = np.ones(len(order), dtype=bool)
    first[1:] = bi[order][1:] != bi[order][:-1]
    keep = order[first]
    return bank.points[bi[keep]], query.points[qi[keep]]


def _second(
    dist: npt.NDArray[np.int32], nearest: npt.NDArray[np.int64], points: npt.NDArray[np.float32]
) -> npt.NDArray[np.float64]:
    """Distance to the nearest bank keypoint at another place than the nearest one.

    The ratio test asks whether the best match is clearly better than any other; a bank keypoint
    found again at another scale, at the same place, is not another candidate, and would make
    every keypoint the bank keeps at two scales fail the test."""
    second = np.full(len(dist), np.inf)
    for j in range(nearest.shape[1] - 1, 0, -1):
        valid = nearest[:, j] >= 0
        apart = np.zeros(len(dist), dtype=bool)
        rows = np.flatnonzero(valid)
        gap = points[nearest[rows, j]] - points[nearest[rows, 0]]
        apart[rows] = np.hypot(gap[:, 0], gap[:, 1]) > SAME_PLACE
        second = np.where(apart, dist[:, j], second)
    return second


def verify(
    query: LocalFeatures, bank: LocalFeatures, policy: VerifyPolicy = MEDIA_POLICY
) -> Verification | None:
    """The match of `bank` inside `query` if the geometry holds up, else None."""
    bank_pts, query_pts = correspondences(query, bank)
    if len(bank_pts) < policy.min_inliers:
        return None
    threshold = max(3.0, 0.008 * max(query.width, query.height))
    h, mask = cv2.findHomography(bank_pts, query_pts, cv2.USAC_MAGSAC, threshold)
    if h is not None and mask is not None:
        hom = np.asarray(h, dtype=np.float64)
        found = _homography_match(query, bank, hom, mask.ravel().astype(bool), bank_pts, policy)
        if found is not None:
            return found
    if policy.epipolar_inliers and len(bank_pts) >= policy.epipolar_inliers:
        f, fmask = cv2.findFundamentalMat(bank_pts, query_pts, cv2.USAC_MAGSAC, threshold, 0.999)
        if f is not None and fmask is not None and f.shape == (3, 3):
            return _epipolar_match(
                query, bank, fmask.ravel().astype(bool), bank_pts, query_pts, policy
            )
    return None


def _spread(points: npt.NDArray[np.float32], bank: LocalFeatures) -> tuple[int, float]:
    cx = np.clip((points[:, 0] * CELLS / bank.width).astype(int), 0, CELLS - 1)
    cy = np.clip((points[:, 1] * CELLS / bank.height).astype(int), 0, CELLS - 1)
    cells = len(set(zip(cx.tolist(), cy.tolist(), strict=True)))
    if len(points) < 3:
        return cells, 0.0
    hull = cv2.convexHull(points.reshape(-1, 1, 2))
    return cells, float(cv2.contourArea(hull)) / float(bank.width * bank.height)


def _distinct(points: npt.NDArray[np.float32]) -> int:
    # Keypoints within 2 px of each other are one point seen at two pyramid levels.
    return len({(int(x) // 2, int(y) // 2) for x, y in points.tolist()})


def _plausible(h: npt.NDArray[np.float64]) -> bool:
    """Keeps orientation, scale within 1/16..16 and mild perspective (a screen filmed askew)."""
    a = h[:2, :2] / h[2, 2]
    det = float(np.linalg.det(a))
    if not 1 / 256 < det < 256:
        return False
    return bool(abs(h[2, 0] / h[2, 2]) < 0.004 and abs(h[2, 1] / h[2, 2]) < 0.004)


def _homography_match(
    query: LocalFeatures,
    bank: LocalFeatures,
    h: npt.NDArray[np.float64],
    inlier_mask: npt.NDArray[np.bool_],
    bank_pts: npt.NDArray[np.float32],
    policy: VerifyPolicy,
) -> Verification | None:
    inliers = bank_pts[inlier_mask]
    count = _distinct(inliers)
    if count < policy.min_inliers or count < policy.min_inlier_ratio * len(bank_pts):
        return None
    if not _plausible(h):
        return None
    cells, hull = _spread(inliers, bank)
    if cells < policy.min_cells or hull < policy.min_hull:
        return None
    corners = np.array(
        [[0, 0], [bank.width, 0], [bank.width, bank.height], [0, bank.height]], dtype=np.float32
    )
    projected = np.asarray(
        cv2.perspectiveTransform(corners.reshape(-1, 1, 2), h), dtype=np.float32
    ).reshape(-1, 2)
    if not cv2.isContourConvex(projected.reshape(-1, 1, 2)):
        return None
    frame = np.array(
        [[0, 0], [query.width, 0], [query.width, query.height], [0, query.height]],
        dtype=np.float32,
    )
    area, _ = cv2.intersectConvexConvex(projected, frame)
    projected_area = float(cv2.contourArea(projected))
    if projected_area <= 0:
        return None
    coverage = min(1.0, float(area) / projected_area)
    if coverage < policy.min_coverage:
        return None
    region = _region(projected, query)
    # Report the transform from the bank image's unit square to the frame's source pixels.
    unit = np.diag([float(bank.width), float(bank.height), 1.0])
    to_source = np.diag([1 / query.scale, 1 / query.scale, 1.0])
    full = to_source @ h @ unit
    full /= full[2, 2]
    return Verification(
        inliers=count,
        coverage=round(coverage, 3),
        region=region,
        transform=[[round(float(v), 6) for v in row] for row in full],
        model="homography",
        cells=cells,
        hull=round(hull, 3),
    )


def _epipolar_match(
    query: LocalFeatures,
    bank: LocalFeatures,
    inlier_mask: npt.NDArray[np.bool_],
    bank_pts: npt.NDArray[np.float32],
    query_pts: npt.NDArray[np.float32],
    policy: VerifyPolicy,
) -> Verification | None:
    inliers = bank_pts[inlier_mask]
    count = _distinct(inliers)
    if count < policy.epipolar_inliers or count < 0.4 * len(bank_pts):
        return None
    cells, hull = _spread(inliers, bank)
    if cells < policy.min_cells + 2 or hull < 2 * policy.min_hull:
        return None
    shown = query_pts[inlier_mask]
    return Verification(
        inliers=count,
        coverage=round(min(1.0, hull), 3),
        region=_region(shown, query),
        transform=None,
        model="epipolar",
        cells=cells,
        hull=round(hull, 3),
    )


def _region(points: npt.NDArray[np.float32], query: LocalFeatures) -> tuple[int, int, int, int]:
    x0 = float(np.clip(points[:, 0].min(), 0, query.width))
    y0 = float(np.clip(points[:, 1].min(), 0, query.height))
    x1 = float(np.clip(points[:, 0].max(), 0, query.width))
    y1 = float(np.clip(points[:, 1].max(), 0, query.height))
    s = 1 / query.scale
    return (int(x0 * s), int(y0 * s), int((x1 - x0) * s), int((y1 - y0) * s))
