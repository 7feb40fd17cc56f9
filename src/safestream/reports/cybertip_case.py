"""CyberTipline drafts for a stored case: its reports, read from the store, through the builder."""

from __future__ import annotations

from datetime import datetime

from safestream.core.errors import NotFound
from safestream.core.reports import Report
from safestream.reports.cybertip import CybertipDraft, ReportingCompany, build_cybertips
from safestream.store.database import Database
from safestream.store.reports import ReportRepository


def case_reports(db: Database, case_id: int) -> list[Report]:
    """Every report linked to a case, oldest first; raise `NotFound` for a case with none."""
    repo = ReportRepository(db)
    ids = repo.ids_of_case(case_id)
    if not ids:
        raise NotFound(f"case {case_id} has no reports")
    return [repo.get(i) for i in ids]


def case_cybertips(
    db: Database, case_id: int, company: ReportingCompany, *, now: datetime | None = None
) -> list[CybertipDraft]:
    """The CyberTipline reports a case makes (one per reported account, one for the rest)."""
    return build_cybertips(case_reports(db, case_id), company, now=now)
