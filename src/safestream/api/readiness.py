"""Honest answers under faults: `/readyz`, and the status of errors the store raises.

`/readyz` is ready only when the database answers and the SafeStream home (SQLite file,
evidence vault, index) has room for writes, so a load balancer stops sending reports to an
instance that could only refuse them. Errors a write hits are answered 503 or 507 with
Retry-After (see `store.faults`), never as a plain-text 500.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from safestream.api.errors import error_response
from safestream.core.config import Settings
from safestream.core.errors import SafeStreamError
from safestream.store.database import Database
from safestream.store.faults import disk_space, store_failure


def retry_headers(exc: BaseException) -> dict[str, str]:
    """`Retry-After` for errors that say when to try again."""
    seconds = getattr(exc, "retry_after", None)
    return {"Retry-After": str(seconds)} if seconds else {}


def domain_error(_: Request, exc: Exception) -> Response:
    """A `SafeStreamError` as JSON with its status (and Retry-After when it has one)."""
    assert isinstance(exc, SafeStreamError)
    return error_response(exc.http_status, str(exc), headers=retry_headers(exc))


def store_error(request: Request, exc: Exception) -> Response:
    """A database or file-system error that escaped a route: 503/507 when it is a fault."""
    return domain_error(request, store_failure(exc, "the request"))


def readiness(db: Database, settings: Settings) -> tuple[int, dict[str, Any]]:
    """Status code and body of `/readyz`."""
    body: dict[str, Any] = {"status": "ready"}
    try:
        db.ping()
        body["database"] = "ok"
    except Exception as exc:  # readiness answers, it never raises
        body["database"] = f"unavailable: {exc}".splitlines()[0]
    space = disk_space(settings.home)
    body["disk"] = {"path": space.path, "free_bytes": space.free_bytes, "ok": space.ok}
    if body["database"] != "ok" or not space.ok:
        body["status"] = "unavailable"
        return 503, body
    return 200, body
