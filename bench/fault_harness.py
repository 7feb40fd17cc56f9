"""Real faults for the fault suite: private NATS and PostgreSQL servers that can be stopped,
live workers that can be killed, and a clock to say how long recovery took.

Every server here is a throwaway started for the run (its own port and data folder), so
stopping it never disturbs the shared services other jobs use.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from glob import glob
from pathlib import Path
from typing import Any


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_open(port: int) -> bool:
    """True when something accepts connections on 127.0.0.1:port."""
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def wait_until(condition: Callable[[], bool], timeout: float, step: float = 0.05) -> float | None:
    """Seconds until `condition` held, or None if it did not within `timeout`."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if condition():
            return time.monotonic() - start
        time.sleep(step)
    return None


class PrivateNats:
    """A `nats-server -js` of our own, on a free port, with its store in `folder`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Its client URL."""
        return f"nats://127.0.0.1:{self.port}"

    @staticmethod
    def available() -> bool:
        """True when the nats-server binary is installed."""
        return shutil.which("nats-server") is not None

    def start(self) -> None:
        """Start (or restart) the server on the same port and store."""
        self.process = subprocess.Popen(
            ["nats-server", "-js", "-a", "127.0.0.1", "-p", str(self.port),
             "-sd", str(self.folder / "jetstream")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        if wait_until(lambda: port_open(self.port), 10) is None:
            raise RuntimeError("private nats-server did not start")

    def stop(self) -> None:
        """Stop it (SIGTERM, as an operator or orchestrator would)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


class PrivatePostgres:
    """A PostgreSQL cluster of our own (initdb in a fresh temporary folder), on a free port,
    trust auth. The folder is outside pytest's private tmp tree so the `postgres` user (which
    the server runs as when we are root) can reach it; `remove` deletes it."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="safestream-pg-"))
        self.port = free_port()
        self.data = self.folder / "pgdata"

    @staticmethod
    def bin_dir() -> Path | None:
        """The newest /usr/lib/postgresql/*/bin that has pg_ctl, if any."""
        found = sorted(glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        return Path(found[-1]).parent if found else None

    @property
    def url(self) -> str:
        """SQLAlchemy URL of its `postgres` database."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        binaries = self.bin_dir()
        assert binaries is not None
        command = [str(binaries / args[0]), *args[1:]]
        subprocess.run(command, check=True, capture_output=True, **_as_postgres_user())

    def init(self) -> None:
        """Create the cluster (run as user `postgres` when we are root)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.folder / "server.log")  # not our pipes: the server outlives pg_ctl
        data = str(self.data)
        self._run("pg_ctl", "-D", data, "-l", log, "-o", options, "-w", "-t", "30", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (`fast`: as a restart by an operator; `immediate`: a crash)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        """Stop the server if it runs, and delete its folder."""
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.CalledProcessError):
                self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


def _as_postgres_user() -> dict[str, Any]:
    if os.geteuid() != 0:
        return {}
    import pwd

    entry = pwd.getpwnam("postgres")
    return {"user": entry.pw_uid, "group": entry.pw_gid}


class LiveWorkerProcess:
    """A `safestream live serve` process: lifecycle lines (stderr) and alerts (stdout) collected."""

    def __init__(self, nats_url: str, prefix: str, home: Path, *, ack_wait: float = 3.0) -> None:
        self.http_port = free_port()
        self.token = secrets.token_urlsafe(24)  # the worker serves HTTP only behind a token
        env = {**os.environ, "SAFESTREAM_HOME": str(home), "SAFESTREAM_EVIDENCE_KEY": "ab" * 32,
               "SAFESTREAM_LIVE_WORKER_TOKEN": self.token}  # fmt: skip
        env.pop("SAFESTREAM_DATABASE_URL", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "safestream.cli", "live", "serve", "--nats", nats_url,
             "--prefix", prefix, "--ack-wait", str(ack_wait), "--no-evidence",
             "--http", f"127.0.0.1:{self.http_port}"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
        )  # fmt: skip
        self.records: list[dict[str, Any]] = []
        self.alerts: list[tuple[float, dict[str, Any]]] = []
        self.errors: list[str] = []
        threading.Thread(target=self._read_stderr, daemon=True).start()
        threading.Thread(target=self._read_stdout, daemon=True).start()

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            if line.startswith("{"):
                record = json.loads(line)
                record["_at"] = time.monotonic()
                self.records.append(record)
            else:
                self.errors.append(line)

    def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("{"):
                self.alerts.append((time.monotonic(), json.loads(line)))

    def saw(self, event: str) -> list[dict[str, Any]]:
        """Lifecycle records of this kind so far."""
        return [r for r in self.records if r.get("event") == event]

    def health(self) -> dict[str, Any] | None:
        """The worker's /healthz answer, or None if it does not answer."""
        try:
            request = urllib.request.Request(
                f"http://127.0.0.1:{self.http_port}/healthz",
                headers={"Authorization": f"Bearer {self.token}"},
            )
            with urllib.request.urlopen(request, timeout=1) as reply:
                answer: dict[str, Any] = json.loads(reply.read())
                return answer
        except OSError:
            return None

    def alive(self) -> bool:
        """True while the process runs."""
        return self.process.poll() is None

    def kill(self) -> None:
        """kill -9: no goodbye, heartbeats just stop."""
        self.process.kill()
        self.process.wait(10)

    def stop(self) -> None:
        """SIGTERM, then kill if it does not exit."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
