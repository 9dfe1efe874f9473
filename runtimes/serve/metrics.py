"""Counters at /metrics (Prometheus text format) and one log line per request.

Each app has its own registry, so several servers in one process (tests) never share counts.
"""

from __future__ import annotations

import logging
import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("hwr.serve")

ROUTES = frozenset({"/", "/transcribe", "/health", "/model", "/metrics", "/docs", "/openapi.json"})
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class ServeMetrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "hwr_requests", "HTTP requests answered.", ["route", "status"], registry=r
        )
        self.errors = Counter(
            "hwr_errors", "Requests answered with status >= 400.", ["status"], registry=r
        )
        self.images = Counter("hwr_images", "Images received by /transcribe.", registry=r)
        self.in_flight = Gauge("hwr_requests_in_flight", "Requests being handled.", registry=r)
        self.seconds = Histogram("hwr_request_seconds", "Time to answer.", ["route"], registry=r)
        self.batch_lines = Histogram(
            "hwr_batch_lines",
            "Lines run together in one micro-batch.",
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.batch_requests = Histogram(
            "hwr_batch_requests",
            "Requests served by one micro-batch.",
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.model_batch_lines = Histogram(
            "hwr_model_batch_lines",
            "Lines per model call (a micro-batch splits into one call per padded width).",
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.queued_lines = Gauge("hwr_queued_lines", "Lines waiting for the model.", registry=r)

    def observe_batch(self, lines: int, requests: int) -> None:
        self.batch_lines.observe(lines)
        self.batch_requests.observe(requests)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class RequestLogMiddleware:
    """Outermost layer: sees every answer, the 401s and 413s of the inner layers included.

    A route tells how many images it handled through ``scope["state"]["images"]``.
    """

    def __init__(self, app: ASGIApp, metrics: ServeMetrics, log_requests: bool = True) -> None:
        self.app = app
        self.metrics = metrics
        self.log_requests = log_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # if the app dies before answering, the client sees a 500
        state = scope.setdefault("state", {})

        async def watched_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, watched_send)
        finally:
            self.metrics.in_flight.dec()
            seconds = time.perf_counter() - start
            route = scope["path"] if scope["path"] in ROUTES else "other"
            images = int(state.get("images", 0))
            self.metrics.requests.labels(route, str(status)).inc()
            self.metrics.seconds.labels(route).observe(seconds)
            self.metrics.images.inc(images)
            if status >= 400:
                self.metrics.errors.labels(str(status)).inc()
            if self.log_requests:
                client = scope.get("client") or ("-", 0)
                log.info(
                    '%s:%s "%s %s" %d images=%d %.1fms',
                    client[0],
                    client[1],
                    scope["method"],
                    scope["path"],
                    status,
                    images,
                    seconds * 1000,
                )
