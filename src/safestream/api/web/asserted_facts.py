"""Whose word raised a case: the priority-raising facts its reports assert, with their senders.

A child in danger now, a stream live when reported, a place: these raise priority or route a
case, and outside SafeStream's own detectors they are what a reporting organisation said. The
case page lists each next to the rules that fired, with the organisations that asserted it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from safestream.core.reports import Report


@dataclass(frozen=True)
class AssertedFact:
    """One fact the case's reports assert, and the organisations that did (first seen first)."""

    label: str
    orgs: tuple[str, ...]


def asserted_facts(reports: Iterable[Report]) -> list[AssertedFact]:
    """Child in danger, live stream and each named country, with who said so."""
    said: dict[str, dict[str, None]] = {}

    def add(label: str, org: str) -> None:
        said.setdefault(label, {})[org] = None

    for report in reports:
        body = report.body
        if body.child_in_danger:
            add("child in danger now", report.org)
        if body.live_now:
            add("stream live when reported", report.org)
        for country, _why in body.country_hints():
            add(f"in {country}", report.org)
    return [AssertedFact(label, tuple(orgs)) for label, orgs in said.items()]
