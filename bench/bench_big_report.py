"""A large report linking while others report: nobody else waits on it (issue 10).

`python -m bench.bench_big_report [--runs 3] [--write-results]`

On each store (SQLite, the embedded default, and PostgreSQL) `safestream serve` runs as deployed
(two workers and its linker process). One organisation sends an in-limits report of about 2 MB
(100 accounts with 100 login IPs each, a live stream with 10,000 viewers and 10,000 payments);
at once another organisation sends 1,000 small reports and viewers of a third press the panic
button 100 times (from ten loopback addresses, ten presses each, as ten viewers would). A
retryable answer (429, 503 with Retry-After) is retried as the widget and platforms do.

Target: every report and press gets 2xx in the end and is stored; panic presses' p99, counted from
the first attempt to the 2xx, under 1 s. There is no peer to run beside it: the figure is
SafeStream's own, against the issue's target.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import create_engine, func, select, text

from bench.bench_intake import (
    POSTGRES,
    ROOT,
    free_port,
    load_average,
    make_report,
    start_server,
    stop_server,
)
from bench.tables import markdown_table

RESULTS = ROOT / "bench" / "results" / "big_report.md"
CALL_ORIGIN = "https://call.example"
SMALL_REPORTS = 1_000
PRESSES, VIEWERS = 100, 10
RETRIES = 20


def big_report() -> bytes:
    """About 2 MB of valid report: every list near its limit (benign identifiers only)."""
    accounts = [
        {
            "platform": "bench",
            "id": f"big-{i}",
            "email": f"big{i}@example.org",
            "ip_events": [{"ip": f"2001:db8::{i:x}:{j:x}", "event": "login"} for j in range(100)],
        }
        for i in range(100)
    ]
    stream = {
        "stream_id": "big-stream",
        "private": True,
        "viewers": [
            {"country": "GB", "account_id": f"viewer-{i}", "ip": f"2001:db8:1::{i:x}"}
            for i in range(10_000)
        ],
        "payments": [
            {
                "amount": 5.0,
                "currency": "USD",
                "payer_account": f"payer-{i}",
                "payment_account": f"payee-{i % 50}",
            }
            for i in range(10_000)
        ],
    }
    body = {
        "source": "platform",
        "platform": {"name": "Big Platform", "country": "PH"},
        "reported_accounts": accounts,
        "payment_accounts": [f"pay-{i}" for i in range(100)],
        "incident_type": "child_pornography",
        "description": "benchmark: a large report",
        "live_stream": stream,
    }
    return json.dumps(body).encode()


@dataclass
class Sent:
    """What one kind of request got."""

    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    retried: int = 0
    failed: int = 0
    ids: list[str] = field(default_factory=list)


async def _send(
    client: httpx.AsyncClient, path: str, body: bytes, headers: dict[str, str], out: Sent
) -> None:
    started = time.perf_counter()
    for attempt in range(RETRIES):
        try:
            answer = await client.post(path, content=body, headers=headers)
        except httpx.TransportError:
            out.statuses[0] = out.statuses.get(0, 0) + 1
            await asyncio.sleep(0.2)
            continue
        out.statuses[answer.status_code] = out.statuses.get(answer.status_code, 0) + 1
        if answer.is_success:
            out.latencies.append(time.perf_counter() - started)
            out.ids.append(answer.json()["report_id" if path == "/v1/panic" else "id"])
            out.retried += attempt > 0
            return
        retry_after = answer.headers.get("retry-after")
        if answer.status_code not in (429, 503) or retry_after is None:
            break
        await asyncio.sleep(min(float(retry_after), 2.0))
    out.failed += 1


async def _load(port: int, api_keys: dict[str, str], panic_key: str) -> dict[str, Sent]:
    base = f"http://127.0.0.1:{port}"
    json_type = {"Content-Type": "application/json"}
    sent = {"large report": Sent(), "small reports": Sent(), "panic presses": Sent()}
    rng = random.Random(10)
    small = [make_report(rng, i) for i in range(SMALL_REPORTS)]
    timeout = httpx.Timeout(120.0)
    async with httpx.AsyncClient(base_url=base, timeout=timeout) as client:
        big = asyncio.create_task(
            _send(
                client,
                "/v1/reports",
                big_report(),
                {**json_type, "Authorization": f"Bearer {api_keys['big']}"},
                sent["large report"],
            )
        )
        await asyncio.sleep(0.5)  # the large report is stored and its linking under way
        gate = asyncio.Semaphore(16)

        async def one_small(body: bytes) -> None:
            async with gate:
                headers = {**json_type, "Authorization": f"Bearer {api_keys['small']}"}
                await _send(client, "/v1/reports", body, headers, sent["small reports"])

        async def viewer(v: int) -> None:
            # Each viewer's own address: the panic route limits presses per client.
            transport = httpx.AsyncHTTPTransport(local_address=f"127.0.0.{10 + v}")
            async with httpx.AsyncClient(
                base_url=base, transport=transport, timeout=timeout
            ) as own:
                for p in range(PRESSES // VIEWERS):
                    press = {
                        "stream_id": f"call-{v}-{p}",
                        "child_in_danger": "yes",
                        "description": "benchmark press",
                    }
                    headers = {
                        **json_type,
                        "Authorization": f"Bearer {panic_key}",
                        "Origin": CALL_ORIGIN,
                    }
                    await _send(
                        own, "/v1/panic", json.dumps(press).encode(), headers, sent["panic presses"]
                    )
                    await asyncio.sleep(0.1)

        await asyncio.gather(*(one_small(b) for b in small), *(viewer(v) for v in range(VIEWERS)))
        await big
    return sent


def _prepare(url: str) -> tuple[dict[str, str], str]:
    from safestream.store import Database
    from safestream.store.access import create_api_key, create_org
    from safestream.store.panic_keys import issue_panic_key

    db = Database(url)
    db.migrate()
    keys = {}
    for name, org in (("big", "Big Platform"), ("small", "Other Platform")):
        create_org(db, org)
        keys[name] = create_api_key(db, org).key
    create_org(db, "Call Platform")
    panic = issue_panic_key(db, "Call Platform", origins=[CALL_ORIGIN], stream_prefix="call-").key
    db.dispose()
    return keys, panic


def _stored(url: str, ids: list[str]) -> int:
    from safestream.store.models.reports import ReportRow

    engine = create_engine(url)
    with engine.connect() as conn:
        found = 0
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            found += conn.execute(
                select(func.count()).select_from(ReportRow).where(ReportRow.id.in_(chunk))
            ).scalar_one()
    engine.dispose()
    return int(found)


def run(backend: str) -> list[list[str]]:
    """One run on a fresh store of `backend`: the table rows."""
    home = Path(tempfile.mkdtemp(prefix="safestream-big-"))
    schema = None
    if backend == "sqlite":
        url = f"sqlite:///{home / 'safestream.db'}"
    else:
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        admin = create_engine(POSTGRES)
        with admin.begin() as conn:
            conn.execute(text(f"create schema {schema}"))
        sep = "&" if "?" in POSTGRES else "?"
        url = f"{POSTGRES}{sep}options=-csearch_path%3D{schema}"
    try:
        keys, panic = _prepare(url)
        env = {
            **os.environ,
            "SAFESTREAM_HOME": str(home),
            "SAFESTREAM_DATABASE_URL": url,
            # A PYTHONPATH given first, so an A/B run can serve other code than this checkout.
            "PYTHONPATH": os.pathsep.join([os.environ.get("PYTHONPATH", ""), str(ROOT / "src")]),
        }
        port = free_port()
        # 0.0.0.0: the viewers' presses come from several loopback addresses.
        command = [
            sys.executable,
            "-m",
            "safestream.cli",
            "serve",
            "--host",
            "0.0.0.0",
            "--port",
            str(port),
            "--workers",
            "2",
            "--no-access-log",
        ]
        proc = start_server(command, port, 2, env)
        try:
            sent = asyncio.run(_load(port, keys, panic))
        finally:
            stop_server(proc)
        rows = []
        for what, s in sent.items():
            stored = _stored(url, s.ids)
            lat = sorted(s.latencies)
            p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else float("nan")
            statuses = ", ".join(f"{k}: {v}" for k, v in sorted(s.statuses.items()))
            rows.append(
                [
                    backend,
                    what,
                    str(len(s.ids) + s.failed),
                    str(len(s.ids)),
                    str(s.retried),
                    str(s.failed),
                    str(stored),
                    f"{statistics.median(lat) * 1000:.0f}" if lat else "-",
                    f"{p99 * 1000:.0f}" if lat else "-",
                    statuses,
                ]
            )
        return rows
    finally:
        if schema is not None:
            with admin.begin() as conn:
                conn.execute(text(f"drop schema {schema} cascade"))
            admin.dispose()


HEAD = [
    "store",
    "requests",
    "sent",
    "2xx",
    "2xx after retry",
    "failed",
    "stored",
    "p50 ms",
    "p99 ms",
    "answers",
]


def medians(runs: list[list[list[str]]]) -> list[list[str]]:
    """Per store and kind of request: runs that stored everything, and median p50 and p99."""
    rows = []
    for i, first in enumerate(runs[0]):
        same = [run[i] for run in runs]
        whole = sum(r[5] == "0" and r[3] == r[6] == r[2] for r in same)
        p50 = [float(r[7]) for r in same if r[7] != "-"]
        p99 = [float(r[8]) for r in same if r[8] != "-"]
        rows.append(
            [
                first[0],
                first[1],
                f"{whole} of {len(same)}",
                f"{statistics.median(p50):.0f}" if p50 else "-",
                f"{statistics.median(p99):.0f}" if p99 else "-",
                ", ".join(r[8] for r in same),
            ]
        )
    return rows


def wait_for_quiet(below: float, most_seconds: float) -> None:
    """On a shared machine: wait until the 1-minute load is under `below` (at most
    `most_seconds`), so each run starts in the quietest moment on offer."""
    deadline = time.monotonic() + most_seconds
    while below > 0 and os.getloadavg()[0] >= below and time.monotonic() < deadline:
        time.sleep(5)


MEDIAN_HEAD = ["store", "requests", "runs all 2xx and stored", "p50 ms", "p99 ms", "p99 per run"]


def _write_results(tables: list[str], median_table: list[str]) -> None:
    RESULTS.write_text(
        "\n".join(
            [
                "# A large report linking while others report (issue 10)",
                "",
                (__doc__ or "").strip(),
                "",
                f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
                "",
                *tables,
                "Medians over the runs:",
                "",
                *median_table,
                "",
            ]
        )
    )


def main(argv: list[str] | None = None) -> int:
    """Both stores, one table per run and the medians; exit 1 if anything was lost or a panic
    press's median p99 is over 1 s."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--runs", type=int, default=1, help="Runs per store (medians reported).")
    parser.add_argument("--write-results", action="store_true")
    parser.add_argument(
        "--quiet-load",
        type=float,
        default=0.0,
        help="Before each run, wait (up to --quiet-wait s) for the 1-minute load to drop below.",
    )
    parser.add_argument("--quiet-wait", type=float, default=300.0)
    args = parser.parse_args(argv)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    runs: dict[str, list[list[list[str]]]] = {b: [] for b in backends}
    tables = []
    for n in range(args.runs):
        for backend in backends:  # alternating, so a change of load touches both stores
            wait_for_quiet(args.quiet_load, args.quiet_wait)
            load = load_average()
            rows = run(backend)
            runs[backend].append(rows)
            table = markdown_table(HEAD, rows)
            tables += [f"Run {n + 1}, {backend}; load average before: {load}", "", *table, ""]
            print("\n".join(tables[-len(table) - 3 :]), flush=True)
    median_rows = [row for backend in backends for row in medians(runs[backend])]
    median_table = markdown_table(MEDIAN_HEAD, median_rows)
    print("\n".join(median_table))
    every = [row for b in backends for one in runs[b] for row in one]
    ok = all(r[5] == "0" and r[3] == r[6] for r in every) and all(
        float(r[4]) < 1000 for r in median_rows if r[1] == "panic presses" and r[4] != "-"
    )
    if args.write_results:
        _write_results(tables, median_table)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
