"""First-seen and change flags: #3 new payee, #11 channel switch, #16 new corridor, #18 new source.

Also the gap since the payer's previous transfer into an HRJ, for the regularity measure.

Each uses one ordering of a partition, so the flags are exact in time order: a transfer is
"new" when no earlier row of the same pair exists.
"""

from __future__ import annotations

from safestream.finance.indicators.params import DAY_SECONDS, IndicatorParams, num


def columns(p: IndicatorParams) -> list[str]:
    """Sequence flags per row (0 or 1), plus the payer's tenure when the row happened."""
    order = "ORDER BY t, tx_id"
    return [
        "CASE WHEN is_transfer = 1 AND ROW_NUMBER() OVER "
        f"(PARTITION BY payer_id, payee_id, is_transfer {order}) = 1 THEN 1 ELSE 0 END"
        " AS is_new_pair",
        "CASE WHEN is_transfer = 1 AND ROW_NUMBER() OVER "
        f"(PARTITION BY payer_id, payee_country, is_transfer {order}) = 1"
        f" AND t - payer_first_t >= {p.new_corridor_min_tenure_days * DAY_SECONDS}"
        " THEN 1 ELSE 0 END AS is_new_corridor",
        "CASE WHEN is_transfer = 1 AND ROW_NUMBER() OVER "
        f"(PARTITION BY payee_id, payer_country, is_transfer {order}) = 1 THEN 1 ELSE 0 END"
        " AS is_new_source_country",
        "CASE WHEN is_transfer = 1 AND channel <> LAG(channel) OVER "
        f"(PARTITION BY payer_id, is_transfer {order}) THEN 1 ELSE 0 END AS is_switch",
        f"CASE WHEN t - payer_first_t >= {p.new_corridor_min_tenure_days * DAY_SECONDS}"
        " THEN 1 ELSE 0 END AS is_established",
        "CASE WHEN is_transfer = 1 THEN (t - LAG(t) OVER "
        f"(PARTITION BY payer_id, is_transfer {order})) / {num(DAY_SECONDS)} END AS gap_days",
    ]
