"""What reviewers decided on the cases a detector's reports went to, in the principal's scope.

A detector learns from these (`finance.reporting.decisions_from_store`): each of its reports
names what it flagged in its idempotency key, and the decision on its case says whether the
flag held up. A case merged into another was decided there, so merges are followed to the case
that holds the decision; a case outside the principal's scope counts as undecided.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from safestream.core.cases import Decision
from safestream.core.principal import Principal
from safestream.store.database import Database
from safestream.store.models.cases import CaseRow
from safestream.store.models.reports import ReportRow
from safestream.store.scope import cases_visible, reports_visible


@dataclass(frozen=True)
class DetectorReportOutcome:
    """One of a detector's reports in a case, and the decision on that case (None: undecided)."""

    idempotency_key: str | None
    decision: Decision | None


def _decision(
    cases: dict[int | None, tuple[str | None, int | None]], case_id: int | None
) -> str | None:
    decision, merged = cases.get(case_id, (None, None))
    seen = {case_id}
    while merged is not None and merged not in seen:  # a merge cycle must not hang the reader
        seen.add(merged)
        decision, merged = cases.get(merged, (None, None))
    return decision


class DetectorOutcomeRepository:
    """Reviewers' decisions on detectors' reports, read for an acting principal."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def outcomes(self, principal: Principal, detector: str) -> list[DetectorReportOutcome]:
        """Every report of `detector` linked to a case, both in the principal's scope, with the
        decision on its case after any merge."""
        with self.db.session() as s:
            cases: dict[int | None, tuple[str | None, int | None]] = {
                row.id: (row.decision, row.merged_into)
                for row in s.scalars(select(CaseRow).where(cases_visible(principal)))
            }
            reports = s.execute(
                select(ReportRow.idempotency_key, ReportRow.case_id).where(
                    ReportRow.detector == detector,
                    ReportRow.case_id.is_not(None),
                    reports_visible(principal),
                )
            ).all()
        outcomes = []
        for key, case_id in reports:
            decision = _decision(cases, case_id)
            outcomes.append(DetectorReportOutcome(key, Decision(decision) if decision else None))
        return outcomes
