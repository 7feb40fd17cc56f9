"""Events: what the parts detected, as typed records; the contract between producers and cases.

Producers build events and hand them, with the report they stand on, to an `EventSink`:

    intake (every stored report)       ReportReceived
    media matcher (`match --report`)   MatchFound, RegionMatchFound (second stage)
    live monitor alerts                StreamFlagged, MatchFound or RegionMatchFound
    panic button                       PanicPressed
    finance scoring (`--to-store`)     PaymentPatternFound

The store writes each event with its report in one transaction (the reports table is the durable
queue the case engine works through), and the case engine reads only these events: never report
bodies, never detector names. Every field is required and keyword-only, and checked against its
type at construction (`Record`), so a missing or misplaced field fails where the event is built.
An event's class name and `VERSION` are its storage key: never rename a class; change a field by
adding a class or raising its version, and teach `decode_event` the old version.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol

from safestream.core.banks import Classification
from safestream.core.entities import Entity
from safestream.core.errors import InvalidInput
from safestream.core.records import JsonValue, Record, decode, encode
from safestream.core.reports import Report, ReportIn, ReportSource
from safestream.core.signals import SignalType


@dataclass(frozen=True, kw_only=True, slots=True)
class CountryHint(Record):
    """A country a report points at, and how it is known (with whose claim it is)."""

    country: str
    how: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ReportReceived(Record):
    """Intake stored a report: the identifiers it names and the facts triage and routing read.

    The report's fact columns are written from this event in its transaction (and only from it:
    `store.reports.fact_columns`), so cases aggregate the event's facts in SQL."""

    VERSION: ClassVar[int] = 2

    at: datetime
    source: ReportSource
    entities: tuple[Entity, ...]
    live_now: bool
    child_in_danger: bool
    private_stream: bool
    viewer_count: int
    payment_count: int
    platform_country: str | None
    countries: tuple[CountryHint, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class MatchFound(Record):
    """Media in a report or a stream matched a bank entry."""

    VERSION: ClassVar[int] = 2

    at: datetime
    bank: str
    entry_id: int
    signal_type: SignalType
    entry_hash: str
    distance: int
    label: Classification
    verified: bool
    stream_id: str | None
    t: float | None  # seconds into the matched video or stream; None for an image (version 2)

    def __post_init__(self) -> None:
        Record.__post_init__(self)
        if self.distance < 0:
            raise ValueError(f"MatchFound.distance must be >= 0, not {self.distance}")


@dataclass(frozen=True, kw_only=True, slots=True)
class RegionMatchFound(Record):
    """The second matching stage found a bank image or a banked room inside a file or a frame:
    a large, geometrically consistent part of it (local features), not a whole-image hash.

    `region` is where it is (x, y, width, height) in a frame of `frame_size` (width, height),
    `coverage` the share of the bank image the frame shows, `inliers` the keypoints the
    geometric check kept, `t` the time in a video or stream. `media_sha256` names the file it
    was found in, when there is one, so the case page can draw the region over that evidence's
    blurred preview."""

    VERSION: ClassVar[int] = 1

    at: datetime
    bank: str
    entry_id: int
    bank_kind: str
    label: Classification
    verified: bool
    stream_id: str | None
    stage: str
    region: tuple[int, int, int, int]
    frame_size: tuple[int, int]
    coverage: float
    inliers: int
    media_sha256: str | None
    t: float | None  # seconds into the matched video or stream; None for an image

    def __post_init__(self) -> None:
        Record.__post_init__(self)
        width, height = self.frame_size
        x, y, w, h = self.region
        if width <= 0 or height <= 0:
            raise ValueError(f"RegionMatchFound.frame_size must be positive, not {self.frame_size}")
        if x < 0 or y < 0 or w < 0 or h < 0 or x + w > width or y + h > height:
            raise ValueError(
                f"RegionMatchFound.region {self.region} is not inside the frame {self.frame_size}"
            )
        if not 0.0 <= self.coverage <= 1.0:
            raise ValueError(f"RegionMatchFound.coverage must be 0..1, not {self.coverage}")


@dataclass(frozen=True, kw_only=True, slots=True)
class StreamFlagged(Record):
    """The live monitor flagged a stream that is (or was) live."""

    VERSION: ClassVar[int] = 1

    at: datetime
    stream_id: str
    reason: str
    live_now: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class PanicPressed(Record):
    """A viewer pressed the panic button in a call or stream."""

    VERSION: ClassVar[int] = 1

    at: datetime
    stream_id: str | None
    child_in_danger: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class PaymentPatternFound(Record):
    """Finance scoring flagged a payment account: its score against the flag threshold of the
    scoring rules that produced it, and the flagged accounts it paid or was paid by."""

    VERSION: ClassVar[int] = 1

    at: datetime
    payment_account: str
    role: str
    score: float
    flag_threshold: float
    reasons: str
    counterparties: tuple[str, ...]

    def __post_init__(self) -> None:
        Record.__post_init__(self)
        if not (math.isfinite(self.score) and math.isfinite(self.flag_threshold)):
            raise ValueError("PaymentPatternFound: score and flag_threshold must be finite")
        if self.flag_threshold <= 0:
            raise ValueError("PaymentPatternFound.flag_threshold must be above 0")

    @property
    def strength(self) -> float:
        """The score in units of the flag threshold: 1.0 is just flagged, 2.0 twice as strong."""
        return self.score / self.flag_threshold


Event = (
    ReportReceived
    | MatchFound
    | RegionMatchFound
    | StreamFlagged
    | PanicPressed
    | PaymentPatternFound
)
EVENT_TYPES: dict[str, type[Event]] = {
    cls.__name__: cls
    for cls in (
        ReportReceived,
        MatchFound,
        RegionMatchFound,
        StreamFlagged,
        PanicPressed,
        PaymentPatternFound,
    )
}


class EventSink(Protocol):
    """Where a producer hands what it detected: the events are stored with the report they stand
    on, in the report's transaction, and the stored report is returned."""

    def emit(self, report: ReportIn, events: Sequence[Event]) -> Report:
        """Store the report and its events together; return the stored report."""
        ...


def received(report: ReportIn, at: datetime, claimed_by: str | None = None) -> ReportReceived:
    """The event intake emits for every report it stores.

    Countries a client names (location hints, its stream's viewers) are its word: with
    `claimed_by`, each says whose claim it is, and routing reasons built from them show it
    ("location hint claimed by Acme Video"), so no organisation's hint reads as SafeStream's
    finding."""
    stream = report.live_stream
    claim = f" claimed by {claimed_by}" if claimed_by is not None else ""
    return ReportReceived(
        at=at,
        source=report.source,
        entities=tuple(report.entities()),
        live_now=report.live_now,
        child_in_danger=report.child_in_danger,
        private_stream=bool(stream and stream.private),
        viewer_count=len(stream.viewers) if stream else 0,
        payment_count=len(stream.payments) if stream else 0,
        platform_country=report.platform.country if report.platform else None,
        countries=tuple(
            CountryHint(country=country, how=how + claim) for country, how in report.country_hints()
        ),
    )


def _label(text: str) -> Classification:
    try:
        return Classification(text)
    except ValueError:
        return Classification.UNCLASSIFIED


def submitted(report: ReportIn, at: datetime, claimed_by: str | None = None) -> list[Event]:
    """The events a report from outside stands for, as its submitter claims them: it was
    received, a panic button was pressed (a platform's own widget), and the bank matches it
    lists. SafeStream's own producers build their events instead."""
    stream = report.live_stream.stream_id if report.live_stream else None
    found: list[Event] = [received(report, at, claimed_by)]
    if report.source is ReportSource.PANIC_BUTTON:
        found.append(PanicPressed(at=at, stream_id=stream, child_in_danger=report.child_in_danger))
    found += [
        MatchFound(
            at=at,
            bank=m.bank,
            entry_id=m.entry_id,
            signal_type=m.signal_type,
            entry_hash=m.value,
            distance=m.distance,
            label=_label(m.label),
            verified=m.verified,
            stream_id=stream,
            t=m.t,
        )
        for m in report.matches
    ]
    return found


def encode_event(event: Event) -> tuple[str, int, dict[str, JsonValue]]:
    """(kind, version, payload) as the store keeps an event."""
    return type(event).__name__, type(event).VERSION, encode(event)


# Older versions still in stores, each brought to its class's current version.
UPGRADES: dict[tuple[str, int], Callable[[dict[str, Any]], dict[str, Any]]] = {
    # Version 1 had no time in the video: it is not known.
    ("MatchFound", 1): lambda payload: {**payload, "t": None},
    # Version 1 carried no stream or place facts: its report's columns (filled then from the
    # report itself) still hold them, and the event stands for none.
    ("ReportReceived", 1): lambda payload: {
        **payload,
        "private_stream": False,
        "viewer_count": 0,
        "payment_count": 0,
        "platform_country": None,
        "countries": [],
    },
}


def decode_event(kind: str, version: int, payload: dict[str, Any]) -> Event:
    """The event a stored (kind, version, payload) stands for; `InvalidInput` if it is unknown."""
    cls = EVENT_TYPES.get(kind)
    if cls is None:
        raise InvalidInput(f"unknown event kind {kind!r}")
    upgrade = UPGRADES.get((kind, version))
    if upgrade is not None and version < cls.VERSION:
        payload, version = upgrade(payload), cls.VERSION
    if version != cls.VERSION:
        raise InvalidInput(f"{kind} version {version} is not known (this is {cls.VERSION})")
    try:
        return decode(cls, payload)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"stored {kind} does not fit its class: {exc}") from exc
