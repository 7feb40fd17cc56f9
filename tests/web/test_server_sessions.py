"""Console sessions live on the server: what an attacker holding a copy of someone's cookie gets.

The attacker's view throughout: a second client with the victim's cookie copied into it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from safestream.api.web.session import COOKIE_NAME, ConsoleSession, SessionCodec
from safestream.api.web.session import load_or_create_secret as console_secret
from safestream.core.config import Settings
from safestream.store.access import get_user, set_password, set_user_active
from safestream.store.base import utcnow
from safestream.store.models.access import ConsoleSessionRow, UserRow
from safestream.store.models.audit import AuditEntryRow
from safestream.store.sessions import SessionPolicy, session_is_live, start_session
from tests.web.conftest import LIGHT_ARGON2, PASSWORD, Console, email_of, serving

POLICY = SessionPolicy(idle=timedelta(minutes=30), lifetime=timedelta(hours=12))


@pytest.fixture
def settings_with_one_minute_idle(settings: Settings) -> Iterator[Console]:
    with serving(settings.with_changes(console_idle_minutes=1)) as running:
        yield running


@pytest.fixture
def secure_cookie_console(settings: Settings) -> Iterator[Console]:
    with serving(settings.with_changes(console_secure_cookie=True)) as running:
        yield running


def _copied(console: Console) -> TestClient:
    """A second browser holding a copy of the logged-in cookie."""
    thief = TestClient(console.client.app)
    thief.cookies.set(COOKIE_NAME, console.client.cookies[COOKIE_NAME])
    return thief


def _user_id(console: Console, role: str) -> int:
    with console.db.session() as s:
        found = s.scalar(select(UserRow.id).where(UserRow.email == email_of(role)))
    assert found is not None
    return found


def test_copied_cookie_works_while_its_session_is_live(console: Console) -> None:
    console.login("reviewer")
    assert _copied(console).get("/console/queue").url.path == "/console/queue"


def test_copied_cookie_stops_working_after_logout(console: Console) -> None:
    console.login("reviewer")
    thief = _copied(console)
    console.client.post("/console/logout", data={"csrf_token": console.csrf("/console/queue")})
    assert thief.get("/console/queue").url.path == "/console/login"


def test_copied_cookie_stops_working_after_a_password_change(console: Console) -> None:
    console.login("reviewer")
    thief = _copied(console)
    _, ended = set_password(
        console.db, email_of("reviewer"), "a brand new passphrase", hasher=LIGHT_ARGON2
    )
    assert ended == 1
    assert thief.get("/console/queue").url.path == "/console/login"
    assert console.client.get("/console/queue").url.path == "/console/login"


def test_password_change_ends_every_session_of_that_user_only(console: Console) -> None:
    console.ensure_user("auditor")
    console.login("reviewer")
    reviewer_id = _user_id(console, "reviewer")
    other = start_session(console.db, _user_id(console, "auditor"), POLICY)
    second = start_session(console.db, reviewer_id, POLICY)
    set_password(console.db, email_of("reviewer"), "a brand new passphrase", hasher=LIGHT_ARGON2)
    assert not session_is_live(console.db, second, reviewer_id, POLICY)
    assert session_is_live(console.db, other, _user_id(console, "auditor"), POLICY)


def test_session_idle_longer_than_the_timeout_is_refused(console: Console) -> None:
    console.ensure_user("reviewer")
    user_id = _user_id(console, "reviewer")
    token = start_session(console.db, user_id, POLICY)
    later = utcnow() + POLICY.idle + timedelta(seconds=1)
    assert not session_is_live(console.db, token, user_id, POLICY, now=later)


def test_using_a_session_keeps_it_from_going_idle(console: Console) -> None:
    console.ensure_user("reviewer")
    user_id = _user_id(console, "reviewer")
    token = start_session(console.db, user_id, POLICY)
    for minutes in (20, 40, 60):  # each use within the idle timeout of the one before
        now = utcnow() + timedelta(minutes=minutes)
        assert session_is_live(console.db, token, user_id, POLICY, now=now)


def test_session_older_than_its_lifetime_is_refused_even_if_used(console: Console) -> None:
    console.ensure_user("reviewer")
    user_id = _user_id(console, "reviewer")
    token = start_session(console.db, user_id, POLICY)
    with console.db.session() as s:
        s.execute(update(ConsoleSessionRow).values(created_at=utcnow() - timedelta(hours=13)))
    assert not session_is_live(console.db, token, user_id, POLICY)


def test_idle_timeout_comes_from_the_settings(settings_with_one_minute_idle: Console) -> None:
    console = settings_with_one_minute_idle
    console.login("reviewer")
    with console.db.session() as s:
        s.execute(update(ConsoleSessionRow).values(last_seen_at=utcnow() - timedelta(minutes=2)))
    assert console.client.get("/console/queue").url.path == "/console/login"


def test_session_token_of_one_user_opens_nothing_for_another(console: Console) -> None:
    console.ensure_user("reviewer")
    console.ensure_user("admin")
    token = start_session(console.db, _user_id(console, "reviewer"), POLICY)
    forged = ConsoleSession(user_id=_user_id(console, "admin"), csrf_token="x", token=token)
    codec = SessionCodec(console_secret(console.settings.home))
    thief = TestClient(console.client.app)
    thief.cookies.set(COOKIE_NAME, codec.encode(forged))
    assert thief.get("/console/queue").url.path == "/console/login"


def test_signed_cookie_without_a_server_session_is_refused(console: Console) -> None:
    """A cookie of the first version (user id and CSRF token only) no longer logs anyone in."""
    console.ensure_user("admin")
    codec = SessionCodec(console_secret(console.settings.home))
    admin = get_user(console.db, _user_id(console, "admin"))
    old = ConsoleSession(user_id=admin.id, csrf_token="x")
    thief = TestClient(console.client.app)
    thief.cookies.set(COOKIE_NAME, codec.encode(old))
    assert thief.get("/console/queue").url.path == "/console/login"


def test_logout_is_audited(console: Console) -> None:
    console.login("reviewer")
    console.client.post("/console/logout", data={"csrf_token": console.csrf("/console/queue")})
    with console.db.session() as s:
        actions = s.scalars(
            select(AuditEntryRow.action).where(AuditEntryRow.actor == email_of("reviewer"))
        ).all()
    assert "logout" in actions


def _login_cookie_header(console: Console) -> str:
    """The Set-Cookie header of a successful login (the form's cookie sent back by hand, since a
    client on plain HTTP keeps a Secure cookie to itself)."""
    console.ensure_user("reviewer")
    form = console.client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]*)"', form.text)
    assert token is not None
    cookie = form.headers["set-cookie"].split(";")[0]
    answer = TestClient(console.client.app, base_url=str(console.client.base_url)).post(
        "/console/login",
        data={"email": email_of("reviewer"), "password": PASSWORD, "csrf_token": token.group(1)},
        headers={"cookie": cookie},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    return answer.headers["set-cookie"]


def test_cookie_is_not_marked_secure_over_plain_http_by_default(console: Console) -> None:
    assert "secure" not in _login_cookie_header(console).lower()


def test_cookie_is_secure_when_the_setting_says_so(secure_cookie_console: Console) -> None:
    header = _login_cookie_header(secure_cookie_console)
    assert "secure" in header.lower() and "httponly" in header.lower()


def test_cookie_is_secure_over_https(console: Console) -> None:
    console.client.base_url = console.client.base_url.copy_with(scheme="https")
    assert "secure" in _login_cookie_header(console).lower()


def test_disabled_users_open_session_is_refused_at_once(console: Console) -> None:
    console.login("reviewer")
    thief = _copied(console)
    set_user_active(console.db, email_of("reviewer"), False)
    assert thief.get("/console/queue").url.path == "/console/login"
    assert console.client.get("/console/queue").url.path == "/console/login"


def test_enabling_a_user_again_does_not_revive_their_old_sessions(console: Console) -> None:
    console.login("reviewer")
    thief = _copied(console)
    set_user_active(console.db, email_of("reviewer"), False)
    set_user_active(console.db, email_of("reviewer"), True)
    assert thief.get("/console/queue").url.path == "/console/login"
