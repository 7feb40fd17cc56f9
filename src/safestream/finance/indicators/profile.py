"""The payer's whole-ledger profile: first activity and usual night share (baseline for #8, #16)."""

from __future__ import annotations

from safestream.finance.indicators.params import IndicatorParams


def query(p: IndicatorParams) -> str:
    """One row per payer over all of its rows, domestic spending included."""
    local_hour = "CAST(FLOOR(((t + payer_utc_offset_minutes * 60) % 86400) / 3600) AS INTEGER)"
    return f"""
SELECT payer_id AS profile_payer_id,
       MIN(t) AS payer_first_t,
       COUNT(*) AS payer_rows,
       AVG(CASE WHEN {local_hour} >= {p.night_start_hour} OR {local_hour} < {p.night_end_hour}
                THEN CAST(1 AS DOUBLE) ELSE CAST(0 AS DOUBLE) END) AS payer_night_share
FROM ledger
GROUP BY payer_id"""
