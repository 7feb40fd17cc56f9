"""API-key authentication: `Authorization: Bearer KEY` names the calling organisation.

The key is looked up through `store.api_key_cache.ApiKeyCache` (cached a second per process, so
a revoked key is refused within `KEY_CACHE_SECONDS`; during a store outage a key seen before keeps
its answer and an unseen one gets a retryable 503, never a 401 or a 500).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from safestream.core.errors import SafeStreamError
from safestream.store.access import Organisation
from safestream.store.api_key_cache import KEY_CACHE_SECONDS as KEY_CACHE_SECONDS
from safestream.store.api_key_cache import MISS, ApiKeyCache


class Unauthorized(SafeStreamError):
    """No valid API key was sent."""

    http_status = 401


BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="Your organisation's API key: `Authorization: Bearer KEY`.",
)


async def current_org(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
) -> Organisation:
    """FastAPI dependency: the organisation whose API key the request carries."""
    if credentials is None or not credentials.credentials.strip():
        raise Unauthorized("send your organisation's API key as 'Authorization: Bearer KEY'")
    cache: ApiKeyCache = request.app.state.api_keys
    key = credentials.credentials.strip()
    hit = cache.cached(key)
    org = await run_in_threadpool(cache.lookup, key) if hit is MISS else hit
    if not isinstance(org, Organisation):
        raise Unauthorized("unknown or revoked API key")
    return org
