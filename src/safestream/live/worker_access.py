"""Who may call a live worker's HTTP routes, and about which streams.

A worker serves many organisations' streams, so its routes take the same credentials as the API:
an organisation's API key (`Authorization: Bearer KEY`), checked against the store through the
same cache (`store.api_key_cache`: a revoked key is refused within `KEY_CACHE_SECONDS`). What a
key may act on is its organisation's stream namespace, the model panic keys already bind: stream
ids starting with the stream prefix of one of the organisation's live panic keys (prefixes of two
organisations never overlap; `safestream panic-key create ORG --stream-prefix P`). The operator
organisation links and triages everything, so its keys act on every stream and read the worker's
health. A stream outside the caller's namespace is *not found* (404), whatever the worker holds.

The `live_worker_token` setting, when set, is the operator's own credential for systems that
hold no API key (an orchestrator's health probe, the operator's scripts): it acts as the operator.
Without it the routes take API keys only; they are never served open.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool

from safestream.core.errors import SafeStreamError
from safestream.store.access import Organisation
from safestream.store.api_key_cache import KEY_CACHE_SECONDS, MISS, ApiKeyCache, StoreAnswers
from safestream.store.database import Database
from safestream.store.panic_keys import stream_namespace

_ASK_FOR_KEY = "send your organisation's API key as 'Authorization: Bearer KEY'"


@dataclass(frozen=True)
class WorkerCaller:
    """Who called, and which streams they may act on (`prefixes` None: every stream)."""

    name: str
    prefixes: tuple[str, ...] | None

    @property
    def is_operator(self) -> bool:
        """The operator (its API key or the worker token): every stream, and health."""
        return self.prefixes is None

    def may_act_on(self, stream_id: str) -> bool:
        """Whether the stream lies in the caller's namespace."""
        return self.prefixes is None or any(stream_id.startswith(p) for p in self.prefixes)


OPERATOR_TOKEN = WorkerCaller("live_worker_token", None)


def _refused(detail: str = "unknown or revoked API key") -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


def _unavailable(exc: SafeStreamError) -> HTTPException:
    retry = getattr(exc, "retry_after", None)
    headers = {"Retry-After": str(retry)} if retry else None
    return HTTPException(exc.http_status, str(exc), headers=headers)


class WorkerAccess:
    """Resolves a request's bearer credential to a `WorkerCaller` (401 when it names nobody).

    `db` is the installation's store (API keys and namespaces); `token` the optional operator
    token. At least one must be given: the routes are never served open.
    """

    def __init__(
        self, db: Database | None, token: str | None = None, ttl: float = KEY_CACHE_SECONDS
    ) -> None:
        if db is None and not token:
            raise ValueError("the live worker's HTTP routes need the store's API keys or a token")
        self.db = db
        self.keys = ApiKeyCache(db, ttl) if db is not None else None
        self.ttl = ttl
        self._token = token.encode() if token else b""
        self._namespaces: StoreAnswers[int, tuple[str, ...]] = StoreAnswers(ttl)

    def namespace(self, org_id: int) -> tuple[str, ...]:
        """The organisation's stream prefixes, cached like keys (a revoked panic key's prefix
        leaves within `ttl`); during a store outage the last answer stands."""
        db = self.db
        assert db is not None  # only asked for an organisation found by its key
        return self._namespaces.get(org_id, lambda: stream_namespace(db, org_id))

    def caller_for(self, org: Organisation) -> WorkerCaller:
        """What an organisation's key may act on: every stream for the operator, else its
        namespace."""
        if org.principal.links_and_triages:
            return WorkerCaller(org.name, None)
        return WorkerCaller(org.name, self.namespace(org.id))

    def _resolve(self, sent: str) -> WorkerCaller:
        assert self.keys is not None
        org = self.keys.lookup(sent)
        if not isinstance(org, Organisation):
            raise _refused()
        return self.caller_for(org)

    async def __call__(self, request: Request) -> WorkerCaller:
        """FastAPI dependency: the caller of this request."""
        scheme, _, sent = request.headers.get("authorization", "").partition(" ")
        sent = sent.strip()
        if scheme.lower() != "bearer" or not sent:
            raise _refused(_ASK_FOR_KEY)
        if self._token and hmac.compare_digest(sent.encode(), self._token):
            return OPERATOR_TOKEN
        if self.keys is None:
            raise _refused("this worker takes only the live worker token")
        try:
            hit = self.keys.cached(sent)
            if isinstance(hit, Organisation):
                return await run_in_threadpool(self.caller_for, hit)
            if hit is not MISS:
                raise _refused()
            return await run_in_threadpool(self._resolve, sent)
        except SafeStreamError as exc:
            raise _unavailable(exc) from exc


def stream_in_scope(caller: WorkerCaller, stream_id: str) -> None:
    """Raise 404 unless the caller may act on the stream (outside is indistinguishable from
    absent: the answer depends only on the caller's own namespace)."""
    if not caller.may_act_on(stream_id):
        raise HTTPException(404, f"no stream {stream_id!r} in your organisation's namespace")


def operator_only(access: WorkerAccess) -> Callable[[Request], Awaitable[WorkerCaller]]:
    """A dependency admitting only the operator (its key or the token): for health, which names
    every stream the worker holds."""

    async def check(request: Request) -> WorkerCaller:
        caller = await access(request)
        if not caller.is_operator:
            raise HTTPException(403, "only the operator reads a worker's health")
        return caller

    return check
