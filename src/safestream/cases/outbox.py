"""The outbox sender: delivers `Notify` effects (such as urgent-case alerts) to webhooks.

Linking writes a notification into the outbox in the same transaction as the case change that
caused it, so no alert goes out for a change that was rolled back and none is lost when a process
dies after the commit. `OutboxSender.send_pending` posts each unsent one as JSON to the webhook
its channel is routed to in `$SAFESTREAM_HOME/notify.yaml` and marks it sent after a 2xx answer:

    channels:
      reviewers.urgent: https://alerts.hotline.example/safestream

A failed delivery stays unsent and is tried again next round, so a receiver may see a message
twice (it carries its outbox `id` to drop repeats). Channels without a webhook keep their
messages in the outbox, where the console can still show them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated

import httpx
from pydantic import Field, StringConstraints
from sqlalchemy import select, update

from safestream.core.config import Settings
from safestream.core.rule_files import RuleDocument, load_document
from safestream.store.base import utcnow
from safestream.store.database import Database
from safestream.store.models.cases import OutboxRow
from safestream.store.times import aware

log = logging.getLogger(__name__)
NOTIFY_FILE = "notify.yaml"
SEND_TIMEOUT_SECONDS = 5.0


class NotifyFile(RuleDocument):
    """The document of `notify.yaml`: channel name -> webhook URL."""

    channels: dict[str, Annotated[str, StringConstraints(pattern=r"^https?://")]] = Field(
        default_factory=dict
    )


def load_webhooks(path: Path) -> dict[str, str]:
    """Channel -> webhook URL from a notify file; no file means no webhooks."""
    if not path.exists():
        return {}
    return dict(load_document(NotifyFile, path).channels)


@dataclass
class OutboxSender:
    """Posts unsent outbox messages to their channels' webhooks."""

    db: Database
    webhooks: dict[str, str]
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=SEND_TIMEOUT_SECONDS))

    @classmethod
    def for_settings(cls, db: Database, settings: Settings) -> OutboxSender:
        """A sender with the home's notify file."""
        return cls(db, load_webhooks(settings.home / NOTIFY_FILE))

    def send_pending(self, limit: int = 100) -> int:
        """Deliver up to `limit` unsent messages of channels with a webhook; return how many."""
        if not self.webhooks:
            return 0
        with self.db.session() as s:
            rows = s.execute(
                select(
                    OutboxRow.id,
                    OutboxRow.case_id,
                    OutboxRow.channel,
                    OutboxRow.message,
                    OutboxRow.rule,
                    OutboxRow.created_at,
                )
                .where(OutboxRow.sent_at.is_(None), OutboxRow.channel.in_(list(self.webhooks)))
                .order_by(OutboxRow.id)
                .limit(limit)
            ).all()
        sent = [row.id for row in rows if self._deliver(row._asdict())]
        if sent:
            with self.db.session() as s:
                s.execute(update(OutboxRow).where(OutboxRow.id.in_(sent)).values(sent_at=utcnow()))
        return len(sent)

    def _deliver(self, row: dict[str, object]) -> bool:
        created = row["created_at"]
        when = aware(created).isoformat() if isinstance(created, datetime) else None
        payload = {**row, "created_at": when}
        try:
            answer = self.client.post(self.webhooks[str(row["channel"])], json=payload)
        except httpx.HTTPError as exc:
            log.warning("outbox message %s not delivered: %s; will retry", row["id"], exc)
            return False
        if not answer.is_success:
            log.warning(
                "outbox message %s refused with %s; will retry", row["id"], answer.status_code
            )
            return False
        return True

    def close(self) -> None:
        """Close the HTTP client."""
        self.client.close()
