"""`safestream cybertip`: export, submit to the local test server over HTTP, status."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from safestream.cli import app
from safestream.core.banks import Classification, Match
from safestream.core.config import Settings
from safestream.demo import seed_console
from safestream.reports.cybertip_schema import schema_errors
from safestream.reports.ncmec_test_server import TestServerState
from safestream.store import Database
from safestream.store.models.cases import CaseRow
from tests.reports.builders import PDQ_A
from tests.reports.ncmec_server import running_test_server

runner = CliRunner()
COMPANY = ["--company", "Demo Video Calls", "--contact-email", "safety@demo.example"]


@pytest.fixture
def test_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[TestServerState]:
    with running_test_server(monkeypatch) as state:
        yield state


def json_lines(stdout: str) -> list[dict[str, Any]]:
    """Every line of stdout is one JSON object."""
    return [json.loads(line) for line in stdout.splitlines()]


@pytest.fixture
def demo_cases(settings: Settings) -> list[int]:
    db = Database.from_settings(settings)
    db.migrate()
    seed_console(settings, db, [("clip.mp4", Match("known-demo", 1, PDQ_A, 3, Classification.A1))])
    with db.session() as s:
        ids = list(s.scalars(select(CaseRow.id).where(CaseRow.status == "open")).all())
    db.dispose()
    return ids


def test_export_writes_valid_xml_per_reported_account(
    demo_cases: list[int], tmp_path: Path
) -> None:
    result = runner.invoke(
        app, ["cybertip", "export", str(demo_cases[0]), "--out", str(tmp_path), *COMPANY]
    )
    assert result.exit_code == 0, result.output
    files = sorted(tmp_path.glob("*.xml"))
    assert files
    assert sorted(line["file"] for line in json_lines(result.stdout)) == [str(f) for f in files]
    assert all(schema_errors(f.read_bytes()) == [] for f in files)


def test_every_demo_case_is_accepted_by_the_test_server_and_its_id_shows_in_status(
    demo_cases: list[int], test_server: TestServerState
) -> None:
    for case_id in demo_cases:
        result = runner.invoke(app, ["cybertip", "submit", str(case_id), *COMPANY])
        assert result.exit_code == 0, result.output
        assert {line["state"] for line in json_lines(result.stdout)} == {"finished"}
    assert test_server.reports and all(r.finished for r in test_server.reports.values())
    status = runner.invoke(app, ["cybertip", "status", "--check"])
    assert status.exit_code == 0, status.output
    shown = {line["ncmec_report_id"] for line in json_lines(status.stdout)}
    assert shown == set(test_server.reports)


def test_submit_without_credentials_says_which_variables_to_set(
    demo_cases: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SAFESTREAM_NCMEC_TEST_USERNAME", raising=False)
    result = runner.invoke(app, ["cybertip", "submit", str(demo_cases[0]), *COMPANY])
    assert result.exit_code != 0
    assert "SAFESTREAM_NCMEC_TEST_USERNAME" in result.output
