"""The ledger schema: documented columns, row checks and the normalised transaction table.

Required columns: tx_id, ts (UTC), payer_id, payer_country, payee_id, payee_country, amount,
currency, channel. Optional: memo, merchant_category, payer_age. Extra columns are ignored.
A row that breaks the schema, or whose currency the rates table lacks, is reported with its
1-based data row number and skipped; a missing required column stops the run with a clear error.

The normalising query is written once (DuckDB dialect) and runs on every engine. It reads the
view `raw_ledger` (the file's columns plus `_row`) and the reference tables `ref_country` and
`ref_rate`, and yields one row per input row with `_problem` set when the row is unusable.
"""

from __future__ import annotations

from dataclasses import dataclass

from safestream.core.errors import InvalidInput

REQUIRED_COLUMNS: tuple[str, ...] = (
    "tx_id",
    "ts",
    "payer_id",
    "payer_country",
    "payee_id",
    "payee_country",
    "amount",
    "currency",
    "channel",
)
OPTIONAL_COLUMNS: tuple[str, ...] = ("memo", "merchant_category", "payer_age")
CHANNELS: tuple[str, ...] = (
    "bank",
    "remittance",
    "p2p_wallet",
    "card",
    "crypto",
    "gift_card",
    "cash",
)
MIN_PAYER_AGE = 10
MAX_PAYER_AGE = 120


@dataclass(frozen=True, order=True)
class RowProblem:
    """One skipped input row: its 1-based data row number and what was wrong."""

    row: int
    problem: str


def check_columns(columns: list[str]) -> None:
    """Raise `InvalidInput` naming every required column the ledger lacks."""
    present = {c.lower() for c in columns}
    missing = [c for c in REQUIRED_COLUMNS if c not in present]
    if missing:
        raise InvalidInput(f"ledger lacks required column(s): {', '.join(missing)}")


def _optional(name: str, columns: set[str], sql_type: str) -> str:
    return f"TRY_CAST({name} AS {sql_type})" if name in columns else f"CAST(NULL AS {sql_type})"


def normalise_sql(columns: list[str], checked: bool = True, skip_table: str | None = None) -> str:
    """The query typing `raw_ledger` rows, with `_problem` set on each unusable row.

    With `checked=False` the (costly) row checks are left out: use it once the problems are
    known, naming in `skip_table` a table of the `_row`s to leave out.
    """
    present = {c.lower() for c in columns}
    channels = ", ".join(f"'{c}'" for c in CHANNELS)
    problem = "CAST(NULL AS VARCHAR) AS _problem" if not checked else _problem_case(channels)
    skip = f"WHERE _row NOT IN (SELECT _row FROM {skip_table})" if skip_table else ""
    return f"""
WITH typed AS (
  SELECT
    _row,
    NULLIF(TRIM(CAST(tx_id AS VARCHAR)), '') AS tx_id,
    CAST(TRY_CAST(ts AS TIMESTAMPTZ) AS TIMESTAMP) AS ts,
    NULLIF(TRIM(CAST(payer_id AS VARCHAR)), '') AS payer_id,
    UPPER(TRIM(CAST(payer_country AS VARCHAR))) AS payer_country,
    NULLIF(TRIM(CAST(payee_id AS VARCHAR)), '') AS payee_id,
    UPPER(TRIM(CAST(payee_country AS VARCHAR))) AS payee_country,
    TRY_CAST(amount AS DOUBLE) AS amount,
    UPPER(TRIM(CAST(currency AS VARCHAR))) AS currency,
    LOWER(TRIM(CAST(channel AS VARCHAR))) AS channel,
    {_optional("memo", present, "VARCHAR")} AS memo,
    LOWER({_optional("merchant_category", present, "VARCHAR")}) AS merchant_category,
    {_optional("payer_age", present, "INTEGER")} AS payer_age,
    {"CAST(payer_age AS VARCHAR)" if "payer_age" in present else "CAST(NULL AS VARCHAR)"}
      AS payer_age_text
  FROM raw_ledger
  {skip}
)
SELECT
  typed._row,
  typed.tx_id,
  typed.ts,
  CAST(FLOOR(epoch(typed.ts)) AS BIGINT) AS t,
  typed.payer_id,
  typed.payer_country,
  typed.payee_id,
  typed.payee_country,
  typed.amount,
  typed.currency,
  typed.channel,
  typed.memo,
  typed.merchant_category,
  typed.payer_age,
  typed.amount * r.usd_per_unit AS amount_usd,
  COALESCE(pc.utc_offset_minutes, 0) AS payer_utc_offset_minutes,
  COALESCE(qc.hrj_risk, 0.0) AS dest_risk,
  {problem}
FROM typed
LEFT JOIN ref_rate AS r ON r.currency = typed.currency
LEFT JOIN ref_country AS pc ON pc.country = typed.payer_country
LEFT JOIN ref_country AS qc ON qc.country = typed.payee_country
"""


def _problem_case(channels: str) -> str:
    return f"""CASE
    WHEN typed.tx_id IS NULL THEN 'tx_id is missing'
    WHEN typed.ts IS NULL THEN 'ts is missing or not a timestamp'
    WHEN typed.payer_id IS NULL THEN 'payer_id is missing'
    WHEN typed.payee_id IS NULL THEN 'payee_id is missing'
    WHEN typed.payer_country IS NULL OR LENGTH(typed.payer_country) <> 2
      THEN 'payer_country is not a 2-letter code'
    WHEN typed.payee_country IS NULL OR LENGTH(typed.payee_country) <> 2
      THEN 'payee_country is not a 2-letter code'
    WHEN typed.amount IS NULL THEN 'amount is missing or not a number'
    WHEN NOT (typed.amount > 0) THEN 'amount is not positive'
    WHEN typed.currency IS NULL OR typed.currency = '' THEN 'currency is missing'
    WHEN typed.channel IS NULL OR typed.channel NOT IN ({channels})
      THEN 'channel is not one of {"|".join(CHANNELS)}'
    WHEN typed.payer_age_text IS NOT NULL AND TRIM(typed.payer_age_text) <> ''
      AND (typed.payer_age IS NULL
           OR typed.payer_age < {MIN_PAYER_AGE} OR typed.payer_age > {MAX_PAYER_AGE})
      THEN 'payer_age is not a whole number from {MIN_PAYER_AGE} to {MAX_PAYER_AGE}'
    ELSE NULL
  END AS _problem"""


LEDGER_COLUMNS: tuple[str, ...] = (
    "tx_id",
    "ts",
    "t",
    "payer_id",
    "payer_country",
    "payee_id",
    "payee_country",
    "amount",
    "currency",
    "channel",
    "memo",
    "merchant_category",
    "payer_age",
    "amount_usd",
    "payer_utc_offset_minutes",
    "dest_risk",
)
"""Columns of the clean `ledger` table every indicator reads."""
