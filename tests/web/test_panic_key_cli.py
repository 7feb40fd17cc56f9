"""`safestream panic-key ORG` prints a key the panic endpoint accepts, and the tag to embed it."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from safestream.api.web.panic_keys import PanicKeys
from safestream.api.web.session import load_or_create_secret
from safestream.cli import app
from safestream.core.config import Settings
from safestream.store.access import create_org
from safestream.store.database import Database


def test_panic_key_names_the_organisation_and_prints_the_script_tag(home: Path) -> None:
    db = Database.from_settings(Settings.from_env())
    db.migrate()
    org = create_org(db, "Example Call Co")
    db.dispose()
    result = CliRunner().invoke(
        app, ["panic-key", "Example Call Co", "--base-url", "https://safety.example"]
    )
    assert result.exit_code == 0, result.output
    key = json.loads(result.stdout)["panic_key"]
    assert PanicKeys(load_or_create_secret(home)).org_of(key) == org.id
    assert 'src="https://safety.example/static/panic-button.js"' in result.output


def test_panic_key_for_an_unknown_organisation_fails_clearly(home: Path) -> None:
    result = CliRunner().invoke(app, ["panic-key", "Nobody"])
    assert result.exit_code != 0
    assert "no organisation named 'Nobody'" in result.output
