"""The CyberTipline submission worker: open -> upload files -> file details -> finish.

Each step's result is stored before the next call, so a rerun after a crash or an outage resumes
where it stopped. Server errors are retried with exponential backoff and jitter; a refusal
(validation, code 4100 and the like) is never retried: the submission is marked failed, its open
report retracted, and the reason kept for the reviewer. Cancelling retracts an open report.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from lxml import etree

from safestream.core.classification import parse_grade, us_industry
from safestream.core.cybertip import SubmissionState
from safestream.core.errors import Conflict, InvalidInput
from safestream.core.reports import ReportIn
from safestream.reports.cybertip import CybertipDraft
from safestream.reports.cybertip_schema import require_valid
from safestream.reports.ncmec_client import (
    CybertipClient,
    NcmecAuthFailed,
    NcmecError,
    NcmecRejected,
    NcmecUnavailable,
)
from safestream.store.cybertip_submissions import (
    NewSubmission,
    Submission,
    SubmissionEvidence,
    SubmissionFile,
    SubmissionRepository,
)
from safestream.store.times import aware
from safestream.store.vault import EvidenceVault

T = TypeVar("T")
# Most to least severe; a file matched under several labels gets the most severe.
INDUSTRY_SCALE = ("A1", "A2", "B1", "B2")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry server errors."""

    attempts: int = 6
    first_delay: float = 0.5
    max_delay: float = 30.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number `attempt` (1-based), with full jitter."""
        return random.uniform(0, min(self.max_delay, self.first_delay * 2 ** (attempt - 1)))


def file_details_xml(
    report_id: int,
    file_id: str,
    evidence: SubmissionEvidence,
    body: ReportIn,
    *,
    viewed: bool,
    report_received: datetime,
) -> str:
    """`fileDetails` for one uploaded evidence file, in the schema's element order."""
    root = etree.Element("fileDetails")
    etree.SubElement(root, "reportId").text = str(report_id)
    etree.SubElement(root, "fileId").text = file_id
    etree.SubElement(root, "originalFileName").text = _safe_name(evidence.filename)
    received = aware(report_received).replace(microsecond=0)
    etree.SubElement(root, "uploadedToEspTimestamp").text = received.isoformat().replace(
        "+00:00", "Z"
    )
    # Whether a person at the provider saw the file (US v. Wilson): from the media-view log.
    etree.SubElement(root, "fileViewedByEsp").text = "true" if viewed else "false"
    etree.SubElement(root, "fileRelevance").text = "Reported"
    if body.live_stream is not None:
        annotations = etree.SubElement(root, "fileAnnotations")
        etree.SubElement(annotations, "liveStreaming").text = "true"
    grade = industry_grade(body)
    if grade:
        etree.SubElement(root, "industryClassification").text = grade
    for kind, value in (("MD5", evidence.md5), ("SHA256", evidence.sha256)):
        el = etree.SubElement(root, "originalFileHash", hashType=kind)
        el.text = value
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode("utf-8")


def industry_grade(body: ReportIn) -> str | None:
    """The most severe US industry grade derived from the report's verified matches."""
    found = set()
    for m in body.matches:
        if not m.verified:
            continue
        try:
            grade = us_industry(parse_grade(m.label))
        except InvalidInput:
            continue  # a partner's own word: no grade rather than a refused report
        if grade:
            found.add(grade)
    return next((g for g in INDUSTRY_SCALE if g in found), None)


def _safe_name(name: str) -> str:
    from safestream.reports.ncmec_fields import FieldCleaner

    cleaned = FieldCleaner(datetime.now()).line(name, "file name")
    return cleaned or "file"


class SubmissionWorker:
    """Takes stored drafts of a case to NCMEC (or the local test server) and back."""

    def __init__(
        self,
        store: SubmissionRepository,
        client: CybertipClient,
        vault: EvidenceVault | None,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        actor: str = "system",
    ) -> None:
        self.store = store
        self.client = client
        self.vault = vault
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.actor = actor

    def prepare(self, case_id: int, drafts: list[CybertipDraft]) -> list[int]:
        """Validate and store a case's drafts for this client's environment."""
        for draft in drafts:
            require_valid(draft.xml)
        new = [
            NewSubmission(d.subject, d.xml, d.report_ids, d.evidence_ids, d.notes) for d in drafts
        ]
        return self.store.add_drafts(case_id, self.client.environment, new, actor=self.actor)

    def submit(self, submission_id: int) -> Submission:
        """Run a submission to its end (or to a stored failure); safe to call again."""
        progress = self.store.progress(submission_id)
        if progress.environment is not self.client.environment:
            raise Conflict(
                f"submission {submission_id} is for {progress.environment}, "
                f"this client reports to {self.client.environment.value}"
            )
        if progress.state not in (SubmissionState.DRAFT, SubmissionState.OPENED):
            return self.store.get(submission_id)
        report_id = progress.ncmec_report_id
        try:
            if report_id is None:
                report_id = self._step(submission_id, lambda: self.client.submit(progress.xml))
                # Stored before anything else happens, so no rerun opens a second report.
                self.store.update(
                    submission_id, ncmec_report_id=report_id, state=SubmissionState.OPENED
                )
            for file in progress.files:
                self._send_file(submission_id, report_id, file)
            rid = report_id
            self._step(submission_id, lambda: self.client.finish(rid))
        except NcmecRejected as exc:
            self._fail(submission_id, report_id, exc)
        except (NcmecUnavailable, NcmecAuthFailed) as exc:
            # Left as it is (draft or opened, ids kept) for a later run to resume.
            self.store.update(submission_id, last_error=str(exc))
        else:
            self.store.finish(submission_id, report_id, actor=self.actor)
        return self.store.get(submission_id)

    def cancel(self, submission_id: int) -> Submission:
        """Withdraw a submission that is not finished; retract its report at NCMEC if open."""
        progress = self.store.progress(submission_id)
        if progress.state == SubmissionState.FINISHED:
            raise Conflict(f"submission {submission_id} is finished; NCMEC has it")
        if progress.ncmec_report_id is not None and progress.state == SubmissionState.OPENED:
            rid = progress.ncmec_report_id
            self._step(submission_id, lambda: self.client.retract(rid))
        self.store.update(submission_id, state=SubmissionState.RETRACTED)
        return self.store.get(submission_id)

    def _send_file(self, submission_id: int, report_id: int, file: SubmissionFile) -> None:
        if file.details_sent:
            return
        evidence = self.store.evidence(file.evidence_id)
        file_id = file.file_id
        if file_id is None:
            if self.vault is None:
                raise NcmecRejected("evidence files need the evidence vault to be uploaded")
            data = self.vault.read(evidence).data
            answer = self._step(
                submission_id, lambda: self.client.upload(report_id, evidence.filename, data)
            )
            file_id = answer.file_id or ""
            self.store.record_upload(file.id, evidence.id, file_id, answer.md5, actor=self.actor)
        details = file_details_xml(
            report_id,
            file_id,
            evidence,
            evidence.report,
            viewed=evidence.viewed,
            report_received=evidence.report_received_at,
        )
        self._step(submission_id, lambda: self.client.file_info(details))
        self.store.mark_details_sent(file.id)

    def _step(self, submission_id: int, call: Callable[[], T]) -> T:
        attempt = 0
        while True:
            attempt += 1
            try:
                return call()
            except NcmecUnavailable as exc:
                self._count_attempt(submission_id, exc)
                if attempt >= self.retry.attempts:
                    raise
                self.sleep(self.retry.delay(attempt))

    def _count_attempt(self, submission_id: int, exc: NcmecError) -> None:
        progress = self.store.progress(submission_id)
        self.store.update(submission_id, attempts=progress.attempts + 1, last_error=str(exc))

    def _fail(self, submission_id: int, report_id: int | None, exc: NcmecRejected) -> None:
        error = str(exc)
        if report_id is not None:
            try:
                self.client.retract(report_id)
            except NcmecError as retract_error:
                error += f" (retract failed too: {retract_error})"
        self.store.update(submission_id, state=SubmissionState.FAILED, last_error=error)
