"""A small synthetic ledger shared by the finance tests that need realistic traffic."""

from __future__ import annotations

from pathlib import Path

import pytest

from safestream.finance.generator import GenerateSummary, generate, load_config


@pytest.fixture(scope="session")
def small_ledger(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, GenerateSummary]:
    """About 60k rows: 1,500 payers over a year, with offenders over-sampled to 3%."""
    folder = tmp_path_factory.mktemp("finance")
    config = load_config()
    config["payers"] = 1500
    config["days"] = 365
    config["population"]["offender"] = 0.03
    ledger, labels = folder / "ledger.parquet", folder / "labels.csv"
    summary = generate(ledger, labels, seed=11, config=config)
    return ledger, labels, summary
