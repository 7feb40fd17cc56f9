"""Work distribution over the real NATS JetStream on 127.0.0.1:4222: takeover on worker death."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import nats
import pytest
from bench.live_media import make_clip

from safestream.live.distribution import (
    LiveSubjects,
    WorkItem,
    queue_stream_async,
    request_preservation_async,
)

# A worker compiles its hashing kernels before it starts: 20 s or more when numba's cache is cold.
pytestmark = [pytest.mark.nats, pytest.mark.timeout(300)]
NATS = "nats://127.0.0.1:4222"


def nats_is_up() -> bool:
    async def probe() -> bool:
        try:
            nc = await nats.connect(NATS, connect_timeout=1, max_reconnect_attempts=0)
        except Exception:
            return False
        await nc.close()
        return True

    return asyncio.run(probe())


class Worker:
    """A `safestream live serve` process whose stderr lifecycle records are collected."""

    def __init__(self, prefix: str, home: Path) -> None:
        env = {**os.environ, "SAFESTREAM_HOME": str(home), "SAFESTREAM_EVIDENCE_KEY": "ab" * 32}
        env.pop("SAFESTREAM_DATABASE_URL", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "safestream.cli", "live", "serve", "--nats", NATS,
             "--prefix", prefix, "--ack-wait", "3"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )  # fmt: skip
        self.records: list[dict[str, object]] = []
        self.errors: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            if line.startswith("{"):
                self.records.append(json.loads(line))
            else:
                self.errors.append(line)

    def saw(self, event: str) -> list[dict[str, object]]:
        return [r for r in self.records if r.get("event") == event]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def prefix() -> Iterator[str]:
    if not nats_is_up():
        if os.environ.get("CI"):
            pytest.fail(f"nats-server does not answer at {NATS}")
        pytest.skip("nats-server is not running")
    name = f"t{uuid.uuid4().hex[:10]}"
    yield name
    subjects = LiveSubjects(name)

    async def clean() -> None:
        nc = await nats.connect(NATS)
        js = nc.jetstream()
        for stream in (subjects.work_stream, subjects.events_stream):
            with contextlib.suppress(Exception):
                await js.delete_stream(stream)
        await nc.close()

    asyncio.run(clean())


@pytest.fixture
def workers(prefix: str, tmp_path: Path) -> Iterator[list[Worker]]:
    home = tmp_path / "home"
    started = [Worker(prefix, home)]
    # The second starts once the first has migrated the shared SQLite store.
    ready = wait_until(lambda: bool(started[0].saw("worker_started")), 150)
    assert ready, "".join(started[0].errors)[-2000:]
    started.append(Worker(prefix, home))
    ready = wait_until(lambda: bool(started[1].saw("worker_started")), 150)
    assert ready, "".join(started[1].errors)[-2000:]
    yield started
    for worker in started:
        worker.stop()


def test_stream_of_a_killed_worker_is_taken_over_within_seconds(
    prefix: str, workers: list[Worker], tmp_path: Path
) -> None:
    clip = make_clip(tmp_path / "long.mp4", seconds=30.0, width=320, height=180)
    item = WorkItem("room-1", str(clip), realtime=True)
    asyncio.run(queue_stream_async(item, NATS, LiveSubjects(prefix)))
    assert wait_until(lambda: any(w.saw("stream_taken") for w in workers), 20)
    [owner] = [w for w in workers if w.saw("stream_taken")]
    [other] = [w for w in workers if w is not owner]

    answer = asyncio.run(
        request_preservation_async("room-1", "report:r-9", url=NATS, subjects=LiveSubjects(prefix))
    )
    assert answer is not None and answer["accepted"] is True

    owner.process.kill()  # no goodbye: heartbeats just stop
    killed_at = time.monotonic()
    taken = wait_until(lambda: bool(other.saw("stream_taken")), 20)
    assert taken, "".join(other.errors)[-6000:]
    taken_after = time.monotonic() - killed_at
    assert taken_after < 3 + 5  # ack wait plus one fetch round and start-up slack
    assert other.saw("stream_taken")[0]["delivery"] == 2
    # Only the worker watching a stream answers a preservation request.
    nobody = asyncio.run(
        request_preservation_async(
            "nobody", "report:r-1", url=NATS, subjects=LiveSubjects(prefix), timeout=1.0
        )
    )
    assert nobody is None
