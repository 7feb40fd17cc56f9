"""`safestream serve` migrates the store, then serves the API over HTTP on loopback."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from safestream.cli import app
from tests.cli.serving import wait_until_ready


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_serve_answers_health_and_takes_a_report(home: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["org", "create", "Acme"]).exit_code == 0
    key = json.loads(runner.invoke(app, ["apikey", "create", "Acme"]).stdout)["api_key"]
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "safestream.cli", "serve", "--port", str(port)],
        env={**os.environ, "SAFESTREAM_HOME": str(home)},
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_ready(server, base)
        r = httpx.post(
            f"{base}/v1/reports",
            json={"reported_accounts": [{"platform": "acme", "id": "u1"}]},
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        )
        assert r.status_code == 202
        # The background linker puts the report in a case shortly after.
        for _ in range(100):
            status = httpx.get(
                f"{base}{r.json()['url']}", headers={"Authorization": f"Bearer {key}"}
            ).json()
            if status["case_id"] is not None:
                break
            time.sleep(0.1)
        assert status["status"] == "linked"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
