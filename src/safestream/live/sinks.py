"""Alert sinks that talk to the outside: a signed webhook and the SafeStream store (a report).

Both deliver from a background thread, so a slow endpoint or database never stalls decoding.

Webhook requests are `POST` with the alert as JSON and two headers:
`X-SafeStream-Timestamp` (Unix seconds) and `X-SafeStream-Signature: sha256=<hex>`, the
HMAC-SHA256 of `"<timestamp>." + body` under the shared secret. Receivers recompute it and
reject old timestamps (replays). Failures (network errors, 429, 5xx) are retried with doubling
backoff up to `attempts`; other 4xx answers are not retried.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from safestream.core.config import Settings
from safestream.core.events import Event
from safestream.live.alerts import Alert
from safestream.store.database import Database

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-SafeStream-Signature"
TIMESTAMP_HEADER = "X-SafeStream-Timestamp"


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The signature header value for a body sent at `timestamp`."""
    digest = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: bytes, timestamp: str, body: bytes, signature: str) -> bool:
    """True when `signature` is the HMAC of the body under `secret` (constant-time compare)."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


class BackgroundSink:
    """Queues alerts and delivers them one by one from a daemon thread."""

    def __init__(self, name: str) -> None:
        self._queue: queue.Queue[Alert | None] = queue.Queue(maxsize=10_000)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()
        self.delivered = 0
        self.failed = 0

    def send(self, alert: Alert) -> None:
        """Queue the alert (dropped, with a log line, if 10,000 are already waiting)."""
        try:
            self._queue.put_nowait(alert)
        except queue.Full:
            self.failed += 1
            log.error("%s: queue full, alert %s dropped", self._thread.name, alert.alert_id)

    def close(self, timeout: float = 30.0) -> None:
        """Deliver what is queued (up to `timeout` seconds), then stop the thread."""
        self._queue.put(None)
        self._thread.join(timeout)

    def deliver(self, alert: Alert) -> bool:
        """Deliver one alert; return False when it could not be delivered."""
        raise NotImplementedError

    def _run(self) -> None:
        while True:
            alert = self._queue.get()
            if alert is None:
                return
            try:
                ok = self.deliver(alert)
            except Exception:
                log.exception("%s: delivery failed", self._thread.name)
                ok = False
            if ok:
                self.delivered += 1
            else:
                self.failed += 1


class WebhookSink(BackgroundSink):
    """POSTs each alert, HMAC-signed, retrying failures with backoff."""

    def __init__(
        self,
        url: str,
        secret: bytes,
        *,
        attempts: int = 5,
        initial_delay: float = 0.5,
        timeout: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not secret:
            raise ValueError("a webhook needs a non-empty secret")
        self.url = url
        self.secret = secret
        self.attempts = attempts
        self.initial_delay = initial_delay
        self._sleep = sleep
        self._client = httpx.Client(timeout=timeout)
        super().__init__("webhook-sink")

    def deliver(self, alert: Alert) -> bool:
        """POST the alert until it is accepted or the attempts run out."""
        body = json.dumps(alert.to_json(), separators=(",", ":")).encode()
        for attempt in range(1, self.attempts + 1):
            stamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/json",
                TIMESTAMP_HEADER: stamp,
                SIGNATURE_HEADER: sign(self.secret, stamp, body),
            }
            try:
                response = self._client.post(self.url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                log.warning("webhook attempt %d failed: %s", attempt, exc)
            else:
                if response.status_code < 300:
                    return True
                retryable = response.status_code == 429 or response.status_code >= 500
                log.warning("webhook attempt %d: HTTP %d", attempt, response.status_code)
                if not retryable:
                    return False
            if attempt < self.attempts:
                self._sleep(self.initial_delay * 2 ** (attempt - 1))
        return False

    def close(self, timeout: float = 30.0) -> None:
        """Finish deliveries and close the HTTP client."""
        super().close(timeout)
        self._client.close()


def alert_report(alert: Alert) -> Any:
    """The intake report for an alert: the stream, the matched entry and the frame's hash."""
    from safestream.core.reports import LiveStream, MatchedEntry, MediaHash, ReportIn
    from safestream.core.signals import SignalType

    if alert.stage == "local":
        # A second-stage match has no hash to list: it is named here and carried by its event.
        described = (
            f"Live monitor: stream {alert.stream} showed bank {alert.bank} entry "
            f"{alert.entry_id} at {alert.t:.1f} s (local features, region {alert.region}, "
            f"coverage {alert.coverage})."
        )
        matched: list[MatchedEntry] = []
    else:
        described = (
            f"Live monitor: stream {alert.stream} matched bank {alert.bank} entry "
            f"{alert.entry_id} at {alert.t:.1f} s (distance {alert.distance}, {alert.variant})."
        )
        matched = [
            MatchedEntry(
                bank=alert.bank,
                entry_id=alert.entry_id,
                signal_type=SignalType.PDQ,
                value=alert.entry_hash,
                distance=alert.distance,
                label=alert.label,
            )
        ]
    return ReportIn(
        description=described,
        live_stream=LiveStream(stream_id=alert.stream[:256]),
        media_hashes=[MediaHash(signal_type=SignalType.PDQ, value=alert.frame_hash)],
        matches=matched,
        evidence_hold=False,
        idempotency_key=f"live-alert:{alert.alert_id}",
    )


def alert_events(alert: Alert) -> list[Event]:
    """What the live monitor detected: the stream flagged, and the bank match that flagged it
    (`MatchFound` for a hash match, `RegionMatchFound` for a second-stage one)."""
    from safestream.core.banks import Classification
    from safestream.core.events import MatchFound, RegionMatchFound, StreamFlagged
    from safestream.core.signals import SignalType

    try:
        label = Classification(alert.label)
    except ValueError:
        label = Classification.UNCLASSIFIED
    now = datetime.now(UTC)
    stream = alert.stream[:256]
    flagged = StreamFlagged(
        at=now,
        stream_id=stream,
        reason=f"matched bank {alert.bank} entry {alert.entry_id} at {alert.t:.1f} s",
        live_now=True,
    )
    if alert.stage == "local" and alert.region is not None and alert.frame_size is not None:
        return [
            flagged,
            RegionMatchFound(
                at=now,
                bank=alert.bank,
                entry_id=alert.entry_id,
                bank_kind=alert.bank_kind or "media",
                label=label,
                verified=True,
                stream_id=stream,
                stage=alert.stage,
                region=alert.region,
                frame_size=alert.frame_size,
                coverage=float(alert.coverage or 0.0),
                inliers=alert.inliers or 0,
                media_sha256=None,
                t=alert.t,
            ),
        ]
    return [
        flagged,
        MatchFound(
            at=now,
            bank=alert.bank,
            entry_id=alert.entry_id,
            signal_type=SignalType.PDQ,
            entry_hash=alert.entry_hash,
            distance=alert.distance,
            label=label,
            verified=True,
            stream_id=stream,
            t=alert.t,
        ),
    ]


class StoreReportSink(BackgroundSink):
    """Files each alert as a detector report with its events (`alert_events`), through the
    detectors' `EventSink`, linked into a case at once."""

    def __init__(self, db: Database, settings: Settings | None = None) -> None:
        from safestream.reports.intake import DetectorSink

        self.sink = DetectorSink(db, detector="live", settings=settings)
        self.report_ids: list[str] = []
        super().__init__("store-sink")

    def deliver(self, alert: Alert) -> bool:
        """Store the alert's report and events and link it into a case."""
        report = self.sink.emit(alert_report(alert), alert_events(alert))
        self.report_ids.append(report.id)
        return True
