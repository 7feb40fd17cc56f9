"""Measures the field uses, for SafeStream's score and for the one-rule baseline.

Positives are the label file's offenders (payers) and facilitators (payees). Metrics: precision
at k (k = investigator capacity), PR-AUC (average precision; ROC-AUC misleads at 0.1%
prevalence), recall of the flag, and the median number of transfers into high-risk countries an
offender made up to and including the one that raised the flag.

The baseline is the rule banks commonly run: flag a payer with three or more transfers under
100 USD to a high-risk country within 30 days. A rule gives alerts, not a ranking, so its
precision at k counts its first k alerts in the order they were raised; the line ranked by the
rule's own count is printed too.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
from sklearn.metrics import average_precision_score

from safestream.core.errors import InvalidInput
from safestream.finance.alerts import ScoredAccounts
from safestream.finance.engine import LedgerEngine

K_VALUES: tuple[int, ...] = (50, 100, 500)
POSITIVE = {"payer": "offender", "payee": "facilitator"}


@dataclass(frozen=True)
class Labels:
    """Ground truth from a label file: account -> (label, kind), per role."""

    by_role: dict[str, dict[str, tuple[str, str]]]

    def positives(self, role: str) -> set[str]:
        """Accounts of `role` that are offenders (payers) or facilitators (payees)."""
        want = POSITIVE[role]
        return {a for a, (label, _) in self.by_role.get(role, {}).items() if label == want}

    def kind(self, role: str, account: str) -> str:
        """The sub-kind (one_off, occasional, prolific) of an offender, else ''."""
        return self.by_role.get(role, {}).get(account, ("", ""))[1]


def load_labels(path: Path) -> Labels:
    """Read a label file (account_id, role, label[, kind])."""
    by_role: dict[str, dict[str, tuple[str, str]]] = {"payer": {}, "payee": {}}
    try:
        with open(path, newline="") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames is None or not {"account_id", "role", "label"} <= set(
                reader.fieldnames
            ):
                raise InvalidInput(f"{path}: label file needs account_id, role, label columns")
            for row in reader:
                role = row["role"]
                if role in by_role:
                    by_role[role][row["account_id"]] = (row["label"], row.get("kind") or "")
    except OSError as exc:
        raise InvalidInput(f"cannot read label file {path}: {exc}") from exc
    return Labels(by_role)


@dataclass
class Metrics:
    """One detector's figures on one role."""

    name: str
    precision_at: dict[int, float]
    pr_auc: float
    recall: float
    flagged: int
    median_tx_before_flag: float
    median_tx_before_flag_prolific: float
    notes: list[str] = field(default_factory=list)


def precision_at(ranked: list[str], positives: set[str], k: int) -> float:
    """Share of positives among the first k of `ranked` (over k, even if fewer were ranked)."""
    if k <= 0:
        raise ValueError("k must be positive")
    return sum(1 for a in ranked[:k] if a in positives) / k


def _median(values: list[int]) -> float:
    return float(np.median(values)) if values else float("nan")


def transfers_until(engine: LedgerEngine, flags: dict[str, str]) -> dict[str, int]:
    """Per payer: its transfers into HRJs up to and including the flagging transaction."""
    if not flags:
        return {}
    engine.register(
        "eval_flags",
        pa.table({"account_id": list(flags), "flag_tx_id": list(flags.values())}),
    )
    rows = engine.query(
        """
SELECT g.account_id, COUNT(*) AS n
FROM eval_flags g
JOIN features x ON x.tx_id = g.flag_tx_id
JOIN features f ON f.payer_id = g.account_id
WHERE f.is_transfer = 1 AND (f.t < x.t OR (f.t = x.t AND f.tx_id <= x.tx_id))
GROUP BY g.account_id"""
    )
    return dict(zip(rows["account_id"].to_pylist(), rows["n"].to_pylist(), strict=True))


def _metrics(
    name: str,
    role: str,
    ranked: list[str],
    score: dict[str, float],
    flags: dict[str, str],
    labels: Labels,
    engine: LedgerEngine,
) -> Metrics:
    positives = labels.positives(role)
    universe = sorted(set(labels.by_role.get(role, {})) | set(score))
    y = np.array([a in positives for a in universe])
    s = np.array([score.get(a, 0.0) for a in universe])
    pr_auc = float(average_precision_score(y, s)) if y.any() else float("nan")
    caught = {a: f for a, f in flags.items() if a in positives}
    counts: dict[str, int] = transfers_until(engine, caught) if role == "payer" else {}
    prolific = [n for a, n in counts.items() if labels.kind(role, a) == "prolific"]
    return Metrics(
        name=name,
        precision_at={k: precision_at(ranked, positives, k) for k in K_VALUES},
        pr_auc=pr_auc,
        recall=len(caught) / len(positives) if positives else float("nan"),
        flagged=len(flags),
        median_tx_before_flag=_median(list(counts.values())),
        median_tx_before_flag_prolific=_median(prolific),
    )


def evaluate(
    engine: LedgerEngine, scored: ScoredAccounts, labels: Labels
) -> dict[str, list[Metrics]]:
    """SafeStream's figures per role, and the baseline's on payers."""
    out: dict[str, list[Metrics]] = {}
    for role in ("payer", "payee"):
        t = scored.role(role).to_pydict()
        accounts: list[str] = t["account_id"]
        # After learning, rank by what the alerts rank by (the model's probability if trained).
        key = "rank_key" if "rank_key" in t else "score"
        score = dict(zip(accounts, t[key], strict=True))
        ranked = sorted(accounts, key=lambda a: (-score[a], a))
        flags = {
            a: f
            for a, f, s in zip(accounts, t["first_flag_tx_id"], t["score"], strict=True)
            if f is not None and s >= scored.threshold
        }
        out[role] = [_metrics("safestream", role, ranked, score, flags, labels, engine)]
        if role == "payer":
            base = {
                a: (bt, btx, float(bm or 0))
                for a, bt, btx, bm in zip(
                    accounts, t["baseline_t"], t["baseline_tx_id"], t["baseline_max"], strict=True
                )
            }
            fired = {a: v for a, v in base.items() if v[0] is not None}
            queue = sorted(fired, key=lambda a: (fired[a][0], a))
            count = {a: v[2] for a, v in base.items()}
            by_count = sorted(fired, key=lambda a: (-count[a], a))
            flags_b = {a: str(v[1]) for a, v in fired.items()}
            out[role].append(
                _metrics("baseline (alert order)", role, queue, count, flags_b, labels, engine)
            )
            out[role].append(
                _metrics(
                    "baseline (ranked by count)", role, by_count, count, flags_b, labels, engine
                )
            )
    return out


def format_report(results: dict[str, list[Metrics]]) -> str:
    """A plain-text table of the figures, one line per detector and role."""
    head = (
        f"{'role':6} {'detector':28} "
        + " ".join(f"{'P@' + str(k):>6}" for k in K_VALUES)
        + f" {'PR-AUC':>7} {'recall':>7} {'flagged':>8} {'tx<=flag':>9} {'prolific':>9}"
    )
    lines = [head, "-" * len(head)]
    for role, rows in results.items():
        for m in rows:
            lines.append(
                f"{role:6} {m.name:28} "
                + " ".join(f"{m.precision_at[k]:6.3f}" for k in K_VALUES)
                + f" {m.pr_auc:7.3f} {m.recall:7.3f} {m.flagged:8d}"
                + f" {m.median_tx_before_flag:9.1f} {m.median_tx_before_flag_prolific:9.1f}"
            )
    return "\n".join(lines)
