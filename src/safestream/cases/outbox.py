"""The outbox sender: delivers what effects left in the outbox, after their commit.

Sinks write a message into the outbox in the same transaction as the case change that caused it
(`Notify` for urgent-case alerts, `KeepLiveBuffer` for the live workers), so nothing goes out for
a change that was rolled back and nothing is lost when a process dies after the commit.
`OutboxSender.send_pending` hands each unsent message to the publisher of its channel and marks
it sent once that publisher says it was delivered:

- webhooks: `Notify` messages are posted as JSON to the webhook their channel is routed to in
  `$SAFESTREAM_HOME/notify.yaml`, delivered on a 2xx answer:

      channels:
        reviewers.urgent: https://alerts.hotline.example/safestream

- other publishers are passed in (the live workers' `KeepLiveBuffer` publisher sends over NATS,
  `live.buffer_requests`).

A failed delivery stays unsent and is tried again next round, so a receiver may see a message
twice (it carries its outbox `id` to drop repeats). Channels without a publisher keep their
messages in the outbox, where the console can still show them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Protocol

import httpx
from pydantic import Field, StringConstraints

from safestream.core.config import Settings
from safestream.core.rule_files import RuleDocument, load_document
from safestream.store.database import Database
from safestream.store.outbox import mark_sent, pending_messages
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


class Publisher(Protocol):
    """Delivers the outbox messages of one channel."""

    channel: str

    def deliver(self, message: dict[str, Any]) -> bool:
        """Deliver one message (its outbox row as a dict); True once it needs no further try."""
        ...


@dataclass
class WebhookPublisher:
    """Posts a channel's messages as JSON to one webhook; delivered on a 2xx answer."""

    channel: str
    url: str
    client: httpx.Client

    def deliver(self, message: dict[str, Any]) -> bool:
        """Post the message; False (try again) on a network error or a refusal."""
        created = message["created_at"]
        when = aware(created).isoformat() if isinstance(created, datetime) else None
        payload = {**message, "created_at": when}
        try:
            answer = self.client.post(self.url, json=payload)
        except httpx.HTTPError as exc:
            log.warning("outbox message %s not delivered: %s; will retry", message["id"], exc)
            return False
        if not answer.is_success:
            log.warning(
                "outbox message %s refused with %s; will retry", message["id"], answer.status_code
            )
            return False
        return True


@dataclass
class OutboxSender:
    """Hands unsent outbox messages to their channels' publishers: the webhooks of the notify
    file, and any `publishers` given (one per channel)."""

    db: Database
    webhooks: dict[str, str]
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=SEND_TIMEOUT_SECONDS))
    publishers: Sequence[Publisher] = ()

    @classmethod
    def for_settings(
        cls, db: Database, settings: Settings, publishers: Sequence[Publisher] = ()
    ) -> OutboxSender:
        """A sender with the home's notify file, and these other publishers."""
        return cls(db, load_webhooks(settings.home / NOTIFY_FILE), publishers=publishers)

    def _by_channel(self) -> dict[str, Publisher]:
        found: dict[str, Publisher] = {
            channel: WebhookPublisher(channel, url, self.client)
            for channel, url in self.webhooks.items()
        }
        found.update({p.channel: p for p in self.publishers})
        return found

    def send_pending(self, limit: int = 100, *, case_id: int | None = None) -> int:
        """Deliver up to `limit` unsent messages of channels with a publisher (only those of
        one case, with `case_id`); return how many were delivered."""
        publishers = self._by_channel()
        if not publishers:
            return 0
        pending = pending_messages(self.db, list(publishers), limit, case_id)
        sent = [m["id"] for m in pending if publishers[m["channel"]].deliver(m)]
        mark_sent(self.db, sent)
        return len(sent)

    def close(self) -> None:
        """Close the HTTP client."""
        self.client.close()
