"""A read-only view of one case, and the facts triage rules test."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safestream.cases.triage import FactValue
from safestream.core.entities import Entity, EntityKind
from safestream.core.reports import ReportIn, ReportSource
from safestream.store.models.cases import CaseEntityRow, CaseMatchRow, CaseRow
from safestream.store.models.reports import ReportRow

FINANCE_DETECTOR = "finance"


@dataclass(frozen=True)
class ViewReport:
    """One report of a case, as rules see it."""

    id: str
    org_id: int
    body: ReportIn


@dataclass(frozen=True)
class CaseView:
    """Everything rules may read about a case; rules never touch the store."""

    case_id: int
    priority: int
    reports: tuple[ViewReport, ...]
    entities: tuple[Entity, ...]
    verified_matches: int
    claimed_elsewhere: bool

    def facts(self) -> dict[str, FactValue]:
        """The facts named in the triage file."""
        bodies = [r.body for r in self.reports]
        streams = [b.live_stream for b in bodies if b.live_stream]
        return {
            "live_now": any(b.live_now for b in bodies),
            "hash_match": self.verified_matches > 0,
            "child_in_danger": any(b.child_in_danger for b in bodies),
            "panic": any(b.source is ReportSource.PANIC_BUTTON for b in bodies),
            "payment_flag": any(
                b.source is ReportSource.DETECTOR and b.detector == FINANCE_DETECTOR for b in bodies
            ),
            "private_stream": any(s.private for s in streams),
            "claimed_elsewhere": self.claimed_elsewhere,
            "report_count": len(bodies),
            "reporting_orgs": len({r.org_id for r in self.reports}),
            "account_count": sum(1 for e in self.entities if e.kind is EntityKind.ACCOUNT),
            "viewer_count": max((len(s.viewers) for s in streams), default=0),
            "payment_count": sum(len(s.payments) for s in streams),
            "match_count": self.verified_matches,
            "incident_types": sorted({b.incident_type.value for b in bodies}),
            "sources": sorted({b.source.value for b in bodies}),
        }


def load_view(s: Session, case_id: int) -> CaseView:
    """Read a case's reports, entities and match count inside the caller's transaction."""
    case = s.get(CaseRow, case_id)
    if case is None:
        raise LookupError(f"case {case_id} vanished during linking")
    reports = s.execute(
        select(ReportRow.id, ReportRow.org_id, ReportRow.body)
        .where(ReportRow.case_id == case_id)
        .order_by(ReportRow.received_at)
    ).all()
    entities = s.execute(
        select(CaseEntityRow.kind, CaseEntityRow.value)
        .where(CaseEntityRow.case_id == case_id)
        .order_by(CaseEntityRow.id)
    ).all()
    matches = s.scalar(
        select(func.count()).where(CaseMatchRow.case_id == case_id, CaseMatchRow.verified)
    )
    return CaseView(
        case_id=case_id,
        priority=case.priority,
        reports=tuple(
            ViewReport(r.id, r.org_id, ReportIn.model_validate(json.loads(r.body))) for r in reports
        ),
        entities=tuple(Entity(EntityKind(k), v) for k, v in entities),
        verified_matches=int(matches or 0),
        claimed_elsewhere=case.claimed_elsewhere_by is not None,
    )
