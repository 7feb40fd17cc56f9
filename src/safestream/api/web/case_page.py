"""The case page: reports, link graph, matches, evidence (hash-first, blurred), notes, decisions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from safestream.api.web.asserted_facts import asserted_facts
from safestream.api.web.cybertip_page import case_submissions
from safestream.api.web.environment import console_environment
from safestream.api.web.graph import GraphInput, layout_graph
from safestream.api.web.pages import Viewer, current_viewer, html_errors, render
from safestream.api.web.session import CSRF_FIELD, check_csrf
from safestream.cases.queues import release
from safestream.cases.review import (
    CaseDetail,
    add_note,
    case_detail,
    mark_claimed_elsewhere,
    record_decision,
)
from safestream.cases.routing import table_for
from safestream.cases.wellbeing import exposure, get_preferences, media_views
from safestream.core.cases import Decision
from safestream.core.errors import InvalidInput
from safestream.store.access import Permission
from safestream.store.claims import ClaimRepository

router = APIRouter(include_in_schema=False)

DECISION_LABELS = {
    Decision.CONFIRM: "Confirm",
    Decision.DISMISS: "Dismiss",
    Decision.ESCALATE: "Escalate",
    Decision.REFER: "Refer to agency",
}


def report_label(report_id: str) -> str:
    """How the graph and the page name a report: its id's first 8 characters."""
    return f"report {report_id[:8]}"


def seconds(t: float) -> str:
    """A time in a video as a reviewer reads it: `2.0 s`, `1:05.4`, `1:02:03.0`."""
    whole, tenths = divmod(round(t * 10), 10)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}.{tenths}"
    if minutes:
        return f"{minutes}:{secs:02d}.{tenths}"
    return f"{secs}.{tenths} s"


def graph_of(detail: CaseDetail) -> GraphInput:
    """The link graph input: each report with the identifiers it carries."""
    by_report: dict[str, list[tuple[str, str]]] = {r.id: [] for r in detail.reports}
    for report_id, entity in detail.links:
        by_report.setdefault(report_id, []).append((entity.kind.value, entity.value))
    # Keyed by the full id (links jump to the report); the boxes show its first 8 characters.
    return GraphInput(list(by_report.items()))


def agency_choices(detail: CaseDetail, request: Request) -> list[tuple[str, str]]:
    """Agencies to refer to: the case's routing first (recommended), then every other one."""
    env = console_environment(request)
    table = table_for(env.settings)
    routed = [(a.code, f"{a.name} (recommended: {a.reason})") for a in detail.case.routing]
    known = {code for code, _ in routed}
    others = [
        (code, name) for code, (name, _c) in sorted(table.authorities.items()) if code not in known
    ]
    return routed + others


def case_context(request: Request, viewer: Viewer, case_id: int) -> dict[str, Any]:
    """Everything case.html shows, for this viewer."""
    env = console_environment(request)
    detail = case_detail(env.db, viewer.principal, case_id)
    context: dict[str, Any] = {
        "detail": detail,
        "case": detail.case,
        "graph": layout_graph(graph_of(detail)),
        "report_label": report_label,
        "seconds": seconds,
        "decisions": DECISION_LABELS,
        "agencies": agency_choices(detail, request),
        "claimed_by_me": detail.case.claimed_by_user == viewer.user.id,
        "claimed_by_other": detail.case.claimed_by_user not in (None, viewer.user.id),
        "prefs": get_preferences(env.db, viewer.principal),
        "exposure": exposure(env.db, viewer.principal) if viewer.can.see_media else None,
        # Who opened each file and when: hotlines report whether a person saw it.
        "views": {e.id: media_views(env.db, viewer.principal, e.id) for e in detail.evidence},
        # Images whose blurred preview this page shows anyway: a matched region is drawn on it.
        "region_previews": {
            e.sha256: e.id
            for e in detail.evidence
            if viewer.can.see_media and not e.matched_label and e.content_type.startswith("image/")
        },
        "cybertips": case_submissions(env, case_id),
        # Priority-raising facts as their senders' word, next to the rules they fired.
        "asserted": asserted_facts(detail.reports),
        # Deconfliction claims on the case's identifiers: shown, never hiding the case.
        "claims": ClaimRepository(env.db).on_entities(detail.case.entities),
    }
    return context


@router.get("/console/cases/{case_id}")
@html_errors
def case_page(
    request: Request, case_id: int, viewer: Annotated[Viewer, Depends(current_viewer)]
) -> Response:
    """One case, as its reviewer needs it."""
    viewer.require(Permission.REVIEW)
    return render(request, "case.html", case_context(request, viewer, case_id), viewer=viewer)


@router.post("/console/cases/{case_id}/notes")
@html_errors
def post_note(
    request: Request,
    case_id: int,
    viewer: Annotated[Viewer, Depends(current_viewer)],
    body: Annotated[str, Form(max_length=10_000)] = "",
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=128)] = "",
) -> Response:
    """Add an internal note."""
    check_csrf(viewer.session, csrf_token)
    add_note(console_environment(request).db, viewer.principal, case_id, body)
    return RedirectResponse(f"/console/cases/{case_id}?flash=note#notes", status_code=303)


@router.post("/console/cases/{case_id}/decisions")
@html_errors
def post_decision(
    request: Request,
    case_id: int,
    viewer: Annotated[Viewer, Depends(current_viewer)],
    decision: Annotated[str, Form(max_length=16)],
    reason: Annotated[str, Form(max_length=3000)] = "",
    agency: Annotated[str, Form(max_length=64)] = "",
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=128)] = "",
) -> Response:
    """Record confirm, dismiss, escalate or refer (with the agency)."""
    check_csrf(viewer.session, csrf_token)
    chosen_agency = agency if decision == Decision.REFER.value else ""
    try:
        record_decision(
            console_environment(request).db,
            viewer.principal,
            case_id,
            decision,
            reason=reason,
            agency=chosen_agency,
        )
    except InvalidInput as error:
        # The case page again, with what the reviewer typed and what is missing: never a dead end.
        context = case_context(request, viewer, case_id)
        context["typed"] = {"decision": decision, "reason": reason, "agency": agency}
        context["decision_error"] = decision_error(error)
        return render(request, "case.html", context, viewer=viewer, status_code=422)
    return RedirectResponse(f"/console/cases/{case_id}?flash=decided", status_code=303)


def decision_error(error: InvalidInput) -> dict[str, str]:
    """Which field of the decision form an error is about, and the message for it.

    `record_decision` names the field first (`reason: say why ...`), as every InvalidInput does.
    """
    field, _, message = str(error).partition(": ")
    if field not in {"reason", "agency", "decision"} or not message:
        return {"field": "", "message": str(error)}
    return {"field": field, "message": message[:1].upper() + message[1:] + "."}


@router.post("/console/cases/{case_id}/release")
@html_errors
def post_release(
    request: Request,
    case_id: int,
    viewer: Annotated[Viewer, Depends(current_viewer)],
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=128)] = "",
) -> Response:
    """Give a claimed case back to its queue."""
    check_csrf(viewer.session, csrf_token)
    release(console_environment(request).db, viewer.principal, case_id)
    return RedirectResponse("/console/queue?flash=released", status_code=303)


@router.post("/console/cases/{case_id}/claimed-elsewhere")
@html_errors
def post_claimed_elsewhere(
    request: Request,
    case_id: int,
    viewer: Annotated[Viewer, Depends(current_viewer)],
    claimed_by: Annotated[str, Form(max_length=256)] = "",
    reference: Annotated[str, Form(max_length=256)] = "",
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=128)] = "",
) -> Response:
    """Deconfliction: record that another agency or organisation already holds this case."""
    check_csrf(viewer.session, csrf_token)
    viewer.require(Permission.REVIEW)
    mark_claimed_elsewhere(
        console_environment(request).db,
        viewer.principal,
        case_id,
        claimed_by=claimed_by,
        reference=reference,
    )
    return RedirectResponse(f"/console/cases/{case_id}?flash=deconflicted", status_code=303)
