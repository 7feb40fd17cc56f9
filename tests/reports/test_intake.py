"""Intake stores reports durably and idempotently; media is kept only, encrypted, under a hold."""

from __future__ import annotations

import base64
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import select

from safestream.core.config import Settings
from safestream.core.errors import Conflict, InvalidInput, StoreError
from safestream.core.reports import MediaFile
from safestream.reports.intake import DetectorSink, IntakeService
from safestream.store.database import Database
from safestream.store.models.reports import EvidenceRow, ReportEntityRow
from safestream.store.reports import ReportRepository
from safestream.store.vault import EvidenceVault
from tests.reports.builders import account, live, match, org, report

MEDIA = b"\x89PNG benign stand-in bytes for a test"


def _vault(tmp_path: Path) -> EvidenceVault:
    return EvidenceVault.for_settings(Settings(home=tmp_path / "home", database_url="sqlite://"))


def test_repeat_with_same_idempotency_key_returns_same_report(database: Database) -> None:
    acme = org(database)
    intake = IntakeService(database)
    body = report(reported_accounts=[account("acme", "u1")], idempotency_key="k-1")
    first = intake.receive(acme, body)
    second = intake.receive(acme, body)
    assert first.created and not second.created
    assert second.report.id == first.report.id
    assert ReportRepository(database).count() == 1


def test_same_key_with_different_content_is_a_conflict(database: Database) -> None:
    acme = org(database)
    intake = IntakeService(database)
    intake.receive(acme, report(description="one"), idempotency_key="k")
    with pytest.raises(Conflict, match="different report"):
        intake.receive(acme, report(description="two"), idempotency_key="k")


def test_idempotency_keys_are_per_organisation(database: Database) -> None:
    intake = IntakeService(database)
    a = intake.receive(org(database, "A"), report(), idempotency_key="k")
    b = intake.receive(org(database, "B"), report(), idempotency_key="k")
    assert a.report.id != b.report.id


def test_stored_report_names_its_entities(database: Database) -> None:
    rid = (
        IntakeService(database)
        .receive(org(database), report(reported_accounts=[account("acme", "u1", email="x@y.org")]))
        .report.id
    )
    with database.session() as s:
        kinds = set(
            s.execute(
                select(ReportEntityRow.kind, ReportEntityRow.value).where(
                    ReportEntityRow.report_id == rid
                )
            )
        )
    assert kinds == {("account", "acme:u1"), ("email", "x@y.org")}


def test_media_without_evidence_hold_is_refused(database: Database, tmp_path: Path) -> None:
    media = [{"filename": "a.png", "data_base64": base64.b64encode(MEDIA).decode()}]
    with pytest.raises(InvalidInput, match="evidence_hold"):
        IntakeService(database, _vault(tmp_path)).receive(org(database), report(media=media))


def test_held_media_is_stored_encrypted(database: Database, tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    media = [
        {
            "filename": "a.png",
            "content_type": "image/png",
            "data_base64": base64.b64encode(MEDIA).decode(),
        }
    ]
    stored = IntakeService(database, vault).receive(
        org(database), report(media=media, evidence_hold=True)
    )
    (eid,) = stored.report.evidence_ids
    on_disk = (vault.directory / f"{eid}.bin").read_bytes()
    assert MEDIA not in on_disk
    with database.session() as s:
        row = s.get(EvidenceRow, eid)
        assert row is not None
        assert vault.read(row).data == MEDIA


def test_workers_starting_together_share_one_evidence_key(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", database_url="sqlite://")
    start = threading.Barrier(8)

    def open_vault() -> EvidenceVault:
        start.wait()
        return EvidenceVault.for_settings(settings)

    with ThreadPoolExecutor(8) as pool:
        vaults = list(pool.map(lambda _: open_vault(), range(8)))
    sealed = vaults[0].seal(
        [MediaFile(filename="a.png", data_base64=base64.b64encode(MEDIA).decode())]
    )
    row = sealed[0]
    assert {v.read(row).data for v in vaults} == {MEDIA}
    assert [p.name for p in (tmp_path / "home").rglob("*key*")] == ["evidence.keys"]


def test_altered_evidence_file_fails_authentication(database: Database, tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    media = [{"filename": "a.png", "data_base64": base64.b64encode(MEDIA).decode()}]
    stored = IntakeService(database, vault).receive(
        org(database), report(media=media, evidence_hold=True)
    )
    path = vault.directory / f"{stored.report.evidence_ids[0]}.bin"
    blob = bytearray(path.read_bytes())
    blob[-1] ^= 1
    path.write_bytes(bytes(blob))
    with database.session() as s:
        row = s.get(EvidenceRow, stored.report.evidence_ids[0])
        assert row is not None
        with pytest.raises(StoreError, match="failed authentication"):
            vault.read(row)


def test_detector_report_is_linked_into_a_case_at_once(database: Database) -> None:
    sink = DetectorSink(database, detector="live")
    stored = sink.emit(report(live_stream=live("s-9"), matches=[match()]), [])
    assert stored.case_id is not None
    assert stored.body.detector == "live"
