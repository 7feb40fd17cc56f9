"""#11 switching payment channels and #15 crypto transfers into HRJs."""

from __future__ import annotations

from safestream.finance.indicators.params import IndicatorParams, running_count

PAYER = "payer_id"


def columns(p: IndicatorParams) -> list[str]:
    """Channel switches between consecutive HRJ transfers, and crypto ones, over 90 days."""
    return [
        f"{running_count('is_switch', PAYER, 90)} AS switches_90",
        f"{running_count('is_crypto', PAYER, 90)} AS crypto_hrj_90",
        f"{running_count('is_new_corridor', PAYER, 90)} AS new_corridors_90",
    ]
