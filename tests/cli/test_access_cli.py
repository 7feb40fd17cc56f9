"""`safestream user`, `apikey`: ending what a leaked password, cookie or key could still open."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from safestream.cli import app
from safestream.core.config import Settings
from safestream.core.principal import Principal
from safestream.store import audit
from safestream.store.access import authenticate_user, org_for_api_key
from safestream.store.database import Database
from safestream.store.sessions import SessionPolicy, session_is_live, start_session

runner = CliRunner()
PASSWORD = "a long test passphrase"
NEW_PASSWORD = "another long passphrase"
SYSTEM = Principal.system("test")
POLICY = SessionPolicy(idle=timedelta(minutes=30), lifetime=timedelta(hours=12))


def _run(*args: str) -> dict[str, object]:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


@pytest.fixture
def db(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Database:
    """A hotline with one reviewer, made through the CLI."""
    monkeypatch.setenv("SAFESTREAM_PASSWORD", PASSWORD)
    _run("org", "create", "Hotline", "--kind", "operator")
    _run("user", "add", "rev@hotline.org", "--org", "Hotline", "--role", "reviewer")
    return Database.from_settings(settings)


def test_set_password_ends_the_users_open_sessions(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = authenticate_user(db, "rev@hotline.org", PASSWORD)
    assert user is not None
    token = start_session(db, user.id, POLICY)
    monkeypatch.setenv("SAFESTREAM_PASSWORD", NEW_PASSWORD)
    answer = _run("user", "set-password", "rev@hotline.org")
    assert answer["sessions_ended"] == 1
    assert not session_is_live(db, token, user.id, POLICY)
    assert authenticate_user(db, "rev@hotline.org", PASSWORD) is None
    assert authenticate_user(db, "rev@hotline.org", NEW_PASSWORD) is not None
    assert any(e.action == "user.set_password" for e in audit.entries(db, SYSTEM))


def test_user_disable_ends_sessions_and_refuses_login(db: Database) -> None:
    user = authenticate_user(db, "rev@hotline.org", PASSWORD)
    assert user is not None
    token = start_session(db, user.id, POLICY)
    answer = _run("user", "disable", "rev@hotline.org")
    assert answer["active"] is False and answer["sessions_ended"] == 1
    assert not session_is_live(db, token, user.id, POLICY)
    assert authenticate_user(db, "rev@hotline.org", PASSWORD) is None
    assert any(e.action == "user.disable" for e in audit.entries(db, SYSTEM))


def test_user_enable_lets_a_disabled_user_log_in_again(db: Database) -> None:
    _run("user", "disable", "rev@hotline.org")
    assert _run("user", "enable", "rev@hotline.org")["active"] is True
    assert authenticate_user(db, "rev@hotline.org", PASSWORD) is not None


def test_user_list_shows_who_is_disabled(db: Database) -> None:
    _run("user", "disable", "rev@hotline.org")
    result = runner.invoke(app, ["user", "list"])
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(u["user"], u["active"]) for u in lines] == [("rev@hotline.org", False)]


def test_disabling_an_unknown_user_fails_clearly(db: Database) -> None:
    result = runner.invoke(app, ["user", "disable", "nobody@hotline.org"])
    assert result.exit_code != 0
    assert "no user 'nobody@hotline.org'" in result.stderr


def test_apikey_revoke_stops_the_key_and_is_audited(db: Database) -> None:
    issued = _run("apikey", "create", "Hotline")
    revoked = _run("apikey", "revoke", str(issued["id"]))
    assert revoked["revoked_at"] is not None
    assert org_for_api_key(db, str(issued["api_key"])) is None
    assert any(
        e.action == "apikey.revoke" and e.subject == f"apikey:{issued['id']}"
        for e in audit.entries(db, SYSTEM)
    )


def test_apikey_revoked_twice_says_so(db: Database) -> None:
    issued = _run("apikey", "create", "Hotline")
    _run("apikey", "revoke", str(issued["id"]))
    result = runner.invoke(app, ["apikey", "revoke", str(issued["id"])])
    assert result.exit_code != 0
    assert "revoked already" in result.stderr


def test_apikey_rotate_revokes_the_old_key_and_prints_a_working_new_one(db: Database) -> None:
    old = _run("apikey", "create", "Hotline")
    new = _run("apikey", "rotate", str(old["id"]))
    assert new["revoked"] == old["id"] and new["id"] != old["id"]
    assert org_for_api_key(db, str(old["api_key"])) is None
    org = org_for_api_key(db, str(new["api_key"]))
    assert org is not None and org.name == "Hotline"


def test_apikey_list_shows_prefixes_never_keys(db: Database) -> None:
    first = _run("apikey", "create", "Hotline")
    _run("apikey", "rotate", str(first["id"]))
    result = runner.invoke(app, ["apikey", "list", "Hotline"])
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["revoked_at"] is None for line in lines] == [False, True]
    assert str(first["api_key"]) not in result.stdout
    assert all(str(first["api_key"]).startswith(line["prefix"]) for line in lines[:1])
