"""Ledger schema: bad rows are reported and skipped, structural problems stop with clear errors."""

from __future__ import annotations

from pathlib import Path

import pycountry
import pytest

from safestream.core.errors import InvalidInput
from safestream.finance.currency import Rates
from safestream.finance.engine import DuckDBEngine, LoadReport
from tests.finance.ledgers import COLUMNS, tx, write


def _load(path: Path, rates: Rates | None = None) -> tuple[DuckDBEngine, LoadReport]:
    engine = DuckDBEngine()
    return engine, engine.load(path, rates)


def test_rows_breaking_the_schema_are_reported_by_row_number_and_skipped(tmp_path: Path) -> None:
    rows = [
        tx("1", 0),
        tx("2", 0, ts="yesterday"),
        tx("3", 0, amount="abc"),
        tx("4", 0, channel="teleport"),
        tx("5", 0, amount="-5"),
        tx("6", 0, payer_id=""),
        tx("7", 0, payer_age="200"),
        tx("8", 0, payee_country="Philippines"),
        tx("9", 1),
    ]
    engine, report = _load(write(tmp_path / "l.csv", rows))
    assert report.rows_read == 9
    assert report.rows_kept == 2
    problems = {p.row: p.problem for p in report.problems}
    assert sorted(problems) == [2, 3, 4, 5, 6, 7, 8]
    assert "ts" in problems[2] and "amount" in problems[3] and "channel" in problems[4]
    assert "positive" in problems[5] and "payer_id" in problems[6]
    assert "payer_age" in problems[7] and "payee_country" in problems[8]
    kept = engine.query("SELECT tx_id FROM ledger ORDER BY tx_id")["tx_id"].to_pylist()
    assert kept == ["1", "9"]


def test_missing_required_column_is_a_clear_error(tmp_path: Path) -> None:
    columns = tuple(c for c in COLUMNS if c not in ("amount", "channel"))
    path = write(tmp_path / "l.csv", [tx("1", 0)], columns)
    with pytest.raises(InvalidInput, match="amount, channel"):
        _load(path)


def test_rows_in_an_unknown_currency_are_skipped_and_reported_by_number(tmp_path: Path) -> None:
    path = write(tmp_path / "l.csv", [tx("1", 0), tx("2", 0, currency="XYZ")])
    engine, report = _load(path)
    assert [(p.row, p.problem.split(":")[0]) for p in report.problems] == [
        (2, "unknown currency XYZ")
    ]
    assert engine.query("SELECT tx_id FROM ledger")["tx_id"].to_pylist() == ["1"]


def test_norwegian_krone_is_converted_by_the_shipped_table(tmp_path: Path) -> None:
    path = write(tmp_path / "l.csv", [tx("1", 0, amount="100", currency="NOK", payer_country="NO")])
    engine, report = _load(path)
    assert report.problems == []
    usd = engine.query("SELECT amount_usd FROM ledger")["amount_usd"].to_pylist()[0]
    assert 5 < usd < 20


def test_the_shipped_rates_cover_every_iso_4217_currency_in_circulation() -> None:
    funds_metals_and_tests = {
        "BOV", "CHE", "CHW", "CLF", "COU", "MXV", "USN", "UYI", "UYW", "XAD", "XAG", "XAU",
        "XBA", "XBB", "XBC", "XBD", "XDR", "XPD", "XPT", "XSU", "XTS", "XUA", "XXX",
    }  # fmt: skip
    circulating = sorted({c.alpha_3 for c in pycountry.currencies} - funds_metals_and_tests)
    assert Rates.load().unknown(circulating) == []


def test_optional_columns_may_be_absent(tmp_path: Path) -> None:
    columns = tuple(c for c in COLUMNS if c not in ("memo", "merchant_category", "payer_age"))
    _engine, report = _load(write(tmp_path / "l.csv", [tx("1", 0)], columns))
    assert report.rows_kept == 1


def test_amounts_are_converted_with_a_replaced_rates_table(tmp_path: Path) -> None:
    rates_file = tmp_path / "rates.csv"
    rates_file.write_text("currency,usd_per_unit\nUSD,1\nAUD,0.5\n")
    path = write(tmp_path / "l.csv", [tx("1", 0, amount="80", currency="AUD")])
    engine, _ = _load(path, Rates.load(rates_file))
    assert engine.query("SELECT amount_usd FROM ledger")["amount_usd"].to_pylist() == [40.0]


def test_default_rates_know_the_corridor_currencies() -> None:
    rates = Rates.load()
    assert rates.unknown(["USD", "AUD", "PHP", "THB", "GBP", "EUR", "CAD"]) == []
    with pytest.raises(InvalidInput):
        rates.to_usd("XYZ")


def test_rates_file_with_a_bad_rate_is_rejected(tmp_path: Path) -> None:
    rates_file = tmp_path / "rates.csv"
    rates_file.write_text("currency,usd_per_unit\nUSD,zero\n")
    with pytest.raises(InvalidInput, match="line 2"):
        Rates.load(rates_file)


def test_timestamps_with_an_offset_are_read_as_utc(tmp_path: Path) -> None:
    path = write(tmp_path / "l.csv", [tx("1", 0, ts="2024-01-01T10:00:00+02:00")])
    engine, _ = _load(path)
    assert engine.query("SELECT t FROM ledger")["t"].to_pylist() == [1704096000]


def test_parquet_and_csv_ledgers_load_alike(tmp_path: Path) -> None:
    rows = [tx("1", 0), tx("2", 3, amount="bad"), tx("3", 5, amount="20")]
    tables = []
    for name in ("l.csv", "l.parquet"):
        engine, report = _load(write(tmp_path / name, rows))
        assert [p.row for p in report.problems] == [2]
        tables.append(engine.query("SELECT tx_id, t, amount_usd FROM ledger ORDER BY tx_id"))
    assert tables[0].to_pylist() == tables[1].to_pylist()


def test_a_file_that_is_not_a_ledger_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "l.txt"
    path.write_text("hello")
    with pytest.raises(InvalidInput, match=r"parquet or \.csv"):
        _load(path)


def test_the_checking_pass_keeps_the_relevant_rows_and_still_reports_bad_ones(
    tmp_path: Path,
) -> None:
    rows = [
        tx("1", 0),
        tx("2", 0, payee_country="US", payee_id="shop"),
        tx("3", 0, amount="abc"),
        tx("4", 1, payee_country="US", payee_id="shop", merchant_category="vpn"),
    ]
    engine = DuckDBEngine()
    report = engine.load(
        write(tmp_path / "l.csv", rows), relevant="dest_risk > 0 OR merchant_category = 'vpn'"
    )
    assert [p.row for p in report.problems] == [3]
    kept = engine.query("SELECT tx_id FROM ledger_relevant ORDER BY tx_id")["tx_id"].to_pylist()
    assert kept == ["1", "4"]
    every = engine.query("SELECT tx_id FROM ledger ORDER BY tx_id")["tx_id"].to_pylist()
    assert every == ["1", "2", "4"]


def test_an_unknown_currency_skips_rows_when_relevant_rows_are_kept(tmp_path: Path) -> None:
    path = write(tmp_path / "l.csv", [tx("1", 0, currency="XXX"), tx("2", 0)])
    engine = DuckDBEngine()
    report = engine.load(path, relevant="dest_risk > 0")
    assert [p.row for p in report.problems] == [1]
    kept = engine.query("SELECT tx_id FROM ledger_relevant")["tx_id"].to_pylist()
    assert kept == ["2"]
