"""The PDQ kernels this process runs: the ahead-of-time build when it is current, else numba's JIT
(`media.aot` says when a build is current; `SAFESTREAM_JIT_KERNELS=1` forces the JIT).
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from safestream.media.aot import digest_of, load_current, load_kernels

AOT_MODULE = "safestream.media._pdq_aot"
KERNEL_SOURCE = Path(__file__).with_name("pdq_kernels.py")


def source_digest() -> int:
    """The digest of the PDQ kernels' source."""
    return digest_of(KERNEL_SOURCE)


def load_aot() -> ModuleType | None:
    """The ahead-of-time PDQ kernels if built from the current source, else None."""
    return load_current(AOT_MODULE, KERNEL_SOURCE)


KERNELS = load_kernels(AOT_MODULE, KERNEL_SOURCE, "safestream.media.pdq_kernels")
