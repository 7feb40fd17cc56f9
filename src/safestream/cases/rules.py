"""Case rules: pure functions that turn an event, or a case, into effects that name themselves.

Event rules are registered per event type and take the event and a read-only `ReportView` of the
report it stands on; case rules take a `CaseView` after linking. No rule touches the store or the
network, so their tests are plain data in and effects out. `default_rules()` is the set the case
engine runs; an organisation adds one with `EventRules.register`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from safestream.cases.routing import CountryHint, RoutingTable
from safestream.cases.triage import TriageRules
from safestream.cases.view import CaseView
from safestream.core.cases import Priority
from safestream.core.effects import (
    AttachMatch,
    Effect,
    KeepLiveBuffer,
    Notify,
    OpenOrJoinCase,
    PreserveEvidence,
    Route,
    SetPriority,
)
from safestream.core.events import (
    Event,
    MatchFound,
    PanicPressed,
    RegionMatchFound,
    ReportReceived,
    StreamFlagged,
)

E = TypeVar("E", bound=Event)


@dataclass(frozen=True, kw_only=True, slots=True)
class ReportView:
    """What an event rule may read about the report its event stands on."""

    report_id: str
    org_id: int


EventRule = Callable[[E, ReportView], list[Effect]]


class EventRules:
    """Event rules by event type, run in the order they were registered."""

    def __init__(self) -> None:
        self._by_type: dict[type[Any], list[Callable[[Any, ReportView], list[Effect]]]]
        self._by_type = defaultdict(list)

    def register(self, event_type: type[E], rule: EventRule[E]) -> None:
        """Run `rule` on every event of `event_type`."""
        self._by_type[event_type].append(rule)

    def names(self, event_type: type[Event]) -> list[str]:
        """The rules registered for an event type, by function name."""
        return [r.__name__ for r in self._by_type.get(event_type, [])]

    def effects(self, event: Event, view: ReportView) -> list[Effect]:
        """Every effect the rules registered for this event's type ask for."""
        return [e for rule in self._by_type.get(type(event), []) for e in rule(event, view)]


def link_shared_identifiers(event: ReportReceived, view: ReportView) -> list[Effect]:
    """A received report joins the open case holding any identifier it names, or opens one."""
    return [
        OpenOrJoinCase(
            rule="link_shared_identifiers", report_id=view.report_id, entities=event.entities
        )
    ]


def attach_match(event: MatchFound, view: ReportView) -> list[Effect]:
    """A bank match is kept on the report's case, so reviewers see it hash-first."""
    return [
        AttachMatch(
            rule="attach_match",
            report_id=view.report_id,
            bank=event.bank,
            entry_id=event.entry_id,
            signal_type=event.signal_type,
            entry_hash=event.entry_hash,
            distance=event.distance,
            label=event.label,
            verified=event.verified,
            t=event.t,
        )
    ]


def preserve_on_match(event: MatchFound, view: ReportView) -> list[Effect]:
    """Hold a stream's evidence when its media matched a verified bank."""
    if not event.verified or event.stream_id is None:
        return []
    return [
        PreserveEvidence(
            rule="preserve_on_match",
            report_id=view.report_id,
            stream_id=event.stream_id,
            reason="media matched a verified bank",
        )
    ]


def preserve_on_region_match(event: RegionMatchFound, view: ReportView) -> list[Effect]:
    """Hold a stream's evidence when the second stage found a verified bank image or banked room
    in it (the region match is kept as the event itself and shown on the case page)."""
    if not event.verified or event.stream_id is None:
        return []
    return [
        PreserveEvidence(
            rule="preserve_on_region_match",
            report_id=view.report_id,
            stream_id=event.stream_id,
            reason=f"a {event.bank_kind} of a verified bank was seen in the stream",
        )
    ]


def preserve_on_flag(event: StreamFlagged, view: ReportView) -> list[Effect]:
    """Hold a flagged stream's evidence."""
    return [
        PreserveEvidence(
            rule="preserve_on_flag",
            report_id=view.report_id,
            stream_id=event.stream_id,
            reason=f"stream flagged: {event.reason}",
        )
    ]


def preserve_on_panic(event: PanicPressed, view: ReportView) -> list[Effect]:
    """Hold the stream's evidence when a viewer pressed the panic button in it."""
    if event.stream_id is None:
        return []
    return [
        PreserveEvidence(
            rule="preserve_on_panic",
            report_id=view.report_id,
            stream_id=event.stream_id,
            reason="panic button pressed",
        )
    ]


def keep_buffer_on_panic(event: PanicPressed, view: ReportView) -> list[Effect]:
    """Ask the live worker watching the stream to keep the minutes it has buffered: what
    happened before the press is the evidence, and the buffer rolls over within minutes."""
    if event.stream_id is None:
        return []
    return [
        KeepLiveBuffer(
            rule="keep_buffer_on_panic",
            report_id=view.report_id,
            stream_id=event.stream_id,
            requested_by=f"panic_button:org:{view.org_id}",
            reason="panic_report",
        )
    ]


def default_rules() -> EventRules:
    """The event rules the case engine runs unless told otherwise."""
    found = EventRules()
    found.register(ReportReceived, link_shared_identifiers)
    found.register(MatchFound, attach_match)
    found.register(MatchFound, preserve_on_match)
    found.register(RegionMatchFound, preserve_on_region_match)
    found.register(StreamFlagged, preserve_on_flag)
    found.register(PanicPressed, preserve_on_panic)
    found.register(PanicPressed, keep_buffer_on_panic)
    return found


def triage(view: CaseView, rules: TriageRules) -> list[Effect]:
    """Set the case's priority from the triage rules that fire on its facts (among them the
    facts its events give: a panic press, the strongest payment pattern's score)."""
    result = rules.evaluate(view.facts())
    return [
        SetPriority(
            rule="triage",
            case_id=view.case_id,
            priority=result.priority,
            score=result.score,
            fired=result.fired,
            queue=result.queue,
        )
    ]


def route(view: CaseView, table: RoutingTable) -> list[Effect]:
    """Route the case from its location hints, viewers' countries and the platform's country."""
    hints = [CountryHint(country, why) for country, why in view.countries]
    authorities = tuple(table.route(hints, view.platform_country))
    return [Route(rule="route_by_country", case_id=view.case_id, authorities=authorities)]


def notify_on_urgent(view: CaseView, effects: Sequence[Effect]) -> list[Effect]:
    """Alert the on-call reviewers when a case becomes urgent."""
    for e in effects:
        if (
            isinstance(e, SetPriority)
            and e.priority is Priority.URGENT
            and view.priority != Priority.URGENT
        ):
            reasons = "; ".join(f.reason for f in e.fired if f.priority is Priority.URGENT)
            return [
                Notify(
                    rule="notify_on_urgent",
                    case_id=view.case_id,
                    channel="reviewers.urgent",
                    message=reasons,
                )
            ]
    return []
