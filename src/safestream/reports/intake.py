"""Intake: store a validated report durably (idempotently), then let the case engine link it.

Platforms reach `IntakeService.receive` through `POST /v1/reports`; SafeStream's own detectors call
`submit_report`, which also links the report at once so the caller gets its case.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool

from safestream.cases.engine import CaseEngine
from safestream.core.config import Settings
from safestream.core.errors import InvalidInput
from safestream.core.reports import Report, ReportIn, ReportSource
from safestream.reports.group_commit import GroupCommitWriter
from safestream.store.access import Organisation, ensure_org
from safestream.store.database import Database
from safestream.store.reports import NewReport, ReportRepository, StoredReport, prepared_json
from safestream.store.vault import EvidenceVault

DETECTOR_ORG = "SafeStream detectors"


class IntakeService:
    """Stores reports for organisations; media is kept only under an evidence hold."""

    def __init__(self, db: Database, vault: EvidenceVault | None = None) -> None:
        self.db = db
        self.vault = vault
        self.reports = ReportRepository(db)
        self.writer = GroupCommitWriter(self.reports)

    async def receive_async(
        self, org: Organisation, report: ReportIn, *, idempotency_key: str | None = None
    ) -> StoredReport:
        """`receive` for the event loop: reports without media go through the group commit."""
        if report.media:
            # Sealing evidence is file I/O and encryption: keep it off the event loop.
            return await run_in_threadpool(
                self.receive, org, report, idempotency_key=idempotency_key
            )
        key = report.idempotency_key or idempotency_key
        item = NewReport(org.id, org.name, report, key, prepared=prepared_json(report))
        return await self.writer.store(item)

    def receive(
        self, org: Organisation, report: ReportIn, *, idempotency_key: str | None = None
    ) -> StoredReport:
        """Store one report; a repeat with the same idempotency key returns the first one."""
        key = report.idempotency_key or idempotency_key
        prepared = prepared_json(report)
        if report.media and not report.evidence_hold:
            raise InvalidInput("media: media is only accepted with evidence_hold: true")
        evidence = []
        if report.media:
            if self.vault is None:
                raise InvalidInput("media: this server keeps no evidence (no vault configured)")
            evidence = self.vault.seal(list(report.media))
        try:
            (stored,) = self.reports.add_many(
                [NewReport(org.id, org.name, report, key, evidence, prepared)]
            )
            if isinstance(stored, Exception):
                raise stored
        except BaseException:
            if self.vault is not None:
                self.vault.discard(evidence)
            raise
        if not stored.created and self.vault is not None:
            self.vault.discard(evidence)  # the first submission's files are the evidence
        return stored


def submit_report(
    db: Database,
    report: ReportIn,
    *,
    source: str,
    settings: Settings | None = None,
    link: bool = True,
) -> Report:
    """Store a report from one of SafeStream's detectors and link it into a case.

    `source` names the detector (`media`, `live`, `finance`, ...); the report is stored under the
    built-in organisation "SafeStream detectors". With `link`, the returned report has its case.
    """
    body = report.model_copy(update={"source": ReportSource.DETECTOR, "detector": source})
    vault = EvidenceVault.for_settings(settings) if settings is not None else None
    service = IntakeService(db, vault)
    stored = service.receive(ensure_org(db, DETECTOR_ORG), body)
    if link:
        CaseEngine.for_settings(db, settings).process([stored.report.id])
        return service.reports.get(stored.report.id)
    return stored.report
