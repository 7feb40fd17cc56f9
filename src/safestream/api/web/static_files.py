"""The console's static files (CSS, the small scripts, the panic-button widget)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from safestream.api.web.environment import package_dir

router = APIRouter(include_in_schema=False)

CONTENT_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
# Pages on other sites embed the widget; the rest is only for the console's own pages.
EMBEDDABLE = {"panic-button.js"}


def _shipped() -> dict[str, str]:
    # The served names are exactly the files in the folder: no path from the URL reaches the disk.
    folder = package_dir("static")
    return {p.name: str(p) for p in folder.iterdir() if p.is_file() and p.suffix in CONTENT_TYPES}


@router.get("/static/{name}")
def static_file(name: str) -> FileResponse:
    """One shipped static file by name."""
    path = _shipped().get(name)
    if path is None:
        raise HTTPException(status_code=404, detail=f"no static file {name!r}")
    headers = {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"}
    if name in EMBEDDABLE:
        headers["Access-Control-Allow-Origin"] = "*"
        headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    suffix = name[name.rfind(".") :]
    return FileResponse(path, media_type=CONTENT_TYPES[suffix], headers=headers)
