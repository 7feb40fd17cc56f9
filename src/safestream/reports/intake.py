"""Intake: store a validated report durably (idempotently), then let the case engine link it.

Intake is the producer of `ReportReceived`: every report it stores goes in with that event, and
with the events its producer detected (a panic press, a bank match, a flagged stream, a payment
pattern), all in one transaction. Platforms reach `IntakeService.receive` through
`POST /v1/reports`; SafeStream's own detectors hand their events to a `DetectorSink`, which also
links the report at once so the caller gets its case.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.concurrency import run_in_threadpool

from safestream.cases.engine import CaseEngine
from safestream.core.config import Settings
from safestream.core.errors import InvalidInput, PermissionDenied, SafeStreamError
from safestream.core.events import Event, received, submitted
from safestream.core.reports import Report, ReportIn, ReportSource
from safestream.reports.group_commit import GroupCommitWriter
from safestream.reports.provenance import as_claims
from safestream.store.access import Organisation, ensure_org
from safestream.store.banks import BankRepository
from safestream.store.base import utcnow
from safestream.store.database import Database
from safestream.store.faults import store_failure
from safestream.store.panic_keys import stream_owner
from safestream.store.reports import NewReport, ReportRepository, StoredReport, prepared_json
from safestream.store.vault import EvidenceVault

DETECTOR_ORG = "SafeStream detectors"


def _with_received(
    report: ReportIn, events: Sequence[Event] | None, claimed_by: str | None
) -> tuple[Event, ...]:
    at = utcnow()
    if events is None:
        return tuple(submitted(report, at, claimed_by))
    return (received(report, at, claimed_by), *events)


def _names_a_pressed_stream(report: ReportIn) -> bool:
    return report.source is ReportSource.PANIC_BUTTON and report.live_stream is not None


class IntakeService:
    """Stores reports for organisations; media is kept only under an evidence hold."""

    def __init__(self, db: Database, vault: EvidenceVault | None = None) -> None:
        self.db = db
        self.vault = vault
        self.reports = ReportRepository(db)
        self.writer = GroupCommitWriter(self.reports)
        self.banks = BankRepository(db)

    def _prepared(self, report: ReportIn, trusted: bool) -> tuple[ReportIn, tuple[str, str]]:
        """(report as stored, (fingerprint of the submission, stored body JSON)).

        The fingerprint is of what the client sent, so a repeat is recognised however the banks
        changed in between; the body is what SafeStream stores: the client's claims as claims
        (`reports.provenance`), from which its claimed events are built.
        """
        digest, body = prepared_json(report)
        if trusted:
            return report, (digest, body)
        stored = as_claims(self.banks, report)
        return stored, (digest, prepared_json(stored)[1] if stored is not report else body)

    def check_press_stream(self, org: Organisation, report: ReportIn) -> None:
        """Refuse (403) a panic press naming a stream in another organisation's namespace.

        A press holds its stream's evidence for a year and asks the live worker to keep its
        buffer; the panic-key route allows that only in the key's namespace, and a press sent
        as a report with an API key may not do what that route refuses. A stream nobody claims
        stays open to every organisation; the operator may press for any stream."""
        if not _names_a_pressed_stream(report) or org.principal.links_and_triages:
            return
        assert report.live_stream is not None
        stream_id = report.live_stream.stream_id
        owner = stream_owner(self.db, stream_id)
        if owner is not None and owner != org.id:
            raise PermissionDenied(
                f"live_stream.stream_id: {stream_id!r} is in another organisation's stream "
                "namespace; a panic press may name only your own streams"
            )

    async def receive_async(
        self,
        org: Organisation,
        report: ReportIn,
        *,
        idempotency_key: str | None = None,
        events: Sequence[Event] | None = None,
    ) -> StoredReport:
        """`receive` for the event loop: reports without media go through the group commit.

        Reports from the API are a client's word: asserted matches are checked against the banks
        and detector names stored as claims (`reports.provenance`).
        """
        if report.media or report.matches or _names_a_pressed_stream(report):
            # Sealing evidence, checking matches and a press's stream read files and the store:
            # off the loop.
            return await run_in_threadpool(
                lambda: self.receive(org, report, idempotency_key=idempotency_key, events=events)
            )
        key = report.idempotency_key or idempotency_key
        stored, prepared = self._prepared(report, trusted=False)
        item = NewReport(
            org.id,
            org.name,
            stored,
            key,
            prepared=prepared,
            events=_with_received(stored, events, claimed_by=org.name),
        )
        return await self.writer.store(item)

    def receive(
        self,
        org: Organisation,
        report: ReportIn,
        *,
        idempotency_key: str | None = None,
        events: Sequence[Event] | None = None,
        trusted: bool = False,
        write_first: bool = False,
    ) -> StoredReport:
        """Store one report with `ReportReceived` and the producer's `events` (without them, the
        events its submitter claims: `core.events.submitted`); a repeat with the same idempotency
        key returns the first one and stores no events again.

        `trusted` is for SafeStream's own detectors only (`DetectorSink`): their matches and
        detector names are SafeStream's findings, not claims checked against the banks.
        `write_first` is for a report a person waits on (a panic press): its write goes ahead
        of background writers on SQLite.
        """
        key = report.idempotency_key or idempotency_key
        if not trusted:
            self.check_press_stream(org, report)
        report, prepared = self._prepared(report, trusted)
        if report.media and not report.evidence_hold:
            raise InvalidInput("media: media is only accepted with evidence_hold: true")
        evidence = []
        if report.media:
            if self.vault is None:
                raise InvalidInput("media: this server keeps no evidence (no vault configured)")
            try:
                evidence = self.vault.seal(list(report.media))
            except OSError as exc:  # a full disk: 507, nothing kept
                raise store_failure(exc) from exc
        try:
            item = NewReport(
                org.id,
                org.name,
                report,
                key,
                evidence,
                prepared,
                events=_with_received(report, events, None if trusted else org.name),
            )
            (stored,) = self.reports.add_many([item], write_first=write_first)
            if isinstance(stored, Exception):
                raise stored
        except BaseException as exc:
            if self.vault is not None:
                self.vault.discard(evidence)
            if isinstance(exc, SafeStreamError) or not isinstance(exc, Exception):
                raise
            raise store_failure(exc) from exc
        if not stored.created and self.vault is not None:
            self.vault.discard(evidence)  # the first submission's files are the evidence
        return stored


class DetectorSink:
    """The `EventSink` of SafeStream's own detectors: stores each report with its events under
    the built-in organisation "SafeStream detectors", then links it at once (with `link`), so
    the stored report returned names its case."""

    def __init__(
        self,
        db: Database,
        *,
        detector: str,
        settings: Settings | None = None,
        link: bool = True,
    ) -> None:
        self.db = db
        self.detector = detector
        self.link = link
        self.engine = CaseEngine.for_settings(db, settings)
        vault = EvidenceVault.for_settings(settings) if settings is not None else None
        self.intake = IntakeService(db, vault)
        self._org: Organisation | None = None

    def emit(self, report: ReportIn, events: Sequence[Event]) -> Report:
        """Store the report (as this detector's) with its events; link it when asked."""
        detector = {"source": ReportSource.DETECTOR, "detector": self.detector}
        body = report.model_copy(update=detector)
        if self._org is None:
            self._org = ensure_org(self.db, DETECTOR_ORG)
        stored = self.intake.receive(self._org, body, events=events, trusted=True)
        if not self.link:
            return stored.report
        self.engine.process([stored.report.id])
        return self.intake.reports.get(stored.report.id)
