"""Live-worker faults, shared by the fault tests (short forms) and `bench_faults` (long forms):
a NATS outage of any length, and a worker killed with kill -9.

Both run real `safestream live serve` processes against a private nats-server, watching a
realtime clip that shows banked stills at planned times, so "the stream alerts" can be timed:
in the outage, chelsea before NATS goes, coffee while it is away, astronaut 2 s after it is back.
(Repeats of one still merge into one alert for 60 s, so each moment needs its own still.)
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.fault_harness import LiveWorkerProcess, PrivateNats, wait_until
from bench.live_media import Insertion, known_image, make_clip
from safestream.live.distribution import LiveSubjects, WorkItem, queue_stream_async

PREFIX = "faults"
STARTUP = 240.0  # a cold numba cache compiles the hashing kernels first


@dataclass
class OutageResult:
    """What a NATS outage did to one worker."""

    outage_s: float
    worker_exited: bool
    streams_held_during: bool
    alerts_during: int
    reconnect_s: float | None  # server back -> worker reports bus_connected
    alert_after_s: float | None  # server back -> next alert of the held stream
    new_stream_taken_s: float | None  # server back -> a stream queued then is taken


@dataclass
class TakeoverResult:
    """What kill -9 of the worker holding a stream did."""

    takeover_s: float | None  # kill -> the other worker reports stream_taken
    delivery: int | None
    resumed_at_s: float | None  # where the taker started the paced file (seconds in)
    expected_at_s: float  # how far the stream had played when its worker was killed
    first_sample_t: float  # stream time of the taker's first samples


def home_with_bank(home: Path) -> None:
    """A SAFESTREAM_HOME whose bank `known` holds the chelsea, coffee and astronaut stills."""
    from PIL import Image

    home.mkdir(parents=True, exist_ok=True)
    stills = []
    for name in ("chelsea", "coffee", "astronaut"):
        stills.append(home / f"{name}.png")
        Image.fromarray(known_image(name)).save(stills[-1])
    env_cli = [sys.executable, "-m", "safestream.cli"]
    env = {"SAFESTREAM_HOME": str(home)}
    _cli([*env_cli, "bank", "create", "known"], env)
    _cli([*env_cli, "bank", "add", "known", *map(str, stills), "--label", "A1"], env)


def _cli(command: list[str], extra_env: dict[str, str]) -> None:
    import os

    env = {**os.environ, **extra_env}
    env.pop("SAFESTREAM_DATABASE_URL", None)
    subprocess.run(command, check=True, capture_output=True, env=env)


def alerting_clip(path: Path, seconds: float, shows: list[tuple[str, float]]) -> Path:
    """A clip that shows each (still, at seconds) for 1.5 s."""
    insertions = [Insertion(name, at, 1.5, "letterbox") for name, at in shows]
    return make_clip(path, seconds=seconds, width=320, height=180, insertions=insertions)


def queue(nats_url: str, stream_id: str, clip: Path) -> None:
    """Queue a realtime stream of `clip`."""
    item = WorkItem(stream_id, str(clip), realtime=True)
    asyncio.run(queue_stream_async(item, nats_url, LiveSubjects(PREFIX)))


def start_worker(nats_url: str, home: Path) -> LiveWorkerProcess:
    """A live worker that has compiled its kernels and joined the queue."""
    worker = LiveWorkerProcess(nats_url, PREFIX, home)
    if wait_until(lambda: bool(worker.saw("worker_started")), STARTUP) is None:
        worker.stop()
        raise RuntimeError("worker did not start: " + "".join(worker.errors)[-2000:])
    return worker


def nats_outage(folder: Path, outage_s: float) -> OutageResult:
    """Stop the worker's NATS for `outage_s` while it watches a stream, then bring it back."""
    server = PrivateNats(folder / "nats")
    server.start()
    worker: LiveWorkerProcess | None = None
    try:  # from here on, whatever fails, the private server and the worker are stopped
        home = folder / "home"
        home_with_bank(home)
        # The stream is taken at about 0 s of its time and NATS stops at its first alert (~2.3 s).
        shows = [("chelsea", 2.0), ("coffee", 2.5 + outage_s / 2), ("astronaut", 4.5 + outage_s)]
        clip = alerting_clip(folder / "outage.mp4", outage_s + 30, shows)
        worker = start_worker(server.url, home)
        queue(server.url, "room-1", clip)
        assert wait_until(lambda: bool(worker.saw("stream_taken")), 20) is not None
        assert wait_until(lambda: bool(worker.alerts), 15) is not None, "no alert before outage"
        server.stop()
        down_at = time.monotonic()
        time.sleep(outage_s)
        health = worker.health() or {}
        room = health.get("streams", {}).get("room-1", {})
        held = room.get("state") == "running" and health["bus"]["state"] != "connected"
        during = sum(1 for at, _ in worker.alerts if at > down_at)
        server.start()
        up_at = time.monotonic()
        back = wait_until(lambda: any(r["_at"] > up_at for r in worker.saw("bus_connected")), 30)
        alert_after = wait_until(lambda: any(at > up_at for at, _ in worker.alerts), 30)
        queue(server.url, "room-2", clip)
        taken = wait_until(
            lambda: any(r.get("stream") == "room-2" for r in worker.saw("stream_taken")), 30
        )
        new_taken = None if taken is None else time.monotonic() - up_at
        return OutageResult(
            outage_s, not worker.alive(), held, during, back, alert_after, new_taken
        )
    finally:
        if worker is not None:
            worker.stop()
        server.stop()


def worker_kill(folder: Path, run_for_s: float = 8.0) -> TakeoverResult:
    """kill -9 the worker watching a stream; time until the other worker has taken it."""
    server = PrivateNats(folder / "nats")
    server.start()
    workers: list[LiveWorkerProcess] = []
    try:  # from here on, whatever fails, the private server and workers are stopped
        home = folder / "home"
        home_with_bank(home)
        shows = [("chelsea", 2.0), ("coffee", run_for_s + 6.0)]
        clip = alerting_clip(folder / "takeover.mp4", run_for_s + 40, shows)
        workers.append(start_worker(server.url, home))
        workers.append(start_worker(server.url, home))
        queue(server.url, "room-1", clip)
        assert wait_until(lambda: any(w.saw("stream_taken") for w in workers), 20) is not None
        started = time.monotonic()
        [owner] = [w for w in workers if w.saw("stream_taken")]
        [other] = [w for w in workers if w is not owner]
        time.sleep(run_for_s)
        owner.kill()
        killed_at = time.monotonic()
        took = wait_until(lambda: bool(other.saw("stream_taken")), 30)
        record = other.saw("stream_taken")[0] if took is not None else {}
        resumed = wait_until(lambda: bool(other.saw("stream_resumed")), 10)
        at = other.saw("stream_resumed")[0].get("at") if resumed is not None else None

        def stream_time() -> float:
            room = ((other.health() or {}).get("streams") or {}).get("room-1") or {}
            return float(room.get("t") or 0.0)

        wait_until(lambda: stream_time() > 0, 10, 0.2)
        return TakeoverResult(took, record.get("delivery"), at, killed_at - started, stream_time())
    finally:
        for worker in workers:
            worker.stop()
        server.stop()
