"""Tables of CyberTipline submissions: each report sent to NCMEC and the files uploaded with it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from safestream.store.base import Base, utcnow


class CybertipSubmissionRow(Base):
    """One CyberTipline report of a case, from draft to NCMEC's report id and finish."""

    __tablename__ = "cybertip_submissions"
    __table_args__ = (Index("ix_cybertip_submissions_case", "case_id", "environment"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(Integer)
    environment: Mapped[str] = mapped_column(String(16))  # "test" or "production"
    subject: Mapped[str | None] = mapped_column(String(600), nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="draft")
    xml: Mapped[str] = mapped_column(Text)
    report_ids: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of SafeStream ids
    notes: Mapped[str] = mapped_column(Text, default="[]")  # JSON list: what the cleaner changed
    # NCMEC's id, written in its own transaction the moment /submit answers.
    ncmec_report_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(256), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class CybertipFileRow(Base):
    """An evidence file of a submission: NCMEC's file id once uploaded, and its details sent."""

    __tablename__ = "cybertip_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("cybertip_submissions.id", ondelete="CASCADE"), index=True
    )
    evidence_id: Mapped[str] = mapped_column(String(36))
    file_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    md5: Mapped[str | None] = mapped_column(String(32), nullable=True)
    details_sent: Mapped[bool] = mapped_column(Boolean, default=False)
