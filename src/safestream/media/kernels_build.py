"""Compile the numba kernels ahead of time: `python -m safestream.media.kernels_build [OUTDIR]`.

Writes the `_pdq_aot` extension (PDQ, from `pdq_kernels`) next to this file and `_index_aot`
(the index, from `index.hamming_kernels`) next to that module, or both into OUTDIR. Needs numba
and a C compiler at build time only; `media.kernels` and `media.index.kernels` use them when
their source digests match (`media.aot`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from numba.pycc import CC  # type: ignore[attr-defined]

from safestream.media import pdq_kernels as k
from safestream.media.index import hamming_kernels as h
from safestream.media.index.kernels import source_digest as index_source_digest
from safestream.media.kernels import source_digest

F2 = "float32[:, ::1]"
SIGNATURES = {
    "dct_and_quality_into": (k.dct_and_quality_into, f"int64({F2}, {F2}, {F2})"),
    "scaled_dct_and_quality_into": (
        k.scaled_dct_and_quality_into,
        f"int64({F2}, {F2}, int64, int64, float64[::1], float64[::1], {F2})",
    ),
    "torben_median": (k.torben_median, "float32(float32[::1])"),
    "luma_from_rgb_float64_into": (k.luma_from_rgb_float64_into, f"void(uint8[:, :, ::1], {F2})"),
    "luma_from_rgb_float32_into": (k.luma_from_rgb_float32_into, f"void(uint8[:, :, ::1], {F2})"),
    "luma_from_grey_into": (
        k.luma_from_grey_into,
        f"void(uint8[:, :], float64, float64, {F2})",
    ),
    "reduced_luma_into": (
        k.reduced_luma_into,
        f"void(uint8[:, :], int64, float64, float64, {F2})",
    ),
    "border_depth": (k.border_depth, "int64(float32[:, :], float64, float64, int64)"),
}


WORDS, ROW = "uint64[:, ::1]", "uint64[::1]"
OUT = "int64[::1], int32[::1]"  # rows and distances of the hits
# The types `media.index.kernels` hands each function (it converts its inputs to them).
INDEX_SIGNATURES = {
    "scan": (h.scan, f"int64({WORDS}, int64, {ROW}, int64, {OUT})"),
    "scan_live": (h.scan_live, f"int64({WORDS}, boolean[::1], {ROW}, int64, {OUT})"),
    "extract_keys_into": (
        h.extract_keys_into,
        f"void({WORDS}, int64[::1], int64[::1], uint32[::1])",
    ),
    "build_table": (h.build_table, "void(uint32[::1], int64, uint32[::1], uint32[::1])"),
    "probe": (
        h.probe,
        f"int64({WORDS}, boolean[::1], {ROW}, int64, int64[::1], int64[:, ::1], int64[:, ::1], "
        f"uint64[:, ::1], uint32[::1], int64[::1], uint8[:, ::1], int64, uint8[:, ::1], int64, "
        f"{OUT})",
    ),
}


def _build(
    name: str, signatures: dict[str, tuple[Any, str]], digest: int, output_dir: Path
) -> Path:
    cc = CC(name)  # type: ignore[no-untyped-call]
    cc.output_dir = str(output_dir)
    cc.verbose = False
    cc.target_cpu = "host"  # built where it runs, like numba's own cache
    for export, (kernel, signature) in signatures.items():
        cc.export(export, signature)(kernel.py_func)  # type: ignore[no-untyped-call]

    def digest_of_source() -> int:
        return digest

    cc.export("source_digest", "int64()")(digest_of_source)  # type: ignore[no-untyped-call]
    cc.compile()
    return next(output_dir.glob(f"{name}*"))


def build(output_dir: Path | None = None) -> list[Path]:
    """Compile both extensions (into `output_dir`, or next to their sources); their paths."""
    here = Path(__file__).parent
    return [
        _build("_pdq_aot", SIGNATURES, source_digest(), output_dir or here),
        _build("_index_aot", INDEX_SIGNATURES, index_source_digest(), output_dir or here / "index"),
    ]


if __name__ == "__main__":
    for path in build(Path(sys.argv[1]) if len(sys.argv) > 1 else None):
        print(path)
