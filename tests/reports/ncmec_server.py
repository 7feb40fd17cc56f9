"""The local CyberTipline test server on a free loopback port, with the client's variables set."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import uvicorn

from safestream.reports.ncmec_test_server import TestServerState, cybertip_test_app


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_test_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[TestServerState]:
    """Serve the test server over HTTP and point SAFESTREAM_NCMEC_TEST_* at it."""
    state = TestServerState(username="esp", password="pw")
    port = free_port()
    config = uvicorn.Config(
        cybertip_test_app(state), host="127.0.0.1", port=port, log_level="error"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the CyberTipline test server did not start on port {port}")
        time.sleep(0.05)
    monkeypatch.setenv("SAFESTREAM_NCMEC_TEST_USERNAME", "esp")
    monkeypatch.setenv("SAFESTREAM_NCMEC_TEST_PASSWORD", "pw")
    monkeypatch.setenv("SAFESTREAM_NCMEC_TEST_URL", f"http://127.0.0.1:{port}/ispws")
    try:
        yield state
    finally:
        server.should_exit = True
        thread.join(timeout=10)
