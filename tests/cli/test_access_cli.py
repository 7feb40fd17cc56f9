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
from safestream.store.access import authenticate_user
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
