"""CyberTipline submission: the documented protocol against the local test server."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from safestream.cases.engine import CaseEngine
from safestream.core.config import Settings
from safestream.core.cybertip import NcmecEnvironment, SubmissionState
from safestream.core.errors import Conflict, InvalidInput
from safestream.reports.cybertip import ReportingCompany
from safestream.reports.cybertip_case import case_cybertips
from safestream.reports.intake import IntakeService
from safestream.reports.ncmec_client import CybertipClient, NcmecCredentials
from safestream.reports.ncmec_test_server import Fault, TestServerState, cybertip_test_app
from safestream.reports.ncmec_worker import RetryPolicy, SubmissionWorker
from safestream.store import Database
from safestream.store.cybertip_submissions import PRESERVATION_RULE, SubmissionRepository
from safestream.store.models.reports import EvidenceHoldRow, EvidenceRow
from safestream.store.reports import ReportRepository
from safestream.store.times import aware
from safestream.store.vault import EvidenceVault
from tests.reports.builders import account, banked_match, org, report

COMPANY = ReportingCompany(company="Acme Video", contact_email="safety@acme.example")
TEST_URL = "http://cybertip.test/ispws"


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


@dataclass
class Rig:
    db: Database
    server: TestServerState
    worker: SubmissionWorker
    store: SubmissionRepository
    case_id: int
    sleeps: list[float]


@pytest.fixture
def rig(settings: Settings) -> Iterator[Rig]:
    db = Database.from_settings(settings)
    db.migrate()
    vault = EvidenceVault.for_settings(settings)
    owner = org(db)
    media = [{"filename": "frame.png", "data_base64": base64.b64encode(png()).decode()}]
    body = report(
        reported_accounts=[account("acme", "u1")],
        live_stream={"stream_id": "s-1"},
        matches=[banked_match(db)],
        media=media,
        evidence_hold=True,
    )
    rid = IntakeService(db, vault).receive(owner, body).report.id
    CaseEngine.for_settings(db, settings).process([rid])
    case_id = ReportRepository(db).get(rid).case_id
    assert case_id is not None
    server = TestServerState(username="esp", password="secret")
    http = TestClient(cybertip_test_app(server))
    creds = NcmecCredentials(NcmecEnvironment.TEST, "esp", "secret", TEST_URL)
    sleeps: list[float] = []
    store = SubmissionRepository(db)
    worker = SubmissionWorker(
        store,
        CybertipClient(creds, http),
        vault,
        retry=RetryPolicy(attempts=3),
        sleep=sleeps.append,
    )
    yield Rig(db, server, worker, store, case_id, sleeps)
    db.dispose()


def prepared(rig: Rig) -> int:
    (sid,) = rig.worker.prepare(rig.case_id, case_cybertips(rig.db, rig.case_id, COMPANY))
    return sid


def test_a_case_goes_through_open_upload_details_finish(rig: Rig) -> None:
    done = rig.worker.submit(prepared(rig))
    assert done.state is SubmissionState.FINISHED
    assert rig.server.calls == ["/submit", "/upload", "/fileinfo", "/finish"]
    received = rig.server.reports[done.ncmec_report_id or 0]
    assert received.finished and len(received.files) == 1 and len(received.details) == 1
    details = next(iter(received.details.values())).decode()
    assert "<liveStreaming>true</liveStreaming>" in details
    assert "<industryClassification>A1</industryClassification>" in details


def test_the_report_id_is_stored_before_files_are_sent(rig: Rig) -> None:
    sid = prepared(rig)
    rig.server.faults.extend([Fault("/upload", http_status=503)] * 3)
    stuck = rig.worker.submit(sid)
    assert stuck.state is SubmissionState.OPENED and stuck.ncmec_report_id is not None
    resumed = rig.worker.submit(sid)
    assert resumed.state is SubmissionState.FINISHED
    assert resumed.ncmec_report_id == stuck.ncmec_report_id
    assert rig.server.calls.count("/submit") == 1


def test_server_errors_are_retried_with_growing_backoff(rig: Rig) -> None:
    rig.server.faults.extend([Fault("/submit", http_status=500), Fault("/submit", code=1000)])
    done = rig.worker.submit(prepared(rig))
    assert done.state is SubmissionState.FINISHED
    assert done.attempts == 2 and len(rig.sleeps) == 2
    assert rig.sleeps[0] <= 0.5 and rig.sleeps[1] <= 1.0


def test_a_validation_refusal_is_never_retried_and_the_open_report_is_retracted(
    rig: Rig,
) -> None:
    rig.server.faults.append(Fault("/fileinfo", code=4100))
    failed = rig.worker.submit(prepared(rig))
    assert failed.state is SubmissionState.FAILED and "4100" in failed.last_error
    assert rig.server.calls == ["/submit", "/upload", "/fileinfo", "/retract"]
    assert rig.sleeps == []
    assert rig.server.reports[failed.ncmec_report_id or 0].retracted


def test_refused_credentials_are_not_retried(rig: Rig) -> None:
    rig.server.password = "changed"
    stuck = rig.worker.submit(prepared(rig))
    assert stuck.state is SubmissionState.DRAFT and "credentials refused" in stuck.last_error
    assert rig.sleeps == []


def test_a_lost_finish_answer_is_recognised_on_rerun(rig: Rig) -> None:
    sid = prepared(rig)
    rig.server.faults.extend([Fault("/finish", http_status=502)] * 3)
    stuck = rig.worker.submit(sid)
    rig.server.reports[stuck.ncmec_report_id or 0].finished = True  # NCMEC did finish it
    assert rig.worker.submit(sid).state is SubmissionState.FINISHED


def test_cancel_retracts_an_open_report(rig: Rig) -> None:
    sid = prepared(rig)
    rig.server.faults.extend([Fault("/finish", http_status=503)] * 3)
    opened = rig.worker.submit(sid)
    cancelled = rig.worker.cancel(sid)
    assert cancelled.state is SubmissionState.RETRACTED
    assert rig.server.reports[opened.ncmec_report_id or 0].retracted


def test_a_finished_submission_cannot_be_cancelled(rig: Rig) -> None:
    sid = prepared(rig)
    rig.worker.submit(sid)
    with pytest.raises(Conflict):
        rig.worker.cancel(sid)


def test_a_submitted_report_holds_its_evidence_for_a_year(rig: Rig) -> None:
    done = rig.worker.submit(prepared(rig))
    assert done.finished_at is not None
    with rig.db.session() as s:
        holds = s.scalars(select(EvidenceHoldRow).where(EvidenceHoldRow.rule == PRESERVATION_RULE))
        hold = holds.one()
        evidence = s.scalars(select(EvidenceRow)).one()
        assert hold.stream_id == "s-1" and hold.case_id == rig.case_id
        year = done.finished_at + timedelta(days=365)
        assert aware(hold.hold_until) >= year - timedelta(seconds=5)
        assert aware(evidence.hold_until) >= year - timedelta(seconds=5)


def test_a_case_with_a_submission_in_flight_is_not_prepared_twice(rig: Rig) -> None:
    prepared(rig)
    with pytest.raises(Conflict):
        prepared(rig)


def test_test_and_production_credentials_come_from_different_variables() -> None:
    env = {
        "SAFESTREAM_NCMEC_TEST_USERNAME": "t",
        "SAFESTREAM_NCMEC_TEST_PASSWORD": "tp",
    }
    test = NcmecCredentials.from_env(NcmecEnvironment.TEST, env)
    assert test.base_url == "https://exttest.cybertip.org/ispws"
    with pytest.raises(InvalidInput, match="PRODUCTION_USERNAME"):
        NcmecCredentials.from_env(NcmecEnvironment.PRODUCTION, env)
    moved = {
        "SAFESTREAM_NCMEC_PRODUCTION_USERNAME": "p",
        "SAFESTREAM_NCMEC_PRODUCTION_PASSWORD": "pp",
        "SAFESTREAM_NCMEC_PRODUCTION_URL": "http://127.0.0.1:9/ispws",
    }
    with pytest.raises(InvalidInput, match="off NCMEC"):
        NcmecCredentials.from_env(NcmecEnvironment.PRODUCTION, moved)


def test_a_test_submission_is_not_run_by_a_production_worker(rig: Rig) -> None:
    sid = prepared(rig)
    prod = NcmecCredentials(NcmecEnvironment.PRODUCTION, "p", "pp", TEST_URL)
    worker = SubmissionWorker(
        rig.store, CybertipClient(prod, TestClient(cybertip_test_app(rig.server))), None
    )
    with pytest.raises(Conflict, match="for test"):
        worker.submit(sid)


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_every_server_side_http_failure_is_retried(rig: Rig, status: int) -> None:
    rig.server.faults.append(Fault("/submit", http_status=status))
    done = rig.worker.submit(prepared(rig))
    assert done.state is SubmissionState.FINISHED and len(rig.sleeps) == 1


@pytest.mark.parametrize("status", [400, 404, 413])
def test_a_client_side_http_failure_is_not_retried(rig: Rig, status: int) -> None:
    rig.server.faults.append(Fault("/submit", http_status=status))
    failed = rig.worker.submit(prepared(rig))
    assert failed.state is SubmissionState.FAILED and rig.sleeps == []
    assert f"HTTP {status}" in failed.last_error


@pytest.mark.parametrize("code", [4100, 5100, 6000])
def test_any_refusal_code_is_not_retried(rig: Rig, code: int) -> None:
    rig.server.faults.append(Fault("/submit", code=code))
    failed = rig.worker.submit(prepared(rig))
    assert failed.state is SubmissionState.FAILED and rig.sleeps == []
    assert f"code {code}" in failed.last_error and failed.ncmec_report_id is None
