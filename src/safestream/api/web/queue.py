"""The queue page: waiting cases by priority then age, and "claim next" (never one case twice)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from safestream.api.web.environment import console_environment
from safestream.api.web.pages import Viewer, current_viewer, html_errors, render
from safestream.api.web.session import CSRF_FIELD, check_csrf
from safestream.cases.queues import claim_next, claimed_by, list_cases, list_queues
from safestream.store.access import Permission
from safestream.store.base import utcnow

router = APIRouter(include_in_schema=False)

DEFAULT_QUEUE = "review"


def age_text(since: datetime, now: datetime | None = None) -> str:
    """How long ago, in the largest whole unit: "45 s", "12 min", "3 h", "2 d"."""
    now = now or utcnow()
    if since.tzinfo is None:  # SQLite hands back naive UTC
        now = now.replace(tzinfo=None)
    seconds = max(0, int((now - since).total_seconds()))
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


@router.get("/console/queue")
@html_errors
def queue_page(
    request: Request,
    viewer: Annotated[Viewer, Depends(current_viewer)],
    q: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """The queues with cases waiting, and the cases of the chosen one in claim order."""
    viewer.require(Permission.REVIEW)
    env = console_environment(request)
    queues = list_queues(env.db, viewer.principal)
    chosen = q or (queues[0].name if queues else DEFAULT_QUEUE)
    cases = list_cases(env.db, viewer.principal, chosen)
    now = utcnow()
    rows = [{"case": c, "age": age_text(c.created_at, now)} for c in cases]
    mine = claimed_by(env.db, viewer.principal)
    context = {"queues": queues, "chosen": chosen, "rows": rows, "mine": mine}
    return render(request, "queue.html", context, viewer=viewer)


@router.post("/console/queue/claim")
@html_errors
def claim(
    request: Request,
    viewer: Annotated[Viewer, Depends(current_viewer)],
    queue: Annotated[str, Form(max_length=64)] = DEFAULT_QUEUE,
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=128)] = "",
) -> Response:
    """Claim the most urgent, oldest unclaimed case of a queue and open it."""
    check_csrf(viewer.session, csrf_token)
    env = console_environment(request)
    case = claim_next(env.db, viewer.principal, queue)
    if case is None:
        return RedirectResponse(f"/console/queue?q={queue}&flash=empty", status_code=303)
    return RedirectResponse(f"/console/cases/{case.id}?flash=claimed", status_code=303)
