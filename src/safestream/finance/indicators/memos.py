"""#9 cover memos and #10 even amounts on HRJ transfers (weak alone: families use them too)."""

from __future__ import annotations

from safestream.finance.indicators.params import IndicatorParams, running_count

PAYER = "payer_id"


def columns(p: IndicatorParams) -> list[str]:
    """Counts over 90 days of HRJ transfers with a cover memo, and with an even amount."""
    return [
        f"{running_count('is_transfer * is_memo', PAYER, 90)} AS memo_hrj_90",
        f"{running_count('is_transfer * is_even', PAYER, 90)} AS even_hrj_90",
    ]
