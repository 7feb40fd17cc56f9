"""The transparent weighted score: rules from a YAML file, each adding weight when it fires.

A rule reads one feature. With `at_least: x` it fires when the feature is at least x and adds
`weight * min(value / x, cap)`; with `at_most: x` it fires at or below x and adds
`weight * min(x / value, cap)`; `scaled: false` adds the plain weight. `requires` lists further
`feature: minimum` conditions. The score is computed on every relevant transaction in time
order, so an account's first flag is the first transaction whose score reaches the threshold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from safestream.core.errors import InvalidInput
from safestream.finance.indicators.params import IndicatorParams, num

ROLES = ("payer", "payee")


@dataclass(frozen=True)
class Rule:
    """One weighted indicator rule."""

    name: str
    feature: str
    weight: float
    reason: str
    at_least: float | None = None
    at_most: float | None = None
    scaled: bool = True
    requires: dict[str, float] = field(default_factory=dict)

    def condition_sql(self) -> str:
        """The SQL condition under which the rule fires."""
        if self.at_least is not None:
            parts = [f"{self.feature} >= {num(self.at_least)}"]
        else:
            parts = [f"{self.feature} <= {num(self.at_most or 0)}", f"{self.feature} > 0"]
        parts += [f"{f} >= {num(v)}" for f, v in self.requires.items()]
        return " AND ".join(parts)

    def contribution_sql(self, cap: float) -> str:
        """The SQL expression of what the rule adds to the score (0 when it does not fire)."""
        w = num(self.weight)
        if not self.scaled:
            amount = w
        elif self.at_least is not None:
            amount = f"{w} * LEAST({self.feature} / {num(self.at_least)}, {num(cap)})"
        else:
            amount = f"{w} * LEAST({num(self.at_most or 0)} / {self.feature}, {num(cap)})"
        return f"CASE WHEN {self.condition_sql()} THEN {amount} ELSE {num(0)} END"

    def contribution(self, values: dict[str, Any], cap: float) -> float:
        """What the rule adds for one row of feature values (mirrors `contribution_sql`)."""
        value = values.get(self.feature)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return 0.0
        v = float(value)
        for feature, minimum in self.requires.items():
            other = values.get(feature)
            if other is None or float(other) < minimum:
                return 0.0
        if self.at_least is not None:
            if v < self.at_least:
                return 0.0
            return self.weight * (min(v / self.at_least, cap) if self.scaled else 1.0)
        assert self.at_most is not None
        if not 0 < v <= self.at_most:
            return 0.0
        return self.weight * (min(self.at_most / v, cap) if self.scaled else 1.0)


@dataclass(frozen=True)
class NetworkConfig:
    """Personalised PageRank settings for network expansion."""

    weight: float = 2.0
    damping: float = 0.85
    iterations: int = 40
    min_share: float = 0.05


@dataclass(frozen=True)
class CommunityConfig:
    """Joint payer-payee ranking (see `context`)."""

    payer_floor: float = 2.0  # own score at which a payer starts to look like an offender
    payer_scale: float = 4.0  # and the points above the floor at which it fully does
    payee_weight: float = 2.0  # payee points per payer that fully looks like an offender
    payee_cap: float = 4.0  # at most this many such payers count
    payer_weight: float = 4.0  # payer points from a payee whose other payers look like offenders
    payer_full: float = 2.0  # that many other such payers give the full points
    benign_edge_share: float = 0.75  # relationships this much in office hours or invoices drop out


@dataclass(frozen=True)
class ScoringConfig:
    """Everything the weights file holds."""

    flag_threshold: float
    cap: float
    params: IndicatorParams
    payer_rules: tuple[Rule, ...]
    payee_rules: tuple[Rule, ...]
    network: NetworkConfig
    payer_account_rules: tuple[Rule, ...] = ()
    payee_account_rules: tuple[Rule, ...] = ()
    community: CommunityConfig = field(default_factory=CommunityConfig)
    calibration: dict[str, float] = field(default_factory=dict)
    """Logistic curve from score to probability per role: {payer_slope, payer_intercept, ...}."""

    def account_rules(self, role: str) -> tuple[Rule, ...]:
        """The whole-ledger rules of `payer` or `payee` (peer groups, benign explanations)."""
        return self.payer_account_rules if role == "payer" else self.payee_account_rules

    def rules(self, role: str) -> tuple[Rule, ...]:
        """The rules of `payer` or `payee`."""
        return self.payer_rules if role == "payer" else self.payee_rules

    def score_sql(self, role: str) -> str:
        """The SQL expression of the role's score on one row."""
        return " + ".join(r.contribution_sql(self.cap) for r in self.rules(role)) or num(0)

    def features(self, role: str) -> list[str]:
        """Feature columns the role's rules read, in rule order, without repeats."""
        seen: dict[str, None] = {}
        for rule in self.rules(role):
            seen[rule.feature] = None
            for f in rule.requires:
                seen[f] = None
        return list(seen)


def _rule(raw: dict[str, Any], where: str) -> Rule:
    try:
        rule = Rule(
            name=str(raw["name"]),
            feature=str(raw["feature"]),
            weight=float(raw["weight"]),
            reason=str(raw.get("reason", raw["name"])),
            at_least=None if raw.get("at_least") is None else float(raw["at_least"]),
            at_most=None if raw.get("at_most") is None else float(raw["at_most"]),
            scaled=bool(raw.get("scaled", True)),
            requires={str(k): float(v) for k, v in (raw.get("requires") or {}).items()},
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"{where}: bad rule {raw!r} ({exc})") from exc
    if (rule.at_least is None) == (rule.at_most is None):
        raise InvalidInput(f"{where}: rule {rule.name} needs exactly one of at_least, at_most")
    if rule.at_least is not None and rule.at_least <= 0 and rule.scaled:
        raise InvalidInput(f"{where}: rule {rule.name}: a scaled at_least must be positive")
    return rule


def load_scoring(path: Path | None = None) -> ScoringConfig:
    """Read a weights file (default: the shipped `weights.yaml`)."""
    if path is None:
        text = resources.files("safestream.finance").joinpath("weights.yaml").read_text()
        where = "default weights"
    else:
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise InvalidInput(f"cannot read weights file {path}: {exc}") from exc
        where = str(path)
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{where}: not YAML ({exc})") from exc
    network = raw.get("network") or {}
    try:
        return ScoringConfig(
            flag_threshold=float(raw.get("flag_threshold", 4.0)),
            cap=float(raw.get("cap", 2.0)),
            params=IndicatorParams.from_mapping(raw.get("parameters")),
            payer_rules=tuple(_rule(r, where) for r in raw.get("payer_rules") or []),
            payee_rules=tuple(_rule(r, where) for r in raw.get("payee_rules") or []),
            network=NetworkConfig(**network),
            payer_account_rules=tuple(
                _rule(r, where) for r in raw.get("payer_account_rules") or []
            ),
            payee_account_rules=tuple(
                _rule(r, where) for r in raw.get("payee_account_rules") or []
            ),
            community=CommunityConfig(**(raw.get("community") or {})),
            calibration={str(k): float(v) for k, v in (raw.get("calibration") or {}).items()},
        )
    except TypeError as exc:
        raise InvalidInput(f"{where}: {exc}") from exc


def fired(values: dict[str, Any], rules: tuple[Rule, ...], cap: float) -> list[tuple[float, str]]:
    """The rules that fired on one row: (points, `name=value (+points): text`)."""
    out: list[tuple[float, str]] = []
    for rule in rules:
        points = rule.contribution(values, cap)
        if points != 0:
            value = float(values[rule.feature])
            shown = f"{value:.0f}" if value == int(value) else f"{value:.2f}"
            out.append((points, f"{rule.name}={shown} ({points:+.2f}): {rule.reason}"))
    return out


def reasons(values: dict[str, Any], rules: tuple[Rule, ...], cap: float) -> list[str]:
    """The rules that fired on one row, as `name=value (+points): text`, strongest first."""
    return strongest_first(fired(values, rules, cap))


def strongest_first(parts: list[tuple[float, str]]) -> list[str]:
    """Reason texts ordered by the size of their points, negative ones included."""
    return [text for _, text in sorted(parts, key=lambda pair: -abs(pair[0]))]


def accounts_sql(config: ScoringConfig, role: str) -> str:
    """Per account of `role`: best score, its row's features, first flag and baseline flag.

    Reads the table `features`. Ties are broken by time then transaction id, so every engine
    picks the same row.
    """
    key = f"{role}_id"
    threshold = num(config.flag_threshold)
    feature_cols = "".join(f"{c}, " for c in config.features(role))
    where = "WHERE is_transfer = 1" if role == "payee" else ""
    baseline = "baseline_30" if role == "payer" else "CAST(0 AS BIGINT)"
    return f"""
WITH scored AS (
  SELECT {key} AS account_id, t, tx_id, {baseline} AS baseline_30, {feature_cols}
         {config.score_sql(role)} AS score
  FROM features {where}
),
ranked AS (
  SELECT scored.*,
    ROW_NUMBER() OVER (PARTITION BY account_id ORDER BY score DESC, t DESC, tx_id DESC) AS best,
    ROW_NUMBER() OVER (PARTITION BY account_id, score >= {threshold} ORDER BY t, tx_id)
      AS flag_order,
    ROW_NUMBER() OVER (PARTITION BY account_id, baseline_30 >= 3 ORDER BY t, tx_id)
      AS base_order
  FROM scored
),
firsts AS (
  SELECT account_id,
    MAX(CASE WHEN score >= {threshold} AND flag_order = 1 THEN tx_id END) AS first_flag_tx_id,
    MAX(CASE WHEN score >= {threshold} AND flag_order = 1 THEN t END) AS first_flag_t,
    MAX(CASE WHEN baseline_30 >= 3 AND base_order = 1 THEN tx_id END) AS baseline_tx_id,
    MAX(CASE WHEN baseline_30 >= 3 AND base_order = 1 THEN t END) AS baseline_t,
    MAX(baseline_30) AS baseline_max
  FROM ranked GROUP BY account_id
)
SELECT '{role}' AS role, ranked.account_id, {feature_cols}ranked.score,
       ranked.tx_id AS best_tx_id,
       firsts.first_flag_tx_id, firsts.first_flag_t,
       firsts.baseline_tx_id, firsts.baseline_t, firsts.baseline_max
FROM ranked JOIN firsts ON ranked.account_id = firsts.account_id
WHERE ranked.best = 1
"""
