"""Tables of cases: linked reports, their entities, matches, notes, decisions and the outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from safestream.store.base import Base, utcnow


class CaseRow(Base):
    """A case; `fired` and `routing` are JSON lists shown to reviewers as the reasons."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_queue_order", "status", "queue", "priority", "created_at"),
        Index("ix_cases_status_order", "status", "priority", "created_at", "id"),
        # The claimant filter and its choices read the few claimed cases, not every open one.
        Index(
            "ix_cases_claimed_by_user",
            "claimed_by_user",
            postgresql_where=text("claimed_by_user is not null"),
            sqlite_where=text("claimed_by_user is not null"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(32))
    subject_value: Mapped[str] = mapped_column(String(512))
    status: Mapped[str] = mapped_column(String(16), default="open")
    priority: Mapped[int] = mapped_column(Integer, default=3)
    score: Mapped[int] = mapped_column(Integer, default=0)
    queue: Mapped[str] = mapped_column(String(64), default="review")
    fired: Mapped[str] = mapped_column(Text, default="[]")
    routing: Mapped[str] = mapped_column(Text, default="[]")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    claimed_by_user: Mapped[int | None] = mapped_column(Integer, nullable=True)
    claim_expires_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    claimed_elsewhere_by: Mapped[str | None] = mapped_column(String(256), nullable=True)
    claimed_elsewhere_ref: Mapped[str | None] = mapped_column(String(256), nullable=True)
    claimed_elsewhere_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    decision: Mapped[str | None] = mapped_column(String(16), nullable=True)
    merged_into: Mapped[int | None] = mapped_column(Integer, nullable=True)


class CaseEntityRow(Base):
    """An identifier held by a case; an open case owns each identifier at most once."""

    __tablename__ = "case_entities"
    __table_args__ = (
        Index("ix_case_entities_case_kind_value", "case_id", "kind", "value", unique=True),
        # The holders query probes the value (near-unique across kinds) and filters the kind.
        Index("ix_case_entities_value", "value"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # No foreign key, as for `reports.case_id`: its per-row check cost the linker most of its
    # insert and merge time; only the linker writes these, with case ids of its own transaction.
    case_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(512))
    first_report_id: Mapped[str] = mapped_column(String(36))


class CaseMatchRow(Base):
    """A bank match attached to a case."""

    __tablename__ = "case_matches"
    __table_args__ = (Index("ix_case_matches_value", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    report_id: Mapped[str] = mapped_column(String(36))
    bank: Mapped[str] = mapped_column(String(128))
    entry_id: Mapped[int] = mapped_column(Integer)
    signal_type: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(128))
    distance: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(32))
    verified: Mapped[bool] = mapped_column(default=True)
    # Seconds into the reported video where the frame matched; None for an image.
    t: Mapped[float | None] = mapped_column(Float, nullable=True)


class CaseNoteRow(Base):
    """A reviewer's note."""

    __tablename__ = "case_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CaseDecisionRow(Base):
    """A reviewer's decision."""

    __tablename__ = "case_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(Integer)
    decision: Mapped[str] = mapped_column(String(16))
    agency: Mapped[str] = mapped_column(String(64), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OutboxRow(Base):
    """A notification to send after commit (webhook, reviewer alert); removed once sent."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    channel: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    rule: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class EntityClaimRow(Base):
    """An organisation's statement that it already handles the subject behind an identifier.

    A claim is that organisation's word, recorded as such: it is shown on any case holding the
    identifier and never takes a case out of its owner's queues.
    """

    __tablename__ = "entity_claims"
    __table_args__ = (Index("ix_entity_claims_kind_value", "kind", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(512))
    reference: Mapped[str] = mapped_column(String(256), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SavedViewRow(Base):
    """A reviewer's named queue view: the queue page's filter and search as a query string."""

    __tablename__ = "saved_views"
    __table_args__ = (Index("ix_saved_views_user_name", "user_id", "name", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    query: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
