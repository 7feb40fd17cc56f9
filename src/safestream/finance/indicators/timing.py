"""#8 late-night and early-morning transfers, in the payer's local time, against its own habit."""

from __future__ import annotations

from safestream.finance.indicators.params import IndicatorParams, frame

PAYER = "payer_id"


def columns(p: IndicatorParams) -> list[str]:
    """Night transfers into HRJs over 90 days (the share and excess come in `escalation`)."""
    return [f"SUM(is_transfer * is_night) {frame(PAYER, 90)} AS night_hrj_90"]
