"""What a revoked or rotated API key gets from a running server (the attacker holds a copy)."""

from __future__ import annotations

import time

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
