"""Linking stored reports into cases after intake: in a thread of the server, or in its own process.

Intake answers once a report is committed; linking it into a case can wait a little. Under a burst
the linker must not take the CPU intake needs, so `safestream serve` runs it as a separate process
(`safestream link`) at idle priority (Linux SCHED_IDLE: it runs only on CPU nothing else wants).
A burst larger than the idle CPU can link grows a backlog, worked off once the burst ends. The
lag is visible on every server's /metrics (`LinkerLag`), whichever process links.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from safestream.api.metrics import Metrics
from safestream.cases.engine import BACKLOG_BATCH, BATCH, CaseEngine
from safestream.cases.outbox import OutboxSender
from safestream.core.config import Settings
from safestream.store.base import utcnow
from safestream.store.database import Database
from safestream.store.reports import ReportRepository

log = logging.getLogger(__name__)
IDLE_POLL_SECONDS = 2.0
# Niceness of the linker process where idle scheduling is off or missing: the kernel then gives
# intake most of the cores whenever both want them.
LINKER_NICENESS = 10
# Share of the time the linker process may spend linking while intake is storing reports.
BUSY_SHARE = 0.25
MAX_REST_SECONDS = 1.0
# Linking lag (age of the oldest unlinked report) past which the linker stops resting for intake:
# below it the linker yields; at it, keeping cases current matters more than a few ms of latency.
LAG_BOUND_SECONDS = 5.0


class BackgroundLinker:
    """Runs `CaseEngine.process_pending` whenever woken, and every few seconds anyway."""

    def __init__(self, engine: CaseEngine, metrics: Metrics, *, enabled: bool = True) -> None:
        self.engine = engine
        self.metrics = metrics
        self.enabled = enabled
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (no-op when disabled)."""
        if not self.enabled or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="safestream-linker", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Ask for a run soon (called after each stored report)."""
        self._wake.set()

    def stop(self) -> None:
        """Stop the thread after its current batch."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(IDLE_POLL_SECONDS)
            self._wake.clear()
            self.metrics.linked.inc(link_pending(self.engine))


def link_pending(engine: CaseEngine, limit: int = 10_000, *, batch: int = BATCH) -> int:
    """Link what is pending now (up to `limit`, `batch` per transaction); a failure is logged and
    retried next round."""
    try:
        return engine.process_pending(limit, batch=batch)
    except Exception:  # a process boundary: keep linking later, and say why
        log.exception("linking failed; will retry")
        return 0


def outbox_for(db: Database, settings: Settings) -> OutboxSender:
    """The linker's outbox sender: the home's webhooks, and the live workers' buffer requests
    over NATS when the live monitor is distributed (the settings name a NATS server)."""
    from safestream.live.buffer_requests import LiveBufferPublisher

    live = [LiveBufferPublisher(url=settings.nats_url)] if settings.nats_url else []
    return OutboxSender.for_settings(db, settings, publishers=live)


def send_outbox(outbox: OutboxSender) -> int:
    """Send pending notifications; a failure is logged and retried on the next round."""
    try:
        return outbox.send_pending()
    except Exception:  # a process boundary: keep linking, and say why
        log.exception("sending the outbox failed; will retry")
        return 0


def lower_priority(niceness: int, *, idle: bool) -> None:
    """Lower this process's CPU priority: `idle` asks Linux to run it only on otherwise idle CPU
    (SCHED_IDLE), else (or where that is missing) it runs at `niceness`."""
    if idle and hasattr(os, "SCHED_IDLE"):
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    elif niceness:
        os.nice(niceness)


def pause_after_batch(
    batch_cpu_seconds: float, intake_active: bool, busy_share: float, lag_seconds: float = 0.0
) -> float:
    """How long to rest after a batch: none while intake is quiet or once the linking lag has
    reached `LAG_BOUND_SECONDS`; while intake is storing reports and linking keeps up, enough
    that linking takes at most `busy_share` of the time, and never more than `MAX_REST` so the
    linker notices soon when the burst is over.

    Idle CPU priority covers the linker's own process only; its database work runs at normal
    priority and would compete with intake's, so during a burst the linker also slows itself.
    The batch is measured in the linker's CPU time: its wall time mostly counts the waits for CPU
    that idle priority imposes, and resting in proportion to those would stall it for minutes.
    """
    if not intake_active or busy_share >= 1 or lag_seconds >= LAG_BOUND_SECONDS:
        return 0.0
    return min(MAX_REST_SECONDS, batch_cpu_seconds * (1 / busy_share - 1))


def next_batch(linked: int, batch: int) -> int:
    """The size of the next batch: a full batch means a backlog waits, worked off in larger ones
    (`BACKLOG_BATCH`); otherwise the usual size, so a report arriving alone is linked soon."""
    return BACKLOG_BATCH if linked >= batch else BATCH


def run_linker_process(
    engine: CaseEngine,
    *,
    niceness: int = LINKER_NICENESS,
    idle: bool = False,
    busy_share: float = BUSY_SHARE,
    poll_seconds: float = 0.2,
    stop: threading.Event | None = None,
    outbox: OutboxSender | None = None,
) -> None:
    """Link pending reports until `stop` is set (or forever), at a lower CPU priority, and send
    the notifications linking wrote to the outbox.

    Polls the store: intake nodes in other processes store reports and need not know the linker.
    """
    lower_priority(niceness, idle=idle)
    stop = stop or threading.Event()
    reports = ReportRepository(engine.db)
    batch = BATCH
    while not stop.is_set():
        started, since = time.process_time(), utcnow()
        # One batch at a time, so a stop request waits for one batch at most.
        linked = link_pending(engine, batch, batch=batch)
        batch = next_batch(linked, batch)
        if outbox is not None:
            send_outbox(outbox)
        if linked == 0:
            stop.wait(poll_seconds)
            continue
        batch_cpu = time.process_time() - started
        if not reports.received_since(since):
            continue
        _, oldest = reports.pending_summary()
        lag = 0.0 if oldest is None else max(0.0, time.time() - oldest.timestamp())
        stop.wait(pause_after_batch(batch_cpu, True, busy_share, lag))


class LinkerLag(Collector):
    """Prometheus gauges read from the store at scrape time: reports not yet linked, and the age
    of the oldest one (0 when none). They show the lag of whichever process links."""

    def __init__(self, reports: ReportRepository) -> None:
        self.reports = reports

    def collect(self) -> Iterable[GaugeMetricFamily]:
        """The two gauges, from one indexed query."""
        count, oldest = self.reports.pending_summary()
        lag = max(0.0, time.time() - oldest.timestamp()) if oldest is not None else 0.0
        yield GaugeMetricFamily(
            "safestream_reports_unlinked", "Stored reports not yet linked into a case", count
        )
        yield GaugeMetricFamily(
            "safestream_linker_lag_seconds",
            "Age of the oldest stored report not yet linked into a case (0 when none)",
            lag,
        )
