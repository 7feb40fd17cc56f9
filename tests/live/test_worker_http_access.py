"""The live worker's HTTP routes, from a caller without the worker token or with a huge body."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from safestream.cli import app
from safestream.live.alerts import Alert, AlertRouter, CallbackSink
from safestream.live.monitor import MatchService
from safestream.live.risk import RiskBook
from safestream.live.sampling import SamplingMode, SamplingPolicy
from safestream.live.snapshots import (
    MAX_JSON_BYTES,
    MAX_SNAPSHOT_BYTES,
    SnapshotIngest,
    live_router,
)

from .conftest import png_bytes

TOKEN = "live-worker-token-for-tests"
ROUTES = [
    ("/live/streams/room7/snapshots", {"content": b""}),
    ("/live/streams/room7/events", {"json": {"type": "user_report"}}),
    ("/live/streams/watched/preserve", {"json": {}}),
]


@pytest.fixture
def worker(match_service: MatchService) -> tuple[TestClient, list[Alert], RiskBook]:
    alerts: list[Alert] = []
    ingest = SnapshotIngest(match_service, AlertRouter([CallbackSink(alerts.append)]))
    book = RiskBook(SamplingPolicy(SamplingMode.KEYFRAMES))
    app = FastAPI()
    preserve = lambda sid, by, why: sid == "watched"  # noqa: E731
    app.include_router(live_router(TOKEN, ingest, book.apply, preserve))
    return TestClient(app), alerts, book


@pytest.mark.parametrize("authorization", [None, "Bearer ", "Bearer wrong", f"Basic {TOKEN}"])
@pytest.mark.parametrize(("path", "body"), ROUTES)
def test_every_route_refuses_a_caller_without_the_token(
    worker: tuple[TestClient, list[Alert], RiskBook],
    authorization: str | None,
    path: str,
    body: dict[str, object],
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    answer = worker[0].post(path, headers=headers, **body)  # type: ignore[arg-type]
    assert answer.status_code == 401


def test_image_posted_without_the_token_is_not_matched(
    worker: tuple[TestClient, list[Alert], RiskBook],
) -> None:
    http, alerts, _ = worker
    assert (
        http.post("/live/streams/room7/snapshots", content=png_bytes("chelsea")).status_code == 401
    )
    assert alerts == []


def test_event_without_the_token_changes_no_risk(
    worker: tuple[TestClient, list[Alert], RiskBook],
) -> None:
    http, _, book = worker
    before = book.assess("room7").to_json()
    assert http.post("/live/streams/room7/events", json={"type": "user_report"}).status_code == 401
    assert book.assess("room7").to_json() == before


def test_routes_are_never_served_open() -> None:
    with pytest.raises(ValueError, match="token"):
        live_router("")


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
    worker: tuple[TestClient, list[Alert], RiskBook],
) -> None:
    """A 60 MiB upload without Content-Length: refused once it passes the 20 MB limit."""
    app = worker[0].app
    assert isinstance(app, FastAPI)
    chunk = 1 << 20
    status, pulled = asyncio.run(
        _post_in_chunks(app, "/live/streams/room7/snapshots", 60 * chunk, chunk)
    )
    assert status == 413
    assert pulled <= MAX_SNAPSHOT_BYTES + chunk


def test_declared_oversized_snapshot_is_refused_from_its_header(
    worker: tuple[TestClient, list[Alert], RiskBook],
) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Length": str(60 * 1024 * 1024)}
    answer = worker[0].post("/live/streams/room7/snapshots", content=b"x", headers=headers)
    assert answer.status_code == 413


def test_oversized_event_is_refused(worker: tuple[TestClient, list[Alert], RiskBook]) -> None:
    padding = "x" * (MAX_JSON_BYTES + 1)
    answer = worker[0].post(
        "/live/streams/room7/events",
        json={"type": "user_report", "reason": padding},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert answer.status_code == 413


def test_worker_refuses_to_serve_http_without_a_token(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SAFESTREAM_LIVE_WORKER_TOKEN", raising=False)
    result = CliRunner().invoke(app, ["live", "serve", "--http", "127.0.0.1:0"])
    assert result.exit_code == 2
    assert "live_worker_token" in result.output
