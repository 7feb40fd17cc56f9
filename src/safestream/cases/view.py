"""A read-only view of one case: what triage and routing rules read (rules never touch the
store). The facts are aggregated by `store.case_facts` inside the linking transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from safestream.core.cases import CaseStatus, FactValue
from safestream.store.case_facts import case_facts
from safestream.store.database import Transaction


@dataclass(frozen=True)
class CaseView:
    """Everything rules may read about a case; rules never touch the store."""

    case_id: int
    priority: int
    facts_: dict[str, FactValue]
    countries: tuple[tuple[str, str], ...] = ()  # (country, how it is known)
    platform_country: str | None = None
    report_ids: tuple[str, ...] = field(default_factory=tuple)
    status: str = CaseStatus.OPEN.value

    def facts(self) -> dict[str, FactValue]:
        """The facts named in the triage file."""
        return dict(self.facts_)


def load_view(s: Transaction, case_id: int) -> CaseView:
    """Aggregate a case's facts inside the caller's transaction."""
    views = load_views(s, [case_id])
    if case_id not in views:
        raise LookupError(f"case {case_id} vanished during linking")
    return views[case_id]


def load_views(s: Transaction, case_ids: Sequence[int]) -> dict[int, CaseView]:
    """The views of many cases, aggregated with one query per kind of fact; ids of cases that do
    not exist are left out."""
    return {
        case_id: CaseView(case_id, f.priority, f.facts, f.countries, f.platform_country)
        for case_id, f in case_facts(s, case_ids).items()
    }
