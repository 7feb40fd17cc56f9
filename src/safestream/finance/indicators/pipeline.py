"""Assembles the indicator modules into one query: a row per relevant transaction with features.

Stages, each a CTE: `ev` (rows into HRJs and purchases, with flags), `profile` (the payer's
whole-ledger habits), `seq` (first-seen and switch flags), `recv` (payee windows), `pay` (payer
windows), `der` (ratios and profiles), `feat` (sequence rules over the derived flags).
"""

from __future__ import annotations

from collections.abc import Sequence

from safestream.core.errors import InvalidInput
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

KEPT_LEDGER_COLUMNS: tuple[str, ...] = (
    "tx_id",
    "t",
    "payer_id",
    "payer_country",
    "payee_id",
    "payee_country",
    "channel",
    "merchant_category",
    "payer_age",
    "amount_usd",
    "dest_risk",
)
"""Ledger columns carried into `features`; the rest (memo text, raw amounts) stay behind."""


def _names(cols: list[str]) -> list[str]:
    return [c.rsplit(" AS ", 1)[1].strip() for c in cols]


def _select(source: str, cols: list[str]) -> str:
    return f"SELECT {source}.*,\n  " + ",\n  ".join(cols) + f"\nFROM {source}"


def features_sql(
    p: IndicatorParams, columns: Sequence[str] | None = None, source: str = "ledger"
) -> str:
    """The indicator query (DuckDB dialect) over `source`: all columns, or `columns`.

    `source` is `ledger` or a table of its rows holding at least the relevant ones (those of
    `flags.event_filter`), such as `ledger_relevant`. Naming only the columns a caller reads
    lets the engine drop the windows nobody reads and keeps sorts and result narrow.
    """
    payer_cols = [
        *value.columns(p),
        *counterparties.columns(p),
        *timing.columns(p),
        *memos.columns(p),
        *channels.columns(p),
        *purchases.columns(p),
    ]
    produced = [
        *_names(flags.columns(p)),
        "payer_first_t",
        "payer_night_share",
        *_names(novelty.columns(p)),
        *_names(receiving.columns(p)),
        *_names(payer_cols),
        *_names(escalation.derived(p)),
        *_names(escalation.sequenced(p)),
    ]
    everything = [*KEPT_LEDGER_COLUMNS, *produced]
    unknown = sorted(set(columns or ()) - set(everything))
    if unknown:
        raise InvalidInput(f"no such indicator column(s): {', '.join(unknown)}")
    kept = ", ".join(columns if columns is not None else everything)
    return f"""
WITH ev AS (
  SELECT {source}.*,
  {", ".join(flags.columns(p))}
  FROM {source}
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
SELECT {kept} FROM feat
"""
