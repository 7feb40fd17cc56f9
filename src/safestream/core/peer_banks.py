"""A peer's hash entries in matching: the banks a pull syncs them into, and hits on those banks.

Each peer collection with hashes becomes the bank `x.<peer>.<collection>` (its known-benign
entries the negative bank `x.<peer>.<collection>.negative`), with source `exchange:<key id>`;
`exchange.bank_sync` keeps the banks in step, `exchange.entry_screen` screens their hits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

PEER_SOURCE = "exchange:"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def is_peer_bank(source: str) -> bool:
    """Whether a bank with this source holds a peer's entries."""
    return source.startswith(PEER_SOURCE)


def bank_name(peer: str, collection: str, *, negative: bool = False) -> str:
    """The bank holding a peer collection's hashes (a valid bank name whatever the inputs)."""
    base = _UNSAFE.sub("-", f"x.{peer}.{collection}")[:118].strip("-.") or "x"
    return base + (".negative" if negative else "")


def bank_prefix(peer: str) -> str:
    """How the names of every bank of one peer begin."""
    return _UNSAFE.sub("-", f"x.{peer}.")


@dataclass(frozen=True)
class BankHit:
    """One bank entry matched for one item (an upload's SHA-256, a stream, a looked-up hash)."""

    item: str
    bank: str
    bank_source: str  # `exchange:<key id>` for a peer's bank
    signal_type: str
    value: str


class PeerHash(NamedTuple):
    """One of a peer's hash entries that a sync puts in its bank.

    A tuple, not a dataclass: a sync reads every hash entry a peer has."""

    collection: str
    kind: str
    value: str
    label: str
    negative: bool
