"""`safestream panic-key create|list|revoke|rotate`: printed once, bound, revocable, audited."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from safestream.cli import app
from safestream.core.config import Settings
from safestream.core.principal import Principal
from safestream.store import audit
from safestream.store.access import create_org
from safestream.store.database import Database
from safestream.store.panic_keys import panic_key_info

CREATE = [
    "panic-key", "create", "Example Call Co",
    "--origin", "https://calls.example", "--origin", "https://www.calls.example",
    "--stream-prefix", "examplecall-",
]  # fmt: skip


def _db() -> Database:
    db = Database.from_settings(Settings.from_env())
    db.migrate()
    return db


def _run(*args: str) -> tuple[dict[str, Any], str]:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1]), result.output


def test_create_prints_a_bound_key_once_and_the_script_tag(home: Path) -> None:
    db = _db()
    create_org(db, "Example Call Co")
    issued, output = _run(*CREATE, "--base-url", "https://safety.example")
    info = panic_key_info(db, issued["panic_key"])
    assert info is not None and info.org.name == "Example Call Co"
    assert issued["origins"] == ["https://calls.example", "https://www.calls.example"]
    assert issued["stream_prefix"] == "examplecall-"
    assert 'src="https://safety.example/static/panic-button.js"' in output
    assert 'data-stream-id="examplecall-CALL-ID"' in output


def test_list_never_prints_the_key(home: Path) -> None:
    create_org(_db(), "Example Call Co")
    issued, _ = _run(*CREATE)
    result = CliRunner().invoke(app, ["panic-key", "list"])
    assert issued["panic_key"] not in result.stdout
    assert json.loads(result.stdout)["id"] == issued["id"]


def test_revoke_and_rotate_end_the_old_key_and_are_audited(home: Path) -> None:
    db = _db()
    create_org(db, "Example Call Co")
    first, _ = _run(*CREATE)
    second, _ = _run("panic-key", "rotate", str(first["id"]))
    assert panic_key_info(db, first["panic_key"]) is None
    assert panic_key_info(db, second["panic_key"]) is not None
    _run("panic-key", "revoke", str(second["id"]))
    assert panic_key_info(db, second["panic_key"]) is None
    actions = [e.action for e in audit.entries(db, Principal.system("test"))]
    assert {"panic_key.create", "panic_key.rotate", "panic_key.revoke"} <= set(actions)


def test_create_for_an_unknown_organisation_fails_clearly(home: Path) -> None:
    _db()
    result = CliRunner().invoke(
        app,
        ["panic-key", "create", "Nobody", "--origin", "https://x.example", "--stream-prefix", "x-"],
    )
    assert result.exit_code != 0
    assert "no organisation named 'Nobody'" in result.output


def test_create_without_an_origin_is_a_usage_error(home: Path) -> None:
    result = CliRunner().invoke(app, ["panic-key", "create", "Acme", "--stream-prefix", "x-"])
    assert result.exit_code == 2
