"""Peers' hash entries as hash banks, so the media matcher finds near matches of them.

Each peer collection with hashes becomes the bank `x.<peer>.<collection>` (and its known-benign
entries the negative bank `x.<peer>.<collection>.negative`), with the peer's key id as the bank's
source. A sync makes each bank hold exactly the peer's live entries that are active here: new
ones are added, and withdrawn, expired, disabled or quarantined ones removed, so the safety
decisions on an entry reach matching too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from safestream.core.banks import BankEntry, Classification
from safestream.core.classification import derive
from safestream.core.errors import BankNotFound, InvalidInput
from safestream.core.peer_banks import bank_name, bank_prefix
from safestream.store.banks import BankRepository, NewEntry
from safestream.store.database import Database
from safestream.store.exchange.signal_entries import SignalEntries


@dataclass(frozen=True)
class BankSync:
    """What one sync changed."""

    banks: tuple[str, ...]
    added: int
    removed: int
    # Every PDQ entry added: what retroactive matching searches for (`media.retro`).
    new_pdq: tuple[BankEntry, ...] = ()


def _bank_label(label: str) -> str:
    try:
        return derive(label).us_industry or "unclassified"
    except InvalidInput:  # a peer's label we cannot read: still a hash to match
        return "unclassified"


def sync_peer_banks(db: Database, peer_name: str, peer_key_id: str) -> BankSync:
    """Make the peer's banks hold its active hash entries; return what changed."""
    hashes = SignalEntries(db).active_hashes(peer_key_id, datetime.now(UTC))
    wanted: dict[str, dict[tuple[str, str], NewEntry]] = {}
    for collection, kind, value, label, negative in hashes:
        name = bank_name(peer_name, collection, negative=negative or label == "benign")
        entry = NewEntry(kind, value, label="benign" if name.endswith(".negative") else
                         _bank_label(label), source=f"exchange:{peer_key_id}")  # fmt: skip
        wanted.setdefault(name, {})[(kind, value)] = entry
    banks = BankRepository(db)
    prefix = bank_prefix(peer_name)
    existing = {b.name: b for b in banks.list_banks() if b.name.startswith(prefix)}
    added = removed = 0
    new_pdq: list[BankEntry] = []
    for name in sorted(set(wanted) | set(existing)):
        want = wanted.get(name, {})
        if name not in existing:
            banks.create(
                name, negative=name.endswith(".negative"), source=f"exchange:{peer_key_id}"
            )
        have = {(e.signal_type, e.value): e.id for e in banks.iter_entries(name)}
        fresh = [e for key, e in want.items() if key not in have]
        if fresh and not name.endswith(".negative"):
            ids = banks.add_entries(name, fresh)
            new_pdq += [
                BankEntry(i, name, e.signal_type, e.value, Classification(e.label), e.source)
                for i, e in zip(ids, fresh, strict=True)
                if e.signal_type == "pdq"
            ]
            added += len(fresh)
        elif fresh:
            banks.add_entries(name, fresh)
            added += len(fresh)
        for key, entry_id in have.items():
            if key not in want:
                try:
                    banks.remove_entry(name, entry_id)
                    removed += 1
                except BankNotFound:  # pragma: no cover - deleted meanwhile
                    pass
    return BankSync(tuple(sorted(set(wanted) | set(existing))), added, removed, tuple(new_pdq))
