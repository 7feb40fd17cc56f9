"""StreamWorker: the decode thread of one stream, with its own container and codec context.

The thread reads packets from its source (with timeouts and reconnects), keeps them in the
evidence ring, decodes what the sampling policy asks for (keyframes only, or all reference
frames with scene-change checks), hashes sampled frames (small grey image, dihedral and
border-trimmed variants), matches them through the monitor's shared stages and hands the
matches to the alert router. A `VideoFrame` never leaves its thread.

Other threads talk to a stream through its inbox (risk changes, evidence requests), which the
stream's own thread drains between packets.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import av

from safestream.live.alerts import Alert, SampledMatches
from safestream.live.bframes import BidirProbe
from safestream.live.evidence import Capture, EvidenceRecorder
from safestream.live.match_services import frame_grey_long_side
from safestream.live.risk import StreamEvent
from safestream.live.sampling import FrameSampler, SamplingMode, SamplingPolicy
from safestream.live.sources import Connection, LiveSource, SourceError, SourceOptions
from safestream.media.frames import hash_video_frame
from safestream.media.video import DEFAULT_VIDEO_LIMITS

if TYPE_CHECKING:
    from safestream.live.monitor import StreamMonitor

log = logging.getLogger(__name__)
# FFmpeg refuses frame buffers over this size, so a stream that switches to huge frames
# mid-way costs decode errors, not the worker's memory (the batch limit of media/video.py).
MAX_FRAME_PIXELS = str(DEFAULT_VIDEO_LIMITS.max_frame_pixels)


@dataclass(frozen=True)
class StreamSpec:
    """A stream to watch: its id, source URL, source options and (optional) baseline sampling."""

    stream_id: str
    url: str
    source: SourceOptions = field(default_factory=SourceOptions)
    baseline: SamplingPolicy | None = None


@dataclass
class StreamStats:
    """Counters of one stream, updated by its thread."""

    state: str = "starting"
    connections: int = 0
    packets: int = 0
    frames_decoded: int = 0
    samples: int = 0
    decode_errors: int = 0
    alerts: int = 0
    local_checked: int = 0  # sampled frames the second (local-feature) stage looked at
    evidence_files: int = 0
    last_t: float = 0.0
    first_packet_at: float | None = None  # monotonic arrival of the stream's first packet
    policy: str = ""
    skips_all_b_frames: bool = False  # B-frames proved unused as references (bframes.py)
    error: str | None = None
    # (wall seconds since start, lag seconds, sample latency seconds) of recent samples.
    sample_timing: deque[tuple[float, float, float]] = field(
        default_factory=lambda: deque(maxlen=100_000)
    )


@dataclass(frozen=True)
class PreserveRequest:
    """Another thread's request to keep the stream's buffer and what follows as evidence."""

    requested_by: str
    reason: str


class StreamWorker(threading.Thread):
    """Decodes, samples and matches one stream in its own thread."""

    def __init__(self, spec: StreamSpec, monitor: StreamMonitor) -> None:
        super().__init__(name=f"stream-{spec.stream_id}", daemon=True)
        self.spec = spec
        self.monitor = monitor
        self.stats = StreamStats()
        self.stop_event = threading.Event()
        self.inbox: queue.SimpleQueue[SamplingPolicy | PreserveRequest] = queue.SimpleQueue()
        if spec.baseline is not None:
            monitor.risk.set_baseline(spec.stream_id, spec.baseline)
        initial = monitor.risk.assess(spec.stream_id).policy
        self.sampler = FrameSampler(initial)
        self.stats.policy = initial.describe()
        self.recorder = (
            EvidenceRecorder(spec.stream_id, monitor.evidence_seconds)
            if monitor.evidence is not None
            else None
        )
        self._classified_at: dict[str, float] = {}
        self._began = time.monotonic()
        self._offset = 0.0
        # True while the decoder skips everything up to the next keyframe (see sampling.py).
        self._skipping = False
        self._ctx: Any = None
        # Full sampling skips NONREF frames, or BIDIR once a probe showed that is safe.
        self._full_skip = "NONREF"
        self._probe: BidirProbe | None = None
        self._probed = False

    def run(self) -> None:
        """Read connections until the source ends, fails for good, or the stream is stopped."""
        self.stats.state = "running"
        try:
            source = LiveSource(self.spec.url, self.spec.source)
            for conn in source.connections(self.stop_event):
                self.stats.connections += 1
                try:
                    self._read(conn)
                except SourceError as exc:
                    self.stats.error = str(exc)
                    log.warning("stream %s: %s", self.spec.stream_id, exc)
                finally:
                    self._finish_capture(conn)
                    conn.close()
            self.stats.state = "stopped" if self.stop_event.is_set() else "ended"
        except Exception as exc:  # a broken stream ends itself, never the process
            self.stats.state = "failed"
            self.stats.error = str(exc)
            log.warning("stream %s failed: %s", self.spec.stream_id, exc)
        finally:
            self.monitor._stream_done(self)

    # --- the decode loop ----------------------------------------------------------------------

    def _read(self, conn: Connection) -> None:
        stream = conn.stream
        stream.thread_type = "SLICE"  # frame threading would delay each frame by (n-1) frames
        ctx = stream.codec_context
        ctx.thread_count = 1
        # Deblocking is ~12% of H.264 decoding and changes a scaled-down frame's hash by a
        # bit or two at most; a hash does not need it.
        ctx.options = {**ctx.options, "skip_loop_filter": "all", "max_pixels": MAX_FRAME_PIXELS}
        self._ctx = ctx
        self._skipping = False
        self._full_skip = "NONREF"
        self._probe = None
        self._probed = False
        self.stats.skips_all_b_frames = False
        ctx.skip_frame = self._decoder_skip()
        self.sampler.restart()
        # Files keep their own clock; a live connection's clock starts at its first packet.
        first: float | None = None if conn.kind.live else 0.0
        start = time.monotonic()
        try:
            self._decode_packets(conn, ctx, start, first)
        finally:
            # A reconnect continues the stream clock where this connection stopped.
            self._offset = self.stats.last_t + 1e-3

    def _decode_packets(
        self, conn: Connection, ctx: Any, start: float, first: float | None
    ) -> None:
        stream = conn.stream
        # A float, not the stream's Fraction: Fraction arithmetic on every packet and frame
        # cost more than the rest of the per-packet bookkeeping.
        time_base = float(conn.time_base) if conn.time_base is not None else None
        for packet in conn.packets(self.stop_event):
            arrival = conn.arrival
            if self.stats.first_packet_at is None:
                self.stats.first_packet_at = arrival
            keyframe = packet.is_keyframe
            self._drain_inbox(ctx, keyframe)
            stamp = packet.dts if packet.dts is not None else packet.pts
            packet_t = stamp * time_base if stamp is not None and time_base else None
            if packet_t is not None and first is None:
                first = packet_t
            t_packet = self._offset + ((packet_t - (first or 0.0)) if packet_t is not None else 0.0)
            self.stats.packets += 1
            if keyframe:
                self._at_keyframe(ctx, packet, time_base, first, t_packet)
                if self._probe is None and not self._probed and self._full_mode():
                    self._probe = BidirProbe(stream, t_packet)
            if self._probe is not None:
                self._probe.feed(packet)
            if self.recorder is not None:
                done = self.recorder.push(packet, t_packet)
                if done is not None:
                    self._write_evidence(done, stream)
            try:
                frames = self._decode(ctx, packet)
            except (av.error.InvalidDataError, av.error.FFmpegError) as exc:
                self.stats.decode_errors += 1
                log.debug("stream %s: bad packet: %s", self.spec.stream_id, exc)
                continue
            for frame in frames:
                self._on_frame(
                    frame,
                    self._frame_time(frame, time_base, first, t_packet),
                    arrival,
                    start,
                    first,
                )
        try:
            for frame in ctx.decode(None):
                t = self._frame_time(frame, time_base, first, self.stats.last_t)
                self._on_frame(frame, t, time.monotonic(), start, first)
        except av.error.FFmpegError:
            self.stats.decode_errors += 1

    def _at_keyframe(
        self, ctx: Any, packet: Any, time_base: float | None, first: float | None, t: float
    ) -> None:
        if packet.pts is not None and time_base:
            t = self._offset + packet.pts * time_base - (first or 0.0)
        self.sampler.keyframes.observe(t)
        if self._skipping:
            self._skipping = False
            ctx.skip_frame = self._decoder_skip()

    def _risky(self) -> bool:
        return self.monitor.risk.assess(self.spec.stream_id).score >= self.monitor.local_from_score

    def _full_mode(self) -> bool:
        return self.sampler.policy.mode is SamplingMode.FULL

    def _decoder_skip(self) -> str:
        return self._full_skip if self._full_mode() else self.sampler.policy.skip_frame

    def _check_probe(self, frame: Any, t: float) -> None:
        probe = self._probe
        if probe is None:
            return
        probe.main_frame(frame)
        verdict = probe.verdict(t)
        if verdict is None:
            return
        self._probe = None
        self._probed = True
        if verdict:
            self._full_skip = "BIDIR"
            self.stats.skips_all_b_frames = True
            if not self._skipping:
                self._ctx.skip_frame = self._decoder_skip()

    def _decode(self, ctx: Any, packet: Any) -> list[Any]:
        if self.sampler.policy.mode is SamplingMode.KEYFRAMES:
            if not packet.is_keyframe:
                return []
            # Drain and reset at once, so the reorder delay never holds the keyframe back.
            frames = list(ctx.decode(packet)) + list(ctx.decode(None))
            ctx.flush_buffers()
            return frames
        return list(ctx.decode(packet))

    def _frame_time(
        self, frame: Any, time_base: float | None, first: float | None, fallback: float
    ) -> float:
        # frame.time is NaN on frames drained at the end, so use pts and the stream's time base.
        pts = frame.pts
        if pts is None or not time_base:
            return fallback
        return self._offset + float(pts) * time_base - (first or 0.0)

    def _on_frame(
        self, frame: Any, t: float, arrival: float, start: float, first: float | None
    ) -> None:
        self.stats.frames_decoded += 1
        self.stats.last_t = max(self.stats.last_t, t)
        if self._probe is not None:
            self._check_probe(frame, t)
        reason = self.sampler.offer(t, frame)
        if reason is None:
            return
        if reason == "clock" and not self._skipping and self.sampler.can_skip_to_keyframe():
            self._skipping = True
            self._ctx.skip_frame = "NONKEY"
        item = f"stream:{self.spec.stream_id}"  # what its frames count as (flood prevention)
        fh = hash_video_frame(frame, t=t, short_side=self.monitor.hash_short_side, item=item)
        matches = self.monitor.match(fh)
        if not matches and self.monitor.local_match is not None and self._risky():
            # A risky stream: look for cropped or framed known images and known rooms too.
            matches = self.monitor.local_match(frame_grey_long_side(frame), t)
            self.stats.local_checked += 1
        sample = SampledMatches(
            self.spec.stream_id, t, arrival, fh.hashes["original"], fh.quality, matches, reason
        )
        alerts = self.monitor.alerts.observe(sample)
        now = time.monotonic()
        self.stats.samples += 1
        # Lag: how far decoding runs behind the stream's own clock since this connection opened.
        lag = (arrival - start) - (t - self._offset) if first is not None else 0.0
        self.stats.sample_timing.append((now - self._began, lag, now - arrival))
        if alerts:
            self.stats.alerts += len(alerts)
            self._alerted(alerts)
        self._classify(frame, t)

    def _alerted(self, alerts: Sequence[Alert]) -> None:
        if self.recorder is None:
            return
        for alert in alerts:
            self.recorder.trigger(
                f"alert:{alert.alert_id}",
                "match",
                [
                    {
                        "alert_id": alert.alert_id,
                        "t": alert.t,
                        "bank": alert.bank,
                        "entry_id": alert.entry_id,
                        "entry_hash": alert.entry_hash,
                        "frame_hash": alert.frame_hash,
                        "distance": alert.distance,
                        "label": alert.label,
                    }
                ],
            )

    def _classify(self, frame: Any, t: float) -> None:
        for classifier in self.monitor.classifiers:
            last = self._classified_at.get(classifier.name)
            if last is not None and t - last < classifier.interval:
                continue
            self._classified_at[classifier.name] = t
            try:
                score = classifier.score(frame)
            except Exception:  # a broken model must not stop the stream
                log.exception("classifier %s failed", classifier.name)
                continue
            event = StreamEvent(
                "classifier_score", self.spec.stream_id, classifier=classifier.name, score=score
            )
            self.monitor.apply_event(event)

    def _drain_inbox(self, ctx: Any, at_keyframe: bool) -> None:
        while not self.inbox.empty():
            item = self.inbox.get_nowait()
            if isinstance(item, SamplingPolicy):
                self.sampler.request(item)
            elif self.recorder is not None:
                self.recorder.trigger(item.requested_by, item.reason)
        if self.sampler.pending is not None:
            if self.sampler.apply_pending(at_keyframe):
                self._skipping = False
                self._probe = None  # a new mode: probe again from the next keyframe
                ctx.skip_frame = self._decoder_skip()
                if self.sampler.policy.mode is SamplingMode.KEYFRAMES:
                    ctx.flush_buffers()
            self.stats.policy = self.sampler.policy.describe()

    def _finish_capture(self, conn: Connection) -> None:
        if self.recorder is None:
            return
        capture = self.recorder.flush()
        if capture is not None:
            self._write_evidence(capture, conn.stream)

    def _write_evidence(self, capture: Capture, stream: Any) -> None:
        store = self.monitor.evidence
        if store is None:
            return
        try:
            record = store.write(capture, stream)
        except Exception:
            log.exception("stream %s: writing evidence failed", self.spec.stream_id)
            return
        if record is not None:
            self.stats.evidence_files += 1
            self.monitor._evidence_written(record)
