"""Thresholds the indicators use, read from the `parameters` section of the weights file."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from safestream.core.errors import InvalidInput

WINDOWS_DAYS: tuple[int, ...] = (30, 90, 365)
DAY_SECONDS = 86_400


@dataclass(frozen=True)
class IndicatorParams:
    """Thresholds of the indicators (amounts in US dollars)."""

    low_value_usd: float = 150.0
    baseline_usd: float = 100.0
    small_inbound_usd: float = 200.0
    hub_min_payers: int = 3
    night_start_hour: int = 22
    night_end_hour: int = 4
    prolific_max_avg_usd: float = 36.0
    prolific_max_gap_days: float = 20.0
    prolific_min_tx: int = 21
    escalation_min_tx: int = 6
    escalation_amount_ratio: float = 1.3
    escalation_rate_ratio: float = 1.5
    new_corridor_min_tenure_days: int = 60
    cover_memo_words: tuple[str, ...] = field(
        default=(
            "school",
            "fees",
            "gift",
            "uniform",
            "medical",
            "hospital",
            "accommodation",
            "family",
            "allowance",
            "kids",
            "tuition",
            "@",
            "http",
        )
    )
    # Memos of pay for work: the benign explanation of many small transfers to many payees.
    # A regular expression over the lower-cased memo. No backslashes: Spark SQL would read
    # them as string escapes, so word edges are spelled out as `(^|[^a-z])`.
    invoice_memo_pattern: str = (
        "invoice|(^|[^a-z])inv([^a-z]|$)|(^|[^a-z])inv[0-9]|salary|payroll|wage|contract"
        "|retainer|services|consult|freelanc|(^|[^a-z])hours([^a-z]|$)|project|commission"
        "|timesheet|milestone|(^|[^a-z])va([^a-z]|$)|virtual assist|(^|[^a-z])po[-#: ]?[0-9]"
        "|purchase order|remuneration|stipend"
    )
    # A stable relationship: long, regular, steady amounts (family support, a salary).
    stable_min_tx: int = 4
    stable_min_days: float = 90.0
    stable_max_gap_cv: float = 0.6
    stable_max_amount_cv: float = 0.35
    # A regular relationship: a steady cadence (payroll), amounts free.
    regular_min_tx: int = 3
    regular_max_gap_cv: float = 0.35
    # A peer segment (payer country x payee country x channel) needs this many payers to count.
    peer_min_payers: int = 20
    business_start_hour: int = 8
    business_end_hour: int = 18
    travel_categories: tuple[str, ...] = ("airline", "hotel", "atm", "jewellery")
    purchase_categories: tuple[str, ...] = (
        "vpn",
        "livestream_platform",
        "webcam",
        "spyware",
        "video_capture",
        "encryption",
    )

    @classmethod
    def from_mapping(cls, raw: dict[str, Any] | None) -> IndicatorParams:
        """Build from a YAML mapping; unknown keys are an error so typos do not pass silently."""
        raw = dict(raw or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise InvalidInput(f"unknown indicator parameter(s): {', '.join(unknown)}")
        for key in ("cover_memo_words", "travel_categories", "purchase_categories"):
            if key in raw:
                raw[key] = tuple(str(v).lower() for v in raw[key])
        return cls(**raw)


def num(value: float) -> str:
    """A numeric SQL literal typed DOUBLE on every engine (Spark reads `1.5` as a DECIMAL)."""
    return f"CAST({float(value)!r} AS DOUBLE)"


def sql_list(values: tuple[str, ...]) -> str:
    """A SQL list literal of strings, quotes escaped."""
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def frame(partition: str, days: int | None) -> str:
    """A time window over one account's rows: the last `days` days, or everything so far."""
    # Every frame orders by t alone, so one sort per partition serves all of them; rows at the
    # same second are peers and count together, on every engine alike.
    if days is None:
        return (
            f"OVER (PARTITION BY {partition} ORDER BY t "
            "RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
        )
    return (
        f"OVER (PARTITION BY {partition} ORDER BY t "
        f"RANGE BETWEEN {days * DAY_SECONDS - 1} PRECEDING AND CURRENT ROW)"
    )


def running_count(flags: str, partition: str, days: int | None) -> str:
    """A window count of rows whose 0/1 `flags` expression is 1, typed INTEGER."""
    # SUM widens integers to 128 bits (DuckDB) or 64 (Spark): in a features table of tens of
    # millions of rows every count column would take four times the memory it needs.
    return f"CAST(SUM({flags}) {frame(partition, days)} AS INTEGER)"
