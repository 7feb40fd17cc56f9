"""The PDQ kernels this process runs: the ahead-of-time build when it is current, else numba's JIT.

Importing numba and loading its cached machine code costs 1-2 s per process, more than hashing
a hundred photos; the ahead-of-time extension (`python -m safestream.media.kernels_build`, run
by `make`) loads in milliseconds. It is used only if it was built from the current
`pdq_kernels.py` (a digest of that source is compiled into it), so an edit to the kernels never
runs stale code: it falls back to the JIT until rebuilt. `SAFESTREAM_JIT_KERNELS=1` forces the
JIT (tests compare the two).
"""

from __future__ import annotations

import hashlib
import importlib
import os
from pathlib import Path
from types import ModuleType

AOT_MODULE = "safestream.media._pdq_aot"
KERNEL_SOURCE = Path(__file__).with_name("pdq_kernels.py")
FORCE_JIT_ENV = "SAFESTREAM_JIT_KERNELS"


def source_digest() -> int:
    """A 63-bit digest of the kernel source, compiled into the ahead-of-time extension."""
    digest = hashlib.sha256(KERNEL_SOURCE.read_bytes()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def load_aot() -> ModuleType | None:
    """The ahead-of-time kernels if built from the current source, else None."""
    try:
        module = importlib.import_module(AOT_MODULE)
    except ImportError:
        return None
    return module if module.source_digest() == source_digest() else None


def _load() -> ModuleType:
    # A build-time switch, not a setting: it chooses code, and results are identical either way.
    forced_jit = os.environ.get(FORCE_JIT_ENV) == "1"
    aot = None if forced_jit else load_aot()
    if aot is not None:
        return aot
    from safestream.media import pdq_kernels

    return pdq_kernels


KERNELS = _load()
