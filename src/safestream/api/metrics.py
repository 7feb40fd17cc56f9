"""Prometheus metrics of one app instance (own registry, so tests can build many apps).

`/metrics` is read with the `metrics_token` setting or an API key of the operator organisation;
anyone else gets 401 (route counts and report volumes per source tell who sends what).
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass, field

from fastapi import Request
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from safestream.store.access import Organisation
from safestream.store.api_key_cache import MISS, ApiKeyCache


@dataclass
class Metrics:
    """Counters and histograms exported at /metrics."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.requests = Counter(
            "safestream_http_requests",
            "HTTP requests answered",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "safestream_http_request_seconds",
            "Time to answer HTTP requests",
            ["route"],
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=self.registry,
        )
        self.reports = Counter(
            "safestream_reports_received",
            "Reports stored by intake",
            ["source"],
            registry=self.registry,
        )
        self.replays = Counter(
            "safestream_reports_idempotent_replays",
            "Repeated submissions answered with the stored report",
            registry=self.registry,
        )
        self.linked = Counter(
            "safestream_reports_linked", "Reports linked into cases", registry=self.registry
        )


class MeasureRequests:
    """ASGI middleware counting answers and timing them per route template."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on and record its status and duration."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route = scope.get("route")
            name = getattr(route, "path", "unmatched")
            self.metrics.requests.labels(scope["method"], name, str(status)).inc()
            self.metrics.latency.labels(name).observe(time.perf_counter() - start)


async def may_read_metrics(request: Request, token: str) -> bool:
    """Whether the request's bearer token is the metrics token or an operator's API key."""
    scheme, _, sent = request.headers.get("authorization", "").partition(" ")
    sent = sent.strip()
    if scheme.lower() != "bearer" or not sent:
        return False
    if token and hmac.compare_digest(sent.encode(), token.encode()):
        return True
    keys: ApiKeyCache = request.app.state.api_keys
    org = keys.cached(sent)
    if org is MISS:
        org = await run_in_threadpool(keys.lookup, sent)
    return isinstance(org, Organisation) and org.principal.links_and_triages
