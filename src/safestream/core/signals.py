"""Signals: hashes and identifiers in their canonical text form."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from safestream.core.errors import InvalidSignal

PDQ_BITS = 256
PDQ_HEX_LENGTH = 64
# Meta's recommended starting threshold for a confident PDQ match, in bits of 256.
PDQ_MATCH_MAX_BITS = 31
# Hashes of flat or near-flat images carry no information; vPDQ and HMA drop them below this.
PDQ_MIN_QUALITY = 50

_HEX = re.compile(r"^[0-9a-f]+$")


class SignalType(StrEnum):
    """Kinds of signal; the values are storage keys and must never be renamed."""

    PDQ = "pdq"
    MD5 = "md5"
    SHA256 = "sha256"


_HEX_LENGTHS = {SignalType.PDQ: 64, SignalType.MD5: 32, SignalType.SHA256: 64}


def normalize_hash(signal_type: SignalType, value: str) -> str:
    """Return the canonical lower-case hex form of a hash, or raise `InvalidSignal`."""
    text = value.strip().lower()
    expected = _HEX_LENGTHS[signal_type]
    if len(text) != expected or not _HEX.match(text):
        raise InvalidSignal(f"not a {signal_type.value} hash ({expected} hex digits): {value!r}")
    return text


@dataclass(frozen=True)
class Signal:
    """A hash or identifier of a known type."""

    type: SignalType
    value: str

    @classmethod
    def parse(cls, signal_type: str, value: str) -> Signal:
        """Validate and normalise a signal given as text."""
        try:
            kind = SignalType(signal_type)
        except ValueError as exc:
            raise InvalidSignal(f"unknown signal type {signal_type!r}") from exc
        return cls(kind, normalize_hash(kind, value))


def pdq_distance(a: str, b: str) -> int:
    """Hamming distance in bits between two PDQ hashes in hex."""
    return (int(a, 16) ^ int(b, 16)).bit_count()
