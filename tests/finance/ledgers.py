"""Hand-made ledgers for tests: rows with sensible defaults, written as CSV or Parquet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from safestream.finance.alerts import compute_features
from safestream.finance.engine import DuckDBEngine
from safestream.finance.schema import OPTIONAL_COLUMNS, REQUIRED_COLUMNS
from safestream.finance.scoring import load_scoring

START = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS


def tx(tx_id: str, day: float, **fields: Any) -> dict[str, Any]:
    """One row: a 50 USD remittance from payer A (US) to payee F (PH) at noon UTC on `day`."""
    row: dict[str, Any] = {
        "tx_id": tx_id,
        "ts": (START + timedelta(days=day)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "payer_id": "A",
        "payer_country": "US",
        "payee_id": "F",
        "payee_country": "PH",
        "amount": "50",
        "currency": "USD",
        "channel": "remittance",
        "memo": "",
        "merchant_category": "",
        "payer_age": "55",
    }
    row.update({k: str(v) for k, v in fields.items()})
    return row


def write(path: Path, rows: list[dict[str, Any]], columns: tuple[str, ...] = COLUMNS) -> Path:
    """Write rows as CSV or Parquet (all text columns) by the file's extension."""
    table = pa.table({c: pa.array([r.get(c, "") for r in rows], pa.string()) for c in columns})
    if path.suffix == ".csv":
        pacsv.write_csv(table, path)
    else:
        pq.write_table(table, path)
    return path


def features(path: Path) -> dict[str, dict[str, Any]]:
    """The indicator row of every relevant transaction, keyed by tx_id."""
    engine = DuckDBEngine()
    try:
        engine.load(path)
        compute_features(engine, load_scoring())
        rows = engine.query("SELECT * FROM features").to_pylist()
    finally:
        engine.close()
    return {str(r["tx_id"]): r for r in rows}
