"""The linker alone on a stored backlog: how fast it links, and where its time goes (PostgreSQL).

`bench_intake --linking-only` judges the linking target under a real burst, where the linker
shares two cores with intake; this one isolates the linker, so a change to it can be compared in
minutes and a few per cent apart. It stores `--reports` of `bench_intake`'s reports (the same
generator and seed) into a throw-away schema without linking them, then links them all with the
case engine in this process, in batches of `--batch`, and prints:
- reports linked per second (wall time, the linker and its database backend taking turns);
- the linker's own CPU per report, and the CPU of PostgreSQL's backends per report;
- the statements that took longest in all (time seen by the client, which waits on them);
- how long the words still queued for search took to index afterwards (the linker indexes up to
  `TEXT_INDEX_LIMIT` of them once it has caught up, the rest on its next rounds).

There is no peer: linking is SafeStream's own work, and the figure to beat is the same bench at
the previous commit (run it with `PYTHONPATH` pointing at a checkout of it).

Run: `.venv/bin/python -m bench.bench_linker_backlog [--quick] [--reports 20000] [--batch 1000]`
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections import defaultdict
from typing import Any

import psutil
from sqlalchemy import create_engine, event, text

from bench.bench_intake import POSTGRES, SEED, Store, make_report
from safestream.api.heap import settle_startup_heap
from safestream.cases.engine import CaseEngine
from safestream.core.reports import ReportIn
from safestream.reports.intake import IntakeService
from safestream.store.access import get_org

STORE_AT_ONCE = 500  # reports handed to the group commit together


def store_backlog(store: Store, count: int) -> None:
    """Store `count` bench reports with their events, unlinked, through intake's group commit."""
    org = get_org(store.db, "Bench")
    intake = IntakeService(store.db)
    rng = random.Random(SEED)
    bodies = [ReportIn.model_validate_json(make_report(rng, i)) for i in range(count)]

    async def store_all() -> None:
        for start in range(0, count, STORE_AT_ONCE):
            chunk = bodies[start : start + STORE_AT_ONCE]
            await asyncio.gather(*(intake.receive_async(org, report) for report in chunk))

    asyncio.run(store_all())


def backend_cpu_seconds() -> float:
    """CPU time of PostgreSQL's backend processes (the benchmark is the only client at work)."""
    total = 0.0
    for proc in psutil.process_iter(["cmdline"]):
        command = " ".join(proc.info["cmdline"] or [])
        if command.startswith("postgres:"):
            try:
                total += sum(proc.cpu_times()[:2])
            except psutil.Error:
                continue
    return total


class StatementTimes:
    """Time spent in each statement (first 100 characters), as the client waits on it."""

    def __init__(self, engine: Any) -> None:
        self.totals: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, *_: object) -> None:
        conn.info["statement_started"] = time.perf_counter()

    def _after(self, conn: Any, _cursor: object, statement: str, *_: object) -> None:
        key = " ".join(statement.split())[:100]
        entry = self.totals[key]
        entry[0] += 1
        entry[1] += time.perf_counter() - conn.info["statement_started"]

    def top(self, n: int) -> list[str]:
        """The `n` statements that took longest in all, as table rows."""
        ranked = sorted(self.totals.items(), key=lambda kv: -kv[1][1])[:n]
        return [f"| {t:.2f} | {int(c)} | `{k}` |" for k, (c, t) in ranked]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3,000 reports")
    parser.add_argument("--reports", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1000, help="reports per linking batch")
    parser.add_argument("--top", type=int, default=8, help="statements to list")
    args = parser.parse_args(argv)
    if args.quick:
        args.reports = min(args.reports, 3000)
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    store = Store(admin)
    try:
        store_backlog(store, args.reports)
        with admin.connect() as connection:
            connection.execute(text(f"analyze {store.schema}.reports"))
        engine = CaseEngine.for_settings(store.db)
        settle_startup_heap()  # as `safestream link` does once it has started
        statements = StatementTimes(store.db.engine)
        me = psutil.Process()
        cpu, backend, wall = sum(me.cpu_times()[:2]), backend_cpu_seconds(), time.perf_counter()
        linked = engine.process_pending(args.reports, batch=args.batch)
        wall = time.perf_counter() - wall
        cpu = sum(me.cpu_times()[:2]) - cpu
        backend = backend_cpu_seconds() - backend
        costliest = statements.top(args.top)
        # Words a linker leaves queued (more than one round indexes) are indexed next round.
        text_wall = time.perf_counter()
        left = 0
        while indexed := engine.index_queued_text():
            left += indexed
        text_wall = time.perf_counter() - text_wall
    finally:
        store.drop()
    per = 1000 / max(1, linked)
    print(f"linked {linked} of {args.reports} stored reports in batches of {args.batch}")
    print(
        f"{linked / wall:.0f} reports/s; linker CPU {cpu * per:.3f} ms/report, "
        f"PostgreSQL CPU {backend * per:.3f} ms/report, wall {wall:.1f} s"
    )
    print(f"then the words of {left} reports still queued for search indexed in {text_wall:.1f} s")
    print("\n| seconds in all | times | statement |\n|---|---|---|")
    print("\n".join(costliest))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
