"""The live worker's HTTP routes from an attacker's view: no credential, another organisation's
API key, a revoked key, a huge body.

The installation: "Acme Video" owns the stream namespace `acme-` (its panic key), "Bravo Live"
owns `bravo-`, "NCA" is an agency without streams, "Example Call Co" is the operator. Bravo holds
a valid API key; what it must not do is read or change Acme's streams.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from safestream.live.alerts import Alert, AlertRouter, CallbackSink
from safestream.live.monitor import MatchService
from safestream.live.risk import RiskBook
from safestream.live.sampling import SamplingMode, SamplingPolicy
from safestream.live.snapshots import (
    MAX_JSON_BYTES,
    MAX_SNAPSHOT_BYTES,
    SnapshotIngest,
    worker_app,
)
from safestream.live.worker_access import WorkerAccess
from safestream.store.access import create_api_key, create_org, revoke_api_key
from safestream.store.api_key_cache import KEY_CACHE_SECONDS
from safestream.store.banks import BankRepository
from safestream.store.database import Database
from safestream.store.panic_keys import issue_panic_key, revoke_panic_key
from tests.web.test_access_matrix import app_routes

from .conftest import png_bytes

TOKEN = "live-worker-token-for-tests"
ORIGIN = ["https://calls.example"]
ROUTES = [
    ("/live/streams/acme-room7/snapshots", {"content": b""}),
    ("/live/streams/acme-room7/events", {"json": {"type": "user_report"}}),
    ("/live/streams/acme-room7/preserve", {"json": {}}),
]


@dataclass
class Worker:
    """A worker's HTTP app over a store with four organisations, and what its handlers saw."""

    http: TestClient
    db: Database
    alerts: list[Alert]
    book: RiskBook
    preserved: list[tuple[str, str]]
    keys: dict[str, str]
    key_ids: dict[str, int]
    panic_ids: dict[str, int]

    def post(self, who: str, path: str, **body: object) -> int:
        headers = {"Authorization": f"Bearer {self.keys[who]}"} if who != "anonymous" else {}
        return self.http.post(path, headers=headers, **body).status_code  # type: ignore[arg-type]


@pytest.fixture
def worker(match_service: MatchService, banks: BankRepository) -> Worker:
    db = banks.db
    create_org(db, "Example Call Co", kind="operator")
    create_org(db, "Acme Video")
    create_org(db, "Bravo Live")
    create_org(db, "NCA", kind="agency", agency_code="UK-NCA")
    panic_ids = {
        short: issue_panic_key(db, name, origins=ORIGIN, stream_prefix=f"{short}-").info.id
        for short, name in (("acme", "Acme Video"), ("bravo", "Bravo Live"))
    }
    names = {
        "hotline": "Example Call Co",
        "acme": "Acme Video",
        "bravo": "Bravo Live",
        "nca": "NCA",
    }
    issued = {short: create_api_key(db, name) for short, name in names.items()}
    alerts: list[Alert] = []
    preserved: list[tuple[str, str]] = []

    def preserve(stream_id: str, by: str, why: str) -> bool:
        preserved.append((stream_id, by))
        return True

    ingest = SnapshotIngest(match_service, AlertRouter([CallbackSink(alerts.append)]))
    book = RiskBook(SamplingPolicy(SamplingMode.KEYFRAMES))
    app = worker_app(WorkerAccess(db, TOKEN), ingest, book.apply, preserve, lambda: {"ok": True})
    keys = {short: key.key for short, key in issued.items()} | {"token": TOKEN}
    ids = {short: key.id for short, key in issued.items()}
    return Worker(TestClient(app), db, alerts, book, preserved, keys, ids, panic_ids)


@pytest.mark.parametrize(
    "authorization", [None, "Bearer ", "Bearer wrong", f"Basic {TOKEN}", "Bearer ss_not_a_key"]
)
@pytest.mark.parametrize(("path", "body"), ROUTES)
def test_every_route_refuses_a_caller_without_a_key_or_the_token(
    worker: Worker, authorization: str | None, path: str, body: dict[str, object]
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    answer = worker.http.post(path, headers=headers, **body)  # type: ignore[arg-type]
    assert answer.status_code == 401
    assert worker.alerts == [] and worker.preserved == []


def test_image_posted_without_credentials_is_not_matched(worker: Worker) -> None:
    path = "/live/streams/acme-room7/snapshots"
    assert worker.post("anonymous", path, content=png_bytes("chelsea")) == 401
    assert worker.alerts == []


def test_another_organisations_key_cannot_change_a_streams_risk(worker: Worker) -> None:
    before = worker.book.assess("acme-room7").to_json()
    assert (
        worker.post("bravo", "/live/streams/acme-room7/events", json={"type": "user_report"}) == 404
    )
    assert worker.book.assess("acme-room7").to_json() == before


def test_another_organisations_key_cannot_read_a_streams_risk(worker: Worker) -> None:
    """The event route answers the stream's score and reasons; Bravo hears only 'not found'."""
    event = {"type": "stream_started", "private": True}
    assert worker.post("acme", "/live/streams/acme-room7/events", json=event) == 200
    answer = worker.http.post(
        "/live/streams/acme-room7/events",
        json={"type": "classifier_score", "classifier": "x", "score": 0.0},
        headers={"Authorization": f"Bearer {worker.keys['bravo']}"},
    )
    assert answer.status_code == 404
    assert "score" not in answer.text and "private_stream" not in answer.text


def test_another_organisations_key_cannot_post_snapshots_for_its_streams(worker: Worker) -> None:
    path = "/live/streams/acme-room7/snapshots"
    assert worker.post("bravo", path, content=png_bytes("chelsea")) == 404
    assert worker.alerts == []


def test_another_organisations_key_cannot_preserve_its_streams_evidence(worker: Worker) -> None:
    assert worker.post("bravo", "/live/streams/acme-room7/preserve", json={}) == 404
    assert worker.preserved == []


def test_an_organisation_acts_on_its_own_streams(worker: Worker) -> None:
    path = "/live/streams/acme-room7"
    assert worker.post("acme", f"{path}/snapshots?t=3", content=png_bytes("chelsea")) == 200
    assert [a.stream for a in worker.alerts] == ["acme-room7"]
    assert worker.post("acme", f"{path}/events", json={"type": "user_report"}) == 200
    assert worker.book.assess("acme-room7").score > 0
    assert worker.post("acme", f"{path}/preserve", json={"requested_by": "report:r-1"}) == 200
    assert worker.preserved == [("acme-room7", "report:r-1 (via Acme Video)")]


def test_an_organisation_without_a_namespace_acts_on_no_stream(worker: Worker) -> None:
    for stream in ("acme-room7", "bravo-room1", "nca-room1", "room7"):
        assert (
            worker.post("nca", f"/live/streams/{stream}/events", json={"type": "user_report"})
            == 404
        )


def test_the_operator_acts_on_every_stream_with_its_key_or_the_token(worker: Worker) -> None:
    for who in ("hotline", "token"):
        for stream in ("acme-room7", "bravo-room1", "room7"):
            path = f"/live/streams/{stream}/events"
            assert worker.post(who, path, json={"type": "user_report"}) == 200


def test_revoked_key_is_refused_within_the_cache_time_even_after_it_was_used(
    worker: Worker,
) -> None:
    path = "/live/streams/acme-room7/events"
    assert worker.post("acme", path, json={"type": "user_report"}) == 200  # now cached
    revoke_api_key(worker.db, worker.key_ids["acme"])  # as `safestream apikey revoke` does
    time.sleep(KEY_CACHE_SECONDS + 0.1)
    assert worker.post("acme", path, json={"type": "user_report"}) == 401
    assert worker.post("acme", "/live/streams/acme-room7/snapshots", content=b"x") == 401


def test_revoked_panic_key_takes_its_namespace_away_within_the_cache_time(worker: Worker) -> None:
    """A released prefix may be issued to another organisation: the old owner must lose it."""
    path = "/live/streams/acme-room7/events"
    assert worker.post("acme", path, json={"type": "user_report"}) == 200
    revoke_panic_key(worker.db, worker.panic_ids["acme"])
    time.sleep(KEY_CACHE_SECONDS + 0.1)
    assert worker.post("acme", path, json={"type": "user_report"}) == 404


def test_health_names_the_streams_held_so_only_the_operator_reads_it(worker: Worker) -> None:
    got = {}
    for who in ("anonymous", "acme", "nca", "hotline", "token"):
        headers = {"Authorization": f"Bearer {worker.keys[who]}"} if who != "anonymous" else {}
        got[who] = worker.http.get("/healthz", headers=headers).status_code
    assert got == {"anonymous": 401, "acme": 403, "nca": 403, "hotline": 200, "token": 200}


def test_unseen_key_while_the_store_is_away_gets_a_retryable_503(
    worker: Worker, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(*_: object) -> None:
        raise ConnectionRefusedError("connection to server at 127.0.0.1 refused")

    monkeypatch.setattr("safestream.store.api_key_cache.org_for_api_key", unreachable)
    answer = worker.http.post(
        "/live/streams/acme-room7/events",
        json={"type": "user_report"},
        headers={"Authorization": f"Bearer {worker.keys['acme']}"},
    )
    assert answer.status_code == 503 and answer.headers["retry-after"]


def test_routes_are_never_served_open() -> None:
    with pytest.raises(ValueError, match="token"):
        WorkerAccess(None, None)


def test_a_worker_with_only_the_token_refuses_api_keys(match_service: MatchService) -> None:
    book = RiskBook(SamplingPolicy(SamplingMode.KEYFRAMES))
    http = TestClient(worker_app(WorkerAccess(None, TOKEN), on_event=book.apply))
    headers = {"Authorization": "Bearer ss_some_key"}
    assert (
        http.post(
            "/live/streams/a/events", json={"type": "user_report"}, headers=headers
        ).status_code
        == 401
    )


async def _post_in_chunks(app: FastAPI, path: str, size: int, chunk: int) -> tuple[int, int]:
    """POST `size` bytes to the ASGI app in chunks, without Content-Length, as a client
    streaming a large upload does; return the status and how many bytes the server pulled."""
    pulled = 0
    status = 0

    async def receive() -> dict[str, object]:
        nonlocal pulled
        part = min(chunk, size - pulled)
        pulled += part
        return {"type": "http.request", "body": b"\0" * part, "more_body": pulled < size}

    async def send(message: dict[str, object]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])  # type: ignore[call-overload]

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "server": ("test", 80), "client": ("127.0.0.1", 5000),
        "headers": [(b"authorization", f"Bearer {TOKEN}".encode())],
    }  # fmt: skip
    await app(scope, receive, send)
    return status, pulled


def test_oversized_snapshot_is_refused_before_it_is_read_in_full(
    worker: Worker,
) -> None:
    """A 60 MiB upload without Content-Length: refused once it passes the 20 MB limit."""
    app = worker.http.app
    assert isinstance(app, FastAPI)
    chunk = 1 << 20
    status, pulled = asyncio.run(
        _post_in_chunks(app, "/live/streams/acme-room7/snapshots", 60 * chunk, chunk)
    )
    assert status == 413
    assert pulled <= MAX_SNAPSHOT_BYTES + chunk


def test_declared_oversized_snapshot_is_refused_from_its_header(
    worker: Worker,
) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Length": str(60 * 1024 * 1024)}
    answer = worker.http.post("/live/streams/acme-room7/snapshots", content=b"x", headers=headers)
    assert answer.status_code == 413


def test_oversized_event_is_refused(worker: Worker) -> None:
    padding = "x" * (MAX_JSON_BYTES + 1)
    answer = worker.http.post(
        "/live/streams/acme-room7/events",
        json={"type": "user_report", "reason": padding},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert answer.status_code == 413


# Route-by-caller matrix of a worker's HTTP app: every route, for the anonymous caller, the
# operator's token and key, two platforms (each on its own stream and the other's), an agency
# without streams and a revoked key. Acme's stream is `acme-room7`.
CALLERS = ("anonymous", "token", "hotline", "acme", "bravo", "nca")
MATRIX = {
    ("POST", "/live/streams/{stream_id}/snapshots"): {"acme": 200, "bravo": 404, "nca": 404},
    ("POST", "/live/streams/{stream_id}/events"): {"acme": 200, "bravo": 404, "nca": 404},
    ("POST", "/live/streams/{stream_id}/preserve"): {"acme": 200, "bravo": 404, "nca": 404},
    ("GET", "/healthz"): {"acme": 403, "bravo": 403, "nca": 403},
}
BODIES: dict[str, dict[str, object]] = {
    "snapshots": {"content": png_bytes("coffee")},
    "events": {"json": {"type": "user_report"}},
    "preserve": {"json": {}},
}
DOCS = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


def _expected(route: tuple[str, str], caller: str) -> int:
    if caller == "anonymous":
        return 401
    return MATRIX[route].get(caller, 200)  # the operator, by token or key: every stream


def test_every_worker_route_is_in_the_matrix(worker: Worker) -> None:
    routes = {(m, path) for m, path in app_routes(worker.http.app) if path not in DOCS}
    assert routes == set(MATRIX)


@pytest.mark.parametrize("route", sorted(MATRIX), ids=[f"{m} {p}" for m, p in sorted(MATRIX)])
def test_worker_route_answers_each_caller_as_the_model_says(
    worker: Worker, route: tuple[str, str]
) -> None:
    method, template = route
    path = template.replace("{stream_id}", "acme-room7")
    body = BODIES.get(path.rsplit("/", 1)[-1], {})
    got = {}
    for caller in CALLERS:
        headers = (
            {"Authorization": f"Bearer {worker.keys[caller]}"} if caller != "anonymous" else {}
        )
        got[caller] = worker.http.request(method, path, headers=headers, **body).status_code  # type: ignore[arg-type]
    assert got == {caller: _expected(route, caller) for caller in CALLERS}
