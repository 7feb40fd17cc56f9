"""The outbox: messages linking left for channels (webhooks, the live buffer), until delivered.

Messages are written in the linking transaction that decided them (`store.case_effects`), so
none is sent for a case that was rolled back; a sender reads the unsent ones and marks those a
publisher took.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update

from safestream.store.base import utcnow
from safestream.store.database import Database
from safestream.store.models.cases import OutboxRow


def pending_messages(
    db: Database, channels: Sequence[str], limit: int, case_id: int | None = None
) -> list[dict[str, Any]]:
    """Up to `limit` unsent messages of these channels (of one case, with `case_id`), oldest
    first: id, case_id, channel, message, rule, created_at."""
    query = select(
        OutboxRow.id,
        OutboxRow.case_id,
        OutboxRow.channel,
        OutboxRow.message,
        OutboxRow.rule,
        OutboxRow.created_at,
    ).where(OutboxRow.sent_at.is_(None), OutboxRow.channel.in_(list(channels)))
    if case_id is not None:
        query = query.where(OutboxRow.case_id == case_id)
    with db.session() as s:
        return [row._asdict() for row in s.execute(query.order_by(OutboxRow.id).limit(limit))]


def mark_sent(db: Database, message_ids: Sequence[int]) -> None:
    """Record these messages as delivered, so no sender sends them again."""
    if message_ids:
        with db.session() as s:
            s.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_(list(message_ids)))
                .values(sent_at=utcnow())
            )
