"""#5 escalation, #6 the prolific profile, #8 night share and excess, #14 escalation then travel.

Escalation compares the last 30 days with the 335 days before them: the average amount rose
and payments came more often. Prolific follows AIC T&I 634: over 20 payments, small on average,
at intervals under 20 days.
"""

from __future__ import annotations

from safestream.finance.indicators.params import DAY_SECONDS, IndicatorParams, frame, num

PAYER = "payer_id"


def derived(p: IndicatorParams) -> list[str]:
    """Ratios and profiles computed from the running counts of the same row."""
    earlier_n = "(hrj_365 - hrj_30)"
    earlier_avg = f"(hrj_usd_365 - hrj_usd_30) / NULLIF({earlier_n}, 0)"
    recent_avg = "hrj_usd_30 / NULLIF(hrj_30, 0)"
    amount_ratio = f"({recent_avg}) / NULLIF({earlier_avg}, 0)"
    rate_ratio = f"hrj_30 / NULLIF({earlier_n} / {num(11)}, 0)"
    mean_gap_days = f"(t - hrj_first_t_365) / {num(DAY_SECONDS)} / NULLIF(hrj_365 - 1, 0)"
    return [
        f"{amount_ratio} AS escalation_amount_ratio",
        f"{rate_ratio} AS escalation_rate_ratio",
        f"CASE WHEN hrj_365 >= {p.escalation_min_tx} AND hrj_30 >= 3"
        f" AND {amount_ratio} >= {num(p.escalation_amount_ratio)}"
        f" AND {rate_ratio} >= {num(p.escalation_rate_ratio)} THEN 1 ELSE 0 END AS is_escalating",
        "hrj_usd_365 / NULLIF(hrj_365, 0) AS hrj_avg_usd_365",
        f"{mean_gap_days} AS hrj_mean_gap_days_365",
        f"CASE WHEN hrj_total >= {p.prolific_min_tx}"
        f" AND hrj_usd_365 / NULLIF(hrj_365, 0) < {num(p.prolific_max_avg_usd)}"
        f" AND {mean_gap_days} < {num(p.prolific_max_gap_days)} THEN 1 ELSE 0 END AS is_prolific",
        "night_hrj_90 / NULLIF(CAST(hrj_90 AS DOUBLE), 0) AS night_share_90",
        "night_hrj_90 / NULLIF(CAST(hrj_90 AS DOUBLE), 0) - payer_night_share AS night_excess_90",
    ]


def sequenced(p: IndicatorParams) -> list[str]:
    """#14: travel spending while escalation was seen in the 90 days before."""
    return [
        f"MAX(is_escalating) {frame(PAYER, 90)} AS escalated_90",
        f"CASE WHEN travel_30 > 0 AND MAX(is_escalating) {frame(PAYER, 90)} = 1"
        " THEN 1 ELSE 0 END AS travel_after_escalation",
    ]
