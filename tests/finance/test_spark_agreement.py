"""Spark runs the same indicator and score definitions as DuckDB, with identical results."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from safestream.finance.alerts import score_accounts
from safestream.finance.engine import DuckDBEngine, LedgerEngine
from safestream.finance.generator import generate, load_config
from safestream.finance.scoring import load_scoring

# About a minute on an idle 2-core machine (mostly JVM start and query planning); the timeout
# leaves room for a machine shared with other jobs.
pytestmark = [pytest.mark.spark, pytest.mark.slow, pytest.mark.timeout(900)]


def _scores(engine: LedgerEngine, ledger: Path) -> list[dict[str, object]]:
    engine.load(ledger)
    table = score_accounts(engine, load_scoring()).table
    return table.sort_by([("role", "ascending"), ("account_id", "ascending")]).to_pylist()


@pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java")
def test_spark_and_duckdb_give_the_same_accounts_scores_reasons_and_first_flags(
    tmp_path: Path,
) -> None:
    from safestream.finance.spark_engine import SparkEngine

    config = load_config()
    config.update(payers=150, days=365)
    config["population"]["offender"] = 0.06
    ledger = tmp_path / "ledger.parquet"
    generate(ledger, tmp_path / "labels.csv", seed=5, config=config)
    duck = _scores(DuckDBEngine(), ledger)
    spark = SparkEngine.local(2, 1, small=True)
    try:
        other = _scores(spark, ledger)
    finally:
        spark.close()
    assert len(duck) == len(other) > 20
    assert any(r["first_flag_tx_id"] for r in duck)
    for a, b in zip(duck, other, strict=True):
        assert (a["role"], a["account_id"]) == (b["role"], b["account_id"])
        assert a["score"] == pytest.approx(b["score"], rel=1e-12, abs=1e-12)
        assert a["reasons"] == b["reasons"]
        assert a["first_flag_tx_id"] == b["first_flag_tx_id"]
        assert a["baseline_tx_id"] == b["baseline_tx_id"]
