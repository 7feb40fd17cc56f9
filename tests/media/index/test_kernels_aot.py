"""The ahead-of-time index kernels find exactly what numba's JIT finds; stale builds go unused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from safestream.media.aot import load_current
from safestream.media.index import hamming_kernels as jit
from safestream.media.index import kernels
from safestream.media.index.codes import to_words
from safestream.media.index.layout import TableLayout, flip_masks, table_radii

AOT = kernels.load_aot()
needs_build = pytest.mark.skipif(
    AOT is None, reason="no current ahead-of-time build (make builds it)"
)
RNG = np.random.default_rng(11)
ROWS = 5_000


def _codes() -> np.ndarray:
    codes = RNG.integers(0, 256, size=(ROWS, 32), dtype=np.uint8)
    codes[1::50] = codes[0] ^ (RNG.random((ROWS // 50, 32)) < 0.05).astype(np.uint8)
    return codes


def _read_only(array: np.ndarray) -> np.ndarray:
    view = array.view()
    view.flags.writeable = False  # as an index file maps it
    return view


def _hits(kernel: object, *args: object) -> list[tuple[int, int]]:
    rows = np.empty(ROWS, dtype=np.int64)
    distances = np.empty(ROWS, dtype=np.int32)
    found = kernel(*args, rows, distances)  # type: ignore[operator]
    return sorted(zip(rows[:found].tolist(), distances[:found].tolist(), strict=True))


def _tables(words: np.ndarray, layout: TableLayout) -> tuple[np.ndarray, np.ndarray]:
    buckets = 1 << layout.bits
    starts = np.zeros((layout.tables, buckets + 1), dtype=np.uint32)
    rows = np.empty((layout.tables, ROWS * 4), dtype=np.uint8)
    table_rows = np.empty(ROWS, dtype=np.uint32)
    for t in range(layout.tables):
        keys = kernels.extract_keys(words, layout.bit_words[t], layout.bit_shifts[t])
        kernels.build_table(keys, buckets, starts[t], table_rows)
        rows[t] = table_rows.view(np.uint8)
    # Directories as the index stores them: little-endian bytes, here 4 a bucket start.
    return starts.view(np.uint8), rows


@needs_build
def test_exact_scans_agree() -> None:
    words = to_words(_codes())
    dead = np.zeros(ROWS, dtype=np.bool_)
    dead[1::100] = True
    for radius in (0, 31, 90):
        args = (words, ROWS, words[0], radius)
        assert _hits(AOT.scan, *args) == _hits(jit.scan, *args)
        live = (_read_only(words), dead, words[0], radius)
        assert _hits(AOT.scan_live, *live) == _hits(jit.scan_live, *live)


@needs_build
def test_tables_built_and_probed_agree_on_read_only_arrays() -> None:
    words = to_words(_codes())
    layout = TableLayout.for_size(ROWS)
    keys = np.empty(ROWS, dtype=np.uint32)
    AOT.extract_keys_into(words, layout.bit_words[0], layout.bit_shifts[0], keys)
    theirs = np.empty(ROWS, dtype=np.uint32)
    jit.extract_keys_into(words, layout.bit_words[0], layout.bit_shifts[0], theirs)
    assert keys.tobytes() == theirs.tobytes()
    starts, rows = _tables(words, layout)
    flips, upto = flip_masks(layout.bits)
    dead = np.zeros(ROWS, dtype=np.bool_)
    for radius in (0, 16, 31):
        args = (
            _read_only(words), dead, words[0], radius, table_radii(layout.tables, radius),
            layout.bit_words, layout.bit_shifts, layout.masks, flips, upto,
            _read_only(starts), 4, _read_only(rows), 4,
        )  # fmt: skip
        assert _hits(AOT.probe, *args) == _hits(jit.probe, *args)


def test_an_output_array_of_the_wrong_type_is_refused_not_written_past() -> None:
    words = to_words(_codes())
    with pytest.raises(TypeError, match="output array"):
        kernels.scan(words, ROWS, words[0], 31, np.empty(8, np.int32), np.empty(8, np.int32))


@needs_build
def test_a_build_from_other_source_is_not_loaded(tmp_path: Path) -> None:
    edited = tmp_path / "hamming_kernels.py"
    edited.write_text(kernels.KERNEL_SOURCE.read_text() + "\n# edited\n")
    assert load_current(kernels.AOT_MODULE, kernels.KERNEL_SOURCE) is AOT
    assert load_current(kernels.AOT_MODULE, edited) is None
