"""Peers' hash entries as hash banks, so the media matcher finds near matches of them.

Each peer collection with hashes becomes the bank `x.<peer>.<collection>` (and its known-benign
entries the negative bank `x.<peer>.<collection>.negative`), with the peer's key id as the bank's
source. A sync makes each bank hold exactly the peer's live entries that are active here: new
ones are added, and withdrawn, expired, disabled or quarantined ones removed, so the safety
decisions on an entry reach matching too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import or_, select

from safestream.core.banks import BankEntry, Classification
from safestream.core.classification import derive
from safestream.core.errors import BankNotFound, InvalidInput
from safestream.core.shared_signals import SignalKind
from safestream.store.banks import BankRepository, NewEntry
from safestream.store.database import Database
from safestream.store.models.exchange import SharedSignalRow

HASH_KINDS = [k.value for k in SignalKind if k.is_hash]
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class BankSync:
    """What one sync changed."""

    banks: tuple[str, ...]
    added: int
    removed: int
    # Every PDQ entry added: what retroactive matching searches for (`media.retro`).
    new_pdq: tuple[BankEntry, ...] = ()


def bank_name(peer: str, collection: str, *, negative: bool = False) -> str:
    """The bank holding a peer collection's hashes (a valid bank name whatever the inputs)."""
    base = _UNSAFE.sub("-", f"x.{peer}.{collection}")[:118].strip("-.") or "x"
    return base + (".negative" if negative else "")


def _bank_label(label: str) -> str:
    try:
        return derive(label).us_industry or "unclassified"
    except InvalidInput:  # a peer's label we cannot read: still a hash to match
        return "unclassified"


def sync_peer_banks(db: Database, peer_name: str, peer_key_id: str) -> BankSync:
    """Make the peer's banks hold its active hash entries; return what changed."""
    now = datetime.now(UTC)
    with db.session() as s:
        rows = s.execute(
            select(
                SharedSignalRow.collection, SharedSignalRow.kind, SharedSignalRow.value,
                SharedSignalRow.label, SharedSignalRow.negative,
            ).where(
                SharedSignalRow.publisher == peer_key_id,
                SharedSignalRow.kind.in_(HASH_KINDS),
                SharedSignalRow.deleted.is_(False),
                SharedSignalRow.state == "active",
                or_(SharedSignalRow.expires_at.is_(None), SharedSignalRow.expires_at > now),
            )
        ).all()  # fmt: skip
    wanted: dict[str, dict[tuple[str, str], NewEntry]] = {}
    for collection, kind, value, label, negative in rows:
        name = bank_name(peer_name, collection, negative=negative or label == "benign")
        entry = NewEntry(kind, value, label="benign" if name.endswith(".negative") else
                         _bank_label(label), source=f"exchange:{peer_key_id}")  # fmt: skip
        wanted.setdefault(name, {})[(kind, value)] = entry
    banks = BankRepository(db)
    prefix = _UNSAFE.sub("-", f"x.{peer_name}.")
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
