"""Alerts filed to the store as detector reports that link payment accounts into cases."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from safestream.finance.alerts import alerts_table, score_accounts
from safestream.finance.engine import DuckDBEngine
from safestream.finance.reporting import file_alerts, report_for
from safestream.finance.scoring import load_scoring
from safestream.store import Database
from safestream.store.models.reports import ReportRow
from tests.finance.ledgers import tx, write


def _ring(tmp_path: Path) -> Path:
    """Five payers each paying facilitator F small amounts often: all are flagged."""
    rows = []
    for p in range(5):
        rows += [tx(f"{p}-{i:02d}", p + i * 3, payer_id=f"P{p}", amount="30") for i in range(12)]
    return write(tmp_path / "ring.csv", rows)


def test_alerts_become_reports_that_put_payers_and_their_payee_in_one_case(
    tmp_path: Path, database: Database
) -> None:
    engine = DuckDBEngine()
    engine.load(_ring(tmp_path))
    alerts = alerts_table(score_accounts(engine, load_scoring()))
    flagged = {(r["role"], r["account_id"]) for r in alerts.to_pylist()}
    assert ("payee", "F") in flagged and ("payer", "P0") in flagged
    filed = file_alerts(engine, alerts, database)
    assert len(filed) == alerts.num_rows
    assert len({f.case_id for f in filed}) == 1
    assert all(f.case_id is not None for f in filed)


def test_filing_the_same_alerts_again_adds_no_reports(tmp_path: Path, database: Database) -> None:
    engine = DuckDBEngine()
    engine.load(_ring(tmp_path))
    alerts = alerts_table(score_accounts(engine, load_scoring()))
    first = file_alerts(engine, alerts, database)
    again = file_alerts(engine, alerts, database)
    assert [f.report_id for f in first] == [f.report_id for f in again]
    with database.session() as s:
        assert len(s.scalars(select(ReportRow)).all()) == len(first)


def test_a_report_names_the_account_its_counterparties_and_the_reasons() -> None:
    alert = {
        "role": "payer",
        "account_id": "P1",
        "score": 7.5,
        "rank": 1,
        "reasons": "low_value_hrj_30=5 (+1.67): ...",
        "first_flag_tx_id": "42",
    }
    report = report_for(alert, ["F1", "F2"])
    assert report.payment_accounts == ["P1", "F1", "F2"]
    assert "low_value_hrj_30" in report.description and "42" in report.description
    assert report.idempotency_key == "finance:payer:P1"
