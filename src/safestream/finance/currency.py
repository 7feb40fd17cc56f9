"""Exchange rates to US dollars: a default table ships with SafeStream and can be replaced.

The shipped table covers every ISO 4217 currency in circulation; each row names its source (ECB
reference rate of the table's date, an official peg, or an approximate market rate) and the
first line its date. `scripts/build_rates.py` rebuilds it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from safestream.core.errors import InvalidInput

DEFAULT_RATES_FILE = "rates.csv"


@dataclass(frozen=True)
class Rates:
    """US dollars per unit of each currency (ISO 4217 code, upper case)."""

    usd_per_unit: dict[str, float]

    def to_usd(self, currency: str) -> float:
        """Dollars per unit of `currency`; an unknown currency is an error."""
        try:
            return self.usd_per_unit[currency.upper()]
        except KeyError:
            raise InvalidInput(
                f"unknown currency {currency!r}: add it to the rates table"
            ) from None

    def unknown(self, currencies: list[str]) -> list[str]:
        """The currencies of `currencies` that this table cannot convert, sorted."""
        return sorted({c for c in currencies if c.upper() not in self.usd_per_unit})

    @classmethod
    def load(cls, path: Path | None = None) -> Rates:
        """Read a `currency,usd_per_unit` CSV; without a path, the shipped defaults."""
        if path is None:
            text = resources.files("safestream.finance").joinpath(DEFAULT_RATES_FILE).read_text()
            source = "default rates"
        else:
            try:
                text = Path(path).read_text()
            except OSError as exc:
                raise InvalidInput(f"cannot read rates file {path}: {exc}") from exc
            source = str(path)
        # Lines starting with '#' carry the table's date and sources.
        lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
        reader = csv.DictReader(lines)
        if reader.fieldnames is None or not {"currency", "usd_per_unit"} <= set(reader.fieldnames):
            raise InvalidInput(f"{source}: needs the columns currency,usd_per_unit")
        rates: dict[str, float] = {}
        for line, row in enumerate(reader, start=len(text.splitlines()) - len(lines) + 2):
            try:
                value = float(row["usd_per_unit"])
            except (TypeError, ValueError):
                raise InvalidInput(f"{source} line {line}: rate is not a number") from None
            if not value > 0:
                raise InvalidInput(f"{source} line {line}: rate must be positive")
            rates[row["currency"].strip().upper()] = value
        if not rates:
            raise InvalidInput(f"{source}: no rates")
        return cls(rates)
