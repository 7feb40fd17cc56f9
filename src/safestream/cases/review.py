"""Review services the console calls: case detail, notes, decisions and deconfliction.

Every change is written to the audit log in the same transaction as the change itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from safestream.core.cases import (
    Authority,
    Case,
    CaseStatus,
    Decision,
    DecisionRecord,
    Deconfliction,
    FiredRule,
    Note,
    Priority,
)
from safestream.core.entities import Entity, EntityKind
from safestream.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from safestream.core.reports import Report, ReportIn, ReportStatus
from safestream.store import audit
from safestream.store.access import Permission, User
from safestream.store.base import utcnow
from safestream.store.database import Database
from safestream.store.models.access import OrganisationRow, UserRow
from safestream.store.models.cases import (
    CaseDecisionRow,
    CaseEntityRow,
    CaseMatchRow,
    CaseNoteRow,
    CaseRow,
)
from safestream.store.models.reports import (
    EvidenceHoldRow,
    EvidenceRow,
    ReportEntityRow,
    ReportRow,
)
from safestream.store.times import aware, aware_or_none

MAX_NOTE = 10_000
ESCALATION_QUEUE = "urgent"


@dataclass(frozen=True)
class CaseMatch:
    """A bank match in a case."""

    report_id: str
    bank: str
    entry_id: int
    signal_type: str
    value: str
    distance: int
    label: str
    verified: bool


@dataclass(frozen=True)
class EvidenceRef:
    """An evidence file, described without opening it (hash-first review)."""

    id: str
    report_id: str
    filename: str
    content_type: str
    sha256: str
    size: int
    held_until: datetime
    # Set when the report's media matched a verified bank: show the hash and label, not the file.
    matched_label: str | None
    views: int


@dataclass(frozen=True)
class EvidenceHold:
    """A preservation request, e.g. for a stream's buffered segments."""

    stream_id: str | None
    report_id: str | None
    reason: str
    rule: str
    hold_until: datetime


@dataclass(frozen=True)
class CaseDetail:
    """Everything the case page shows."""

    case: Case
    reports: tuple[Report, ...]
    entities: tuple[Entity, ...]
    links: tuple[tuple[str, Entity], ...]  # (report id, entity) edges for the graph
    matches: tuple[CaseMatch, ...]
    evidence: tuple[EvidenceRef, ...]
    holds: tuple[EvidenceHold, ...]
    notes: tuple[Note, ...]
    decisions: tuple[DecisionRecord, ...]


def _fired(text: str) -> tuple[FiredRule, ...]:
    out = []
    for f in json.loads(text or "[]"):
        p = f.get("priority")
        out.append(FiredRule(f["rule"], f["points"], f["reason"], Priority(p) if p else None))
    return tuple(out)


def _routing(text: str) -> tuple[Authority, ...]:
    return tuple(Authority(**a) for a in json.loads(text or "[]"))


def case_summary(s: Session, row: CaseRow) -> Case:
    """A case with its reasons and routing (without reports' contents)."""
    report_ids = tuple(
        s.scalars(
            select(ReportRow.id).where(ReportRow.case_id == row.id).order_by(ReportRow.received_at)
        )
    )
    entities = tuple(
        Entity(EntityKind(k), v)
        for k, v in s.execute(
            select(CaseEntityRow.kind, CaseEntityRow.value)
            .where(CaseEntityRow.case_id == row.id)
            .order_by(CaseEntityRow.id)
        )
    )
    subject = (
        Entity(EntityKind(row.subject_kind), row.subject_value)
        if row.subject_kind in EntityKind.__members__.values()
        else None
    )
    decon = (
        Deconfliction(
            row.claimed_elsewhere_by,
            row.claimed_elsewhere_ref or "",
            aware_or_none(row.claimed_elsewhere_at),
        )
        if row.claimed_elsewhere_by
        else None
    )
    return Case(
        id=row.id,
        subject=subject,
        status=CaseStatus(row.status),
        priority=Priority(row.priority),
        score=row.score,
        queue=row.queue,
        created_at=aware(row.created_at),
        updated_at=aware(row.updated_at),
        fired=_fired(row.fired),
        routing=_routing(row.routing),
        report_ids=report_ids,
        entities=entities,
        claimed_by_user=row.claimed_by_user,
        deconfliction=decon,
        decision=Decision(row.decision) if row.decision else None,
        merged_into=row.merged_into,
    )


def _case_row(s: Session, case_id: int) -> CaseRow:
    row = s.get(CaseRow, case_id)
    if row is None:
        raise NotFound(f"no case {case_id}")
    return row


def _require(user: User, permission: Permission) -> None:
    if not user.allows(permission):
        raise PermissionDenied(f"{user.email} ({user.role}) may not {permission.value}")


def get_case(db: Database, case_id: int) -> Case:
    """A case by id, or raise `NotFound`."""
    with db.session() as s:
        return case_summary(s, _case_row(s, case_id))


def case_detail(db: Database, user: User, case_id: int) -> CaseDetail:
    """Reports, entities, matches, evidence refs, holds, notes and decisions of a case."""
    _require(user, Permission.REVIEW)
    with db.session() as s:
        row = _case_row(s, case_id)
        case = case_summary(s, row)
        orgs = dict(s.execute(select(OrganisationRow.id, OrganisationRow.name)).tuples().all())
        report_rows = s.scalars(
            select(ReportRow).where(ReportRow.case_id == case_id).order_by(ReportRow.received_at)
        ).all()
        evidence_rows = s.scalars(
            select(EvidenceRow)
            .where(EvidenceRow.report_id.in_([r.id for r in report_rows]))
            .order_by(EvidenceRow.held_at)
        ).all()
        matches = tuple(
            CaseMatch(
                m.report_id,
                m.bank,
                m.entry_id,
                m.signal_type,
                m.value,
                m.distance,
                m.label,
                m.verified,
            )
            for m in s.scalars(
                select(CaseMatchRow)
                .where(CaseMatchRow.case_id == case_id)
                .order_by(CaseMatchRow.id)
            )
        )
        matched = {m.report_id: m.label for m in matches if m.verified}
        from sqlalchemy import func

        from safestream.store.models.access import MediaViewRow

        views = dict(
            s.execute(
                select(MediaViewRow.evidence_id, func.count())
                .where(MediaViewRow.case_id == case_id)
                .group_by(MediaViewRow.evidence_id)
            )
            .tuples()
            .all()
        )
        reports = tuple(
            Report(
                id=r.id,
                org=orgs.get(r.org_id, ""),
                received_at=aware(r.received_at),
                status=ReportStatus(r.status),
                case_id=r.case_id,
                evidence_ids=[e.id for e in evidence_rows if e.report_id == r.id],
                body=ReportIn.model_validate_json(r.body),
            )
            for r in report_rows
        )
        links = tuple(
            (rid, Entity(EntityKind(k), v))
            for rid, k, v in s.execute(
                select(ReportEntityRow.report_id, ReportEntityRow.kind, ReportEntityRow.value)
                .where(ReportEntityRow.report_id.in_([r.id for r in report_rows]))
                .order_by(ReportEntityRow.id)
            )
        )
        holds = tuple(
            EvidenceHold(h.stream_id, h.report_id, h.reason, h.rule, aware(h.hold_until))
            for h in s.scalars(select(EvidenceHoldRow).where(EvidenceHoldRow.case_id == case_id))
        )
        users = dict(s.execute(select(UserRow.id, UserRow.email)).tuples().all())
        notes = tuple(
            Note(n.id, n.case_id, users.get(n.author_id, "?"), n.body, aware(n.created_at))
            for n in s.scalars(
                select(CaseNoteRow).where(CaseNoteRow.case_id == case_id).order_by(CaseNoteRow.id)
            )
        )
        decisions = tuple(
            DecisionRecord(
                d.id,
                d.case_id,
                Decision(d.decision),
                users.get(d.author_id, "?"),
                d.reason,
                aware(d.created_at),
                d.agency,
            )
            for d in s.scalars(
                select(CaseDecisionRow)
                .where(CaseDecisionRow.case_id == case_id)
                .order_by(CaseDecisionRow.id)
            )
        )
        evidence = tuple(
            EvidenceRef(
                e.id,
                e.report_id,
                e.filename,
                e.content_type,
                e.sha256,
                e.size,
                aware(e.hold_until),
                matched.get(e.report_id),
                int(views.get(e.id, 0)),
            )
            for e in evidence_rows
        )
        audit.append(s, actor=user.email, action="case.open", subject=f"case:{case_id}")
        return CaseDetail(
            case, reports, case.entities, links, matches, evidence, holds, notes, decisions
        )


def add_note(db: Database, user: User, case_id: int, body: str) -> Note:
    """Add an internal note to a case."""
    _require(user, Permission.REVIEW)
    text = body.strip()
    if not text or len(text) > MAX_NOTE:
        raise InvalidInput(f"note: write 1..{MAX_NOTE} characters")
    with db.session() as s:
        _case_row(s, case_id)
        row = CaseNoteRow(case_id=case_id, author_id=user.id, body=text, created_at=utcnow())
        s.add(row)
        s.flush()
        audit.append(
            s,
            actor=user.email,
            action="case.note",
            subject=f"case:{case_id}",
            details={"note": row.id},
        )
        return Note(row.id, case_id, user.email, text, row.created_at)


def record_decision(
    db: Database,
    user: User,
    case_id: int,
    decision: Decision | str,
    *,
    reason: str = "",
    agency: str = "",
) -> DecisionRecord:
    """Record a decision: confirm, dismiss or refer close the case; escalate makes it urgent.

    Referring needs the agency's code (one of the case's routing, or any code of the routing file).
    """
    _require(user, Permission.REVIEW)
    try:
        chosen = Decision(decision)
    except ValueError as exc:
        raise InvalidInput(f"decision: use one of {', '.join(Decision)}") from exc
    if chosen is Decision.REFER and not agency.strip():
        raise InvalidInput("agency: name the agency the case is referred to")
    if chosen is Decision.ESCALATE and not reason.strip():
        raise InvalidInput("reason: say why the case is escalated")
    now = utcnow()
    with db.session() as s:
        row = _case_row(s, case_id)
        if row.status != CaseStatus.OPEN.value:
            raise Conflict(f"case {case_id} is {row.status}, not open")
        if row.claimed_by_user not in (None, user.id):
            raise Conflict(f"case {case_id} is claimed by another reviewer")
        rec = CaseDecisionRow(
            case_id=case_id,
            author_id=user.id,
            decision=chosen.value,
            agency=agency.strip(),
            reason=reason.strip(),
            created_at=now,
        )
        s.add(rec)
        row.decision = chosen.value
        row.updated_at = now
        row.claimed_by_user = None
        row.claim_expires_at = None
        if chosen is Decision.ESCALATE:
            row.priority = int(Priority.URGENT)
            row.queue = ESCALATION_QUEUE
        else:
            row.status = CaseStatus.CLOSED.value
        s.flush()
        audit.append(
            s,
            actor=user.email,
            action=f"case.{chosen.value}",
            subject=f"case:{case_id}",
            details={"reason": rec.reason, "agency": rec.agency},
        )
        return DecisionRecord(rec.id, case_id, chosen, user.email, rec.reason, now, rec.agency)


def mark_claimed_elsewhere(
    db: Database, actor: str, case_id: int, *, claimed_by: str, reference: str = ""
) -> Case:
    """Deconfliction: mark a case as held by another agency or organisation (not duplicated).

    The case stays open so new reports still join it, but it leaves the review queues.
    """
    if not claimed_by.strip():
        raise InvalidInput("claimed_by: name the agency or organisation holding the case")
    with db.session() as s:
        row = _case_row(s, case_id)
        row.claimed_elsewhere_by = claimed_by.strip()
        row.claimed_elsewhere_ref = reference.strip() or None
        row.claimed_elsewhere_at = utcnow()
        audit.append(
            s,
            actor=actor,
            action="case.claimed_elsewhere",
            subject=f"case:{case_id}",
            details={"claimed_by": claimed_by, "reference": reference},
        )
        s.flush()
        return case_summary(s, row)
