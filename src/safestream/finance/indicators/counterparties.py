"""Counterparty indicators per payer: #3 one payer to many payees, #17 links to shared payees.

`new_payees_W` counts HRJ payees first paid within the window by a customer with history (so
the start of a ledger does not make every payee look new); `hub_links_W` counts transfers
to payees that already had several distinct payers when paid (the many-to-one side seen from
the payer, AUSTRAC's "common beneficiary").
"""

from __future__ import annotations

from safestream.finance.indicators.params import WINDOWS_DAYS, IndicatorParams, running_count

PAYER = "payer_id"


def columns(p: IndicatorParams) -> list[str]:
    """Running payer counterparty features at each row."""
    hub = (
        f"CASE WHEN is_transfer = 1 AND payee_payers_total >= {p.hub_min_payers} THEN 1 ELSE 0 END"
    )
    cols = [f"{running_count('is_new_pair', PAYER, None)} AS payees_total"]
    for w in WINDOWS_DAYS:
        cols += [
            f"{running_count('is_new_pair * is_established', PAYER, w)} AS new_payees_{w}",
            f"{running_count(hub, PAYER, w)} AS hub_links_{w}",
        ]
    return cols
