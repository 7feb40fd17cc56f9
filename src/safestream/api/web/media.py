"""Evidence files in the console: blurred previews, and opening a file (role, reason, budget).

Only child-safety reviewers get anything derived from a file. A file whose report matched a
verified bank gets no preview at all (hash-first: its hash and label say what it is) and opens
only with a stated reason. Opening goes through `cases.wellbeing.view_media`, which checks the
exposure budget and records who saw the file, when and why; the page then shows it under the
reviewer's filters (blurred until clicked, grayscale, muted).
"""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from safestream.api.web.environment import console_environment
from safestream.api.web.pages import Viewer, current_viewer, html_errors, render
from safestream.api.web.preview import blurred_preview
from safestream.api.web.session import CSRF_FIELD, check_csrf
from safestream.cases.wellbeing import (
    ExposureBudgetSpent,
    exposure,
    get_preferences,
    preview_file,
    view_media,
)

router = APIRouter(include_in_schema=False)


@router.get("/console/media/{evidence_id}/preview")
@html_errors
def preview(
    request: Request, evidence_id: str, viewer: Annotated[Viewer, Depends(current_viewer)]
) -> Response:
    """A blurred thumbnail of an unmatched image or video; the read is audited, not a view."""
    env = console_environment(request)
    file = preview_file(env.db, env.vault, viewer.principal, evidence_id)
    grayscale = get_preferences(env.db, viewer.principal).grayscale
    headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
    video = file.content_type.startswith("video/")
    png = blurred_preview(file.data, grayscale=grayscale, video=video)
    return Response(png, media_type="image/png", headers=headers)


@router.post("/console/cases/{case_id}/media/{evidence_id}/open")
@html_errors
def open_file(
    request: Request,
    case_id: int,
    evidence_id: str,
    viewer: Annotated[Viewer, Depends(current_viewer)],
    reason: Annotated[str, Form(max_length=500)] = "",
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=128)] = "",
) -> Response:
    """Open one file for the reviewer: counted, recorded and shown under their filters."""
    check_csrf(viewer.session, csrf_token)
    env = console_environment(request)
    try:
        seen = view_media(env.db, env.vault, viewer.principal, evidence_id, reason=reason)
    except ExposureBudgetSpent:
        context = {"exposure": exposure(env.db, viewer.principal), "case_id": case_id}
        return render(request, "break.html", context, viewer=viewer, status_code=429)
    file = seen.file
    kind = file.content_type.split("/", 1)[0]
    context = {
        "case_id": case_id,
        "file": file,
        "kind": kind if kind in ("image", "video", "audio") else "other",
        "data_url": f"data:{file.content_type};base64,{base64.b64encode(file.data).decode()}",
        "prefs": get_preferences(env.db, viewer.principal),
        "exposure": seen.exposure,
        "viewed_at": seen.viewed_at,
        "reason": reason.strip(),
    }
    return render(request, "media.html", context, viewer=viewer)
