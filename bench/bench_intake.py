"""Report intake under load on PostgreSQL: a minimal raw-insert endpoint (peer) vs SafeStream.

Both servers run under uvicorn with the same worker count on 127.0.0.1 and store into the same
PostgreSQL (a throw-away schema). The peer is the least any intake can do: one FastAPI route that
inserts the raw JSON body and answers 201, with no validation, idempotency or entity extraction.
SafeStream runs its real app (`safestream.api.app:app_from_env`), background linking included.

The load generator is an asyncio client over raw keep-alive sockets (cheap enough to leave CPU
to the servers on a 2-core box): `--connections` concurrent connections send `--requests`
distinct reports, bounded by `--seconds`. Then a crash run: SafeStream is killed with SIGKILL in
the middle of a load, and every report that got a 2xx answer must be in the store.

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


async def _connection(
    port: int,
    key: str,
    bodies: list[bytes],
    next_index: list[int],
    deadline: float,
    out: LoadResult,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (
        "POST /v1/reports HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {key}\r\n"
    )
    try:
        while next_index[0] < len(bodies) and time.perf_counter() < deadline:
            body = bodies[next_index[0]]
            next_index[0] += 1
            start = time.perf_counter()
            writer.write(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
            out.sent += 1
            status_line = await reader.readline()
            if not status_line:
                raise ConnectionError("server closed the connection")
            status = int(status_line.split()[1])
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            payload = await reader.readexactly(length)
            out.latencies.append(time.perf_counter() - start)
            out.statuses[status] = out.statuses.get(status, 0) + 1
            if 200 <= status < 300:
                out.ok_ids.append(json.loads(payload)["id"])
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
    """Send the bodies over `connections` keep-alive connections until done or out of time."""
    return asyncio.run(_load(port, key, bodies, connections, seconds))


# --- servers ---------------------------------------------------------------------------------


def free_port() -> int:
    """An unused TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    factory: str, port: int, workers: int, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    """Start uvicorn in its own process group and wait until it answers."""
    cmd = [
        sys.executable, "-m", "uvicorn", factory, "--factory", "--host", "127.0.0.1",
        "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                time.sleep(1.0 if workers > 1 else 0.2)  # let every worker come up
                return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"{factory} exited with {proc.returncode}") from None
            time.sleep(0.2)
    raise RuntimeError(f"{factory} did not start on port {port}")


def server_cpu_seconds(proc: subprocess.Popen[bytes]) -> float:
    """User + system CPU time of a server and all its worker processes so far."""
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


@dataclass
class Outcome:
    """Every figure one benchmark run produced."""

    runs: dict[str, LoadResult]
    crashed: LoadResult
    stored_after_crash: int
    crash_after: float

    @property
    def ratio(self) -> float:
        """SafeStream throughput over the peer's."""
        peer = self.runs[PEER].rate
        return self.runs[OURS].rate / peer if peer else float("nan")

    @property
    def lost(self) -> int:
        """Reports answered 2xx but missing after the crash."""
        return len(self.crashed.ok_ids) - self.stored_after_crash


PEER, OURS, INTAKE_ONLY = "peer: raw insert", "SafeStream", "SafeStream, intake-only node"
SAFESTREAM_APP = "safestream.api.app:app_from_env"
# name -> (uvicorn factory, extra environment)
SERVERS: dict[str, tuple[str, dict[str, str]]] = {
    PEER: ("bench.bench_intake:peer_app", {}),
    OURS: (SAFESTREAM_APP, {}),
    INTAKE_ONLY: (SAFESTREAM_APP, {"SAFESTREAM_LINK_IN_BACKGROUND": "0"}),
}


def table(outcome: Outcome) -> list[str]:
    """The result rows as markdown."""
    columns = ("server", "2xx answers", "other", "req/s", "p50 ms", "p99 ms", "max ms")
    rows = ["| " + " | ".join((*columns, "server CPU ms/report")) + " |", "|---" * 8 + "|"]
    for name, r in outcome.runs.items():
        other = sum(n for code, n in r.statuses.items() if not 200 <= code < 300) + r.errors
        rows.append(
            f"| {name} | {len(r.ok_ids)} | {other} | {r.rate:.0f} | {r.percentile(0.5):.1f} | "
            f"{r.percentile(0.99):.1f} | {max(r.latencies) * 1000:.1f} | "
            f"{1000 * r.server_cpu / max(1, len(r.ok_ids)):.2f} |"
        )
    return rows


def summary(outcome: Outcome) -> list[str]:
    """Ratio, crash check and targets in words."""
    ours = outcome.runs[OURS]
    cpu_ms = 1000 * ours.server_cpu / max(1, len(ours.ok_ids))
    met = ours.rate >= 1000 and ours.percentile(0.99) < 100 and outcome.lost == 0
    return [
        f"SafeStream / peer throughput: {outcome.ratio:.2f}; SafeStream p99 "
        f"{ours.percentile(0.99):.1f} ms.",
        f"Crash run: SIGKILL {outcome.crash_after:g} s into a load; "
        f"{len(outcome.crashed.ok_ids)} reports had a 2xx answer, "
        f"{outcome.stored_after_crash} are in the store, {outcome.lost} lost.",
        f"Targets (>= 1,000 req/s, p99 < 100 ms, nothing lost): {'met' if met else 'NOT met'}.",
        f"SafeStream's server processes used {cpu_ms:.2f} ms of CPU per report: two otherwise idle "
        f"cores would serve about {2000 / cpu_ms:.0f} reports/s before PostgreSQL and the client "
        "take their share.",
    ]


def crash_run(
    env: dict[str, str], key: str, bodies: list[bytes], args: argparse.Namespace, after: float
) -> LoadResult:
    """Load SafeStream and SIGKILL its whole process group `after` seconds in."""
    port = free_port()
    proc = start_server(SAFESTREAM_APP, port, args.workers, env)

    def kill_later() -> None:
        time.sleep(after)
        os.killpg(proc.pid, signal.SIGKILL)

    killer = threading.Thread(target=kill_later)
    killer.start()
    result = run_load(port, key, bodies, args.connections, args.seconds)
    killer.join()
    proc.wait()
    return result


def measure(url: str, args: argparse.Namespace) -> Outcome:
    """Run the peer, SafeStream and the crash run against one prepared schema."""
    db = Database(url)
    try:
        db.migrate()
        with db.session() as s:
            s.execute(text("create table bench_peer_reports (id uuid primary key, body text)"))
        create_org(db, "Bench")
        key = create_api_key(db, "Bench").key
        home = tempfile.mkdtemp(prefix="safestream-bench-")
        env = {**os.environ, "SAFESTREAM_HOME": home, "SAFESTREAM_DATABASE_URL": url}
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
        rng = random.Random(SEED)
        runs: dict[str, LoadResult] = {}
        for name, (factory, extra) in SERVERS.items():
            bodies = [make_report(rng, i) for i in range(args.requests + 200)]
            port = free_port()
            proc = start_server(factory, port, args.workers, {**env, **extra})
            try:
                run_load(port, key, bodies[:200], 8, 10)  # warm-up: connections, caches
                before = server_cpu_seconds(proc)
                runs[name] = run_load(port, key, bodies[200:], args.connections, args.seconds)
                runs[name].server_cpu = server_cpu_seconds(proc) - before
            finally:
                stop_server(proc)
        bodies = [make_report(rng, args.requests + 200 + i) for i in range(args.requests)]
        after = min(args.seconds / 3, 5.0)
        crashed = crash_run(env, key, bodies, args, after)
        stored = len(ReportRepository(db).existing_ids(crashed.ok_ids))
        return Outcome(runs, crashed, stored, after)
    finally:
        db.dispose()


def header(args: argparse.Namespace, admin: Engine) -> list[str]:
    """Settings, seed and versions."""
    with admin.connect() as conn:
        pg = conn.execute(text("show server_version")).scalar()
        sync = conn.execute(text("show synchronous_commit")).scalar()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return [
        f"requests per run: {args.requests} (bounded to {args.seconds:g} s); "
        f"connections: {args.connections}; uvicorn workers: {args.workers}; seed: {SEED}",
        f"python {platform.python_version()}, fastapi {version('fastapi')}, uvicorn "
        f"{version('uvicorn')}, sqlalchemy {version('sqlalchemy')}, psycopg {version('psycopg')}",
        f"postgresql {pg} (synchronous_commit={sync}); {platform.machine()}, "
        f"{os.cpu_count()} logical CPUs; load average before the run: {load}",
    ]


def main(argv: list[str] | None = None) -> int:
    """Run peer, SafeStream and the crash check; print the table (and write it)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests, shorter runs")
    parser.add_argument("--requests", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=None, help="time bound of each run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args(argv)
    args.requests = args.requests or (3_000 if args.quick else 20_000)
    args.seconds = args.seconds or (15.0 if args.quick else 60.0)

    admin = create_engine(POSTGRES)
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    try:
        with admin.begin() as conn:
            conn.execute(text(f"create schema {schema}"))
    except Exception as exc:
        print(f"PostgreSQL does not answer at {POSTGRES}: {exc}")
        return 1
    lines = header(args, admin)
    print("intake benchmark\n" + "\n".join(lines), flush=True)
    sep = "&" if "?" in POSTGRES else "?"
    try:
        outcome = measure(f"{POSTGRES}{sep}options=-csearch_path%3D{schema}", args)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"drop schema {schema} cascade"))
        admin.dispose()
    print("\n".join(["", *table(outcome), "", *summary(outcome)]))
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
        *summary(outcome),
        "",
        "The peer validates nothing and stores the raw body with one INSERT per request.",
        "SafeStream validates every field, checks the idempotency key, extracts entities into",
        "their own table, commits before answering (group commit: one transaction per batch of",
        "waiting requests) and links reports into cases in the background, on the same cores.",
    ]
    RESULTS.write_text("\n".join(text_out) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
