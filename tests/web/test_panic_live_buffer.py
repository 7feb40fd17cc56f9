"""A panic press asks the live worker watching the stream to keep its evidence buffer (NATS)."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import nats
import pytest

from safestream.live.distribution import LiveSubjects
from tests.web.conftest import Console

pytestmark = pytest.mark.nats
NATS_URL = "nats://127.0.0.1:4222"


class FakeFreeWorker:
    """A real NATS responder on the preserve subject, standing where a live worker would."""

    def __init__(self, subjects: LiveSubjects, watching: str) -> None:
        self.subjects, self.watching = subjects, watching
        self.requests: list[dict[str, Any]] = []
        self.ready = threading.Event()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True)

    async def _serve(self) -> None:
        nc = await nats.connect(NATS_URL)

        async def answer(msg: Any) -> None:
            request = json.loads(msg.data)
            self.requests.append(request)
            if request["stream_id"] == self.watching:
                await msg.respond(json.dumps({"accepted": True, "worker": "w1"}).encode())

        await nc.subscribe(self.subjects.preserve, cb=answer)
        await nc.flush()
        self.ready.set()
        while not self.stop.is_set():
            await asyncio.sleep(0.05)
        await nc.close()


@pytest.fixture
def worker(console: Console, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeFreeWorker]:
    prefix = f"t{uuid.uuid4().hex[:8]}"
    # The console reads the NATS address from its settings; a fresh environment picks it up.
    state = console.client.app.state
    monkeypatch.setattr(state, "settings", console.settings.with_changes(nats_url=NATS_URL))
    monkeypatch.setattr(state, "console_environment", None, raising=False)
    monkeypatch.setattr("safestream.live.distribution.LiveSubjects", lambda: LiveSubjects(prefix))
    responder = FakeFreeWorker(LiveSubjects(prefix), watching="call-42")
    responder.thread.start()
    if not responder.ready.wait(10):
        pytest.fail("NATS does not answer at 127.0.0.1:4222")
    yield responder
    responder.stop.set()
    responder.thread.join(5)


def _press(console: Console, stream_id: str) -> Any:
    key = console.panic_key()
    body = {
        "stream_id": stream_id,
        "description": "A child may be at risk.",
        "child_in_danger": "yes",
    }
    headers = {"Authorization": f"Bearer {key}", "Origin": "https://call.example"}
    return console.client.post("/v1/panic", json=body, headers=headers)


def test_press_asks_the_watching_worker_to_keep_the_buffer(
    console: Console, worker: FakeFreeWorker
) -> None:
    answer = _press(console, "call-42")
    assert answer.status_code == 201
    assert answer.json()["live_buffer"] == "kept"
    assert worker.requests[0]["stream_id"] == "call-42"
    assert worker.requests[0]["reason"] == "panic_report"


def test_press_on_an_unwatched_stream_is_still_filed(
    console: Console, worker: FakeFreeWorker
) -> None:
    answer = _press(console, "call-unwatched")
    assert answer.status_code == 201
    assert answer.json()["live_buffer"] == "no live worker"
