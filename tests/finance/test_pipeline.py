"""The indicator query: the rows it reads, the columns it keeps, the types of its counts."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from safestream.core.errors import InvalidInput
from safestream.finance.alerts import compute_features, relevant_rows, scoring_columns
from safestream.finance.engine import DuckDBEngine
from safestream.finance.generator import GenerateSummary
from safestream.finance.scoring import load_scoring
from tests.finance.ledgers import tx, write


def _features(ledger: Path, keep_relevant: bool) -> pa.Table:
    engine = DuckDBEngine()
    config = load_scoring()
    engine.load(ledger, relevant=relevant_rows(config) if keep_relevant else None)
    compute_features(engine, config)
    return engine.query("SELECT * FROM features").sort_by("tx_id")


def test_features_from_the_rows_kept_at_load_equal_those_from_the_whole_ledger(
    small_ledger: tuple[Path, Path, GenerateSummary],
) -> None:
    ledger, _, _ = small_ledger
    kept = _features(ledger, keep_relevant=True)
    whole = _features(ledger, keep_relevant=False)
    assert kept.num_rows > 1000
    assert kept.equals(whole)


def test_named_columns_are_the_only_ones_materialised(tmp_path: Path) -> None:
    engine = DuckDBEngine()
    config = load_scoring()
    engine.load(write(tmp_path / "l.csv", [tx("1", 0), tx("2", 3)]))
    compute_features(engine, config, scoring_columns(config))
    columns = engine.query("SELECT * FROM features LIMIT 0").column_names
    assert columns == scoring_columns(config)
    assert "hrj_std_usd_365" not in columns


def test_an_unknown_indicator_column_is_a_clear_error(tmp_path: Path) -> None:
    engine = DuckDBEngine()
    engine.load(write(tmp_path / "l.csv", [tx("1", 0)]))
    with pytest.raises(InvalidInput, match=r"no such indicator column.*low_hrj_7"):
        compute_features(engine, load_scoring(), ["tx_id", "low_hrj_7"])


def test_window_counts_are_32_bit_integers(tmp_path: Path) -> None:
    engine = DuckDBEngine()
    engine.load(write(tmp_path / "l.csv", [tx("1", 0), tx("2", 3)]))
    compute_features(engine, load_scoring())
    schema = engine.query("SELECT * FROM features LIMIT 0").schema
    for name in ("low_hrj_30", "hrj_total", "payees_total", "payee_in_90", "travel_30"):
        assert schema.field(name).type == pa.int32(), name
