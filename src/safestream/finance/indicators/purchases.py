"""#12 VPN and live-stream purchases, #13 travel spending in an HRJ (airfare, hotel, cash)."""

from __future__ import annotations

from safestream.finance.indicators.params import IndicatorParams, running_count

PAYER = "payer_id"


def columns(p: IndicatorParams) -> list[str]:
    """Purchases over 365 days and travel spending over 30 days."""
    return [
        f"{running_count('is_purchase', PAYER, 365)} AS purchases_365",
        f"{running_count('is_travel', PAYER, 30)} AS travel_30",
    ]
