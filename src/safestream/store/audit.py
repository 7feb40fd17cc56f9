"""The audit log: append-only, each entry chained to the one before by HMAC-SHA256.

`hash(n) = HMAC(key, hash(n-1) || canonical JSON of entry n)`, starting from `GENESIS`, with the
key and a signed checkpoint outside the database (`audit_anchor`); entries written before a home
had a key use plain SHA-256 and are reported as unkeyed legacy. `verify`
recomputes the chain, so an edited entry breaks its own hash, a removed entry breaks the link of the
next one, and removing entries from the end disagrees with the head row that every append updates
in the same transaction.

Appends take the head row's write lock first (an UPDATE), so concurrent writers on PostgreSQL and
SQLite queue up instead of forking the chain.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from safestream.core.errors import StoreError
from safestream.core.principal import Permission, Principal
from safestream.store.audit_anchor import AuditAnchor
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


def _chained_text(
    prev_hash: str, seq: int, at: datetime, actor: str, action: str, subject: str, details: str
) -> str:
    body = json.dumps(
        [seq, _canonical_time(at), actor, action, subject, details],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return prev_hash + body


def entry_hash(
    prev_hash: str, seq: int, at: datetime, actor: str, action: str, subject: str, details: str
) -> str:
    """The unkeyed (legacy) chained hash of one entry: plain SHA-256."""
    text = _chained_text(prev_hash, seq, at, actor, action, subject, details)
    return hashlib.sha256(text.encode()).hexdigest()


def _anchor(s: Session) -> AuditAnchor | None:
    anchor = s.info.get("audit_anchor")
    return anchor if isinstance(anchor, AuditAnchor) else None


@event.listens_for(Session, "after_commit")
def _write_checkpoint(s: Session) -> None:
    # After commit only: a checkpoint for a rolled-back entry would look like truncation.
    pending = s.info.pop("audit_checkpoint", None)
    anchor = _anchor(s)
    if pending is not None and anchor is not None:
        anchor.advance(*pending)


@event.listens_for(Session, "after_rollback")
def _drop_checkpoint(s: Session) -> None:
    s.info.pop("audit_checkpoint", None)


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
    anchor = _anchor(s)
    if anchor is None:
        digest = entry_hash(head.hash, seq, at, actor, action, subject, text)
    else:
        digest = anchor.mac(_chained_text(head.hash, seq, at, actor, action, subject, text))
        s.info["audit_checkpoint"] = (seq, digest)
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


@dataclass(frozen=True)
class AuditCheck:
    """What `check` found: breaks, how many entries predate the key, the checkpoint's count."""

    problems: list[AuditProblem]
    legacy: int
    checkpoint: int | None


def _row_problem(row: AuditEntryRow, anchor: AuditAnchor | None, keyed_seen: bool) -> str | None:
    """None when the row is keyed and intact; "legacy" for a plain SHA-256 row; else the problem."""
    fields = (row.prev_hash, row.seq, row.at, row.actor, row.action, row.subject, row.details)
    if anchor is not None and hmac.compare_digest(anchor.mac(_chained_text(*fields)), row.hash):
        return None
    if entry_hash(*fields) == row.hash:
        if keyed_seen:
            return "unkeyed entry after keyed ones (chain recomputed without the key)"
        return "legacy"
    return "content was edited (hash mismatch)"


def check(db: Database) -> AuditCheck:
    """Recompute the chain and compare it with the head row and the signed checkpoint."""
    anchor = db.audit_anchor
    problems: list[AuditProblem] = []
    prev_hash, expected_seq, legacy, keyed_seen = GENESIS, 1, 0, False
    hashes_at: dict[int, str] = {}
    try:
        point = anchor.checkpoint() if anchor is not None else None
    except ValueError as exc:
        problems.append(AuditProblem(0, str(exc)))
        point = None
    for row in _rows(db):
        if row.seq != expected_seq:
            gone = f"entries {expected_seq}..{row.seq - 1} were removed"
            problems.append(AuditProblem(expected_seq, gone))
        if row.prev_hash != prev_hash:
            problems.append(AuditProblem(row.seq, "does not link to the entry before it"))
        problem = _row_problem(row, anchor, keyed_seen)
        if problem == "legacy":
            legacy += 1
        elif problem is not None:
            problems.append(AuditProblem(row.seq, problem))
        keyed_seen = keyed_seen or problem is None
        if point is not None and row.seq == point.seq:
            hashes_at[row.seq] = row.hash
        prev_hash, expected_seq = row.hash, row.seq + 1
    last = expected_seq - 1
    with db.session() as s:
        head = s.get(AuditHeadRow, HEAD_ID)
    if head is None and last > 0:
        problems.append(AuditProblem(last, "the head row is missing"))
    if head is not None and (head.seq != last or head.hash != prev_hash):
        problems.append(AuditProblem(head.seq, f"log ends at {last} but the head says {head.seq}"))
    if point is not None and point.seq > last:
        gone = f"signed checkpoint counts {point.seq} entries but the log ends at {last}"
        problems.append(AuditProblem(point.seq, gone))
    elif point is not None and hashes_at.get(point.seq) != point.hash:
        differs = "entry differs from the signed checkpoint (log rewritten)"
        problems.append(AuditProblem(point.seq, differs))
    return AuditCheck(problems, legacy, point.seq if point else None)


def verify(db: Database) -> list[AuditProblem]:
    """Every break found (empty when intact); see `check` for legacy counts."""
    return check(db).problems


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
