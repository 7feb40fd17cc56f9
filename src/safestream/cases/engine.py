"""The case engine: stored reports become events, rules turn them into effects, sinks apply them.

Intake only stores a report (fast, durable); `CaseEngine.process_pending` links stored reports into
cases afterwards, each batch in one transaction. On PostgreSQL a transaction-scoped advisory lock
lets one linker run at a time across server workers, which keeps one open case per subject.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import text, update
from sqlalchemy.orm import Session

from safestream.cases import rules, sinks
from safestream.cases.routing import RoutingTable, load_table, table_for
from safestream.cases.triage import TriageRules, load_rules, rules_for
from safestream.cases.view import FINANCE_DETECTOR, load_views
from safestream.core.banks import Classification, Match
from safestream.core.cases import CaseStatus
from safestream.core.config import Settings
from safestream.core.effects import Effect, OpenOrJoinCase
from safestream.core.entities import Entity
from safestream.core.events import (
    Event,
    MatchFound,
    PanicPressed,
    PaymentPatternFound,
    ReportReceived,
    StreamFlagged,
)
from safestream.core.reports import ReportIn, ReportSource, ReportStatus
from safestream.store.base import utcnow
from safestream.store.database import Database
from safestream.store.models.reports import ReportRow
from safestream.store.reports import ReportRepository

log = logging.getLogger(__name__)

LINKER_LOCK = 0x5AFE_0003
LIVE_DETECTOR = "live"
BATCH = 200
# A report that fails to link on its own is held back this long before the next try, so the
# reports stored after it are linked meanwhile instead of waiting behind it.
RETRY_FAILED_SECONDS = 300.0


def _label(text_label: str) -> Classification:
    try:
        return Classification(text_label)
    except ValueError:
        return Classification.UNCLASSIFIED


def events_for(report_id: str, body: ReportIn) -> list[Event]:
    """The events one stored report stands for."""
    now = utcnow()
    entities = tuple(body.entities())
    stream_id = body.live_stream.stream_id if body.live_stream else None
    found: list[Event] = [
        ReportReceived(now, entities, report_id, body.live_now, body.child_in_danger)
    ]
    if body.source is ReportSource.PANIC_BUTTON:
        found.append(PanicPressed(now, entities, report_id, stream_id, body.child_in_danger))
    if body.source is ReportSource.DETECTOR and body.detector == LIVE_DETECTOR and stream_id:
        found.append(
            StreamFlagged(now, entities, stream_id, body.description, body.live_now, report_id)
        )
    if body.source is ReportSource.DETECTOR and body.detector == FINANCE_DETECTOR:
        for account in body.payment_accounts:
            accounts = tuple(f"{a.platform}:{a.id}" for a in body.reported_accounts)
            found.append(
                PaymentPatternFound(
                    now, entities, account, body.description, 0.0, accounts, report_id
                )
            )
    for m in body.matches:
        match = Match(m.bank, m.entry_id, m.value, m.distance, _label(m.label))
        found.append(MatchFound(now, entities, report_id, match, m.verified, stream_id))
    return found


@dataclass
class CaseEngine:
    """Links stored reports into cases with the organisation's triage and routing files."""

    db: Database
    triage_rules: TriageRules
    routing: RoutingTable
    retry_failed_seconds: float = RETRY_FAILED_SECONDS
    # Report id -> monotonic time before which it is not tried again.
    _held_back: dict[str, float] = field(default_factory=dict, repr=False)

    @classmethod
    def for_settings(cls, db: Database, settings: Settings | None = None) -> CaseEngine:
        """An engine with the home's rule files, or the packaged defaults."""
        if settings is None:
            return cls(db, load_rules(), load_table())
        return cls(db, rules_for(settings), table_for(settings))

    def _lock(self, s: Session) -> None:
        if self.db.engine.dialect.name == "postgresql":
            s.execute(text("select pg_advisory_xact_lock(:k)"), {"k": LINKER_LOCK})

    def _claim(self, s: Session, report_ids: Sequence[str]) -> list[tuple[str, ReportIn]]:
        """Mark stored reports as linked (one statement), in input order, with their bodies.

        Reports another linker took first are left out.
        """
        rows = s.execute(
            update(ReportRow)
            .where(ReportRow.id.in_(report_ids), ReportRow.status == ReportStatus.RECEIVED.value)
            .values(status=ReportStatus.LINKED.value)
            .returning(ReportRow.id, ReportRow.body)
            .execution_options(synchronize_session=False)
        ).all()
        bodies = {rid: body for rid, body in rows}
        return [(r, ReportIn.model_validate_json(bodies[r])) for r in report_ids if r in bodies]

    def _link_batch(self, s: Session, claimed: list[tuple[str, ReportIn]]) -> dict[str, int]:
        """Link claimed reports in order, keep evidence, then assess every case they touched."""
        events = {rid: events_for(rid, body) for rid, body in claimed}
        joins: list[tuple[OpenOrJoinCase, ReportIn]] = []
        for rid, body in claimed:
            for effect in (e for ev in events[rid] for e in rules.link_shared_identifiers(ev)):
                if isinstance(effect, OpenOrJoinCase):
                    joins.append((effect, body))
        cases = sinks.BatchLinker(s, joins).run()
        linked = {effect.report_id: case for (effect, _), case in zip(joins, cases, strict=True)}
        for rid, _ in claimed:
            for ev in events[rid]:
                for effect in rules.preserve_evidence(ev, linked.get(rid, 0)):
                    sinks.apply(s, effect)
        self._assess(s, sorted(set(linked.values())))
        return linked

    def _assess(self, s: Session, case_ids: list[int]) -> None:
        """Triage, route and alert on cases as they stand after linking (open ones only: a case
        merged into another during the batch is assessed as part of that one)."""
        views = load_views(s, case_ids)
        effects: list[Effect] = []
        for view in views.values():
            if view.status != CaseStatus.OPEN.value:
                continue
            found = rules.triage(view, self.triage_rules) + rules.route(view, self.routing)
            effects += found + rules.notify_on_urgent(view, found)
        sinks.apply_all(s, effects)

    def process(self, report_ids: Sequence[str]) -> dict[str, int]:
        """Link these reports in one transaction; on failure, one by one. Returns id -> case."""
        try:
            with self.db.session() as s:
                self._lock(s)
                return self._link_batch(s, self._claim(s, report_ids))
        except Exception:
            if len(report_ids) == 1:
                raise
            log.exception("linking a batch failed; retrying its reports one by one")
        linked: dict[str, int] = {}
        for rid in report_ids:
            linked.update(self._process_or_hold_back([rid]))
        return linked

    def _process_or_hold_back(self, report_ids: Sequence[str]) -> dict[str, int]:
        """`process`, except that a single report that fails is held back instead of raising."""
        if len(report_ids) != 1:
            return self.process(report_ids)
        try:
            return self.process(report_ids)
        except Exception:
            self._hold_back(report_ids[0])
            return {}

    def process_pending(self, limit: int = 10_000) -> int:
        """Link every stored report not yet in a case (up to `limit`); return how many.

        A report that fails to link alone stays stored and pending, and is tried again after
        `retry_failed_seconds`; the reports behind it are linked meanwhile."""
        repo = ReportRepository(self.db)
        done = 0
        while done < limit:
            held = len(self._held_back)
            ids = repo.pending_ids(min(BATCH, limit - done), exclude=self.held_back())
            if not ids:
                break
            linked = self._process_or_hold_back(ids)
            if not linked and len(self._held_back) == held:
                break  # another linker took them: nothing left for this one
            done += len(linked)
        return done

    def held_back(self) -> list[str]:
        """Reports that failed to link and wait for their next try."""
        now = time.monotonic()
        for rid in [r for r, until in self._held_back.items() if until <= now]:
            del self._held_back[rid]
        return sorted(self._held_back)

    def _hold_back(self, report_id: str) -> None:
        log.exception(
            "linking report %s failed; it stays stored and pending, next try in %.0f s",
            report_id,
            self.retry_failed_seconds,
        )
        self._held_back[report_id] = time.monotonic() + self.retry_failed_seconds

    def case_of(self, entity: Entity) -> int | None:
        """The open case holding an identifier, if any."""
        with self.db.session() as s:
            found = sinks.open_cases_holding(s, (entity,))
            return found[0] if found else None
