"""Tables of the media part: hash banks and their entries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from safestream.store.base import Base, utcnow


class BankRow(Base):
    """A named hash list."""

    __tablename__ = "banks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    negative: Mapped[bool] = mapped_column(Boolean, default=False)
    threshold: Mapped[int] = mapped_column(Integer, default=31)
    source: Mapped[str] = mapped_column(String(256), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # "media" (known images and videos) or "room" (photos of a place, matched by local features).
    kind: Mapped[str] = mapped_column(String(16), default="media", server_default="media")
    # Set by an administrator: are the bank's contents confirmed (e.g. graded by analysts)? A
    # verified bank's matches are shown hash-first; an unverified one's as blurred previews.
    verified: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    entries: Mapped[list[BankEntryRow]] = relationship(
        back_populates="bank", cascade="all, delete-orphan", passive_deletes=True
    )


class BankEntryRow(Base):
    """One hash in a bank."""

    __tablename__ = "bank_entries"
    __table_args__ = (
        Index("ix_bank_entries_bank_signal_value", "bank_id", "signal_type", "value", unique=True),
        Index("ix_bank_entries_signal_value", "signal_type", "value"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id", ondelete="CASCADE"))
    signal_type: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(128))
    label: Mapped[str] = mapped_column(String(32), default="unclassified")
    source: Mapped[str] = mapped_column(String(256), default="")
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")
    quality: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The media a hash came from (SHA-256 of the file) and its time in a video, so video entries
    # can be grouped for vPDQ-style "share of the bank video matched".
    content_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    t: Mapped[float | None] = mapped_column(Float, nullable=True)

    bank: Mapped[BankRow] = relationship(back_populates="entries")


class BankChangeRow(Base):
    """Append-only log of entry adds and removes, so indexes catch up without a full rebuild."""

    __tablename__ = "bank_changes"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(Integer)
    op: Mapped[str] = mapped_column(String(8))
    signal_type: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(128))


class BankFeatureRow(Base):
    """The local features (keypoints and ORB descriptors) of one second-stage bank entry.

    Only features are kept, never pixels: the stored form cannot be turned back into the image.
    """

    __tablename__ = "bank_features"

    entry_id: Mapped[int] = mapped_column(
        ForeignKey("bank_entries.id", ondelete="CASCADE"), primary_key=True
    )
    data: Mapped[bytes] = mapped_column(LargeBinary)


class SeenHashRow(Base):
    """The PDQ hash of content seen recently (an upload, a sampled live frame), never the media.

    Kept for the retention the operator sets, so a hash that reaches a bank later finds the
    content it would have matched (retroactive matching, `media.recent_seen`).
    """

    __tablename__ = "seen_hashes"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # "upload", "frame" or "lookup"
    # What carried it: an upload's SHA-256, a stream's id (with `t`, seconds into it), or for a
    # bare hash looked up, the hash itself.
    ref: Mapped[str] = mapped_column(String(256))
    t: Mapped[float | None] = mapped_column(Float, nullable=True)
    pdq: Mapped[bytes] = mapped_column(LargeBinary(32))
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    # The organisation whose API call showed it (hashed, matched or looked up); None for report
    # attachments and live frames.
    org_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
