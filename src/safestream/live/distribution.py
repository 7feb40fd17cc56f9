"""Share stream watching between processes and machines over NATS JetStream.

Subjects and JetStream streams (prefix `safestream` unless configured otherwise):

* `safestream.live.streams`: work items, one JSON object per stream to watch
  (`{"stream_id": ..., "url": ..., "baseline": "full"|"keyframes", "realtime": false}`),
  kept in the work-queue stream `SAFESTREAM_LIVE`. All workers pull from ONE durable consumer
  (`live-workers`), so each item goes to exactly one worker. A worker holds an item unacked while
  it watches the stream and sends an in-progress ack every `ack_wait / 3` seconds; if the worker
  dies, the heartbeats stop and JetStream redelivers the item to another worker after
  `ack_wait` seconds (default 3). When the stream ends the item is acked; a stream that cannot
  be opened is terminated (not redelivered forever); a worker shutting down naks its items so
  others take them at once.
* `safestream.live.events.<token>`: stream context events (JSON, see `risk.StreamEvent`) in
  the stream `SAFESTREAM_LIVE_EVENTS` (kept a day). `<token>` is the first 24 hex digits of the
  SHA-256 of the stream id, since ids may contain characters subjects cannot. The worker that
  takes a stream replays its events from the start, so a takeover keeps the stream's risk.
* `safestream.evidence.preserve` (core NATS request): `{"stream_id": ..., "requested_by": ...,
  "reason": ...}`. The worker watching that stream keeps its evidence buffer plus the next
  seconds and replies `{"accepted": true, "worker": ...}`; other workers stay silent, so a
  request that times out means no worker is watching the stream. This is how the API process
  (panic-button reports) asks a live worker to keep evidence.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig, DeliverPolicy, RetentionPolicy, StreamConfig
from nats.js.errors import NotFoundError

from safestream.core.config import DEFAULT_NATS_URL
from safestream.core.errors import InvalidInput, SafeStreamError
from safestream.live.bus import (
    BUS_ERRORS,
    BusHealth,
    connect_until_stopped,
    drop_late_deliveries,
    resume_point,
    sleep_or_stop,
)
from safestream.live.monitor import StreamMonitor, StreamSpec, StreamStats
from safestream.live.risk import StreamEvent
from safestream.live.sampling import SamplingMode, SamplingPolicy
from safestream.live.sources import SourceOptions
from safestream.media.frames import prepare_frame_hashing

log = logging.getLogger(__name__)


class DistributionError(SafeStreamError):
    """NATS is unreachable or refused a request."""


def nats_url(explicit: str | None = None) -> str:
    """The NATS server URL: the one given (from options or settings), else the local default."""
    return explicit or DEFAULT_NATS_URL


@dataclass(frozen=True)
class LiveSubjects:
    """Names of the subjects, JetStream streams and consumer under one prefix."""

    prefix: str = "safestream"

    def __post_init__(self) -> None:
        if not self.prefix.replace("_", "").replace("-", "").isalnum():
            raise InvalidInput(f"subject prefix must be letters, digits, '-' or '_': {self.prefix}")

    @property
    def work(self) -> str:
        """Subject of work items."""
        return f"{self.prefix}.live.streams"

    @property
    def work_stream(self) -> str:
        """JetStream stream holding work items."""
        return f"{self.prefix.upper().replace('-', '_')}_LIVE"

    @property
    def consumer(self) -> str:
        """The one durable consumer all workers share."""
        return "live-workers"

    @property
    def events_stream(self) -> str:
        """JetStream stream holding context events."""
        return f"{self.prefix.upper().replace('-', '_')}_LIVE_EVENTS"

    def events(self, stream_id: str | None = None) -> str:
        """Subject of one stream's events (or the wildcard of all streams)."""
        if stream_id is None:
            return f"{self.prefix}.live.events.*"
        return f"{self.prefix}.live.events.{stream_token(stream_id)}"

    @property
    def preserve(self) -> str:
        """Subject of evidence-preservation requests."""
        return f"{self.prefix}.evidence.preserve"


def stream_token(stream_id: str) -> str:
    """A subject-safe token for a stream id."""
    return hashlib.sha256(stream_id.encode()).hexdigest()[:24]


@dataclass(frozen=True)
class WorkItem:
    """A stream to watch, as queued."""

    stream_id: str
    url: str
    baseline: str = "full"
    realtime: bool = False

    def to_bytes(self) -> bytes:
        """The JSON payload."""
        return json.dumps(self.__dict__, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> WorkItem:
        """Parse a payload; raise `InvalidInput` when malformed."""
        try:
            obj = json.loads(data)
            item = cls(
                str(obj["stream_id"]), str(obj["url"]), str(obj.get("baseline", "full")),
                bool(obj.get("realtime", False)),
            )  # fmt: skip
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidInput(f"bad work item: {exc}") from exc
        if item.baseline not in {m.value for m in SamplingMode}:
            raise InvalidInput(f"bad work item baseline {item.baseline!r}")
        return item

    def spec(self, source: SourceOptions, start_at: float = 0.0) -> StreamSpec:
        """The monitor's spec for this item (a paced file starting `start_at` seconds in)."""
        options = SourceOptions(
            open_timeout=source.open_timeout,
            read_timeout=source.read_timeout,
            analyze_seconds=source.analyze_seconds,
            realtime=self.realtime,
            reconnect=source.reconnect,
            start_at=start_at,
        )
        # "full" means the worker's own sampling (its --fps); "keyframes" the cheap baseline.
        baseline = SamplingPolicy(SamplingMode.KEYFRAMES) if self.baseline == "keyframes" else None
        return StreamSpec(self.stream_id, self.url, options, baseline)


async def _connect(url: str) -> Client:
    try:
        return await nats.connect(
            url, connect_timeout=3, max_reconnect_attempts=3, allow_reconnect=True
        )
    except Exception as exc:
        raise DistributionError(f"cannot reach NATS at {url}: {exc}") from exc


async def ensure_streams(nc: Client, subjects: LiveSubjects, ack_wait: float) -> None:
    """Create the JetStream streams and the shared consumer if they do not exist."""
    js = nc.jetstream()
    await js.add_stream(
        StreamConfig(
            name=subjects.work_stream,
            subjects=[subjects.work],
            retention=RetentionPolicy.WORK_QUEUE,
            duplicate_window=60.0,
        )
    )
    await js.add_stream(
        StreamConfig(
            name=subjects.events_stream,
            subjects=[subjects.events()],
            max_age=86_400.0,
        )
    )
    try:
        await js.consumer_info(subjects.work_stream, subjects.consumer)
    except NotFoundError:
        await js.add_consumer(
            subjects.work_stream,
            ConsumerConfig(
                durable_name=subjects.consumer,
                ack_wait=ack_wait,
                max_deliver=-1,
                filter_subject=subjects.work,
            ),
        )


async def queue_stream_async(
    item: WorkItem, url: str | None = None, subjects: LiveSubjects | None = None
) -> int:
    """Queue one stream to watch; returns the JetStream sequence number.

    The stream id is the message id, so queueing the same stream twice within a minute is
    one work item."""
    subjects = subjects or LiveSubjects()
    nc = await _connect(nats_url(url))
    try:
        await ensure_streams(nc, subjects, DEFAULT_ACK_WAIT)
        ack = await nc.jetstream().publish(
            subjects.work, item.to_bytes(), headers={"Nats-Msg-Id": item.stream_id}
        )
        return int(ack.seq)
    finally:
        await nc.close()


async def publish_event_async(
    event: StreamEvent, url: str | None = None, subjects: LiveSubjects | None = None
) -> int:
    """Record a stream context event for whichever worker watches (or will watch) the stream."""
    subjects = subjects or LiveSubjects()
    nc = await _connect(nats_url(url))
    try:
        await ensure_streams(nc, subjects, DEFAULT_ACK_WAIT)
        payload = json.dumps(event.to_json()).encode()
        ack = await nc.jetstream().publish(subjects.events(event.stream_id), payload)
        return int(ack.seq)
    finally:
        await nc.close()


async def request_preservation_async(
    stream_id: str,
    requested_by: str,
    reason: str = "panic_report",
    url: str | None = None,
    subjects: LiveSubjects | None = None,
    timeout: float = 2.0,
) -> dict[str, Any] | None:
    """Ask the worker watching `stream_id` to keep its evidence; None if no worker answers."""
    subjects = subjects or LiveSubjects()
    nc = await _connect(nats_url(url))
    payload = {"stream_id": stream_id, "requested_by": requested_by, "reason": reason}
    try:
        reply = await nc.request(subjects.preserve, json.dumps(payload).encode(), timeout=timeout)
        answer: dict[str, Any] = json.loads(reply.data)
        return answer
    except (TimeoutError, nats.errors.NoRespondersError):
        return None
    finally:
        await nc.close()


def preserve_stream_evidence_answer(
    stream_id: str, requested_by: str, reason: str = "panic_report", url: str | None = None
) -> dict[str, Any] | None:
    """Blocking form: the answer of the worker watching the stream, None if none answers."""
    return asyncio.run(request_preservation_async(stream_id, requested_by, reason, url))


def preserve_stream_evidence(
    stream_id: str, requested_by: str, reason: str = "panic_report", url: str | None = None
) -> bool:
    """Blocking form for the API process: True if a live worker accepted the request."""
    answer = preserve_stream_evidence_answer(stream_id, requested_by, reason, url)
    return bool(answer and answer.get("accepted"))


DEFAULT_ACK_WAIT = 3.0


@dataclass
class _Held:
    item: WorkItem
    msg: Msg
    events_sub: Any = None


@dataclass
class LiveWorker:
    """Pulls stream work items, watches them with a `StreamMonitor`, heartbeats, hands back."""

    monitor: StreamMonitor
    url: str = field(default_factory=nats_url)
    subjects: LiveSubjects = field(default_factory=LiveSubjects)
    max_streams: int = 30
    ack_wait: float = DEFAULT_ACK_WAIT
    source: SourceOptions = field(default_factory=SourceOptions)
    name: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    on_lifecycle: Callable[[dict[str, Any]], None] | None = None
    _held: dict[str, _Held] = field(default_factory=dict)
    _ended: asyncio.Queue[tuple[str, str]] | None = None
    bus: BusHealth = field(default_factory=BusHealth)

    def health(self) -> dict[str, Any]:
        """What the worker's health endpoint answers: bus state and the streams it holds."""
        return {
            "worker": self.name,
            "bus": self.bus.to_json(),
            "streams": {
                stream_id: {"state": stats.state, "samples": stats.samples, "t": stats.last_t}
                for stream_id, stats in self.monitor.streams().items()
                if stream_id in self._held
            },
            "max_streams": self.max_streams,
        }

    async def run(self, stop: asyncio.Event) -> None:
        """Work until `stop` is set; then stop the streams and hand their items back."""
        loop = asyncio.get_running_loop()
        ended: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self._ended = ended

        def stream_end(stream_id: str, stats: StreamStats) -> None:
            loop.call_soon_threadsafe(ended.put_nowait, (stream_id, stats.state))

        self.monitor.on_stream_end = stream_end
        # Before any stream is held: a first-frame compile would starve this loop's heartbeats
        # and let JetStream hand the stream to a second worker while this one still watches it.
        await asyncio.to_thread(prepare_frame_hashing)
        self.bus.emit = self._emit
        nc = await connect_until_stopped(self.url, self.bus, stop)
        if nc is None:
            return
        self.bus.state = "connected"
        try:
            await nc.subscribe(self.subjects.preserve, cb=self._on_preserve)
            heartbeat = asyncio.create_task(self._heartbeat(stop))
            self._emit({"event": "worker_started"})
            await self._work(nc, ended, stop)
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            await self._hand_back(ended)
        finally:
            await nc.close()

    async def _work(
        self, nc: Client, ended: asyncio.Queue[tuple[str, str]], stop: asyncio.Event
    ) -> None:
        """Take items until stopped. A bus outage only pauses taking: held streams are still
        watched (alerts go to the sinks, not the bus); after a reconnect the JetStream streams
        and consumer are checked again (a restarted server may have lost them)."""
        js = nc.jetstream()
        pull: Any = None
        fetched_at = time.monotonic()
        while not stop.is_set():
            await self._reap(ended)
            try:
                if pull is None or self.bus.resync:
                    pull = await self._subscribe_work(nc, pull)
                free = self.max_streams - len(self._held)
                if free <= 0:
                    await sleep_or_stop(stop, 0.5)
                    continue
                if dropped := drop_late_deliveries(
                    pull, time.monotonic() - fetched_at, self.ack_wait
                ):
                    self._emit({"event": "late_deliveries_dropped", "count": dropped})
                try:
                    msgs = await pull.fetch(min(free, 8), timeout=1.0)
                except TimeoutError:  # nats-py raises both its own and asyncio's
                    continue
                finally:
                    fetched_at = time.monotonic()
                for msg in msgs:
                    await self._take(js, msg)
            except BUS_ERRORS as exc:
                self.bus.note_failure(f"{type(exc).__name__}: {exc}")
                if nc.is_closed:
                    raise DistributionError(f"NATS connection closed: {exc}") from exc
                await sleep_or_stop(stop, 0.5)

    async def _subscribe_work(self, nc: Client, old: Any) -> Any:
        # After a reconnect the server may have restarted without its JetStream state.
        await ensure_streams(nc, self.subjects, self.ack_wait)
        if old is not None:
            with contextlib.suppress(*BUS_ERRORS):
                await old.unsubscribe()
        pull = await nc.jetstream().pull_subscribe(
            self.subjects.work, durable=self.subjects.consumer, stream=self.subjects.work_stream
        )
        self.bus.resync = False
        return pull

    async def _take(self, js: Any, msg: Msg) -> None:
        try:
            item = WorkItem.from_bytes(msg.data)
        except InvalidInput as exc:
            log.warning("dropping %s", exc)
            await msg.term()
            return
        held = self._held.get(item.stream_id)
        if held is not None:
            # Redelivered to us while we still watch it (a missed heartbeat): keep one item.
            held.msg = msg
            await msg.in_progress()
            return
        delivered = msg.metadata.num_delivered if msg.metadata else 1
        resume = resume_point(item.realtime, msg, delivered)
        try:
            self.monitor.add(item.spec(self.source, start_at=resume))
        except (InvalidInput, ValueError) as exc:
            log.warning("cannot watch %s: %s", item.stream_id, exc)
            await msg.term()
            return
        held = _Held(item, msg)
        self._held[item.stream_id] = held

        async def on_event(event_msg: Msg) -> None:
            try:
                event = StreamEvent.from_json(json.loads(event_msg.data))
            except (InvalidInput, ValueError) as exc:
                log.warning("bad stream event: %s", exc)
                return
            if event.stream_id == item.stream_id:
                self.monitor.apply_event(event)

        held.events_sub = await js.subscribe(
            self.subjects.events(item.stream_id),
            cb=on_event,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.ALL,
        )
        self._emit({"event": "stream_taken", "stream": item.stream_id, "delivery": delivered})
        if resume:
            self._emit(
                {"event": "stream_resumed", "stream": item.stream_id, "at": round(resume, 2)}
            )

    async def _reap(self, ended: asyncio.Queue[tuple[str, str]]) -> None:
        while not ended.empty():
            stream_id, state = ended.get_nowait()
            held = self._held.pop(stream_id, None)
            if held is None:
                continue
            if held.events_sub is not None:
                with contextlib.suppress(Exception):
                    await held.events_sub.unsubscribe()
            try:
                if state == "failed":
                    await held.msg.term()
                elif state == "stopped":
                    await held.msg.nak()
                else:
                    await held.msg.ack()
            except BUS_ERRORS as exc:
                # The bus is away: JetStream redelivers the item after ack_wait, and the taker
                # finds the stream ended (or watches what is left of it).
                self.bus.note_failure(f"cannot settle {stream_id}: {exc}")
            self._emit({"event": "stream_released", "stream": stream_id, "state": state})

    async def _heartbeat(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            for held in list(self._held.values()):
                with contextlib.suppress(Exception):
                    await held.msg.in_progress()
            await sleep_or_stop(stop, self.ack_wait / 3)

    async def _hand_back(self, ended: asyncio.Queue[tuple[str, str]]) -> None:
        self.monitor.stop_all()
        for _ in range(50):
            await self._reap(ended)
            if not self._held:
                break
            await asyncio.sleep(0.1)
        for held in self._held.values():
            with contextlib.suppress(Exception):
                await held.msg.nak()

    async def _on_preserve(self, msg: Msg) -> None:
        try:
            request = json.loads(msg.data)
            stream_id = str(request["stream_id"])
            requested_by = str(request.get("requested_by") or "unknown")
            reason = str(request.get("reason") or "panic_report")
        except (ValueError, KeyError, TypeError):
            log.warning("bad evidence request %r", msg.data[:200])
            return
        if stream_id not in self._held:
            return  # another worker watches it, or none does: stay silent
        accepted = self.monitor.preserve_stream_evidence(stream_id, requested_by, reason)
        self._emit({"event": "evidence_requested", "stream": stream_id, "by": requested_by})
        if msg.reply:
            answer = {"accepted": accepted, "worker": self.name, "stream_id": stream_id}
            await msg.respond(json.dumps(answer).encode())

    def _emit(self, record: dict[str, Any]) -> None:
        if self.on_lifecycle is not None:
            self.on_lifecycle({"worker": self.name, **record})
