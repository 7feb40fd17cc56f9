"""Tenant scope: which cases, reports and evidence a principal may see, decided here and only here.

Every repository that reads or changes cases, reports or evidence for a person or an API key adds
one of these clauses to its query, so a page or route cannot forget the check:

| principal            | cases                          | reports                              |
|----------------------|--------------------------------|--------------------------------------|
| system               | all                            | all                                  |
| operator (hotline)   | all                            | all                                  |
| agency               | those referred to its code     | those in cases referred to it        |
| platform             | none                           | its own                              |

Something outside a principal's scope is "not found" (404), never "forbidden" (403): the answer
must not tell an outsider that a case or report exists.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, select, true

from safestream.core.cases import Decision
from safestream.core.errors import PermissionDenied
from safestream.core.principal import OrgKind, Permission, Principal
from safestream.store.models.cases import CaseDecisionRow, CaseRow
from safestream.store.models.reports import ReportRow


def _referred_to(principal: Principal) -> ColumnElement[bool]:
    code = principal.org.agency_code if principal.org else None
    if not code:
        return false()
    referred = select(CaseDecisionRow.case_id).where(
        CaseDecisionRow.decision == Decision.REFER.value, CaseDecisionRow.agency == code
    )
    return CaseRow.id.in_(referred)


def cases_visible(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause on `CaseRow` selecting the cases this principal may see."""
    if principal.links_and_triages:
        return true()
    if principal.kind is OrgKind.AGENCY:
        return _referred_to(principal)
    return false()


def reports_visible(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause on `ReportRow` selecting the reports this principal may see."""
    if principal.links_and_triages:
        return true()
    if principal.org is None:
        return false()
    own = ReportRow.org_id == principal.org.id
    if principal.kind is OrgKind.AGENCY:
        referred = select(CaseRow.id).where(_referred_to(principal))
        return own | ReportRow.case_id.in_(referred)
    return own


def require(principal: Principal, permission: Permission) -> None:
    """Raise `PermissionDenied` unless one of the principal's roles grants `permission`."""
    if not principal.allows(permission):
        raise PermissionDenied(f"{principal.actor} may not {permission.value.replace('_', ' ')}")


def may_change_cases(principal: Principal) -> bool:
    """Whether the principal may decide, note and claim cases (the operator and the system).

    An agency reads the cases referred to it; what it does with them happens in its own systems.
    """
    return principal.links_and_triages
