"""Administration from the command line: organisations, API keys, users."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from safestream.cli import app
from safestream.core.config import Settings
from safestream.store.access import authenticate_user, org_for_api_key
from safestream.store.database import Database
from safestream.store.models.access import ApiKeyRow, UserRow

runner = CliRunner()


@pytest.fixture
def db(settings: Settings) -> Database:
    assert runner.invoke(app, ["org", "create", "Hotline"]).exit_code == 0
    return Database.from_settings(settings)


def test_apikey_is_printed_once_and_stored_hashed(db: Database) -> None:
    result = runner.invoke(app, ["apikey", "create", "Hotline"])
    assert result.exit_code == 0
    key = json.loads(result.stdout)["api_key"]
    org = org_for_api_key(db, key)
    assert org is not None and org.name == "Hotline"
    with db.session() as s:
        stored = s.scalars(select(ApiKeyRow.key_hash)).all()
    assert key not in stored and len(stored) == 1


def test_apikey_for_unknown_org_fails_clearly(db: Database) -> None:
    result = runner.invoke(app, ["apikey", "create", "Nobody"])
    assert result.exit_code == 1
    assert "no organisation named 'Nobody'" in result.stderr


def test_duplicate_org_fails(db: Database) -> None:
    result = runner.invoke(app, ["org", "create", "Hotline"])
    assert result.exit_code == 1
    assert "already exists" in result.stderr


def test_user_add_stores_an_argon2_hash_and_can_sign_in(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAFESTREAM_PASSWORD", "a long test passphrase")
    result = runner.invoke(
        app,
        ["user", "add", "Rev@Hotline.org", "--org", "Hotline", "--role", "child_safety_reviewer"],
    )
    assert result.exit_code == 0, result.stderr
    with db.session() as s:
        assert s.scalars(select(UserRow.password_hash)).one().startswith("$argon2id$")
    user = authenticate_user(db, "rev@hotline.org", "a long test passphrase")
    assert user is not None and user.role.value == "child_safety_reviewer"
    assert authenticate_user(db, "rev@hotline.org", "wrong passphrase!") is None


def test_user_add_with_unknown_role_fails(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAFESTREAM_PASSWORD", "a long test passphrase")
    result = runner.invoke(app, ["user", "add", "x@h.org", "--org", "Hotline", "--role", "boss"])
    assert result.exit_code == 1
    assert "unknown role 'boss'" in result.stderr
