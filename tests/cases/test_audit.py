"""The audit log is a SHA-256 chain: edits, removals and truncation are detected."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import delete, update
from typer.testing import CliRunner

from safestream.cli import app
from safestream.core.config import Settings
from safestream.core.principal import Principal
from safestream.store import audit
from safestream.store.database import Database
from safestream.store.models.audit import AuditEntryRow

SYSTEM = Principal.system("test")


def _log(db: Database, n: int = 4) -> None:
    for i in range(n):
        audit.record(db, actor="r@h.org", action="case.open", subject=f"case:{i}", details={"i": i})


def test_intact_chain_verifies(database: Database) -> None:
    _log(database)
    assert audit.verify(database) == []


def test_edited_entry_is_detected(database: Database) -> None:
    _log(database)
    with database.session() as s:
        s.execute(update(AuditEntryRow).where(AuditEntryRow.seq == 2).values(actor="someone@else"))
    assert [(p.seq, p.problem) for p in audit.verify(database)] == [
        (2, "content was edited (hash mismatch)")
    ]


def test_removed_entry_is_detected(database: Database) -> None:
    _log(database)
    with database.session() as s:
        s.execute(delete(AuditEntryRow).where(AuditEntryRow.seq == 2))
    problems = audit.verify(database)
    assert problems and problems[0].seq == 2


def test_removed_last_entry_is_detected(database: Database) -> None:
    _log(database)
    with database.session() as s:
        s.execute(delete(AuditEntryRow).where(AuditEntryRow.seq == 4))
    assert audit.verify(database) != []


def test_entries_are_numbered_without_gaps(database: Database) -> None:
    _log(database, 3)
    assert [e.seq for e in audit.entries(database, SYSTEM)] == [3, 2, 1]


@pytest.mark.usefixtures("home")
def test_cli_audit_verify_fails_on_a_tampered_log(settings: Settings) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["org", "create", "Hotline"]).exit_code == 0
    assert json.loads(runner.invoke(app, ["audit", "verify"]).stdout) == {"audit_log": "intact"}
    db = Database.from_settings(settings)
    with db.session() as s:
        s.execute(update(AuditEntryRow).values(details='{"forged":true}'))
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert "NOT intact" in result.stderr
