"""The review console and the panic-button widget: server-rendered pages mounted on the API app.

`router` is the one public surface; `create_app` includes it with `app.include_router(router)`.
"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)

__all__ = ["router"]
