"""Report repository: durable insert with idempotency, and reads.

A report and the entities it names go in one transaction; the commit returns only after the
database has it (PostgreSQL's synchronous commit, SQLite's WAL), so an answer of 2xx means stored.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from safestream.core.errors import Conflict, NotFound
from safestream.core.reports import Report, ReportIn, ReportStatus
from safestream.store.base import utcnow
from safestream.store.database import Database
from safestream.store.models.access import OrganisationRow
from safestream.store.models.reports import EvidenceRow, ReportEntityRow, ReportRow
from safestream.store.times import aware


@dataclass(frozen=True)
class StoredReport:
    """A report as returned by intake, and whether this call created it."""

    report: Report
    created: bool


def fingerprint(report: ReportIn) -> str:
    """SHA-256 of a report's canonical JSON, to tell a true repeat from a reused key."""
    return hashlib.sha256(report.model_dump_json().encode()).hexdigest()


def _insert_for(engine: Engine) -> type[postgresql.Insert] | type[sqlite.Insert]:
    return postgresql.Insert if engine.dialect.name == "postgresql" else sqlite.Insert


def _report(row: ReportRow, org: str, evidence_ids: Sequence[str]) -> Report:
    return Report(
        id=row.id,
        org=org,
        received_at=aware(row.received_at),
        status=ReportStatus(row.status),
        case_id=row.case_id,
        evidence_ids=list(evidence_ids),
        body=ReportIn.model_validate_json(row.body),
    )


def body_json(report: ReportIn) -> str:
    """The JSON kept in the store: the submission without media bytes (those are evidence)."""
    return report.model_copy(update={"media": []}).model_dump_json()


class ReportRepository:
    """Reports in one store."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._insert = _insert_for(db.engine)

    def add(
        self,
        *,
        org_id: int,
        org_name: str,
        report: ReportIn,
        idempotency_key: str | None,
        evidence: Sequence[EvidenceRow] = (),
        report_id: str | None = None,
    ) -> StoredReport:
        """Store a report unless this organisation already sent one with the same key."""
        rid = report_id or str(uuid.uuid4())
        digest = fingerprint(report)
        received = utcnow()
        with self.db.session() as s:
            stmt = (
                self._insert(ReportRow)
                .values(
                    id=rid,
                    org_id=org_id,
                    source=report.source.value,
                    detector=report.detector,
                    incident_type=report.incident_type.value,
                    received_at=received,
                    status=ReportStatus.RECEIVED.value,
                    idempotency_key=idempotency_key,
                    fingerprint=digest,
                    body=body_json(report),
                )
                .on_conflict_do_nothing(index_elements=["org_id", "idempotency_key"])
                .returning(ReportRow.id)
            )
            inserted = s.execute(stmt).scalar_one_or_none()
            if inserted is None:
                repeat = self._repeat(s, org_id, org_name, idempotency_key, digest)
                return StoredReport(repeat, False)
            entities = report.entities()
            if entities:
                s.execute(
                    insert(ReportEntityRow),
                    [{"report_id": rid, "kind": e.kind.value, "value": e.value} for e in entities],
                )
            for ev in evidence:
                ev.report_id = rid
                s.add(ev)
        return StoredReport(
            Report(
                id=rid,
                org=org_name,
                received_at=received,
                status=ReportStatus.RECEIVED,
                evidence_ids=[e.id for e in evidence],
                body=report.model_copy(update={"media": []}),
            ),
            True,
        )

    def _repeat(
        self, s: Session, org_id: int, org_name: str, key: str | None, digest: str
    ) -> Report:
        row = s.scalar(
            select(ReportRow).where(ReportRow.org_id == org_id, ReportRow.idempotency_key == key)
        )
        if row is None:  # cannot happen: the conflict names this row
            raise Conflict(f"idempotency key {key!r} conflicts but no report holds it")
        if row.fingerprint != digest:
            raise Conflict(f"idempotency key {key!r} was already used for a different report")
        return _report(row, org_name, self._evidence_ids(s, row.id))

    @staticmethod
    def _evidence_ids(s: Session, report_id: str) -> list[str]:
        return list(
            s.scalars(
                select(EvidenceRow.id)
                .where(EvidenceRow.report_id == report_id)
                .order_by(EvidenceRow.held_at)
            )
        )

    def get(self, report_id: str, *, org_id: int | None = None) -> Report:
        """One report by id (only the organisation's own when `org_id` is given)."""
        with self.db.session() as s:
            found = s.execute(
                select(ReportRow, OrganisationRow.name)
                .join(OrganisationRow, OrganisationRow.id == ReportRow.org_id)
                .where(ReportRow.id == report_id)
            ).first()
            if found is None or (org_id is not None and found[0].org_id != org_id):
                raise NotFound(f"no report {report_id!r}")
            row, org = found
            return _report(row, org, self._evidence_ids(s, row.id))

    def pending_ids(self, limit: int = 500) -> list[str]:
        """Reports stored but not yet linked to a case, oldest first."""
        with self.db.session() as s:
            return list(
                s.scalars(
                    select(ReportRow.id)
                    .where(ReportRow.status == ReportStatus.RECEIVED.value)
                    .order_by(ReportRow.received_at)
                    .limit(limit)
                )
            )

    def count(self) -> int:
        """How many reports the store holds."""
        with self.db.session() as s:
            return int(s.scalar(select(func.count()).select_from(ReportRow)) or 0)

    def existing_ids(self, ids: Sequence[str]) -> set[str]:
        """Which of these report ids the store holds."""
        found: set[str] = set()
        with self.db.session() as s:
            for start in range(0, len(ids), 1000):
                chunk = list(ids[start : start + 1000])
                found.update(s.scalars(select(ReportRow.id).where(ReportRow.id.in_(chunk))))
        return found
