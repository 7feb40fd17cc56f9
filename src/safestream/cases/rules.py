"""Case rules: pure functions of an event or a case view that return effects naming themselves.

Rules touch no store or network, so their tests are plain data in and effects out.
"""

from __future__ import annotations

from safestream.cases.routing import CountryHint, RoutingTable
from safestream.cases.triage import TriageRules
from safestream.cases.view import CaseView
from safestream.core.cases import Priority
from safestream.core.effects import (
    Effect,
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
    ReportReceived,
    StreamFlagged,
)


def link_shared_identifiers(event: Event) -> list[Effect]:
    """A received report joins the open case holding any identifier it names, or opens one."""
    if isinstance(event, ReportReceived):
        return [OpenOrJoinCase("link_shared_identifiers", event.report_id, event.entities)]
    return []


def triage(view: CaseView, rules: TriageRules) -> list[Effect]:
    """Set the case's priority from the triage rules that fire on its facts."""
    result = rules.evaluate(view.facts())
    return [
        SetPriority(
            "triage",
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
    return [Route("route_by_country", view.case_id, table.route(hints, view.platform_country))]


def preserve_evidence(event: Event, case_id: int) -> list[Effect]:
    """Keep a stream's buffered evidence on a panic press, a flag or a verified match."""
    why = ""
    if isinstance(event, PanicPressed):
        rule, stream, why = "preserve_on_panic", event.stream_id, "panic button pressed"
    elif isinstance(event, StreamFlagged):
        rule, stream, why = "preserve_on_flag", event.stream_id, f"stream flagged: {event.reason}"
    elif isinstance(event, MatchFound) and event.verified:
        rule, stream, why = "preserve_on_match", event.stream_id, "media matched a verified bank"
    else:
        return []
    if not stream:
        return []
    return [PreserveEvidence(rule, case_id, getattr(event, "report_id", ""), stream, why)]


def notify_on_urgent(view: CaseView, effects: list[Effect]) -> list[Effect]:
    """Alert the on-call reviewers when a case becomes urgent."""
    for e in effects:
        if (
            isinstance(e, SetPriority)
            and e.priority is Priority.URGENT
            and view.priority != Priority.URGENT
        ):
            reasons = "; ".join(f.reason for f in e.fired if f.priority is Priority.URGENT)
            return [Notify("notify_on_urgent", view.case_id, "reviewers.urgent", reasons)]
    return []
