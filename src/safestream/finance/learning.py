"""Learning from analysts' decisions, with the transparent score as the fallback.

Decisions come from a labels file (`account_id, role, label`: `offender`, `facilitator` or
`confirmed` for a confirmed account, anything else such as `dismissed` for a dismissed one) or
from the case decisions on filed finance alerts (`decisions_from_store`). With enough of both
kinds (`MIN_POSITIVES`, `MIN_NEGATIVES` per role), a logistic regression on every numeric
indicator of the account (rule and account-stage indicators, community and network evidence)
learns how this institution's confirmed accounts differ from its dismissed ones. With confirmed
accounts only (`--known`, or a labels file without dismissals) it learns positive-unlabelled:
confirmed against everyone else, then rescaled by how sure the model is of the confirmed ones
(Elkan and Noto, 2008), so the output is still a probability.

Without a model, the transparent score is turned into a probability by the logistic curve of the
weights file (`calibration`), fitted on the development ledgers, so a score of 6 means the same
on every ledger; an analyst checks it on their own labelled sample with `finance evaluate`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from safestream.finance.alerts import ScoredAccounts
from safestream.finance.evaluate import Labels
from safestream.finance.scoring import ROLES, ScoringConfig

MIN_POSITIVES = 5
MIN_NEGATIVES = 5
UNDECIDED_WEIGHT = 0.2


@dataclass(frozen=True)
class Calibration:
    """Probability of being an offender (facilitator) given the transparent score."""

    slope: float = 1.0
    intercept: float = -6.0

    def probability(self, score: np.ndarray) -> np.ndarray:
        """The logistic curve at each score."""
        return np.asarray(1.0 / (1.0 + np.exp(-(self.slope * score + self.intercept))))


@dataclass(frozen=True)
class Learned:
    """One role's probabilities and how they were made."""

    probability: np.ndarray
    method: str  # "decisions", "positive-unlabelled" or "transparent score"
    positives: int
    negatives: int


def _matrix(features: pa.Table) -> np.ndarray:
    cols = [c for c in features.column_names if c != "account_id"]
    x = np.column_stack(
        [features[c].to_numpy(zero_copy_only=False).astype(np.float64) for c in cols]
    )
    x = np.where(np.isfinite(x), x, 0.0)
    # Counts and amounts are heavy-tailed: a signed log keeps one huge account from dominating.
    return np.asarray(np.sign(x) * np.log1p(np.abs(x)))


def _model() -> object:
    return make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=2000))


def learn(
    features: pa.Table,
    score: np.ndarray,
    labels: Labels | None,
    role: str,
    known: set[str],
    calibration: Calibration,
) -> Learned:
    """Probabilities for every account of one role (rows of `features`)."""
    ids = features["account_id"].to_pylist()
    decided = labels.by_role.get(role, {}) if labels is not None else {}
    positives = (labels.positives(role) if labels is not None else set()) | known
    y_pos = np.array([a in positives for a in ids])
    y_neg = np.array([a in decided and a not in positives for a in ids])
    n_pos, n_neg = int(y_pos.sum()), int(y_neg.sum())
    if n_pos < MIN_POSITIVES:
        return Learned(calibration.probability(score), "transparent score", n_pos, n_neg)
    x = _matrix(features)
    if n_neg >= MIN_NEGATIVES:
        # Analysts decide on alerts, the top of the list: alone, those would teach nothing about
        # the rest. The undecided count as weak negatives (offenders are rare among them).
        weight = np.where(y_pos | y_neg, 1.0, UNDECIDED_WEIGHT)
        model = _model()
        model.fit(x, y_pos, logisticregression__sample_weight=weight)  # type: ignore[attr-defined]
        proba = model.predict_proba(x)[:, 1]  # type: ignore[attr-defined]
        return Learned(np.asarray(proba), "decisions", n_pos, n_neg)
    # Positive-unlabelled: the confirmed against the rest; c = P(labelled | positive).
    model = _model()
    folds = min(5, n_pos)
    held = cross_val_predict(model, x, y_pos, cv=folds, method="predict_proba")[:, 1]
    c = float(np.mean(held[y_pos])) or 1.0
    model.fit(x, y_pos)  # type: ignore[attr-defined]
    proba = np.clip(model.predict_proba(x)[:, 1] / c, 0.0, 1.0)  # type: ignore[attr-defined]
    proba[y_pos] = 1.0
    return Learned(np.asarray(proba), "positive-unlabelled", n_pos, 0)


def calibration_of(config: ScoringConfig, role: str) -> Calibration:
    """The role's score-to-probability curve from the weights file (defaults if absent)."""
    c = config.calibration
    default = Calibration()
    return Calibration(
        c.get(f"{role}_slope", default.slope), c.get(f"{role}_intercept", default.intercept)
    )


def apply_learning(
    scored: ScoredAccounts,
    config: ScoringConfig,
    labels: Labels | None = None,
    known: set[str] | None = None,
) -> tuple[ScoredAccounts, dict[str, Learned]]:
    """Add `probability` and `rank_key` to every account; a trained model re-ranks its role."""
    known = known or set()
    parts, learned = [], {}
    for role in ROLES:
        table = scored.role(role)
        score = table["score"].to_numpy(zero_copy_only=False).astype(np.float64)
        calibration = calibration_of(config, role)
        features = scored.features.get(role)
        if features is None or features.num_rows != table.num_rows:
            result = Learned(calibration.probability(score), "transparent score", 0, 0)
        else:
            result = learn(features, score, labels, role, known, calibration)
        learned[role] = result
        key = score if result.method == "transparent score" else result.probability
        table = table.append_column("probability", pa.array(result.probability))
        parts.append(table.append_column("rank_key", pa.array(key)))
    return replace(scored, table=pa.concat_tables(parts)), learned


PROBABILITY_BANDS: tuple[float, ...] = (0.0, 0.05, 0.2, 0.5, 0.8, 1.0)


def calibration_report(scored: ScoredAccounts, labels: Labels) -> str:
    """Per role and probability band: accounts, mean predicted probability, share confirmed.

    How an analyst checks on their own labelled sample that a probability of 0.6 means about
    six in ten (needs `apply_learning` to have run; reads the labelled accounts only).
    """
    lines = [f"{'role':6} {'probability':>13} {'accounts':>9} {'predicted':>10} {'observed':>9}"]
    for role in ROLES:
        table = scored.role(role).to_pydict()
        decided = labels.by_role.get(role, {})
        positives = labels.positives(role)
        pairs = [
            (p, a in positives)
            for a, p in zip(table["account_id"], table["probability"], strict=True)
            if a in decided
        ]
        for lo, hi in itertools.pairwise(PROBABILITY_BANDS):
            band = [(p, y) for p, y in pairs if lo <= p < hi or (hi == 1.0 and p == 1.0)]
            if band:
                predicted = float(np.mean([p for p, _ in band]))
                observed = float(np.mean([y for _, y in band]))
                span = f"{lo:5.2f}-{hi:<7.2f}"
                lines.append(f"{role:6} {span} {len(band):9d} {predicted:10.3f} {observed:9.3f}")
    return "\n".join(lines)
