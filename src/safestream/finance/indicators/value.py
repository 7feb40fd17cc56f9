"""Value indicators per payer: #1 low-value HRJ transfers, #2 destination risk, #7 value profile.

Also the one-rule baseline the field uses: transfers under 100 USD to an HRJ in 30 days.
"""

from __future__ import annotations

from safestream.finance.indicators.params import (
    WINDOWS_DAYS,
    IndicatorParams,
    frame,
    running_count,
)

PAYER = "payer_id"


def columns(p: IndicatorParams) -> list[str]:
    """Running payer value features at each row."""
    cols = [
        f"{running_count('is_transfer', PAYER, None)} AS hrj_total",
        f"{running_count('is_base', PAYER, 30)} AS baseline_30",
    ]
    for w in WINDOWS_DAYS:
        cols += [
            f"{running_count('is_low', PAYER, w)} AS low_hrj_{w}",
            f"{running_count('is_transfer', PAYER, w)} AS hrj_{w}",
            f"SUM(is_transfer * amount_usd) {frame(PAYER, w)} AS hrj_usd_{w}",
            f"MAX(is_transfer * dest_risk) {frame(PAYER, w)} AS risk_max_{w}",
        ]
    amount = "CASE WHEN is_transfer = 1 THEN amount_usd END"
    cols += [
        f"MIN({amount}) {frame(PAYER, 365)} AS hrj_min_usd_365",
        f"MAX({amount}) {frame(PAYER, 365)} AS hrj_max_usd_365",
        f"STDDEV_SAMP({amount}) {frame(PAYER, 365)} AS hrj_std_usd_365",
        f"MIN(CASE WHEN is_transfer = 1 THEN t END) {frame(PAYER, 365)} AS hrj_first_t_365",
        f"MIN(CASE WHEN is_transfer = 1 THEN t END) {frame(PAYER, None)} AS hrj_first_t",
        # Family support runs on a schedule; a low spread of gaps marks it (not in the table).
        f"STDDEV_SAMP(gap_days) {frame(PAYER, 365)} / NULLIF(AVG(gap_days) {frame(PAYER, 365)}, 0)"
        " AS gap_cv_365",
    ]
    return cols
