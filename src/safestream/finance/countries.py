"""Reference facts per country: currency, standard-time UTC offset and high-risk weight.

High-risk jurisdictions (HRJ) are the destination countries named by FINTRAC (2020, 2025),
AUSTRAC and the Philippine AMLC for live-streamed abuse payments; the weight (0..1) ranks them.
Offsets ignore daylight saving: an hour's error does not move a payment across the night window.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from safestream.core.errors import InvalidInput


@dataclass(frozen=True)
class Country:
    """One country's reference facts."""

    code: str
    currency: str
    utc_offset_minutes: int
    hrj_risk: float

    @property
    def high_risk(self) -> bool:
        """Whether payments into this country count as going to a high-risk jurisdiction."""
        return self.hrj_risk > 0


def load_countries(path: Path | None = None) -> dict[str, Country]:
    """Read the country table (default: the shipped `countries.csv`), keyed by ISO code."""
    if path is None:
        text = resources.files("safestream.finance").joinpath("countries.csv").read_text()
    else:
        text = Path(path).read_text()
    table: dict[str, Country] = {}
    for line, row in enumerate(csv.DictReader(text.splitlines()), start=2):
        try:
            country = Country(
                code=row["country"].strip().upper(),
                currency=row["currency"].strip().upper(),
                utc_offset_minutes=int(row["utc_offset_minutes"]),
                hrj_risk=float(row["hrj_risk"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(f"country table line {line}: {exc}") from exc
        table[country.code] = country
    return table
