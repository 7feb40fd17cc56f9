"""Still frames posted over HTTP, and the HTTP API for stream context events and evidence.

Many platforms already export a thumbnail of each live stream every few seconds. They can
post those JPEG/PNG snapshots here instead of (or as well as) letting SafeStream pull the
stream; each snapshot is hashed like a video frame (dihedral and border-trimmed variants),
matched, and alerts go through the same router (merging, confirmation, sinks).

Routes (served by `safestream live serve --http HOST:PORT`), each requiring an organisation's API
key (or the operator's `live_worker_token`) as `Authorization: Bearer`, and acting only on streams
in the caller's namespace (`live.worker_access`; another organisation's stream is 404); bodies are
read only up to their limit (a longer one is refused with 413 before the rest is read):

* `POST /live/streams/{stream_id}/snapshots?t=SECONDS`, body: the image bytes
  (`image/jpeg` or `image/png`); answers `{"accepted": true, "quality": Q}`. Whether the image
  matched goes to the worker's alert sinks, never back to the caller: the answer must not turn
  the route into an oracle for what the banks hold;
* `POST /live/streams/{stream_id}/events`, body: a JSON stream event (see `risk.StreamEvent`);
  answers the stream's risk score, reasons and sampling;
* `POST /live/streams/{stream_id}/preserve`, body `{"requested_by": ..., "reason": ...}`:
  keep the stream's evidence buffer (404 when this process does not watch the stream);
* `GET /healthz` (with `worker_app`): bus state and the streams held, for the operator only.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request

from safestream.core.errors import SafeStreamError
from safestream.live.alerts import Alert, AlertRouter, SampledMatches
from safestream.live.risk import RiskAssessment, StreamEvent
from safestream.live.worker_access import (
    WorkerAccess,
    WorkerCaller,
    operator_only,
    stream_in_scope,
)
from safestream.media.frames import hash_luma
from safestream.media.imaging import DEFAULT_IMAGE_LIMITS, ImageLimits, decode_luma
from safestream.media.matching import FrameVariants

MAX_SNAPSHOT_BYTES = 20_000_000
MAX_JSON_BYTES = 64 * 1024


async def read_limited(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it passes `limit` (or says it will)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"body over {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise HTTPException(413, f"body over {limit} bytes")
    return bytes(body)


async def _json_object(request: Request) -> dict[str, Any] | None:
    try:
        body = json.loads(await read_limited(request, MAX_JSON_BYTES) or b"null")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


class SnapshotIngest:
    """Hashes posted snapshots and routes their matches as alerts."""

    def __init__(
        self,
        match: Callable[[FrameVariants], list[Any]],
        alerts: AlertRouter,
        limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
        local_match: Callable[[np.ndarray, float], list[Any]] | None = None,
    ) -> None:
        self.match = match
        # Second stage (local features) for snapshots PDQ did not match: every snapshot gets it,
        # since a platform posts snapshots at a few per minute, not at frame rate.
        self.local_match = local_match
        self.alerts = alerts
        self.limits = limits
        self._first_seen: dict[str, float] = {}

    def post(self, stream_id: str, data: bytes, t: float | None = None) -> tuple[list[Alert], int]:
        """Hash and match one snapshot; return the new alerts and the frame's PDQ quality.

        `t` is the stream time of the snapshot; without it, seconds since the stream's first
        snapshot. Bad images raise `UnsupportedMedia` / `MediaTooLarge`."""
        arrival = time.monotonic()
        first = self._first_seen.setdefault(stream_id, arrival)
        stream_t = (arrival - first) if t is None else t
        decoded = decode_luma(data, self.limits)
        variants = hash_luma(decoded.luma, t=stream_t, item=f"stream:{stream_id}")
        matches = self.match(variants)
        if not matches and self.local_match is not None:
            grey = np.clip(np.asarray(decoded.luma), 0, 255).astype(np.uint8)
            matches = self.local_match(grey, stream_t)
        sample = SampledMatches(
            stream_id,
            stream_t,
            arrival,
            variants.hashes["original"],
            variants.quality,
            matches,
            "snapshot",
        )
        return self.alerts.observe(sample), variants.quality


def live_router(
    access: WorkerAccess,
    ingest: SnapshotIngest | None = None,
    on_event: Callable[[StreamEvent], RiskAssessment] | None = None,
    on_preserve: Callable[[str, str, str], bool] | None = None,
) -> APIRouter:
    """The `/live` routes for whichever of the three handlers are given, each for callers
    `access` admits (never open) and streams in the caller's namespace (else 404, checked
    before the body is read)."""
    router = APIRouter(prefix="/live", tags=["live"])
    Caller = Depends(access)  # the same dependency for every route

    if ingest is not None:

        @router.post("/streams/{stream_id}/snapshots")
        async def post_snapshot(
            stream_id: str, request: Request, t: float | None = None, caller: WorkerCaller = Caller
        ) -> dict[str, Any]:
            stream_in_scope(caller, stream_id)
            data = await read_limited(request, MAX_SNAPSHOT_BYTES)
            if not data:
                raise HTTPException(422, "empty body: post the JPEG or PNG bytes")
            try:
                _, quality = ingest.post(stream_id, data, t)
            except SafeStreamError as exc:
                raise HTTPException(exc.http_status, str(exc)) from exc
            return {"accepted": True, "quality": quality}

    if on_event is not None:
        handle_event = on_event

        @router.post("/streams/{stream_id}/events")
        async def post_event(
            stream_id: str, request: Request, caller: WorkerCaller = Caller
        ) -> dict[str, Any]:
            stream_in_scope(caller, stream_id)
            body = await _json_object(request)
            if body is None:
                raise HTTPException(422, "the body must be a JSON object")
            try:
                event = StreamEvent.from_json({**body, "stream_id": stream_id})
            except SafeStreamError as exc:
                raise HTTPException(exc.http_status, str(exc)) from exc
            return handle_event(event).to_json()

    if on_preserve is not None:
        handle_preserve = on_preserve

        @router.post("/streams/{stream_id}/preserve")
        async def post_preserve(
            stream_id: str, request: Request, caller: WorkerCaller = Caller
        ) -> dict[str, Any]:
            stream_in_scope(caller, stream_id)
            body = await _json_object(request) or {}
            # Whoever the body names, the manifest also says whose credential asked.
            requested_by = f"{body.get('requested_by') or 'api'} (via {caller.name})"
            reason = str(body.get("reason") or "panic_report")
            if not handle_preserve(stream_id, requested_by, reason):
                raise HTTPException(404, f"stream {stream_id!r} is not watched here")
            return {"accepted": True, "stream_id": stream_id}

    return router


def worker_app(
    access: WorkerAccess,
    ingest: SnapshotIngest | None = None,
    on_event: Callable[[StreamEvent], RiskAssessment] | None = None,
    on_preserve: Callable[[str, str, str], bool] | None = None,
    health: Callable[[], Any] | None = None,
) -> FastAPI:
    """A live worker's HTTP app: the `/live` routes and, given `health`, `/healthz` for the
    operator only (it names every stream the worker holds)."""
    app = FastAPI(title="SafeStream live worker")
    app.include_router(live_router(access, ingest, on_event, on_preserve))
    if health is not None:
        # Bus state and held streams; 200 while the worker runs, even with the bus away,
        # since it keeps watching its streams (an orchestrator should not restart it).
        checked = [Depends(operator_only(access))]
        app.get("/healthz", summary="Worker health (operator)", dependencies=checked)(health)
    return app
