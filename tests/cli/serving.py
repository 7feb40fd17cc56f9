"""Waiting for a `safestream serve` process the test started to answer."""

from __future__ import annotations

import subprocess
import time

import httpx


def wait_until_ready(server: subprocess.Popen[bytes], base: str, timeout: float = 60.0) -> None:
    """Poll `base`/readyz until it answers 200; fail if the server exits or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert server.poll() is None, "serve exited"
        assert time.monotonic() < deadline, "serve did not become ready"
        time.sleep(0.2)
