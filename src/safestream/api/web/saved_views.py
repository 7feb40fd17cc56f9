"""Saved queue views: a reviewer names the current filter and search, and opens it again later.

Only the queue's own filter parameters are kept (never a page cursor or a flash message), so a
saved view re-runs on today's cases and cannot be made to point anywhere but the queue.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from safestream.api.web.environment import console_environment
from safestream.api.web.pages import Viewer, current_viewer, html_errors
from safestream.api.web.session import CSRF_FIELD, check_csrf
from safestream.store.access import Permission
from safestream.store.saved_views import SavedViewRepository

router = APIRouter(include_in_schema=False)

VIEW_PARAMETERS = (
    "q", "status", "priority", "source", "incident", "country", "search", "age", "org", "claimed",
)  # fmt: skip


def view_query(query_string: str) -> str:
    """The queue filter of a query string: known parameters with a value, in a fixed order."""
    given = dict(parse_qsl(query_string, keep_blank_values=False))
    return urlencode([(k, given[k]) for k in VIEW_PARAMETERS if given.get(k)])


@router.post("/console/views")
@html_errors
def save_view(
    request: Request,
    viewer: Annotated[Viewer, Depends(current_viewer)],
    name: Annotated[str, Form(max_length=200)] = "",
    query: Annotated[str, Form(max_length=4000)] = "",
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=128)] = "",
) -> Response:
    """Save the current queue view under a name (the same name replaces it)."""
    check_csrf(viewer.session, csrf_token)
    viewer.require(Permission.REVIEW)
    kept = view_query(query)
    SavedViewRepository(console_environment(request).db).save(viewer.principal, name, kept)
    flash = urlencode({"flash": "view_saved"})
    return RedirectResponse(f"/console/queue?{kept}&{flash}" if kept else f"/console/queue?{flash}",
                            status_code=303)  # fmt: skip


@router.post("/console/views/{view_id}/delete")
@html_errors
def delete_view(
    request: Request,
    view_id: int,
    viewer: Annotated[Viewer, Depends(current_viewer)],
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=128)] = "",
) -> Response:
    """Delete one of the reviewer's saved views."""
    check_csrf(viewer.session, csrf_token)
    viewer.require(Permission.REVIEW)
    SavedViewRepository(console_environment(request).db).delete(viewer.principal, view_id)
    return RedirectResponse("/console/queue?flash=view_deleted", status_code=303)
