"""Tables of intake: reports, the entities they name, evidence files and evidence holds."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from safestream.store.base import Base, utcnow

PENDING_PRESS = text("status = 'received' and source = 'panic_button'")


class ReportRow(Base):
    """One stored report; `body` is the validated submission as JSON."""

    __tablename__ = "reports"
    __table_args__ = (
        Index("ix_reports_org_idempotency", "org_id", "idempotency_key", unique=True),
        Index("ix_reports_status_received", "status", "received_at"),
        # Panic presses waiting to be linked, which the linker takes before any backlog: only
        # those few rows are in it.
        Index(
            "ix_reports_pending_presses",
            "received_at",
            postgresql_where=PENDING_PRESS,
            sqlite_where=PENDING_PRESS,
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    source: Mapped[str] = mapped_column(String(32))
    detector: Mapped[str | None] = mapped_column(String(64), nullable=True)
    incident_type: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="received")
    case_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(128), nullable=True)
    # SHA-256 of the canonical body, so a reused idempotency key with other content is refused.
    fingerprint: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    # Facts triage and routing aggregate per case in SQL, so linking never re-reads bodies.
    live_now: Mapped[bool] = mapped_column(Boolean, default=False)
    child_in_danger: Mapped[bool] = mapped_column(Boolean, default=False)
    private_stream: Mapped[bool] = mapped_column(Boolean, default=False)
    viewer_count: Mapped[int] = mapped_column(Integer, default=0)
    payment_count: Mapped[int] = mapped_column(Integer, default=0)
    platform_country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    countries: Mapped[str] = mapped_column(Text, default="[]")  # JSON [[country, why], ...]


class ReportEntityRow(Base):
    """An identifier named by a report."""

    __tablename__ = "report_entities"
    # Reads probe the value (near-unique across kinds) and filter the kind.
    __table_args__ = (Index("ix_report_entities_value", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # No foreign key: intake writes these with their report, and reports are never deleted; the
    # per-row check cost a third of the database's CPU for each report stored (migration 0052).
    report_id: Mapped[str] = mapped_column(String(36), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(512))


class ReportTextQueueRow(Base):
    """A linked report whose words wait to be indexed for search (`store.report_text`): the
    linker working a backlog indexes them once it has caught up, not inside each batch."""

    __tablename__ = "report_text_queue"

    report_id: Mapped[str] = mapped_column(String(36), primary_key=True)


class EvidenceRow(Base):
    """An encrypted evidence file kept under an evidence hold."""

    __tablename__ = "evidence"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id"), index=True)
    filename: Mapped[str] = mapped_column(String(256))
    content_type: Mapped[str] = mapped_column(String(128))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    md5: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(String(512))
    held_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    hold_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EvidenceHoldRow(Base):
    """A request to keep evidence, e.g. the live monitor's buffered segments of a stream."""

    __tablename__ = "evidence_holds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    report_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    stream_id: Mapped[str | None] = mapped_column(String(256), nullable=True, index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    rule: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    hold_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EventRow(Base):
    """A detection event, stored with the report it stands on (`core.events`): the case engine
    reads these, never report bodies. `kind` and `version` name the event class that decodes
    `payload` (JSON)."""

    __tablename__ = "events"
    # Triage reads the few events of some kinds (panic presses, payment patterns) per case.
    __table_args__ = (Index("ix_events_kind_report", "kind", "report_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # No foreign key, as for `report_entities.report_id` (migration 0052).
    report_id: Mapped[str] = mapped_column(String(36), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    payload: Mapped[str] = mapped_column(Text)
