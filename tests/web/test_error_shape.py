"""One JSON error body for every /v1 route: `{"error": sentence, "errors": [{field, message}]}`.

The panic button and report intake were answering in two shapes; a client (or the widget) now
reads every refusal the same way, whichever route and whichever layer refused.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from safestream.api.errors import ErrorBody
from safestream.api.web.panic_api import MAX_PANIC_BODY_BYTES, PANIC_PER_CLIENT_PER_MINUTE
from safestream.store.access import create_api_key
from tests.web.conftest import CALL_ORIGIN, ORG, Console


def _assert_one_shape(answer: httpx.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert set(body) == {"error", "errors"}
    assert isinstance(body["error"], str) and body["error"]
    assert all(set(e) == {"field", "message"} for e in body["errors"])
    return dict(body)


def _panic_key(console: Console) -> str:
    return console.panic_key()


def _press(console: Console, key: str, **fields: Any) -> httpx.Response:
    body = {"stream_id": "call-1", "child_in_danger": "no", **fields}
    headers = {"Authorization": f"Bearer {key}", "Origin": CALL_ORIGIN}
    return console.client.post("/v1/panic", json=body, headers=headers)


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _report(console: Console, body: Any, key: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return console.client.post("/v1/reports", json=body, headers=headers)


def test_panic_and_reports_refuse_a_bad_key_in_the_same_shape(console: Console) -> None:
    panic = _assert_one_shape(_press(console, "pk_panic_1_" + "0" * 32), 401)
    reports = _assert_one_shape(_report(console, {}, key="ss_not-a-key"), 401)
    assert panic["errors"] == reports["errors"] == []


def test_panic_and_reports_name_each_bad_field_in_the_same_shape(console: Console) -> None:
    key = create_api_key(console.db, ORG).key
    panic = _assert_one_shape(_press(console, _panic_key(console), child_in_danger="maybe"), 422)
    reports = _assert_one_shape(_report(console, {"child_in_danger": "maybe"}, key=key), 422)
    assert [e["field"] for e in panic["errors"]] == ["child_in_danger"]
    assert [e["field"] for e in reports["errors"]] == ["child_in_danger"]
    assert panic["error"] == reports["error"] == "invalid fields: child_in_danger"


def test_panic_body_over_its_limit_is_refused_in_the_shape(console: Console) -> None:
    big = "x" * (MAX_PANIC_BODY_BYTES + 1)
    _assert_one_shape(_press(console, _panic_key(console), description=big), 413)


def test_panic_flood_is_refused_in_the_shape(console: Console) -> None:
    key = _panic_key(console)
    for n in range(PANIC_PER_CLIENT_PER_MINUTE):
        assert _press(console, key, idempotency_key=f"k-{n}").status_code == 201
    _assert_one_shape(_press(console, key, idempotency_key="one-too-many"), 429)


def test_missing_report_is_a_404_in_the_shape(console: Console) -> None:
    key = create_api_key(console.db, ORG).key
    answer = console.client.get("/v1/reports/no-such-report", headers=_bearer(key))
    _assert_one_shape(answer, 404)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/v1/no-such-route", 404), ("DELETE", "/v1/panic", 405)],
)
def test_the_frameworks_own_refusals_use_the_shape(
    console: Console, method: str, path: str, status: int
) -> None:
    _assert_one_shape(console.client.request(method, path), status)


def test_a_query_parameter_error_names_the_parameter(console: Console) -> None:
    key = create_api_key(console.db, ORG).key
    answer = console.client.get(
        "/v1/lookup", params={"pdq": "f" * 64, "threshold": "-1"}, headers=_bearer(key)
    )
    body = _assert_one_shape(answer, 422)
    assert [e["field"] for e in body["errors"]] == ["threshold"]


def test_a_domain_refusal_uses_the_shape(console: Console) -> None:
    key = create_api_key(console.db, ORG).key
    answer = console.client.get("/v1/lookup", params={"pdq": "not-hex"}, headers=_bearer(key))
    _assert_one_shape(answer, 422)


def test_the_console_login_redirect_is_still_a_redirect(console: Console) -> None:
    answer = console.client.get("/console/queue", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/console/login")


def test_the_api_document_describes_every_refusal_as_the_one_body(console: Console) -> None:
    spec = console.client.get("/openapi.json").json()
    assert set(spec["components"]["schemas"]["ErrorBody"]["required"]) == {"error", "errors"}
    refusals = {
        (path, method, status): answer["content"]["application/json"]["schema"]
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if "HMA-compatible" not in operation.get("tags", [])
        for status, answer in operation["responses"].items()
        if status.startswith(("4", "5"))
    }
    assert ("/v1/panic", "post", "401") in refusals
    assert ("/v1/reports/{report_id}", "get", "422") in refusals
    assert all(s == {"$ref": "#/components/schemas/ErrorBody"} for s in refusals.values())


def test_a_refusal_fits_the_documented_body(console: Console) -> None:
    answer = _press(console, _panic_key(console), child_in_danger="maybe")
    body = ErrorBody.model_validate(answer.json())
    assert [e.field for e in body.errors] == ["child_in_danger"]
