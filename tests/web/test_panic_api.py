"""POST /v1/panic: what the panic-button widget calls from other sites with a publishable key."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from safestream.api.web.panic_api import MAX_PANIC_BODY_BYTES, PANIC_PER_CLIENT_PER_MINUTE
from safestream.core.reports import ReportSource
from safestream.store.access import create_api_key
from safestream.store.reports import ReportRepository
from tests.web.conftest import CALL_ORIGIN, ORG, Console


def _press(console: Console, key: str | None = None, **fields: Any) -> Any:
    body = {
        "stream_id": "call-42",
        "description": "A child on this call may be at risk.",
        "child_in_danger": "yes",
        **fields,
    }
    headers = {"Authorization": f"Bearer {key or console.panic_key()}", "Origin": CALL_ORIGIN}
    return console.client.post("/v1/panic", json=body, headers=headers)


def test_panic_press_files_a_panic_report_with_stream_and_evidence_hold(console: Console) -> None:
    answer = _press(console)
    assert answer.status_code == 201
    report = ReportRepository(console.db).get(answer.json()["report_id"])
    assert report.body.source is ReportSource.PANIC_BUTTON
    assert report.body.live_stream is not None
    assert report.body.live_stream.stream_id == "call-42"
    assert report.body.evidence_hold and report.body.child_in_danger
    assert report.org == ORG


def test_child_in_danger_press_is_an_urgent_case_at_once(console: Console) -> None:
    case_id = _press(console).json()["case_id"]
    console.login("reviewer")
    page = console.client.get(f"/console/cases/{case_id}").text
    assert '<span class="prio p1">P1</span>' in page


def test_repeat_with_same_idempotency_key_returns_same_report(console: Console) -> None:
    first = _press(console, idempotency_key="press-1")
    again = _press(console, idempotency_key="press-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["report_id"] == first.json()["report_id"]


def test_every_answer_allows_the_embedding_site_to_read_it(console: Console) -> None:
    assert _press(console).headers["access-control-allow-origin"] == "*"
    assert (
        _press(console, key="pk_panic_1_" + "0" * 32).headers["access-control-allow-origin"] == "*"
    )


def test_preflight_allows_post_with_authorization(console: Console) -> None:
    answer = console.client.options(
        "/v1/panic",
        headers={"Origin": "https://call.example", "Access-Control-Request-Method": "POST"},
    )
    assert answer.status_code == 204
    assert "Authorization" in answer.headers["access-control-allow-headers"]


def test_forged_panic_key_is_refused(console: Console) -> None:
    answer = _press(console, key="pk_panic_1_" + "0" * 32)
    assert answer.status_code == 401


def test_organisation_api_key_is_not_a_panic_key(console: Console) -> None:
    api_key = create_api_key(console.db, ORG).key
    assert _press(console, key=api_key).status_code == 401


def test_invalid_fields_are_each_named(console: Console) -> None:
    answer = _press(console, stream_id="", child_in_danger="maybe")
    assert answer.status_code == 422
    named = {e["field"] for e in answer.json()["errors"]}
    assert named == {"stream_id", "child_in_danger"}


def test_unknown_fields_are_refused(console: Console) -> None:
    answer = _press(console, admin=True)
    assert answer.status_code == 422


def test_oversized_body_is_refused_with_413(console: Console) -> None:
    answer = _press(console, description="x" * (MAX_PANIC_BODY_BYTES + 1))
    assert answer.status_code == 413


def test_flood_from_one_client_is_rate_limited(console: Console) -> None:
    answers = [
        _press(console, idempotency_key=f"p-{i}") for i in range(PANIC_PER_CLIENT_PER_MINUTE + 1)
    ]
    assert [a.status_code for a in answers[:-1]] == [201] * PANIC_PER_CLIENT_PER_MINUTE
    assert answers[-1].status_code == 429
    assert 0 < int(answers[-1].headers["retry-after"]) <= 61  # when the oldest press leaves


def test_panic_endpoint_is_in_the_openapi_document(console: Console) -> None:
    spec = console.client.get("/openapi.json").json()
    assert "post" in spec["paths"]["/v1/panic"]
    assert not any(path.startswith("/console") for path in spec["paths"])


def test_blank_stream_id_is_a_clear_422_and_stores_nothing(console: Console) -> None:
    answer = _press(console, stream_id="   ")
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["stream_id"]
    assert ReportRepository(console.db).count() == 0


def test_case_page_shows_only_what_the_viewer_said(console: Console) -> None:
    answer = _press(console, description="")
    assert answer.status_code == 201
    console.login("reviewer")
    page = console.client.get(f"/console/cases/{answer.json()['case_id']}").text
    assert "not stated (panic button)" in page
    assert "Child Pornography" not in page
    assert "viewers" not in page and "public" not in page


def test_a_stored_press_is_answered_as_filed_when_linking_it_at_once_fails(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = console.client.app.state.engine  # type: ignore[attr-defined]

    def store_busy(report_id: str) -> int:
        raise OperationalError("link", {}, Exception("database is locked"))

    monkeypatch.setattr(engine, "process_now_or_leave", store_busy)
    answer = _press(console)
    assert answer.status_code == 201
    assert answer.json()["case_id"] is None
    assert ReportRepository(console.db).get(answer.json()["report_id"]).body.child_in_danger


def test_press_while_another_process_holds_the_write_lock_is_refused_retryably_then_filed(
    console: Console,
) -> None:
    """A press the store cannot take now is refused with a retryable 503 whose Retry-After the
    widget may read across origins; its retry with the same idempotency key is filed."""
    import sqlite3

    console.panic_key()  # issued before the lock is taken
    path = console.db.engine.url.database
    assert path is not None
    holder = sqlite3.connect(path, timeout=0, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # as a long write of another server process does
    try:
        refused = _press(console, idempotency_key="press-locked")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert refused.status_code == 503
    assert int(refused.headers["retry-after"]) > 0
    assert "retry-after" in refused.headers["access-control-expose-headers"].lower()
    assert ReportRepository(console.db).count() == 0
    filed = _press(console, idempotency_key="press-locked")
    assert filed.status_code == 201
    assert ReportRepository(console.db).get(filed.json()["report_id"]).body.child_in_danger
    # The refused press did not count against the viewer's limit: the retry and the rest of the
    # minute's presses are all filed (a retry answered 429 would have lost the press).
    rest = [
        _press(console, idempotency_key=f"press-{i}") for i in range(1, PANIC_PER_CLIENT_PER_MINUTE)
    ]
    assert [a.status_code for a in rest] == [201] * (PANIC_PER_CLIENT_PER_MINUTE - 1)
