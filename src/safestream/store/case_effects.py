"""Writes of the case engine's sinks other than linking, each many rows in one statement.

The sinks in `cases.sinks` turn effects into rows; these functions put them in the store inside
the engine's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from safestream.store.base import utcnow
from safestream.store.bulk import insert_rows, update_rows
from safestream.store.models.cases import CaseMatchRow, CaseRow, OutboxRow
from safestream.store.models.reports import EvidenceHoldRow


def insert_case_matches(s: Session, rows: Sequence[dict[str, object]]) -> None:
    """Bank matches kept on cases (`case_id`, `report_id`, `bank`, `entry_id`, ...)."""
    insert_rows(s, CaseMatchRow.__table__, rows)  # type: ignore[arg-type]


def add_evidence_holds(s: Session, rows: Sequence[dict[str, object]], at: datetime) -> None:
    """Evidence holds (`case_id`, `stream_id`, `report_id`, `reason`, `rule`, `hold_until`),
    one per case and stream: a hold that exists already is kept as it is."""
    if not rows:
        return
    wanted: dict[tuple[object, object], dict[str, object]] = {}
    for r in rows:
        wanted.setdefault((r["case_id"], r["stream_id"]), r)  # the first rule to ask names it
    held = set(
        s.execute(
            select(EvidenceHoldRow.case_id, EvidenceHoldRow.stream_id).where(
                tuple_(EvidenceHoldRow.case_id, EvidenceHoldRow.stream_id).in_(list(wanted))
            )
        ).all()
    )
    fresh = [{**r, "created_at": at} for key, r in wanted.items() if key not in held]
    insert_rows(s, EvidenceHoldRow.__table__, fresh)  # type: ignore[arg-type]


def add_outbox_messages(s: Session, rows: Sequence[dict[str, object]]) -> None:
    """Messages to send after commit (`case_id`, `channel`, `message`, `rule`)."""
    insert_rows(s, OutboxRow.__table__, [{**r, "created_at": utcnow()} for r in rows])  # type: ignore[arg-type]


def update_cases(s: Session, rows: Sequence[dict[str, object]]) -> None:
    """Set columns of many cases by id; every row names the same columns (and `id`)."""
    update_rows(s, CaseRow.__table__, "id", rows)  # type: ignore[arg-type]
