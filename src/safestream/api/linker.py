"""The background linker: a thread that links stored reports into cases soon after intake."""

from __future__ import annotations

import logging
import threading

from safestream.api.metrics import Metrics
from safestream.cases.engine import CaseEngine

log = logging.getLogger(__name__)
IDLE_POLL_SECONDS = 2.0


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
            try:
                linked = self.engine.process_pending()
                self.metrics.linked.inc(linked)
            except Exception:  # a process boundary: keep linking later, and say why
                log.exception("background linking failed; will retry")
