"""#11 switching payment channels and #15 crypto transfers into HRJs."""

from __future__ import annotations

from safestream.finance.indicators.params import IndicatorParams, frame

PAYER = "payer_id"


def columns(p: IndicatorParams) -> list[str]:
    """Channel switches between consecutive HRJ transfers, and crypto ones, over 90 days."""
    return [
        f"SUM(is_switch) {frame(PAYER, 90)} AS switches_90",
        f"SUM(is_crypto) {frame(PAYER, 90)} AS crypto_hrj_90",
        f"SUM(is_new_corridor) {frame(PAYER, 90)} AS new_corridors_90",
    ]
