"""Tables of signal exchange: shared signals (ours and peers'), peers, grants, feedback, hits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from safestream.store.base import Base, utcnow


class SharedSignalRow(Base):
    """One signal: ours to publish (`publisher` = "local") or a peer's, with its change number."""

    __tablename__ = "exchange_signals"
    __table_args__ = (
        # Leading (kind, value): the same index answers lookups and keeps entries unique.
        Index("ix_exchange_signals_entry", "kind", "value", "publisher", "collection", unique=True),
        Index("ix_exchange_signals_changes", "publisher", "seq", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    publisher: Mapped[str] = mapped_column(String(32))
    collection: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(512))
    label: Mapped[str] = mapped_column(String(64), default="unclassified")
    tags: Mapped[str] = mapped_column(Text, default="[]")
    source: Mapped[str] = mapped_column(Text, default="")
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    negative: Mapped[bool] = mapped_column(Boolean, default=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    # Safety for signals from others: quarantined (flood) or disabled (by a reviewer, with reason).
    state: Mapped[str] = mapped_column(String(16), default="active")
    state_reason: Mapped[str] = mapped_column(Text, default="")


class ExchangeChangeNumberRow(Base):
    """The last change number given to one of our changes.

    Publishers claim numbers by updating this row first, so its lock orders them: a later
    publisher waits until the earlier one commits, and numbers become visible in order (a puller
    that has read change N can never later miss a change below N).
    """

    __tablename__ = "exchange_change_numbers"

    publisher: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)


class ExchangePeerRow(Base):
    """Another installation this one pulls from: where, its key, and how far it has read."""

    __tablename__ = "exchange_peers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    url: Mapped[str] = mapped_column(String(512))
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    public_key: Mapped[str] = mapped_column(String(128))
    checkpoint: Mapped[int] = mapped_column(BigInteger, default=0)
    last_fetch_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    # Flood prevention: distinct items one of this peer's entries may match per hour.
    flood_limit: Mapped[int] = mapped_column(Integer, default=50)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class ExchangeCollectionRow(Base):
    """One of our collections that an organisation owns (without a row: the installation's)."""

    __tablename__ = "exchange_collections"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ExchangeGrantRow(Base):
    """A peer (by key id) may pull one of our collections, as granted by `org_id`.

    `org_id` is the granting organisation (None: the installation); the grant counts only while
    that organisation owns the collection (`store.exchange_grants`).
    """

    __tablename__ = "exchange_grants"
    __table_args__ = (Index("ix_exchange_grants_pair", "collection", "peer_key_id", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collection: Mapped[str] = mapped_column(String(128))
    peer_key_id: Mapped[str] = mapped_column(String(32))
    org_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id"), nullable=True, default=None
    )


class SignalFeedbackRow(Base):
    """A reviewer's confirm or de-confirm of a peer's entry, exportable to its owner."""

    __tablename__ = "exchange_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    signal_id: Mapped[int] = mapped_column(
        ForeignKey("exchange_signals.id", ondelete="CASCADE"), index=True
    )
    verdict: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(256), default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SignalHitRow(Base):
    """A peer's entry matched an item: the evidence flood prevention counts."""

    __tablename__ = "exchange_hits"
    __table_args__ = (Index("ix_exchange_hits_signal_at", "signal_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    signal_id: Mapped[int] = mapped_column(Integer)
    item: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
