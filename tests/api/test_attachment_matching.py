"""Media attached to a report is matched at intake, so a known image gets the hash-first view."""

from __future__ import annotations

from safestream.cases.wellbeing import is_hash_matched
from safestream.core.principal import Principal
from safestream.store.reports import ReportRepository
from tests.api.media_fixtures import MediaApi, bank_photo, jpeg, report_with_attachment


def test_a_known_attachment_is_matched_and_shown_hash_first(media_api: MediaApi) -> None:
    data = jpeg("coffee")
    bank_photo(media_api, data)
    answer = media_api.client.post(
        "/v1/reports", json=report_with_attachment(data), headers=media_api.platform
    )
    assert answer.status_code == 202, answer.text
    db = media_api.app.state.db
    stored = ReportRepository(db).get(answer.json()["id"])
    assert {(m.bank, m.label, m.verified) for m in stored.body.matches} == {("known", "A1", True)}
    media_api.app.state.engine.process_pending()
    (evidence_id,) = stored.evidence_ids
    assert is_hash_matched(db, Principal.system("test"), evidence_id) == "A1"


def test_an_unknown_attachment_adds_no_match(media_api: MediaApi) -> None:
    bank_photo(media_api, jpeg("coffee"))
    answer = media_api.client.post(
        "/v1/reports", json=report_with_attachment(jpeg("rocket")), headers=media_api.platform
    )
    stored = ReportRepository(media_api.app.state.db).get(answer.json()["id"])
    assert stored.body.matches == []


def test_an_attachment_that_is_not_media_is_stored_without_matching(media_api: MediaApi) -> None:
    answer = media_api.client.post(
        "/v1/reports",
        json=report_with_attachment(b"not an image at all"),
        headers=media_api.platform,
    )
    assert answer.status_code == 202
