"""CyberTipline drafts for a stored case: its reports, read from the store, through the builder."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from safestream.core.errors import NotFound
from safestream.core.reports import Report
from safestream.reports.cybertip import CybertipDraft, ReportingCompany, build_cybertips
from safestream.store.database import Database
from safestream.store.models.reports import ReportRow
from safestream.store.reports import ReportRepository


def case_reports(db: Database, case_id: int) -> list[Report]:
    """Every report linked to a case, oldest first; raise `NotFound` for a case with none."""
    with db.session() as s:
        ids = s.scalars(
            select(ReportRow.id)
            .where(ReportRow.case_id == case_id)
            .order_by(ReportRow.received_at, ReportRow.id)
        ).all()
    if not ids:
        raise NotFound(f"case {case_id} has no reports")
    repo = ReportRepository(db)
    return [repo.get(i) for i in ids]


def case_cybertips(
    db: Database, case_id: int, company: ReportingCompany, *, now: datetime | None = None
) -> list[CybertipDraft]:
    """The CyberTipline reports a case makes (one per reported account, one for the rest)."""
    return build_cybertips(case_reports(db, case_id), company, now=now)
