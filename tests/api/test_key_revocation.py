"""What a revoked or rotated API key gets from a running server (the attacker holds a copy)."""

from __future__ import annotations

import time

import pytest

from safestream.api.auth import KEY_CACHE_SECONDS
from safestream.store.access import create_api_key, list_api_keys, revoke_api_key, rotate_api_key
from tests.api.conftest import Api

REPORT = {
    "source": "platform",
    "platform": {"name": "Acme"},
    "reported_accounts": [{"platform": "acme", "id": "u-1"}],
}


def _post(api: Api, key: str) -> int:
    headers = {"Authorization": f"Bearer {key}"}
    return api.client.post("/v1/reports", json=REPORT, headers=headers).status_code


def test_revoked_key_is_refused_within_the_cache_time_even_after_it_was_used(api: Api) -> None:
    issued = create_api_key(api.db, "Acme Video")
    assert _post(api, issued.key) == 202  # now in the server's key cache
    revoke_api_key(api.db, issued.id)  # as `safestream apikey revoke` does, from another process
    time.sleep(KEY_CACHE_SECONDS + 0.1)
    assert _post(api, issued.key) == 401


def test_rotated_key_is_refused_and_its_successor_accepted(api: Api) -> None:
    issued = create_api_key(api.db, "Acme Video")
    assert _post(api, issued.key) == 202
    new = rotate_api_key(api.db, issued.id)
    time.sleep(KEY_CACHE_SECONDS + 0.1)
    assert _post(api, issued.key) == 401
    assert _post(api, new.key) == 202


def test_revoking_one_key_leaves_the_organisations_other_keys_working(api: Api) -> None:
    first = create_api_key(api.db, "Acme Video")
    revoke_api_key(api.db, first.id)
    assert _post(api, api.headers["Authorization"].removeprefix("Bearer ")) == 202
    assert [k.revoked_at is not None for k in list_api_keys(api.db, "Acme Video")] == [False, True]


def _store_away(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every key lookup fails as a lost database connection does."""

    def unreachable(*_: object) -> None:
        raise ConnectionRefusedError("connection to server at 127.0.0.1 refused")

    monkeypatch.setattr("safestream.store.api_key_cache.org_for_api_key", unreachable)


def test_key_used_before_keeps_its_answer_while_the_store_is_away(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The report is then refused by the store, or stored: never a 401 or a 500."""
    key = api.headers["Authorization"].removeprefix("Bearer ")
    assert _post(api, key) == 202
    time.sleep(KEY_CACHE_SECONDS + 0.1)  # the cached answer has expired
    _store_away(monkeypatch)
    assert _post(api, key) == 202  # only the key lookup failed here; the store took the report


def test_unseen_key_while_the_store_is_away_gets_a_retryable_503(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    unseen = create_api_key(api.db, "Acme Video")
    _store_away(monkeypatch)
    headers = {"Authorization": f"Bearer {unseen.key}"}
    answer = api.client.post("/v1/reports", json=REPORT, headers=headers)
    assert answer.status_code == 503
    assert answer.headers["retry-after"]
    assert api.client.get("/v1/incident-types").status_code == 200  # the server itself is fine
