"""Alerts from stream matches: merged per stream and entry, optionally confirmed k-of-n, sent out.

* Merge: the first match of an entry on a stream raises an alert; further matches of the same
  entry on that stream within `merge_gap` seconds of stream time join that ongoing alert
  (its `hits` and `last_t` grow) instead of raising new ones.
* Confirmation: a bank may require k matches of an entry among the last n sampled frames of
  the stream before it alerts (fewer false alarms, at the cost of (k-1) sampling periods).
* Sinks receive each new alert: JSON lines on stdout, a signed webhook, or the store.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TextIO

from safestream.core.banks import Match
from safestream.core.errors import InvalidInput

log = logging.getLogger(__name__)

DEFAULT_MERGE_GAP = 60.0


@dataclass(frozen=True)
class Alert:
    """A known item seen on a live stream."""

    alert_id: str
    stream: str
    t: float
    wall_time: str
    bank: str
    entry_id: int
    entry_hash: str
    distance: int
    label: str
    variant: str
    latency_ms: float
    frame_hash: str
    quality: int
    sample_reason: str = "clock"
    confirmed_by: str = "1/1"
    # "pdq" or "local" (second stage: where the bank image or room is in the frame, how much).
    stage: str = "pdq"
    region: tuple[int, int, int, int] | None = None
    coverage: float | None = None
    frame_size: tuple[int, int] | None = None  # (width, height) `region` is measured in
    inliers: int | None = None
    bank_kind: str | None = None  # "media" or "room"

    def to_json(self) -> dict[str, Any]:
        """The alert as a JSON-ready dict (the line `safestream watch` prints)."""
        return asdict(self)


@dataclass(frozen=True)
class Confirmation:
    """Require `k` matches of an entry within the last `n` samples of a stream."""

    k: int
    n: int

    def __post_init__(self) -> None:
        if not 1 <= self.k <= self.n <= 100:
            raise InvalidInput(f"confirmation needs 1 <= k <= n <= 100, got {self.k}-of-{self.n}")

    @classmethod
    def parse(cls, text: str) -> tuple[str, Confirmation]:
        """Parse `BANK=K/N` (as given on the command line)."""
        bank, sep, rule = text.partition("=")
        k, slash, n = rule.partition("/")
        if not sep or not slash or not bank:
            raise InvalidInput(f"confirmation must look like BANK=K/N, got {text!r}")
        try:
            return bank, cls(int(k), int(n))
        except ValueError as exc:
            raise InvalidInput(f"confirmation must look like BANK=K/N, got {text!r}") from exc


@dataclass(frozen=True)
class SampledMatches:
    """What one hashed frame found: the stream, its time, and when its packet arrived."""

    stream: str
    t: float
    arrival_monotonic: float
    frame_hash: str
    quality: int
    matches: Sequence[Match]
    reason: str = "clock"


class AlertSink(Protocol):
    """Receives each new alert; must not block the decode thread for long."""

    def send(self, alert: Alert) -> None:
        """Deliver one alert."""

    def close(self) -> None:
        """Flush and stop."""


class JsonLinesSink:
    """Writes each alert as one JSON line (stdout by default)."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out
        self._lock = threading.Lock()

    def send(self, alert: Alert) -> None:
        """Print the alert."""
        line = json.dumps(alert.to_json(), separators=(",", ":"))
        with self._lock:
            out = self.out or sys.stdout
            out.write(line + "\n")
            out.flush()

    def close(self) -> None:
        """Nothing to release."""


class CallbackSink:
    """Calls a function with each alert (tests, embedding)."""

    def __init__(self, callback: Callable[[Alert], None]) -> None:
        self.callback = callback

    def send(self, alert: Alert) -> None:
        """Call the callback."""
        self.callback(alert)

    def close(self) -> None:
        """Nothing to release."""


@dataclass
class _Ongoing:
    alert: Alert
    last_t: float
    hits: int = 1


@dataclass
class _StreamState:
    window: deque[frozenset[int]] = field(default_factory=lambda: deque(maxlen=100))
    ongoing: dict[int, _Ongoing] = field(default_factory=dict)


class AlertRouter:
    """Turns per-frame matches into merged, confirmed alerts and fans them out to sinks."""

    def __init__(
        self,
        sinks: Sequence[AlertSink],
        *,
        confirmations: dict[str, Confirmation] | None = None,
        merge_gap: float = DEFAULT_MERGE_GAP,
        clock: Callable[[], float] | None = None,
        observers: Sequence[Callable[[SampledMatches], None]] = (),
    ) -> None:
        self.sinks = list(sinks)
        # Told of every sampled frame, matched or not (the seen-hash recorder: `seen_frames`).
        self.observers = list(observers)
        self.confirmations = dict(confirmations or {})
        self.merge_gap = merge_gap
        self._clock = clock or time.monotonic
        self._streams: dict[str, _StreamState] = {}
        self._lock = threading.Lock()
        self.sent: int = 0
        self.merged: int = 0

    def observe(self, sample: SampledMatches) -> list[Alert]:
        """Record one sampled frame (with or without matches); return and send new alerts."""
        for observer in self.observers:
            observer(sample)
        new: list[Alert] = []
        with self._lock:
            state = self._streams.setdefault(sample.stream, _StreamState())
            state.window.append(frozenset(m.entry_id for m in sample.matches))
            for match in sample.matches:
                ongoing = state.ongoing.get(match.entry_id)
                if ongoing is not None and sample.t - ongoing.last_t <= self.merge_gap:
                    ongoing.last_t = max(ongoing.last_t, sample.t)
                    ongoing.hits += 1
                    self.merged += 1
                    continue
                confirmed = self._confirmed(state, match)
                if confirmed is None:
                    continue
                alert = self._alert(sample, match, confirmed)
                state.ongoing[match.entry_id] = _Ongoing(alert, sample.t)
                new.append(alert)
        for alert in new:
            self._send(alert)
        return new

    def ongoing(self, stream: str) -> list[tuple[Alert, int, float]]:
        """The stream's alerts with their hit counts and last stream times."""
        with self._lock:
            state = self._streams.get(stream)
            if state is None:
                return []
            return [(o.alert, o.hits, o.last_t) for o in state.ongoing.values()]

    def end_stream(self, stream: str) -> None:
        """Forget a stream's state."""
        with self._lock:
            self._streams.pop(stream, None)

    def close(self) -> None:
        """Close every sink."""
        for sink in self.sinks:
            sink.close()

    def _confirmed(self, state: _StreamState, match: Match) -> str | None:
        rule = self.confirmations.get(match.bank)
        if rule is None:
            return "1/1"
        recent = list(state.window)[-rule.n :]
        seen = sum(1 for ids in recent if match.entry_id in ids)
        return f"{seen}/{rule.n}" if seen >= rule.k else None

    def _alert(self, sample: SampledMatches, match: Match, confirmed: str) -> Alert:
        latency = max(0.0, (self._clock() - sample.arrival_monotonic) * 1000.0)
        return Alert(
            alert_id=uuid.uuid4().hex,
            stream=sample.stream,
            t=round(sample.t, 3),
            wall_time=datetime.now(UTC).isoformat(timespec="milliseconds"),
            bank=match.bank,
            entry_id=match.entry_id,
            entry_hash=match.entry_hash,
            distance=match.distance,
            label=str(match.label.value),
            variant=match.variant,
            latency_ms=round(latency, 1),
            frame_hash=sample.frame_hash,
            quality=sample.quality,
            sample_reason=sample.reason,
            confirmed_by=confirmed,
            stage=match.stage,
            region=match.region,
            coverage=match.coverage,
            frame_size=match.frame_size,
            inliers=_int_or_none(match.extra.get("inliers")),
            bank_kind=_str_or_none(match.extra.get("bank_kind")),
        )

    def _send(self, alert: Alert) -> None:
        for sink in self.sinks:
            try:
                sink.send(alert)
            except Exception:  # one broken sink must not silence the others or the stream
                log.exception("alert sink %r failed", sink)
        self.sent += 1


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) else None


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None
