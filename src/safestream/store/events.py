"""Stored detection events: written with their report, read back typed by the case engine.

`event_rows` serialises a report's events (kind, version, JSON payload) for the report's own
transaction (`ReportRepository.add_many`). `claim_reports` is how the case engine takes work from
the reports table, which is the durable queue: it marks reports linked and returns their events,
decoded. `case_event_facts` gives the per-case facts that come from events (a panic press, the
strongest payment pattern) for triage. `region_matches` gives the second-stage matches of some
reports, which the case page draws as boxes.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from safestream.core.events import (
    Event,
    PanicPressed,
    PaymentPatternFound,
    RegionMatchFound,
    decode_event,
    encode_event,
)
from safestream.core.reports import ReportStatus
from safestream.store.bulk import one_of, postgres, update_rows
from safestream.store.models.reports import EventRow, ReportRow
from safestream.store.report_text import index_reports, queue_reports


def event_rows(report_id: str, events: Sequence[Event]) -> list[dict[str, object]]:
    """Rows of the events table for one report's events, in order."""
    rows: list[dict[str, object]] = []
    for event in events:
        kind, version, payload = encode_event(event)
        rows.append(
            {
                "report_id": report_id,
                "kind": kind,
                "version": version,
                "payload": json.dumps(payload),
            }
        )
    return rows


@dataclass(frozen=True, kw_only=True, slots=True)
class ClaimedReport:
    """A report the case engine took from the queue, with its events in the order stored."""

    report_id: str
    org_id: int
    events: tuple[Event, ...]


def claim_reports(s: Session, report_ids: Sequence[str]) -> list[ClaimedReport]:
    """Take stored reports for linking and return their events, in input order, in the caller's
    transaction; reports another linker took first are left out. `finish_reports` records the
    outcome in the same transaction.

    On PostgreSQL the caller holds the linkers' advisory lock, so reading the reports claims
    them, and `finish_reports` writes each report row once (status and case together); SQLite
    marks them linked here, which also takes the store's write lock at once."""
    pending = (
        one_of(s, ReportRow.id, report_ids),
        ReportRow.status == ReportStatus.RECEIVED.value,
    )
    if postgres(s):
        claimed = dict(s.execute(select(ReportRow.id, ReportRow.org_id).where(*pending)).all())
    else:
        claimed = dict(
            s.execute(
                update(ReportRow)
                .where(*pending)
                .values(status=ReportStatus.LINKED.value)
                .returning(ReportRow.id, ReportRow.org_id)
                .execution_options(synchronize_session=False)
            ).all()
        )
    events: dict[str, list[Event]] = defaultdict(list)
    ids = list(claimed)
    for start in range(0, len(ids), 1000):
        for report_id, kind, version, payload in s.execute(
            select(EventRow.report_id, EventRow.kind, EventRow.version, EventRow.payload)
            .where(one_of(s, EventRow.report_id, ids[start : start + 1000]))
            .order_by(EventRow.id)
        ):
            events[report_id].append(decode_event(kind, version, json.loads(payload)))
    return [
        ClaimedReport(report_id=r, org_id=claimed[r], events=tuple(events[r]))
        for r in report_ids
        if r in claimed
    ]


def finish_reports(
    s: Session, cases: Mapping[str, int | None], *, defer_text: bool = False
) -> None:
    """Record claimed reports as linked, each into its case (None: linked into none), and index
    their words for search, or with `defer_text` queue them for indexing later."""
    rows = [
        {"id": report_id, "status": ReportStatus.LINKED.value, "case_id": case_id}
        for report_id, case_id in cases.items()
    ]
    if not postgres(s):
        rows = [{"id": r["id"], "case_id": r["case_id"]} for r in rows]
    update_rows(s, ReportRow.__table__, "id", rows)  # type: ignore[arg-type]
    (queue_reports if defer_text else index_reports)(s, list(cases))


@dataclass(frozen=True, kw_only=True, slots=True)
class CaseEventFacts:
    """What a case's events say beyond its reports' columns."""

    panic: bool
    payment_flag: bool
    payment_score: float  # the strongest pattern, in units of its flag threshold; 0 when none
    image_region_match: bool = False  # the second stage found a verified bank's image in media
    room_match: bool = False  # the second stage saw a verified bank's room


def case_event_facts(s: Session, case_ids: Sequence[int]) -> dict[int, CaseEventFacts]:
    """Per case (of those that have any): a panic press, the strongest payment pattern, and
    verified second-stage matches (a known image inside media, a known room).

    Only the events these facts need are read (panic presses, payment patterns and region
    matches are a small share of all events), each decoded by its class."""
    kinds = [PanicPressed.__name__, PaymentPatternFound.__name__, RegionMatchFound.__name__]
    panic: set[int] = set()
    strongest: dict[int, float] = {}
    images: set[int] = set()
    rooms: set[int] = set()
    for case_id, kind, version, payload in s.execute(
        select(ReportRow.case_id, EventRow.kind, EventRow.version, EventRow.payload)
        .join(ReportRow, ReportRow.id == EventRow.report_id)
        .where(one_of(s, ReportRow.case_id, list(case_ids)), EventRow.kind.in_(kinds))
    ):
        if case_id is None:
            continue
        event = decode_event(kind, version, json.loads(payload))
        if isinstance(event, PanicPressed):
            panic.add(case_id)
        elif isinstance(event, PaymentPatternFound):
            strongest[case_id] = max(strongest.get(case_id, 0.0), event.strength)
        elif isinstance(event, RegionMatchFound) and event.verified:
            (rooms if event.bank_kind == "room" else images).add(case_id)
    return {
        c: CaseEventFacts(
            panic=c in panic,
            payment_flag=c in strongest,
            payment_score=strongest.get(c, 0.0),
            image_region_match=c in images,
            room_match=c in rooms,
        )
        for c in panic | set(strongest) | images | rooms
    }


def region_matches(s: Session, report_ids: Sequence[str]) -> list[tuple[str, RegionMatchFound]]:
    """(report id, event) of every `RegionMatchFound` stored with these reports, oldest first."""
    found: list[tuple[str, RegionMatchFound]] = []
    ids = list(report_ids)
    for start in range(0, len(ids), 1000):
        for report_id, version, payload in s.execute(
            select(EventRow.report_id, EventRow.version, EventRow.payload)
            .where(
                one_of(s, EventRow.report_id, ids[start : start + 1000]),
                EventRow.kind == RegionMatchFound.__name__,
            )
            .order_by(EventRow.id)
        ):
            event = decode_event(RegionMatchFound.__name__, version, json.loads(payload))
            if isinstance(event, RegionMatchFound):
                found.append((report_id, event))
    return found
