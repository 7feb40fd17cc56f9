"""`safestream serve` writes an access line per request and honours its log level."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.cli.test_serve_stops import _free_port, _wait_ready


def _serve_and_get(home: Path, *options: str) -> list[str]:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "safestream.cli", "serve", "--port", str(port), "--linker", "off",
         *options],
        env={**os.environ, "SAFESTREAM_HOME": str(home)},
        stderr=subprocess.PIPE,
        start_new_session=True,
    )  # fmt: skip
    try:
        _wait_ready(server, port)
        assert httpx.get(f"http://127.0.0.1:{port}/v1/reports/nope", timeout=5).status_code == 401
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        _, stderr = server.communicate(timeout=30)
    return stderr.decode().splitlines()


@pytest.mark.slow
def test_serve_logs_each_request_as_a_json_line(home: Path) -> None:
    lines = _serve_and_get(home, "--log-format", "json")
    records = [json.loads(line) for line in lines if line.startswith("{")]
    access = [r for r in records if r["logger"] == "uvicorn.access"]
    assert {"path": "/v1/reports/nope", "status": 401, "method": "GET"}.items() <= next(
        r for r in access if r["path"] == "/v1/reports/nope"
    ).items()
    assert all({"time", "level", "logger"} <= r.keys() for r in records)


@pytest.mark.slow
def test_serve_at_warning_level_without_access_log_writes_no_request_line(home: Path) -> None:
    lines = _serve_and_get(
        home, "--log-format", "json", "--log-level", "warning", "--no-access-log"
    )
    assert not [line for line in lines if "/v1/reports/nope" in line]
    assert not [line for line in lines if '"level": "info"' in line]


def test_serve_refuses_an_unknown_log_level(home: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "safestream.cli", "serve", "--log-level", "loud"],
        env={**os.environ, "SAFESTREAM_HOME": str(home)},
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert b"--log-level" in done.stderr
