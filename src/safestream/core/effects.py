"""Effects: what rules ask for, as data; sinks apply them in one transaction.

Every effect names the rule that produced it, so the console can show why a case looks as it does.
"""

from __future__ import annotations

from dataclasses import dataclass

from safestream.core.cases import Authority, FiredRule, Priority
from safestream.core.entities import Entity


@dataclass(frozen=True)
class Effect:
    """Base of every effect: the rule that produced it."""

    rule: str


@dataclass(frozen=True)
class OpenOrJoinCase(Effect):
    """Put a report into the open case holding any of its entities, or open one."""

    report_id: str = ""
    entities: tuple[Entity, ...] = ()


@dataclass(frozen=True)
class SetPriority(Effect):
    """Set a case's priority and score, with the triage rules that fired."""

    case_id: int = 0
    priority: Priority = Priority.NORMAL
    score: int = 0
    fired: tuple[FiredRule, ...] = ()
    queue: str = "review"


@dataclass(frozen=True)
class Route(Effect):
    """Send a case to the authorities that take it."""

    case_id: int = 0
    authorities: tuple[Authority, ...] = ()


@dataclass(frozen=True)
class PreserveEvidence(Effect):
    """Keep evidence: a stream's buffered segments, or a report's media, for the legal period."""

    case_id: int = 0
    report_id: str = ""
    stream_id: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class Notify(Effect):
    """Tell someone after commit (a reviewer group, a webhook); kept in an outbox until sent."""

    case_id: int = 0
    channel: str = ""
    message: str = ""
