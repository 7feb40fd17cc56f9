"""CyberTipline submissions in the store: drafts, NCMEC's ids as they arrive, preservation holds.

Every step a submission takes is written in its own short transaction, so a crash between two
calls to NCMEC loses nothing: the report id is stored the moment `/submit` answers, each file id
the moment `/upload` answers, and a rerun continues from there instead of opening a second report.

The reporting side (`reports.ncmec_worker`) builds and validates the documents; this repository
only keeps what it is handed and answers with plain values, never rows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from safestream.core.cybertip import NcmecEnvironment, SubmissionState
from safestream.core.errors import Conflict, NotFound
from safestream.core.reports import ReportIn
from safestream.store import audit
from safestream.store.base import utcnow
from safestream.store.database import Database
from safestream.store.models.access import MediaViewRow
from safestream.store.models.cybertip import CybertipFileRow, CybertipSubmissionRow
from safestream.store.models.reports import EvidenceHoldRow, EvidenceRow, ReportRow
from safestream.store.times import aware

# The REPORT Act (2024) asks providers to preserve what a CyberTip references for one year.
PRESERVATION = timedelta(days=365)
PRESERVATION_RULE = "cybertip-preservation"


@dataclass(frozen=True)
class NewSubmission:
    """A validated CyberTipline document of a case, to store as a draft."""

    subject: str | None
    xml: str
    report_ids: tuple[str, ...]
    evidence_ids: tuple[str, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class Submission:
    """A CyberTipline submission as the console and the CLI show it."""

    id: int
    case_id: int
    environment: NcmecEnvironment
    subject: str | None
    state: SubmissionState
    ncmec_report_id: int | None
    attempts: int
    last_error: str
    report_ids: tuple[str, ...]
    notes: tuple[str, ...]
    files: int
    files_uploaded: int
    created_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True)
class SubmissionFile:
    """An evidence file of a submission: NCMEC's file id once uploaded, and its details sent."""

    id: int
    evidence_id: str
    file_id: str | None
    details_sent: bool


@dataclass(frozen=True)
class SubmissionProgress:
    """What the worker resumes a submission from: its document and every step stored so far."""

    id: int
    environment: NcmecEnvironment
    state: SubmissionState
    xml: str
    ncmec_report_id: int | None
    attempts: int
    files: tuple[SubmissionFile, ...]


@dataclass(frozen=True)
class SubmissionEvidence:
    """An evidence file as NCMEC is told about it, with the report it came with."""

    id: str
    filename: str
    content_type: str
    path: str
    md5: str
    sha256: str
    viewed: bool  # whether anyone at the provider opened it (the media-view log)
    report: ReportIn
    report_received_at: datetime


def _submission(row: CybertipSubmissionRow, files: list[CybertipFileRow]) -> Submission:
    return Submission(
        id=row.id,
        case_id=row.case_id,
        environment=NcmecEnvironment(row.environment),
        subject=row.subject,
        state=SubmissionState(row.state),
        ncmec_report_id=row.ncmec_report_id,
        attempts=row.attempts,
        last_error=row.last_error,
        report_ids=tuple(json.loads(row.report_ids)),
        notes=tuple(json.loads(row.notes)),
        files=len(files),
        files_uploaded=sum(1 for f in files if f.file_id),
        created_at=aware(row.created_at),
        finished_at=aware(row.finished_at) if row.finished_at else None,
    )


def _submission_row(s: Session, submission_id: int) -> CybertipSubmissionRow:
    row = s.get(CybertipSubmissionRow, submission_id)
    if row is None:
        raise NotFound(f"no CyberTipline submission {submission_id}")
    return row


class SubmissionRepository:
    """Reads and writes of CyberTipline submissions, one short transaction each."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add_drafts(
        self,
        case_id: int,
        environment: NcmecEnvironment,
        drafts: Sequence[NewSubmission],
        *,
        actor: str,
    ) -> list[int]:
        """Store drafts of a case; refuse while earlier ones are still in flight."""
        with self.db.session() as s:
            busy = s.scalar(
                select(func.count()).where(
                    CybertipSubmissionRow.case_id == case_id,
                    CybertipSubmissionRow.environment == environment.value,
                    CybertipSubmissionRow.state.in_(
                        [SubmissionState.DRAFT.value, SubmissionState.OPENED.value]
                    ),
                )
            )
            if busy:
                raise Conflict(f"case {case_id} has {busy} CyberTipline submissions in flight")
            ids = []
            for draft in drafts:
                row = CybertipSubmissionRow(
                    case_id=case_id,
                    environment=environment.value,
                    subject=draft.subject,
                    state=SubmissionState.DRAFT.value,
                    xml=draft.xml,
                    report_ids=json.dumps(list(draft.report_ids)),
                    notes=json.dumps(list(draft.notes)),
                    attempts=0,
                    last_error="",
                    created_by=actor,
                )
                s.add(row)
                s.flush()
                s.add_all(
                    CybertipFileRow(submission_id=row.id, evidence_id=e, details_sent=False)
                    for e in draft.evidence_ids
                )
                ids.append(row.id)
            audit.append(
                s, actor=actor, action="cybertip.prepare", subject=f"case:{case_id}",
                details={"submissions": ids, "environment": environment.value},
            )  # fmt: skip
            return ids

    def get(self, submission_id: int) -> Submission:
        """One submission, or raise `NotFound`."""
        with self.db.session() as s:
            row = _submission_row(s, submission_id)
            return _submission(row, self._files(s, submission_id))

    def progress(self, submission_id: int) -> SubmissionProgress:
        """What the worker needs to run or resume a submission, or raise `NotFound`."""
        with self.db.session() as s:
            row = _submission_row(s, submission_id)
            files = tuple(
                SubmissionFile(f.id, f.evidence_id, f.file_id, f.details_sent)
                for f in self._files(s, submission_id)
            )
            return SubmissionProgress(
                id=row.id,
                environment=NcmecEnvironment(row.environment),
                state=SubmissionState(row.state),
                xml=row.xml,
                ncmec_report_id=row.ncmec_report_id,
                attempts=row.attempts,
                files=files,
            )

    def of_case(self, case_id: int | None = None) -> list[Submission]:
        """Submissions of one case (or all), newest first."""
        with self.db.session() as s:
            query = select(CybertipSubmissionRow).order_by(CybertipSubmissionRow.id.desc())
            if case_id is not None:
                query = query.where(CybertipSubmissionRow.case_id == case_id)
            rows = s.scalars(query.limit(500)).all()
            return [_submission(r, self._files(s, r.id)) for r in rows]

    def update(
        self,
        submission_id: int,
        *,
        state: SubmissionState | None = None,
        ncmec_report_id: int | None = None,
        attempts: int | None = None,
        last_error: str | None = None,
    ) -> None:
        """Record the given values of a submission now, in their own transaction."""
        given = {
            "state": state.value if state is not None else None,
            "ncmec_report_id": ncmec_report_id,
            "attempts": attempts,
            "last_error": last_error,
        }
        values = {column: value for column, value in given.items() if value is not None}
        with self.db.session() as s:
            s.execute(
                update(CybertipSubmissionRow)
                .where(CybertipSubmissionRow.id == submission_id)
                .values(updated_at=utcnow(), **values)
            )

    def mark_details_sent(self, file_row_id: int) -> None:
        """Record that NCMEC has a file's details, so a rerun does not send them again."""
        with self.db.session() as s:
            s.execute(
                update(CybertipFileRow)
                .where(CybertipFileRow.id == file_row_id)
                .values(details_sent=True)
            )

    def record_upload(
        self, file_row_id: int, evidence_id: str, file_id: str, md5: str | None, *, actor: str
    ) -> None:
        """Store NCMEC's file id; the evidence left SafeStream, so the audit log says so."""
        with self.db.session() as s:
            s.execute(
                update(CybertipFileRow)
                .where(CybertipFileRow.id == file_row_id)
                .values(file_id=file_id, md5=md5)
            )
            audit.append(
                s, actor=actor, action="evidence.sent_to_ncmec", subject=f"evidence:{evidence_id}",
                details={"file_id": file_id},
            )  # fmt: skip

    def evidence(self, evidence_id: str) -> SubmissionEvidence:
        """An evidence file, whether anyone at the provider viewed it, and its report."""
        with self.db.session() as s:
            row = s.get(EvidenceRow, evidence_id)
            if row is None:
                raise NotFound(f"no evidence {evidence_id}")
            viewed = bool(
                s.scalar(select(func.count()).where(MediaViewRow.evidence_id == evidence_id))
            )
            report = s.get(ReportRow, row.report_id)
            if report is None:
                raise NotFound(f"evidence {evidence_id} has no report")
            return SubmissionEvidence(
                id=row.id,
                filename=row.filename,
                content_type=row.content_type,
                path=row.path,
                md5=row.md5,
                sha256=row.sha256,
                viewed=viewed,
                report=ReportIn.model_validate_json(report.body),
                report_received_at=aware(report.received_at),
            )

    def finish(self, submission_id: int, ncmec_report_id: int, *, actor: str) -> datetime:
        """Mark a submission finished and hold everything it references for a year."""
        now = utcnow()
        until = now + PRESERVATION
        with self.db.session() as s:
            row = _submission_row(s, submission_id)
            row.state = SubmissionState.FINISHED.value
            row.finished_at = now
            row.updated_at = now
            row.last_error = ""
            report_ids = json.loads(row.report_ids)
            reason = f"CyberTipline report {ncmec_report_id} ({row.environment}) submitted"
            for report in s.scalars(select(ReportRow).where(ReportRow.id.in_(report_ids))):
                s.add(
                    EvidenceHoldRow(
                        case_id=row.case_id,
                        report_id=report.id,
                        stream_id=_stream_of(report.body),
                        reason=reason,
                        rule=PRESERVATION_RULE,
                        hold_until=until,
                    )
                )
            for ev in s.scalars(select(EvidenceRow).where(EvidenceRow.report_id.in_(report_ids))):
                if aware(ev.hold_until) < until:
                    ev.hold_until = until
            audit.append(
                s, actor=actor, action="cybertip.finish", subject=f"case:{row.case_id}",
                details={"submission": submission_id, "ncmec_report_id": ncmec_report_id,
                         "environment": row.environment, "preserved_until": until.isoformat()},
            )  # fmt: skip
        return until

    @staticmethod
    def _files(s: Session, submission_id: int) -> list[CybertipFileRow]:
        return list(
            s.scalars(
                select(CybertipFileRow)
                .where(CybertipFileRow.submission_id == submission_id)
                .order_by(CybertipFileRow.id)
            )
        )


def _stream_of(body_json: str) -> str | None:
    stream = json.loads(body_json).get("live_stream") or {}
    stream_id = stream.get("stream_id")
    return str(stream_id)[:256] if stream_id else None
