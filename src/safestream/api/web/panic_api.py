"""POST /v1/panic: the intake the panic-button widget calls from pages on other sites.

It takes a publishable panic-button key (never an organisation's API key), used from one of the
key's origins and about a stream in the key's namespace (`api.web.panic_keys`); answers CORS
preflights so any embedding site can call it, caps body size and rate per client, and files the
report through the same intake as every other source. Every answer, errors included, carries the
CORS header, so the widget can show the viewer what went wrong.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from safestream.api.errors import error_body, invalid_fields_body
from safestream.api.web.environment import ConsoleEnvironment, console_environment
from safestream.api.web.panic_keys import check_stream, checked_key
from safestream.api.web.panic_report import PanicReportIn, to_report
from safestream.api.web.rate_limit import RateLimiter
from safestream.core.errors import SafeStreamError
from safestream.core.events import PanicPressed
from safestream.core.reports import ReportIn
from safestream.store.access import Organisation
from safestream.store.base import utcnow
from safestream.store.panic_keys import PanicKeyInfo

router = APIRouter(tags=["panic button"])
logger = logging.getLogger(__name__)

MAX_PANIC_BODY_BYTES = 16 * 1024
PANIC_PER_CLIENT_PER_MINUTE = 10
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Access-Control-Max-Age": "600",
    # The widget waits as long as a 429 or 503 asks before it sends the press again.
    "Access-Control-Expose-Headers": "Retry-After",
    "Vary": "Origin",
}
_OPENAPI_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": PanicReportIn.model_json_schema()}},
    }
}


def _answer(status: int, body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=CORS_HEADERS)


def _refuse(status: int, message: str, retry_after: int | None = None) -> JSONResponse:
    """An error in the API's one shape (`api.errors`), with the CORS header like every answer,
    and `Retry-After` when the press may simply be sent again (a busy or absent store)."""
    answer = _answer(status, error_body(message))
    if retry_after:
        answer.headers["Retry-After"] = str(retry_after)
    return answer


def _refuse_error(error: SafeStreamError) -> JSONResponse:
    return _refuse(error.http_status, str(error), getattr(error, "retry_after", None))


def _limiter(request: Request) -> RateLimiter:
    state = request.app.state
    limiter = getattr(state, "panic_rate_limiter", None)
    if limiter is None:
        limiter = RateLimiter(PANIC_PER_CLIENT_PER_MINUTE, 60.0)
        state.panic_rate_limiter = limiter
    assert isinstance(limiter, RateLimiter)
    return limiter


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _file(env: ConsoleEnvironment, org: Organisation, report: ReportIn) -> dict[str, Any]:
    """Store the report for the key's organisation and link it into a case at once.

    Linking now (not in the background) puts a child-in-danger press in front of a reviewer
    without waiting for the next engine run, unless the linker is busy with a batch (then it
    takes the press on its next round rather than keep the press waiting behind the batch). Once
    stored, the press is answered as filed even if that linking fails (a store busy or gone for a
    moment): the background linker files it, and an error here would only make the widget send
    it again.
    """
    stream_id = report.live_stream.stream_id if report.live_stream else None
    pressed = PanicPressed(at=utcnow(), stream_id=stream_id, child_in_danger=report.child_in_danger)
    stored = env.intake.receive(org, report, events=[pressed], write_first=True)
    case_id = stored.report.case_id
    if stored.created:
        try:
            case_id = env.engine.process_now_or_leave(stored.report.id)
        except Exception:  # whatever linking raised, the press is stored and will be linked
            logger.exception("panic report %s stored; linking it now failed", stored.report.id)
    return {
        "report_id": stored.report.id,
        "case_id": case_id,
        "created": stored.created,
        "evidence_hold": True,
    }


def _file_for_key(env: ConsoleEnvironment, key: PanicKeyInfo, report: ReportIn) -> dict[str, Any]:
    """File the press if its stream lies in the key's namespace (else `PanicKeyNotAllowed`)."""
    check_stream(key, report.live_stream.stream_id if report.live_stream else "")
    return _file(env, key.org, report)


@router.options("/v1/panic", include_in_schema=False)
def panic_preflight() -> Response:
    """Answer the browser's CORS preflight for the widget's POST."""
    return Response(status_code=204, headers=CORS_HEADERS)


@router.post(
    "/v1/panic",
    status_code=201,
    summary="File a panic-button report (publishable panic key)",
    openapi_extra=_OPENAPI_BODY,
    responses={
        401: {"description": "missing, unknown or revoked panic-button key"},
        403: {"description": "key used from another origin, or for a stream outside its namespace"},
        413: {"description": "body over 16 KiB"},
        422: {"description": "invalid fields, each named"},
        429: {"description": "too many panic reports from this client (Retry-After)"},
        503: {"description": "the store cannot take it now: send it again after Retry-After"},
    },
)
async def panic(request: Request) -> JSONResponse:
    """File a panic report for the stream named in the body, keeping its evidence buffer."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_PANIC_BODY_BYTES:
        return _refuse(413, f"request body is larger than {MAX_PANIC_BODY_BYTES} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_PANIC_BODY_BYTES:
            return _refuse(413, f"request body is larger than {MAX_PANIC_BODY_BYTES} bytes")
    env = console_environment(request)
    try:
        key = await run_in_threadpool(
            checked_key, env.db, _bearer(request), request.headers.get("origin")
        )
    except SafeStreamError as error:
        return _refuse_error(error)
    client = request.client.host if request.client else "unknown"
    limiter, slot = _limiter(request), f"{key.id}:{client}"
    if not limiter.allow(slot):
        wait = int(limiter.wait(slot)) + 1
        return _refuse(429, "too many reports from this device; please wait a minute", wait)
    try:
        report = to_report(PanicReportIn.model_validate_json(bytes(body)))
    except ValidationError as error:
        return _answer(422, invalid_fields_body(error.errors()))
    try:
        result = await run_in_threadpool(_file_for_key, env, key, report)
    except SafeStreamError as error:
        if getattr(error, "retry_after", None):
            limiter.give_back(slot)  # not stored: its retry must not be one too many
        return _refuse_error(error)
    metrics = getattr(request.app.state, "metrics", None)
    if result["created"] and metrics is not None:
        metrics.reports.labels("panic_button").inc()
    stream, case_id, nats = report.live_stream, result["case_id"], env.settings.nats_url
    if result["created"] and stream is not None and case_id is not None and nats:
        sent = await run_in_threadpool(_keep_live_buffer, env, int(case_id), stream.stream_id, nats)
        result["live_buffer"] = sent
    return _answer(201 if result["created"] else 200, result)


def _keep_live_buffer(env: ConsoleEnvironment, case_id: int, stream_id: str, nats: str) -> str:
    """Send the case's keep-the-buffer requests now rather than at the linker's next round:
    the buffer before the press is the evidence, and it rolls over within minutes.

    Linking the press left the request in the outbox (rule `keep_buffer_on_panic`), so it is
    sent only after the report and its case were committed, and is retried from the outbox if
    NATS cannot be reached now; whatever NATS answers, the press is never lost or failed.
    """
    from safestream.cases.outbox import OutboxSender
    from safestream.live.buffer_requests import UNAVAILABLE, LiveBufferPublisher

    publisher = LiveBufferPublisher(url=nats)
    sender = OutboxSender(env.db, {}, publishers=[publisher])
    try:
        sender.send_pending(case_id=case_id)
    finally:
        sender.close()
    return publisher.outcomes.get(stream_id, UNAVAILABLE)
