"""Organisations, users, roles and API keys.

Console sessions (owned by the console) call `authenticate_user(db, email, password)`, which returns
a `User` or None; roles decide what a user may do through `Role.allows(permission)`.

Passwords are hashed with Argon2id (argon2-cffi defaults). API keys are 256-bit random tokens, so a
plain SHA-256 of the key is enough to store them safely and keeps per-request checks cheap.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from safestream.core.errors import Conflict, InvalidInput, NotFound
from safestream.store.base import utcnow
from safestream.store.database import Database
from safestream.store.models.access import ApiKeyRow, OrganisationRow, UserRow

API_KEY_PREFIX = "ss_"
ORG_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.&'-]{0,127}$")
MIN_PASSWORD_LENGTH = 12
_HASHER = PasswordHasher()


class Permission(StrEnum):
    """Things a role may do."""

    REVIEW = "review"
    VIEW_CHILD_SAFETY_MEDIA = "view_child_safety_media"
    READ_AUDIT = "read_audit"
    ADMINISTER = "administer"


class Role(StrEnum):
    """Console roles; a child-safety reviewer may open media, a plain reviewer sees hashes only."""

    ADMIN = "admin"
    REVIEWER = "reviewer"
    CHILD_SAFETY_REVIEWER = "child_safety_reviewer"
    AUDITOR = "auditor"

    def allows(self, permission: Permission) -> bool:
        """Whether this role grants `permission`."""
        return permission in ROLE_PERMISSIONS[self]


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.REVIEWER: frozenset({Permission.REVIEW}),
    Role.CHILD_SAFETY_REVIEWER: frozenset({Permission.REVIEW, Permission.VIEW_CHILD_SAFETY_MEDIA}),
    Role.AUDITOR: frozenset({Permission.READ_AUDIT}),
}


@dataclass(frozen=True)
class Organisation:
    """A platform, hotline or agency."""

    id: int
    name: str


@dataclass(frozen=True)
class User:
    """A console user."""

    id: int
    email: str
    org_id: int
    org: str
    role: Role
    active: bool = True

    def allows(self, permission: Permission) -> bool:
        """Whether this user's role grants `permission`."""
        return self.active and self.role.allows(permission)


@dataclass(frozen=True)
class IssuedKey:
    """A new API key; `key` is shown once and never stored."""

    id: int
    org: str
    key: str


def hash_api_key(key: str) -> str:
    """The stored form of an API key."""
    return hashlib.sha256(key.encode()).hexdigest()


def _parse_role(role: str) -> Role:
    try:
        return Role(role.strip().lower().replace("-", "_"))
    except ValueError as exc:
        raise InvalidInput(f"unknown role {role!r}; use one of: {', '.join(Role)}") from exc


def _org_row(s: Session, name: str) -> OrganisationRow:
    row = s.scalar(select(OrganisationRow).where(OrganisationRow.name == name))
    if row is None:
        raise NotFound(f"no organisation named {name!r}")
    return row


def _user(row: UserRow, org: str) -> User:
    return User(row.id, row.email, row.org_id, org, Role(row.role), row.active)


def create_org(db: Database, name: str) -> Organisation:
    """Create an organisation; raise `Conflict` if the name is taken."""
    name = name.strip()
    if not ORG_NAME.match(name):
        raise InvalidInput(f"organisation name {name!r}: letters, digits, spaces, _.&'- (<=128)")
    with db.session() as s:
        if s.scalar(select(OrganisationRow.id).where(OrganisationRow.name == name)) is not None:
            raise Conflict(f"organisation {name!r} already exists")
        row = OrganisationRow(name=name)
        s.add(row)
        s.flush()
        return Organisation(row.id, row.name)


def get_org(db: Database, name: str) -> Organisation:
    """An organisation by name, or raise `NotFound`."""
    with db.session() as s:
        row = _org_row(s, name)
        return Organisation(row.id, row.name)


def ensure_org(db: Database, name: str) -> Organisation:
    """An organisation by name, created if missing (for SafeStream's own detectors)."""
    try:
        return get_org(db, name)
    except NotFound:
        try:
            return create_org(db, name)
        except Conflict:  # created meanwhile by another process
            return get_org(db, name)


def create_api_key(db: Database, org: str) -> IssuedKey:
    """Issue a new API key for an organisation; the caller must show it once."""
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    with db.session() as s:
        org_row = _org_row(s, org)
        row = ApiKeyRow(org_id=org_row.id, prefix=key[:10], key_hash=hash_api_key(key))
        s.add(row)
        s.flush()
        return IssuedKey(row.id, org_row.name, key)


def revoke_api_key(db: Database, key_id: int) -> None:
    """Revoke an API key by id."""
    with db.session() as s:
        row = s.get(ApiKeyRow, key_id)
        if row is None:
            raise NotFound(f"no API key with id {key_id}")
        row.revoked_at = utcnow()


def org_for_api_key(db: Database, key: str) -> Organisation | None:
    """The organisation an unrevoked API key belongs to, or None."""
    if not key.startswith(API_KEY_PREFIX) or len(key) > 128:
        return None
    with db.session() as s:
        row = s.execute(
            select(OrganisationRow.id, OrganisationRow.name)
            .join(ApiKeyRow, ApiKeyRow.org_id == OrganisationRow.id)
            .where(ApiKeyRow.key_hash == hash_api_key(key), ApiKeyRow.revoked_at.is_(None))
        ).first()
        return Organisation(row.id, row.name) if row else None


def add_user(
    db: Database,
    email: str,
    *,
    org: str,
    role: str,
    password: str,
    hasher: PasswordHasher = _HASHER,
) -> User:
    """Add a console user with an Argon2id password hash (`hasher` sets its cost)."""
    email = email.strip().lower()
    local, at, domain = email.partition("@")
    if not at or not local or "." not in domain:
        raise InvalidInput(f"not an email address: {email!r}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    parsed = _parse_role(role)
    with db.session() as s:
        org_row = _org_row(s, org)
        if s.scalar(select(UserRow.id).where(UserRow.email == email)) is not None:
            raise Conflict(f"user {email!r} already exists")
        row = UserRow(
            email=email, org_id=org_row.id, role=parsed.value, password_hash=hasher.hash(password)
        )
        s.add(row)
        s.flush()
        return _user(row, org_row.name)


def get_user(db: Database, user_id: int) -> User:
    """A user by id, or raise `NotFound`."""
    with db.session() as s:
        row = s.get(UserRow, user_id)
        if row is None:
            raise NotFound(f"no user with id {user_id}")
        org = s.get(OrganisationRow, row.org_id)
        return _user(row, org.name if org else "")


def authenticate_user(db: Database, email: str, password: str) -> User | None:
    """The active user with this email and password, or None (never says which was wrong)."""
    with db.session() as s:
        row = s.scalar(select(UserRow).where(UserRow.email == email.strip().lower()))
        if row is None or not row.active:
            # Hash anyway so the answer takes as long for unknown emails (no user enumeration).
            _HASHER.hash(password)
            return None
        try:
            _HASHER.verify(row.password_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        if _HASHER.check_needs_rehash(row.password_hash):
            row.password_hash = _HASHER.hash(password)
        org = s.get(OrganisationRow, row.org_id)
        return _user(row, org.name if org else "")


def list_users(db: Database) -> list[User]:
    """Every user, by email."""
    with db.session() as s:
        rows = s.execute(
            select(UserRow, OrganisationRow.name)
            .join(OrganisationRow, OrganisationRow.id == UserRow.org_id)
            .order_by(UserRow.email)
        ).all()
        return [_user(u, name) for u, name in rows]
