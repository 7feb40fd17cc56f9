"""Which bank matches count as verified for review, and the administrator's switch per bank.

A match is verified when SafeStream's own bank backs it (`CaseMatchRow.verified`, decided at
intake) and that bank has not been marked unverified by an administrator. The console shows
verified matches hash-first (hash and label, no preview). A match whose bank is gone stays
verified: hiding a file by mistake costs a reason to open it, showing one costs a reviewer.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, not_, select, update

from safestream.core.banks import Bank
from safestream.core.errors import BankNotFound, PermissionDenied
from safestream.core.principal import Permission, Principal
from safestream.store import audit
from safestream.store.banks import BankRepository
from safestream.store.database import Database
from safestream.store.models.cases import CaseMatchRow
from safestream.store.models.media import BankRow
from safestream.store.scope import require


def bank_marked_unverified() -> ColumnElement[bool]:
    """True where the match's bank exists and an administrator marked it unverified."""
    return exists(
        select(BankRow.id).where(BankRow.name == CaseMatchRow.bank, BankRow.verified.is_(False))
    )


def verified_match() -> ColumnElement[bool]:
    """A WHERE clause on `CaseMatchRow`: matches that are shown hash-first."""
    return and_(CaseMatchRow.verified.is_(True), not_(bank_marked_unverified()))


def require_installation_admin(principal: Principal) -> None:
    """Banks serve every organisation: only the operator's administrators (or the system) may
    change how they are trusted, never an administrator of a platform or an agency."""
    require(principal, Permission.ADMINISTER)
    if not principal.links_and_triages:
        raise PermissionDenied(f"{principal.actor} may not change the installation's banks")


def set_bank_verified(db: Database, principal: Principal, name: str, verified: bool) -> Bank:
    """Mark a bank verified or not (the operator's administrators); the change is audited."""
    require_installation_admin(principal)
    with db.session() as s:
        done = s.execute(
            update(BankRow)
            .where(BankRow.name == name)
            .values(verified=verified)
            .execution_options(synchronize_session=False)
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise BankNotFound(f"no bank {name!r}")
        audit.append(
            s,
            actor=principal.actor,
            action="bank.verified" if verified else "bank.unverified",
            subject=f"bank:{name}",
        )
    return BankRepository(db).get(name)
