"""Compile `pdq_kernels` ahead of time: `python -m safestream.media.kernels_build [OUTDIR]`.

Writes the `_pdq_aot` extension next to this file (or into OUTDIR). Needs numba and a C compiler
at build time only; `safestream.media.kernels` uses it when its source digest matches.
"""

from __future__ import annotations

import sys
from pathlib import Path

from numba.pycc import CC  # type: ignore[attr-defined]

from safestream.media import pdq_kernels as k
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


def build(output_dir: Path) -> Path:
    """Compile the kernels into `output_dir`; return the extension's path."""
    cc = CC("_pdq_aot")  # type: ignore[no-untyped-call]
    cc.output_dir = str(output_dir)
    cc.verbose = False
    cc.target_cpu = "host"  # built where it runs, like numba's own cache
    for name, (kernel, signature) in SIGNATURES.items():
        cc.export(name, signature)(kernel.py_func)  # type: ignore[no-untyped-call,attr-defined]
    digest = source_digest()

    def digest_of_source() -> int:
        return digest

    cc.export("source_digest", "int64()")(digest_of_source)  # type: ignore[no-untyped-call]
    cc.compile()
    return next(output_dir.glob("_pdq_aot*"))


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent
    print(build(target))
