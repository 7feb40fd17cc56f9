"""The facts triage rules test, aggregated from a case's reports and stored events.

Facts are aggregated in SQL from per-report columns filled at intake and from the case's stored
events (a panic press, the strongest payment pattern), so assessing a case costs a few queries
however many reports it holds (a hot stream can gather thousands), and assessing a batch of cases
costs the same few queries. `cases.view` turns them into the read-only view rules get.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Integer, cast, distinct, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from safestream.core.cases import FactValue
from safestream.core.entities import EntityKind
from safestream.store.bulk import one_of
from safestream.store.events import CaseEventFacts, case_event_facts
from safestream.store.models.cases import CaseEntityRow, CaseMatchRow, CaseRow
from safestream.store.models.reports import ReportRow

NO_EVENT_FACTS = CaseEventFacts(panic=False, payment_flag=False, payment_score=0.0)


@dataclass(frozen=True)
class CaseFacts:
    """One case's priority, facts, and the countries its reports place it in."""

    priority: int
    facts: dict[str, FactValue]
    countries: tuple[tuple[str, str], ...]  # (country, how it is known)
    platform_country: str | None


def _any(column: InstrumentedAttribute[bool]) -> ColumnElement[int | None]:
    # Portable "bool_or": SQLite has no boolean type, PostgreSQL no max(boolean).
    return func.max(cast(column, Integer))


def case_facts(s: Session, case_ids: Sequence[int]) -> dict[int, CaseFacts]:
    """Aggregate the facts of many cases with one query per kind of fact (the linker assesses a
    whole batch of cases at once); ids of cases that do not exist are left out."""
    if not case_ids:
        return {}
    ids = sorted(set(case_ids))
    cases = {c.id: c for c in s.scalars(select(CaseRow).where(one_of(s, CaseRow.id, ids)))}
    in_cases = one_of(s, ReportRow.case_id, ids)
    agg = _report_aggregates(s, in_cases)
    kinds = _kinds(s, in_cases)
    places = _places(s, in_cases)
    accounts = _counts(
        s,
        CaseEntityRow.case_id,
        one_of(s, CaseEntityRow.case_id, ids),
        CaseEntityRow.kind == EntityKind.ACCOUNT.value,
    )
    matches = _counts(
        s,
        CaseMatchRow.case_id,
        one_of(s, CaseMatchRow.case_id, ids),
        CaseMatchRow.verified.is_(True),
    )
    from_events = case_event_facts(s, ids)
    views: dict[int, CaseFacts] = {}
    for case_id, case in cases.items():
        events = from_events.get(case_id, NO_EVENT_FACTS)
        reports, orgs, live, danger, private, viewers, payments = agg.get(
            case_id, (0, 0, None, None, None, None, None)
        )
        countries: dict[tuple[str, str], None] = {}
        platform_country = None
        for text, platform in places.get(case_id, []):
            countries.update({(c, why): None for c, why in json.loads(text)})
            platform_country = platform_country or platform
        case_kinds = kinds.get(case_id, [])
        verified = matches.get(case_id, 0)
        facts: dict[str, FactValue] = {
            "live_now": bool(live),
            "hash_match": bool(verified),
            "image_region_match": events.image_region_match,
            "room_match": events.room_match,
            "child_in_danger": bool(danger),
            "panic": events.panic,
            "payment_flag": events.payment_flag,
            "payment_score": round(events.payment_score, 4),
            "private_stream": bool(private),
            "claimed_elsewhere": case.claimed_elsewhere_by is not None,
            "report_count": int(reports),
            "reporting_orgs": int(orgs),
            "account_count": accounts.get(case_id, 0),
            "viewer_count": int(viewers or 0),
            "payment_count": int(payments or 0),
            "match_count": verified,
            "incident_types": sorted({t for _, t in case_kinds}),
            "sources": sorted({src for src, _ in case_kinds}),
        }
        views[case_id] = CaseFacts(case.priority, facts, tuple(countries), platform_country)
    return views


def _report_aggregates(s: Session, in_cases: ColumnElement[bool]) -> dict[int | None, Any]:
    """case id -> (reports, organisations, live, danger, private, viewers, payments)."""
    return {
        row[0]: row[1:]
        for row in s.execute(
            select(
                ReportRow.case_id,
                func.count(),
                func.count(distinct(ReportRow.org_id)),
                _any(ReportRow.live_now),
                _any(ReportRow.child_in_danger),
                _any(ReportRow.private_stream),
                func.max(ReportRow.viewer_count),
                func.sum(ReportRow.payment_count),
            )
            .where(in_cases)
            .group_by(ReportRow.case_id)
        )
    }


def _kinds(s: Session, in_cases: ColumnElement[bool]) -> dict[int | None, list[tuple[str, str]]]:
    """case id -> the (source, incident type) pairs of its reports."""
    kinds: dict[int | None, list[tuple[str, str]]] = defaultdict(list)
    for case_id, source, incident in s.execute(
        select(ReportRow.case_id, ReportRow.source, ReportRow.incident_type)
        .where(in_cases)
        .distinct()
    ):
        kinds[case_id].append((source, incident))
    return kinds


def _places(
    s: Session, in_cases: ColumnElement[bool]
) -> dict[int | None, list[tuple[str, str | None]]]:
    """case id -> (countries JSON, platform country) of its reports, oldest first."""
    places: dict[int | None, list[tuple[str, str | None]]] = defaultdict(list)
    first_seen = func.min(ReportRow.received_at)
    for case_id, countries_json, platform in s.execute(
        select(ReportRow.case_id, ReportRow.countries, ReportRow.platform_country)
        .where(in_cases, (ReportRow.countries != "[]") | ReportRow.platform_country.is_not(None))
        .group_by(ReportRow.case_id, ReportRow.countries, ReportRow.platform_country)
        .order_by(ReportRow.case_id, first_seen)
    ):
        places[case_id].append((countries_json, platform))
    return places


def _counts(
    s: Session, key: InstrumentedAttribute[int], *where: ColumnElement[bool]
) -> dict[int, int]:
    return {k: int(n) for k, n in s.execute(select(key, func.count()).where(*where).group_by(key))}
