"""`safestream finance ...`: generate a synthetic ledger, score it, evaluate against labels."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from safestream.cli import context
from safestream.cli.output import emit, note
from safestream.core.errors import InvalidInput

# DuckDB, Arrow and the scoring code load inside the commands: every `safestream` command
# builds this app, and importing them here cost about 400 ms on each one.
if TYPE_CHECKING:
    import pyarrow as pa

    from safestream.finance.alerts import ScoredAccounts
    from safestream.finance.engine import LedgerEngine, LoadReport
    from safestream.finance.scoring import ScoringConfig

finance_app = typer.Typer(
    name="finance",
    help="Find payers and payees of live-streamed abuse in transaction records."
    "\n\n\b\nExamples:\n"
    "  safestream finance score ledger.parquet --out alerts.parquet\n",
    no_args_is_help=True,
)

SHOWN_PROBLEMS = 20


def _report_load(report: LoadReport) -> None:
    typer.echo(f"read {report.rows_read} rows, kept {report.rows_kept}", err=True)
    if report.problems:
        typer.echo(f"skipped {len(report.problems)} row(s) that break the schema:", err=True)
        for p in report.problems[:SHOWN_PROBLEMS]:
            typer.echo(f"  row {p.row}: {p.problem}", err=True)
        if len(report.problems) > SHOWN_PROBLEMS:
            typer.echo(f"  ... and {len(report.problems) - SHOWN_PROBLEMS} more", err=True)


def _engine(
    name: str, threads: int | None, memory: str | None, spill: Path | None = None
) -> LedgerEngine:
    from safestream.finance.engine import DuckDBEngine

    if name == "duckdb":
        return DuckDBEngine(threads=threads, memory_limit=memory, spill_directory=spill)
    if name == "spark":
        from safestream.finance.spark_engine import SparkEngine

        spark: LedgerEngine = SparkEngine.local(threads or 2)
        return spark
    raise InvalidInput(f"unknown engine {name!r} (duckdb or spark)")


def _known(path: Path | None) -> set[str]:
    if path is None:
        return set()
    try:
        return {line.strip() for line in path.read_text().splitlines() if line.strip()}
    except OSError as exc:
        raise InvalidInput(f"cannot read known accounts {path}: {exc}") from exc


@finance_app.command()
def generate(
    out: Path = typer.Option(..., "--out", help="Ledger to write (.parquet or .csv)."),
    labels: Path = typer.Option(..., "--labels", help="Label file to write (CSV)."),
    seed: int = typer.Option(7, "--seed", help="Random seed; the same seed gives the same ledger."),
    config: Path | None = typer.Option(None, "--config", help="YAML overriding the defaults."),
    payers: int | None = typer.Option(None, "--payers", help="Number of payers."),
    days: int | None = typer.Option(None, "--days", help="Length of the ledger in days."),
    offender_share: float | None = typer.Option(
        None, "--offender-share", help="Share of payers who are offenders."
    ),
) -> None:
    """Write a synthetic ledger and its labels.

    \b
    Example:
      safestream finance generate --out ledger.parquet --labels labels.csv --payers 20000
    """
    from safestream.finance.generator import generate as run
    from safestream.finance.generator import load_config

    cfg = load_config(config)
    if payers is not None:
        cfg["payers"] = payers
    if days is not None:
        cfg["days"] = days
    if offender_share is not None:
        cfg["population"]["offender"] = offender_share
    summary = run(out, labels, seed, cfg)
    emit(
        {"ledger": str(out), "labels": str(labels), "rows": summary.rows,
         "payers": summary.payers, "offenders": summary.offenders,
         "facilitators": summary.facilitators, "seconds": round(summary.seconds, 3)}
    )  # fmt: skip
    note(
        f"wrote {summary.rows} rows for {summary.payers} payers ({summary.offenders} offenders,"
        f" {summary.facilitators} facilitators) in {summary.seconds:.1f} s"
    )


@finance_app.command()
def score(
    ledger: Path = typer.Argument(..., help="Ledger (.parquet or .csv)."),
    out: Path = typer.Option(..., "--out", help="Alerts to write (.parquet or .csv)."),
    weights: Path | None = typer.Option(None, "--weights", help="Weights YAML."),
    rates: Path | None = typer.Option(None, "--rates", help="Rates CSV (currency,usd_per_unit)."),
    known: Path | None = typer.Option(
        None, "--known", help="File of known account ids (one a line) to seed the network."
    ),
    no_network: bool = typer.Option(False, "--no-network", help="Skip network expansion."),
    engine: str = typer.Option("duckdb", "--engine", help="duckdb or spark."),
    threads: int | None = typer.Option(None, "--threads"),
    memory: str | None = typer.Option(None, "--memory", help="DuckDB memory limit, e.g. 12GB."),
    spill: Path | None = typer.Option(
        None, "--spill-dir", help="Where DuckDB writes what exceeds --memory (default ./.tmp)."
    ),
    to_store: bool = typer.Option(
        False, "--to-store", help="Also file the alerts as reports linking accounts to cases."
    ),
    store_limit: int = typer.Option(
        500, "--store-limit", help="With --to-store: file the top N alerts of each role."
    ),
    decisions: Path | None = typer.Option(
        None, "--decisions", help="Analysts' decisions (account_id,role,label) to learn from."
    ),
    case_decisions: bool = typer.Option(
        False, "--case-decisions", help="Also learn from decisions on filed finance alerts."
    ),
) -> None:
    """Score a ledger and write one row per flagged payer and payee.

    \b
    Examples:
      safestream finance score ledger.parquet --out alerts.parquet
      safestream finance score ledger.csv --out alerts.csv --known known.txt --to-store
    """
    from safestream.finance.alerts import (
        alerts_table,
        relevant_rows,
        score_accounts,
        write_alerts,
    )
    from safestream.finance.currency import Rates
    from safestream.finance.scoring import load_scoring

    config = load_scoring(weights)
    eng = _engine(engine, threads, memory, spill)
    try:
        _report_load(eng.load(ledger, Rates.load(rates), relevant=relevant_rows(config)))
        seeds = _known(known)
        scored = score_accounts(eng, config, seeds, network=not no_network)
        scored = _learn(scored, config, decisions, case_decisions, seeds)
        table = alerts_table(scored)
        write_alerts(table, out)
        if to_store:
            _file_to_store(eng, table, store_limit)
    finally:
        eng.close()
    roles = table["role"].to_pylist()
    payers, payees = roles.count("payer"), roles.count("payee")
    emit({"alerts": str(out), "payers": payers, "payees": payees})
    note(f"flagged {payers} payers and {payees} payees -> {out}")


def _learn(
    scored: ScoredAccounts,
    config: ScoringConfig,
    decisions: Path | None,
    case_decisions: bool,
    known: set[str],
) -> ScoredAccounts:
    from safestream.finance.evaluate import Labels, load_labels
    from safestream.finance.learning import apply_learning

    labels = load_labels(decisions) if decisions is not None else Labels({})
    if case_decisions:
        from safestream.finance.reporting import decisions_from_store

        db = context.open_database()
        try:
            stored = decisions_from_store(db)
        finally:
            db.dispose()
        for role, accounts in stored.by_role.items():
            labels.by_role.setdefault(role, {}).update(accounts)
    scored, learned = apply_learning(scored, config, labels, known)
    for role, how in learned.items():
        typer.echo(
            f"{role}s ranked by {how.method}"
            f" ({how.positives} confirmed, {how.negatives} dismissed)",
            err=True,
        )
    return scored


def _file_to_store(engine: LedgerEngine, table: pa.Table, limit: int) -> None:
    from safestream.finance.reporting import file_alerts

    settings = context.settings()
    settings.ensure_home()
    db = context.open_database()
    try:
        filed = file_alerts(engine, table, db, settings, limit_per_role=limit)
    finally:
        db.dispose()
    cases = {f.case_id for f in filed if f.case_id is not None}
    emit({"filed_reports": len(filed), "cases": len(cases)})
    note(f"filed {len(filed)} reports into {len(cases)} cases")


@finance_app.command()
def evaluate(
    ledger: Path = typer.Argument(..., help="Ledger (.parquet or .csv)."),
    labels: Path = typer.Argument(..., help="Label file from `finance generate`."),
    weights: Path | None = typer.Option(None, "--weights", help="Weights YAML."),
    rates: Path | None = typer.Option(None, "--rates", help="Rates CSV."),
    model: bool = typer.Option(
        False, "--model", help="Also train and test the learned model (out-of-time, by payer)."
    ),
) -> None:
    """Precision@k, PR-AUC, recall and transactions before the first flag vs the baseline.

    One JSON line per detector and role on stdout; the same figures as a table on stderr.

    \b
    Example:
      safestream finance evaluate ledger.parquet labels.csv --model
    """
    from safestream.finance.alerts import relevant_rows, score_accounts
    from safestream.finance.currency import Rates
    from safestream.finance.engine import DuckDBEngine
    from safestream.finance.evaluate import evaluate as run
    from safestream.finance.evaluate import format_report, load_labels
    from safestream.finance.scoring import load_scoring

    config = load_scoring(weights)
    truth = load_labels(labels)
    eng = DuckDBEngine()
    try:
        _report_load(eng.load(ledger, Rates.load(rates), relevant=relevant_rows(config)))
        scored = score_accounts(eng, config)
        results = run(eng, scored, truth)
        for role, rows in results.items():
            for m in rows:
                figures = {k: v for k, v in asdict(m).items() if k != "name"}
                emit({"role": role, "detector": m.name, **figures})
        note(format_report(results))
        from safestream.finance.learning import apply_learning, calibration_report

        calibrated, _ = apply_learning(scored, config)
        note("calibration of the transparent score on these labels:")
        note(calibration_report(calibrated, truth))
        if model:
            from safestream.finance.model import evaluate_model, format_model_report

            report = evaluate_model(eng, config, truth)
            emit({"model": asdict(report)})
            note(format_model_report(report))
    finally:
        eng.close()


def register(app: typer.Typer) -> None:
    """Add `safestream finance ...` to the root app."""
    app.add_typer(finance_app, name="finance")
