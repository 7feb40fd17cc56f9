"""`safestream finance generate | score | evaluate`, driven in-process through Typer."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from typer.testing import CliRunner

from safestream.cli import app
from safestream.finance.generator import GenerateSummary
from tests.finance.ledgers import tx, write

runner = CliRunner()


def test_generate_writes_a_ledger_and_labels(tmp_path: Path) -> None:
    out, labels = tmp_path / "l.parquet", tmp_path / "labels.csv"
    result = runner.invoke(
        app,
        [
            "finance",
            "generate",
            "--seed",
            "3",
            "--out",
            str(out),
            "--labels",
            str(labels),
            "--payers",
            "300",
            "--days",
            "120",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "300 payers" in result.output
    assert pq.read_metadata(out).num_rows > 1000
    assert labels.read_text().startswith("account_id,role,label,kind")


def test_score_writes_ranked_alerts_with_reasons_and_first_flags(
    tmp_path: Path, small_ledger: tuple[Path, Path, GenerateSummary]
) -> None:
    ledger, _, _ = small_ledger
    out = tmp_path / "alerts.parquet"
    result = runner.invoke(app, ["finance", "score", str(ledger), "--out", str(out)])
    assert result.exit_code == 0, result.output
    alerts = pq.read_table(out)
    assert alerts.column_names == [
        "role",
        "account_id",
        "score",
        "rank",
        "reasons",
        "first_flag_tx_id",
        "probability",
    ]
    rows = alerts.to_pylist()
    assert {r["role"] for r in rows} == {"payer", "payee"}
    payers = [r for r in rows if r["role"] == "payer"]
    assert [r["rank"] for r in payers] == list(range(1, len(payers) + 1))
    assert all(a["score"] >= b["score"] for a, b in itertools.pairwise(payers))
    assert all(r["reasons"] and r["first_flag_tx_id"] for r in rows)
    assert all(r["score"] >= 4.0 for r in rows)


def test_score_writes_csv_when_asked_by_extension(
    tmp_path: Path, small_ledger: tuple[Path, Path, GenerateSummary]
) -> None:
    ledger, _, _ = small_ledger
    out = tmp_path / "alerts.csv"
    result = runner.invoke(
        app, ["finance", "score", str(ledger), "--out", str(out), "--no-network"]
    )
    assert result.exit_code == 0, result.output
    assert pacsv.read_csv(out).num_rows > 0


def test_score_reports_skipped_rows_by_number(tmp_path: Path) -> None:
    ledger = write(tmp_path / "l.csv", [tx("1", 0), tx("2", 1, amount="x"), tx("3", 2)])
    result = runner.invoke(app, ["finance", "score", str(ledger), "--out", str(tmp_path / "a.csv")])
    assert result.exit_code == 0, result.output
    assert "row 2: amount is missing or not a number" in result.output


def test_score_skips_rows_in_an_unknown_currency_and_names_them(tmp_path: Path) -> None:
    ledger = write(tmp_path / "l.csv", [tx("1", 0), tx("2", 1, currency="XYZ")])
    result = runner.invoke(app, ["finance", "score", str(ledger), "--out", str(tmp_path / "a.csv")])
    assert result.exit_code == 0, result.output
    assert "row 2: unknown currency XYZ" in result.output


def test_known_accounts_seed_the_network(tmp_path: Path) -> None:
    # Two payers share payee F; only the known one is flagged by nothing but the network.
    rows = [tx("1", 0, payer_id="K"), tx("2", 1, payer_id="B", payer_country="AU", currency="AUD")]
    ledger = write(tmp_path / "l.csv", rows)
    known = tmp_path / "known.txt"
    known.write_text("K\n")
    out = tmp_path / "a.csv"
    weights = tmp_path / "w.yaml"
    weights.write_text("flag_threshold: 1.0\nnetwork: {weight: 10.0}\n")
    result = runner.invoke(
        app,
        [
            "finance",
            "score",
            str(ledger),
            "--out",
            str(out),
            "--known",
            str(known),
            "--weights",
            str(weights),
        ],
    )
    assert result.exit_code == 0, result.output
    flagged = {(r["role"], r["account_id"]): r for r in pacsv.read_csv(out).to_pylist()}
    assert ("payee", "F") in flagged
    assert ("payer", "B") in flagged
    assert "network" in flagged[("payer", "B")]["reasons"]
    assert flagged[("payer", "B")]["first_flag_tx_id"] == 2
    assert ("payer", "K") not in flagged or "network" in flagged[("payer", "K")]["reasons"]


def test_evaluate_prints_the_figures_beside_the_baseline(
    small_ledger: tuple[Path, Path, GenerateSummary],
) -> None:
    ledger, labels, _ = small_ledger
    result = runner.invoke(app, ["finance", "evaluate", str(ledger), str(labels)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    detectors = {(r["role"], r["detector"]) for r in rows}
    assert {("payer", "safestream"), ("payee", "safestream")} <= detectors
    assert any(d.startswith("baseline") for _, d in detectors)
    assert all(set(r["precision_at"]) == {"50", "100", "500"} for r in rows)
    for text in ("P@50", "PR-AUC", "recall", "baseline"):
        assert text in result.stderr


def test_building_the_command_line_does_not_import_duckdb() -> None:
    code = (
        "import sys; import safestream.cli; "
        "assert 'duckdb' not in sys.modules, 'duckdb imported at start-up'"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_finance_help_lists_the_commands() -> None:
    result = runner.invoke(app, ["finance", "--help"])
    assert result.exit_code == 0, result.output
    for command in ("generate", "score", "evaluate"):
        assert command in result.output
