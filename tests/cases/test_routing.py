"""Cases are routed from a data file mapping countries and platforms to authorities."""

from __future__ import annotations

import pytest

from safestream.cases.routing import CountryHint, load_table


def _codes(countries: list[str], platform: str | None = None) -> list[str]:
    hints = [CountryHint(c, "location hint") for c in countries]
    return [a.code for a in load_table().route(hints, platform)]


@pytest.mark.parametrize(
    ("country", "authority"),
    [
        ("AU", "AFP"),
        ("GB", "NCA"),
        ("PH", "PNP-WCPC"),
        ("TH", "TICAC"),
        ("DE", "EC3"),
        ("FR", "EC3"),
    ],
)
def test_country_routes_to_its_authority(country: str, authority: str) -> None:
    assert _codes([country]) == [authority]


def test_us_platform_reports_to_ncmec_wherever_the_abuse_was() -> None:
    assert _codes(["PH"], platform="US") == ["NCMEC", "PNP-WCPC"]


def test_unknown_country_goes_to_interpol() -> None:
    assert _codes(["BR"]) == ["INTERPOL"]


def test_each_authority_is_listed_once_with_its_first_reason() -> None:
    routed = load_table().route(
        [CountryHint("PH", "location hint"), CountryHint("PH", "stream viewer")]
    )
    assert [(a.code, a.reason) for a in routed] == [("PNP-WCPC", "location hint in PH")]
