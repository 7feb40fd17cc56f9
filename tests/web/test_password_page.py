"""Changing one's own password in the console: what a copy of the old cookie gets afterwards."""

from __future__ import annotations

import re

import httpx
from fastapi.testclient import TestClient

from safestream.api.web.login_throttle import LoginThrottle
from safestream.api.web.session import COOKIE_NAME
from safestream.store.access import authenticate_user
from tests.web.conftest import PASSWORD, Console, email_of

NEW = "a fresh long passphrase"


def _change(console: Console, current: str, new: str = NEW, again: str = NEW) -> httpx.Response:
    page = console.client.get("/console/password").text
    token = re.search(r'name="csrf_token" value="([^"]*)"', page)
    assert token is not None
    form = {"current": current, "new": new, "again": again, "csrf_token": token.group(1)}
    return console.client.post("/console/password", data=form, follow_redirects=False)


def _copy(console: Console) -> TestClient:
    thief = TestClient(console.client.app)
    thief.cookies.set(COOKIE_NAME, console.client.cookies[COOKIE_NAME])
    return thief


def test_change_ends_the_copied_cookie_and_keeps_this_browser_logged_in(console: Console) -> None:
    console.login("reviewer")
    thief = _copy(console)
    answer = _change(console, PASSWORD)
    assert answer.status_code == 303
    console.client.cookies.set(COOKIE_NAME, answer.cookies[COOKIE_NAME])
    assert thief.get("/console/queue").url.path == "/console/login"
    assert console.client.get("/console/queue").url.path == "/console/queue"
    assert authenticate_user(console.db, email_of("reviewer"), NEW) is not None


def test_wrong_current_password_changes_nothing(console: Console) -> None:
    console.login("reviewer")
    thief = _copy(console)
    assert _change(console, "not my password").status_code == 401
    assert thief.get("/console/queue").url.path == "/console/queue"
    assert authenticate_user(console.db, email_of("reviewer"), PASSWORD) is not None


def test_wrong_current_passwords_are_throttled_like_logins(console: Console) -> None:
    console.login("reviewer")
    answers = [
        _change(console, f"guess {i}").status_code
        for i in range(LoginThrottle.ACCOUNT_FAILURES + 1)
    ]
    assert answers == [401] * LoginThrottle.ACCOUNT_FAILURES + [429]


def test_short_or_mismatched_new_password_is_refused(console: Console) -> None:
    console.login("reviewer")
    assert _change(console, PASSWORD, new="short", again="short").status_code == 422
    assert _change(console, PASSWORD, new=NEW, again=NEW + "x").status_code == 422
    assert authenticate_user(console.db, email_of("reviewer"), PASSWORD) is not None
