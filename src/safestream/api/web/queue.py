"""The queue page: one view across queues, most urgent first, with filters, search and pages.

Priority-1 cases (a child in danger now) sort first and are marked, so a reviewer landing on the
console sees them before anything else. Pages are keyset cursors (`after=`), never offsets.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from safestream.api.web.environment import console_environment
from safestream.api.web.pages import Viewer, current_viewer, html_errors, render
from safestream.api.web.saved_views import view_query
from safestream.api.web.session import CSRF_FIELD, check_csrf
from safestream.cases.bulk_review import assignees
from safestream.cases.queues import (
    browse_cases,
    claim_next,
    claimants,
    claimed_by,
    list_queues,
    reporting_orgs,
)
from safestream.core.errors import InvalidInput
from safestream.core.reports import IncidentType, ReportSource
from safestream.store.access import Permission
from safestream.store.base import utcnow
from safestream.store.case_browse import NOBODY, CaseFilter, PageKey, StatusFilter
from safestream.store.saved_views import SavedViewRepository

router = APIRouter(include_in_schema=False)

ALL_QUEUES = ""
AGES = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7)}


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


def _page_key(after: str | None) -> PageKey | None:
    if not after:
        return None
    try:
        return PageKey.parse(after)
    except ValueError as err:
        raise InvalidInput("that page link is not valid; start again from the first page") from err


def _filter_params(f: CaseFilter) -> dict[str, str]:
    """The filter as query parameters, for links that keep it (next page, first page)."""
    raw = {
        "q": f.queue or "",
        "status": f.status.value if f.status is not StatusFilter.OPEN else "",
        "priority": str(f.priority or ""),
        "source": f.source or "",
        "incident": f.incident_type or "",
        "country": f.country or "",
        "search": f.search or "",
        "age": next((k for k, v in AGES.items() if v == f.older_than), ""),
        "org": str(f.org_id or ""),
        "claimed": f.claimant or "",
    }
    return {k: v for k, v in raw.items() if v}


@router.get("/console/queue")
@html_errors
def queue_page(
    request: Request,
    viewer: Annotated[Viewer, Depends(current_viewer)],
    q: Annotated[str, Query(max_length=64)] = ALL_QUEUES,
    status: Annotated[StatusFilter, Query()] = StatusFilter.OPEN,
    priority: Annotated[int | None, Query(ge=1, le=4)] = None,
    source: Annotated[ReportSource | None, Query()] = None,
    incident: Annotated[IncidentType | None, Query()] = None,
    country: Annotated[str, Query(max_length=2, pattern="^[A-Za-z]{0,2}$")] = "",
    search: Annotated[str, Query(max_length=512)] = "",
    age: Annotated[str, Query(pattern="^(|1h|24h|7d)$")] = "",
    org: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    claimed: Annotated[str, Query(pattern="^(|me|nobody|elsewhere|[0-9]{1,10})$")] = "",
    after: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """Cases across queues (or one), filtered and searched, a page at a time, urgent first."""
    viewer.require(Permission.REVIEW)
    env = console_environment(request)
    claimant = str(viewer.user.id) if claimed == "me" else claimed or None
    if claimant and claimant != NOBODY and status is StatusFilter.OPEN:
        status = StatusFilter.HELD  # "open" means waiting, which a held case is not
    f = CaseFilter(
        status=status,
        org_id=org,
        claimant=claimant,
        queue=q or None,
        priority=priority,
        source=source.value if source else None,
        incident_type=incident.value if incident else None,
        country=country.upper() or None,
        search=search.strip() or None,
        older_than=AGES.get(age),
    )
    page = browse_cases(env.db, viewer.principal, f, after=_page_key(after))
    holders = claimants(env.db, viewer.principal)
    now = utcnow()
    params = _filter_params(f)
    context = {
        "queues": list_queues(env.db, viewer.principal),
        "chosen": q,
        "filter": f,
        "rows": [{"case": c, "age": age_text(c.created_at, now)} for c in page.cases],
        "mine": claimed_by(env.db, viewer.principal),
        "next_url": (
            "/console/queue?" + urlencode({**params, "after": page.next_key.token()})
            if page.next_key
            else None
        ),
        "first_url": ("/console/queue?" + urlencode(params)) if after else None,
        "statuses": list(StatusFilter),
        "sources": list(ReportSource),
        "incidents": list(IncidentType),
        "ages": list(AGES),
        "age": age,
        "orgs": reporting_orgs(env.db, viewer.principal),
        "claimants": holders,
        "holder_of": {c.value: c.label for c in holders},
        "me": str(viewer.user.id),
        "assignees": assignees(env.db, viewer.principal),
        "views": SavedViewRepository(env.db).list(viewer.principal),
        "view_query": view_query(request.url.query),
        "here": str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
    }
    return render(request, "queue.html", context, viewer=viewer)


@router.post("/console/queue/claim")
@html_errors
def claim(
    request: Request,
    viewer: Annotated[Viewer, Depends(current_viewer)],
    queue: Annotated[str, Form(max_length=64)] = ALL_QUEUES,
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=128)] = "",
) -> Response:
    """Claim the most urgent, oldest unclaimed case of a queue (or of all) and open it."""
    check_csrf(viewer.session, csrf_token)
    env = console_environment(request)
    case = claim_next(env.db, viewer.principal, queue or None)
    if case is None:
        return RedirectResponse(
            "/console/queue?" + urlencode({"q": queue, "flash": "empty"}), status_code=303
        )
    return RedirectResponse(f"/console/cases/{case.id}?flash=claimed", status_code=303)
