"""POST /v1/reports: authenticated, validated, size-limited, idempotent and durable."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select

from safestream.cases.queues import list_cases
from safestream.core.principal import Principal
from safestream.store.access import create_api_key, create_org
from safestream.store.claims import ClaimRepository
from safestream.store.models.reports import ReportEntityRow
from safestream.store.reports import ReportRepository
from tests.api.conftest import Api

REPORT: dict[str, Any] = {
    "source": "platform",
    "platform": {"name": "Acme Video", "country": "US"},
    "reported_accounts": [{"platform": "acme", "id": "u1", "email": "u1@example.org"}],
    "incident_type": "child_pornography",
    "live_stream": {"stream_id": "s-1", "viewers": [{"country": "AU"}]},
    "location_hints": [{"country": "PH"}],
}


def test_report_is_stored_before_202(api: Api) -> None:
    r = api.client.post("/v1/reports", json=REPORT, headers=api.headers)
    assert r.status_code == 202
    stored = ReportRepository(api.db).get(r.json()["id"])
    assert stored.body.reported_accounts[0].id == "u1"
    assert r.headers["location"] == f"/v1/reports/{stored.id}"


def test_missing_api_key_is_401(api: Api) -> None:
    r = api.client.post("/v1/reports", json=REPORT)
    assert r.status_code == 401
    assert "Bearer" in r.json()["error"]


def test_unknown_api_key_is_401(api: Api) -> None:
    r = api.client.post("/v1/reports", json=REPORT, headers={"Authorization": "Bearer ss_nope"})
    assert r.status_code == 401


def test_repeat_with_same_idempotency_header_returns_same_report(api: Api) -> None:
    headers = {**api.headers, "Idempotency-Key": "tip-77"}
    first = api.client.post("/v1/reports", json=REPORT, headers=headers)
    second = api.client.post("/v1/reports", json=REPORT, headers=headers)
    assert (first.status_code, second.status_code) == (202, 200)
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["replayed"] is True
    assert ReportRepository(api.db).count() == 1


def test_reused_idempotency_key_with_other_content_is_409(api: Api) -> None:
    headers = {**api.headers, "Idempotency-Key": "tip-78"}
    api.client.post("/v1/reports", json=REPORT, headers=headers)
    r = api.client.post("/v1/reports", json={**REPORT, "description": "other"}, headers=headers)
    assert r.status_code == 409


def test_invalid_report_is_422_naming_each_bad_field(api: Api) -> None:
    bad = {
        **REPORT,
        "reported_accounts": [{"platform": "acme", "id": "u1", "email": "nope"}],
        "incident_type": "unknown",
        "location_hints": [{"country": "Philippines"}],
    }
    r = api.client.post("/v1/reports", json=bad, headers=api.headers)
    assert r.status_code == 422
    fields = [e["field"] for e in r.json()["errors"]]
    assert fields == ["reported_accounts.0.email", "incident_type", "location_hints.0.country"]
    assert ReportRepository(api.db).count() == 0


def test_malformed_json_is_422(api: Api) -> None:
    r = api.client.post(
        "/v1/reports",
        content=b"{not json",
        headers={**api.headers, "Content-Type": "application/json"},
    )
    assert r.status_code == 422


def test_oversized_body_is_413_by_declared_length(api: Api) -> None:
    r = api.client.post(
        "/v1/reports",
        content=b"x" * (65 * 1024),
        headers={**api.headers, "Content-Type": "application/json"},
    )
    assert r.status_code == 413


def test_oversized_streamed_body_is_413_without_reading_it_all(api: Api) -> None:
    sent = 0

    def chunks() -> Iterator[bytes]:
        nonlocal sent
        for _ in range(1000):
            sent += 8192
            yield b" " * 8192

    r = api.client.post(
        "/v1/reports",
        content=chunks(),
        headers={**api.headers, "Content-Type": "application/json"},
    )
    assert r.status_code == 413
    assert ReportRepository(api.db).count() == 0


def test_report_status_shows_its_case_once_linked(api: Api) -> None:
    rid = api.client.post("/v1/reports", json=REPORT, headers=api.headers).json()["id"]
    assert api.client.get(f"/v1/reports/{rid}", headers=api.headers).json()["case_id"] is None
    api.link()
    body = api.client.get(f"/v1/reports/{rid}", headers=api.headers).json()
    assert body["status"] == "linked" and body["case_id"] is not None


def test_another_organisation_cannot_read_a_report(api: Api) -> None:
    rid = api.client.post("/v1/reports", json=REPORT, headers=api.headers).json()["id"]
    create_org(api.db, "Other")
    other = {"Authorization": f"Bearer {create_api_key(api.db, 'Other').key}"}
    assert api.client.get(f"/v1/reports/{rid}", headers=other).status_code == 404


def test_health_readiness_and_metrics_answer(api: Api) -> None:
    api.client.post("/v1/reports", json=REPORT, headers=api.headers)
    assert api.client.get("/healthz").json() == {"status": "ok"}
    ready = api.client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["database"] == "ok" and ready["disk"]["ok"]
    metrics = api.metrics()
    assert 'safestream_reports_received_total{source="platform"} 1.0' in metrics


def test_openapi_publishes_the_versioned_intake(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    assert "/v1/reports" in spec["paths"]
    assert "ApiKey" in spec["components"]["securitySchemes"]


def _agency_key(api: Api, name: str = "NCA", code: str = "UK-NCA") -> dict[str, str]:
    create_org(api.db, name, kind="agency", agency_code=code)
    return {"Authorization": f"Bearer {create_api_key(api.db, name).key}"}


def test_agency_claim_is_recorded_as_its_word_and_the_case_stays_in_review(api: Api) -> None:
    api.client.post("/v1/reports", json=REPORT, headers=api.headers)
    api.link()
    claim = {"kind": "account", "value": "acme:u1", "reference": "NCA-2026-17"}
    r = api.client.post("/v1/claims", json=claim, headers=_agency_key(api))
    assert r.status_code == 202
    assert r.json() == {**claim, "claimed_by": "NCA"}
    waiting = list_cases(api.db, Principal.system("test"), "review")
    assert len(waiting) == 1 and "acme:u1" in {e.value for e in waiting[0].entities}
    claims = ClaimRepository(api.db).on_entities(waiting[0].entities)
    assert [(c.claimed_by, c.reference) for c in claims] == [("NCA", "NCA-2026-17")]


def test_platform_key_cannot_claim_and_learns_nothing(api: Api) -> None:
    api.client.post("/v1/reports", json=REPORT, headers=api.headers)
    api.link()
    known = api.client.post(
        "/v1/claims", json={"kind": "account", "value": "acme:u1"}, headers=api.headers
    )
    unknown = api.client.post(
        "/v1/claims", json={"kind": "account", "value": "acme:nobody"}, headers=api.headers
    )
    assert known.status_code == unknown.status_code == 403
    assert known.json() == unknown.json()


def test_claim_answers_the_same_whether_or_not_an_identifier_is_known(api: Api) -> None:
    api.client.post("/v1/reports", json=REPORT, headers=api.headers)
    api.link()
    nca = _agency_key(api)
    known = api.client.post("/v1/claims", json={"kind": "account", "value": "acme:u1"}, headers=nca)
    unknown = api.client.post(
        "/v1/claims", json={"kind": "account", "value": "acme:u2"}, headers=nca
    )
    assert known.status_code == unknown.status_code == 202
    assert set(known.json()) == set(unknown.json()) == {"kind", "value", "claimed_by", "reference"}


def test_identifier_with_a_zero_width_character_is_422_naming_it(api: Api) -> None:
    bad = {**REPORT, "reported_accounts": [{"platform": "acme", "id": "u\u200b1"}]}
    r = api.client.post("/v1/reports", json=bad, headers=api.headers)
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert [e["field"] for e in errors] == ["reported_accounts.0.id"]
    assert "invisible" in errors[0]["message"]
    assert ReportRepository(api.db).count() == 0


def test_look_alike_accounts_are_stored_as_one_identifier(api: Api) -> None:
    fullwidth = {**REPORT, "reported_accounts": [{"platform": "acme", "id": "ｕ１"}]}
    assert api.client.post("/v1/reports", json=REPORT, headers=api.headers).status_code == 202
    assert api.client.post("/v1/reports", json=fullwidth, headers=api.headers).status_code == 202
    with api.db.session() as s:
        kind = ReportEntityRow.kind == "account"
        accounts = set(s.scalars(select(ReportEntityRow.value).where(kind)))
    assert accounts == {"acme:u1"}
