"""Optional learned model: gradient boosting on the payer indicators, tested honestly.

Evaluation is out-of-time and grouped by payer: payers are split into two groups; the model
learns from the first group's features as they stood before a cutoff date, and is tested on
the second group's features after it. No payer sits on both sides and no test-period
information reaches training. The rule score on the same test rows is printed beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import average_precision_score
from sklearn.model_selection import GroupShuffleSplit

from safestream.core.errors import InvalidInput
from safestream.finance.alerts import compute_features, scoring_columns
from safestream.finance.engine import LedgerEngine
from safestream.finance.evaluate import Labels, precision_at
from safestream.finance.scoring import ScoringConfig

MODEL_FEATURES: tuple[str, ...] = (
    "low_hrj_30",
    "low_hrj_90",
    "low_hrj_365",
    "hrj_30",
    "hrj_365",
    "hrj_total",
    "hrj_avg_usd_365",
    "hrj_min_usd_365",
    "hrj_max_usd_365",
    "hrj_std_usd_365",
    "risk_max_365",
    "new_payees_90",
    "payees_total",
    "hub_links_90",
    "escalation_amount_ratio",
    "escalation_rate_ratio",
    "hrj_mean_gap_days_365",
    "gap_cv_365",
    "night_share_90",
    "night_excess_90",
    "memo_hrj_90",
    "even_hrj_90",
    "switches_90",
    "crypto_hrj_90",
    "purchases_365",
    "travel_30",
    "new_corridors_90",
    "payer_age",
)


@dataclass(frozen=True)
class ModelReport:
    """Test-set figures of the learned model and of the rule score on the same rows."""

    train_payers: int
    test_payers: int
    test_positives: int
    model_pr_auc: float
    rules_pr_auc: float
    model_precision_at_50: float
    rules_precision_at_50: float


def _snapshot(engine: LedgerEngine, config: ScoringConfig, where: str) -> dict[str, list[Any]]:
    """Each payer's features and rule score at its last relevant row matching `where`."""
    cols = ", ".join(MODEL_FEATURES)
    table = engine.query(
        f"""
SELECT payer_id, {cols}, rule_score FROM (
  SELECT payer_id, {cols}, {config.score_sql("payer")} AS rule_score,
    ROW_NUMBER() OVER (PARTITION BY payer_id ORDER BY t DESC, tx_id DESC) AS k
  FROM features WHERE {where}
) WHERE k = 1"""
    )
    snapshot: dict[str, list[Any]] = table.to_pydict()
    return snapshot


def _matrix(snap: dict[str, list[Any]]) -> np.ndarray:
    return np.array(
        [[np.nan if v is None else float(v) for v in snap[c]] for c in MODEL_FEATURES],
        dtype=np.float64,
    ).T


def split_payers(payers: set[str] | list[str], seed: int) -> tuple[set[str], set[str]]:
    """Payers for training and for testing (40%), grouped so no payer is on both sides."""
    everyone = sorted(set(payers))
    split = GroupShuffleSplit(n_splits=1, test_size=0.4, random_state=seed)
    train_idx, test_idx = next(split.split(everyone, groups=everyone))
    return {everyone[i] for i in train_idx}, {everyone[i] for i in test_idx}


def evaluate_model(
    engine: LedgerEngine, config: ScoringConfig, labels: Labels, seed: int = 7
) -> ModelReport:
    """Train on one payer group before the time cutoff, test on the other group after it."""
    present = set(engine.query("SELECT * FROM features LIMIT 0").column_names)
    if not set(MODEL_FEATURES) <= present:
        # Scoring keeps only the columns its rules read; the model reads more of them.
        compute_features(
            engine, config, list(dict.fromkeys([*scoring_columns(config), *MODEL_FEATURES]))
        )
    bounds = engine.query("SELECT MIN(t) AS lo, MAX(t) AS hi FROM features").to_pylist()[0]
    if bounds["lo"] is None:
        raise InvalidInput("the ledger has no transfers to learn from")
    cutoff = int((int(bounds["lo"]) + int(bounds["hi"])) // 2)
    before = _snapshot(engine, config, f"t < {cutoff}")
    after = _snapshot(engine, config, f"t >= {cutoff}")
    train_group, _ = split_payers(set(before["payer_id"]) | set(after["payer_id"]), seed)
    positives = labels.positives("payer")
    keep_tr = [i for i, p in enumerate(before["payer_id"]) if p in train_group]
    keep_te = [i for i, p in enumerate(after["payer_id"]) if p not in train_group]
    x_tr = _matrix(before)[keep_tr]
    y_tr = np.array([before["payer_id"][i] in positives for i in keep_tr])
    x_te = _matrix(after)[keep_te]
    te_ids = [after["payer_id"][i] for i in keep_te]
    y_te = np.array([p in positives for p in te_ids])
    if y_tr.sum() < 2 or y_te.sum() < 1:
        raise InvalidInput("too few labelled offenders on one side of the split to train")
    model = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.1, random_state=seed)
    model.fit(x_tr, y_tr)
    proba = model.predict_proba(x_te)[:, 1]
    rules = np.array([float(after["rule_score"][i] or 0.0) for i in keep_te])
    by_model = [te_ids[i] for i in np.argsort(-proba, kind="stable")]
    by_rules = [te_ids[i] for i in np.argsort(-rules, kind="stable")]
    return ModelReport(
        train_payers=len(keep_tr),
        test_payers=len(keep_te),
        test_positives=int(y_te.sum()),
        model_pr_auc=float(average_precision_score(y_te, proba)),
        rules_pr_auc=float(average_precision_score(y_te, rules)),
        model_precision_at_50=precision_at(by_model, positives, 50),
        rules_precision_at_50=precision_at(by_rules, positives, 50),
    )


def format_model_report(r: ModelReport) -> str:
    """Plain-text lines of the model report."""
    return (
        f"learned model (out-of-time, grouped by payer): train {r.train_payers} payers, "
        f"test {r.test_payers} payers ({r.test_positives} offenders)\n"
        f"  gradient boosting  PR-AUC {r.model_pr_auc:.3f}  P@50 {r.model_precision_at_50:.3f}\n"
        f"  weighted rules     PR-AUC {r.rules_pr_auc:.3f}  P@50 {r.rules_precision_at_50:.3f}"
    )
