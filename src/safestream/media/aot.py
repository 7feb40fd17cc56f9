"""Ahead-of-time kernel extensions: use one only if it was built from the current source.

Importing numba and loading its cached machine code costs most of a second per process, more
than hashing a hundred photos or opening an index; an extension compiled ahead of time
(`python -m safestream.media.kernels_build`, run by `make`) loads in milliseconds. A digest of
the kernel source is compiled into each extension, so an edit to the kernels never runs stale
code: until rebuilt, numba's JIT runs the source instead. Both run the same source, so both
give the same results.
"""

from __future__ import annotations

import hashlib
import importlib
import os
from pathlib import Path
from types import ModuleType

FORCE_JIT_ENV = "SAFESTREAM_JIT_KERNELS"


def digest_of(source: Path) -> int:
    """A 63-bit digest of a kernel source file, compiled into its extension."""
    digest = hashlib.sha256(source.read_bytes()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def load_current(module_name: str, source: Path) -> ModuleType | None:
    """The extension `module_name` if it was built from the current `source`, else None."""
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    return module if module.source_digest() == digest_of(source) else None


def jit_forced() -> bool:
    """Whether SAFESTREAM_JIT_KERNELS=1 asks for numba's JIT (tests compare the two)."""
    # A build-time switch, not a setting: it chooses code, and results are identical either way.
    return os.environ.get(FORCE_JIT_ENV) == "1"


def load_kernels(module_name: str, source: Path, jit_module: str) -> ModuleType:
    """The extension when it is current and the JIT is not forced, else `jit_module` (numba)."""
    aot = None if jit_forced() else load_current(module_name, source)
    return aot if aot is not None else importlib.import_module(jit_module)
