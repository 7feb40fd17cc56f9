"""`safestream serve` stops everything it started when it is told to stop (systemd, Ctrl-C)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from tests.cli.serving import wait_until_ready


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_serve(home: Path, port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "safestream.cli", "serve", "--port", str(port)],
        env={**os.environ, "SAFESTREAM_HOME": str(home)},
        start_new_session=True,  # so that cleanup can reach the whole group if the test fails
    )


def _wait_ready(server: subprocess.Popen[bytes], port: int) -> None:
    wait_until_ready(server, f"http://127.0.0.1:{port}")


def _alive(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.mark.slow
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_serve_leaves_no_process_behind(home: Path, stop_signal: signal.Signals) -> None:
    port = _free_port()
    server = _start_serve(home, port)
    try:
        _wait_ready(server, port)
        started = psutil.Process(server.pid).children(recursive=True)
        assert any("link" in p.cmdline() for p in started), "serve starts its link process"
        os.kill(server.pid, stop_signal)  # the server only, as systemd's KillMode=mixed does
        status = server.wait(timeout=60)
        assert status in (-stop_signal, 128 + stop_signal, 0)
        psutil.wait_procs(started, timeout=10)
        assert [p.pid for p in started if _alive(p)] == []
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
        with_session = [p for p in psutil.process_iter(["pid"]) if _in_session(p, server.pid)]
        for leftover in with_session:
            leftover.kill()


def _in_session(process: psutil.Process, session: int) -> bool:
    try:
        return os.getsid(process.pid) == session and process.pid != os.getpid()
    except (ProcessLookupError, PermissionError):
        return False
