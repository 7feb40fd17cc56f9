"""Learning from analysts' decisions, positive-unlabelled seeds, and the transparent fallback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from safestream.cases.engine import CaseEngine
from safestream.cases.review import record_decision
from safestream.finance.alerts import ScoredAccounts, alerts_table, score_accounts
from safestream.finance.engine import DuckDBEngine
from safestream.finance.evaluate import Labels, load_labels
from safestream.finance.generator import GenerateSummary
from safestream.finance.learning import apply_learning, calibration_report
from safestream.finance.reporting import decisions_from_store, file_alerts
from safestream.finance.scoring import load_scoring
from safestream.store import Database
from tests.finance.ledgers import tx, write
from tests.reports.builders import user


@pytest.fixture(scope="module")
def scored(small_ledger: tuple[Path, Path, GenerateSummary]) -> tuple[ScoredAccounts, Labels]:
    ledger, labels, _ = small_ledger
    engine = DuckDBEngine()
    engine.load(ledger)
    return score_accounts(engine, load_scoring()), load_labels(labels)


def _decisions(truth: Labels, payers: list[str]) -> Labels:
    """What analysts decided on these payers (the truth, as they would find it)."""
    positives = truth.positives("payer")
    return Labels(
        {"payer": {a: ("offender" if a in positives else "dismissed", "") for a in payers}}
    )


def test_decisions_train_a_model_whose_probability_ranks_the_alerts(
    scored: tuple[ScoredAccounts, Labels],
) -> None:
    accounts, truth = scored
    top = sorted(accounts.role("payer").to_pylist(), key=lambda r: -r["score"])[:80]
    decided = _decisions(truth, [r["account_id"] for r in top])
    learned_scored, learned = apply_learning(accounts, load_scoring(), decided)
    assert learned["payer"].method == "decisions"
    assert learned["payer"].positives >= 5 and learned["payer"].negatives >= 5
    payers = learned_scored.role("payer").to_pydict()
    p = np.array(payers["probability"])
    assert ((p >= 0) & (p <= 1)).all()
    positive = np.array([a in truth.positives("payer") for a in payers["account_id"]])
    assert p[positive].mean() > 5 * p[~positive].mean()
    alerts = alerts_table(learned_scored).to_pylist()
    ranked = [r["probability"] for r in alerts if r["role"] == "payer"]
    assert ranked == sorted(ranked, reverse=True)


def test_confirmed_offenders_alone_train_positive_unlabelled(
    scored: tuple[ScoredAccounts, Labels],
) -> None:
    accounts, truth = scored
    known = set(sorted(truth.positives("payer"))[:10])
    _, learned = apply_learning(accounts, load_scoring(), None, known)
    assert learned["payer"].method == "positive-unlabelled"
    assert learned["payer"].negatives == 0


def test_too_few_decisions_leave_the_transparent_score_in_charge(
    scored: tuple[ScoredAccounts, Labels],
) -> None:
    accounts, truth = scored
    decided = _decisions(truth, sorted(truth.positives("payer"))[:2])
    learned_scored, learned = apply_learning(accounts, load_scoring(), decided)
    assert learned["payer"].method == "transparent score"
    payers = learned_scored.role("payer").to_pydict()
    assert payers["rank_key"] == payers["score"]
    # The calibrated probability still rises with the score.
    order = np.argsort(payers["score"])
    assert np.all(np.diff(np.array(payers["probability"])[order]) >= 0)


def test_case_decisions_on_filed_alerts_become_labels(tmp_path: Path, database: Database) -> None:
    rows = []
    for p in range(5):
        rows += [tx(f"{p}-{i:02d}", p + i * 3, payer_id=f"P{p}", amount="30") for i in range(12)]
    engine = DuckDBEngine()
    engine.load(write(tmp_path / "ring.csv", rows))
    filed = file_alerts(engine, alerts_table(score_accounts(engine, load_scoring())), database)
    CaseEngine.for_settings(database).process_pending()
    case_id = next(f.case_id for f in filed if f.case_id is not None)
    reviewer = user(database, "r@h.org", "reviewer").principal
    record_decision(database, reviewer, case_id, "confirm")
    labels = decisions_from_store(database, reviewer)
    assert labels.positives("payer") >= {"P0", "P1"}
    assert labels.positives("payee") == {"F"}


def test_the_calibration_report_compares_predicted_and_observed_per_band(
    scored: tuple[ScoredAccounts, Labels],
) -> None:
    accounts, truth = scored
    calibrated, _ = apply_learning(accounts, load_scoring())
    report = calibration_report(calibrated, truth).splitlines()
    assert report[0].split() == ["role", "probability", "accounts", "predicted", "observed"]
    payer_bands = [line.split() for line in report[1:] if line.startswith("payer")]
    assert sum(int(b[2]) for b in payer_bands) > 0
    assert all(0 <= float(b[4]) <= 1 for b in payer_bands)
