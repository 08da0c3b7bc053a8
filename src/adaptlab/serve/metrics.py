"""Prometheus metrics of one app: requests, latency and errors per endpoint and variant, model swaps, drift.

Each app gets its own CollectorRegistry, so two apps in one process (tests) never share counters. The
endpoint label is the route's path template (`/search`, not the query string) and unknown paths are one
label, so a scanner cannot blow up the number of series. The variant comes from the request scope, where
the endpoint that routed the request wrote it (`adaptlab.variant`).
"""

from __future__ import annotations

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

VARIANT_KEY = "adaptlab.variant"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0, 30.0)
SCORE_BUCKETS = tuple(round(0.1 * i, 1) for i in range(1, 11))


class ServeMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "adaptlab_requests", "HTTP requests", ["endpoint", "method", "status", "variant"], registry=r
        )
        self.latency = Histogram(
            "adaptlab_request_latency_seconds",
            "Server-side request latency",
            ["endpoint", "variant"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.errors = Counter(
            "adaptlab_request_errors",
            "Responses with status >= 400",
            ["endpoint", "variant", "kind"],
            registry=r,
        )
        self.top_score = Histogram(
            "adaptlab_search_top_score",
            "Score of the first hit per search",
            ["variant"],
            buckets=SCORE_BUCKETS,
            registry=r,
        )
        self.feedback = Counter(
            "adaptlab_feedback", "Feedback events (clicks, ratings)", ["variant", "kind"], registry=r
        )
        self.rating = Histogram(
            "adaptlab_feedback_rating", "Ratings (1–5)", ["variant"], buckets=(1, 2, 3, 4, 5), registry=r
        )
        self.model_version = Gauge(
            "adaptlab_model_version", "Registry version served per alias", ["alias"], registry=r
        )
        self.challenger_share = Gauge(
            "adaptlab_challenger_share", "Configured share of sessions on the challenger", registry=r
        )
        self.swaps = Counter(
            "adaptlab_model_swaps", "Routing tables swapped in without a restart", registry=r
        )
        self.drift_statistic = Gauge(
            "adaptlab_drift_mmd2", "MMD² of the last query window vs the reference", registry=r
        )
        self.drift_p_value = Gauge(
            "adaptlab_drift_p_value", "Permutation p-value of the last window", registry=r
        )
        self.drift_lang_p_value = Gauge(
            "adaptlab_drift_language_p_value", "Chi-square p-value of the language mix", registry=r
        )
        self.drift_windows = Counter("adaptlab_drift_windows", "Query windows tested", registry=r)
        self.drift_alerts = Counter(
            "adaptlab_drift_alerts", "Windows past the drift threshold", ["kind"], registry=r
        )

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class MetricsMiddleware:
    """Counts and times every HTTP request; reads the route and the variant from the scope afterwards."""

    def __init__(self, app: ASGIApp, metrics: ServeMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            route = scope.get("route")
            endpoint = getattr(route, "path", None) or "unmatched"
            variant = str(scope.get(VARIANT_KEY) or "none")
            m = self.metrics
            m.requests.labels(endpoint, scope.get("method", ""), str(status), variant).inc()
            m.latency.labels(endpoint, variant).observe(time.perf_counter() - start)
            if status >= 400:
                m.errors.labels(endpoint, variant, "client" if status < 500 else "server").inc()
