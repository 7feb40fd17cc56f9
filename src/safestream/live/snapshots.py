"""Still frames posted over HTTP, and the HTTP API for stream context events and evidence.

Many platforms already export a thumbnail of each live stream every few seconds. They can
post those JPEG/PNG snapshots here instead of (or as well as) letting SafeStream pull the
stream; each snapshot is hashed like a video frame (dihedral and border-trimmed variants),
matched, and alerts go through the same router (merging, confirmation, sinks).

Routes (mounted by the API app, or served by `safestream live serve --http HOST:PORT`):

* `POST /live/streams/{stream_id}/snapshots?t=SECONDS`, body: the image bytes
  (`image/jpeg` or `image/png`); answers `{"alerts": [...], "quality": Q}`;
* `POST /live/streams/{stream_id}/events`, body: a JSON stream event (see `risk.StreamEvent`);
  answers the stream's risk score, reasons and sampling;
* `POST /live/streams/{stream_id}/preserve`, body `{"requested_by": ..., "reason": ...}`:
  keep the stream's evidence buffer (404 when this process does not watch the stream).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from fastapi import APIRouter, HTTPException, Request

from safestream.core.errors import SafeStreamError
from safestream.live.alerts import Alert, AlertRouter, SampledMatches
from safestream.live.risk import RiskAssessment, StreamEvent
from safestream.media.frames import hash_luma
from safestream.media.imaging import DEFAULT_IMAGE_LIMITS, ImageLimits, decode_luma
from safestream.media.matching import FrameVariants

MAX_SNAPSHOT_BYTES = 20_000_000


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
        variants = hash_luma(decoded.luma, t=stream_t)
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
    ingest: SnapshotIngest | None = None,
    on_event: Callable[[StreamEvent], RiskAssessment] | None = None,
    on_preserve: Callable[[str, str, str], bool] | None = None,
) -> APIRouter:
    """The `/live` routes for whichever of the three handlers are given."""
    router = APIRouter(prefix="/live", tags=["live"])

    if ingest is not None:

        @router.post("/streams/{stream_id}/snapshots")
        async def post_snapshot(
            stream_id: str, request: Request, t: float | None = None
        ) -> dict[str, Any]:
            data = await request.body()
            if not data:
                raise HTTPException(422, "empty body: post the JPEG or PNG bytes")
            if len(data) > MAX_SNAPSHOT_BYTES:
                raise HTTPException(413, f"snapshot over {MAX_SNAPSHOT_BYTES} bytes")
            try:
                alerts, quality = ingest.post(stream_id, data, t)
            except SafeStreamError as exc:
                raise HTTPException(exc.http_status, str(exc)) from exc
            return {"alerts": [a.to_json() for a in alerts], "quality": quality}

    if on_event is not None:
        handle_event = on_event

        @router.post("/streams/{stream_id}/events")
        async def post_event(stream_id: str, request: Request) -> dict[str, Any]:
            try:
                body = await request.json()
            except ValueError as exc:
                raise HTTPException(422, "the body must be a JSON object") from exc
            if not isinstance(body, dict):
                raise HTTPException(422, "the body must be a JSON object")
            try:
                event = StreamEvent.from_json({**body, "stream_id": stream_id})
            except SafeStreamError as exc:
                raise HTTPException(exc.http_status, str(exc)) from exc
            return handle_event(event).to_json()

    if on_preserve is not None:
        handle_preserve = on_preserve

        @router.post("/streams/{stream_id}/preserve")
        async def post_preserve(stream_id: str, request: Request) -> dict[str, Any]:
            try:
                body = await request.json()
            except ValueError:
                body = {}
            body = body if isinstance(body, dict) else {}
            requested_by = str(body.get("requested_by") or "api")
            reason = str(body.get("reason") or "panic_report")
            if not handle_preserve(stream_id, requested_by, reason):
                raise HTTPException(404, f"stream {stream_id!r} is not watched here")
            return {"accepted": True, "stream_id": stream_id}

    return router
