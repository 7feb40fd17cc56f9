"""Who may publish into a collection and which peers may pull it: the organisation that owns it.

Several organisations meet in one installation, and each shares only its own signals. A
collection is either an organisation's (created by that organisation) or the installation's
(no owner: made from the command line, which acts as the installation). Rules:

- only the owner publishes into, withdraws from and grants an organisation's collection, and
  only an administrator of it; installation collections are the system's alone;
- a grant counts only while the organisation that made it owns the collection, so a peer
  receives exactly what the granting organisation shared with it;
- a collection outside the caller's reach is "not found", never "forbidden": the answer does not
  tell one organisation what another has named or shared;
- every grant and revocation is audited.
"""

from __future__ import annotations

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from safestream.core.errors import Conflict, InvalidInput, NotFound
from safestream.core.principal import Permission, Principal
from safestream.core.shared_signals import LOCAL
from safestream.store import audit
from safestream.store.database import Database
from safestream.store.models.exchange import (
    ExchangeCollectionRow,
    ExchangeGrantRow,
    ExchangePeerRow,
    SharedSignalRow,
)
from safestream.store.scope import require

MAX_NAME = 128


def _owner(session: Session, collection: str) -> int | None:
    return session.scalar(
        select(ExchangeCollectionRow.org_id).where(ExchangeCollectionRow.name == collection)
    )


def _peer_key(session: Session, peer_name: str) -> str:
    found = session.scalar(select(ExchangePeerRow.key_id).where(ExchangePeerRow.name == peer_name))
    if found is None:
        raise NotFound(f"no peer named {peer_name!r}")
    return found


def check_writer(session: Session, principal: Principal, collection: str) -> None:
    """Raise unless `principal` may change `collection` (inside the caller's transaction)."""
    owner = _owner(session, collection)
    if owner is None:
        if not principal.is_system:
            raise NotFound(f"no collection {collection!r}")
        return
    if principal.org is None or principal.org.id != owner:
        raise NotFound(f"no collection {collection!r}")
    require(principal, Permission.ADMINISTER)


class SharingGrants:
    """Collections' owners and the peers each owner lets pull them."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create_collection(self, principal: Principal, name: str) -> None:
        """Make `name` a collection of the principal's organisation."""
        require(principal, Permission.ADMINISTER)
        if principal.org is None:
            raise InvalidInput("an organisation owns a collection; the system's need no creating")
        if not name.strip() or len(name) > MAX_NAME:
            raise InvalidInput(f"a collection name is 1 to {MAX_NAME} characters")
        with self.db.session() as s:
            taken = _owner(s, name) is not None or s.scalar(
                select(SharedSignalRow.id)
                .where(SharedSignalRow.publisher == LOCAL, SharedSignalRow.collection == name)
                .limit(1)
            )
            if taken:
                raise Conflict(f"the collection name {name!r} is taken")
            s.add(ExchangeCollectionRow(name=name, org_id=principal.org.id))
            audit.append(
                s, actor=principal.actor, action="exchange.collection_create",
                subject=f"collection:{name}", details={"org_id": principal.org.id},
            )  # fmt: skip

    def grant(self, principal: Principal, collection: str, peer_name: str) -> None:
        """Let a peer pull `collection`, on behalf of the organisation that owns it."""
        with self.db.session() as s:
            check_writer(s, principal, collection)
            peer_key = _peer_key(s, peer_name)
            org_id = principal.org.id if principal.org else None
            row = s.scalar(
                select(ExchangeGrantRow).where(
                    ExchangeGrantRow.collection == collection,
                    ExchangeGrantRow.peer_key_id == peer_key,
                )
            )
            if row is None:
                s.add(ExchangeGrantRow(collection=collection, peer_key_id=peer_key,
                                       org_id=org_id))  # fmt: skip
            else:
                row.org_id = org_id
            audit.append(
                s, actor=principal.actor, action="exchange.grant",
                subject=f"collection:{collection}", details={"peer": peer_key},
            )  # fmt: skip

    def revoke(self, principal: Principal, collection: str, peer_name: str) -> None:
        """Stop a peer pulling `collection` (what it already pulled stays with it)."""
        with self.db.session() as s:
            check_writer(s, principal, collection)
            peer_key = _peer_key(s, peer_name)
            row = s.scalar(
                select(ExchangeGrantRow).where(
                    ExchangeGrantRow.collection == collection,
                    ExchangeGrantRow.peer_key_id == peer_key,
                )
            )
            if row is None:
                raise NotFound(f"{peer_name} holds no grant of {collection!r}")
            s.delete(row)
            audit.append(
                s, actor=principal.actor, action="exchange.revoke",
                subject=f"collection:{collection}", details={"peer": peer_key},
            )  # fmt: skip

    def served(self, peer_key_id: str) -> list[str]:
        """The collections a peer may pull: each granted by the organisation owning it."""
        owned_by_granter = and_(
            ExchangeCollectionRow.name == ExchangeGrantRow.collection,
            ExchangeCollectionRow.org_id == ExchangeGrantRow.org_id,
        )
        installation = select(ExchangeCollectionRow.name).where(
            ExchangeCollectionRow.name == ExchangeGrantRow.collection
        )
        with self.db.session() as s:
            return sorted(
                s.scalars(
                    select(ExchangeGrantRow.collection).where(
                        ExchangeGrantRow.peer_key_id == peer_key_id,
                        select(ExchangeCollectionRow.name).where(owned_by_granter).exists()
                        | (ExchangeGrantRow.org_id.is_(None) & ~installation.exists()),
                    )
                )
            )
