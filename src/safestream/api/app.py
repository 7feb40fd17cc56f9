"""The FastAPI app: `create_app(settings)` builds the JSON API, health, metrics and the console.

Console engineers: `app.state` holds `settings`, `db` (Database), `vault` (EvidenceVault),
`intake` (IntakeService), `engine` (CaseEngine), `linker`, `metrics` and `api_keys`. The
console router from `safestream.api.web` is included as is.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic.json_schema import models_json_schema
from starlette.exceptions import HTTPException as StarletteHTTPException

from safestream import __version__
from safestream.api import bank_routes, hma_curation, hma_routes, media_routes, v1
from safestream.api.attachment_matching import AttachmentMatcher
from safestream.api.docs_pages import add_docs_pages
from safestream.api.errors import (
    error_body,
    http_error,
    invalid_fields_body,
    publish_error_schema,
)
from safestream.api.heap import settle_startup_heap
from safestream.api.intake_endpoint import IntakeFastPath, IntakeHandler
from safestream.api.limits import BodySizeLimit
from safestream.api.linker import BackgroundLinker, LinkerLag
from safestream.api.lookup_fast_path import RawLookupAnswers, RawLookupFastPath
from safestream.api.media_service import MediaService
from safestream.api.metrics import MeasureRequests, Metrics, may_read_metrics
from safestream.api.readiness import domain_error, readiness, store_error
from safestream.api.retro_queue import RetroQueue
from safestream.api.web import router as web_router
from safestream.cases.engine import CaseEngine
from safestream.core.config import Settings
from safestream.core.errors import SafeStreamError
from safestream.core.reports import ReportIn
from safestream.exchange.api import exchange_router
from safestream.exchange.identity import Identity
from safestream.reports.intake import IntakeService
from safestream.store.api_key_cache import ApiKeyCache
from safestream.store.database import Database, DatabaseError
from safestream.store.seen_hashes import SeenHashes
from safestream.store.vault import EvidenceVault

# Ten media files of up to ~10 MB each in base64, plus the report itself.
DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024


def _validation_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(invalid_fields_body(exc.errors()), status_code=422)


def _publish_request_schemas(app: FastAPI) -> None:
    """Add `ReportIn` (parsed by hand for speed) and the one error body to the OpenAPI document."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = build()
            _, extra = models_json_schema(
                [(ReportIn, "validation")], ref_template="#/components/schemas/{model}"
            )
            spec.setdefault("components", {}).setdefault("schemas", {}).update(extra["$defs"])
            publish_error_schema(spec)
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(
    settings: Settings,
    *,
    database: Database | None = None,
    migrate: bool = True,
    link_in_background: bool = True,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> FastAPI:
    """Build the app for one SafeStream home; migrations run at start-up unless `migrate=False`."""
    db = database or Database.from_settings(settings)
    metrics = Metrics()
    vault = EvidenceVault.for_settings(settings)
    engine = CaseEngine.for_settings(db, settings)
    linker = BackgroundLinker(engine, metrics, enabled=link_in_background)
    intake = IntakeService(db, vault)
    retro = RetroQueue(db, settings)
    media = MediaService(settings, db)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if migrate:
            db.migrate()
        intake.writer.start()
        linker.start()
        try:
            yield
        finally:
            retro.close()
            media.seen.close()
            linker.stop()
            intake.writer.stop()

    app = FastAPI(
        title="SafeStream",
        version=__version__,
        description="Reports, cases and review for live-streamed child sexual abuse.",
        lifespan=lifespan,
        # Served from the package by add_docs_pages: a CDN page is blank on a closed network.
        docs_url=None,
        redoc_url=None,
        # Metrics go to Prometheus (/metrics); FastAPI's OpenTelemetry hooks only cost time here.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.db = db
    app.state.vault = vault
    app.state.intake = intake
    app.state.engine = engine
    app.state.linker = linker
    app.state.metrics = metrics
    app.state.api_keys = ApiKeyCache(db)
    app.state.media = media
    app.state.retro = retro  # bank entries added over HTTP: retroactive matching
    metrics.registry.register(LinkerLag(intake.reports))
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(SafeStreamError, domain_error)
    app.add_exception_handler(DatabaseError, store_error)
    app.add_exception_handler(OSError, store_error)

    _add_routers(app, db, settings, metrics)
    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes)
    app.add_middleware(MeasureRequests, metrics=metrics)
    app.state.intake_handler = IntakeHandler(
        intake,
        app.state.api_keys,
        linker,
        metrics,
        max_body_bytes,
        attachment_matcher=_attachment_matcher(app.state.media, db, settings),
    )
    app.add_middleware(IntakeFastPath, handler=app.state.intake_handler)
    app.state.raw_lookup_answers = RawLookupAnswers(app.state.media, app.state.api_keys, metrics)
    app.add_middleware(RawLookupFastPath, answers=app.state.raw_lookup_answers)
    return app


def _add_routers(app: FastAPI, db: Database, settings: Settings, metrics: Metrics) -> None:
    _add_health_routes(app, db, settings, metrics)
    add_docs_pages(app)
    app.include_router(v1.router)
    app.include_router(media_routes.router)
    app.include_router(bank_routes.router)
    app.include_router(hma_routes.router)
    app.include_router(hma_curation.router)
    _publish_request_schemas(app)
    app.include_router(web_router)
    app.include_router(exchange_router(db, Identity.load_or_create(settings.home)))


def _attachment_matcher(media: MediaService, db: Database, settings: Settings) -> AttachmentMatcher:
    # Attachments' hashes are kept for retroactive matching while the operator wants them.
    return AttachmentMatcher(media, SeenHashes(db) if settings.recent_seen_days else None)


def _add_health_routes(app: FastAPI, db: Database, settings: Settings, metrics: Metrics) -> None:
    """Liveness, readiness (the store answers and has room) and Prometheus metrics."""

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> Response:
        status, body = readiness(db, settings)
        return JSONResponse(
            body, status_code=status, headers={"Retry-After": "5"} if status != 200 else None
        )

    @app.get("/metrics", include_in_schema=False)
    async def prometheus(request: Request) -> Response:
        # Route counts and report volumes per source tell outsiders who sends what: read only
        # with the metrics token or an operator's API key.
        if not await may_read_metrics(request, settings.secret("metrics_token")):
            return JSONResponse(
                error_body("send the metrics token or an operator API key as a Bearer token"),
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


def app_from_env() -> FastAPI:
    """App factory for `uvicorn --factory safestream.api.app:app_from_env`: settings loaded
    from the environment and TOML file; the store must be migrated already."""
    return server_app(Settings.load())


def server_app(settings: Settings) -> FastAPI:
    """The app of one `safestream serve` worker process; `serve` migrated the store first.

    `settings.link_in_server` off makes a pure intake node (another process links).
    """
    # The intake writer and linker threads wait on the database many times per batch; with the
    # default 5 ms GIL switch interval each wake-up can queue behind the event loop for that long.
    sys.setswitchinterval(settings.switch_interval)
    app = create_app(settings, migrate=False, link_in_background=settings.link_in_server)
    # Map the bank index now, so the first lookup does not wait for it and /status is true.
    app.state.media.index()
    settle_startup_heap()
    return app
