"""A panic press sent as a report with an API key (`source: panic_button`), from an attacker's view.

A press holds its stream's evidence for a year and asks the live worker to keep its buffer. The
panic-key route already refuses a stream outside the key's namespace; the same press sent through
`POST /v1/reports` with another organisation's stream id must not do what the route refuses.
"Acme Video" (the fixture's key) owns no namespace; "Call Co" owns `callco-` by its panic key.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from safestream.store.access import create_api_key, create_org
from safestream.store.panic_keys import issue_panic_key
from tests.api.conftest import Api


def _press(stream_id: str) -> dict[str, Any]:
    return {
        "source": "panic_button",
        "child_in_danger": True,
        "live_stream": {"stream_id": stream_id},
        "description": "a viewer pressed the panic button",
    }


def _with_call_co(api: Api) -> None:
    create_org(api.db, "Call Co")
    issue_panic_key(api.db, "Call Co", origins=["https://calls.example"], stream_prefix="callco-")


def _count(api: Api, table: str) -> int:
    with api.db.session() as s:
        return int(s.execute(text(f"select count(*) from {table}")).scalar_one())


def test_press_naming_another_organisations_stream_is_refused_and_holds_nothing(
    api: Api,
) -> None:
    _with_call_co(api)
    answer = api.client.post("/v1/reports", json=_press("callco-room1"), headers=api.headers)
    assert answer.status_code == 403
    assert "namespace" in answer.json()["error"]
    api.link()
    assert _count(api, "reports") == 0
    assert _count(api, "evidence_holds") == 0 and _count(api, "outbox") == 0


def test_press_on_a_stream_nobody_claims_is_filed_and_holds_it(api: Api) -> None:
    _with_call_co(api)
    answer = api.client.post("/v1/reports", json=_press("acme-room1"), headers=api.headers)
    assert answer.status_code == 202
    api.link()
    assert _count(api, "evidence_holds") == 1


def test_the_owner_presses_for_its_own_stream(api: Api) -> None:
    _with_call_co(api)
    key = create_api_key(api.db, "Call Co").key
    headers = {"Authorization": f"Bearer {key}"}
    assert api.client.post("/v1/reports", json=_press("callco-room1"), headers=headers).is_success


def test_the_operator_presses_for_any_stream(api: Api) -> None:
    _with_call_co(api)
    create_org(api.db, "Hotline", kind="operator")
    headers = {"Authorization": f"Bearer {create_api_key(api.db, 'Hotline').key}"}
    assert api.client.post("/v1/reports", json=_press("callco-room1"), headers=headers).is_success


def test_a_plain_report_naming_the_stream_is_taken_and_holds_nothing(api: Api) -> None:
    """Naming another platform's stream is ordinary reporting (it links); only a press holds."""
    _with_call_co(api)
    body = {**_press("callco-room1"), "source": "platform"}
    assert api.client.post("/v1/reports", json=body, headers=api.headers).status_code == 202
    api.link()
    assert _count(api, "evidence_holds") == 0
