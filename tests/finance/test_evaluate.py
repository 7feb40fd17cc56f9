"""Evaluation: the metrics, the label file, the baseline, and the learned model's honest split."""

from __future__ import annotations

from pathlib import Path

import pytest

from safestream.core.errors import InvalidInput
from safestream.finance.alerts import ScoredAccounts, score_accounts
from safestream.finance.engine import DuckDBEngine
from safestream.finance.evaluate import Labels, Metrics, evaluate, load_labels, precision_at
from safestream.finance.generator import GenerateSummary
from safestream.finance.model import evaluate_model, split_payers
from safestream.finance.scoring import load_scoring


def test_precision_at_k_counts_positives_among_the_first_k() -> None:
    ranked = ["a", "x", "b", "y"]
    assert precision_at(ranked, {"a", "b"}, 2) == 0.5
    assert precision_at(ranked, {"a", "b"}, 4) == 0.5


def test_precision_at_k_divides_by_k_even_when_fewer_are_ranked() -> None:
    assert precision_at(["a"], {"a"}, 10) == 0.1


def test_label_file_without_the_needed_columns_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    path.write_text("id,what\nP1,offender\n")
    with pytest.raises(InvalidInput, match="account_id, role, label"):
        load_labels(path)


@pytest.fixture(scope="module")
def scored_small(
    small_ledger: tuple[Path, Path, GenerateSummary],
) -> tuple[DuckDBEngine, ScoredAccounts, Labels]:
    ledger, labels, _ = small_ledger
    engine = DuckDBEngine()
    engine.load(ledger)
    return engine, score_accounts(engine, load_scoring()), load_labels(labels)


@pytest.fixture(scope="module")
def payer_metrics(scored_small: tuple[DuckDBEngine, ScoredAccounts, Labels]) -> list[Metrics]:
    engine, scored, labels = scored_small
    return evaluate(engine, scored, labels)["payer"]


def test_safestream_ranks_offenders_above_the_baseline_queue(payer_metrics: list[Metrics]) -> None:
    ours, queue, _ = payer_metrics
    assert ours.precision_at[50] > queue.precision_at[50]
    assert ours.pr_auc > queue.pr_auc
    assert 0 < ours.recall <= 1
    assert ours.median_tx_before_flag >= 1


def test_transfers_before_the_first_flag_are_counted_per_offender(
    payer_metrics: list[Metrics],
) -> None:
    ours = payer_metrics[0]
    # A flag needs at least one transfer, and prolific offenders are caught early.
    assert 1 <= ours.median_tx_before_flag_prolific <= 10


def test_model_split_puts_each_payer_on_one_side_only() -> None:
    payers = [f"P{i}" for i in range(100)]
    train, test = split_payers(payers, seed=1)
    assert train.isdisjoint(test)
    assert train | test == set(payers)
    assert 30 <= len(test) <= 50


def test_learned_model_trains_and_tests_on_labelled_offenders(
    scored_small: tuple[DuckDBEngine, ScoredAccounts, Labels],
) -> None:
    engine, _, labels = scored_small
    report = evaluate_model(engine, load_scoring(), labels)
    assert report.train_payers > 0 and report.test_payers > 0
    assert report.test_positives > 0
    assert 0.0 <= report.model_pr_auc <= 1.0
    assert 0.0 <= report.rules_pr_auc <= 1.0
