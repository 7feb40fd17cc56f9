"""Publishable panic-button keys: issued per organisation, stored hashed, bound and revocable.

A panic key sits in a web page, so anyone can read it. What limits it:
- it files panic reports and nothing else (`POST /v1/panic`);
- it works only from the web origins it was issued for (the browser's `Origin` header);
- it names only streams in its organisation's namespace (ids starting with `stream_prefix`), so a
  press can neither join another organisation's cases by stream id nor hold another's evidence;
  two organisations' namespaces never overlap;
- it can be revoked or rotated on its own (`safestream panic-key revoke|rotate ID`), at once:
  every press looks its key up, there is no cache.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from safestream.core.entities import normalize_identifier_text
from safestream.core.errors import Conflict, InvalidInput, NotFound
from safestream.core.principal import OrgKind
from safestream.store.access import Organisation
from safestream.store.base import utcnow
from safestream.store.database import Database
from safestream.store.models.access import OrganisationRow, PanicKeyRow
from safestream.store.times import aware, aware_or_none

PANIC_KEY_PREFIX = "pk_panic_"
_KEY_SHAPE = re.compile(r"^pk_panic_[A-Za-z0-9_-]{32}$")
DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_STREAM_PREFIX = 128


@dataclass(frozen=True)
class PanicKeyInfo:
    """What is kept of a panic key (never the key): its organisation and what binds it."""

    id: int
    org: Organisation
    prefix: str
    origins: tuple[str, ...]
    stream_prefix: str
    created_at: datetime
    revoked_at: datetime | None

    def allows_origin(self, origin: str | None) -> bool:
        """Whether a request from this `Origin` header may use the key."""
        if not origin:
            return False
        try:
            return normalize_origin(origin) in self.origins
        except InvalidInput:
            return False

    def allows_stream(self, stream_id: str) -> bool:
        """Whether the stream id lies in the key's namespace."""
        return stream_id.startswith(self.stream_prefix)


@dataclass(frozen=True)
class IssuedPanicKey:
    """A new panic key; `key` is shown once and never stored."""

    info: PanicKeyInfo
    key: str


def hash_panic_key(key: str) -> str:
    """The stored form of a panic key (a long random token, so SHA-256 is enough)."""
    return hashlib.sha256(key.encode()).hexdigest()


def normalize_origin(text: str) -> str:
    """`scheme://host[:port]` as a browser sends it in `Origin`; raise `InvalidInput` otherwise."""
    parts = urlsplit(text.strip())
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        raise InvalidInput(f"origin {text!r}: give scheme and host, e.g. https://calls.example")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise InvalidInput(f"origin {text!r}: only scheme, host and port (no path or query)")
    try:
        port = parts.port
    except ValueError as exc:
        raise InvalidInput(f"origin {text!r}: bad port") from exc
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return (
        f"{scheme}://{host}"
        if port in (None, DEFAULT_PORTS[scheme])
        else f"{scheme}://{host}:{port}"
    )


def _stream_prefix(text: str) -> str:
    try:
        prefix = normalize_identifier_text(text)
    except InvalidInput as exc:
        raise InvalidInput(f"stream prefix {exc}") from None
    if not prefix or len(prefix) > MAX_STREAM_PREFIX:
        raise InvalidInput(f"stream prefix: 1 to {MAX_STREAM_PREFIX} characters")
    return prefix


def _org(row: OrganisationRow) -> Organisation:
    return Organisation(row.id, row.name, OrgKind(row.kind), row.agency_code)


def _info(row: PanicKeyRow, org: OrganisationRow) -> PanicKeyInfo:
    return PanicKeyInfo(
        id=row.id,
        org=_org(org),
        prefix=row.prefix,
        origins=tuple(row.origins.split()),
        stream_prefix=row.stream_prefix,
        created_at=aware(row.created_at),
        revoked_at=aware_or_none(row.revoked_at),
    )


def _check_namespace_is_free(s: Session, org_id: int, stream_prefix: str) -> None:
    """Refuse a namespace overlapping one of another organisation's live keys."""
    rows = s.execute(
        select(PanicKeyRow.stream_prefix, OrganisationRow.name)
        .join(OrganisationRow, OrganisationRow.id == PanicKeyRow.org_id)
        .where(PanicKeyRow.org_id != org_id, PanicKeyRow.revoked_at.is_(None))
    ).all()
    for other, name in rows:
        if other.startswith(stream_prefix) or stream_prefix.startswith(other):
            raise Conflict(f"stream prefix {stream_prefix!r} overlaps {name!r}'s {other!r}")


def _issue(
    s: Session, org: OrganisationRow, origins: tuple[str, ...], stream_prefix: str
) -> IssuedPanicKey:
    _check_namespace_is_free(s, org.id, stream_prefix)
    key = PANIC_KEY_PREFIX + secrets.token_urlsafe(24)
    row = PanicKeyRow(
        org_id=org.id,
        prefix=key[:13],
        key_hash=hash_panic_key(key),
        origins=" ".join(origins),
        stream_prefix=stream_prefix,
        created_at=utcnow(),
    )
    s.add(row)
    s.flush()
    return IssuedPanicKey(_info(row, org), key)


def issue_panic_key(
    db: Database, org: str, *, origins: list[str] | tuple[str, ...], stream_prefix: str
) -> IssuedPanicKey:
    """Issue an organisation a panic key for pages on `origins` and streams `stream_prefix...`."""
    allowed = tuple(dict.fromkeys(normalize_origin(o) for o in origins))
    if not allowed:
        raise InvalidInput("give at least one origin the call pages are served from")
    prefix = _stream_prefix(stream_prefix)
    with db.session() as s:
        row = s.scalar(select(OrganisationRow).where(OrganisationRow.name == org.strip()))
        if row is None:
            raise NotFound(f"no organisation named {org.strip()!r}")
        return _issue(s, row, allowed, prefix)


def panic_key_info(db: Database, key: str) -> PanicKeyInfo | None:
    """The live (unrevoked) panic key this token is, or None."""
    if not _KEY_SHAPE.match(key):
        return None
    with db.session() as s:
        found = s.execute(
            select(PanicKeyRow, OrganisationRow)
            .join(OrganisationRow, OrganisationRow.id == PanicKeyRow.org_id)
            .where(PanicKeyRow.key_hash == hash_panic_key(key), PanicKeyRow.revoked_at.is_(None))
        ).first()
        return _info(*found) if found else None


def _live_row(s: Session, key_id: int) -> tuple[PanicKeyRow, OrganisationRow]:
    row = s.get(PanicKeyRow, key_id)
    if row is None:
        raise NotFound(f"no panic key with id {key_id}")
    if row.revoked_at is not None:
        raise Conflict(f"panic key {key_id} was revoked already")
    org = s.get(OrganisationRow, row.org_id)
    if org is None:  # cannot happen: panic_keys.org_id is a foreign key
        raise NotFound(f"panic key {key_id} has no organisation")
    return row, org


def revoke_panic_key(db: Database, key_id: int) -> PanicKeyInfo:
    """Revoke a panic key: the next press with it is refused."""
    with db.session() as s:
        row, org = _live_row(s, key_id)
        row.revoked_at = utcnow()
        return _info(row, org)


def rotate_panic_key(db: Database, key_id: int) -> IssuedPanicKey:
    """Revoke a panic key and issue one with the same origins and namespace, in one transaction."""
    with db.session() as s:
        row, org = _live_row(s, key_id)
        row.revoked_at = utcnow()
        return _issue(s, org, tuple(row.origins.split()), row.stream_prefix)


def list_panic_keys(db: Database, org: str | None = None) -> list[PanicKeyInfo]:
    """Panic keys (revoked ones too), oldest first; of one organisation when `org` is given."""
    with db.session() as s:
        query = (
            select(PanicKeyRow, OrganisationRow)
            .join(OrganisationRow, OrganisationRow.id == PanicKeyRow.org_id)
            .order_by(PanicKeyRow.id)
        )
        if org is not None:
            query = query.where(OrganisationRow.name == org.strip())
        return [_info(key, owner) for key, owner in s.execute(query).all()]


def stream_namespace(db: Database, org_id: int) -> tuple[str, ...]:
    """The organisation's stream namespace: the stream prefixes of its live panic keys (two
    organisations' never overlap), sorted; empty when it holds no live panic key."""
    with db.session() as s:
        rows = s.scalars(
            select(PanicKeyRow.stream_prefix)
            .where(PanicKeyRow.org_id == org_id, PanicKeyRow.revoked_at.is_(None))
            .distinct()
        ).all()
        return tuple(sorted(rows))


def stream_owner(db: Database, stream_id: str) -> int | None:
    """The id of the organisation whose namespace holds this stream id (a live panic key's
    prefix starts it), or None when no organisation claims it."""
    with db.session() as s:
        rows = s.execute(
            select(PanicKeyRow.org_id, PanicKeyRow.stream_prefix).where(
                PanicKeyRow.revoked_at.is_(None)
            )
        ).all()
    return next((org_id for org_id, prefix in rows if stream_id.startswith(prefix)), None)
