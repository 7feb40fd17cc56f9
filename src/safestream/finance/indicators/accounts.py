"""Whole-ledger indicators per account: peer groups, relationships and benign explanations.

The per-transaction windows say what an account did; these say how that compares with its
peers and what else explains it. They read `account_transfers` (the view of
`transfers_sql`: the transfers into high-risk countries with the row flags of `flags`, taken
from the ledger rows rather than from `features`, so the time windows need not carry the
columns only this stage reads):
- `edges`: one row per payer-payee relationship (count, span, amount spread, regularity, the
  share of night, office-hours, invoice and cover-memo payments). A *stable* relationship is a
  long, regular one at steady amounts: family support or a salary; a *regular* one keeps a
  steady cadence whatever the amounts (payroll, invoices on a schedule).
- payer accounts: the payer's shares of office-hours, invoice and stable payments, and its
  amounts and night share against its **peer group**, the segment payer country x payee
  country x channel (each transfer compared with its own segment, then averaged), so a corridor
  full of family remittances or freelance payments sets its own normal.
- payee accounts: how the payee is paid (office hours, invoices, stable relationships).
"""

from __future__ import annotations

from safestream.finance.indicators import flags
from safestream.finance.indicators.params import DAY_SECONDS, IndicatorParams, num

EDGE_COLUMNS = (
    "payer_id",
    "payee_id",
    "n",
    "first_t",
    "last_t",
    "usd",
    "night",
    "business",
    "invoice",
    "cover",
    "stable",
    "regular",
)


def transfers_sql(p: IndicatorParams, source: str) -> str:
    """Transfers into high-risk countries from `source` (`ledger` or `ledger_relevant`)."""
    return f"""
SELECT payer_id, payee_id, t, tx_id, payer_country, payee_country, channel, amount_usd,
       is_night, is_business, is_invoice, is_memo
FROM (SELECT {source}.*, {", ".join(flags.columns(p))} FROM {source}
      WHERE {flags.event_filter(p)}) AS ev
WHERE is_transfer = 1"""


def edges_sql(p: IndicatorParams) -> str:
    """One row per payer-payee relationship into high-risk countries."""
    span_days = f"(MAX(t) - MIN(t)) / {num(DAY_SECONDS)}"
    gap_cv = "STDDEV_SAMP(gap) / NULLIF(AVG(gap), 0)"
    amount_cv = "STDDEV_SAMP(amount_usd) / NULLIF(AVG(amount_usd), 0)"
    return f"""
SELECT payer_id, payee_id, COUNT(*) AS n, MIN(t) AS first_t, MAX(t) AS last_t,
  SUM(amount_usd) AS usd,
  SUM(is_night) AS night, SUM(is_business) AS business, SUM(is_invoice) AS invoice,
  SUM(is_memo) AS cover,
  CASE WHEN COUNT(*) >= {p.stable_min_tx} AND {span_days} >= {num(p.stable_min_days)}
        AND {gap_cv} <= {num(p.stable_max_gap_cv)} AND {amount_cv} <= {num(p.stable_max_amount_cv)}
       THEN 1 ELSE 0 END AS stable,
  CASE WHEN COUNT(*) >= {p.regular_min_tx} AND {gap_cv} <= {num(p.regular_max_gap_cv)}
       THEN 1 ELSE 0 END AS regular
FROM (
  SELECT payer_id, payee_id, t, amount_usd, is_night, is_business, is_invoice, is_memo,
    CAST(t - LAG(t) OVER (PARTITION BY payer_id, payee_id ORDER BY t, tx_id) AS DOUBLE) AS gap
  FROM account_transfers
) AS e
GROUP BY payer_id, payee_id"""


def payer_accounts_sql(p: IndicatorParams) -> str:
    """Per payer: benign shares and peer-group comparisons (reads `edges` too)."""
    return f"""
WITH tr AS (
  SELECT payer_id, payee_id, payer_country, payee_country, channel, is_night, is_business,
         is_invoice, LN(amount_usd) AS log_usd
  FROM account_transfers
),
seg AS (
  SELECT payer_country, payee_country, channel, AVG(log_usd) AS seg_log_usd,
         AVG(CAST(is_night AS DOUBLE)) AS seg_night, COUNT(DISTINCT payer_id) AS seg_payers
  FROM tr GROUP BY payer_country, payee_country, channel
),
rel AS (
  SELECT tr.payer_id, tr.is_night - seg.seg_night AS night_rel, tr.log_usd - seg.seg_log_usd
         AS log_usd_rel, tr.is_business, tr.is_invoice,
         CASE WHEN seg.seg_payers >= {p.peer_min_payers} THEN 1 ELSE 0 END AS has_peers
  FROM tr JOIN seg ON tr.payer_country = seg.payer_country
    AND tr.payee_country = seg.payee_country AND tr.channel = seg.channel
),
per AS (
  SELECT payer_id, COUNT(*) AS acct_transfers,
    AVG(CAST(is_business AS DOUBLE)) AS business_share,
    AVG(CAST(is_invoice AS DOUBLE)) AS invoice_share,
    CASE WHEN SUM(has_peers) > 0 THEN EXP(SUM(has_peers * log_usd_rel) / SUM(has_peers)) END
      AS amount_vs_peers,
    CASE WHEN SUM(has_peers) > 0 THEN SUM(has_peers * night_rel) / SUM(has_peers) END
      AS night_vs_peers
  FROM rel GROUP BY payer_id
),
rels AS (
  SELECT payer_id, COUNT(*) AS acct_payees, SUM(stable * n) AS stable_tx,
    SUM(regular) AS regular_payees,
    MAX(CASE WHEN stable = 1 THEN (last_t - first_t) / {num(DAY_SECONDS)} END) AS stable_days
  FROM edges GROUP BY payer_id
)
SELECT per.payer_id AS account_id, per.acct_transfers, rels.acct_payees,
  per.business_share, per.invoice_share, per.amount_vs_peers, per.night_vs_peers,
  rels.stable_tx / CAST(per.acct_transfers AS DOUBLE) AS stable_share, rels.stable_days,
  rels.regular_payees
FROM per JOIN rels ON per.payer_id = rels.payer_id"""


def payee_accounts_sql(p: IndicatorParams) -> str:
    """Per payee: how it is paid (reads `edges`)."""
    return """
SELECT payee_id AS account_id, COUNT(*) AS in_payers, SUM(n) AS in_transfers,
  SUM(business) / CAST(SUM(n) AS DOUBLE) AS in_business_share,
  SUM(invoice) / CAST(SUM(n) AS DOUBLE) AS in_invoice_share,
  SUM(stable * n) / CAST(SUM(n) AS DOUBLE) AS in_stable_share,
  SUM(night) / CAST(SUM(n) AS DOUBLE) AS in_night_share,
  SUM(CASE WHEN n = 1 THEN 1 ELSE 0 END) / CAST(COUNT(*) AS DOUBLE) AS in_one_off_share
FROM edges GROUP BY payee_id"""
