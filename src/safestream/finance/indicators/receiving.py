"""The receiving side, per payee: #4 many payers to one payee, #18 facilitator inflows.

Windows run over the payee's inbound transfers into a high-risk country, in time order, so each
row carries what the payee looked like when that payment arrived.
"""

from __future__ import annotations

from safestream.finance.indicators.params import (
    WINDOWS_DAYS,
    IndicatorParams,
    num,
    running_count,
)


def columns(p: IndicatorParams) -> list[str]:
    """Running payee features at each inbound transfer (NULL on other rows)."""
    by_payee = "payee_id, is_transfer"
    small = f"CASE WHEN amount_usd <= {num(p.small_inbound_usd)} THEN 1 ELSE 0 END"
    cols = [
        f"{running_count('is_new_pair', by_payee, None)} AS payee_payers_total",
        f"{running_count('is_new_source_country', by_payee, None)} AS payee_countries_total",
    ]
    for w in WINDOWS_DAYS:
        cols += [
            f"{running_count('is_new_pair', by_payee, w)} AS payee_new_payers_{w}",
            f"{running_count('1', by_payee, w)} AS payee_in_{w}",
            f"{running_count(small, by_payee, w)} AS payee_small_in_{w}",
        ]
    cols.append(f"{running_count('is_night', by_payee, 90)} AS payee_night_in_90")
    return cols
