"""Report intake under load on PostgreSQL: a minimal raw-insert endpoint (peer) vs SafeStream.

Both servers run with the same worker count on 127.0.0.1 and store into PostgreSQL, each run in a
throw-away schema of its own. The peer is the least any intake can do: one FastAPI route under
uvicorn that inserts the raw JSON body and answers 201, with no validation, idempotency or entity
extraction. SafeStream runs as deployed, `safestream serve`, which starts its linker process
beside the workers (at idle CPU priority); the intake-only node runs without it.

The load generator is one asyncio process over raw keep-alive sockets, on the same two cores:
- closed loop (the most a server can do): `--connections` connections each send the next report
  as soon as the previous one is answered, `--requests` per run, bounded by `--seconds`;
- open loop (what the target is judged on): reports are sent at a fixed `--rate` for
  `--open-seconds` whatever the answers, over a pool of up to `--pool` connections, and each
  latency runs from the request's scheduled send time, so a stall is not hidden by the client
  sending less (no coordinated omission).
Then a crash run: SafeStream is killed with SIGKILL in the middle of a load, and every report
that got a 2xx answer must be in the store.

Run: `.venv/bin/python -m bench.bench_intake [--quick] [--write-results]`
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import psutil
from fastapi import FastAPI
from sqlalchemy import Engine, create_engine, text

from safestream.store.access import create_api_key, create_org
from safestream.store.database import Database
from safestream.store.reports import ReportRepository

POSTGRES = os.environ.get(
    "SAFESTREAM_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
RESULTS = Path(__file__).resolve().parent / "results" / "intake.md"
ROOT = Path(__file__).resolve().parents[1]
SEED = 7
COUNTRIES = ("PH", "TH", "AU", "GB", "US", "DE", "BR", "IN")


# --- the peer: the least an intake endpoint can do -------------------------------------------


def peer_app() -> FastAPI:
    """Uvicorn factory of the peer: insert the raw body, answer 201 with an id."""
    engine = create_engine(
        os.environ["SAFESTREAM_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://"),
        pool_size=10,
        max_overflow=20,
    )
    app = FastAPI()
    insert = text("insert into bench_peer_reports (id, body) values (:id, :body)")

    @app.post("/v1/reports", status_code=201)
    def receive(body: bytes = b"") -> dict[str, str]:
        rid = str(uuid.uuid4())
        with engine.begin() as conn:
            conn.execute(insert, {"id": rid, "body": body.decode()})
        return {"id": rid}

    return app


# --- load generation -------------------------------------------------------------------------


def documentation_ip(rng: random.Random) -> str:
    """An address in the IPv6 documentation range, varied like real users' addresses."""
    return f"2001:db8::{rng.randrange(1 << 16):x}:{rng.randrange(1 << 16):x}"


def make_report(rng: random.Random, i: int) -> bytes:
    """A varied, valid report (benign identifiers only)."""
    body: dict[str, object] = {
        "source": "platform",
        "platform": {"name": "Bench Video", "country": rng.choice(COUNTRIES)},
        "reported_accounts": [
            {
                "platform": "bench",
                "id": f"user-{rng.randrange(50_000)}",
                "email": f"u{rng.randrange(50_000)}@example.org",
                "ip_events": [{"ip": documentation_ip(rng), "event": "login"}],
            }
        ],
        "incident_type": "child_pornography",
        "description": "benchmark report",
        "location_hints": [{"country": rng.choice(COUNTRIES)}],
        "idempotency_key": f"bench-{SEED}-{i}-{uuid.uuid4().hex[:8]}",
    }
    if i % 3 == 0:
        body["live_stream"] = {
            "stream_id": f"stream-{rng.randrange(5_000)}",
            "private": True,
            "viewers": [{"country": rng.choice(COUNTRIES)} for _ in range(3)],
            "payments": [
                {
                    "amount": 10.0,
                    "currency": "USD",
                    "payment_account": f"pay-{rng.randrange(20_000)}",
                }
            ],
        }
    return json.dumps(body).encode()


@dataclass
class LoadResult:
    """What one load run saw."""

    sent: int = 0
    ok_ids: list[str] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0
    server_cpu: float = 0.0  # CPU seconds the server processes used during the load
    offered: int = 0  # open loop: requests scheduled

    @property
    def rate(self) -> float:
        """2xx answers per second."""
        return len(self.ok_ids) / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        """Latency percentile in milliseconds."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("server closed the connection")
    status = int(status_line.split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


def _request_head(key: str) -> str:
    return (
        "POST /v1/reports HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {key}\r\n"
    )


async def _post(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    head: str,
    body: bytes,
    since: float,
    out: LoadResult,
) -> None:
    """Send one report, wait for its answer, and record the latency counted from `since`."""
    writer.write(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
    out.sent += 1
    status, payload = await _read_answer(reader)
    out.latencies.append(time.perf_counter() - since)
    out.statuses[status] = out.statuses.get(status, 0) + 1
    if 200 <= status < 300:
        out.ok_ids.append(json.loads(payload)["id"])


async def _connection(
    port: int,
    key: str,
    bodies: list[bytes],
    next_index: list[int],
    deadline: float,
    out: LoadResult,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = _request_head(key)
    try:
        while next_index[0] < len(bodies) and time.perf_counter() < deadline:
            body = bodies[next_index[0]]
            next_index[0] += 1
            await _post(reader, writer, head, body, time.perf_counter(), out)
    except (ConnectionError, asyncio.IncompleteReadError, OSError):
        out.errors += 1
    finally:
        writer.close()


async def _load(
    port: int, key: str, bodies: list[bytes], connections: int, seconds: float
) -> LoadResult:
    out = LoadResult()
    next_index = [0]
    start = time.perf_counter()
    deadline = start + seconds
    await asyncio.gather(
        *(_connection(port, key, bodies, next_index, deadline, out) for _ in range(connections))
    )
    out.seconds = time.perf_counter() - start
    return out


def run_load(
    port: int, key: str, bodies: list[bytes], connections: int, seconds: float
) -> LoadResult:
    """Closed loop: send the bodies over `connections` keep-alive connections, each waiting for
    its answer before the next send, until done or out of time."""
    return asyncio.run(_load(port, key, bodies, connections, seconds))


async def _scheduled_connection(
    port: int,
    key: str,
    bodies: list[bytes],
    due: asyncio.Queue[tuple[int, float]],
    out: LoadResult,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = _request_head(key)
    try:
        while (job := await due.get())[0] >= 0:
            index, scheduled = job
            # Timed from the scheduled send, so a slow answer also delays the requests behind
            # it in the measurement (no coordinated omission).
            await _post(reader, writer, head, bodies[index], scheduled, out)
    except (ConnectionError, asyncio.IncompleteReadError, OSError):
        out.errors += 1
    finally:
        writer.close()


async def _open_loop(
    port: int, key: str, bodies: list[bytes], rate: float, connections: int, seconds: float
) -> LoadResult:
    out = LoadResult()
    due: asyncio.Queue[tuple[int, float]] = asyncio.Queue()
    workers = [
        asyncio.ensure_future(_scheduled_connection(port, key, bodies, due, out))
        for _ in range(connections)
    ]
    start = time.perf_counter() + 0.05
    count = min(len(bodies), int(rate * seconds))
    for index in range(count):
        scheduled = start + index / rate
        delay = scheduled - time.perf_counter()
        if delay > 0.0005:
            await asyncio.sleep(delay)
        due.put_nowait((index, scheduled))
    for _ in workers:
        due.put_nowait((-1, 0.0))
    # Requests never sent because every connection broke count as unanswered.
    await asyncio.wait_for(asyncio.gather(*workers), timeout=seconds + 60)
    out.seconds = time.perf_counter() - start
    out.offered = count
    return out


def run_open_loop(
    port: int, key: str, bodies: list[bytes], rate: float, connections: int, seconds: float
) -> LoadResult:
    """Open loop: send at a fixed rate whatever the answers, over a pool of `connections`.

    Each latency runs from the request's scheduled send time, so a stalled server shows as late
    answers for everything queued behind it instead of as fewer requests sent.
    """
    return asyncio.run(_open_loop(port, key, bodies, rate, connections, seconds))


# --- servers ---------------------------------------------------------------------------------


def free_port() -> int:
    """An unused TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


START_TIMEOUT_SECONDS = 240


def start_server(
    cmd: list[str], port: int, workers: int, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    """Start a server command in its own process group and wait until it answers; a server
    that does not answer in time is stopped (its whole group) before the error is raised."""
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, start_new_session=True)
    # Workers started 24 s after their parent at load 6, and not within 60 s at load 13.
    deadline = time.time() + START_TIMEOUT_SECONDS
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                time.sleep(1.0 if workers > 1 else 0.2)  # let every worker come up
                return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"{cmd} exited with {proc.returncode}") from None
            time.sleep(0.2)
    stop_server(proc)
    raise RuntimeError(f"{cmd} did not start on port {port}")


def server_cpu_seconds(proc: subprocess.Popen[bytes]) -> float:
    """User + system CPU time of a server and all its processes (workers, linker) so far."""
    try:
        root = psutil.Process(proc.pid)
        total = 0.0
        for p in [root, *root.children(recursive=True)]:
            times = p.cpu_times()
            total += times.user + times.system
        return total
    except psutil.NoSuchProcess:
        return 0.0


def stop_server(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Signal the whole process group and wait for it."""
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


# --- the benchmark ---------------------------------------------------------------------------


PEER, OURS, INTAKE_ONLY = "peer: raw insert", "SafeStream", "SafeStream, intake-only node"


def server_command(name: str, port: int, workers: int) -> list[str]:
    """How each server is started: the peer under uvicorn, SafeStream as `safestream serve`
    (which starts its low-priority linker process beside the workers, or none when intake-only)."""
    if name == PEER:
        return [
            sys.executable, "-m", "uvicorn", "bench.bench_intake:peer_app", "--factory",
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
            "--log-level", "warning", "--no-access-log",
        ]  # fmt: skip
    linker = "off" if name == INTAKE_ONLY else "process"
    return [
        sys.executable, "-m", "safestream.cli", "serve", "--host", "127.0.0.1",
        "--port", str(port), "--workers", str(workers), "--linker", linker,
    ]  # fmt: skip


@dataclass
class Run:
    """One load against one server on a store of its own."""

    server: str
    mode: str  # "closed loop, N connections" or "open loop, R/s"
    result: LoadResult
    load_before: str
    unlinked_after: int | None = None  # SafeStream: reports still waiting for the linker
    drained_after: float | None = None  # seconds after the load until the linker caught up
    lag: LagSamples | None = None  # SafeStream with its linker: linking lag during the load


@dataclass
class LagSamples:
    """Linking lag sampled once a second during a load: the age of the oldest stored report not
    yet in a case, and how many wait (read from the store, as /metrics reports them)."""

    seconds: list[float] = field(default_factory=list)
    waiting: list[int] = field(default_factory=list)

    @property
    def worst(self) -> float:
        """The largest lag seen, in seconds."""
        return max(self.seconds, default=0.0)

    @property
    def most_waiting(self) -> int:
        """The largest backlog seen."""
        return max(self.waiting, default=0)


class LagSampler:
    """Samples the linking lag from its own thread while a load runs."""

    def __init__(self, db: Database, every: float = 1.0) -> None:
        self.samples = LagSamples()
        self._repo = ReportRepository(db)
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> LagSamples:
        self._thread.start()
        return self.samples

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            count, oldest = self._repo.pending_summary()
            lag = 0.0 if oldest is None else max(0.0, time.time() - oldest.timestamp())
            self.samples.seconds.append(lag)
            self.samples.waiting.append(count)


@dataclass
class Outcome:
    """Every figure one benchmark run produced."""

    runs: list[Run]
    crashed: LoadResult
    stored_after_crash: int
    crash_after: float

    def find(self, server: str, mode_prefix: str) -> Run:
        """The run of a server in a load mode."""
        return next(r for r in self.runs if r.server == server and r.mode.startswith(mode_prefix))

    @property
    def lost(self) -> int:
        """Reports answered 2xx but missing after the crash."""
        return len(self.crashed.ok_ids) - self.stored_after_crash


class Store:
    """A throw-away PostgreSQL schema, migrated, with one organisation and its API key."""

    def __init__(self, admin: Engine) -> None:
        self.admin = admin
        self.schema = f"bench_{uuid.uuid4().hex[:10]}"
        with admin.begin() as conn:
            conn.execute(text(f"create schema {self.schema}"))
        sep = "&" if "?" in POSTGRES else "?"
        self.url = f"{POSTGRES}{sep}options=-csearch_path%3D{self.schema}"
        self.db = Database(self.url)
        self.db.migrate()
        with self.db.session() as s:
            s.execute(text("create table bench_peer_reports (id uuid primary key, body text)"))
        create_org(self.db, "Bench")
        self.key = create_api_key(self.db, "Bench").key

    def drop(self) -> None:
        """Remove the schema and everything in it."""
        self.db.dispose()
        with self.admin.begin() as conn:
            conn.execute(text(f"drop schema {self.schema} cascade"))


def load_average() -> str:
    """The 1, 5 and 15 minute load averages."""
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def cpu_idle_share(seconds: float = 1.0) -> float:
    """Share of all CPUs' time spent idle over the next `seconds` (from /proc/stat)."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        return fields[3] + fields[4], sum(fields)  # idle + iowait, total

    idle0, total0 = sample()
    time.sleep(seconds)
    idle1, total1 = sample()
    return (idle1 - idle0) / max(1, total1 - total0)


def settle(admin: Engine, bound: float = 30.0) -> float:
    """Start every measured run from the same state: PostgreSQL's dirty buffers written out
    (CHECKPOINT), so no run pays for the previous run's writes, and the CPUs idle again (the
    previous run's processes gone), waiting at most `bound` seconds. Returns the idle share."""
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("checkpoint"))
    deadline = time.monotonic() + bound
    idle = cpu_idle_share()
    while idle < 0.85 and time.monotonic() < deadline:
        idle = cpu_idle_share()
    return idle


def one_run(
    admin: Engine,
    server: str,
    open_rate: float | None,
    bodies: list[bytes],
    args: argparse.Namespace,
) -> Run:
    """Start a server on a fresh store, warm it up, load it, and stop it."""
    store = Store(admin)
    env = {
        **os.environ,
        "SAFESTREAM_HOME": tempfile.mkdtemp(prefix="safestream-bench-"),
        "SAFESTREAM_DATABASE_URL": store.url,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    port = free_port()
    try:
        proc = start_server(server_command(server, port, args.workers), port, args.workers, env)
        try:
            run_load(port, store.key, bodies[:200], 8, 10)  # warm-up: connections, caches
            idle = settle(admin)
            load = f"{load_average()}; {idle:.0%} idle"
            before = server_cpu_seconds(proc)
            if open_rate is None:
                mode = f"closed loop, {args.connections} connections"
                result = run_load(port, store.key, bodies[200:], args.connections, args.seconds)
            else:
                mode = f"open loop, {open_rate:g}/s"
                with LagSampler(store.db) as lag:
                    result = run_open_loop(
                        port, store.key, bodies[200:], open_rate, args.pool, args.open_seconds
                    )
            result.server_cpu = server_cpu_seconds(proc) - before
            unlinked = None if server == PEER else ReportRepository(store.db).pending_summary()[0]
            drained = None
            if server == OURS and open_rate is not None:
                drained = wait_until_linked(store.db, args.drain_seconds)
        finally:
            stop_server(proc)
        linked = server == OURS and open_rate is not None
        return Run(server, mode, result, load, unlinked, drained, lag if linked else None)
    finally:
        store.drop()


def wait_until_linked(db: Database, bound: float) -> float | None:
    """Seconds until the linker has linked every stored report, or None past `bound`."""
    start = time.perf_counter()
    repo = ReportRepository(db)
    while time.perf_counter() - start < bound:
        if repo.pending_summary()[0] == 0:
            return time.perf_counter() - start
        time.sleep(0.5)
    return None


def crash_run(
    admin: Engine, bodies: list[bytes], args: argparse.Namespace, after: float
) -> tuple[LoadResult, int]:
    """Load SafeStream, SIGKILL its whole process group `after` seconds in, count what survived."""
    store = Store(admin)
    env = {
        **os.environ,
        "SAFESTREAM_HOME": tempfile.mkdtemp(prefix="safestream-bench-"),
        "SAFESTREAM_DATABASE_URL": store.url,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    try:
        port = free_port()
        proc = start_server(server_command(OURS, port, args.workers), port, args.workers, env)

        def kill_later() -> None:
            time.sleep(after)
            os.killpg(proc.pid, signal.SIGKILL)

        killer = threading.Thread(target=kill_later)
        killer.start()
        result = run_load(port, store.key, bodies, args.connections, args.seconds)
        killer.join()
        proc.wait()
        return result, len(ReportRepository(store.db).existing_ids(result.ok_ids))
    finally:
        store.drop()


def measure(admin: Engine, args: argparse.Namespace) -> Outcome:
    """Closed-loop runs of the three servers, open-loop runs of the peer and SafeStream, and the
    crash run; each on a store of its own so no run inherits another's backlog."""
    rng = random.Random(SEED)
    runs: list[Run] = []
    plan: list[tuple[str, float | None]] = [(PEER, None), (OURS, None), (INTAKE_ONLY, None)]
    plan += [(PEER, args.rate), (OURS, args.rate)]
    if args.linking_only:
        plan = [(OURS, args.rate)]
    for server, rate in plan:
        count = args.requests if rate is None else int(rate * args.open_seconds)
        bodies = [make_report(rng, i) for i in range(count + 200)]
        runs.append(one_run(admin, server, rate, bodies, args))
        print(f"  {runs[-1].server}, {runs[-1].mode}: done", flush=True)
    if args.linking_only:
        return Outcome(runs, LoadResult(), 0, 0.0)
    bodies = [make_report(rng, 10_000_000 + i) for i in range(args.requests)]
    after = min(args.seconds / 3, 5.0)
    crashed, stored = crash_run(admin, bodies, args, after)
    return Outcome(runs, crashed, stored, after)


def table(outcome: Outcome) -> list[str]:
    """The result rows as markdown."""
    columns = (
        "server", "load", "before the run: load avg; CPU idle", "sent", "2xx", "other", "2xx/s",
        "p50 ms", "p99 ms", "max ms", "server CPU ms/report", "unlinked at end",
        "linking lag max s", "drained after load s",
    )  # fmt: skip
    rows = ["| " + " | ".join(columns) + " |", "|---" * len(columns) + "|"]
    for run in outcome.runs:
        r = run.result
        other = sum(n for code, n in r.statuses.items() if not 200 <= code < 300) + r.errors
        other += max(0, r.offered - r.sent)  # open loop: scheduled but never sent
        unlinked = "-" if run.unlinked_after is None else str(run.unlinked_after)
        lag = "-" if run.lag is None else f"{run.lag.worst:.1f}"
        drained = "-" if run.lag is None else _drained(run)
        rows.append(
            f"| {run.server} | {run.mode} | {run.load_before} | {max(r.sent, r.offered)} | "
            f"{len(r.ok_ids)} | {other} | {r.rate:.0f} | {r.percentile(0.5):.1f} | "
            f"{r.percentile(0.99):.1f} | {max(r.latencies, default=0) * 1000:.1f} | "
            f"{1000 * r.server_cpu / max(1, len(r.ok_ids)):.2f} | {unlinked} | {lag} | {drained} |"
        )
    return rows


def _drained(run: Run) -> str:
    return "not drained" if run.drained_after is None else f"{run.drained_after:.1f}"


def summary(outcome: Outcome, args: argparse.Namespace) -> list[str]:
    """Ratios, crash check and targets in words."""
    closed = outcome.find(OURS, "closed").result
    peer_closed = outcome.find(PEER, "closed").result
    steady = outcome.find(OURS, "open").result
    met = (
        args.rate >= 1000
        and len(steady.ok_ids) == steady.offered
        and steady.percentile(0.99) < 100
        and closed.rate >= 1000
        and outcome.lost == 0
    )
    cpu_ms = 1000 * closed.server_cpu / max(1, len(closed.ok_ids))
    open_loop, *linker = linking_summary(outcome, args)
    return [
        f"Closed loop (most it can do): SafeStream {closed.rate:.0f}/s, peer "
        f"{peer_closed.rate:.0f}/s (ratio {closed.rate / max(1.0, peer_closed.rate):.2f}).",
        open_loop,
        f"Crash run: SIGKILL {outcome.crash_after:g} s into a load; "
        f"{len(outcome.crashed.ok_ids)} reports had a 2xx answer, "
        f"{outcome.stored_after_crash} are in the store, {outcome.lost} lost.",
        f"Targets (every report of an open-loop load at {args.rate:g}/s answered 2xx, p99 < 100 "
        f"ms; closed loop >= 1,000/s; nothing lost): {'met' if met else 'NOT met'}.",
        f"SafeStream's processes (workers and linker) used {cpu_ms:.2f} ms of CPU per report in "
        "the closed loop.",
        *linker,
    ]


def linking_summary(outcome: Outcome, args: argparse.Namespace) -> list[str]:
    """The open-loop run's intake latency and its linker's lag, in words."""
    open_run = outcome.find(OURS, "open")
    steady = open_run.result
    lag = open_run.lag or LagSamples()
    met = (
        args.rate >= 1000
        and args.open_seconds >= 60
        and lag.worst < 10
        and open_run.drained_after is not None
        and open_run.drained_after <= 30
        and steady.percentile(0.99) < 100
    )
    drained = (
        f"caught up {open_run.drained_after:.0f} s after the load ended"
        if open_run.drained_after is not None
        else f"had not caught up {args.drain_seconds:g} s after the load ended"
    )
    return [
        f"Open loop at {args.rate:g}/s for {args.open_seconds:g} s (latency from each request's "
        f"scheduled send): SafeStream answered {len(steady.ok_ids)} of {steady.offered} with "
        f"2xx, p50 {steady.percentile(0.5):.1f} ms, p99 {steady.percentile(0.99):.1f} ms.",
        f"Linker: during the open-loop run the linking lag (age of the oldest unlinked report) "
        f"reached {lag.worst:.1f} s at most, with up to {lag.most_waiting} reports waiting; at "
        f"the end it had {open_run.unlinked_after} reports to link and {drained}.",
        f"Linking target (1,000/s for 60 s: lag under 10 s, drained within 30 s of the end, "
        f"intake p99 under 100 ms): {'met' if met else 'NOT met'}.",
    ]


def header(args: argparse.Namespace, admin: Engine) -> list[str]:
    """Settings, seed and versions."""
    with admin.connect() as conn:
        pg = conn.execute(text("show server_version")).scalar()
        sync = conn.execute(text("show synchronous_commit")).scalar()
    return [
        f"closed loop: {args.requests} requests per run (bounded to {args.seconds:g} s) over "
        f"{args.connections} connections; open loop: {args.rate:g}/s for {args.open_seconds:g} s "
        f"over a pool of up to {args.pool} connections; uvicorn workers: {args.workers}; "
        f"seed: {SEED}",
        f"python {platform.python_version()}, fastapi {version('fastapi')}, uvicorn "
        f"{version('uvicorn')}, sqlalchemy {version('sqlalchemy')}, psycopg {version('psycopg')}",
        f"postgresql {pg} (synchronous_commit={sync}); {platform.machine()}, "
        f"{os.cpu_count()} logical CPUs; load average before the benchmark: {load_average()}",
    ]


def main(argv: list[str] | None = None) -> int:
    """Run peer, SafeStream and the crash check; print the table (and write it)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests, shorter runs")
    parser.add_argument("--requests", type=int, default=None, help="closed-loop requests per run")
    parser.add_argument("--seconds", type=float, default=None, help="time bound of each run")
    parser.add_argument("--connections", type=int, default=32, help="closed-loop connections")
    parser.add_argument("--rate", type=float, default=1000.0, help="open-loop requests/s")
    parser.add_argument("--open-seconds", type=float, default=None, help="open-loop duration")
    parser.add_argument("--pool", type=int, default=256, help="open-loop connections at most")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--drain-seconds", type=float, default=120.0, help="how long to wait for the linker"
    )
    parser.add_argument(
        "--linking-only",
        action="store_true",
        help="only SafeStream's open-loop run with its linker (intake latency and linking lag)",
    )
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args(argv)
    args.requests = args.requests or (3_000 if args.quick else 20_000)
    args.seconds = args.seconds or (15.0 if args.quick else 60.0)
    args.open_seconds = args.open_seconds or (5.0 if args.quick else 60.0)

    admin = create_engine(POSTGRES)
    try:
        with admin.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:
        print(f"PostgreSQL does not answer at {POSTGRES}: {exc}")
        return 1
    lines = header(args, admin)
    print("intake benchmark\n" + "\n".join(lines), flush=True)
    try:
        outcome = measure(admin, args)
    finally:
        admin.dispose()
    lines_out = linking_summary(outcome, args) if args.linking_only else summary(outcome, args)
    print("\n".join(["", *table(outcome), "", *lines_out]))
    if args.write_results:
        write_results(args, lines, outcome)
    return 0 if outcome.lost == 0 else 1


def write_results(args: argparse.Namespace, lines: list[str], outcome: Outcome) -> None:
    """Write the measured figures to bench/results/intake.md."""
    quick = " --quick" if args.quick else ""
    text_out = [
        "# Intake under load: SafeStream vs a raw-insert endpoint",
        "",
        f"Reproduce: `.venv/bin/python -m bench.bench_intake{quick} --write-results`",
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        *(f"- {line}" for line in lines),
        "- client: one asyncio process over raw keep-alive sockets, on the same machine",
        "",
        *table(outcome),
        "",
        *summary(outcome, args),
        "",
        "The peer validates nothing and stores the raw body with one INSERT per request.",
        "SafeStream validates every field, checks the idempotency key, extracts entities into",
        "their own table and commits before answering (group commit: one transaction per batch of",
        "waiting requests). `safestream serve` links reports into cases in a separate process at",
        "idle CPU priority on the same two cores; 'unlinked at end' is its backlog when the load",
        "ends, which it works off afterwards. The intake-only node runs no linker.",
    ]
    RESULTS.write_text("\n".join(text_out) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
