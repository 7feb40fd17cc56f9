"""Retroactive matching for bank entries added over HTTP, off the request.

`/v1/banks/<name>/entries`, `/v1/banks/<name>/media` and HMA's `/c/bank/<name>/signal` and
`/content` hand the ids they added to this queue and answer at once. One background thread per
server process takes everything queued, and runs it through the same `RetroMatcher.match` as
`bank add`, `bank import` and `exchange pull` (one detector report per seen item and entry,
linked to the case that holds the content). HMA clients add one signal per request: entries
that arrive while a pass runs are matched together in the next one.

The matcher loads the recently seen hashes on its first pass (about a minute and 1.4 GiB at 10M
hashes, `bench/results/exchange.md`) and then only the rows added since, so a process that
never receives a bank change never loads them. With `recent_seen_days = 0` nothing is queued.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import timedelta

from safestream.core.config import Settings
from safestream.media.retro import RetroMatcher
from safestream.reports.intake import DetectorSink
from safestream.store.database import Database

log = logging.getLogger(__name__)


class RetroQueue:
    """New bank entry ids, matched over the recently seen hashes by a background thread."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.raised = 0  # detector reports filed, for tests and metrics
        self.failed = 0  # passes that failed (the store away); their entries are not retried
        self._pending: list[int] = []
        self._busy = False
        self._closed = False
        self._matcher: RetroMatcher | None = None
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    @property
    def enabled(self) -> bool:
        """Whether the operator keeps recently seen hashes at all."""
        return self.settings.recent_seen_days > 0

    def submit(self, entry_ids: Sequence[int]) -> None:
        """Queue new entries (of any bank: negative banks and benign entries raise nothing)."""
        if not self.enabled or not entry_ids:
            return
        with self._cond:
            if self._closed:
                return
            self._pending.extend(entry_ids)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="retro-match", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until everything queued has been matched; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending and not self._busy, timeout)

    def close(self, timeout: float = 30.0) -> None:
        """Stop after the pass under way (queued entries are dropped)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._closed)
                if self._closed:
                    return
                ids, self._pending, self._busy = self._pending, [], True
            try:
                self.raised += len(self._match(ids))
            except Exception:  # the store may be away: matching of these entries is lost
                self.failed += 1
                log.exception("retroactive matching of %d new entries failed", len(ids))
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _match(self, ids: list[int]) -> list[object]:
        if self._matcher is None:
            sink = DetectorSink(self.db, detector="retro", settings=self.settings)
            retention = timedelta(days=self.settings.recent_seen_days)
            self._matcher = RetroMatcher(self.db, retention, sink)
        return list(self._matcher.match_ids(ids))
