"""Prometheus metrics: requests and latency per route, and the answer stages (retrieve / answer / total).

Each app owns its ``CollectorRegistry`` (``app.state.metrics``), so several apps can live in one process
(tests) without clashing in the global registry. With ``--workers N`` each worker reports its own numbers.
"""

from __future__ import annotations

import threading
import time

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.types import Answer

router = APIRouter(tags=["运维"])

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_create_lock = threading.Lock()


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "assistant_http_requests_total", "HTTP requests by route template and status.",
            ["method", "route", "status"], registry=self.registry,
        )
        self.latency = Histogram(
            "assistant_http_request_duration_seconds", "Time from request to the last response byte.",
            ["method", "route"], buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.in_flight = Gauge("assistant_http_requests_in_flight", "Requests being served.", registry=self.registry)
        self.stages = Histogram(
            "assistant_answer_stage_seconds", "Answer pipeline stages (from Answer.timings_ms).",
            ["stage"], buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.answers = Counter(
            "assistant_answers_total", "Answers by endpoint and whether they were grounded.",
            ["endpoint", "grounded"], registry=self.registry,
        )
        self.feedback = Counter(
            "assistant_feedback_total", "Feedback received by rating.", ["rating"], registry=self.registry
        )


def metrics_of(app: FastAPI) -> Metrics:
    metrics = getattr(app.state, "metrics", None)
    if metrics is None:
        with _create_lock:
            metrics = getattr(app.state, "metrics", None)
            if metrics is None:
                metrics = app.state.metrics = Metrics()
    return metrics


def observe_answer(app: FastAPI, answer: Answer, endpoint: str) -> None:
    m = metrics_of(app)
    for stage, ms in answer.timings_ms.items():
        m.stages.labels(stage).observe(ms / 1000)
    m.answers.labels(endpoint, "true" if answer.grounded else "false").inc()


class MetricsMiddleware:
    """Counts every HTTP request and times it until the last body byte (streams included)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        m = metrics_of(scope["app"])
        status = 500
        started = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        m.in_flight.inc()
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            m.in_flight.dec()
            route = scope.get("route")
            # the route template keeps the label set small; unmatched paths (404s) share one label
            template = getattr(route, "path", None) or "unmatched"
            m.requests.labels(scope["method"], template, str(status)).inc()
            m.latency.labels(scope["method"], template).observe(time.perf_counter() - started)


def install(app: FastAPI) -> None:
    metrics_of(app)
    app.add_middleware(MetricsMiddleware)


@router.get("/metrics", summary="Prometheus 指标", response_class=Response)
def metrics(request: Request) -> Response:
    return Response(generate_latest(metrics_of(request.app).registry), media_type=CONTENT_TYPE_LATEST)
