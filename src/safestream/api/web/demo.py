"""The demo call page: a mock video call (canvas drawing, no media) with the panic button.

It exists only when the `demo_mode` setting is on (`make demo`); any other server answers 404.
It hands out no key: the page embeds the panic key given in `?key=` (the demo prints a URL with
one bound to the demo server's origin).
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from safestream.api.web.environment import console_environment
from safestream.core.errors import NotFound

router = APIRouter(include_in_schema=False)

DEFAULT_STREAM = "demo-call-1"
_STREAM_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


@router.get("/demo/call", response_class=HTMLResponse)
def demo_call(
    request: Request,
    stream: Annotated[str, Query(max_length=128)] = DEFAULT_STREAM,
    key: Annotated[str, Query(max_length=128)] = "",
) -> HTMLResponse:
    """A mock call page embedding the widget with the panic key in `?key=` (demo mode only)."""
    env = console_environment(request)
    if not env.settings.demo_mode:
        raise NotFound("no such page")
    if not _STREAM_ID.match(stream):
        stream = DEFAULT_STREAM
    context = {
        "stream_id": stream,
        "panic_key": key if _KEY.match(key) else "",
        "endpoint": "/v1/panic",
    }
    response = env.templates.TemplateResponse(request, "demo_call.html", context)
    response.headers["Cache-Control"] = "no-store"
    return response
