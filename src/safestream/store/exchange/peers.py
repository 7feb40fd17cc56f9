"""Peers in the store: the installations this one pulls from or lets pull, by name and key."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from safestream.core.errors import Conflict, NotFound
from safestream.core.exchange_peers import DEFAULT_FLOOD_LIMIT, Peer, key_id, public_key_from_text
from safestream.store.database import Database
from safestream.store.models.exchange import ExchangePeerRow
from safestream.store.times import aware_or_none


def _peer(row: ExchangePeerRow) -> Peer:
    return Peer(
        row.id, row.name, row.url, row.key_id, row.public_key, row.checkpoint,
        aware_or_none(row.last_fetch_at), row.last_error, row.flood_limit, row.enabled,
    )  # fmt: skip


class PeerRegistry:
    """Peers (the collections each may pull: `store.exchange_grants`)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(
        self, name: str, url: str, public_key: str, *, flood_limit: int = DEFAULT_FLOOD_LIMIT
    ) -> Peer:
        """Register a peer by its public key (base64); raise `Conflict` if known already."""
        raw = public_key_from_text(public_key).public_bytes_raw()
        row = ExchangePeerRow(
            name=name, url=url.rstrip("/"), key_id=key_id(raw), public_key=public_key.strip(),
            checkpoint=0, last_error="", flood_limit=flood_limit, enabled=True,
        )  # fmt: skip
        try:
            with self.db.session() as s:
                s.add(row)
                s.flush()
                return _peer(row)
        except IntegrityError as exc:
            raise Conflict(f"peer {name!r} or its key is already registered") from exc

    def get(self, name: str) -> Peer:
        """A peer by name, or raise `NotFound`."""
        with self.db.session() as s:
            row = s.scalar(select(ExchangePeerRow).where(ExchangePeerRow.name == name))
            if row is None:
                raise NotFound(f"no peer named {name!r}")
            return _peer(row)

    def by_key(self, peer_key_id: str) -> Peer | None:
        """A peer by key id (None when unknown)."""
        with self.db.session() as s:
            row = s.scalar(select(ExchangePeerRow).where(ExchangePeerRow.key_id == peer_key_id))
            return _peer(row) if row else None

    def all(self) -> list[Peer]:
        """Every peer, by name."""
        with self.db.session() as s:
            return [
                _peer(r) for r in s.scalars(select(ExchangePeerRow).order_by(ExchangePeerRow.name))
            ]

    def record_error(self, name: str, error: str) -> None:
        """Keep why the last pull failed, for the operator."""
        with self.db.session() as s:
            row = s.scalar(select(ExchangePeerRow).where(ExchangePeerRow.name == name))
            if row is not None:
                row.last_error = error[:2000]
