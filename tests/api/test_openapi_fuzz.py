"""Schemathesis drives every operation of the published OpenAPI spec: no answer is a 500."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from safestream.api.app import create_app
from safestream.core.config import Settings
from safestream.store.access import create_api_key, create_org
from safestream.store.database import Database
from safestream.store.reports import ReportRepository

# Bounded so the suite stays fast; raise locally to fuzz harder.
EXAMPLES = 40


@pytest.mark.slow
def test_no_operation_answers_500(database_url: str, tmp_path: Path) -> None:
    db = Database(database_url)
    db.migrate()
    create_org(db, "Fuzz")
    headers = {"Authorization": f"Bearer {create_api_key(db, 'Fuzz').key}"}
    app = create_app(
        Settings(home=tmp_path / "home", database_url=database_url),
        database=db,
        migrate=False,
        link_in_background=False,
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        try:
            check()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.label}: {exc}")
    assert failures == []
    # Linking whatever the fuzzer managed to store must not fail either.
    app.state.engine.process_pending()
    assert ReportRepository(db).pending_ids() == []
    db.dispose()
