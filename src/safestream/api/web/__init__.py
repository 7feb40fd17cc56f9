"""The review console and the panic-button widget: server-rendered pages mounted on the API app.

`router` is the one public surface; `create_app` includes it with `app.include_router(router)` and
puts on `app.state` what the pages use: `settings`, `db`, `vault`, `intake` and `engine`.

Pages live under /console, the widget and CSS under /static, the mock call page at /demo/call and
the panic-button intake at POST /v1/panic (publishable key, CORS-enabled for embedding sites).
"""

from __future__ import annotations

from fastapi import APIRouter

from safestream.api.web import (
    access_page,
    audit_log,
    bank_settings,
    bulk_actions,
    case_page,
    cybertip_page,
    demo,
    login,
    media,
    panic_api,
    password_page,
    queue,
    saved_views,
    static_files,
    wellbeing_pages,
)

# Console pages stay out of the OpenAPI document; POST /v1/panic is part of the public API.
router = APIRouter()
_PARTS = (
    access_page,
    login,
    password_page,
    queue,
    bulk_actions,
    saved_views,
    case_page,
    cybertip_page,
    media,
    wellbeing_pages,
    audit_log,
    bank_settings,
    demo,
    static_files,
    panic_api,
)
for _part in _PARTS:
    router.include_router(_part.router)

__all__ = ["router"]
