"""The real app served by uvicorn on a free loopback port, and the system Chromium to drive it.

Used by the browser tests and by `python -m tests.web.screenshots`.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, sync_playwright

from safestream.api.app import create_app
from safestream.core.config import Settings
from safestream.core.reports import ReportIn
from safestream.store.access import get_org
from safestream.store.database import Database
from safestream.store.panic_keys import issue_panic_key

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
START_TIMEOUT_SECONDS = 20.0


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class LiveServer:
    """A running server: where it answers and the store behind it."""

    url: str
    settings: Settings
    db: Database
    app: FastAPI
    panic_keys: dict[str, str] = field(default_factory=dict)

    def call_page(self, org: str, stream: str | None = None) -> str:
        """The demo call page with the organisation's panic key, bound to this server's origin
        and to `call-` streams (issued on first use)."""
        if org not in self.panic_keys:
            issued = issue_panic_key(self.db, org, origins=[self.url], stream_prefix="call-")
            self.panic_keys[org] = issued.key
        query = f"key={self.panic_keys[org]}" + (f"&stream={stream}" if stream else "")
        return f"{self.url}/demo/call?{query}"

    def file(self, org: str, report: ReportIn) -> int:
        """Store and link a report as a platform's API call would; return its case id."""
        stored = self.app.state.intake.receive(get_org(self.db, org), report)
        return int(self.app.state.engine.process([stored.report.id])[stored.report.id])


@contextmanager
def live_server(home: Path, database: Database | None = None) -> Iterator[LiveServer]:
    """Serve `create_app` for a fresh home (and its SQLite store, or `database`) on 127.0.0.1
    until the block ends."""
    # Demo mode serves the demo call page the panic-button tests embed the widget in.
    database_url = database.url if database else f"sqlite:///{home / 'safestream.db'}"
    settings = Settings(home=home, database_url=database_url, demo_mode=True)
    settings.ensure_home()
    app = create_app(settings, database=database)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"uvicorn did not start on port {port}")
        time.sleep(0.05)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", settings, app.state.db, app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, with no background network of its own; closed after."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()
