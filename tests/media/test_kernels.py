"""The ahead-of-time PDQ kernels give exactly what numba's JIT gives; stale builds go unused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from safestream.media import kernels
from safestream.media import pdq_kernels as jit

AOT = kernels.load_aot()
needs_build = pytest.mark.skipif(
    AOT is None, reason="no current ahead-of-time build (make builds it)"
)
RNG = np.random.default_rng(7)


def _luma(rows: int, cols: int) -> np.ndarray:
    return (RNG.random((rows, cols), dtype=np.float32) * 255).astype(np.float32)


def _dct() -> np.ndarray:
    from safestream.media.pdq import _DCT

    return _DCT


@needs_build
@pytest.mark.parametrize("shape", [(64, 64), (97, 131), (540, 960)])
def test_full_size_dct_and_quality_agree_bit_for_bit(shape: tuple[int, int]) -> None:
    luma = _luma(*shape)
    ours, theirs = np.empty((16, 16), np.float32), np.empty((16, 16), np.float32)
    assert AOT.dct_and_quality_into(luma, _dct(), ours) == jit.dct_and_quality_into(
        luma, _dct(), theirs
    )
    assert ours.tobytes() == theirs.tobytes()


@needs_build
def test_scaled_dct_and_quality_agree_bit_for_bit() -> None:
    from safestream.media.pdq import _scaled_axis

    luma = _luma(270, 480)
    window_rows, cols = _scaled_axis(1920, 480)
    window_cols, rows = _scaled_axis(1080, 270)
    args = (luma, _dct(), window_rows, window_cols, rows, cols)
    ours, theirs = np.empty((16, 16), np.float32), np.empty((16, 16), np.float32)
    assert AOT.scaled_dct_and_quality_into(*args, ours) == jit.scaled_dct_and_quality_into(
        *args, theirs
    )
    assert ours.tobytes() == theirs.tobytes()


@needs_build
def test_lumas_medians_and_borders_agree() -> None:
    rgb = (RNG.random((33, 47, 3)) * 255).astype(np.uint8)
    for name in ("luma_from_rgb_float64_into", "luma_from_rgb_float32_into"):
        ours, theirs = np.empty((33, 47), np.float32), np.empty((33, 47), np.float32)
        getattr(AOT, name)(rgb, ours)
        getattr(jit, name)(rgb, theirs)
        assert ours.tobytes() == theirs.tobytes(), name
    grey = rgb[..., 0]
    ours, theirs = np.empty((33, 47), np.float32), np.empty((33, 47), np.float32)
    AOT.luma_from_grey_into(grey, 16.0, 255 / 219, ours)
    jit.luma_from_grey_into(grey, 16.0, 255 / 219, theirs)
    assert ours.tobytes() == theirs.tobytes()
    ours, theirs = np.empty((16, 23), np.float32), np.empty((16, 23), np.float32)
    AOT.reduced_luma_into(grey, 2, 16.0, 255 / 219, ours)
    jit.reduced_luma_into(grey, 2, 16.0, 255 / 219, theirs)
    assert ours.tobytes() == theirs.tobytes()
    values = _luma(16, 16).ravel()
    assert AOT.torben_median(values) == jit.torben_median(values)
    bordered = _luma(40, 60)
    bordered[:6] = 0.0
    for view in (bordered, bordered[::-1], bordered.T, bordered.T[::-1]):
        assert AOT.border_depth(view, 20.0, 0.97, 20) == jit.border_depth(view, 20.0, 0.97, 20)


def test_a_build_from_other_kernel_source_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    edited = tmp_path / "pdq_kernels.py"
    edited.write_text(kernels.KERNEL_SOURCE.read_text() + "\n# edited\n")
    monkeypatch.setattr(kernels, "KERNEL_SOURCE", edited)
    assert kernels.load_aot() is None
