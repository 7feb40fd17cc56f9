"""Effects: what rules ask for, as typed records; one sink per effect type applies them.

Every effect names the rule that produced it, so the console can show why a case looks as it
does. Effects about a report (`OpenOrJoinCase`, `AttachMatch`, `PreserveEvidence`,
`KeepLiveBuffer`) name the report; the sinks find its case, which linking decides in the same
transaction. Effects that reach outside the store (`Notify`, `KeepLiveBuffer`) are written to the
outbox with the change that caused them and sent only after it commits.
"""

from __future__ import annotations

from dataclasses import dataclass

from safestream.core.banks import Classification
from safestream.core.cases import Authority, FiredRule, Priority
from safestream.core.entities import Entity
from safestream.core.records import Record
from safestream.core.signals import SignalType


@dataclass(frozen=True, kw_only=True, slots=True)
class OpenOrJoinCase(Record):
    """Put a report into the open case holding any of its identifiers, or open one."""

    rule: str
    report_id: str
    entities: tuple[Entity, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class AttachMatch(Record):
    """Keep a bank match on the case of the report it was found for."""

    rule: str
    report_id: str
    bank: str
    entry_id: int
    signal_type: SignalType
    entry_hash: str
    distance: int
    label: Classification
    verified: bool
    t: float | None  # seconds into the matched video; None for an image


@dataclass(frozen=True, kw_only=True, slots=True)
class SetPriority(Record):
    """Set a case's priority, score and queue, with the triage rules that fired."""

    rule: str
    case_id: int
    priority: Priority
    score: int
    fired: tuple[FiredRule, ...]
    queue: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Route(Record):
    """Send a case to the authorities that take it."""

    rule: str
    case_id: int
    authorities: tuple[Authority, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class PreserveEvidence(Record):
    """Record an evidence hold on a stream for the case of a report, for the legal period."""

    rule: str
    report_id: str
    stream_id: str
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class KeepLiveBuffer(Record):
    """Ask the live worker watching a stream to keep its buffered segments (after commit)."""

    rule: str
    report_id: str
    stream_id: str
    requested_by: str
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Notify(Record):
    """Tell a channel (reviewers on call, a webhook) about a case, after commit."""

    rule: str
    case_id: int
    channel: str
    message: str


Effect = (
    OpenOrJoinCase | AttachMatch | SetPriority | Route | PreserveEvidence | KeepLiveBuffer | Notify
)
