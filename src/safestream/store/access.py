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
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from safestream.core.errors import Conflict, InvalidInput, NotFound
from safestream.core.principal import OrgKind, OrgRef, Principal
from safestream.core.principal import Permission as Permission  # re-exported for callers
from safestream.core.principal import Role as Role
from safestream.store.base import utcnow
from safestream.store.database import Database
from safestream.store.models.access import ApiKeyRow, OrganisationRow, UserRow
from safestream.store.sessions import end_user_sessions
from safestream.store.times import aware, aware_or_none

API_KEY_PREFIX = "ss_"
ORG_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.&'-]{0,127}$")
MIN_PASSWORD_LENGTH = 12
_HASHER = PasswordHasher()


@dataclass(frozen=True)
class Organisation:
    """A platform, the operator (hotline) or an agency."""

    id: int
    name: str
    kind: OrgKind = OrgKind.PLATFORM
    agency_code: str | None = None

    @property
    def ref(self) -> OrgRef:
        """The organisation as a principal names it."""
        return OrgRef(id=self.id, name=self.name, kind=self.kind, agency_code=self.agency_code)

    @property
    def principal(self) -> Principal:
        """The principal of a request made with this organisation's API key."""
        return Principal(org=self.ref, user=f"org:{self.name}", roles=frozenset({Role.API_CLIENT}))


@dataclass(frozen=True)
class User:
    """A console user."""

    id: int
    email: str
    org_id: int
    org: str
    role: Role
    active: bool = True
    org_kind: OrgKind = OrgKind.PLATFORM
    agency_code: str | None = None

    def allows(self, permission: Permission) -> bool:
        """Whether this user's role grants `permission`."""
        return self.active and self.role.allows(permission)

    @property
    def principal(self) -> Principal:
        """This user as the acting principal of store calls."""
        org = OrgRef(
            id=self.org_id, name=self.org, kind=self.org_kind, agency_code=self.agency_code
        )
        roles = frozenset({self.role}) if self.active else frozenset()
        return Principal(org=org, user=self.email, roles=roles, user_id=self.id)


@dataclass(frozen=True)
class ApiKeyInfo:
    """What is kept of an API key: never the key itself, only its first characters."""

    id: int
    org: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class IssuedKey:
    """A new API key; `key` is shown once and never stored."""

    id: int
    org: str
    key: str


def hash_api_key(key: str) -> str:
    """The stored form of an API key."""
    return hashlib.sha256(key.encode()).hexdigest()


USER_ROLES = tuple(r for r in Role if r is not Role.API_CLIENT)


def _parse_role(role: str) -> Role:
    try:
        parsed = Role(role.strip().lower().replace("-", "_"))
    except ValueError:
        parsed = Role.API_CLIENT
    if parsed is Role.API_CLIENT:
        raise InvalidInput(f"unknown role {role!r}; use one of: {', '.join(USER_ROLES)}")
    return parsed


def _parse_kind(kind: OrgKind | str) -> OrgKind:
    try:
        return OrgKind(str(kind).strip().lower())
    except ValueError as exc:
        raise InvalidInput(f"unknown kind {kind!r}; use one of: {', '.join(OrgKind)}") from exc


def _organisation(row: OrganisationRow) -> Organisation:
    return Organisation(row.id, row.name, OrgKind(row.kind), row.agency_code)


def _org_row(s: Session, name: str) -> OrganisationRow:
    row = s.scalar(select(OrganisationRow).where(OrganisationRow.name == name))
    if row is None:
        raise NotFound(f"no organisation named {name!r}")
    return row


def _user(row: UserRow, org: OrganisationRow | None) -> User:
    if org is None:  # cannot happen: users.org_id is a foreign key
        raise NotFound(f"user {row.id} has no organisation")
    return User(
        row.id,
        row.email,
        row.org_id,
        org.name,
        Role(row.role),
        row.active,
        OrgKind(org.kind),
        org.agency_code,
    )


def create_org(
    db: Database,
    name: str,
    *,
    kind: OrgKind | str = OrgKind.PLATFORM,
    agency_code: str | None = None,
) -> Organisation:
    """Create an organisation; raise `Conflict` if the name is taken.

    A new organisation is a platform unless told otherwise: the least it can be trusted with.
    An agency needs its routing code, which names the cases referred to it.
    """
    name = name.strip()
    if not ORG_NAME.match(name):
        raise InvalidInput(f"organisation name {name!r}: letters, digits, spaces, _.&'- (<=128)")
    parsed, code = _parse_kind(kind), (agency_code or "").strip() or None
    if (parsed is OrgKind.AGENCY) != (code is not None):
        raise InvalidInput("agency_code: give it for an agency, and only for an agency")
    with db.session() as s:
        if s.scalar(select(OrganisationRow.id).where(OrganisationRow.name == name)) is not None:
            raise Conflict(f"organisation {name!r} already exists")
        row = OrganisationRow(name=name, kind=parsed.value, agency_code=code)
        s.add(row)
        try:
            s.flush()
        except IntegrityError as exc:  # created by another connection since the check above
            raise Conflict(f"organisation {name!r} already exists") from exc
        return _organisation(row)


def set_org_kind(
    db: Database, name: str, kind: OrgKind | str, *, agency_code: str | None = None
) -> Organisation:
    """Change what an organisation is (for example mark the hotline running SafeStream)."""
    parsed, code = _parse_kind(kind), (agency_code or "").strip() or None
    if (parsed is OrgKind.AGENCY) != (code is not None):
        raise InvalidInput("agency_code: give it for an agency, and only for an agency")
    with db.session() as s:
        row = _org_row(s, name)
        row.kind, row.agency_code = parsed.value, code
        return _organisation(row)


def get_org_by_id(db: Database, org_id: int) -> Organisation:
    """An organisation by id, or raise `NotFound`."""
    with db.session() as s:
        row = s.get(OrganisationRow, org_id)
        if row is None:
            raise NotFound(f"no organisation with id {org_id}")
        return _organisation(row)


def get_org(db: Database, name: str) -> Organisation:
    """An organisation by name, or raise `NotFound`."""
    with db.session() as s:
        return _organisation(_org_row(s, name))


def list_orgs(db: Database) -> list[Organisation]:
    """Every organisation, by name."""
    with db.session() as s:
        rows = s.scalars(select(OrganisationRow).order_by(OrganisationRow.name))
        return [_organisation(r) for r in rows]


def ensure_org(db: Database, name: str) -> Organisation:
    """An organisation by name, created if missing (for SafeStream's own detectors)."""
    try:
        return get_org(db, name)
    except NotFound:
        try:
            return create_org(db, name)
        except Conflict:  # created meanwhile by another process
            return get_org(db, name)


def _issue_key(s: Session, org_row: OrganisationRow) -> IssuedKey:
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKeyRow(org_id=org_row.id, prefix=key[:10], key_hash=hash_api_key(key))
    s.add(row)
    s.flush()
    return IssuedKey(row.id, org_row.name, key)


def create_api_key(db: Database, org: str) -> IssuedKey:
    """Issue a new API key for an organisation; the caller must show it once."""
    with db.session() as s:
        return _issue_key(s, _org_row(s, org))


def _live_key_row(s: Session, key_id: int) -> ApiKeyRow:
    row = s.get(ApiKeyRow, key_id)
    if row is None:
        raise NotFound(f"no API key with id {key_id}")
    if row.revoked_at is not None:
        raise Conflict(f"API key {key_id} was revoked already")
    return row


def revoke_api_key(db: Database, key_id: int) -> ApiKeyInfo:
    """Revoke an API key by id: servers refuse it within `store.api_key_cache.KEY_CACHE_SECONDS`."""
    with db.session() as s:
        row = _live_key_row(s, key_id)
        row.revoked_at = utcnow()
        return _key_info(row, s.get(OrganisationRow, row.org_id))


def rotate_api_key(db: Database, key_id: int) -> IssuedKey:
    """Revoke an API key and issue its organisation a new one, in one transaction."""
    with db.session() as s:
        row = _live_key_row(s, key_id)
        row.revoked_at = utcnow()
        org_row = s.get(OrganisationRow, row.org_id)
        if org_row is None:  # cannot happen: api_keys.org_id is a foreign key
            raise NotFound(f"API key {key_id} has no organisation")
        return _issue_key(s, org_row)


def _key_info(row: ApiKeyRow, org: OrganisationRow | None) -> ApiKeyInfo:
    name = org.name if org else f"org:{row.org_id}"
    return ApiKeyInfo(
        row.id, name, row.prefix, aware(row.created_at), aware_or_none(row.revoked_at)
    )


def list_api_keys(db: Database, org: str | None = None) -> list[ApiKeyInfo]:
    """API keys (revoked ones too), oldest first; of one organisation when `org` is given."""
    with db.session() as s:
        query = (
            select(ApiKeyRow, OrganisationRow)
            .join(OrganisationRow, OrganisationRow.id == ApiKeyRow.org_id)
            .order_by(ApiKeyRow.id)
        )
        if org is not None:
            query = query.where(ApiKeyRow.org_id == _org_row(s, org).id)
        return [_key_info(key, owner) for key, owner in s.execute(query).all()]


def org_for_api_key(db: Database, key: str) -> Organisation | None:
    """The organisation an unrevoked API key belongs to, or None."""
    if not key.startswith(API_KEY_PREFIX) or len(key) > 128:
        return None
    with db.session() as s:
        row = s.scalar(
            select(OrganisationRow)
            .join(ApiKeyRow, ApiKeyRow.org_id == OrganisationRow.id)
            .where(ApiKeyRow.key_hash == hash_api_key(key), ApiKeyRow.revoked_at.is_(None))
        )
        return _organisation(row) if row else None


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
    _check_password(password)
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
        return _user(row, org_row)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password must have at least {MIN_PASSWORD_LENGTH} characters")


def _user_row(s: Session, email: str) -> UserRow:
    row = s.scalar(select(UserRow).where(UserRow.email == email.strip().lower()))
    if row is None:
        raise NotFound(f"no user {email.strip().lower()!r}")
    return row


def set_password(
    db: Database, email: str, password: str, *, hasher: PasswordHasher = _HASHER
) -> tuple[User, int]:
    """Change a user's password and end every console session they have open, in one
    transaction; return the user and how many sessions ended (a stolen cookie dies with the old
    password)."""
    _check_password(password)
    with db.session() as s:
        row = _user_row(s, email)
        row.password_hash = hasher.hash(password)
        ended = end_user_sessions(s, row.id, "password_changed")
        return _user(row, s.get(OrganisationRow, row.org_id)), ended


def change_own_password(
    db: Database, user_id: int, current: str, new: str, *, hasher: PasswordHasher = _HASHER
) -> int | None:
    """A person changes their password, proving the current one: the new hash is stored and
    every console session of theirs ends, in one transaction. Return how many sessions ended,
    or None when `current` is wrong (nothing changes)."""
    _check_password(new)
    with db.session() as s:
        row = s.get(UserRow, user_id)
        if row is None or not row.active:
            return None
        try:
            hasher.verify(row.password_hash, current)
        except (VerificationError, InvalidHashError):
            return None
        row.password_hash = hasher.hash(new)
        return end_user_sessions(s, row.id, "password_changed")


def set_user_active(db: Database, email: str, active: bool) -> tuple[User, int]:
    """Disable (or enable again) a user; disabling ends their console sessions at once, in the
    same transaction. Return the user and how many sessions ended."""
    with db.session() as s:
        row = _user_row(s, email)
        row.active = active
        ended = 0 if active else end_user_sessions(s, row.id, "user_disabled")
        return _user(row, s.get(OrganisationRow, row.org_id)), ended


def get_user(db: Database, user_id: int) -> User:
    """A user by id, or raise `NotFound`."""
    with db.session() as s:
        row = s.get(UserRow, user_id)
        if row is None:
            raise NotFound(f"no user with id {user_id}")
        org = s.get(OrganisationRow, row.org_id)
        return _user(row, org)


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
        return _user(row, org)


def list_users(db: Database) -> list[User]:
    """Every user, by email."""
    with db.session() as s:
        rows = s.execute(
            select(UserRow, OrganisationRow)
            .join(OrganisationRow, OrganisationRow.id == UserRow.org_id)
            .order_by(UserRow.email)
        ).all()
        return [_user(u, org) for u, org in rows]
