"""The access page: administrators end keys and people, each within their own scope.

Attacker's view: a platform's administrator reaching for the hotline's keys, a reviewer reaching
for the page, a disabled person's open session.
"""

from __future__ import annotations

import re

import httpx
from fastapi.testclient import TestClient

from safestream.api.web.session import COOKIE_NAME
from safestream.core.principal import Principal
from safestream.store import audit
from safestream.store.access import (
    add_user,
    create_api_key,
    create_org,
    get_user,
    list_users,
    org_for_api_key,
)
from safestream.store.panic_keys import issue_panic_key, panic_key_info
from tests.web.conftest import LIGHT_ARGON2, ORG, PASSWORD, Console

ACME = "Acme Video"


def _log_in(console: Console, email: str) -> TestClient:
    client = TestClient(console.client.app)
    form = client.get("/console/login").text
    token = re.search(r'name="csrf_token" value="([^"]*)"', form)
    assert token is not None
    data = {"email": email, "password": PASSWORD, "csrf_token": token.group(1)}
    assert client.post("/console/login", data=data).url.path != "/console/login"
    return client


def _person(console: Console, email: str, org: str, role: str = "admin") -> int:
    return add_user(
        console.db, email, org=org, role=role, password=PASSWORD, hasher=LIGHT_ARGON2
    ).id


def _post(client: TestClient, path: str) -> httpx.Response:
    page = client.get("/console/preferences").text
    token = re.search(r'name="csrf_token" value="([^"]*)"', page)
    assert token is not None
    return client.post(path, data={"csrf_token": token.group(1)}, follow_redirects=False)


def test_platform_admin_sees_only_its_own_keys_and_people(console: Console) -> None:
    create_org(console.db, ACME)
    _person(console, "admin@acme.example", ACME)
    _person(console, "admin@hotline.example", ORG)
    hotline_key = create_api_key(console.db, ORG)
    acme_key = create_api_key(console.db, ACME)
    page = _log_in(console, "admin@acme.example").get("/console/access").text
    assert acme_key.key[:10] in page and hotline_key.key[:10] not in page
    assert "admin@hotline.example" not in page


def test_platform_admin_cannot_revoke_the_hotlines_key(console: Console) -> None:
    create_org(console.db, ACME)
    _person(console, "admin@acme.example", ACME)
    hotline_key = create_api_key(console.db, ORG)
    client = _log_in(console, "admin@acme.example")
    answer = _post(client, f"/console/access/api-keys/{hotline_key.id}/revoke")
    assert answer.status_code == 404
    assert org_for_api_key(console.db, hotline_key.key) is not None


def test_platform_admin_rotates_its_own_key_and_sees_the_new_one_once(console: Console) -> None:
    create_org(console.db, ACME)
    _person(console, "admin@acme.example", ACME)
    old = create_api_key(console.db, ACME)
    client = _log_in(console, "admin@acme.example")
    answer = _post(client, f"/console/access/api-keys/{old.id}/rotate")
    new_key = re.search(r'id="new-key">([^<]+)<', answer.text)
    assert new_key is not None
    assert org_for_api_key(console.db, old.key) is None
    org = org_for_api_key(console.db, new_key.group(1))
    assert org is not None and org.name == ACME
    assert new_key.group(1) not in client.get("/console/access").text


def test_operator_admin_revokes_a_platforms_panic_key(console: Console) -> None:
    create_org(console.db, ACME)
    _person(console, "admin@hotline.example", ORG)
    issued = issue_panic_key(
        console.db, ACME, origins=["https://calls.acme.example"], stream_prefix="acme-"
    )
    client = _log_in(console, "admin@hotline.example")
    answer = _post(client, f"/console/access/panic-keys/{issued.info.id}/revoke")
    assert answer.status_code == 303
    assert panic_key_info(console.db, issued.key) is None


def test_reviewer_may_not_open_the_access_page(console: Console) -> None:
    console.login("reviewer")
    assert console.client.get("/console/access").status_code == 403


def test_disabling_a_person_ends_their_open_session_at_once(console: Console) -> None:
    _person(console, "admin@hotline.example", ORG)
    victim_id = _person(console, "rev@hotline.example", ORG, role="reviewer")
    victim = _log_in(console, "rev@hotline.example")
    thief = TestClient(console.client.app)
    thief.cookies.set(COOKIE_NAME, victim.cookies[COOKIE_NAME])
    admin = _log_in(console, "admin@hotline.example")
    assert _post(admin, f"/console/access/users/{victim_id}/disable").status_code == 303
    assert victim.get("/console/queue").url.path == "/console/login"
    assert thief.get("/console/queue").url.path == "/console/login"
    assert not get_user(console.db, victim_id).active


def test_an_admin_cannot_disable_themselves(console: Console) -> None:
    me = _person(console, "admin@hotline.example", ORG)
    client = _log_in(console, "admin@hotline.example")
    assert _post(client, f"/console/access/users/{me}/disable").status_code == 422
    assert all(u.active for u in list_users(console.db))


def test_changes_are_audited_under_the_administrator(console: Console) -> None:
    _person(console, "admin@hotline.example", ORG)
    key = create_api_key(console.db, ORG)
    _post(_log_in(console, "admin@hotline.example"), f"/console/access/api-keys/{key.id}/revoke")
    entries = audit.entries(console.db, Principal.system("test"), subject=f"apikey:{key.id}")
    assert [(e.actor, e.action) for e in entries] == [("admin@hotline.example", "apikey.revoke")]


def test_changes_need_the_forms_csrf_token(console: Console) -> None:
    _person(console, "admin@hotline.example", ORG)
    key = create_api_key(console.db, ORG)
    client = _log_in(console, "admin@hotline.example")
    answer = client.post(f"/console/access/api-keys/{key.id}/revoke", follow_redirects=False)
    assert answer.status_code == 403
    assert org_for_api_key(console.db, key.key) is not None
