"""An attachment reported before anyone banked its hash is raised when the hash arrives."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from safestream.core.principal import Principal
from safestream.core.signals import SignalType
from safestream.media.hashing import hash_image
from safestream.media.retro import RetroMatcher
from safestream.reports.intake import DetectorSink
from safestream.store import Database
from safestream.store.access import get_org
from safestream.store.banks import BankRepository
from safestream.store.models.reports import ReportRow
from safestream.store.reports import ReportRepository
from safestream.store.seen_hashes import SeenHash, SeenHashes
from tests.api.media_fixtures import MediaApi, bank_photo, jpeg, report_with_attachment


def test_an_earlier_attachment_is_raised_into_its_case_when_its_hash_reaches_a_bank(
    media_api: MediaApi,
) -> None:
    data = jpeg("coffee")
    answer = media_api.client.post(
        "/v1/reports", json=report_with_attachment(data), headers=media_api.platform
    )
    assert answer.status_code == 202, answer.text
    db, engine = media_api.app.state.db, media_api.app.state.engine
    engine.process_pending()
    original = ReportRepository(db).get(answer.json()["id"])
    assert original.body.matches == []  # nothing was known when it arrived
    bank_photo(media_api, data)
    matcher = RetroMatcher(db, timedelta(days=30), DetectorSink(db, detector="retro"))
    findings = matcher.match(list(BankRepository(db).iter_entries("known")))
    assert {f.seen.kind for f in findings} == {"upload"}
    raised = ReportRepository(db).get(findings[0].report_id)
    assert raised.case_id is not None
    assert raised.case_id == ReportRepository(db).get(original.id).case_id


def test_intake_names_the_attachments_sha256_and_keeps_only_hashes(media_api: MediaApi) -> None:
    data = jpeg("rocket")
    answer = media_api.client.post(
        "/v1/reports", json=report_with_attachment(data), headers=media_api.platform
    )
    db = media_api.app.state.db
    stored = ReportRepository(db).get(answer.json()["id"])
    (sha,) = [h.value for h in stored.body.media_hashes if h.signal_type is SignalType.SHA256]
    seen = SeenHashes(db)
    system = Principal.system("test")
    page = seen.page(system, 0, 100)
    assert page.ids and len(page.codes) == 32 * len(page.ids)
    assert {h.ref for h in seen.details(system, page.ids).values()} == {sha}


def _retro_reports(db: Database) -> list[tuple[str, int | None]]:
    with db.session() as s:
        rows = s.execute(
            select(ReportRow.id, ReportRow.case_id).where(ReportRow.detector == "retro")
        ).all()
    return [(r[0], r[1]) for r in rows]


def _add_over_http(api: MediaApi, route: str, data: bytes) -> None:
    client, curator = api.client, api.curator
    if route == "hma-signal":
        assert client.post("/c/banks", json={"name": "KNOWN"}, headers=curator).status_code == 201
        answer = client.post(
            "/c/bank/KNOWN/signal", json={"pdq": hash_image(data).pdq}, headers=curator
        )
    elif route == "v1-entries":
        client.post("/v1/banks", json={"name": "known"}, headers=curator)
        entry = {"hash": hash_image(data).pdq, "label": "A1"}
        answer = client.post("/v1/banks/known/entries", json={"entries": [entry]}, headers=curator)
    else:
        client.post("/v1/banks", json={"name": "known"}, headers=curator)
        files = {"file": ("k.jpg", data, "image/jpeg")}
        answer = client.post("/v1/banks/known/media", files=files, headers=curator)
    assert answer.status_code < 300, answer.text


@pytest.mark.parametrize("route", ["v1-entries", "v1-media", "hma-signal"])
def test_an_entry_added_over_http_raises_earlier_attachments_into_their_case(
    media_api: MediaApi, route: str
) -> None:
    data = jpeg("coffee")
    answer = media_api.client.post(
        "/v1/reports", json=report_with_attachment(data), headers=media_api.platform
    )
    db, engine = media_api.app.state.db, media_api.app.state.engine
    engine.process_pending()
    original = ReportRepository(db).get(answer.json()["id"])
    assert _retro_reports(db) == []
    _add_over_http(media_api, route, data)
    assert media_api.app.state.retro.wait_idle(60)
    raised = _retro_reports(db)
    assert len(raised) == 1 and raised[0][1] == original.case_id


def _kept(api: MediaApi) -> list[SeenHash]:
    """What the store keeps, once the API's queue is written."""
    assert api.app.state.media.seen.flush(10)
    seen, system = SeenHashes(api.app.state.db), Principal.system("test")
    return sorted(seen.details(system, seen.page(system, 0, 10_000).ids).values(),
                  key=lambda h: h.id)  # fmt: skip


def test_what_a_platform_hashes_matches_or_looks_up_is_kept_with_its_organisation(
    media_api: MediaApi,
) -> None:
    client, headers = media_api.client, media_api.platform
    data = jpeg("rocket")
    pdq, sha = hash_image(data).pdq, hashlib.sha256(data).hexdigest()
    looked_up = ["1" * 64, "2" * 64, "3" * 64, "4" * 64]
    raw = {"signal_type": "pdq", "signal": looked_up[0]}
    assert client.get("/m/raw_lookup", params=raw, headers=headers).status_code == 200
    client.get("/m/lookup", params={**raw, "signal": looked_up[1]}, headers=headers)
    client.get("/v1/lookup", params={"pdq": looked_up[2]}, headers=headers)
    client.post("/v1/lookup", json={"hashes": [looked_up[3]]}, headers=headers)
    assert client.post("/h/hash", files={"photo": ("r.jpg", data)}, headers=headers).json()
    client.post("/v1/match", files={"file": ("r.jpg", data, "image/jpeg")}, headers=headers)
    kept = _kept(media_api)
    acme = get_org(media_api.app.state.db, "Acme Video").id
    assert {h.org_id for h in kept} == {acme}
    assert {h.ref for h in kept if h.kind == "lookup"} == set(looked_up)
    uploads = [h for h in kept if h.kind == "upload"]
    assert {h.ref for h in uploads} == {sha} and pdq in {h.pdq for h in uploads}
    # Nothing but hashes: no bytes of the file anywhere in what is kept.
    assert all(len(h.pdq) == 64 for h in kept)


def test_a_hash_looked_up_before_it_was_banked_is_raised_naming_the_organisation(
    media_api: MediaApi,
) -> None:
    data = jpeg("coffee")
    raw = {"signal_type": "pdq", "signal": hash_image(data).pdq}
    media_api.client.get("/m/raw_lookup", params=raw, headers=media_api.platform)
    assert media_api.app.state.media.seen.flush(10)
    _add_over_http(media_api, "v1-entries", data)
    assert media_api.app.state.retro.wait_idle(60)
    db = media_api.app.state.db
    (raised,) = [ReportRepository(db).get(report_id) for report_id, _ in _retro_reports(db)]
    assert "looked up by organisation Acme Video" in raised.body.description
