"""The outbox sender posts urgent-case alerts to their channel's webhook, after commit."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select

from safestream.cases.engine import CaseEngine
from safestream.cases.outbox import OutboxSender, load_webhooks
from safestream.core.errors import InvalidInput
from safestream.store.database import Database
from safestream.store.models.cases import OutboxRow
from tests.reports.builders import live, org, report, store


class Receiver:
    """A webhook on loopback that records what it is sent and answers with `status`."""

    def __init__(self) -> None:
        self.received: list[dict[str, object]] = []
        self.status = 204
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                receiver.received.append(json.loads(self.rfile.read(length)))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


def _urgent_case(db: Database) -> None:
    acme = org(db)
    store(db, acme, report(source="panic_button", child_in_danger=True, live_stream=live("c1")))
    CaseEngine.for_settings(db).process_pending()


def _unsent(db: Database, channel: str = "reviewers.urgent") -> int:
    with db.session() as s:
        unsent = select(OutboxRow.id).where(
            OutboxRow.sent_at.is_(None), OutboxRow.channel == channel
        )
        return len(list(s.scalars(unsent)))


def test_urgent_alert_is_posted_to_its_channel_and_marked_sent(
    database: Database, receiver: Receiver
) -> None:
    _urgent_case(database)
    sender = OutboxSender(database, {"reviewers.urgent": receiver.url})
    assert sender.send_pending() == 1
    assert [m["channel"] for m in receiver.received] == ["reviewers.urgent"]
    assert _unsent(database) == 0
    assert sender.send_pending() == 0
    assert len(receiver.received) == 1


def test_refused_delivery_stays_in_the_outbox_for_the_next_round(
    database: Database, receiver: Receiver
) -> None:
    _urgent_case(database)
    receiver.status = 503
    sender = OutboxSender(database, {"reviewers.urgent": receiver.url})
    assert sender.send_pending() == 0
    assert _unsent(database) == 1
    receiver.status = 200
    assert sender.send_pending() == 1


def test_channel_without_a_webhook_keeps_its_messages(database: Database) -> None:
    _urgent_case(database)
    assert OutboxSender(database, {}).send_pending() == 0
    assert _unsent(database) == 1


def test_notify_file_must_map_channels_to_web_addresses(tmp_path: Path) -> None:
    path = tmp_path / "notify.yaml"
    path.write_text("channels:\n  reviewers.urgent: ftp://example.org/x\n")
    with pytest.raises(InvalidInput, match="http"):
        load_webhooks(path)
    path.write_text("channels:\n  reviewers.urgent: https://alerts.example.org/hook\n")
    assert load_webhooks(path) == {"reviewers.urgent": "https://alerts.example.org/hook"}
    assert load_webhooks(tmp_path / "missing.yaml") == {}
