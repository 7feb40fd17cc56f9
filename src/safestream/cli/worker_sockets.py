"""`serve --workers N`: each worker listens on its own socket, so the kernel spreads connections.

With uvicorn's one shared listening socket, every worker's event loop wakes for a new
connection and the first to run accepts all that are waiting. A platform's backend keeps a pool
of keep-alive connections open; they arrive together, and one worker took 7 or 8 of a
benchmark's 8 (`ss -tnp`), so uploads ran on one core of two (about 137 against 187 a second
when they happened to split). With SO_REUSEPORT each worker has a listening socket of its own
on the same port and the kernel hashes each new connection to one of them. The supervisor keeps
every socket open, so connections that reach a restarting worker's socket wait in its queue
rather than being refused.
"""

from __future__ import annotations

import socket

from uvicorn import Config
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Multiprocess, Process, logger

from safestream.core.errors import SafeStreamError


def reuse_port_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """`count` sockets bound to host:port with SO_REUSEPORT (each worker makes its own listen).

    Raises `SafeStreamError` when the port is taken. SO_REUSEPORT alone would let this server
    share a port with another one of the same user (a second `serve` started by mistake), so a
    plain bind checks first that nobody listens there."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sockets: list[socket.socket] = []
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
            port = probe.getsockname()[1]  # the port the system chose for port 0
        for _ in range(count):
            sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
            sock.set_inheritable(True)
    except OSError as exc:
        for sock in sockets:
            sock.close()
        raise SafeStreamError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    return sockets


class OwnSocketWorkers(Multiprocess):
    """uvicorn's supervisor, except that worker `i` always serves socket `i`."""

    def __init__(self, config: Config, sockets: list[socket.socket]) -> None:
        super().__init__(config, sockets=[])
        self.worker_sockets = sockets
        self.processes_num = len(sockets)

    def _start(self, idx: int) -> Process:
        process = Process(self.config, [self.worker_sockets[idx]])
        process.start()
        return process

    def init_processes(self) -> None:
        self.processes = [self._start(idx) for idx in range(self.processes_num)]

    def restart_all(self) -> None:
        # SIGHUP: replace the workers one by one (uvicorn brings a replacement up first; two
        # processes on one socket for a moment is harmless).
        for idx, old in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            new = self._start(idx)
            if not new.wait_until_ready(self.config.timeout_worker_healthcheck, self.should_exit):
                new.kill()
                new.join()
                return
            old.terminate()
            old.join()
            self.processes[idx] = new

    def keep_subprocess_alive(self) -> None:
        if self.should_exit.is_set():
            return
        for idx, process in enumerate(self.processes):
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                logger.error(f"Child process [{process.pid}] failed to start, stopping.")
                self.should_exit.set()
                return
            if self.should_exit.is_set():
                return
            logger.info(f"Child process [{process.pid}] died")
            self.processes[idx] = self._start(idx)
