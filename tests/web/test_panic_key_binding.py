"""What a panic key lifted from a call page can do, seen from the attacker who copied it.

The operator's key works from `https://call.example` for `call-...` streams; a second
organisation ("Other Calls") has its own key and namespace (`other-calls-...`).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import httpx
import pytest

from safestream.api.web.session import load_or_create_secret
from safestream.store.access import create_api_key, create_org, get_org
from safestream.store.panic_keys import list_panic_keys, revoke_panic_key, rotate_panic_key
from safestream.store.reports import ReportRepository
from tests.web.conftest import CALL_ORIGIN, ORG, Console

OTHER = "Other Calls"


@pytest.fixture
def two_orgs(console: Console) -> Console:
    create_org(console.db, OTHER)
    return console


def _press(
    console: Console, key: str, stream_id: str = "call-42", origin: str | None = CALL_ORIGIN
) -> httpx.Response:
    body: dict[str, Any] = {"stream_id": stream_id, "child_in_danger": "yes"}
    headers = {"Authorization": f"Bearer {key}"}
    if origin is not None:
        headers["Origin"] = origin
    return console.client.post("/v1/panic", json=body, headers=headers)


def test_key_works_from_its_origin_for_its_streams(console: Console) -> None:
    assert _press(console, console.panic_key()).status_code == 201


def test_key_copied_into_another_sites_page_is_refused(console: Console) -> None:
    answer = _press(console, console.panic_key(), origin="https://attacker.example")
    assert answer.status_code == 403
    assert ReportRepository(console.db).count() == 0


def test_key_used_without_an_origin_is_refused(console: Console) -> None:
    assert _press(console, console.panic_key(), origin=None).status_code == 403


def test_key_cannot_name_another_organisations_stream(two_orgs: Console) -> None:
    """No press into the operator's `call-42` case, and no evidence hold on its stream."""
    answer = _press(two_orgs, two_orgs.panic_key(OTHER), stream_id="call-42")
    assert answer.status_code == 403
    assert "namespace" in answer.json()["error"]
    assert ReportRepository(two_orgs.db).count() == 0


def test_key_files_into_its_own_namespace_for_its_own_organisation(two_orgs: Console) -> None:
    answer = _press(two_orgs, two_orgs.panic_key(OTHER), stream_id="other-calls-7")
    assert answer.status_code == 201
    report = ReportRepository(two_orgs.db).get(answer.json()["report_id"])
    assert report.org == OTHER


def test_revoked_key_is_refused_at_once(console: Console) -> None:
    key = console.panic_key()
    assert _press(console, key).status_code == 201
    (info,) = list_panic_keys(console.db, ORG)
    revoke_panic_key(console.db, info.id)
    assert _press(console, key, stream_id="call-43").status_code == 401


def test_rotated_key_is_refused_and_its_successor_works(console: Console) -> None:
    key = console.panic_key()
    (info,) = list_panic_keys(console.db, ORG)
    new = rotate_panic_key(console.db, info.id)
    assert _press(console, key).status_code == 401
    assert _press(console, new.key).status_code == 201


def test_key_of_the_first_version_derived_from_the_console_secret_is_refused(
    console: Console,
) -> None:
    org_id = get_org(console.db, ORG).id
    secret = load_or_create_secret(console.settings.home)
    tag = hmac.new(secret, f"panic-button:{org_id}".encode(), hashlib.sha256).hexdigest()[:32]
    assert _press(console, f"pk_panic_{org_id}_{tag}").status_code == 401


def test_api_key_of_the_organisation_is_no_panic_key(console: Console) -> None:
    assert _press(console, create_api_key(console.db, ORG).key).status_code == 401
