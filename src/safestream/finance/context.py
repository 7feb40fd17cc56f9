"""The account stage of the score: peer groups, benign explanations and communities.

After the per-transaction rules, each account is looked at whole:
1. **Account rules** (`payer_account_rules`, `payee_account_rules` in the weights file) read the
   whole-ledger indicators of `indicators.accounts`: peer-group comparisons add points; benign
   explanations (office-hours payments, invoice or salary memos, long stable relationships,
   payees paid like businesses) take points away and are listed in the reasons like any rule.
2. **Communities** rank payees and payers together. A payee's community evidence is the sum,
   over the payers that pay it in ways no benign explanation covers, of how much each payer
   looks like an offender *on its own*; fan-in of unremarkable payers adds nothing. A payer
   then earns points from the most suspicious payee it pays, counting only the *other* payers
   of that payee: this is how a one-off payer of a facilitator is found.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from safestream.finance.engine import LedgerEngine
from safestream.finance.indicators import flags
from safestream.finance.indicators.accounts import (
    edges_sql,
    payee_accounts_sql,
    payer_accounts_sql,
    transfers_sql,
)
from safestream.finance.scoring import ScoringConfig, fired

COMMUNITY_PAYEE_REASON = "payers who look like offenders on their own (sum of their evidence)"
COMMUNITY_PAYER_REASON = "pays a payee whose other payers look like offenders"


@dataclass(frozen=True)
class AccountStage:
    """Per role: account ids, points and reasons the account stage adds."""

    points: dict[str, np.ndarray]
    reasons: dict[str, list[list[tuple[float, str]]]]
    community: dict[str, np.ndarray]
    tables: dict[str, pa.Table]


def account_features(engine: LedgerEngine, config: ScoringConfig) -> dict[str, pa.Table]:
    """Build `edges` and return the whole-ledger indicator tables of both roles."""
    kept = engine.relevant == flags.event_filter(config.params)
    source = "ledger_relevant" if kept else "ledger"
    engine.view("account_transfers", transfers_sql(config.params, source))
    engine.materialise("edges", edges_sql(config.params))
    payer = engine.query(payer_accounts_sql(config.params))
    payee = engine.query(payee_accounts_sql(config.params))
    # A payer's payees, as their other payers pay them: like businesses or not.
    like_business = engine.query(
        """
SELECT e.payer_id AS account_id,
  SUM(e.n * GREATEST(q.in_business_share, q.in_invoice_share)) / CAST(SUM(e.n) AS DOUBLE)
    AS payees_business_like
FROM edges e JOIN ("""
        + payee_accounts_sql(config.params)
        + """) q ON e.payee_id = q.account_id
GROUP BY e.payer_id"""
    )
    extra = dict(zip(like_business["account_id"].to_pylist(),
                     like_business["payees_business_like"].to_pylist(), strict=True))  # fmt: skip
    payer = payer.append_column(
        "payees_business_like",
        pa.array([extra.get(a) for a in payer["account_id"].to_pylist()], pa.float64()),
    )
    return {"payer": payer, "payee": payee}


def _rows_by_account(table: pa.Table) -> dict[str, dict[str, Any]]:
    return {row["account_id"]: row for row in table.to_pylist()}


def _account_points(
    config: ScoringConfig, role: str, accounts: list[str], table: pa.Table
) -> tuple[np.ndarray, list[list[tuple[float, str]]]]:
    rules = config.account_rules(role)
    rows = _rows_by_account(table)
    points = np.zeros(len(accounts))
    texts: list[list[tuple[float, str]]] = []
    for i, account in enumerate(accounts):
        values = rows.get(account, {})
        parts = fired(values, rules, config.cap)
        points[i] = sum(p for p, _ in parts)
        texts.append(parts)
    return points, texts


def _community(
    engine: LedgerEngine,
    config: ScoringConfig,
    payers: list[str],
    payees: list[str],
    payer_score: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Payee community evidence, payer link points' basis and the payee each payer links to."""
    c = config.community
    edges = engine.query(
        f"""SELECT payer_id, payee_id, n FROM edges
        WHERE stable = 0 AND business < {c.benign_edge_share} * n
          AND invoice < {c.benign_edge_share} * n"""
    )
    pi = {a: i for i, a in enumerate(payers)}
    qi = {a: i for i, a in enumerate(payees)}
    keep = [
        (pi[a], qi[b])
        for a, b in zip(edges["payer_id"].to_pylist(), edges["payee_id"].to_pylist(), strict=True)
        if a in pi and b in qi
    ]
    if not keep:
        return np.zeros(len(payees)), np.zeros(len(payers)), [""] * len(payers)
    rows, cols = (np.array(x) for x in zip(*keep, strict=True))
    graph = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(payers), len(payees)))
    looks = np.clip((payer_score - c.payer_floor) / c.payer_scale, 0.0, 1.0)
    evidence = np.asarray(graph.T @ looks).ravel()
    # What each payer's payees show without the payer itself: the best of them counts.
    other = graph.multiply(evidence[None, :]) - graph.multiply(looks[:, None])
    other = other.tocsr()
    best = np.zeros(len(payers))
    via = [""] * len(payers)
    for i in range(len(payers)):
        lo, hi = other.indptr[i], other.indptr[i + 1]
        if hi > lo:
            k = lo + int(np.argmax(other.data[lo:hi]))
            best[i] = max(0.0, float(other.data[k]))
            via[i] = payees[other.indices[k]]
    return evidence, best, via


def account_stage(
    engine: LedgerEngine,
    config: ScoringConfig,
    accounts: dict[str, list[str]],
    rule_score: dict[str, np.ndarray],
) -> AccountStage:
    """Points and reasons from account rules and communities, per role (needs `features`)."""
    tables = account_features(engine, config)
    points: dict[str, np.ndarray] = {}
    texts: dict[str, list[list[tuple[float, str]]]] = {}
    for role in ("payer", "payee"):
        points[role], texts[role] = _account_points(config, role, accounts[role], tables[role])
    c = config.community
    own = rule_score["payer"] + points["payer"]
    evidence, best, via = _community(engine, config, accounts["payer"], accounts["payee"], own)
    payee_pts = c.payee_weight * np.minimum(evidence, c.payee_cap)
    payer_pts = c.payer_weight * np.minimum(best / c.payer_full, 1.0)
    for i, pts in enumerate(payee_pts):
        if pts > 0:
            texts["payee"][i].append(
                (pts, f"community={evidence[i]:.2f} ({pts:+.2f}): {COMMUNITY_PAYEE_REASON}")
            )
    for i, pts in enumerate(payer_pts):
        if pts > 0:
            texts["payer"][i].append(
                (pts, f"community={best[i]:.2f} ({pts:+.2f}): {COMMUNITY_PAYER_REASON} ({via[i]})")
            )
    return AccountStage(
        points={"payer": points["payer"] + payer_pts, "payee": points["payee"] + payee_pts},
        reasons=texts,
        community={"payer": best, "payee": evidence},
        tables=tables,
    )
