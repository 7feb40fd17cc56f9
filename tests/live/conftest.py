"""Fixtures for the live monitor: benign clips with known stills, a bank of those stills,
ffmpeg publishers and servers on free loopback ports."""

from __future__ import annotations

import io
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from bench.live_media import Insertion, known_image, make_clip
from PIL import Image

from safestream.live.alerts import Alert, AlertRouter, CallbackSink, Confirmation
from safestream.live.evidence import EvidenceStore
from safestream.live.monitor import MatchService, StreamMonitor, StreamSpec, StreamStats
from safestream.live.risk import RiskBook
from safestream.live.sampling import SamplingPolicy
from safestream.live.sources import SourceOptions
from safestream.media.bank_index import BankIndex
from safestream.media.hashing import hash_image
from safestream.media.matching import Matcher
from safestream.store import Database
from safestream.store.banks import BankRepository, NewEntry

KEY = bytes(range(32))
# The stills in CLIP: chelsea letterboxed at 2-3 s, astronaut mirrored at 4-5 s.
CLIP_INSERTIONS = (
    Insertion("chelsea", 2.0, 1.0, "letterbox"),
    Insertion("astronaut", 4.0, 1.0, "mirror"),
)


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Clips shared by the live tests (encoded once per session)."""
    folder = tmp_path_factory.mktemp("live_media")
    make_clip(folder / "known.mp4", seconds=6.0, insertions=CLIP_INSERTIONS)
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-i", str(folder / "known.mp4"), "-c", "copy",
         str(folder / "known.flv")],
        check=True,
    )  # fmt: skip
    make_clip(folder / "benign.mp4", seconds=6.0, seed=3)
    for name in ("chelsea", "astronaut", "coffee"):
        Image.fromarray(known_image(name)).save(folder / f"{name}.png")
    return folder


@pytest.fixture
def banks(tmp_path: Path, media_dir: Path) -> Iterator[BankRepository]:
    """A SQLite store with bank `known` holding chelsea and astronaut (not coffee)."""
    db = Database(f"sqlite:///{tmp_path / 'store.db'}")
    db.migrate()
    repo = BankRepository(db)
    repo.create("known")
    for name in ("chelsea", "astronaut"):
        h = hash_image((media_dir / f"{name}.png").read_bytes())
        repo.add_entries("known", [NewEntry("pdq", h.pdq, label="A1", note=name)])
    yield repo
    db.dispose()


@pytest.fixture
def match_service(banks: BankRepository, tmp_path: Path) -> MatchService:
    """The bank index and matcher over `banks`."""
    index = BankIndex.open(banks, tmp_path / "index")
    return MatchService(Matcher(banks, index))


@dataclass
class Watch:
    """A monitor wired to collect alerts and stream stats, for assertions."""

    monitor: StreamMonitor
    alerts: list[Alert] = field(default_factory=list)
    ended: dict[str, StreamStats] = field(default_factory=dict)

    def run(self, spec: StreamSpec, timeout: float = 60.0) -> StreamStats:
        """Watch one stream to its end and return its stats."""
        self.monitor.add(spec)
        assert self.monitor.wait(timeout), f"{spec.url} did not end within {timeout} s"
        return self.ended[spec.stream_id]


@pytest.fixture
def make_watch(match_service: MatchService, tmp_path: Path) -> Callable[..., Watch]:
    """Build a `Watch`; keyword arguments go to `StreamMonitor` (evidence on by default)."""

    def build(
        *,
        evidence: bool = True,
        evidence_seconds: float = 2.0,
        confirmations: dict[str, Confirmation] | None = None,
        baseline: SamplingPolicy | None = None,
        **kwargs: object,
    ) -> Watch:
        lock = threading.Lock()
        alerts: list[Alert] = []

        def collect(alert: Alert) -> None:
            with lock:
                alerts.append(alert)

        monitor = StreamMonitor(
            match_service,
            AlertRouter([CallbackSink(collect)], confirmations=confirmations),
            risk=RiskBook(baseline),
            evidence=EvidenceStore(tmp_path / "evidence", KEY) if evidence else None,
            evidence_seconds=evidence_seconds,
            **kwargs,  # type: ignore[arg-type]
        )
        watch = Watch(monitor, alerts)
        monitor.on_stream_end = lambda sid, stats: watch.ended.__setitem__(sid, stats)
        return watch

    return build


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ffmpeg(*args: str) -> subprocess.Popen[bytes]:
    """Start Debian's ffmpeg quietly."""
    return subprocess.Popen(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    """End a helper process we started."""
    if process.poll() is None:
        process.kill()
    process.wait(10)


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    """Block until something accepts connections on the port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port}")


def wait_for_packets(
    monitor: StreamMonitor, stream_id: str, count: int, timeout: float = 20.0
) -> None:
    """Block until the stream's thread has read `count` packets (stream time has passed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stats = monitor.streams().get(stream_id)
        if stats is not None and stats.packets >= count:
            return
        time.sleep(0.02)
    raise TimeoutError(f"stream {stream_id!r} did not read {count} packets in {timeout:g} s")


def png_bytes(name: str) -> bytes:
    """A known still as PNG bytes."""
    buf = io.BytesIO()
    Image.fromarray(known_image(name)).save(buf, "PNG")
    return buf.getvalue()


def live_options(**overrides: object) -> SourceOptions:
    """Source options with short timeouts for tests."""
    from safestream.live.sources import ReconnectPolicy

    values: dict[str, object] = {
        "open_timeout": 10.0,
        "read_timeout": 3.0,
        "reconnect": ReconnectPolicy(max_attempts=0),
    }
    values.update(overrides)
    return SourceOptions(**values)  # type: ignore[arg-type]
