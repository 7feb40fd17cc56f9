"""Exact Hamming radius search over 256-bit PDQ codes, persisted without pickle.

`PdqIndex` answers "every stored code within r bits of this one" exactly, with incremental
adds and removes and an append-only on-disk change log (format in `storage`).
"""

from safestream.media.index.codes import codes_to_hex, hex_to_codes
from safestream.media.index.pdq_index import PdqIndex

__all__ = ["PdqIndex", "codes_to_hex", "hex_to_codes"]
