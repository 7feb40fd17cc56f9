"""Snapshots posted over HTTP, and the events and preserve routes (with the worker token)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from safestream.live.alerts import Alert, AlertRouter, CallbackSink
from safestream.live.monitor import MatchService
from safestream.live.risk import RiskBook
from safestream.live.sampling import SamplingMode, SamplingPolicy
from safestream.live.snapshots import SnapshotIngest, live_router
from safestream.live.worker_access import WorkerAccess

from .conftest import Watch, png_bytes

TOKEN = "live-worker-token-for-tests"


@pytest.fixture
def client(match_service: MatchService) -> tuple[TestClient, list[Alert]]:
    """The routes as a worker serves them, and a client holding the worker token."""
    alerts: list[Alert] = []
    ingest = SnapshotIngest(match_service, AlertRouter([CallbackSink(alerts.append)]))
    book = RiskBook(SamplingPolicy(SamplingMode.KEYFRAMES))
    app = FastAPI()
    preserve = lambda sid, by, why: sid == "watched"  # noqa: E731
    app.include_router(live_router(WorkerAccess(None, TOKEN), ingest, book.apply, preserve))
    return TestClient(app, headers={"Authorization": f"Bearer {TOKEN}"}), alerts


def test_posted_snapshot_of_a_known_still_alerts_the_sinks(
    client: tuple[TestClient, list[Alert]],
) -> None:
    http, alerts = client
    answer = http.post(
        "/live/streams/room7/snapshots?t=12.5",
        content=png_bytes("chelsea"),
        headers={"Content-Type": "image/png"},
    )
    assert answer.status_code == 200
    [alert] = alerts
    assert (alert.stream, alert.t, alert.sample_reason) == ("room7", 12.5, "snapshot")


def test_snapshot_answer_says_nothing_of_the_banks(client: tuple[TestClient, list[Alert]]) -> None:
    """The caller cannot use the route to learn whether (or which) bank entry an image matches."""
    http, alerts = client
    known = http.post("/live/streams/room7/snapshots", content=png_bytes("chelsea")).json()
    unknown = http.post("/live/streams/room8/snapshots", content=png_bytes("coffee")).json()
    assert alerts and set(known) == set(unknown) == {"accepted", "quality"}


def test_posted_snapshot_of_an_unknown_still_does_not_alert(
    client: tuple[TestClient, list[Alert]],
) -> None:
    http, _ = client
    answer = http.post("/live/streams/room7/snapshots", content=png_bytes("coffee"))
    assert answer.status_code == 200
    assert answer.json()["quality"] >= 50
    assert client[1] == []


def test_snapshot_that_is_not_an_image_is_refused(client: tuple[TestClient, list[Alert]]) -> None:
    http, _ = client
    answer = http.post("/live/streams/room7/snapshots", content=b"\x00garbage" * 50)
    assert answer.status_code == 415


def test_empty_snapshot_is_refused(client: tuple[TestClient, list[Alert]]) -> None:
    assert client[0].post("/live/streams/room7/snapshots", content=b"").status_code == 422


def test_event_route_returns_the_new_score_and_reasons(
    client: tuple[TestClient, list[Alert]],
) -> None:
    http, _ = client
    answer = http.post("/live/streams/room7/events", json={"type": "user_report"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["sampling"] == "full@1fps+scene+skip"
    assert body["reasons"][0]["name"] == "user_report"


def test_bad_event_is_refused_with_422(client: tuple[TestClient, list[Alert]]) -> None:
    answer = client[0].post("/live/streams/room7/events", json={"type": "dance"})
    assert answer.status_code == 422
    assert "event type" in answer.json()["detail"]


def test_preserve_for_a_stream_not_watched_here_is_404(
    client: tuple[TestClient, list[Alert]],
) -> None:
    http, _ = client
    assert http.post("/live/streams/elsewhere/preserve", json={}).status_code == 404
    assert http.post("/live/streams/watched/preserve", json={}).status_code == 200


def test_repeated_snapshots_of_the_same_still_merge_into_one_alert(
    make_watch: Callable[..., Watch], match_service: MatchService
) -> None:
    alerts: list[Alert] = []
    ingest = SnapshotIngest(match_service, AlertRouter([CallbackSink(alerts.append)]))
    for t in (1.0, 6.0, 11.0):
        ingest.post("room9", png_bytes("astronaut"), t)
    assert len(alerts) == 1
