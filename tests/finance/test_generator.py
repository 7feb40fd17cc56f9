"""The synthetic ledger: deterministic, valid, and calibrated on the published figures."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import numpy as np
import pytest

from safestream.core.errors import InvalidInput
from safestream.finance.engine import DuckDBEngine
from safestream.finance.generator import GenerateSummary, generate, load_config

HRJ = "('PH','TH','CO','DO','MX','KH','VN','IN','ZA','CU','GH','UA','RO','JM','RU','ID')"
AUD_PER_USD = 1 / 0.66
PHP_PER_USD = 1 / 0.0178


@pytest.fixture(scope="module")
def calibration(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    """A ledger with enough offenders (about 900) for the published shares to show."""
    folder = tmp_path_factory.mktemp("calibration")
    config = load_config()
    config.update(payers=30_000, days=730)
    config["population"]["offender"] = 0.03
    ledger, labels = folder / "l.parquet", folder / "labels.csv"
    generate(ledger, labels, seed=3, config=config)
    engine = DuckDBEngine()
    engine.load(ledger)
    con = engine.con
    con.execute(f"CREATE TABLE labels AS SELECT * FROM read_csv('{labels}', all_varchar=true)")
    con.execute(
        "CREATE TABLE off AS SELECT l.*, b.kind FROM ledger l JOIN labels b "
        "ON b.account_id = l.payer_id AND b.role = 'payer' "
        f"WHERE b.label = 'offender' AND l.payee_country IN {HRJ} "
        "AND l.channel NOT IN ('card', 'cash')"
    )
    return con


def _column(con: duckdb.DuckDBPyConnection, sql: str) -> np.ndarray:
    return np.array([row[0] for row in con.execute(sql).fetchall()], dtype=float)


def test_same_seed_gives_the_same_ledger(tmp_path: Path) -> None:
    config = load_config()
    config["payers"] = 300
    first = generate(tmp_path / "a.parquet", tmp_path / "a.csv", seed=1, config=config)
    second = generate(tmp_path / "b.parquet", tmp_path / "b.csv", seed=1, config=config)
    assert first.rows == second.rows
    con = duckdb.connect()
    diff = con.execute(
        f"SELECT COUNT(*) FROM (SELECT * FROM '{tmp_path / 'a.parquet'}' "
        f"EXCEPT SELECT * FROM '{tmp_path / 'b.parquet'}')"
    ).fetchone()
    assert diff == (0,)


def test_generated_ledger_passes_the_schema_checks(
    small_ledger: tuple[Path, Path, GenerateSummary],
) -> None:
    ledger, _, summary = small_ledger
    report = DuckDBEngine().load(ledger)
    assert report.rows_read == summary.rows > 10_000
    assert report.problems == []


def test_csv_output_loads_like_parquet(tmp_path: Path) -> None:
    config = load_config()
    config["payers"] = 200
    generate(tmp_path / "l.csv", tmp_path / "labels.csv", seed=2, config=config)
    generate(tmp_path / "l.parquet", tmp_path / "labels2.csv", seed=2, config=config)
    sums = []
    for name in ("l.csv", "l.parquet"):
        engine = DuckDBEngine()
        engine.load(tmp_path / name)
        sums.append(engine.query("SELECT COUNT(*) AS n, SUM(t) AS s FROM ledger").to_pylist())
    assert sums[0] == sums[1]


def test_default_mix_keeps_offenders_well_under_one_percent_of_payers() -> None:
    config = load_config()
    assert 0.001 <= config["population"]["offender"] < 0.01


def test_labels_name_every_payer_and_the_facilitators(
    small_ledger: tuple[Path, Path, GenerateSummary],
) -> None:
    _, labels, summary = small_ledger
    with open(labels) as fh:
        rows = list(csv.DictReader(fh))
    payers = [r for r in rows if r["role"] == "payer"]
    assert len(payers) == summary.payers
    assert sum(r["label"] == "offender" for r in payers) == summary.offenders
    assert sum(r["label"] == "facilitator" for r in rows) == summary.facilitators
    kinds = {r["kind"] for r in payers if r["label"] == "offender"}
    assert kinds == {"one_off", "occasional", "prolific"}


def test_a_few_offenders_make_half_the_payments(calibration: duckdb.DuckDBPyConnection) -> None:
    # AIC T&I 589: 3% of individuals made 50% of transactions, 25% made 3%.
    counts = np.sort(_column(calibration, "SELECT COUNT(*) FROM off GROUP BY payer_id"))[::-1]
    top = counts[: max(1, round(0.03 * len(counts)))].sum() / counts.sum()
    bottom = counts[-round(0.25 * len(counts)) :].sum() / counts.sum()
    assert 0.35 <= top <= 0.65
    assert bottom <= 0.06


def test_more_than_half_of_offenders_pay_more_than_once(
    calibration: duckdb.DuckDBPyConnection,
) -> None:
    counts = _column(calibration, "SELECT COUNT(*) FROM off GROUP BY payer_id")
    assert 0.5 < (counts > 1).mean() < 0.65


def test_median_offender_payment_is_near_51_australian_dollars(
    calibration: duckdb.DuckDBPyConnection,
) -> None:
    # AIC T&I 639: median A$51; T&I 589 group medians A$49-390.
    usd = _column(calibration, "SELECT amount_usd FROM off")
    assert 40 <= np.median(usd) * AUD_PER_USD <= 65


def test_most_offender_payments_fall_in_the_amlc_band(
    calibration: duckdb.DuckDBPyConnection,
) -> None:
    # AMLC: 81% of OSEC-related transactions were PHP 1,000-10,000.
    php = _column(calibration, "SELECT amount_usd FROM off") * PHP_PER_USD
    share = ((php >= 1000) & (php <= 10000)).mean()
    assert 0.7 <= share <= 0.92


def test_offenders_are_mostly_in_their_fifties_and_sixties(
    calibration: duckdb.DuckDBPyConnection,
) -> None:
    # AIC T&I 589: mostly 50s-60s; youngest 27, oldest 82.
    ages = _column(calibration, "SELECT ANY_VALUE(payer_age) FROM off GROUP BY payer_id")
    assert 50 <= np.median(ages) <= 62
    assert ages.min() >= 27 and ages.max() <= 82


def test_prolific_offenders_escalate_in_amount_and_frequency(
    calibration: duckdb.DuckDBPyConnection,
) -> None:
    # AIC T&I 589: as transactions accrue, the median amount rises and they come more often.
    rows = calibration.execute(
        "SELECT payer_id, t, amount_usd FROM off WHERE kind = 'prolific' ORDER BY payer_id, t"
    ).fetchall()
    by_payer: dict[str, list[tuple[int, float]]] = {}
    for payer, t, usd in rows:
        by_payer.setdefault(payer, []).append((t, usd))
    rising = shrinking = 0
    for seq in by_payer.values():
        half = len(seq) // 2
        amounts = np.array([u for _, u in seq])
        gaps = np.diff([t for t, _ in seq])
        rising += np.median(amounts[half:]) > np.median(amounts[:half])
        shrinking += np.median(gaps[half:]) < np.median(gaps[: half - 1])
    assert rising / len(by_payer) >= 0.8
    assert shrinking / len(by_payer) >= 0.8


def test_prolific_offenders_pay_small_amounts_at_short_intervals(
    calibration: duckdb.DuckDBPyConnection,
) -> None:
    # AIC T&I 634: prolific payers (>20 payments) spent under A$55 at intervals under 20 days.
    rows = calibration.execute(
        "SELECT MEDIAN(amount_usd), (MAX(t) - MIN(t)) / 86400.0 / (COUNT(*) - 1), COUNT(*) "
        "FROM off WHERE kind = 'prolific' GROUP BY payer_id"
    ).fetchall()
    assert all(n > 20 for _, _, n in rows)
    assert np.median([m for m, _, _ in rows]) * AUD_PER_USD < 55
    assert np.median([g for _, g, _ in rows]) < 20


def test_about_half_of_payers_send_from_the_united_states(
    calibration: duckdb.DuckDBPyConnection,
) -> None:
    # AMLC: the US is the source of about half of OSEC-related remittances.
    share = calibration.execute(
        "SELECT AVG(CASE WHEN payer_country = 'US' THEN 1 ELSE 0 END) FROM "
        "(SELECT payer_id, ANY_VALUE(payer_country) AS payer_country FROM ledger GROUP BY 1)"
    ).fetchone()
    assert share is not None and 0.45 <= share[0] <= 0.55


def test_family_remittances_share_corridors_amounts_and_memos_with_offenders(
    calibration: duckdb.DuckDBPyConnection,
) -> None:
    # The confounders that dominate real data: same countries, small amounts, same words.
    row = calibration.execute(
        "SELECT COUNT(*), AVG(CASE WHEN l.amount_usd < 100 THEN 1 ELSE 0 END), "
        "AVG(CASE WHEN l.memo IN ('school fees', 'medical bills', 'gift') THEN 1 ELSE 0 END) "
        "FROM ledger l JOIN labels b ON b.account_id = l.payer_id AND b.role = 'payer' "
        "WHERE b.label = 'diaspora' AND l.payee_country = 'PH' AND l.channel = 'remittance'"
    ).fetchone()
    offenders = calibration.execute("SELECT COUNT(*) FROM off WHERE payee_country = 'PH'")
    n_offender = offenders.fetchone()
    assert row is not None and n_offender is not None
    assert row[0] > 2 * n_offender[0]  # offenders are over-sampled tenfold here
    assert row[1] > 0.2
    assert row[2] > 0.2


def test_yaml_overrides_the_defaults(tmp_path: Path) -> None:
    override = tmp_path / "g.yaml"
    override.write_text("payers: 123\noffender:\n  travel_share: 0.9\n")
    config = load_config(override)
    assert config["payers"] == 123
    assert config["offender"]["travel_share"] == 0.9
    assert config["offender"]["vpn_share"] == load_config()["offender"]["vpn_share"]


def test_unknown_yaml_parameter_is_an_error(tmp_path: Path) -> None:
    override = tmp_path / "g.yaml"
    override.write_text("payerz: 5\n")
    with pytest.raises(InvalidInput, match="payerz"):
        load_config(override)
