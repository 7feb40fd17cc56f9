"""The case engine: stored events go through rules to effects, which sinks apply.

Intake stores each report with its events (fast, durable); `CaseEngine.process_pending` takes
stored reports from that queue afterwards, each batch in one transaction: it reads their events
(never report bodies), runs the event rules registered for each event's type, links reports into
cases (`OpenOrJoinCase`), applies the other effects with one sink per effect type, then runs the
case rules (triage, routing, urgent alerts) on every case the batch touched. On PostgreSQL a
transaction-scoped advisory lock lets one linker run at a time across server workers, which keeps
one open case per subject.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from safestream.cases import rules, sinks
from safestream.cases.linking import link_reports
from safestream.cases.retry_backoff import MAX_RETRY_SECONDS, RetryBackoff
from safestream.cases.routing import RoutingTable, load_table, table_for
from safestream.cases.rules import EventRules, ReportView, default_rules
from safestream.cases.triage import TriageRules, load_rules, rules_for
from safestream.cases.view import load_views
from safestream.core.cases import CaseStatus
from safestream.core.config import Settings
from safestream.core.effects import Effect, OpenOrJoinCase
from safestream.core.entities import Entity
from safestream.store.database import Database, Transaction
from safestream.store.events import ClaimedReport, claim_reports, finish_reports
from safestream.store.linking import begin_linking, open_case_holders
from safestream.store.report_text import index_queued
from safestream.store.reports import ReportRepository

log = logging.getLogger(__name__)

LINKER_LOCK = 0x5AFE_0003
BATCH = 1000
# Reports a linker takes at once while a backlog waits: each batch re-aggregates the facts of every
# case it touches (a hot case holds thousands of reports) and costs a fixed round of statements,
# so larger batches drain faster (20,000-30,000 bench reports: 1,000 -> 1,000/s, 3,000 -> 1,250/s).
# Past about 3,000 nothing more is gained, and a batch holds its cases' rows locked while it runs.
BACKLOG_BATCH = 3000
# Queued reports whose words one round indexes at most, once the linker has caught up.
TEXT_INDEX_LIMIT = 10_000
# A report that fails to link on its own is held back before the next try (2 s, doubling, at
# most this long; see retry_backoff), so the reports stored after it are linked meanwhile.
RETRY_FAILED_SECONDS = MAX_RETRY_SECONDS


def report_effects(claimed: Sequence[ClaimedReport], event_rules: EventRules) -> list[Effect]:
    """Every effect the event rules ask for, report by report, event by event (pure)."""
    return [
        effect
        for report in claimed
        for event in report.events
        for effect in event_rules.effects(
            event, ReportView(report_id=report.report_id, org_id=report.org_id)
        )
    ]


@dataclass
class CaseEngine:
    """Links stored reports into cases with the organisation's triage and routing files."""

    db: Database
    triage_rules: TriageRules
    routing: RoutingTable
    retry_failed_seconds: float = RETRY_FAILED_SECONDS
    event_rules: EventRules = field(default_factory=default_rules)
    # Report id -> monotonic time before which it is not tried again.
    _held_back: dict[str, float] = field(default_factory=dict, repr=False)
    _retry: RetryBackoff = field(default_factory=RetryBackoff, repr=False)

    @classmethod
    def for_settings(cls, db: Database, settings: Settings | None = None) -> CaseEngine:
        """An engine with the home's rule files, or the packaged defaults."""
        if settings is None:
            return cls(db, load_rules(), load_table())
        return cls(db, rules_for(settings), table_for(settings))

    def _link_batch(
        self, s: Transaction, claimed: list[ClaimedReport], *, defer_text: bool = False
    ) -> dict[str, int]:
        """Apply the effects of the claimed reports' events, then assess every case they touched."""
        effects = report_effects(claimed, self.event_rules)
        joins = [e for e in effects if isinstance(e, OpenOrJoinCase)]
        linked = link_reports(s, joins)
        finished = {c.report_id: linked.get(c.report_id) for c in claimed}
        finish_reports(s, finished, defer_text=defer_text)
        sinks.apply_all(s, [e for e in effects if not isinstance(e, OpenOrJoinCase)], linked)
        self._assess(s, sorted(set(linked.values())), linked)
        return linked

    def _assess(self, s: Transaction, case_ids: list[int], linked: dict[str, int]) -> None:
        """Triage, route and alert on cases as they stand after linking (open ones only: a case
        merged into another during the batch is assessed as part of that one)."""
        views = load_views(s, case_ids)
        effects: list[Effect] = []
        for view in views.values():
            if view.status != CaseStatus.OPEN.value:
                continue
            found = rules.triage(view, self.triage_rules) + rules.route(view, self.routing)
            effects += found + rules.notify_on_urgent(view, found)
        sinks.apply_all(s, effects, linked)

    def process_now_or_leave(self, report_id: str) -> int | None:
        """Link one report at once unless another linker is at work (PostgreSQL): then it is
        left to that linker's next round, which it joins within about a batch's time, rather
        than waiting behind the batch here. On SQLite it goes ahead of background writers: a
        person (a panic press) waits on it. Returns its case, or None when left."""
        with self.db.session(write_first=True) as s:
            if not begin_linking(s, LINKER_LOCK, wait=False):
                return None
            return self._link_batch(s, claim_reports(s, [report_id])).get(report_id)

    def process(self, report_ids: Sequence[str], *, defer_text: bool = False) -> dict[str, int]:
        """Link these reports in one transaction; on failure, one by one. Returns id -> case.

        Their words are indexed for search in the same transaction, or with `defer_text` (the
        linker working a backlog) queued for `index_queued_text`."""
        try:
            with self.db.session() as s:
                begin_linking(s, LINKER_LOCK)
                claimed = claim_reports(s, report_ids)
                return self._link_batch(s, claimed, defer_text=defer_text)
        except Exception:
            if len(report_ids) == 1:
                raise
            log.exception("linking a batch failed; retrying its reports one by one")
        linked: dict[str, int] = {}
        for rid in report_ids:
            linked.update(self._process_or_hold_back([rid], defer_text=defer_text))
        return linked

    def _process_or_hold_back(
        self, report_ids: Sequence[str], *, defer_text: bool = False
    ) -> dict[str, int]:
        """`process`, except that a single report that fails is held back instead of raising."""
        if len(report_ids) != 1:
            return self.process(report_ids, defer_text=defer_text)
        try:
            linked = self.process(report_ids, defer_text=defer_text)
        except Exception:
            self._hold_back(report_ids[0])
            return {}
        self._retry.forget(report_ids[0])
        return linked

    def process_pending(self, limit: int = 10_000, *, batch: int = BATCH) -> int:
        """Link every stored report not yet in a case (up to `limit`, `batch` per transaction);
        return how many.

        A report that fails to link alone stays stored and pending, and is tried again after
        `retry_failed_seconds`; the reports behind it are linked meanwhile. The words of the
        reports linked are indexed for search once nothing more waits (`index_queued_text`):
        while a backlog waits, forming its cases comes first."""
        repo = ReportRepository(self.db)
        done, caught_up = 0, False
        while done < limit:
            held = len(self._held_back)
            wanted = min(batch, limit - done)
            ids = repo.pending_ids(wanted, exclude=self.held_back())
            caught_up = len(ids) < wanted
            if not ids:
                break
            linked = self._process_or_hold_back(ids, defer_text=True)
            if not linked and len(self._held_back) == held:
                break  # another linker took them: nothing left for this one
            done += len(linked)
        if caught_up:
            self.index_queued_text()
        return done

    def index_queued_text(self, limit: int = TEXT_INDEX_LIMIT) -> int:
        """Index the words of linked reports queued for it, a batch per transaction, until none
        wait or `limit` are done (so one call never keeps a linker from new reports for long);
        returns how many."""
        done = 0
        while done < limit:
            with self.db.session(write_first=True) as s:
                taken = index_queued(s, min(BATCH, limit - done))
            if not taken:
                break
            done += taken
        return done

    def held_back(self) -> list[str]:
        """Reports that failed to link and wait for their next try."""
        now = time.monotonic()
        for rid in [r for r, until in self._held_back.items() if until <= now]:
            del self._held_back[rid]
        return sorted(self._held_back)

    def _hold_back(self, report_id: str) -> None:
        delay = self._retry.next_delay(report_id, cap=self.retry_failed_seconds)
        log.exception(
            "linking report %s failed; it stays stored and pending, next try in %.0f s",
            report_id,
            delay,
        )
        self._held_back[report_id] = time.monotonic() + delay

    def case_of(self, entity: Entity) -> int | None:
        """The open case holding an identifier, if any."""
        with self.db.session() as s:
            found = open_case_holders(s, [(entity.kind.value, entity.value)])
            held = sorted(found.get((entity.kind.value, entity.value), ()))
            return held[0] if held else None
