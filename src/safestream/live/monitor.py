"""StreamMonitor: watches many streams in one process, one decode thread per stream.

Nothing is shared between streams except the matching stages (each behind a lock) and the
sinks: two threads never touch one codec context (see stream_worker.py for a stream's thread).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import numpy as np

from safestream.live.alerts import AlertRouter
from safestream.live.classifiers import FrameClassifier
from safestream.live.evidence import EvidenceRecord, EvidenceStore
from safestream.live.match_services import (
    LocalMatchFunction,
    LocalMatchService,
    MatchFunction,
    MatchService,
)
from safestream.live.risk import FULL_AT, RiskAssessment, RiskBook, StreamEvent
from safestream.live.stream_worker import PreserveRequest, StreamSpec, StreamStats, StreamWorker
from safestream.media.frames import HASH_SHORT_SIDE, hash_luma

# What callers build a monitor from, importable from here as before the worker had its module.
__all__ = [
    "LocalMatchService",
    "MatchService",
    "StreamMonitor",
    "StreamSpec",
    "StreamStats",
    "StreamWorker",
]


class StreamMonitor:
    """Watches many streams in one process: a decode thread per stream."""

    def __init__(
        self,
        match: MatchFunction,
        alerts: AlertRouter,
        *,
        risk: RiskBook | None = None,
        evidence: EvidenceStore | None = None,
        evidence_seconds: float = 30.0,
        classifiers: Sequence[FrameClassifier] = (),
        hash_short_side: int = HASH_SHORT_SIDE,
        on_evidence: Callable[[EvidenceRecord], None] | None = None,
        on_stream_end: Callable[[str, StreamStats], None] | None = None,
        local_match: LocalMatchFunction | None = None,
        local_from_score: int = FULL_AT,
    ) -> None:
        self.match = match
        # The second stage costs ~15 ms a frame: it runs on streams whose risk score is at least
        # `local_from_score` (0: every stream).
        self.local_match = local_match
        self.local_from_score = local_from_score
        self.alerts = alerts
        self.risk = risk or RiskBook()
        self.evidence = evidence
        self.evidence_seconds = evidence_seconds
        self.classifiers = list(classifiers)
        self.hash_short_side = hash_short_side
        self.on_evidence = on_evidence
        self.on_stream_end = on_stream_end
        self.evidence_records: list[EvidenceRecord] = []
        # Load the compiled PDQ kernels now, not on the first stream's first sample.
        hash_luma(np.zeros((64, 64), dtype=np.float32))
        self._workers: dict[str, StreamWorker] = {}
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)

    def add(self, spec: StreamSpec) -> StreamWorker:
        """Start watching a stream; a stream id already watched is refused with `ValueError`."""
        with self._lock:
            if spec.stream_id in self._workers:
                raise ValueError(f"stream {spec.stream_id!r} is already watched")
            worker = StreamWorker(spec, self)
            self._workers[spec.stream_id] = worker
        worker.start()
        return worker

    def streams(self) -> dict[str, StreamStats]:
        """Stats of the streams being watched."""
        with self._lock:
            return {sid: w.stats for sid, w in self._workers.items()}

    def stop(self, stream_id: str) -> None:
        """Ask one stream's thread to stop."""
        with self._lock:
            worker = self._workers.get(stream_id)
        if worker is not None:
            worker.stop_event.set()

    def stop_all(self) -> None:
        """Ask every stream's thread to stop."""
        with self._lock:
            workers = list(self._workers.values())
        for worker in workers:
            worker.stop_event.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until no stream is watched; return False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while self._workers:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._changed.wait(0.2 if remaining is None else min(0.2, remaining))
        return True

    def apply_event(self, event: StreamEvent) -> RiskAssessment:
        """Feed a context event; the stream's sampling follows its new risk assessment."""
        assessment = self.risk.apply(event)
        with self._lock:
            worker = self._workers.get(event.stream_id)
        if worker is not None:
            worker.inbox.put(assessment.policy)
        return assessment

    def preserve_stream_evidence(
        self, stream_id: str, requested_by: str, reason: str = "panic_report"
    ) -> bool:
        """Keep the stream's buffer plus the next seconds as evidence; False if not watched."""
        with self._lock:
            worker = self._workers.get(stream_id)
        if worker is None or worker.recorder is None:
            return False
        worker.inbox.put(PreserveRequest(requested_by, reason))
        return True

    def _stream_done(self, worker: StreamWorker) -> None:
        with self._changed:
            self._workers.pop(worker.spec.stream_id, None)
            self._changed.notify_all()
        self.alerts.end_stream(worker.spec.stream_id)
        if self.on_stream_end is not None:
            self.on_stream_end(worker.spec.stream_id, worker.stats)

    def _evidence_written(self, record: EvidenceRecord) -> None:
        with self._lock:
            self.evidence_records.append(record)
        if self.on_evidence is not None:
            self.on_evidence(record)
