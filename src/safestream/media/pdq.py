"""PDQ, Meta's 256-bit perceptual hash, computed from a float luma image.

This is a line-by-line port of the reference C++ (`pdq/cpp/hashing/pdqhashing.cpp`,
`pdq/cpp/downscaling/downscaling.cpp`, `torben.cpp`) to numba, done in float32 in the same order
of operations, so on the same luma it gives the same bits and quality as PyPI `pdqhash` and
`vpdq` (the tests check this on Meta's conformance photos and on decoded video frames). Owning
the pipeline lets us feed luma straight from a JPEG's Y channel or a video's Y plane (fast mode)
and compute the 8 dihedral hashes from one DCT, without the reference wrapper's float64 copy.

Pipeline: two passes of Jarosz box filters (window ceil(dim/128) per axis), decimation to 64x64
at cell centres, a gradient-based quality score 0-100, a 16x16 slice of the 64x64 DCT-II, and
one bit per coefficient above the (Torben) median. Bit i*16+j is coefficient (i, j); the hex
form prints bit 255 first, as ThreatExchange and HMA do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from safestream.media.kernels import KERNELS

FloatImage = npt.NDArray[np.float32]
ByteImage = npt.NDArray[np.uint8]

# Images with a side under this many pixels get the all-zero hash and quality 0, as in the C++.
MIN_HASHABLE_DIM = 5
DIHEDRAL_NAMES = (
    "original",
    "rotate90",
    "rotate180",
    "rotate270",
    "flipx",
    "flipy",
    "flip_plus1",
    "flip_minus1",
)
ZERO_HASH = "0" * 64


def _dct_matrix() -> FloatImage:
    # As the C++: a float scale times a double cosine, rounded to float per entry.
    scale = float(np.float32(math.sqrt(2.0 / 64.0)))
    matrix = np.empty((16, 64), dtype=np.float32)
    for i in range(16):
        for j in range(64):
            matrix[i, j] = scale * math.cos((math.pi / 2.0 / 64.0) * (i + 1) * (2 * j + 1))
    return matrix


_DCT = _dct_matrix()


def luma_from_rgb_float64(rgb: ByteImage) -> FloatImage:
    """Luma as PyPI `pdqhash` computes it: in float64, then rounded to float32."""
    out = np.empty(rgb.shape[:2], dtype=np.float32)
    KERNELS.luma_from_rgb_float64_into(np.ascontiguousarray(rgb, dtype=np.uint8), out)
    return out


def luma_from_rgb_float32(rgb: ByteImage) -> FloatImage:
    """Luma as the C++ `fillFloatLumaFromRGB` (used by vPDQ) computes it: all in float32."""
    out = np.empty(rgb.shape[:2], dtype=np.float32)
    KERNELS.luma_from_rgb_float32_into(np.ascontiguousarray(rgb, dtype=np.uint8), out)
    return out


def luma_from_grey(grey: ByteImage, offset: float, scale: float) -> FloatImage:
    """Float luma from an 8-bit grey or Y plane, as (value - offset) * scale."""
    out = np.empty(grey.shape, dtype=np.float32)
    KERNELS.luma_from_grey_into(np.asarray(grey, dtype=np.uint8), offset, scale, out)
    return out


@dataclass(frozen=True)
class PdqResult:
    """A PDQ hash in hex, its quality 0-100, and optionally the 8 dihedral hashes by name."""

    hex: str
    quality: int
    dihedral: dict[str, str] | None = None


def _bits_hex(coefficients: FloatImage) -> str:
    flat = np.ascontiguousarray(coefficients).ravel()
    median = KERNELS.torben_median(flat)
    # Bit k is coefficient k; the text form prints bit 255 first.
    return np.packbits((flat > median)[::-1]).tobytes().hex()


_I, _J = np.indices((16, 16))
_ODD_J = np.where(_J % 2 == 1, 1.0, -1.0).astype(np.float32)
_ODD_I = np.where(_I % 2 == 1, 1.0, -1.0).astype(np.float32)
_EVEN_SUM = np.where((_I + _J) % 2 == 0, 1.0, -1.0).astype(np.float32)


def dihedral_coefficients(coefficients: FloatImage) -> dict[str, FloatImage]:
    """The DCT of each rotated or mirrored image, by sign flips and transposes (as the C++)."""
    a = coefficients
    return {
        "original": a,
        "rotate90": (a * _ODD_J).T,
        "rotate180": a * _EVEN_SUM,
        "rotate270": (a * _ODD_I).T,
        "flipx": a * _ODD_I,
        "flipy": a * _ODD_J,
        "flip_plus1": a.T,
        "flip_minus1": (a * _EVEN_SUM).T,
    }


def pdq_from_luma(luma: FloatImage, *, dihedral: bool = False) -> PdqResult:
    """PDQ hash and quality of a float32 luma image (rows x columns, values 0-255)."""
    if luma.ndim != 2:
        raise ValueError(f"luma must be 2-D, got shape {luma.shape}")
    rows, cols = luma.shape
    if rows < MIN_HASHABLE_DIM or cols < MIN_HASHABLE_DIM:
        zeros = dict.fromkeys(DIHEDRAL_NAMES, ZERO_HASH) if dihedral else None
        return PdqResult(ZERO_HASH, 0, zeros)
    image = np.ascontiguousarray(luma, dtype=np.float32)
    coefficients = np.empty((16, 16), dtype=np.float32)
    quality = KERNELS.dct_and_quality_into(image, _DCT, coefficients)
    return _result(coefficients, int(quality), dihedral)


def _result(coefficients: FloatImage, quality: int, dihedral: bool) -> PdqResult:
    if not dihedral:
        return PdqResult(_bits_hex(coefficients), quality)
    variants = {
        name: _bits_hex(coeffs) for name, coeffs in dihedral_coefficients(coefficients).items()
    }
    return PdqResult(variants["original"], quality, variants)


def _scaled_axis(full: int, reduced: int) -> tuple[int, npt.NDArray[np.float64]]:
    """Box window and sample positions on a reduced axis that mimic the full-size pipeline."""
    scale = full / reduced
    full_window = (full + 2 * 64 - 1) // (2 * 64)
    # Match the blur's variance: the reduction itself acts as a box of `scale` full pixels.
    ideal = math.sqrt(max(full_window**2 - scale**2 / 2.0, 1.0)) / scale
    window = max(1, 2 * round((ideal - 1.0) / 2.0) + 1)  # odd, so the box stays centred
    # An even reference window shifts content by half a pixel per pass (two passes).
    shift = 1.0 if full_window % 2 == 0 else 0.0
    centres = np.array([int(((i + 0.5) * full) / 64) + shift for i in range(64)], dtype=np.float64)
    positions = np.clip((centres + 0.5) / scale - 0.5, 0.0, reduced - 1.0)
    return window, positions


def pdq_from_scaled_luma(
    luma: FloatImage, full_width: int, full_height: int, *, dihedral: bool = False
) -> PdqResult:
    """PDQ approximating the full-size image's hash from luma decoded at a reduced size.

    Fast mode decodes at 1/2, 1/4 or 1/8 size; running the reference pipeline on that smaller
    image blurs a little more and samples slightly different points. Here the box windows are
    chosen to match the full-size blur and the 64x64 grid is read, bilinearly, at the points the
    full-size pipeline would read, which roughly halves the drift from the exact hash.
    """
    rows, cols = luma.shape
    if (rows, cols) == (full_height, full_width) or min(rows, cols) < MIN_HASHABLE_DIM:
        return pdq_from_luma(luma, dihedral=dihedral)
    window_along_rows, col_positions = _scaled_axis(full_width, cols)
    window_along_cols, row_positions = _scaled_axis(full_height, rows)
    coefficients = np.empty((16, 16), dtype=np.float32)
    quality = KERNELS.scaled_dct_and_quality_into(
        np.ascontiguousarray(luma, dtype=np.float32),
        _DCT,
        window_along_rows,
        window_along_cols,
        row_positions,
        col_positions,
        coefficients,
    )
    return _result(coefficients, int(quality), dihedral)
