"""Assembles the indicator modules into one query: a row per relevant transaction with features.

Stages, each a CTE: `ev` (rows into HRJs and purchases, with flags), `profile` (the payer's
whole-ledger habits), `seq` (first-seen and switch flags), `recv` (payee windows), `pay` (payer
windows), `der` (ratios and profiles), `feat` (sequence rules over the derived flags).
"""

from __future__ import annotations

from safestream.finance.indicators import (
    channels,
    counterparties,
    escalation,
    flags,
    memos,
    novelty,
    profile,
    purchases,
    receiving,
    timing,
    value,
)
from safestream.finance.indicators.params import IndicatorParams


def _select(source: str, cols: list[str]) -> str:
    return f"SELECT {source}.*,\n  " + ",\n  ".join(cols) + f"\nFROM {source}"


def features_sql(p: IndicatorParams) -> str:
    """The whole indicator query over the table `ledger` (DuckDB dialect)."""
    payer_cols = [
        *value.columns(p),
        *counterparties.columns(p),
        *timing.columns(p),
        *memos.columns(p),
        *channels.columns(p),
        *purchases.columns(p),
    ]
    return f"""
WITH ev AS (
  SELECT ledger.*,
  {", ".join(flags.columns(p))}
  FROM ledger
  WHERE {flags.event_filter(p)}
),
profile AS ({profile.query(p)}),
joined AS (
  SELECT ev.*, profile.payer_first_t, profile.payer_night_share
  FROM ev JOIN profile ON ev.payer_id = profile.profile_payer_id
),
seq AS ({_select("joined", novelty.columns(p))}),
recv AS ({_select("seq", receiving.columns(p))}),
pay AS ({_select("recv", payer_cols)}),
der AS ({_select("pay", escalation.derived(p))}),
feat AS ({_select("der", escalation.sequenced(p))})
SELECT * FROM feat
"""
