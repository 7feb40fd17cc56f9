"""#8 late-night and early-morning transfers, in the payer's local time, against its own habit."""

from __future__ import annotations

from safestream.finance.indicators.params import IndicatorParams, running_count

PAYER = "payer_id"


def columns(p: IndicatorParams) -> list[str]:
    """Night transfers into HRJs over 90 days (the share and excess come in `escalation`)."""
    return [f"{running_count('is_transfer * is_night', PAYER, 90)} AS night_hrj_90"]
