"""Sinks: apply effects to the store inside the caller's transaction.

Linking keeps one open case per subject: a report joins the open case that already holds any of
its identifiers; when its identifiers sit in several open cases, those cases merge into the oldest.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import timedelta

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.orm import Session

from safestream.core.cases import CaseStatus
from safestream.core.effects import (
    Effect,
    Notify,
    OpenOrJoinCase,
    PreserveEvidence,
    Route,
    SetPriority,
)
from safestream.core.entities import Entity, EntityKind
from safestream.core.reports import ReportIn
from safestream.store.base import utcnow
from safestream.store.models.cases import (
    CaseDecisionRow,
    CaseEntityRow,
    CaseMatchRow,
    CaseNoteRow,
    CaseRow,
    OutboxRow,
)
from safestream.store.models.reports import EvidenceHoldRow, ReportRow

# REPORT Act (2024): a completed CyberTip is a request to preserve data for one year.
HOLD_PERIOD = timedelta(days=365)
NO_SUBJECT = "report"
# A subject is chosen in this order, so a case is "about" an account when it names one.
SUBJECT_ORDER = (
    EntityKind.ACCOUNT,
    EntityKind.STREAM,
    EntityKind.PAYMENT_ACCOUNT,
    EntityKind.EMAIL,
    EntityKind.DEVICE,
    EntityKind.IP,
    EntityKind.MEDIA_HASH,
)


def _subject(entities: tuple[Entity, ...], report_id: str) -> tuple[str, str]:
    for kind in SUBJECT_ORDER:
        for e in entities:
            if e.kind is kind:
                return e.kind.value, e.value
    return NO_SUBJECT, report_id


def open_cases_holding(s: Session, entities: tuple[Entity, ...]) -> list[int]:
    """Ids of open cases holding any of these identifiers, oldest first."""
    if not entities:
        return []
    pairs = [
        and_(CaseEntityRow.kind == e.kind.value, CaseEntityRow.value == e.value) for e in entities
    ]
    return sorted(
        set(
            s.scalars(
                select(CaseEntityRow.case_id)
                .join(CaseRow, CaseRow.id == CaseEntityRow.case_id)
                .where(CaseRow.status == CaseStatus.OPEN.value, or_(*pairs))
            )
        )
    )


def _held(s: Session, case_id: int, entities: tuple[Entity, ...]) -> set[tuple[str, str]]:
    """Which of these identifiers the case holds already (without reading all of its own)."""
    if not entities:
        return set()
    pairs = [
        and_(CaseEntityRow.kind == e.kind.value, CaseEntityRow.value == e.value) for e in entities
    ]
    rows = s.execute(
        select(CaseEntityRow.kind, CaseEntityRow.value).where(
            CaseEntityRow.case_id == case_id, or_(*pairs)
        )
    )
    return {(k, v) for k, v in rows}


def _merge(s: Session, keep: int, others: list[int]) -> None:
    held = {
        (k, v)
        for k, v in s.execute(
            select(CaseEntityRow.kind, CaseEntityRow.value).where(CaseEntityRow.case_id == keep)
        )
    }
    for row in s.scalars(select(CaseEntityRow).where(CaseEntityRow.case_id.in_(others))):
        if (row.kind, row.value) in held:
            s.delete(row)
        else:
            held.add((row.kind, row.value))
            row.case_id = keep
    s.flush()
    for table in (CaseMatchRow, CaseNoteRow, CaseDecisionRow):
        s.execute(update(table).where(table.case_id.in_(others)).values(case_id=keep))
    s.execute(update(ReportRow).where(ReportRow.case_id.in_(others)).values(case_id=keep))
    s.execute(
        update(CaseRow)
        .where(CaseRow.id.in_(others))
        .values(status=CaseStatus.MERGED.value, merged_into=keep, claimed_by_user=None)
    )


def open_or_join(s: Session, effect: OpenOrJoinCase, report: ReportIn) -> int:
    """Put the report in the open case holding one of its identifiers, or open a case."""
    found = open_cases_holding(s, effect.entities)
    now = utcnow()
    if found:
        case_id = found[0]
        if len(found) > 1:
            _merge(s, case_id, found[1:])
    else:
        kind, value = _subject(effect.entities, effect.report_id)
        case = CaseRow(subject_kind=kind, subject_value=value, created_at=now, updated_at=now)
        s.add(case)
        s.flush()
        case_id = case.id
    held = _held(s, case_id, effect.entities)
    fresh = [e for e in effect.entities if (e.kind.value, e.value) not in held]
    if fresh:
        s.execute(
            insert(CaseEntityRow),
            [
                {
                    "case_id": case_id,
                    "kind": e.kind.value,
                    "value": e.value,
                    "first_report_id": effect.report_id,
                }
                for e in fresh
            ],
        )
    if report.matches:
        s.execute(
            insert(CaseMatchRow),
            [
                {
                    "case_id": case_id,
                    "report_id": effect.report_id,
                    "bank": m.bank,
                    "entry_id": m.entry_id,
                    "signal_type": m.signal_type.value,
                    "value": m.value,
                    "distance": m.distance,
                    "label": m.label,
                    "verified": m.verified,
                }
                for m in report.matches
            ],
        )
    s.execute(update(ReportRow).where(ReportRow.id == effect.report_id).values(case_id=case_id))
    s.execute(update(CaseRow).where(CaseRow.id == case_id).values(updated_at=now))
    return case_id


def apply(s: Session, effect: Effect) -> None:
    """Apply one case-level effect (everything but linking)."""
    if isinstance(effect, SetPriority):
        s.execute(
            update(CaseRow)
            .where(CaseRow.id == effect.case_id)
            .values(
                priority=int(effect.priority),
                score=effect.score,
                queue=effect.queue,
                fired=json.dumps([asdict(f) for f in effect.fired]),
            )
        )
    elif isinstance(effect, Route):
        s.execute(
            update(CaseRow)
            .where(CaseRow.id == effect.case_id)
            .values(routing=json.dumps([asdict(a) for a in effect.authorities]))
        )
    elif isinstance(effect, PreserveEvidence):
        already = s.scalar(
            select(EvidenceHoldRow.id).where(
                EvidenceHoldRow.case_id == effect.case_id,
                EvidenceHoldRow.stream_id == effect.stream_id,
            )
        )
        if already is None:
            now = utcnow()
            s.add(
                EvidenceHoldRow(
                    case_id=effect.case_id,
                    report_id=effect.report_id or None,
                    stream_id=effect.stream_id,
                    reason=effect.reason,
                    rule=effect.rule,
                    created_at=now,
                    hold_until=now + HOLD_PERIOD,
                )
            )
    elif isinstance(effect, Notify):
        s.add(
            OutboxRow(
                case_id=effect.case_id,
                channel=effect.channel,
                message=effect.message,
                rule=effect.rule,
            )
        )
    else:
        raise TypeError(f"no sink applies {type(effect).__name__}")
