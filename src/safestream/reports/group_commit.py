"""Group commit: one writer thread stores reports from many requests in shared transactions.

Each request hands its report over and waits for its own answer; the writer takes everything that
queued up while the previous commit was running (up to `max_batch`) and stores it in one
transaction. Every caller is answered only after the commit that holds its report, so durability
is the same as one transaction per report, at a fraction of the commits and round trips.
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future

from safestream.core.errors import StoreError
from safestream.store.reports import NewReport, ReportRepository, StoredReport

log = logging.getLogger(__name__)
MAX_BATCH = 256

_STOP = object()


class GroupCommitWriter:
    """A thread that stores queued reports in batches and resolves each caller's future."""

    def __init__(self, repository: ReportRepository, *, max_batch: int = MAX_BATCH) -> None:
        self.repository = repository
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[tuple[NewReport, Future[StoredReport]] | object] = (
            queue.SimpleQueue()
        )
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the writer thread (idempotent)."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="safestream-intake-writer", daemon=True
                )
                self._thread.start()

    def submit(self, item: NewReport) -> Future[StoredReport]:
        """Queue a report; the future resolves once it is committed (or fails)."""
        if self._thread is None:
            self.start()
        future: Future[StoredReport] = Future()
        self._queue.put((item, future))
        return future

    def stop(self) -> None:
        """Finish the queued reports, then stop the thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(_STOP)
            thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch = [first]
            stopping = False
            while len(batch) < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    stopping = True
                    break
                batch.append(more)
            self._write(batch)  # type: ignore[arg-type]
            if stopping:
                return

    def _write(self, batch: list[tuple[NewReport, Future[StoredReport]]]) -> None:
        try:
            results = self.repository.add_many([item for item, _ in batch])
        except Exception:
            if len(batch) == 1:
                log.exception("storing a report failed")
                batch[0][1].set_exception(
                    StoreError(
                        "the report could not be stored; retry with the same idempotency key"
                    )
                )
                return
            # One bad report must not fail the others: store them one by one.
            for one in batch:
                self._write([one])
            return
        for (_, future), result in zip(batch, results, strict=True):
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)
