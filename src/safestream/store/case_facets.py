"""What the queue's organisation and claimant filters offer, in the viewer's scope.

Only organisations with a report the viewer may see, and only people holding a case the viewer
may see, are offered: a choice list must not tell a viewer more than the cases themselves do.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, select

from safestream.core.cases import CaseStatus
from safestream.core.principal import Principal
from safestream.store.base import utcnow
from safestream.store.database import Database
from safestream.store.models.access import OrganisationRow, UserRow
from safestream.store.models.cases import CaseRow
from safestream.store.models.reports import ReportRow
from safestream.store.scope import cases_visible, reports_visible


@dataclass(frozen=True)
class Choice:
    """One option of a filter: the value a URL carries and the label a person reads."""

    value: int
    label: str


def reporting_orgs(db: Database, principal: Principal) -> list[Choice]:
    """Organisations that filed at least one report the principal may see, by name."""
    # One indexed probe per organisation (there are few), not a scan of the reports.
    filed = exists().where(ReportRow.org_id == OrganisationRow.id, reports_visible(principal))
    with db.session() as s:
        rows = s.execute(
            select(OrganisationRow.id, OrganisationRow.name)
            .where(filed)
            .order_by(OrganisationRow.name)
        ).all()
    return [Choice(org_id, name) for org_id, name in rows]


def claimants(db: Database, principal: Principal) -> list[Choice]:
    """People holding (a running claim on) an open case the principal may see, by email."""
    holding = (
        select(CaseRow.claimed_by_user)
        .where(
            cases_visible(principal),
            CaseRow.status == CaseStatus.OPEN.value,
            CaseRow.claimed_by_user.is_not(None),
            CaseRow.claim_expires_at > utcnow(),
        )
        .distinct()
    )
    with db.session() as s:
        rows = s.execute(
            select(UserRow.id, UserRow.email).where(UserRow.id.in_(holding)).order_by(UserRow.email)
        ).all()
    return [Choice(user_id, email) for user_id, email in rows]
