"""The audit log survives database access: HMAC key and signed checkpoint outside it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from safestream.cli import app
from safestream.core.config import Settings
from safestream.store import audit
from safestream.store.database import Database
from safestream.store.models.audit import AuditEntryRow, AuditHeadRow

pytestmark = pytest.mark.usefixtures("home")


def _keyed(settings: Settings, n: int = 4) -> Database:
    db = Database.from_settings(settings)
    db.migrate()
    for i in range(n):
        audit.record(db, actor="r@h.org", action="case.open", subject=f"case:{i}", details={"i": i})
    return db


def test_keyed_chain_verifies_and_keys_are_owner_only(settings: Settings) -> None:
    db = _keyed(settings)
    assert audit.verify(db) == []
    for name in ("audit.key", "audit-signing.key"):
        assert os.stat(Path(settings.home) / name).st_mode & 0o777 == 0o600


def test_truncated_tail_with_head_moved_is_detected(settings: Settings) -> None:
    db = _keyed(settings)
    with db.session() as s:
        third = s.scalars(select(AuditEntryRow.hash).where(AuditEntryRow.seq == 3)).one()
        s.execute(delete(AuditEntryRow).where(AuditEntryRow.seq == 4))
        s.execute(update(AuditHeadRow).values(seq=3, hash=third))
    assert any("checkpoint" in p.problem for p in audit.verify(db))


def test_deleted_head_row_is_detected(settings: Settings) -> None:
    db = _keyed(settings)
    with db.session() as s:
        s.execute(delete(AuditHeadRow))
    assert audit.verify(db) != []


def test_wiped_tables_are_detected(settings: Settings) -> None:
    db = _keyed(settings)
    with db.session() as s:
        s.execute(delete(AuditEntryRow))
        s.execute(delete(AuditHeadRow))
    assert any("checkpoint" in p.problem for p in audit.verify(db))


def test_edit_with_the_chain_recomputed_without_the_key_is_detected(settings: Settings) -> None:
    db = _keyed(settings)
    with db.session() as s:
        rows = s.scalars(select(AuditEntryRow).order_by(AuditEntryRow.seq)).all()
        prev = audit.GENESIS
        for row in rows:
            details = '{"forged":true}' if row.seq == 2 else row.details
            digest = audit.entry_hash(
                prev, row.seq, row.at, row.actor, row.action, row.subject, details
            )
            row.details, row.prev_hash, row.hash, prev = details, prev, digest, digest
        s.execute(update(AuditHeadRow).values(hash=prev))
    assert audit.verify(db) != []


def test_chain_from_before_the_key_is_reported_as_unkeyed_legacy(database: Database) -> None:
    audit.record(database, actor="a", action="x", subject="s")
    check = audit.check(database)
    assert check.problems == [] and check.legacy == 1


def test_cli_reports_legacy_entries_and_keyed_ones_continue_the_chain(settings: Settings) -> None:
    unkeyed = Database(Database.from_settings(settings).url)
    unkeyed.migrate()
    audit.record(unkeyed, actor="a", action="x", subject="s")
    runner = CliRunner()
    assert runner.invoke(app, ["org", "create", "Hotline"]).exit_code == 0
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 0, result.stderr
    assert "1 unkeyed legacy" in result.stderr
    assert json.loads(result.stdout) == {"audit_log": "intact"}
