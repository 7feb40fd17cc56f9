"""Checking a publishable panic-button key at `POST /v1/panic` (keys live in `store.panic_keys`).

A key is safe in a web page because it can only file panic reports, only from the pages
(origins) it was issued for, and only about streams in its organisation's namespace. An
organisation's API key (which can read and write much more) must never be put in a browser.

The `Origin` check keeps a key copied into another site's page from working in visitors'
browsers; a script outside a browser can send any `Origin`, so for such a caller the stream
namespace, the per-client rate limit and revocation are what bound the key.
"""

from __future__ import annotations

from safestream.core.errors import PermissionDenied
from safestream.store.database import Database
from safestream.store.panic_keys import PanicKeyInfo, panic_key_info


class PanicKeyRejected(PermissionDenied):
    """The bearer token is not a live panic-button key of this server."""

    http_status = 401


class PanicKeyNotAllowed(PermissionDenied):
    """A live panic key used from a page or for a stream it was not issued for."""


def checked_key(db: Database, bearer: str, origin: str | None) -> PanicKeyInfo:
    """The live panic key of a request from `origin`, or raise (401 unknown, 403 wrong page)."""
    info = panic_key_info(db, bearer.strip())
    if info is None:
        raise PanicKeyRejected("unknown or revoked panic-button key")
    if not info.allows_origin(origin):
        raise PanicKeyNotAllowed("this panic-button key is not issued for this page's origin")
    return info


def check_stream(info: PanicKeyInfo, stream_id: str) -> None:
    """Raise `PanicKeyNotAllowed` unless the stream lies in the key's namespace."""
    if not info.allows_stream(stream_id):
        raise PanicKeyNotAllowed(
            f"stream id {stream_id!r} is outside this panic-button key's namespace"
        )
