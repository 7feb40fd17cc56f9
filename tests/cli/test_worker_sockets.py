"""`serve --workers N` spreads a client's keep-alive connections over its workers, and refuses
a port another server listens on."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import psutil
import pytest

from safestream.cli.worker_sockets import reuse_port_sockets
from safestream.core.errors import SafeStreamError
from tests.cli.serving import wait_until_ready


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _workers(server: psutil.Process) -> list[psutil.Process]:
    return [p for p in server.children() if "multiprocessing.resource_tracker" not in p.cmdline()]


def _listening(server: psutil.Process, port: int) -> int:
    """How many of the server's workers listen on `port` (a worker listens once started)."""
    return sum(
        any(c.status == psutil.CONN_LISTEN and c.laddr.port == port for c in w.net_connections())
        for w in _workers(server)
    )


async def _open_together(port: int, count: int) -> list[asyncio.StreamWriter]:
    async def one() -> asyncio.StreamWriter:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: safestream\r\n\r\n")
        await writer.drain()
        assert (await reader.read(12)).startswith(b"HTTP/1.1 200")
        return writer

    return await asyncio.gather(*(one() for _ in range(count)))


@pytest.mark.slow
def test_keep_alive_connections_opened_together_reach_every_worker(home: Path) -> None:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "safestream.cli", "serve", "--port", str(port), "--workers", "2",
         "--linker", "off"],
        env={**os.environ, "SAFESTREAM_HOME": str(home)},
        start_new_session=True,
    )  # fmt: skip
    try:
        wait_until_ready(server, f"http://127.0.0.1:{port}")
        supervisor = psutil.Process(server.pid)
        deadline = time.monotonic() + 60
        while _listening(supervisor, port) < 2:
            assert time.monotonic() < deadline, "the second worker never listened"
            time.sleep(0.1)
        # A pool of keep-alive connections opened at once, as a platform's backend opens it. On
        # one shared socket the first worker to wake took nearly all of them; spread by the
        # kernel, fewer than 4 of 32 on a worker happens about once in a million runs.
        loop = asyncio.new_event_loop()
        writers = loop.run_until_complete(_open_together(port, 32))
        ports = {w.get_extra_info("sockname")[1] for w in writers}
        held = Counter(
            w.pid
            for w in _workers(supervisor)
            for c in w.net_connections(kind="tcp")
            if c.raddr and c.raddr.port in ports
        )
        for writer in writers:
            writer.close()
        loop.close()
        assert sum(held.values()) == 32
        assert min(held.values(), default=0) >= 4 and len(held) == 2, held
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)


def test_a_port_another_server_listens_on_is_refused() -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        taken = other.getsockname()[1]
        with pytest.raises(SafeStreamError, match=r"cannot listen on 127\.0\.0\.1"):
            reuse_port_sockets("127.0.0.1", taken, 2)


def test_a_second_safestream_on_the_same_port_is_refused() -> None:
    first = reuse_port_sockets("127.0.0.1", 0, 2)
    try:
        for sock in first:
            sock.listen()
        with pytest.raises(SafeStreamError, match="cannot listen"):
            reuse_port_sockets("127.0.0.1", first[0].getsockname()[1], 2)
    finally:
        for sock in first:
            sock.close()


def test_serve_on_a_busy_port_says_so_and_exits_1(home: Path) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        taken = other.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "safestream.cli", "serve", "--port", str(taken),
             "--linker", "off"],
            env={**os.environ, "SAFESTREAM_HOME": str(home)},
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert result.returncode == 1
    assert f"error: cannot listen on 127.0.0.1:{taken}" in result.stderr
