"""From a loaded ledger to ranked alerts: indicators, rule scores, network expansion, reasons.

`score_accounts` returns every payer and payee that made or received a relevant transaction,
with its final score; `alerts_table` keeps the flagged ones in the documented output format:
role, account_id, score, rank (1 = most suspicious, per role), reasons, first_flag_tx_id.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from safestream.core.errors import InvalidInput
from safestream.finance.context import AccountStage, account_stage
from safestream.finance.engine import LedgerEngine
from safestream.finance.graph import neighbour_share, personalised_pagerank
from safestream.finance.indicators.flags import event_filter
from safestream.finance.indicators.pipeline import features_sql
from safestream.finance.scoring import ROLES, ScoringConfig, accounts_sql, fired, strongest_first

FLAG_THRESHOLD_KEY = "flag_threshold"
ALERT_COLUMNS = ("role", "account_id", "score", "rank", "reasons", "first_flag_tx_id")
NETWORK_REASON = "linked by payments to flagged accounts (personalised PageRank share)"


log = logging.getLogger(__name__)


@contextmanager
def _stage(name: str) -> Iterator[None]:
    """Log how long a scoring stage took, so a slow run shows where its time went."""
    began = time.perf_counter()
    yield
    log.info("%s: %.1f s", name, time.perf_counter() - began)


@dataclass
class ScoredAccounts:
    """Every scored account of both roles, with rule score, network points and final score."""

    table: pa.Table
    threshold: float
    features: dict[str, pa.Table] = field(default_factory=dict)
    """Per role: every account's numeric indicators, in the order of `role(...)` (for learning)."""

    def role(self, role: str) -> pa.Table:
        """Rows of one role."""
        return self.table.filter(pc.equal(self.table["role"], role))


# What scoring, the network, evaluation and filing read from `features` besides rule features.
KEY_COLUMNS = (
    "tx_id",
    "t",
    "payer_id",
    "payee_id",
    "is_transfer",
    "baseline_30",
)


def scoring_columns(config: ScoringConfig) -> list[str]:
    """The `features` columns that scoring and everything after it read."""
    return list(dict.fromkeys([*KEY_COLUMNS, *config.features("payer"), *config.features("payee")]))


def relevant_rows(config: ScoringConfig) -> str:
    """The condition on ledger rows that the indicators read; pass it to `LedgerEngine.load`."""
    return event_filter(config.params)


def compute_features(
    engine: LedgerEngine, config: ScoringConfig, columns: Sequence[str] | None = None
) -> None:
    """Materialise the per-transaction indicator table `features`: every column, or `columns`."""
    # When the load kept the relevant rows, read them instead of scanning the file again.
    kept = engine.relevant == relevant_rows(config)
    source = "ledger_relevant" if kept else "ledger"
    engine.materialise("features", features_sql(config.params, columns, source))


def _network_points(
    engine: LedgerEngine,
    config: ScoringConfig,
    accounts: dict[str, list[str]],
    scores: dict[str, np.ndarray],
    known: set[str],
) -> dict[tuple[str, str], float]:
    """PageRank share earned from flagged or known accounts, times the network weight."""
    edges = engine.query(
        "SELECT payer_id, payee_id, COUNT(*) AS n FROM features "
        "WHERE is_transfer = 1 GROUP BY payer_id, payee_id"
    )
    if edges.num_rows == 0:
        return {}
    payers = edges["payer_id"].to_pylist()
    payees = edges["payee_id"].to_pylist()
    names = sorted({f"payer:{a}" for a in payers} | {f"payee:{b}" for b in payees})
    index = {name: i for i, name in enumerate(names)}
    src = np.array([index[f"payer:{a}"] for a in payers])
    dst = np.array([index[f"payee:{b}"] for b in payees])
    restart = np.zeros(len(names))
    top = 0.0
    for role in ROLES:
        top = max(top, float(scores[role].max()) if len(scores[role]) else 0.0)
        for account, score in zip(accounts[role], scores[role], strict=True):
            node = index.get(f"{role}:{account}")
            if node is not None and score >= config.flag_threshold:
                restart[node] = score
    for name in known:
        for role in ROLES:
            node = index.get(f"{role}:{name}")
            if node is not None:
                restart[node] = max(top, config.flag_threshold)
    net = config.network
    rank = personalised_pagerank(
        src,
        dst,
        edges["n"].to_numpy().astype(np.float64),
        len(names),
        restart,
        net.damping,
        net.iterations,
    )
    share = neighbour_share(rank, restart, net.damping)
    out: dict[tuple[str, str], float] = {}
    for name, s in zip(names, share, strict=True):
        if s >= net.min_share:
            role, account = name.split(":", 1)
            out[(role, account)] = float(s)
    return out


def _network_first_flags(
    engine: LedgerEngine, role: str, raised: list[str], suspects: pa.Table
) -> dict[str, str]:
    """For accounts raised by the network: the transfer that linked them to a suspect one.

    The first transfer with a flagged counterparty at or after that counterparty's first flag;
    if every such transfer came before, the latest of them (the link seen in hindsight).
    """
    if not raised or suspects.num_rows == 0:
        return {}
    me, other = ("payer_id", "payee_id") if role == "payer" else ("payee_id", "payer_id")
    engine.register("net_raised", pa.table({"account_id": raised}))
    engine.register(
        "net_flagged",
        pa.table({"account_id": suspects["account_id"], "flag_t": suspects["first_flag_t"]}),
    )
    rows = engine.query(
        f"""
SELECT account_id, tx_id FROM (
  SELECT f.{me} AS account_id, f.tx_id,
    ROW_NUMBER() OVER (PARTITION BY f.{me}
      ORDER BY CASE WHEN f.t >= g.flag_t THEN 0 ELSE 1 END,
               CASE WHEN f.t >= g.flag_t THEN f.t ELSE -f.t END, f.tx_id) AS k
  FROM features f
  JOIN net_raised r ON f.{me} = r.account_id
  JOIN net_flagged g ON f.{other} = g.account_id
  WHERE f.is_transfer = 1
) WHERE k = 1"""
    )
    return dict(zip(rows["account_id"].to_pylist(), rows["tx_id"].to_pylist(), strict=True))


def score_accounts(
    engine: LedgerEngine,
    config: ScoringConfig,
    known: set[str] | None = None,
    network: bool = True,
) -> ScoredAccounts:
    """Score every account of the loaded ledger (needs `ledger`; builds `features`)."""
    known = known or set()
    # Only the columns scoring reads: at 100 million rows the full table would not fit in memory.
    with _stage("indicators"):
        compute_features(engine, config, scoring_columns(config))
    with _stage("account scores"):
        rule = {role: engine.query(accounts_sql(config, role)) for role in ROLES}
    accounts = {role: rule[role]["account_id"].to_pylist() for role in ROLES}
    base = {
        role: rule[role]["score"].to_numpy(zero_copy_only=False).astype(np.float64)
        for role in ROLES
    }
    with _stage("peers, benign explanations and communities"):
        stage = account_stage(engine, config, accounts, base)
    adjusted = {role: base[role] + stage.points[role] for role in ROLES}
    with _stage("network"):
        points = _network_points(engine, config, accounts, adjusted, known) if network else {}
    share = {
        role: np.array([points.get((role, a), 0.0) for a in accounts[role]], dtype=np.float64)
        for role in ROLES
    }
    final = {role: adjusted[role] + config.network.weight * share[role] for role in ROLES}
    tables = []
    for role in ROLES:
        texts = _reason_texts(config, role, rule[role], stage.reasons[role], share[role])
        table = _role_table(engine, config, role, rule, base, final, texts, known)
        table = table.append_column("account_points", pa.array(stage.points[role]))
        tables.append(table.append_column("network_share", pa.array(share[role])))
    learnable = {
        role: _learnable(config, role, rule[role], stage.tables[role], tables[i], stage, share)
        for i, role in enumerate(ROLES)
    }
    return ScoredAccounts(pa.concat_tables(tables), config.flag_threshold, learnable)


def _learnable(
    config: ScoringConfig,
    role: str,
    rule: pa.Table,
    account: pa.Table,
    scored: pa.Table,
    stage: AccountStage,
    share: dict[str, np.ndarray],
) -> pa.Table:
    """Every numeric indicator of each account, aligned with `scored` (for the learned model)."""
    ids = scored["account_id"].to_pylist()
    cols: dict[str, pa.Array] = {"account_id": pa.array(ids, pa.string())}
    for name in config.features(role):
        cols[name] = rule[name].cast(pa.float64())
    where = {a: i for i, a in enumerate(account["account_id"].to_pylist())}
    pick = pa.array([where.get(a) for a in ids], pa.int64())
    for name in account.column_names:
        if name != "account_id":
            cols[f"acct_{name}"] = account[name].cast(pa.float64()).take(pick)
    cols["rule_score"] = scored["rule_score"]
    cols["account_points"] = scored["account_points"]
    cols["community"] = pa.array(stage.community[role])
    cols["network_share"] = pa.array(share[role])
    return pa.table(cols)


def _reason_texts(
    config: ScoringConfig,
    role: str,
    rule: pa.Table,
    stage: list[list[tuple[float, str]]],
    share: np.ndarray,
) -> list[str]:
    """Each account's reasons: rules of its best row, then account stage and network."""
    texts = []
    for row, extra, s in zip(rule.to_pylist(), stage, share, strict=True):
        parts = fired(row, config.rules(role), config.cap) + extra
        if s > 0:
            pts = config.network.weight * s
            parts.append((pts, f"network={s:.2f} (+{pts:.2f}): {NETWORK_REASON}"))
        texts.append("; ".join(strongest_first(parts)))
    return texts


def _role_table(
    engine: LedgerEngine,
    config: ScoringConfig,
    role: str,
    rule: dict[str, pa.Table],
    base: dict[str, np.ndarray],
    final: dict[str, np.ndarray],
    texts: list[str],
    known: set[str],
) -> pa.Table:
    t = rule[role]
    accounts = t["account_id"].to_pylist()
    # Accounts the rules alone did not flag get the transfer linking them to a suspect account.
    raised = [
        a
        for a, b, f in zip(accounts, base[role], final[role], strict=True)
        if b < config.flag_threshold <= f
    ]
    raised_set = set(raised)
    other = "payee" if role == "payer" else "payer"
    suspects = _suspect_counterparties(rule[other], final[other], config, known)
    linked = _network_first_flags(engine, role, raised, suspects)
    # Failing that (the account stage raised it, in hindsight), its strongest transaction.
    first = [
        linked.get(a, f if f is not None or a not in raised_set else best)
        for a, f, best in zip(
            accounts,
            t["first_flag_tx_id"].to_pylist(),
            t["best_tx_id"].cast(pa.string()).to_pylist(),
            strict=True,
        )
    ]
    return pa.table(
        {
            "role": pa.array([role] * len(accounts), pa.string()),
            "account_id": pa.array(accounts, pa.string()),
            "rule_score": pa.array(base[role]),
            "score": pa.array(final[role]),
            "reasons": pa.array(texts, pa.string()),
            "first_flag_tx_id": pa.array(first, pa.string()),
            "baseline_tx_id": t["baseline_tx_id"].cast(pa.string()),
            "baseline_t": t["baseline_t"].cast(pa.int64()),
            "baseline_max": t["baseline_max"].cast(pa.int64()),
        }
    )


def _suspect_counterparties(
    table: pa.Table, final: np.ndarray, config: ScoringConfig, known: set[str]
) -> pa.Table:
    """Accounts flagged in the end or known, with the time their rules first flagged them.

    A known account, or one flagged only through the network, counts from its first payment.
    """
    accounts = table["account_id"].to_pylist()
    keep = [
        i
        for i, (a, f) in enumerate(zip(accounts, final, strict=True))
        if f >= config.flag_threshold or a in known
    ]
    flag_t = table["first_flag_t"].to_pylist()
    return pa.table(
        {
            "account_id": pa.array([accounts[i] for i in keep], pa.string()),
            "first_flag_t": pa.array([flag_t[i] or 0 for i in keep], pa.int64()),
        }
    )


def alerts_table(scored: ScoredAccounts) -> pa.Table:
    """The flagged accounts, ranked per role (1 = most suspicious), in the output format.

    After `learning.apply_learning`, a probability column follows the score, an account whose
    probability reaches one half is flagged too, and the rank follows the learned model's
    probability when one was trained (else the transparent score).
    The flag threshold the scores were cut at travels in the schema metadata (`flag_threshold`),
    so a score filed later can say how far above it the account was.
    """
    parts = []
    for role in ROLES:
        t = scored.role(role)
        learned = "probability" in t.column_names
        flagged = pc.greater_equal(t["score"], scored.threshold)
        if learned:
            flagged = pc.or_(flagged, pc.greater_equal(t["probability"], 0.5))
        t = t.filter(flagged)
        key = "rank_key" if learned else "score"
        order = pc.sort_indices(t, [(key, "descending"), ("account_id", "ascending")])
        t = t.take(order)
        cols = {
            "role": t["role"],
            "account_id": t["account_id"],
            "score": pc.round(t["score"], 4),
            "rank": pa.array(np.arange(1, t.num_rows + 1, dtype=np.int64)),
            "reasons": t["reasons"],
            "first_flag_tx_id": t["first_flag_tx_id"],
        }
        if learned:
            cols["probability"] = pc.round(t["probability"], 4)
        parts.append(pa.table(cols))
    table = pa.concat_tables(parts)
    return table.replace_schema_metadata({FLAG_THRESHOLD_KEY: str(scored.threshold)})


def write_alerts(table: pa.Table, path: Path) -> None:
    """Write alerts as Parquet, or CSV when the file name ends in .csv."""
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        pacsv.write_csv(table, path)
    elif suffix in (".parquet", ".pq"):
        pq.write_table(table, path)
    else:
        raise InvalidInput(f"{path}: alerts file must end in .parquet or .csv")
