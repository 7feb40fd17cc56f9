"""Events: typed facts producers emit; the case engine turns them into effects.

Producers (intake, the media matcher, the live monitor, finance scoring) emit events and never
decide priority or open cases themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from safestream.core.banks import Match
from safestream.core.entities import Entity


@dataclass(frozen=True)
class Event:
    """Base of every event: when it happened and the identifiers it concerns."""

    at: datetime
    entities: tuple[Entity, ...] = ()

    @property
    def name(self) -> str:
        """Stable event name, e.g. `ReportReceived`."""
        return type(self).__name__


@dataclass(frozen=True)
class ReportReceived(Event):
    """A report was durably stored by intake."""

    report_id: str = ""
    live_now: bool = False
    child_in_danger: bool = False


@dataclass(frozen=True)
class MatchFound(Event):
    """Media in a report or stream matched a bank entry."""

    report_id: str = ""
    match: Match | None = None
    verified: bool = True
    stream_id: str | None = None


@dataclass(frozen=True)
class StreamFlagged(Event):
    """The live monitor flagged a stream that is (or was) live."""

    stream_id: str = ""
    reason: str = ""
    live_now: bool = True
    report_id: str = ""


@dataclass(frozen=True)
class PanicPressed(Event):
    """A viewer pressed the panic button in a call or stream."""

    report_id: str = ""
    stream_id: str | None = None
    child_in_danger: bool = False


@dataclass(frozen=True)
class PaymentPatternFound(Event):
    """Finance scoring found a suspicious payment pattern for a payment account."""

    payment_account: str = ""
    pattern: str = ""
    score: float = 0.0
    accounts: tuple[str, ...] = field(default_factory=tuple)
    report_id: str = ""
