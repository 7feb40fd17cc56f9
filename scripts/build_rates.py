"""Rebuild `src/safestream/finance/rates.csv`: every ISO 4217 currency in circulation, in USD.

Run by hand when the table should be refreshed (needs the dev packages `pycountry` and
`currencyconverter`, which ships the European Central Bank's reference rates):

    .venv/bin/python scripts/build_rates.py 2026-10-30

Each row says where its rate came from: the ECB reference rate of the given date, a fixed
peg (to the euro or the dollar, official and stable), or an approximate market rate for the
currencies the ECB does not publish. Approximate rates are good enough to put an amount in a
value band (the indicators compare amounts with 100-200 USD thresholds); an institution
replaces the table with its own (`--rates`).
"""

from __future__ import annotations

import csv
import sys
from datetime import date
from pathlib import Path

import pycountry
from currency_converter import CurrencyConverter

OUT = Path(__file__).resolve().parent.parent / "src/safestream/finance/rates.csv"

# fmt: off
# Funds, precious metals, accounting units and test codes: not money anyone remits.
NOT_IN_CIRCULATION = {
    "BOV", "CHE", "CHW", "CLF", "COU", "MXV", "USN", "UYI", "UYW", "XAD", "XAG", "XAU",
    "XBA", "XBB", "XBC", "XBD", "XDR", "XPD", "XPT", "XSU", "XTS", "XUA", "XXX",
}
# Units per euro, fixed by law or currency board.
EURO_PEGS = {
    "XOF": 655.957, "XAF": 655.957, "XPF": 119.331742, "BAM": 1.95583, "KMF": 491.96775,
    "CVE": 110.265, "STN": 24.5, "BGN": 1.95583, "HRK": 7.5345,
}
# Units per US dollar, fixed or held in a narrow band by the central bank.
DOLLAR_PEGS = {
    "USD": 1.0, "AED": 3.6725, "SAR": 3.75, "BHD": 0.376, "OMR": 0.3845, "QAR": 3.64,
    "JOD": 0.709, "BMD": 1.0, "BSD": 1.0, "PAB": 1.0, "BBD": 2.0, "BZD": 2.0, "XCD": 2.7,
    "KYD": 0.8333, "AWG": 1.79, "XCG": 1.79, "ANG": 1.79, "ERN": 15.0, "DJF": 177.721,
    "CUP": 24.0, "TMT": 3.5, "AZN": 1.7, "BOB": 6.91, "LBP": 89500.0, "SVC": 8.75,
}
# Same value as another currency (currency boards and 1:1 parities).
PARITIES = {
    "LSL": "ZAR", "NAD": "ZAR", "SZL": "ZAR", "BTN": "INR", "BND": "SGD", "FKP": "GBP",
    "GIP": "GBP", "SHP": "GBP", "VED": "VES",
}
# Approximate units per US dollar (2025-2026 market levels, rounded); not reference rates.
APPROXIMATE = {
    "AFN": 70, "ALL": 92, "AMD": 390, "AOA": 915, "ARS": 1400, "BDT": 122, "BIF": 2950,
    "BWP": 13.6, "BYN": 3.2, "CDF": 2850, "CLP": 950, "COP": 3900, "CRC": 505, "DOP": 63,
    "DZD": 130, "EGP": 48.5, "ETB": 150, "FJD": 2.27, "GEL": 2.7, "GHS": 11.5, "GMD": 72,
    "GNF": 8650, "GTQ": 7.67, "GYD": 209, "HNL": 26.2, "HTG": 131, "IQD": 1310,
    "IRR": 42000, "JMD": 160, "KES": 129, "KGS": 87.4, "KHR": 4010, "KPW": 900,
    "KWD": 0.306, "KZT": 530, "LAK": 21600, "LKR": 300, "LRD": 180, "LYD": 5.45,
    "MAD": 9.2, "MDL": 17.0, "MGA": 4500, "MKD": 53, "MMK": 2100, "MNT": 3590, "MOP": 8.0,
    "MRU": 39.8, "MUR": 45.5, "MVR": 15.42, "MWK": 1750, "MZN": 63.9, "NGN": 1500,
    "NIO": 36.8, "NPR": 140, "PEN": 3.5, "PGK": 4.1, "PKR": 281, "PYG": 7300, "RSD": 100,
    "RWF": 1440, "SBD": 8.4, "SCR": 14.3, "SDG": 600, "SLE": 23, "SOS": 571, "SRD": 38,
    "SSP": 4500, "SYP": 13000, "TJS": 9.5, "TND": 2.95, "TOP": 2.4, "TTD": 6.78, "TWD": 31,
    "TZS": 2450, "UAH": 41.5, "UGX": 3600, "UYU": 40, "UZS": 12000, "VES": 200,
    "RUB": 80, "VND": 26000, "VUV": 120, "WST": 2.75, "YER": 240, "ZMW": 23, "ZWG": 26.8,
}
# fmt: on


def main(day: str) -> None:
    on = date.fromisoformat(day)
    ecb = CurrencyConverter(fallback_on_missing_rate=True)
    codes = sorted({c.alpha_3 for c in pycountry.currencies} - NOT_IN_CIRCULATION)
    codes = sorted(set(codes) | set(EURO_PEGS) | set(DOLLAR_PEGS))
    usd_per_eur = ecb.convert(1, "EUR", "USD", date=on)
    rows: dict[str, tuple[float, str]] = {}
    for code in codes:
        if code in DOLLAR_PEGS:
            rows[code] = (1 / DOLLAR_PEGS[code], "peg to USD")
        elif code in EURO_PEGS:
            rows[code] = (usd_per_eur / EURO_PEGS[code], "peg to EUR (ECB EUR/USD)")
        elif code in ecb.currencies and ecb.bounds[code].last_date >= on:
            rows[code] = (ecb.convert(1, code, "USD", date=on), f"ECB reference {on}")
        elif code in APPROXIMATE:
            rows[code] = (1 / APPROXIMATE[code], "approximate market rate 2025-26")
    # Crypto assets the ledger's `crypto` channel carries (rounded market levels).
    rows["BTC"] = (90000.0, "approximate market rate 2025-26 (not ISO 4217)")
    rows["USDT"] = (1.0, "peg to USD (stablecoin, not ISO 4217)")
    for code, other in PARITIES.items():
        rows[code] = (rows[other][0], f"par with {other}")
    missing = sorted(set(codes) - set(rows))
    if missing:
        raise SystemExit(f"no rate for {', '.join(missing)}")
    with open(OUT, "w", newline="") as fh:
        fh.write(f"# US dollars per unit; built {on} by scripts/build_rates.py. Sources per row.\n")
        writer = csv.writer(fh)
        writer.writerow(["currency", "usd_per_unit", "source"])
        for code in sorted(rows):
            value, source = rows[code]
            writer.writerow([code, f"{value:.8g}", source])
    print(f"{len(rows)} currencies -> {OUT}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "2026-10-30")
