"""PDQ codes as arrays: 256-bit hashes held as rows of 32 bytes (`uint8`, shape `(n, 32)`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from safestream.core.errors import InvalidSignal
from safestream.core.signals import PDQ_BITS, PDQ_HEX_LENGTH

CODE_BYTES = PDQ_BITS // 8
WORDS = CODE_BYTES // 8


def hex_to_codes(hexes: Sequence[str]) -> np.ndarray:
    """Parse 64-digit hex PDQ hashes into a `(n, 32)` uint8 array (byte order as written)."""
    out = np.empty((len(hexes), CODE_BYTES), dtype=np.uint8)
    for row, text in enumerate(hexes):
        value = text.strip()
        if len(value) != PDQ_HEX_LENGTH:
            raise InvalidSignal(f"not a pdq hash ({PDQ_HEX_LENGTH} hex digits): {text!r}")
        try:
            out[row] = np.frombuffer(bytes.fromhex(value), dtype=np.uint8)
        except ValueError as exc:
            raise InvalidSignal(f"not a pdq hash ({PDQ_HEX_LENGTH} hex digits): {text!r}") from exc
    return out


def codes_to_hex(codes: np.ndarray) -> list[str]:
    """Format a `(n, 32)` uint8 array as lower-case 64-digit hex strings."""
    rows = as_codes(codes)
    return [row.tobytes().hex() for row in rows]


def as_codes(codes: np.ndarray) -> np.ndarray:
    """Return `codes` as a C-contiguous `(n, 32)` uint8 array, or raise `InvalidSignal`."""
    array = np.asarray(codes)
    if array.ndim == 1 and array.shape[0] == CODE_BYTES:
        array = array.reshape(1, CODE_BYTES)
    if array.ndim != 2 or array.shape[1] != CODE_BYTES or array.dtype != np.uint8:
        raise InvalidSignal(
            f"PDQ codes must be uint8 of shape (n, {CODE_BYTES}); got {array.dtype} {array.shape}"
        )
    return np.ascontiguousarray(array)


def as_ids(ids: np.ndarray, count: int | None = None) -> np.ndarray:
    """Return `ids` as a 1-D int64 array (of length `count` when given), or raise."""
    array = np.asarray(ids)
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim != 1 or not (np.issubdtype(array.dtype, np.integer) or array.size == 0):
        raise InvalidSignal(f"ids must be a 1-D integer array; got {array.dtype} {array.shape}")
    if count is not None and array.shape[0] != count:
        raise InvalidSignal(f"{array.shape[0]} ids for {count} codes")
    if array.dtype == np.uint64 and array.size and int(array.max()) > np.iinfo(np.int64).max:
        raise InvalidSignal("ids must fit in int64")
    return np.ascontiguousarray(array, dtype=np.int64)


def to_words(codes: np.ndarray) -> np.ndarray:
    """View `(n, 32)` uint8 codes as `(n, 4)` uint64 words (no copy when contiguous)."""
    return np.ascontiguousarray(codes).view(np.uint64).reshape(-1, WORDS)
