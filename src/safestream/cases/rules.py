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
from safestream.core.reports import ReportIn


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


def country_hints(reports: list[ReportIn]) -> tuple[list[CountryHint], str | None]:
    """The countries a case touches, and the reporting platform's country (first one given)."""
    hints: list[CountryHint] = []
    platform_country: str | None = None
    for body in reports:
        hints.extend(CountryHint(h.country, "location hint") for h in body.location_hints)
        if body.live_stream:
            hints.extend(
                CountryHint(v.country, "stream viewer")
                for v in body.live_stream.viewers
                if v.country
            )
        if platform_country is None and body.platform and body.platform.country:
            platform_country = body.platform.country
    return hints, platform_country


def route(view: CaseView, table: RoutingTable) -> list[Effect]:
    """Route the case from its location hints, viewers' countries and the platform's country."""
    hints, platform_country = country_hints([r.body for r in view.reports])
    return [Route("route_by_country", view.case_id, table.route(hints, platform_country))]


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
