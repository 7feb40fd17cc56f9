"""Row flags on the rows that can matter: transfers into high-risk countries and purchases.

#1 low-value transfer into an HRJ, #8 night in the payer's local time, #9 cover memo,
#10 even amount, #12 VPN or live-stream purchase, #13 travel spending in an HRJ, #15 crypto.
Benign explanations: invoice or salary memos, and weekday office hours in the payer's time.
"""

from __future__ import annotations

from safestream.finance.indicators.params import IndicatorParams, num, sql_list


def event_filter(p: IndicatorParams) -> str:
    """Rows kept for the indicators; ordinary domestic spending only feeds the payer profile."""
    return f"dest_risk > 0 OR merchant_category IN ({sql_list(p.purchase_categories)})"


def _regex_literal(word: str) -> str:
    return "".join("\\" + c if c in ".^$*+?()[]{}|\\" else c for c in word)


def _memo_test(pattern: str) -> str:
    # One regular expression over the lower-cased memo (RE2 in DuckDB, Java regex in Spark).
    escaped = pattern.replace("'", "''")
    return f"REGEXP_MATCHES(LOWER(COALESCE(memo, '')), '{escaped}')"


def columns(p: IndicatorParams) -> list[str]:
    """Flag columns (0 or 1) computed per row."""
    memo_test = _memo_test("|".join(_regex_literal(w) for w in p.cover_memo_words))
    local = "(t + payer_utc_offset_minutes * 60)"
    local_hour = f"CAST(FLOOR(({local} % 86400) / 3600) AS INTEGER)"
    # 1970-01-01 was a Thursday: (days + 3) % 7 counts from Monday = 0.
    weekday = f"CAST((FLOOR({local} / 86400) + 3) % 7 AS INTEGER)"
    transfer = "(dest_risk > 0 AND channel NOT IN ('card', 'cash'))"
    return [
        f"CASE WHEN {transfer} THEN 1 ELSE 0 END AS is_transfer",
        f"CASE WHEN {transfer} AND amount_usd <= {num(p.low_value_usd)} THEN 1 ELSE 0 END"
        " AS is_low",
        f"CASE WHEN {transfer} AND amount_usd < {num(p.baseline_usd)} THEN 1 ELSE 0 END AS is_base",
        f"CASE WHEN {local_hour} >= {p.night_start_hour} OR {local_hour} < {p.night_end_hour}"
        " THEN 1 ELSE 0 END AS is_night",
        f"CASE WHEN {memo_test} THEN 1 ELSE 0 END AS is_memo",
        f"CASE WHEN {_memo_test(p.invoice_memo_pattern)} THEN 1 ELSE 0 END AS is_invoice",
        f"CASE WHEN {weekday} < 5 AND {local_hour} >= {p.business_start_hour}"
        f" AND {local_hour} < {p.business_end_hour} THEN 1 ELSE 0 END AS is_business",
        "CASE WHEN amount % 10 = 0 THEN 1 ELSE 0 END AS is_even",
        "CASE WHEN dest_risk > 0 AND merchant_category IN "
        f"({sql_list(p.travel_categories)}) THEN 1 ELSE 0 END AS is_travel",
        f"CASE WHEN merchant_category IN ({sql_list(p.purchase_categories)})"
        " THEN 1 ELSE 0 END AS is_purchase",
        f"CASE WHEN {transfer} AND channel = 'crypto' THEN 1 ELSE 0 END AS is_crypto",
    ]
