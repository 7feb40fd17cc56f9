"""The review console's queue at a hotline's volume: 100,000 cases in PostgreSQL.

Seeds (once) a database `bench_console` on the local PostgreSQL with 100,000 cases, one report
each (mixed sources, incident types, countries, statuses, priorities) and their identifiers, then
times what a reviewer meets through the store layer the console reads (`CaseBrowser.page`, with
the case summaries the page renders):
- the landing page (open cases across queues, most urgent first);
- a deep page (keyset cursor past 50,000 cases) beside the peer a developer would otherwise write,
  the same query cut by `OFFSET 50000`;
- filtered pages (closed/dismissed; source + country; organisation; claimed by no one), an
  identifier search and a full-text search (two words of the reports' descriptions, which the
  seed writes from a small vocabulary, indexed as the linker indexes them).
- the same views as whole console pages (`GET /console/queue...` through the app, logged in as an
  operator's reviewer: session, scope, query, rendering), in-process via Starlette's TestClient.
Each is repeated `--repeats` times; p50 and p95 in ms are printed. Target: p95 < 300 ms.

Run: `.venv/bin/python -m bench.bench_console_queue [--cases 100000] [--repeats 30] [--reseed]`
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, insert, select, text

from safestream.api.app import create_app
from safestream.core.cases import CaseStatus
from safestream.core.config import Settings
from safestream.core.errors import NotFound
from safestream.core.principal import Principal
from safestream.store.access import add_user, create_org, get_org
from safestream.store.case_browse import CaseBrowser, CaseFilter, PageKey, StatusFilter
from safestream.store.cases import case_summary
from safestream.store.database import Database
from safestream.store.models.cases import CaseEntityRow, CaseRow
from safestream.store.models.reports import ReportEntityRow, ReportRow
from safestream.store.report_text import index_reports

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
DB_NAME = "bench_console"
SOURCES = ["platform", "panic_button", "hotline", "payment_provider"]
INCIDENTS = ["child_pornography", "child_sex_trafficking", "online_enticement"]
COUNTRIES = ["PH", "US", "GB", "DE", "NL", None]
# Words of the seeded descriptions: a common one (in ~1 of 4 reports) and rarer ones.
COMMON = ["private", "stream", "viewers", "payment"]
RARE = [f"word{n}" for n in range(400)]
BATCH = 5000
PASSWORD = "bench password, not a secret"


def _ensure_database(reseed: bool) -> None:
    engine = create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        exists = c.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": DB_NAME})
        if exists and reseed:
            c.execute(text(f"DROP DATABASE {DB_NAME}"))
            exists = None
        if not exists:
            c.execute(text(f"CREATE DATABASE {DB_NAME}"))
    engine.dispose()


def seed_cases(db: Database, n_cases: int) -> None:
    """Seed (or top up to) `n_cases` cases of one platform, one report each (also used by the
    review-loop browser test at volume)."""
    with db.session() as s:
        have = s.scalar(select(func.count()).select_from(CaseRow)) or 0
    if have >= n_cases:
        return
    org = create_org(db, "Bench Platform")
    rnd = random.Random(13)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for base in range(have, n_cases, BATCH):
        cases, reports, rents, cents = [], [], [], []
        for i in range(base + 1, min(base + BATCH, n_cases) + 1):
            status = rnd.choices(["open", "closed", "merged"], [70, 27, 3])[0]
            decision = rnd.choice(["confirm", "dismiss", "refer"]) if status == "closed" else None
            account = f"examplecall:user-{i}"
            created = start + timedelta(seconds=i * 60 + rnd.randint(0, 59))
            cases.append(
                {
                    "id": i,
                    "subject_kind": "account",
                    "subject_value": account,
                    "status": status,
                    "priority": rnd.choices([1, 2, 3, 4], [2, 10, 70, 18])[0],
                    "score": rnd.randint(0, 90),
                    "queue": rnd.choice(["review", "urgent", "finance"]),
                    "created_at": created,
                    "updated_at": created,
                    "decision": decision,
                }
            )
            rid = str(uuid.UUID(int=rnd.getrandbits(128)))
            reports.append(
                {
                    "id": rid,
                    "org_id": org.id,
                    "source": rnd.choice(SOURCES),
                    "incident_type": rnd.choice(INCIDENTS),
                    "received_at": created,
                    "status": "linked",
                    "case_id": i,
                    "fingerprint": "0" * 64,
                    "body": json.dumps(
                        {
                            "description": f"Stand-in report {i}: {rnd.choice(COMMON)} "
                            f"{rnd.choice(RARE)} {rnd.choice(RARE)}",
                            "reported_accounts": [{"platform": "examplecall", "id": f"user-{i}"}],
                        }
                    ),
                    "platform_country": rnd.choice(COUNTRIES),
                }
            )
            pay = f"iban:PH{i:012d}"
            rents += [
                {"report_id": rid, "kind": "account", "value": account},
                {"report_id": rid, "kind": "payment_account", "value": pay},
            ]
            cents += [
                {"case_id": i, "kind": "account", "value": account, "first_report_id": rid},
                {"case_id": i, "kind": "payment_account", "value": pay, "first_report_id": rid},
            ]
        with db.session() as s:
            s.execute(insert(CaseRow), cases)
            s.execute(insert(ReportRow), reports)
            s.execute(insert(ReportEntityRow), rents)
            s.execute(insert(CaseEntityRow), cents)
            index_reports(s, [r["id"] for r in reports])  # what the linker does on linking
    with db.engine.connect() as c:
        for table in ("cases", "reports", "report_entities", "case_entities", "report_text"):
            c.execute(text(f"ANALYZE {table}"))  # the seeded tables only (a test's own schema)
        c.commit()


def _time(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    fn()  # warm the plan cache and buffers, as a running console would have
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)]


def _offset_peer(db: Database, offset: int) -> Callable[[], object]:
    def run() -> object:
        with db.session() as s:
            rows = s.scalars(
                select(CaseRow)
                .where(CaseRow.status == CaseStatus.OPEN.value, CaseRow.claimed_by_user.is_(None))
                .order_by(CaseRow.priority, CaseRow.created_at, CaseRow.id)
                .offset(offset)
                .limit(50)
            ).all()
            return [case_summary(s, r) for r in rows]

    return run


def _deep_key(db: Database, depth: int) -> PageKey:
    with db.session() as s:
        row = s.scalars(
            select(CaseRow)
            .where(CaseRow.status == CaseStatus.OPEN.value, CaseRow.claimed_by_user.is_(None))
            .order_by(CaseRow.priority, CaseRow.created_at, CaseRow.id)
            .offset(depth)
            .limit(1)
        ).one()
        return PageKey(row.priority, row.created_at, row.id)


def _console_client(db: Database, home: Path) -> TestClient:
    """The app on the bench store, with a reviewer of the hotline logged in."""
    try:
        get_org(db, "Bench Hotline")
    except NotFound:
        create_org(db, "Bench Hotline", kind="operator")
        add_user(
            db,
            "reviewer@bench.example",
            org="Bench Hotline",
            role="reviewer",
            password=PASSWORD,
            hasher=PasswordHasher(time_cost=1, memory_cost=1024),
        )
    settings = Settings(home=home, database_url=db.url)
    client = TestClient(create_app(settings, database=db, link_in_background=False))
    page = client.get("/console/login").text
    token = re.search(r'name="csrf_token" value="([^"]*)"', page)
    assert token is not None
    form = {"email": "reviewer@bench.example", "password": PASSWORD, "csrf_token": token.group(1)}
    assert client.post("/console/login", data=form).status_code == 200
    return client


def _get(client: TestClient, url: str) -> Callable[[], object]:
    def run() -> object:
        answer = client.get(url)
        assert answer.status_code == 200, answer.status_code
        return answer

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--reseed", action="store_true")
    args = parser.parse_args()
    _ensure_database(args.reseed)
    db = Database(f"{SERVER}/{DB_NAME}")
    db.migrate()
    t0 = time.perf_counter()
    seed_cases(db, args.cases)
    print(f"store: {args.cases:,} cases (seeded/checked in {time.perf_counter() - t0:.1f} s)")
    who = Principal.system("bench")  # sees every case, as the hotline operator's reviewers do
    browser = CaseBrowser(db)
    depth = args.cases // 2 if args.cases > 1000 else 10
    key = _deep_key(db, depth)
    needle = f"examplecall:user-{args.cases // 3}"
    words = "private word7"
    org_id = get_org(db, "Bench Platform").id
    runs: list[tuple[str, Callable[[], object]]] = [
        ("landing page (open, all queues)", lambda: browser.page(who, CaseFilter())),
        (f"keyset page after {depth:,} cases", lambda: browser.page(who, CaseFilter(), after=key)),
        (f"peer: OFFSET {depth:,} page", _offset_peer(db, depth)),
        ("dismissed cases", lambda: browser.page(who, CaseFilter(status=StatusFilter.DISMISSED))),
        (
            "open, source=panic_button, country=PH",
            lambda: browser.page(who, CaseFilter(source="panic_button", country="PH")),
        ),
        (
            "search account (any status)",
            lambda: browser.page(who, CaseFilter(status=StatusFilter.ANY, search=needle)),
        ),
        (
            "search payment account (any status)",
            lambda: browser.page(
                who, CaseFilter(status=StatusFilter.ANY, search=f"iban:PH{7:012d}")
            ),
        ),
        (
            "full-text search, 2 words (any status)",
            lambda: browser.page(who, CaseFilter(status=StatusFilter.ANY, search=words)),
        ),
        ("open, organisation", lambda: browser.page(who, CaseFilter(org_id=org_id))),
        ("open, claimed by no one", lambda: browser.page(who, CaseFilter(claimant="nobody"))),
    ]
    with tempfile.TemporaryDirectory() as home:
        client = _console_client(db, Path(home))
        runs += [
            ("page: /console/queue", _get(client, "/console/queue")),
            (
                "page: next page deep in the queue",
                _get(client, f"/console/queue?after={key.token()}"),
            ),
            ("page: dismissed", _get(client, "/console/queue?status=dismissed")),
            ("page: search account", _get(client, f"/console/queue?status=any&search={needle}")),
            (
                "page: full-text search, 2 words",
                _get(client, "/console/queue?status=any&search=private+word7"),
            ),
            (
                "page: organisation + claimed by me",
                _get(client, f"/console/queue?org={org_id}&claimed=me"),
            ),
        ]
        _report(runs, args.repeats)


def _report(runs: list[tuple[str, Callable[[], object]]], repeats: int) -> None:
    print(f"{'query':42} {'p50 ms':>8} {'p95 ms':>8}")
    for name, fn in runs:
        p50, p95 = _time(fn, repeats)
        print(f"{name:42} {p50:8.1f} {p95:8.1f}")


if __name__ == "__main__":
    main()
