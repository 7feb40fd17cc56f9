"""Browsing cases at a hotline's volume: filters, identifier search and keyset pages, in scope.

Pages are cut by keyset on (priority, created_at, id), the queue's own order, never by OFFSET:
page 2,000 costs what page 1 costs. Identifier search is an exact lookup on indexed values
(`ix_*_value`), so it answers in the same time at 100,000 cases as at 100.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    and_,
    exists,
    literal,
    not_,
    or_,
    select,
    tuple_,
    union,
)
from sqlalchemy.orm import Session

from safestream.core.cases import Case, CaseStatus, Decision
from safestream.core.entities import Entity, EntityKind
from safestream.core.errors import InvalidInput
from safestream.core.principal import Principal
from safestream.store.base import utcnow
from safestream.store.cases import case_summary
from safestream.store.database import Database
from safestream.store.models.cases import CaseEntityRow, CaseMatchRow, CaseRow
from safestream.store.models.reports import ReportEntityRow, ReportRow
from safestream.store.report_text import cases_with_text
from safestream.store.scope import cases_visible, reports_visible
from safestream.store.times import aware

MAX_PAGE = 200


class StatusFilter(StrEnum):
    """Which cases a view shows by where they are in their life."""

    OPEN = "open"  # waiting: open, not held by a reviewer (or the lease ran out) nor elsewhere
    HELD = "held"  # open, but claimed by a reviewer or held by another agency
    CLOSED = "closed"
    DISMISSED = "dismissed"
    MERGED = "merged"
    ANY = "any"


@dataclass(frozen=True)
class CaseFilter:
    """What a reviewer narrowed the view to; None or empty means "any"."""

    status: StatusFilter = StatusFilter.OPEN
    queue: str | None = None
    priority: int | None = None
    source: str | None = None
    incident_type: str | None = None
    country: str | None = None
    search: str | None = None
    older_than: timedelta | None = None  # waiting (created) longer than this
    org_id: int | None = None  # cases holding a report (visible to the viewer) from this org
    claimant: str | None = None  # NOBODY, ELSEWHERE or a user id as text (see `_claimant_clause`)


NOBODY = "nobody"  # open and held by no one: no live claim, no other agency
ELSEWHERE = "elsewhere"  # marked as held by another agency or organisation (deconfliction)


@dataclass(frozen=True)
class PageKey:
    """Where a page starts: just after the case with this (priority, created_at, id)."""

    priority: int
    created_at: datetime
    case_id: int

    def token(self) -> str:
        """An opaque-looking but plain cursor for a URL: `priority.epoch_micros.id`."""
        micros = int(aware(self.created_at).timestamp() * 1_000_000)
        return f"{self.priority}.{micros}.{self.case_id}"

    @classmethod
    def parse(cls, token: str) -> PageKey:
        """The key a `token()` wrote; `ValueError` for anything else."""
        p, micros, case_id = (int(part) for part in token.split("."))
        return cls(p, datetime.fromtimestamp(micros / 1_000_000, tz=UTC), case_id)


@dataclass(frozen=True)
class CasePage:
    """One page of cases, and the key of the next page if there is one."""

    cases: list[Case] = field(default_factory=list)
    next_key: PageKey | None = None


def _waiting(now: datetime) -> ColumnElement[bool]:
    return and_(
        CaseRow.status == CaseStatus.OPEN.value,
        CaseRow.claimed_elsewhere_by.is_(None),
        or_(CaseRow.claimed_by_user.is_(None), CaseRow.claim_expires_at < now),
    )


def _status_clause(status: StatusFilter) -> ColumnElement[bool] | None:
    if status is StatusFilter.ANY:
        return None
    if status is StatusFilter.OPEN:
        return _waiting(utcnow())
    if status is StatusFilter.HELD:
        return and_(CaseRow.status == CaseStatus.OPEN.value, not_(_waiting(utcnow())))
    if status is StatusFilter.DISMISSED:
        return and_(
            CaseRow.status == CaseStatus.CLOSED.value, CaseRow.decision == Decision.DISMISS.value
        )
    return CaseRow.status == status.value


def _search_clause(dialect: str, principal: Principal, text: str) -> ColumnElement[bool]:
    """Cases holding the identifier exactly as stored (`platform:id`, `pdq:hex`, an address...),
    optionally prefixed by its kind (`account:examplecall:bob`), a report id, or `#case`; and
    cases with a report (that the principal may see) whose text holds every word searched."""
    text = text.strip()
    words = cases_with_text(dialect, principal, text)
    if text.startswith("#") and text[1:].isdigit():
        return CaseRow.id == int(text[1:])
    kind, _, rest = text.partition(":")
    if kind in {k.value for k in EntityKind} and rest:
        text = rest
    values = list(dict.fromkeys((text, text.lower())))  # hashes and emails are stored lower-case
    bare_hash = [v.partition(":")[2] or v for v in values]
    holders: CompoundSelect[tuple[int | None]] = union(
        select(CaseEntityRow.case_id).where(CaseEntityRow.value.in_(values)),
        select(ReportRow.case_id)
        .join(ReportEntityRow, ReportEntityRow.report_id == ReportRow.id)
        .where(ReportEntityRow.value.in_(values)),
        select(CaseMatchRow.case_id).where(CaseMatchRow.value.in_(bare_hash)),
        select(ReportRow.case_id).where(ReportRow.id == text),
        *([words] if words is not None else []),
    )
    return CaseRow.id.in_(select(holders.subquery().c[0]))


def _claimant_clause(claimant: str, now: datetime) -> ColumnElement[bool]:
    """Who holds the case: nobody, another agency, or a reviewer (by user id) whose lease runs."""
    if claimant == NOBODY:
        return _waiting(now)
    if claimant == ELSEWHERE:
        return CaseRow.claimed_elsewhere_by.is_not(None)
    if not claimant.isdigit():
        raise InvalidInput(f"claimed by: use {NOBODY}, {ELSEWHERE} or a user id")
    return and_(
        CaseRow.status == CaseStatus.OPEN.value,
        CaseRow.claimed_by_user == int(claimant),
        CaseRow.claim_expires_at > now,
    )


def _report_fact_clause(principal: Principal, f: CaseFilter) -> ColumnElement[bool] | None:
    facts = []
    if f.org_id is not None:
        # Only reports the viewer may see count, so a filter cannot reveal who filed what.
        facts.extend([ReportRow.org_id == f.org_id, reports_visible(principal)])
    if f.source:
        facts.append(ReportRow.source == f.source)
    if f.incident_type:
        facts.append(ReportRow.incident_type == f.incident_type)
    if f.country:
        facts.append(ReportRow.platform_country == f.country.upper())
    if not facts:
        return None
    return exists().where(ReportRow.case_id == CaseRow.id, *facts)


def _filtered(dialect: str, principal: Principal, f: CaseFilter) -> Select[CaseRow]:
    clauses = [cases_visible(principal)]
    optional = [
        _status_clause(f.status),
        CaseRow.queue == f.queue if f.queue else None,
        CaseRow.priority == f.priority if f.priority else None,
        CaseRow.created_at < utcnow() - f.older_than if f.older_than else None,
        _report_fact_clause(principal, f),
        _claimant_clause(f.claimant, utcnow()) if f.claimant else None,
        _search_clause(dialect, principal, f.search) if f.search and f.search.strip() else None,
    ]
    clauses.extend(c for c in optional if c is not None)
    return select(CaseRow).where(*clauses)


def _after(key: PageKey) -> ColumnElement[bool]:
    # A row-value comparison is one range on the (status, priority, created_at, id) index.
    return tuple_(CaseRow.priority, CaseRow.created_at, CaseRow.id) > tuple_(
        literal(key.priority),
        literal(key.created_at, CaseRow.created_at.type),
        literal(key.case_id),
    )


def _summaries(s: Session, rows: list[CaseRow]) -> list[Case]:
    """Summaries of a page of cases in three queries (rows, their reports, their identifiers)."""
    ids = [r.id for r in rows]
    reports: dict[int, list[str]] = defaultdict(list)
    for case_id, report_id in s.execute(
        select(ReportRow.case_id, ReportRow.id)
        .where(ReportRow.case_id.in_(ids))
        .order_by(ReportRow.received_at)
    ):
        if case_id is not None:
            reports[case_id].append(report_id)
    entities: dict[int, list[Entity]] = defaultdict(list)
    for case_id, kind, value in s.execute(
        select(CaseEntityRow.case_id, CaseEntityRow.kind, CaseEntityRow.value)
        .where(CaseEntityRow.case_id.in_(ids))
        .order_by(CaseEntityRow.id)
    ):
        entities[case_id].append(Entity(EntityKind(kind), value))
    return [
        case_summary(s, r, report_ids=tuple(reports[r.id]), entities=tuple(entities[r.id]))
        for r in rows
    ]


class CaseBrowser:
    """Filtered, searchable, keyset-paged views of the cases a principal may see."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def page(
        self, principal: Principal, f: CaseFilter, *, after: PageKey | None = None, limit: int = 50
    ) -> CasePage:
        """The next `limit` cases matching `f` in queue order (most urgent, then oldest)."""
        limit = max(1, min(limit, MAX_PAGE))
        query = _filtered(self.db.engine.dialect.name, principal, f)
        if after is not None:
            query = query.where(_after(after))
        query = query.order_by(CaseRow.priority, CaseRow.created_at, CaseRow.id).limit(limit + 1)
        with self.db.session() as s:
            rows: list[CaseRow] = list(s.scalars(query).all())
            more = len(rows) > limit
            rows = rows[:limit]
            cases = _summaries(s, rows)
        last = rows[-1] if more and rows else None
        key = PageKey(last.priority, aware(last.created_at), last.id) if last else None
        return CasePage(cases, key)
