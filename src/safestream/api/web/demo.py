"""The demo call page: a mock video call (canvas drawing, no media) with the panic button."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from safestream.api.web.environment import console_environment
from safestream.core.errors import NotFound
from safestream.store.access import get_org

router = APIRouter(include_in_schema=False)

DEFAULT_STREAM = "demo-call-1"
_STREAM_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


@router.get("/demo/call", response_class=HTMLResponse)
def demo_call(
    request: Request,
    stream: Annotated[str, Query(max_length=128)] = DEFAULT_STREAM,
    key: Annotated[str, Query(max_length=128)] = "",
    org: Annotated[str, Query(max_length=128)] = "",
) -> HTMLResponse:
    """A mock call page embedding the widget; `?org=NAME` uses that organisation's panic key."""
    env = console_environment(request)
    if not _STREAM_ID.match(stream):
        stream = DEFAULT_STREAM
    if not key and org:
        try:
            key = env.panic_keys.issue(get_org(env.db, org).id)
        except NotFound:
            key = ""
    context = {"stream_id": stream, "panic_key": key, "endpoint": "/v1/panic"}
    response = env.templates.TemplateResponse(request, "demo_call.html", context)
    response.headers["Cache-Control"] = "no-store"
    return response
