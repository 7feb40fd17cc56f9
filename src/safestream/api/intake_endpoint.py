"""`POST /v1/reports` as a plain ASGI handler: the service's hottest path.

Profiling a server under load showed the framework's per-request work (dependency solving,
routing through every console route, response and exception layers) costing about twice the
intake's own work. This handler keeps every rule of the API (413 by declared or streamed size,
401 without a known key, 422 naming each bad field, 409 for a reused idempotency key, 2xx only
after the commit) and does nothing else. `IntakeFastPath` sends the route's requests straight to
it; `IntakeRoute` makes the route declared in `v1` (and so in the OpenAPI document) answer with it
too, so there is one implementation whichever way a request arrives.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from safestream.api.errors import error_body, invalid_fields_body
from safestream.api.limits import send_413
from safestream.api.linker import BackgroundLinker
from safestream.api.metrics import Metrics
from safestream.api.readiness import retry_headers
from safestream.core.errors import SafeStreamError
from safestream.core.reports import Report, ReportIn
from safestream.reports.intake import IntakeService
from safestream.store.access import Organisation
from safestream.store.api_key_cache import MISS, ApiKeyCache
from safestream.store.faults import store_failure

INTAKE_PATH = "/v1/reports"
IDEMPOTENCY_KEY_MAX = 128
NO_KEY = "send your organisation's API key as 'Authorization: Bearer KEY'"
UNKNOWN_KEY = "unknown or revoked API key"
_JSON = (b"content-type", b"application/json")


# Bodies above this are validated on a worker thread (a 2 MB report takes ~0.2 s of CPU).
LARGE_BODY_BYTES = 256 * 1024


class _Answered(Exception):
    """The request was answered early (an error); carries the status for the metrics."""

    def __init__(self, status: int) -> None:
        self.status = status


async def _send_json(send: Send, status: int, body: bytes, *headers: tuple[bytes, bytes]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [_JSON, (b"content-length", str(len(body)).encode()), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _error(
    send: Send, status: int, body: dict[str, Any], *headers: tuple[bytes, bytes]
) -> _Answered:
    await _send_json(send, status, json.dumps(body).encode(), *headers)
    return _Answered(status)


def _bearer(value: bytes | None) -> str | None:
    """The credentials of an `Authorization: Bearer KEY` header, as FastAPI's HTTPBearer reads
    them (scheme case-insensitive, split at the first space)."""
    if not value:
        return None
    scheme, _, credentials = value.decode("latin-1").partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return credentials.strip()


class ReportReceipt(BaseModel):
    """What intake answers: the stored report's id and state."""

    id: str
    status: str
    received_at: datetime
    case_id: int | None
    evidence_ids: list[str]
    replayed: bool
    url: str


def receipt(report: Report, replayed: bool) -> ReportReceipt:
    """The receipt of a stored report."""
    return ReportReceipt(
        id=report.id,
        status=report.status.value,
        received_at=report.received_at,
        case_id=report.case_id,
        evidence_ids=report.evidence_ids,
        replayed=replayed,
        url=f"{INTAKE_PATH}/{report.id}",
    )


class IntakeHandler:
    """Answers one `POST /v1/reports` request."""

    def __init__(
        self,
        intake: IntakeService,
        api_keys: ApiKeyCache,
        linker: BackgroundLinker,
        metrics: Metrics,
        max_body_bytes: int,
        attachment_matcher: Callable[[ReportIn], ReportIn] | None = None,
    ) -> None:
        self.intake = intake
        self.api_keys = api_keys
        self.linker = linker
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        # Adds SafeStream's own bank matches of attached media (see api.attachment_matching).
        self.attachment_matcher = attachment_matcher

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> int:
        """Answer the request; return the HTTP status sent."""
        try:
            return await self._answer(scope, receive, send)
        except _Answered as answered:
            return answered.status

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> int:
        authorization = idempotency = declared = None
        for name, value in scope["headers"]:
            if name == b"authorization" and authorization is None:
                authorization = value
            elif name == b"idempotency-key" and idempotency is None:
                idempotency = value
            elif name == b"content-length":
                declared = value
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body_bytes):
            await send_413(send, self.max_body_bytes)
            return 413
        org = await self._organisation(authorization, send)
        key = self._idempotency_key(idempotency)
        if isinstance(key, list):
            raise await _error(send, 422, invalid_fields_body(key))
        body = await self._body(receive, send)
        try:
            if len(body) > LARGE_BODY_BYTES:
                # Off the event loop: validating megabytes would stall every request of this
                # worker, panic presses included, for as long as it takes.
                report = await run_in_threadpool(ReportIn.model_validate_json, body)
            else:
                report = ReportIn.model_validate_json(body)
        except ValidationError as exc:
            raise await _error(send, 422, invalid_fields_body(exc.errors())) from None
        if report.media and self.attachment_matcher is not None:
            report = await run_in_threadpool(self.attachment_matcher, report)
        try:
            stored = await self.intake.receive_async(org, report, idempotency_key=key)
        except Exception as exc:
            # 503/507 carry Retry-After: the report was not stored, the same key may be resent.
            error = exc if isinstance(exc, SafeStreamError) else store_failure(exc)
            retry = [(k.lower().encode(), v.encode()) for k, v in retry_headers(error).items()]
            raise await _error(send, error.http_status, error_body(str(error)), *retry) from None
        if stored.created:
            self.metrics.reports.labels(report.source.value).inc()
            self.linker.wake()
        else:
            self.metrics.replays.inc()
        status = 202 if stored.created else 200
        location = f"{INTAKE_PATH}/{stored.report.id}".encode()
        await _send_json(
            send,
            status,
            receipt(stored.report, not stored.created).model_dump_json().encode(),
            (b"location", location),
        )
        return status

    async def _organisation(self, authorization: bytes | None, send: Send) -> Organisation:
        key = _bearer(authorization)
        if key is None:
            raise await _error(send, 401, error_body(NO_KEY))
        org = self.api_keys.cached(key)
        if org is MISS:
            try:
                org = await run_in_threadpool(self.api_keys.lookup, key)
            except SafeStreamError as error:  # the store is away: retryable, nothing stored
                retry = [(k.lower().encode(), v.encode()) for k, v in retry_headers(error).items()]
                raise await _error(
                    send, error.http_status, error_body(str(error)), *retry
                ) from None
        if not isinstance(org, Organisation):
            raise await _error(send, 401, error_body(UNKNOWN_KEY))
        return org

    @staticmethod
    def _idempotency_key(value: bytes | None) -> str | list[dict[str, Any]] | None:
        """The header's key, or the validation errors FastAPI's `Header(max_length=128)` gave."""
        if value is None:
            return None
        key = value.decode("latin-1")
        if len(key) > IDEMPOTENCY_KEY_MAX:
            message = f"String should have at most {IDEMPOTENCY_KEY_MAX} characters"
            return [{"loc": ("header", "idempotency-key"), "msg": message}]
        return key

    async def _body(self, receive: Receive, send: Send) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Answered(499)  # the client left; nothing was stored
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await send_413(send, self.max_body_bytes)
                raise _Answered(413)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


class IntakeFastPath:
    """ASGI middleware: `POST /v1/reports` goes straight to the intake handler, timed and counted
    like every other route; everything else goes on to the app."""

    def __init__(self, app: ASGIApp, handler: IntakeHandler) -> None:
        self.app = app
        self.handler = handler
        self.metrics = handler.metrics
        self._latency = handler.metrics.latency.labels(INTAKE_PATH)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer intake here; pass anything else on."""
        if scope["type"] != "http" or scope["path"] != INTAKE_PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        try:
            status = await self.handler(scope, receive, send)
        finally:
            self.metrics.requests.labels("POST", INTAKE_PATH, str(status)).inc()
            self._latency.observe(time.perf_counter() - start)


class IntakeRoute(APIRoute):
    """The declared intake route, answered by the same handler (for requests that reach routing)."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer with the app's intake handler."""
        handler: IntakeHandler = scope["app"].state.intake_handler
        await handler(scope, receive, send)
