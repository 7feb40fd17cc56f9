"""The audit log: append-only, each entry chained to the one before by SHA-256.

`hash(n) = SHA-256(hash(n-1) || canonical JSON of entry n)`, starting from `GENESIS`. `verify`
recomputes the chain, so an edited entry breaks its own hash, a removed entry breaks the link of the
next one, and removing entries from the end disagrees with the head row that every append updates
in the same transaction.

Appends take the head row's write lock first (an UPDATE), so concurrent writers on PostgreSQL and
SQLite queue up instead of forking the chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from safestream.core.errors import StoreError
from safestream.core.principal import Permission, Principal
from safestream.store.base import utcnow
from safestream.store.database import Database
from safestream.store.models.access import UserRow
from safestream.store.models.audit import AuditEntryRow, AuditHeadRow
from safestream.store.scope import require

GENESIS = "0" * 64
HEAD_ID = 1
VERIFY_BATCH = 5000


@dataclass(frozen=True)
class AuditEntry:
    """One audited action."""

    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    details: dict[str, object]
    hash: str


@dataclass(frozen=True)
class AuditProblem:
    """Where the chain breaks and how."""

    seq: int
    problem: str


def _canonical_time(at: datetime) -> str:
    # SQLite returns naive UTC, PostgreSQL aware times; the chain must hash the same text on both.
    if at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return at.isoformat(timespec="microseconds")


def entry_hash(
    prev_hash: str, seq: int, at: datetime, actor: str, action: str, subject: str, details: str
) -> str:
    """The chained hash of one entry."""
    body = json.dumps(
        [seq, _canonical_time(at), actor, action, subject, details],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def append(
    s: Session, *, actor: str, action: str, subject: str, details: dict[str, object] | None = None
) -> int:
    """Append an entry inside the caller's transaction; return its sequence number."""
    locked = s.execute(
        update(AuditHeadRow).where(AuditHeadRow.id == HEAD_ID).values(seq=AuditHeadRow.seq + 1)
    )
    if locked.rowcount != 1:  # type: ignore[attr-defined]
        s.add(AuditHeadRow(id=HEAD_ID, seq=1, hash=GENESIS))
        s.flush()
    head = s.execute(select(AuditHeadRow).where(AuditHeadRow.id == HEAD_ID)).scalar_one()
    seq = head.seq
    at = utcnow()
    text = json.dumps(details or {}, sort_keys=True, separators=(",", ":"), default=str)
    digest = entry_hash(head.hash, seq, at, actor, action, subject, text)
    s.add(
        AuditEntryRow(
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            subject=subject,
            details=text,
            prev_hash=head.hash,
            hash=digest,
        )
    )
    head.hash = digest
    return seq


def record(
    db: Database, *, actor: str, action: str, subject: str, details: dict[str, object] | None = None
) -> int:
    """Append an entry in its own transaction."""
    with db.session() as s:
        return append(s, actor=actor, action=action, subject=subject, details=details)


def _rows(db: Database) -> Iterator[AuditEntryRow]:
    last = 0
    while True:
        with db.session() as s:
            batch = s.scalars(
                select(AuditEntryRow)
                .where(AuditEntryRow.seq > last)
                .order_by(AuditEntryRow.seq)
                .limit(VERIFY_BATCH)
            ).all()
        if not batch:
            return
        yield from batch
        last = batch[-1].seq


def verify(db: Database) -> list[AuditProblem]:
    """Recompute the chain; return every break found (empty when intact)."""
    problems: list[AuditProblem] = []
    prev_hash, expected_seq = GENESIS, 1
    for row in _rows(db):
        if row.seq != expected_seq:
            gone = f"entries {expected_seq}..{row.seq - 1} were removed"
            problems.append(AuditProblem(expected_seq, gone))
        if row.prev_hash != prev_hash:
            problems.append(AuditProblem(row.seq, "does not link to the entry before it"))
        digest = entry_hash(
            row.prev_hash, row.seq, row.at, row.actor, row.action, row.subject, row.details
        )
        if digest != row.hash:
            problems.append(AuditProblem(row.seq, "content was edited (hash mismatch)"))
        prev_hash, expected_seq = row.hash, row.seq + 1
    with db.session() as s:
        head = s.get(AuditHeadRow, HEAD_ID)
    if head is not None and (head.seq != expected_seq - 1 or head.hash != prev_hash):
        problems.append(
            AuditProblem(head.seq, f"log ends at {expected_seq - 1} but the head says {head.seq}")
        )
    return problems


def _actors_of(s: Session, principal: Principal) -> list[str]:
    """How the audit log names the people and the API keys of the principal's organisation."""
    if principal.org is None:
        return []
    emails = s.scalars(select(UserRow.email).where(UserRow.org_id == principal.org.id))
    return [*emails, f"org:{principal.org.name}"]


def entries(
    db: Database,
    principal: Principal,
    *,
    subject: str | None = None,
    limit: int = 100,
    before: int | None = None,
) -> list[AuditEntry]:
    """Newest entries first, optionally for one subject (e.g. `case:12`).

    The operator's auditors (and the system) read the whole log; another organisation's
    auditors read what its own people and keys did.
    """
    require(principal, Permission.READ_AUDIT)
    if limit < 1 or limit > 1000:
        raise StoreError("limit must be within 1..1000")
    with db.session() as s:
        query = select(AuditEntryRow).order_by(AuditEntryRow.seq.desc()).limit(limit)
        if not principal.links_and_triages:
            query = query.where(AuditEntryRow.actor.in_(_actors_of(s, principal)))
        if subject is not None:
            query = query.where(AuditEntryRow.subject == subject)
        if before is not None:
            query = query.where(AuditEntryRow.seq < before)
        return [
            AuditEntry(r.seq, r.at, r.actor, r.action, r.subject, json.loads(r.details), r.hash)
            for r in s.scalars(query)
        ]
