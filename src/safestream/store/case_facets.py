"""What the queue's organisation and claimant filters offer, in the viewer's scope.

A choice list must not tell a viewer more than the cases themselves do: an agency is offered only
organisations with a report it may see, and everyone only people holding a case they may see.
The operator's reviewers see every report, so they are offered every organisation, without a
look at the reports (an EXISTS per organisation over a large reports table is planned as a scan
when one organisation filed most of them).
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
    """Organisations the principal may filter by: every one for those who see every report,
    else those that filed at least one report the principal may see; by name."""
    query = select(OrganisationRow.id, OrganisationRow.name).order_by(OrganisationRow.name)
    if not principal.links_and_triages:
        # An agency sees the reports of the few cases referred to it: a small set to probe.
        visible = reports_visible(principal)
        query = query.where(exists().where(ReportRow.org_id == OrganisationRow.id, visible))
    with db.session() as s:
        rows = s.execute(query).all()
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
