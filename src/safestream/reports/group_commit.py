"""Group commit: one writer thread stores reports from many requests in shared transactions.

Each request hands its report over and waits for its own answer; the writer takes everything that
queued up while the previous commit was running (up to `max_batch`) and stores it in one
transaction. Every caller is answered only after the commit that holds its report, so durability
is the same as one transaction per report, at a fraction of the commits and round trips.

The writer keeps one connection of its own: checking one out of the pool per batch pinged the
server first, a round trip per batch. A connection that fails is dropped and the next attempt
opens a new one.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections import defaultdict
from concurrent.futures import Future

from safestream.core.errors import StorageFull, StoreUnavailable
from safestream.store.database import HeldConnection
from safestream.store.faults import store_failure
from safestream.store.reports import NewReport, ReportRepository, StoredReport

log = logging.getLogger(__name__)
MAX_BATCH = 256

_STOP = object()
Waiter = Future[StoredReport] | asyncio.Future[StoredReport]
Answer = StoredReport | BaseException


def _settle(waiter: Waiter, answer: Answer) -> None:
    if waiter.done():  # an asyncio caller that was cancelled (client gone)
        return
    if isinstance(answer, BaseException):
        waiter.set_exception(answer)
    else:
        waiter.set_result(answer)


def _settle_all(answers: list[tuple[Waiter, Answer]]) -> None:
    for waiter, answer in answers:
        _settle(waiter, answer)


class GroupCommitWriter:
    """A thread that stores queued reports in batches and resolves each caller's future."""

    def __init__(self, repository: ReportRepository, *, max_batch: int = MAX_BATCH) -> None:
        self.repository = repository
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[tuple[NewReport, Waiter] | object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._connection = HeldConnection(repository.db)

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
        future: Future[StoredReport] = Future()
        self._put(item, future)
        return future

    async def store(self, item: NewReport) -> StoredReport:
        """Queue a report from the event loop and wait until it is committed (or fails).

        The writer answers all of a batch's callers on one loop with one wake-up of that loop.
        """
        future: asyncio.Future[StoredReport] = asyncio.get_running_loop().create_future()
        self._put(item, future)
        return await future

    def _put(self, item: NewReport, waiter: Waiter) -> None:
        if self._thread is None:
            self.start()
        self._queue.put((item, waiter))

    def stop(self) -> None:
        """Finish the queued reports, then stop the thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(_STOP)
            thread.join(timeout=30)

    def _run(self) -> None:
        try:
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
                self._answer(self._write(batch))  # type: ignore[arg-type]
                if stopping:
                    return
        finally:
            self._connection.drop()

    def _answer(self, answers: list[tuple[Waiter, Answer]]) -> None:
        by_loop: defaultdict[asyncio.AbstractEventLoop, list[tuple[Waiter, Answer]]]
        by_loop = defaultdict(list)
        for waiter, answer in answers:
            if isinstance(waiter, asyncio.Future):
                by_loop[waiter.get_loop()].append((waiter, answer))
            else:
                _settle(waiter, answer)
        for loop, settled in by_loop.items():
            try:
                loop.call_soon_threadsafe(_settle_all, settled)
            except RuntimeError:  # the loop closed: its callers are gone
                log.warning("an event loop closed before %d answers", len(settled))

    def _write(self, batch: list[tuple[NewReport, Waiter]]) -> list[tuple[Waiter, Answer]]:
        try:
            results = self.repository.add_many(
                [item for item, _ in batch], connection=self._connection.get()
            )
        except Exception as exc:
            self._connection.drop()
            error = store_failure(exc)
            if len(batch) == 1 or isinstance(error, (StoreUnavailable, StorageFull)):
                # A database that is down or a disk that is full fails every report alike:
                # answer them all now (503/507) rather than retry each against it.
                log.warning("storing %d report(s) failed: %s", len(batch), exc)
                return [(waiter, error) for _, waiter in batch]
            # One bad report must not fail the others: store them one by one.
            return [answer for one in batch for answer in self._write([one])]
        return [(waiter, result) for (_, waiter), result in zip(batch, results, strict=True)]
