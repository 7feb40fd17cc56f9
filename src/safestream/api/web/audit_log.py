"""The audit-log page: auditors and administrators read the chained log and can verify it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from safestream.api.web.environment import console_environment
from safestream.api.web.pages import Viewer, current_viewer, html_errors, render
from safestream.store import audit
from safestream.store.access import Permission

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50


@router.get("/console/audit")
@html_errors
def audit_page(
    request: Request,
    viewer: Annotated[Viewer, Depends(current_viewer)],
    subject: Annotated[str | None, Query(max_length=256)] = None,
    before: Annotated[int | None, Query(ge=1)] = None,
    verify: bool = False,
) -> Response:
    """Newest entries first, optionally for one subject; `verify=1` recomputes the whole chain."""
    viewer.require(Permission.READ_AUDIT)
    env = console_environment(request)
    entries = audit.entries(
        env.db, viewer.principal, subject=subject or None, limit=PAGE_SIZE, before=before
    )
    # The chain covers every organisation's entries, so only the operator's auditors check it.
    problems = audit.verify(env.db) if verify and viewer.principal.links_and_triages else None
    older = entries[-1].seq if len(entries) == PAGE_SIZE else None
    context = {
        "entries": entries,
        "subject": subject or "",
        "older": older,
        "verified": verify,
        "problems": problems,
    }
    return render(request, "audit.html", context, viewer=viewer)
