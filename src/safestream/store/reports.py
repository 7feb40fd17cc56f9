"""Report repository: durable insert with idempotency, and reads.

A report and the entities it names go in one transaction; the commit returns only after the
database has it (PostgreSQL's synchronous commit, SQLite's WAL), so an answer of 2xx means stored.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from safestream.core.errors import Conflict, InvalidInput, NotFound
from safestream.core.events import Event, ReportReceived
from safestream.core.principal import Principal
from safestream.core.reports import Report, ReportIn, ReportSource, ReportStatus
from safestream.store.base import utcnow
from safestream.store.database import Database
from safestream.store.events import event_rows
from safestream.store.models.access import OrganisationRow
from safestream.store.models.reports import (
    PENDING_PRESS,
    EventRow,
    EvidenceRow,
    ReportEntityRow,
    ReportRow,
)
from safestream.store.scope import reports_visible
from safestream.store.times import aware


@dataclass(frozen=True)
class StoredReport:
    """A report as returned by intake, and whether this call created it."""

    report: Report
    created: bool


def _insert_for(engine: Engine) -> type[postgresql.Insert] | type[sqlite.Insert]:
    return postgresql.Insert if engine.dialect.name == "postgresql" else sqlite.Insert


def _report(row: ReportRow, org: str, evidence_ids: Sequence[str]) -> Report:
    return Report(
        id=row.id,
        org=org,
        received_at=aware(row.received_at),
        status=ReportStatus(row.status),
        case_id=row.case_id,
        evidence_ids=list(evidence_ids),
        body=ReportIn.model_validate_json(row.body),
    )


def body_json(report: ReportIn) -> str:
    """The JSON kept in the store: the submission without media bytes (those are evidence)."""
    return report.model_copy(update={"media": []}).model_dump_json()


def prepared_json(report: ReportIn) -> tuple[str, str]:
    """(fingerprint, stored body JSON); raise `InvalidInput` for text PostgreSQL cannot hold."""
    # One serialisation serves both the fingerprint and the stored body when there is no media.
    full = report.model_dump_json()
    if "\\u0000" in full:
        raise InvalidInput("text must not contain NUL (\\u0000) characters")
    digest = hashlib.sha256(full.encode()).hexdigest()
    return digest, (body_json(report) if report.media else full)


# One statement per batch on PostgreSQL: reports and their entities go in together, and rows
# whose idempotency key exists already are skipped (their entities with them).
_POSTGRES_BATCH = text(
    """
    with input as (
        select * from json_to_recordset(cast(:reports as json)) as x(
            id text, org_id int, source text, detector text, incident_type text,
            received_at timestamptz, status text, idempotency_key text, fingerprint text, body text,
            live_now boolean, child_in_danger boolean, private_stream boolean, viewer_count int,
            payment_count int, platform_country text, countries text)
    ), ins as (
        insert into reports (id, org_id, source, detector, incident_type, received_at, status,
                             idempotency_key, fingerprint, body, live_now, child_in_danger,
                             private_stream, viewer_count, payment_count, platform_country,
                             countries)
        select id, org_id, source, detector, incident_type, received_at, status,
               idempotency_key, fingerprint, body, live_now, child_in_danger, private_stream,
               viewer_count, payment_count, platform_country, countries from input
        on conflict (org_id, idempotency_key) do nothing
        returning id
    ), ents as (
        insert into report_entities (report_id, kind, value)
        select e.report_id, e.kind, e.value
        from json_to_recordset(cast(:entities as json)) as e(report_id text, kind text, value text)
        where e.report_id in (select id from ins)
    ), evs as (
        insert into events (report_id, kind, version, payload)
        select v.report_id, v.kind, v.version, v.payload
        from json_to_recordset(cast(:events as json))
            as v(report_id text, kind text, version int, payload text)
        where v.report_id in (select id from ins)
    )
    select id from ins
    """
)


def _insert_postgres(
    s: Session,
    rows: list[dict[str, Any]],
    entity_rows: list[dict[str, str]],
    events: list[dict[str, object]],
) -> set[str]:
    reports = json.dumps(rows, default=lambda t: t.isoformat())
    params = {
        "reports": reports,
        "entities": json.dumps(entity_rows),
        "events": json.dumps(events),
    }
    return set(s.execute(_POSTGRES_BATCH, params).scalars())


def fact_columns(events: Sequence[Event]) -> dict[str, Any]:
    """The report's fact columns, written from its `ReportReceived` and from nothing else: case
    triage and routing aggregate them in SQL (a hot stream's case can hold thousands of reports),
    so they are the event's projection, never a second reading of the report."""
    for event in events:
        if isinstance(event, ReportReceived):
            return {
                "live_now": event.live_now,
                "child_in_danger": event.child_in_danger,
                "private_stream": event.private_stream,
                "viewer_count": event.viewer_count,
                "payment_count": event.payment_count,
                "platform_country": event.platform_country,
                "countries": json.dumps([[c.country, c.how] for c in event.countries]),
            }
    raise InvalidInput("a report is stored with its ReportReceived event")


@dataclass(frozen=True)
class NewReport:
    """A report to store for an organisation, with its evidence rows (already sealed)."""

    org_id: int
    org_name: str
    report: ReportIn
    idempotency_key: str | None
    evidence: Sequence[EvidenceRow] = ()
    prepared: tuple[str, str] | None = None  # from `prepared_json`, when already computed
    # What the report stands for (`core.events`), stored in the report's transaction: always a
    # `ReportReceived`, whose facts fill the report's fact columns, and what its producer found.
    events: Sequence[Event] = ()

    def __post_init__(self) -> None:
        if not any(isinstance(event, ReportReceived) for event in self.events):
            raise InvalidInput("a report is stored with its ReportReceived event")


class ReportRepository:
    """Reports in one store."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._insert = _insert_for(db.engine)

    def add_many(
        self,
        items: Sequence[NewReport],
        *,
        connection: Connection | None = None,
        write_first: bool = False,
    ) -> list[StoredReport | Exception]:
        """Store many reports in one transaction (group commit); one answer per item, in order.

        An item whose idempotency key was used before answers with the stored report, or with a
        `Conflict` when its content differs; the other items are stored regardless. With a
        `connection` (not in a transaction), the transaction runs and commits on it;
        `write_first` (a panic press) goes ahead of background writers (`Database.session`).
        """
        received = utcnow()
        prepared = [
            (str(uuid.uuid4()), item, item.prepared or prepared_json(item.report)) for item in items
        ]
        rows = [
            {
                "id": rid,
                "org_id": item.org_id,
                "source": item.report.source.value,
                "detector": item.report.detector,
                "incident_type": item.report.incident_type.value,
                "received_at": received,
                "status": ReportStatus.RECEIVED.value,
                "idempotency_key": item.idempotency_key,
                "fingerprint": digest,
                "body": body,
                **fact_columns(item.events),
            }
            for rid, item, (digest, body) in prepared
        ]
        entity_rows = [
            {"report_id": rid, "kind": e.kind.value, "value": e.value}
            for rid, item, _ in prepared
            for e in item.report.entities()
        ]
        events = [row for rid, item, _ in prepared for row in event_rows(rid, item.events)]
        results: list[StoredReport | Exception] = []
        with self._transaction(connection, write_first) as s:
            if self.db.engine.dialect.name == "postgresql":
                inserted = _insert_postgres(s, rows, entity_rows, events)
            else:
                inserted = self._insert_generic(s, rows, entity_rows, events)
            for rid, item, (digest, _) in prepared:
                if rid not in inserted:
                    try:
                        repeat = self._repeat(
                            s, item.org_id, item.org_name, item.idempotency_key, digest
                        )
                        results.append(StoredReport(repeat, False))
                    except Conflict as exc:
                        results.append(exc)
                    continue
                for ev in item.evidence:
                    ev.report_id = rid
                    s.add(ev)
                stored = Report(
                    id=rid,
                    org=item.org_name,
                    received_at=received,
                    status=ReportStatus.RECEIVED,
                    evidence_ids=[e.id for e in item.evidence],
                    body=item.report.model_copy(update={"media": []})
                    if item.report.media
                    else item.report,
                )
                results.append(StoredReport(stored, True))
        return results

    @contextmanager
    def _transaction(self, connection: Connection | None, write_first: bool) -> Iterator[Session]:
        if connection is None:
            with self.db.session(write_first=write_first) as s:
                yield s
            return
        with Session(bind=connection, expire_on_commit=False) as s, s.begin():
            yield s

    def _insert_generic(
        self,
        s: Session,
        rows: list[dict[str, Any]],
        entity_rows: list[dict[str, str]],
        events: list[dict[str, object]],
    ) -> set[str]:
        conn = s.connection()
        conn.execute(
            self._insert(ReportRow).on_conflict_do_nothing(
                index_elements=["org_id", "idempotency_key"]
            ),
            rows,
        )
        inserted = set(
            conn.execute(
                select(ReportRow.id).where(ReportRow.id.in_([r["id"] for r in rows]))
            ).scalars()
        )
        fresh = [e for e in entity_rows if e["report_id"] in inserted]
        if fresh:
            conn.execute(insert(ReportEntityRow), fresh)
        fresh_events = [e for e in events if e["report_id"] in inserted]
        if fresh_events:
            conn.execute(insert(EventRow), fresh_events)
        return inserted

    def _repeat(
        self, s: Session, org_id: int, org_name: str, key: str | None, digest: str
    ) -> Report:
        row = s.scalar(
            select(ReportRow).where(ReportRow.org_id == org_id, ReportRow.idempotency_key == key)
        )
        if row is None:  # cannot happen: the conflict names this row
            raise Conflict(f"idempotency key {key!r} conflicts but no report holds it")
        if row.fingerprint != digest:
            raise Conflict(f"idempotency key {key!r} was already used for a different report")
        return _report(row, org_name, self._evidence_ids(s, row.id))

    @staticmethod
    def _evidence_ids(s: Session, report_id: str) -> list[str]:
        return list(
            s.scalars(
                select(EvidenceRow.id)
                .where(EvidenceRow.report_id == report_id)
                .order_by(EvidenceRow.held_at)
            )
        )

    def get(self, report_id: str, *, org_id: int | None = None) -> Report:
        """One report by id (only the organisation's own when `org_id` is given)."""
        with self.db.session() as s:
            found = s.execute(
                select(ReportRow, OrganisationRow.name)
                .join(OrganisationRow, OrganisationRow.id == ReportRow.org_id)
                .where(ReportRow.id == report_id)
            ).first()
            if found is None or (org_id is not None and found[0].org_id != org_id):
                raise NotFound(f"no report {report_id!r}")
            row, org = found
            return _report(row, org, self._evidence_ids(s, row.id))

    def visible(self, principal: Principal, report_id: str) -> Report:
        """One report the principal may see (`store.scope`), else `NotFound`."""
        with self.db.session() as s:
            found = s.execute(
                select(ReportRow, OrganisationRow.name)
                .join(OrganisationRow, OrganisationRow.id == ReportRow.org_id)
                .where(ReportRow.id == report_id, reports_visible(principal))
            ).first()
            if found is None:
                raise NotFound(f"no report {report_id!r}")
            row, org = found
            return _report(row, org, self._evidence_ids(s, row.id))

    def ids_of_case(self, case_id: int) -> list[str]:
        """The ids of every report linked to a case, oldest first (none for an unknown case)."""
        with self.db.session() as s:
            return list(
                s.scalars(
                    select(ReportRow.id)
                    .where(ReportRow.case_id == case_id)
                    .order_by(ReportRow.received_at, ReportRow.id)
                )
            )

    def pending_ids(self, limit: int = 500, exclude: Sequence[str] = ()) -> list[str]:
        """Reports stored but not yet linked to a case, except `exclude`: panic presses first
        (a person in danger should not wait behind a backlog), then the rest, oldest first."""
        # The presses' condition is the partial index's own text, not bound parameters: a
        # prepared statement's generic plan could not prove it and would scan the backlog.
        presses = select(ReportRow.id).where(PENDING_PRESS)
        rest = select(ReportRow.id).where(
            ReportRow.status == ReportStatus.RECEIVED.value,
            ReportRow.source != ReportSource.PANIC_BUTTON.value,
        )
        if exclude:
            presses = presses.where(ReportRow.id.not_in(list(exclude)))
            rest = rest.where(ReportRow.id.not_in(list(exclude)))
        with self.db.session() as s:
            ids = list(s.scalars(presses.order_by(ReportRow.received_at).limit(limit)))
            if len(ids) < limit:
                ids += s.scalars(rest.order_by(ReportRow.received_at).limit(limit - len(ids)))
            return ids

    def pending_summary(self) -> tuple[int, datetime | None]:
        """How many reports wait for linking, and when the oldest of them arrived."""
        with self.db.session() as s:
            count, oldest = s.execute(
                select(func.count(), func.min(ReportRow.received_at)).where(
                    ReportRow.status == ReportStatus.RECEIVED.value
                )
            ).one()
        return int(count), aware(oldest) if oldest is not None else None

    def received_since(self, moment: datetime) -> bool:
        """Whether any report still waiting for linking arrived after `moment`."""
        with self.db.session() as s:
            return (
                s.scalar(
                    select(ReportRow.id)
                    .where(
                        ReportRow.status == ReportStatus.RECEIVED.value,
                        ReportRow.received_at > moment,
                    )
                    .limit(1)
                )
                is not None
            )

    def count(self) -> int:
        """How many reports the store holds."""
        with self.db.session() as s:
            return int(s.scalar(select(func.count()).select_from(ReportRow)) or 0)

    def existing_ids(self, ids: Sequence[str]) -> set[str]:
        """Which of these report ids the store holds."""
        found: set[str] = set()
        with self.db.session() as s:
            for start in range(0, len(ids), 1000):
                chunk = list(ids[start : start + 1000])
                found.update(s.scalars(select(ReportRow.id).where(ReportRow.id.in_(chunk))))
        return found
