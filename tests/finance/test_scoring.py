"""The weighted score: rules, reasons, first flags, and the weights file."""

from __future__ import annotations

from pathlib import Path

import pytest

from safestream.core.errors import InvalidInput
from safestream.finance.alerts import score_accounts
from safestream.finance.engine import DuckDBEngine
from safestream.finance.scoring import Rule, load_scoring, reasons
from tests.finance.ledgers import tx, write


def test_a_rule_adds_its_weight_scaled_by_how_far_past_the_threshold_up_to_the_cap() -> None:
    rule = Rule("low", "low_hrj_30", weight=2.0, reason="r", at_least=3)
    assert rule.contribution({"low_hrj_30": 2}, cap=2.0) == 0.0
    assert rule.contribution({"low_hrj_30": 3}, cap=2.0) == 2.0
    assert rule.contribution({"low_hrj_30": 4.5}, cap=2.0) == 3.0
    assert rule.contribution({"low_hrj_30": 30}, cap=2.0) == 4.0


def test_an_at_most_rule_rewards_small_values() -> None:
    rule = Rule("small", "avg", weight=1.0, reason="r", at_most=50)
    assert rule.contribution({"avg": 60}, cap=2.0) == 0.0
    assert rule.contribution({"avg": 50}, cap=2.0) == 1.0
    assert rule.contribution({"avg": 10}, cap=2.0) == 2.0


def test_a_rule_with_requirements_fires_only_beside_them() -> None:
    rule = Rule("memo", "memo_hrj_90", weight=1.0, reason="r", at_least=2, requires={"low": 2})
    assert rule.contribution({"memo_hrj_90": 5, "low": 1}, cap=2.0) == 0.0
    assert rule.contribution({"memo_hrj_90": 2, "low": 2}, cap=2.0) == 1.0


def test_reasons_list_fired_rules_with_values_strongest_first() -> None:
    rules = (
        Rule("weak", "a", weight=0.5, reason="weak one", at_least=1, scaled=False),
        Rule("strong", "b", weight=3.0, reason="strong one", at_least=1, scaled=False),
        Rule("quiet", "c", weight=9.0, reason="never", at_least=100),
    )
    text = reasons({"a": 1, "b": 7, "c": 1}, rules, cap=2.0)
    assert text == ["strong=7 (+3.00): strong one", "weak=1 (+0.50): weak one"]


def test_sql_score_equals_the_sum_of_rule_contributions(tmp_path: Path) -> None:
    rows = [tx(f"p{i}", i * 2, amount="30", memo="school fees") for i in range(25)]
    engine = DuckDBEngine()
    engine.load(write(tmp_path / "l.csv", rows))
    config = load_scoring()
    scored = score_accounts(engine, config, network=False)
    payer = scored.role("payer").to_pylist()[0]
    best = max(
        sum(r.contribution(f, config.cap) for r in config.payer_rules)
        for f in engine.query("SELECT * FROM features").to_pylist()
    )
    assert best > 0
    assert payer["rule_score"] == pytest.approx(best)


def test_first_flag_is_the_first_transaction_whose_score_reaches_the_threshold(
    tmp_path: Path,
) -> None:
    rows = [tx(f"p{i:02d}", i * 2, amount="30") for i in range(25)]
    engine = DuckDBEngine()
    engine.load(write(tmp_path / "l.csv", rows))
    config = load_scoring()
    scored = score_accounts(engine, config, network=False)
    first = scored.role("payer").to_pylist()[0]["first_flag_tx_id"]
    features = engine.query("SELECT * FROM features ORDER BY t").to_pylist()
    scores = [sum(r.contribution(f, config.cap) for r in config.payer_rules) for f in features]
    expected = next(f["tx_id"] for f, s in zip(features, scores, strict=True) if s >= 4.0)
    assert first == expected


def test_baseline_flags_the_third_small_transfer_within_30_days(tmp_path: Path) -> None:
    rows = [tx("1", 0, amount="99"), tx("2", 10, amount="150"), tx("3", 20), tx("4", 25)]
    engine = DuckDBEngine()
    engine.load(write(tmp_path / "l.csv", rows))
    scored = score_accounts(engine, load_scoring(), network=False)
    payer = scored.role("payer").to_pylist()[0]
    assert payer["baseline_tx_id"] == "4"
    assert payer["baseline_max"] == 3


def test_weights_file_with_an_unknown_parameter_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text("parameters:\n  low_value_usdd: 5\n")
    with pytest.raises(InvalidInput, match="low_value_usdd"):
        load_scoring(path)


def test_weights_file_with_a_rule_lacking_a_threshold_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text("payer_rules:\n  - {name: x, feature: low_hrj_30, weight: 1}\n")
    with pytest.raises(InvalidInput, match="at_least, at_most"):
        load_scoring(path)


def test_every_rule_reads_a_feature_the_pipeline_computes(tmp_path: Path) -> None:
    engine = DuckDBEngine()
    engine.load(write(tmp_path / "l.csv", [tx("1", 0)]))
    config = load_scoring()
    score_accounts(engine, config, network=False)
    columns = set(engine.query("SELECT * FROM features LIMIT 0").column_names)
    for role in ("payer", "payee"):
        assert set(config.features(role)) <= columns
