"""Cases: linked reports about one subject, with priority, reasons, routing and decisions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum

from safestream.core.entities import Entity

# A case fact as triage rules test it (`store.case_facts` aggregates them, `cases.triage` reads).
FactValue = bool | int | float | str | list[str]


class Priority(IntEnum):
    """Review priority: 1 is a child in danger now (NCMEC levels 1-3; 4 is informational)."""

    URGENT = 1
    HIGH = 2
    NORMAL = 3
    LOW = 4


class CaseStatus(StrEnum):
    """Where a case is in its life."""

    OPEN = "open"
    CLOSED = "closed"
    MERGED = "merged"


class Decision(StrEnum):
    """What a reviewer decided about a case."""

    CONFIRM = "confirm"
    DISMISS = "dismiss"
    ESCALATE = "escalate"
    REFER = "refer"


@dataclass(frozen=True)
class FiredRule:
    """One triage rule that matched a case, with what it contributed and why."""

    rule: str
    points: int
    reason: str
    priority: Priority | None = None


@dataclass(frozen=True)
class Triage:
    """The outcome of the triage rules for one case."""

    priority: Priority
    score: int
    fired: tuple[FiredRule, ...] = ()
    queue: str = "review"


@dataclass(frozen=True)
class Authority:
    """A body that takes reports, and why the case goes to it."""

    code: str
    name: str
    reason: str
    contact: str = ""


@dataclass(frozen=True)
class Deconfliction:
    """A case already handled by another agency or organisation."""

    claimed_by: str
    reference: str = ""
    claimed_at: datetime | None = None


@dataclass(frozen=True)
class Case:
    """The linked whole: reports, entities, priority with reasons, routing, status."""

    id: int
    subject: Entity | None
    status: CaseStatus
    priority: Priority
    score: int
    queue: str
    created_at: datetime
    updated_at: datetime
    fired: tuple[FiredRule, ...] = ()
    routing: tuple[Authority, ...] = ()
    report_ids: tuple[str, ...] = ()
    entities: tuple[Entity, ...] = ()
    claimed_by_user: int | None = None
    deconfliction: Deconfliction | None = None
    decision: Decision | None = None
    merged_into: int | None = None


@dataclass(frozen=True)
class Note:
    """A reviewer's internal note on a case."""

    id: int
    case_id: int
    author: str
    body: str
    created_at: datetime


@dataclass(frozen=True)
class DecisionRecord:
    """A decision taken on a case, by whom, when and why."""

    id: int
    case_id: int
    decision: Decision
    author: str
    reason: str
    created_at: datetime
    agency: str = ""
    extra: dict[str, str] = field(default_factory=dict)
