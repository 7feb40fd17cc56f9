"""What administrators may see and end: API keys, panic keys and users, scoped like cases.

The operator's administrators (and the system) manage every organisation; another organisation's
administrators manage their own. A key or user outside that scope is "not found", never
"forbidden", so the answer does not tell an outsider it exists. Every change is audited under
the acting person, in the same transaction as the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import Session

from safestream.core.errors import Conflict, InvalidInput, NotFound
from safestream.core.principal import Permission, Principal
from safestream.store import audit
from safestream.store.access import ApiKeyInfo, IssuedKey, User, _issue_key, _key_info, _user
from safestream.store.base import utcnow
from safestream.store.database import Database
from safestream.store.models.access import ApiKeyRow, OrganisationRow, PanicKeyRow, UserRow
from safestream.store.panic_keys import IssuedPanicKey, PanicKeyInfo, _info, _issue
from safestream.store.scope import require
from safestream.store.sessions import end_user_sessions


@dataclass(frozen=True)
class AccessOverview:
    """The keys and users an administrator manages, oldest first."""

    api_keys: list[ApiKeyInfo]
    panic_keys: list[PanicKeyInfo]
    users: list[User]


def _managed(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause on `OrganisationRow` selecting the organisations this principal manages."""
    if principal.links_and_triages:
        return true()
    if principal.org is None:
        return OrganisationRow.id.is_(None)
    return OrganisationRow.id == principal.org.id


def overview(db: Database, principal: Principal) -> AccessOverview:
    """Every key and user the principal administers (revoked keys and disabled users too)."""
    require(principal, Permission.ADMINISTER)
    managed = _managed(principal)
    with db.session() as s:
        api_keys = s.execute(
            select(ApiKeyRow, OrganisationRow)
            .join(OrganisationRow, OrganisationRow.id == ApiKeyRow.org_id)
            .where(managed)
            .order_by(ApiKeyRow.id)
        ).all()
        panic_keys = s.execute(
            select(PanicKeyRow, OrganisationRow)
            .join(OrganisationRow, OrganisationRow.id == PanicKeyRow.org_id)
            .where(managed)
            .order_by(PanicKeyRow.id)
        ).all()
        users = s.execute(
            select(UserRow, OrganisationRow)
            .join(OrganisationRow, OrganisationRow.id == UserRow.org_id)
            .where(managed)
            .order_by(UserRow.email)
        ).all()
        return AccessOverview(
            [_key_info(k, o) for k, o in api_keys],
            [_info(k, o) for k, o in panic_keys],
            [_user(u, o) for u, o in users],
        )


Row = TypeVar("Row", ApiKeyRow, PanicKeyRow, UserRow)


def _in_scope(
    s: Session, principal: Principal, row_type: type[Row], row_id: int, what: str
) -> tuple[Row, OrganisationRow]:
    require(principal, Permission.ADMINISTER)
    found = s.execute(
        select(row_type, OrganisationRow)
        .join(OrganisationRow, OrganisationRow.id == row_type.org_id)
        .where(row_type.id == row_id, _managed(principal))
    ).first()
    if found is None:
        raise NotFound(f"no {what} with id {row_id}")
    return found[0], found[1]


def _audit(s: Session, principal: Principal, action: str, subject: str, **details: object) -> None:
    audit.append(s, actor=principal.actor, action=action, subject=subject, details=details)


def revoke_api_key_as(db: Database, principal: Principal, key_id: int) -> ApiKeyInfo:
    """Revoke an API key the principal administers."""
    with db.session() as s:
        row, org = _in_scope(s, principal, ApiKeyRow, key_id, "API key")
        if row.revoked_at is not None:
            raise Conflict(f"API key {key_id} was revoked already")
        row.revoked_at = utcnow()
        _audit(s, principal, "apikey.revoke", f"apikey:{key_id}")
        return _key_info(row, org)


def rotate_api_key_as(db: Database, principal: Principal, key_id: int) -> IssuedKey:
    """Revoke an API key the principal administers and issue its organisation a new one."""
    with db.session() as s:
        row, org = _in_scope(s, principal, ApiKeyRow, key_id, "API key")
        if row.revoked_at is not None:
            raise Conflict(f"API key {key_id} was revoked already")
        row.revoked_at = utcnow()
        issued = _issue_key(s, org)
        _audit(s, principal, "apikey.rotate", f"apikey:{key_id}", new_key=issued.id)
        return issued


def revoke_panic_key_as(db: Database, principal: Principal, key_id: int) -> PanicKeyInfo:
    """Revoke a panic key the principal administers."""
    with db.session() as s:
        row, org = _in_scope(s, principal, PanicKeyRow, key_id, "panic key")
        if row.revoked_at is not None:
            raise Conflict(f"panic key {key_id} was revoked already")
        row.revoked_at = utcnow()
        _audit(s, principal, "panic_key.revoke", f"panic_key:{key_id}")
        return _info(row, org)


def rotate_panic_key_as(db: Database, principal: Principal, key_id: int) -> IssuedPanicKey:
    """Revoke a panic key the principal administers; issue one with the same bounds."""
    with db.session() as s:
        row, org = _in_scope(s, principal, PanicKeyRow, key_id, "panic key")
        if row.revoked_at is not None:
            raise Conflict(f"panic key {key_id} was revoked already")
        row.revoked_at = utcnow()
        issued = _issue(s, org, tuple(row.origins.split()), row.stream_prefix)
        _audit(s, principal, "panic_key.rotate", f"panic_key:{key_id}", new_key=issued.info.id)
        return issued


def set_user_active_as(
    db: Database, principal: Principal, user_id: int, active: bool
) -> tuple[User, int]:
    """Disable (ending their sessions) or enable a user the principal administers; nobody
    disables themselves (an organisation must not lock out its last administrator by a click)."""
    if not active and principal.user_id == user_id:
        raise InvalidInput("you cannot disable yourself; ask another administrator")
    with db.session() as s:
        row, org = _in_scope(s, principal, UserRow, user_id, "user")
        row.active = active
        ended = 0 if active else end_user_sessions(s, row.id, "user_disabled")
        action = "user.enable" if active else "user.disable"
        _audit(s, principal, action, f"user:{user_id}", sessions_ended=ended)
        return _user(row, org), ended
