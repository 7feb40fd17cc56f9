"""A read-only view of one case, and the facts triage rules test.

Facts are aggregated in SQL from per-report columns filled at intake, so assessing a case costs a
few queries however many reports it holds (a hot stream can gather thousands).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Integer, cast, distinct, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from safestream.cases.triage import FactValue
from safestream.core.entities import EntityKind
from safestream.core.reports import ReportSource
from safestream.store.models.cases import CaseEntityRow, CaseMatchRow, CaseRow
from safestream.store.models.reports import ReportRow

FINANCE_DETECTOR = "finance"


@dataclass(frozen=True)
class CaseView:
    """Everything rules may read about a case; rules never touch the store."""

    case_id: int
    priority: int
    facts_: dict[str, FactValue]
    countries: tuple[tuple[str, str], ...] = ()  # (country, how it is known)
    platform_country: str | None = None
    report_ids: tuple[str, ...] = field(default_factory=tuple)

    def facts(self) -> dict[str, FactValue]:
        """The facts named in the triage file."""
        return dict(self.facts_)


def _any(column: InstrumentedAttribute[bool]) -> ColumnElement[int | None]:
    # Portable "bool_or": SQLite has no boolean type, PostgreSQL no max(boolean).
    return func.max(cast(column, Integer))


def load_view(s: Session, case_id: int) -> CaseView:
    """Aggregate a case's facts inside the caller's transaction."""
    case = s.get(CaseRow, case_id)
    if case is None:
        raise LookupError(f"case {case_id} vanished during linking")
    in_case = ReportRow.case_id == case_id
    agg = s.execute(
        select(
            func.count(),
            func.count(distinct(ReportRow.org_id)),
            _any(ReportRow.live_now),
            _any(ReportRow.child_in_danger),
            _any(ReportRow.private_stream),
            func.max(ReportRow.viewer_count),
            func.sum(ReportRow.payment_count),
        ).where(in_case)
    ).one()
    kinds = s.execute(
        select(ReportRow.source, ReportRow.detector, ReportRow.incident_type)
        .where(in_case)
        .distinct()
    ).all()
    first_seen = func.min(ReportRow.received_at)
    places = s.execute(
        select(ReportRow.countries, ReportRow.platform_country)
        .where(in_case, (ReportRow.countries != "[]") | ReportRow.platform_country.is_not(None))
        .group_by(ReportRow.countries, ReportRow.platform_country)
        .order_by(first_seen)
    ).all()
    accounts = s.scalar(
        select(func.count()).where(
            CaseEntityRow.case_id == case_id, CaseEntityRow.kind == EntityKind.ACCOUNT.value
        )
    )
    matches = s.scalar(
        select(func.count()).where(CaseMatchRow.case_id == case_id, CaseMatchRow.verified)
    )
    reports, orgs, live, danger, private, viewers, payments = agg
    countries: dict[tuple[str, str], None] = {}
    platform_country = None
    for text, platform in places:
        countries.update({(c, why): None for c, why in json.loads(text)})
        platform_country = platform_country or platform
    facts: dict[str, FactValue] = {
        "live_now": bool(live),
        "hash_match": bool(matches),
        "child_in_danger": bool(danger),
        "panic": any(src == ReportSource.PANIC_BUTTON.value for src, _, _ in kinds),
        "payment_flag": any(
            src == ReportSource.DETECTOR.value and det == FINANCE_DETECTOR for src, det, _ in kinds
        ),
        "private_stream": bool(private),
        "claimed_elsewhere": case.claimed_elsewhere_by is not None,
        "report_count": int(reports),
        "reporting_orgs": int(orgs),
        "account_count": int(accounts or 0),
        "viewer_count": int(viewers or 0),
        "payment_count": int(payments or 0),
        "match_count": int(matches or 0),
        "incident_types": sorted({t for _, _, t in kinds}),
        "sources": sorted({src for src, _, _ in kinds}),
    }
    return CaseView(case_id, case.priority, facts, tuple(countries), platform_country)
