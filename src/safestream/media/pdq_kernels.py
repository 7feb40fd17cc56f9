"""The numeric kernels of PDQ and border finding, in numba.

Moved out of `pdq` and `borders` so that they can be compiled ahead of time
(`safestream.media.kernels_build`) into a small extension that loads without numba; without
that extension `safestream.media.kernels` runs these with numba's JIT. Both run this source, so
both give the same bits. Kernels write into arrays the caller allocates, a calling convention
that ahead-of-time export supports.
"""

from __future__ import annotations

from typing import Any

import numba as nb
import numpy as np
import numpy.typing as npt

FloatImage = npt.NDArray[np.float32]
ByteImage = npt.NDArray[np.uint8]


@nb.njit(cache=True, nogil=True)
def _box_rows(src: FloatImage, dst: FloatImage, window: int) -> None:
    # box1DFloat along each row: grow the window, slide it, shrink it at the far edge.
    rows, cols = src.shape
    half = (window + 2) // 2
    for r in range(rows):
        total = np.float32(0.0)
        size = 0
        right = 0
        left = 0
        out = 0
        for _ in range(half - 1):
            total += src[r, right]
            size += 1
            right += 1
        for _ in range(window - half + 1):
            total += src[r, right]
            size += 1
            dst[r, out] = total / np.float32(size)
            right += 1
            out += 1
        for _ in range(cols - window):
            total += src[r, right]
            total -= src[r, left]
            dst[r, out] = total / np.float32(size)
            left += 1
            right += 1
            out += 1
        for _ in range(half - 1):
            total -= src[r, left]
            size -= 1
            dst[r, out] = total / np.float32(size)
            left += 1
            out += 1


@nb.njit(cache=True, nogil=True)
def _box_cols(src: FloatImage, dst: FloatImage, window: int) -> None:
    # The same 1-D filter down every column, run for all columns at once so memory is read
    # row by row; each column still sees exactly the C++ sequence of float operations.
    rows, cols = src.shape
    half = (window + 2) // 2
    total = np.zeros(cols, dtype=np.float32)
    size = 0
    right = 0
    left = 0
    out = 0
    for _ in range(half - 1):
        for c in range(cols):
            total[c] += src[right, c]
        size += 1
        right += 1
    for _ in range(window - half + 1):
        size += 1
        divisor = np.float32(size)
        for c in range(cols):
            total[c] += src[right, c]
            dst[out, c] = total[c] / divisor
        right += 1
        out += 1
    for _ in range(rows - window):
        divisor = np.float32(size)
        for c in range(cols):
            total[c] += src[right, c]
            total[c] -= src[left, c]
            dst[out, c] = total[c] / divisor
        left += 1
        right += 1
        out += 1
    for _ in range(half - 1):
        size -= 1
        divisor = np.float32(size)
        for c in range(cols):
            total[c] -= src[left, c]
            dst[out, c] = total[c] / divisor
        left += 1
        out += 1


@nb.njit(cache=True, nogil=True)
def _jarosz_blur(luma: FloatImage, window_along_rows: int, window_along_cols: int) -> FloatImage:
    buffer1 = luma.copy()
    buffer2 = np.empty_like(buffer1)
    for _ in range(2):
        _box_rows(buffer1, buffer2, window_along_rows)
        _box_cols(buffer2, buffer1, window_along_cols)
    return buffer1


@nb.njit(cache=True, nogil=True)
def _quality_and_dct(small: FloatImage, dct: FloatImage, coefficients: FloatImage) -> int:
    gradient_sum = 0
    hundred = np.float32(100.0)
    full = np.float32(255.0)
    for i in range(63):
        for j in range(64):
            gradient_sum += abs(int(((small[i, j] - small[i + 1, j]) * hundred) / full))
    for i in range(64):
        for j in range(63):
            gradient_sum += abs(int(((small[i, j] - small[i, j + 1]) * hundred) / full))
    quality = min(gradient_sum // 90, 100)

    partial = np.empty((16, 64), dtype=np.float32)
    for i in range(16):
        for j in range(64):
            acc = np.float32(0.0)
            for k in range(64):
                acc += dct[i, k] * small[k, j]
            partial[i, j] = acc
    for i in range(16):
        for j in range(16):
            acc = np.float32(0.0)
            for k in range(64):
                acc += partial[i, k] * dct[j, k]
            coefficients[i, j] = acc
    return quality


@nb.njit(cache=True, nogil=True)
def dct_and_quality_into(luma: FloatImage, dct: FloatImage, coefficients: FloatImage) -> int:
    # The reference: blur with windows ceil(dim / 128), sample cell centres, DCT.
    rows, cols = luma.shape
    window_along_rows = (cols + 2 * 64 - 1) // (2 * 64)
    window_along_cols = (rows + 2 * 64 - 1) // (2 * 64)
    blurred = _jarosz_blur(luma, window_along_rows, window_along_cols)
    small = np.empty((64, 64), dtype=np.float32)
    for oi in range(64):
        ini = int(((oi + 0.5) * rows) / 64)
        for oj in range(64):
            inj = int(((oj + 0.5) * cols) / 64)
            small[oi, oj] = blurred[ini, inj]
    return _quality_and_dct(small, dct, coefficients)


@nb.njit(cache=True, nogil=True)
def _box_weights_back(weights: npt.NDArray[np.float64], n: int, window: int) -> None:
    # Carry weights on a box filter's outputs back to its inputs, in place. Output o of
    # box1DFloat is the mean of inputs [o - (window - half), o + half - 1] clipped to the axis.
    half = (window + 2) // 2
    below, above = window - half, half - 1
    carried = np.zeros(n, dtype=np.float64)
    for o in range(n):
        w = weights[o]
        if w == 0.0:
            continue
        lo, hi = max(0, o - below), min(n - 1, o + above)
        share = w / (hi - lo + 1)
        for i in range(lo, hi + 1):
            carried[i] += share
    weights[:] = carried


@nb.njit(cache=True, nogil=True)
def _sample_weights(
    n: int, window: int, positions: npt.NDArray[np.float64], lows: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64]:
    # For each of the 64 sample points: the weight of every input pixel in the blurred value
    # read there (two box passes, then bilinear reading), and the first pixel with any weight.
    weights = np.zeros((64, n), dtype=np.float64)
    for k in range(64):
        p0 = min(int(positions[k]), n - 1)
        p1 = min(p0 + 1, n - 1)
        frac = positions[k] - p0
        weights[k, p0] += 1.0 - frac
        weights[k, p1] += frac
        _box_weights_back(weights[k], n, window)
        _box_weights_back(weights[k], n, window)
        low = 0
        while low < n - 1 and weights[k, low] == 0.0:
            low += 1
        lows[k] = low
    return weights


@nb.njit(cache=True, nogil=True)
def _support_end(weights: npt.NDArray[np.float64], low: int) -> int:
    end = low
    n = weights.shape[0]
    while end < n and weights[end] != 0.0:
        end += 1
    return end


@nb.njit(cache=True, nogil=True)
def scaled_dct_and_quality_into(
    luma: FloatImage,
    dct: FloatImage,
    window_along_rows: int,
    window_along_cols: int,
    row_positions: npt.NDArray[np.float64],
    col_positions: npt.NDArray[np.float64],
    coefficients: FloatImage,
) -> int:
    # Given windows and fractional sample positions, the blurred image read bilinearly at the
    # 64x64 points. Blur and reading are linear and separable, so each point's value is a
    # weighted sum over a small neighbourhood: computing those sums directly reads each pixel
    # about 14 times per axis pass instead of blurring all of it four times (fast mode only;
    # the exact mode keeps the reference's order of float operations).
    rows, cols = luma.shape
    col_lows = np.empty(64, dtype=np.int64)
    row_lows = np.empty(64, dtype=np.int64)
    col_weights = _sample_weights(cols, window_along_rows, col_positions, col_lows)
    row_weights = _sample_weights(rows, window_along_cols, row_positions, row_lows)
    col_ends = np.empty(64, dtype=np.int64)
    for k in range(64):
        col_ends[k] = _support_end(col_weights[k], col_lows[k])
    across = np.zeros((rows, 64), dtype=np.float64)
    for r in range(rows):
        for k in range(64):
            total = 0.0
            for c in range(col_lows[k], col_ends[k]):
                total += luma[r, c] * col_weights[k, c]
            across[r, k] = total
    small = np.empty((64, 64), dtype=np.float32)
    for i in range(64):
        end = _support_end(row_weights[i], row_lows[i])
        for k in range(64):
            total = 0.0
            for r in range(row_lows[i], end):
                total += row_weights[i, r] * across[r, k]
            small[i, k] = total
    return _quality_and_dct(small, dct, coefficients)


@nb.njit(cache=True, nogil=True)
def torben_median(values: FloatImage) -> Any:  # a float32 scalar inside numba
    # Torben's median as in torben.cpp; for n even it returns the upper middle value.
    n = values.size
    low = values[0]
    high = values[0]
    for i in range(1, n):
        low = min(low, values[i])
        high = max(high, values[i])
    half = (n + 1) // 2
    while True:
        guess = (low + high) / np.float32(2.0)
        less = 0
        greater = 0
        equal = 0
        max_below = low
        min_above = high
        for i in range(n):
            v = values[i]
            if v < guess:
                less += 1
                if v > max_below:
                    max_below = v
            elif v > guess:
                greater += 1
                if v < min_above:
                    min_above = v
            else:
                equal += 1
        if less <= half and greater <= half:
            break
        if less > greater:
            high = max_below
        else:
            low = min_above
    if less >= half:
        return max_below
    if less + equal >= half:
        return guess
    return min_above


@nb.njit(cache=True, nogil=True)
def luma_from_rgb_float64_into(rgb: ByteImage, out: FloatImage) -> None:
    """Luma as PyPI `pdqhash` computes it: in float64, then rounded to float32."""
    rows, cols, _ = rgb.shape
    for i in range(rows):
        for j in range(cols):
            out[i, j] = np.float32(
                rgb[i, j, 0] * 0.299 + rgb[i, j, 1] * 0.587 + rgb[i, j, 2] * 0.114
            )


@nb.njit(cache=True, nogil=True)
def luma_from_rgb_float32_into(rgb: ByteImage, out: FloatImage) -> None:
    """Luma as the C++ `fillFloatLumaFromRGB` (used by vPDQ) computes it: all in float32."""
    rows, cols, _ = rgb.shape
    cr = np.float32(0.299)
    cg = np.float32(0.587)
    cb = np.float32(0.114)
    for i in range(rows):
        for j in range(cols):
            out[i, j] = (
                cr * np.float32(rgb[i, j, 0])
                + cg * np.float32(rgb[i, j, 1])
                + cb * np.float32(rgb[i, j, 2])
            )


@nb.njit(cache=True, nogil=True)
def luma_from_grey_into(grey: ByteImage, offset: float, scale: float, out: FloatImage) -> None:
    """Float luma from an 8-bit grey or Y plane, as (value - offset) * scale."""
    rows, cols = grey.shape
    off = np.float32(offset)
    mul = np.float32(scale)
    for i in range(rows):
        for j in range(cols):
            out[i, j] = (np.float32(grey[i, j]) - off) * mul


@nb.njit(cache=True, nogil=True)
def border_depth(lines: FloatImage, tolerance: float, share: float, limit: int) -> int:
    # `lines` is viewed so that row 0 is the outermost line of one side.
    count = lines.shape[1]
    colour = np.median(lines[0])
    needed = share * count
    depth = 0
    while depth < limit:
        inside = 0
        for j in range(count):
            if abs(lines[depth, j] - colour) <= tolerance:
                inside += 1
        if inside < needed:
            break
        depth += 1
    return depth


@nb.njit(cache=True, nogil=True)
def reduced_luma_into(
    grey: ByteImage, factor: int, offset: float, scale: float, out: FloatImage
) -> None:
    # Box-average factor x factor blocks and map studio-range Y to 0-255 in one pass.
    rows = grey.shape[0] // factor
    cols = grey.shape[1] // factor
    norm = np.float32(scale / (factor * factor))
    off = np.float32(offset * factor * factor)
    for i in range(rows):
        for j in range(cols):
            total = 0
            for di in range(factor):
                for dj in range(factor):
                    total += grey[i * factor + di, j * factor + dj]
            out[i, j] = (np.float32(total) - off) * norm
