"""Case repository: reading and changing cases for an acting principal, inside its scope.

Every method takes the principal first and applies `store.scope` to its query, so a case outside
the principal's scope is "not found" whichever page or route asks. Changes are written to the
audit log in the same transaction as the change.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import and_, func, select
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
from safestream.core.errors import Conflict, NotFound, PermissionDenied
from safestream.core.principal import Principal
from safestream.core.reports import Report, ReportIn, ReportStatus
from safestream.store import audit
from safestream.store.bank_trust import bank_marked_unverified
from safestream.store.base import utcnow
from safestream.store.case_views import (
    CaseDetail,
    CaseMatch,
    CaseRegionMatch,
    EvidenceHold,
    EvidenceRef,
)
from safestream.store.database import Database
from safestream.store.events import region_matches
from safestream.store.models.access import MediaViewRow, OrganisationRow, UserRow
from safestream.store.models.cases import (
    CaseDecisionRow,
    CaseEntityRow,
    CaseMatchRow,
    CaseNoteRow,
    CaseRow,
)
from safestream.store.models.media import BankEntryRow, BankRow
from safestream.store.models.reports import (
    EvidenceHoldRow,
    EvidenceRow,
    ReportEntityRow,
    ReportRow,
)
from safestream.store.scope import cases_visible, may_change_cases, reports_visible
from safestream.store.times import aware, aware_or_none

ESCALATION_QUEUE = "urgent"


def _fired(text: str) -> tuple[FiredRule, ...]:
    out = []
    for f in json.loads(text or "[]"):
        p = f.get("priority")
        out.append(FiredRule(f["rule"], f["points"], f["reason"], Priority(p) if p else None))
    return tuple(out)


def _routing(text: str) -> tuple[Authority, ...]:
    return tuple(Authority(**a) for a in json.loads(text or "[]"))


def case_summary(
    s: Session,
    row: CaseRow,
    *,
    report_ids: tuple[str, ...] | None = None,
    entities: tuple[Entity, ...] | None = None,
) -> Case:
    """A case with its reasons and routing (without reports' contents); no scope check.

    A caller summarising a page of cases passes `report_ids` and `entities` it read for all of
    them at once (`case_browse`), so a page costs a few queries, not two per case.
    """
    if report_ids is None:
        report_ids = tuple(
            s.scalars(
                select(ReportRow.id)
                .where(ReportRow.case_id == row.id)
                .order_by(ReportRow.received_at)
            )
        )
    if entities is None:
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


def visible_case_row(s: Session, principal: Principal, case_id: int) -> CaseRow:
    """The case row if the principal may see it; else `NotFound` (never "forbidden")."""
    row = s.scalar(select(CaseRow).where(CaseRow.id == case_id, cases_visible(principal)))
    if row is None:
        raise NotFound(f"no case {case_id}")
    return row


def changeable_case_row(s: Session, principal: Principal, case_id: int) -> CaseRow:
    """The case row if the principal may change it (see it, and be the operator or system)."""
    row = visible_case_row(s, principal, case_id)
    if not may_change_cases(principal):
        raise PermissionDenied(f"{principal.actor} may read case {case_id} but not change it")
    return row


def _matches(s: Session, case_id: int) -> tuple[CaseMatch, ...]:
    # The bank entry's own frame (its time and video), when the entry is still in that bank.
    entry = (
        select(BankEntryRow.id, BankEntryRow.t, BankEntryRow.content_id, BankRow.name)
        .join(BankRow, BankRow.id == BankEntryRow.bank_id)
        .subquery()
    )
    rows = s.execute(
        select(CaseMatchRow, bank_marked_unverified(), entry.c.t, entry.c.content_id)
        .outerjoin(
            entry, and_(entry.c.id == CaseMatchRow.entry_id, entry.c.name == CaseMatchRow.bank)
        )
        .where(CaseMatchRow.case_id == case_id)
        .order_by(CaseMatchRow.id)
    )
    return tuple(
        CaseMatch(
            m.report_id,
            m.bank,
            m.entry_id,
            m.signal_type,
            m.value,
            m.distance,
            m.label,
            verified=m.verified and not unverified_bank,
            bank_verified=not unverified_bank,
            t=m.t,
            bank_t=bank_t,
            bank_content=bank_content,
        )
        for m, unverified_bank, bank_t, bank_content in rows
    )


def _region_matches(s: Session, report_ids: Sequence[str]) -> tuple[CaseRegionMatch, ...]:
    return tuple(
        CaseRegionMatch(
            report_id=report_id,
            bank=e.bank,
            entry_id=e.entry_id,
            bank_kind=e.bank_kind,
            label=e.label.value,
            region=e.region,
            frame_size=e.frame_size,
            coverage=e.coverage,
            inliers=e.inliers,
            media_sha256=e.media_sha256,
            stream_id=e.stream_id,
            t=e.t,
        )
        for report_id, e in region_matches(s, report_ids)
        if e.verified
    )


def _evidence(
    s: Session, case_id: int, rows: Sequence[EvidenceRow], matched: dict[str, str]
) -> tuple[EvidenceRef, ...]:
    views = dict(
        s.execute(
            select(MediaViewRow.evidence_id, func.count())
            .where(MediaViewRow.case_id == case_id)
            .group_by(MediaViewRow.evidence_id)
        )
        .tuples()
        .all()
    )
    return tuple(
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
        for e in rows
    )


def _reports(
    s: Session, rows: Sequence[ReportRow], evidence: Sequence[EvidenceRow]
) -> tuple[Report, ...]:
    orgs = dict(
        s.execute(
            select(OrganisationRow.id, OrganisationRow.name).where(
                OrganisationRow.id.in_({r.org_id for r in rows})
            )
        )
        .tuples()
        .all()
    )
    return tuple(
        Report(
            id=r.id,
            org=orgs.get(r.org_id, ""),
            received_at=aware(r.received_at),
            status=ReportStatus(r.status),
            case_id=r.case_id,
            evidence_ids=[e.id for e in evidence if e.report_id == r.id],
            body=ReportIn.model_validate_json(r.body),
        )
        for r in rows
    )


def _authors(s: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    query = select(UserRow.id, UserRow.email).where(UserRow.id.in_(ids))
    return dict(s.execute(query).tuples().all())


def _notes_and_decisions(
    s: Session, case_id: int
) -> tuple[tuple[Note, ...], tuple[DecisionRecord, ...]]:
    note_rows = s.scalars(
        select(CaseNoteRow).where(CaseNoteRow.case_id == case_id).order_by(CaseNoteRow.id)
    ).all()
    decision_rows = s.scalars(
        select(CaseDecisionRow)
        .where(CaseDecisionRow.case_id == case_id)
        .order_by(CaseDecisionRow.id)
    ).all()
    users = _authors(s, {n.author_id for n in note_rows} | {d.author_id for d in decision_rows})
    notes = tuple(
        Note(n.id, n.case_id, users.get(n.author_id, "?"), n.body, aware(n.created_at))
        for n in note_rows
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
        for d in decision_rows
    )
    return notes, decisions


class CaseRepository:
    """Cases of one store, read and changed for an acting principal."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, principal: Principal, case_id: int) -> Case:
        """A case the principal may see, or `NotFound`."""
        with self.db.session() as s:
            return case_summary(s, visible_case_row(s, principal, case_id))

    def require_changeable(self, principal: Principal, case_id: int) -> None:
        """Raise unless the principal may change the case (`NotFound` when it may not see it)."""
        with self.db.session() as s:
            changeable_case_row(s, principal, case_id)

    def detail(self, principal: Principal, case_id: int) -> CaseDetail:
        """Reports, entities, matches, evidence refs, holds, notes and decisions of a case.

        An agency sees the reports of a case referred to it; the opening is audited.
        """
        with self.db.session() as s:
            case = case_summary(s, visible_case_row(s, principal, case_id))
            report_rows = s.scalars(
                select(ReportRow)
                .where(ReportRow.case_id == case_id, reports_visible(principal))
                .order_by(ReportRow.received_at)
            ).all()
            report_ids = [r.id for r in report_rows]
            evidence_rows = s.scalars(
                select(EvidenceRow)
                .where(EvidenceRow.report_id.in_(report_ids))
                .order_by(EvidenceRow.held_at)
            ).all()
            matches = _matches(s, case_id)
            matched = {m.report_id: m.label for m in matches if m.verified}
            regions = _region_matches(s, report_ids)
            for r in regions:  # a known image found inside a file: that file is hash-first too
                if r.bank_kind == "media":
                    matched.setdefault(r.report_id, r.label)
            links = tuple(
                (rid, Entity(EntityKind(k), v))
                for rid, k, v in s.execute(
                    select(ReportEntityRow.report_id, ReportEntityRow.kind, ReportEntityRow.value)
                    .where(ReportEntityRow.report_id.in_(report_ids))
                    .order_by(ReportEntityRow.id)
                )
            )
            holds = tuple(
                EvidenceHold(h.stream_id, h.report_id, h.reason, h.rule, aware(h.hold_until))
                for h in s.scalars(
                    select(EvidenceHoldRow).where(EvidenceHoldRow.case_id == case_id)
                )
            )
            notes, decisions = _notes_and_decisions(s, case_id)
            audit.append(s, actor=principal.actor, action="case.open", subject=f"case:{case_id}")
            return CaseDetail(
                case=case,
                reports=_reports(s, report_rows, evidence_rows),
                entities=case.entities,
                links=links,
                matches=matches,
                evidence=_evidence(s, case_id, evidence_rows, matched),
                holds=holds,
                notes=notes,
                decisions=decisions,
                region_matches=regions,
            )

    def add_note(self, principal: Principal, case_id: int, text: str) -> Note:
        """Add an internal note to a case the principal may change."""
        with self.db.session() as s:
            changeable_case_row(s, principal, case_id)
            row = CaseNoteRow(
                case_id=case_id, author_id=principal.user_id or 0, body=text, created_at=utcnow()
            )
            s.add(row)
            s.flush()
            audit.append(
                s,
                actor=principal.actor,
                action="case.note",
                subject=f"case:{case_id}",
                details={"note": row.id},
            )
            return Note(row.id, case_id, principal.actor, text, row.created_at)

    def record_decision(
        self, principal: Principal, case_id: int, chosen: Decision, *, reason: str, agency: str
    ) -> DecisionRecord:
        """Store a decision: escalate makes the case urgent, the others close it."""
        now = utcnow()
        with self.db.session() as s:
            row = changeable_case_row(s, principal, case_id)
            if row.status != CaseStatus.OPEN.value:
                raise Conflict(f"case {case_id} is {row.status}, not open")
            if row.claimed_by_user not in (None, principal.user_id):
                raise Conflict(f"case {case_id} is claimed by another reviewer")
            rec = CaseDecisionRow(
                case_id=case_id,
                author_id=principal.user_id or 0,
                decision=chosen.value,
                agency=agency,
                reason=reason,
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
                actor=principal.actor,
                action=f"case.{chosen.value}",
                subject=f"case:{case_id}",
                details={"reason": reason, "agency": agency},
            )
            return DecisionRecord(rec.id, case_id, chosen, principal.actor, reason, now, agency)

    def mark_claimed_elsewhere(
        self, principal: Principal, case_id: int, *, claimed_by: str, reference: str
    ) -> Case:
        """The case owner records that another body holds the case: it leaves review queues."""
        with self.db.session() as s:
            row = changeable_case_row(s, principal, case_id)
            row.claimed_elsewhere_by = claimed_by
            row.claimed_elsewhere_ref = reference or None
            row.claimed_elsewhere_at = utcnow()
            audit.append(
                s,
                actor=principal.actor,
                action="case.claimed_elsewhere",
                subject=f"case:{case_id}",
                details={"claimed_by": claimed_by, "reference": reference},
            )
            s.flush()
            return case_summary(s, row)
