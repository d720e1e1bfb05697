"""Prometheus metrics of both services, served at /metrics to holders of the metrics token only.

Under several gunicorn workers set PROMETHEUS_MULTIPROC_DIR (deploy/ does): every worker writes
its samples there and any worker's /metrics adds them up. What is a fact of the moment rather than
a count (can the database be reached, how old is the oldest queued job) is read when scraped, by
the gauges an app adds with `add_scrape_gauge`: it costs nothing between scrapes.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from flask import Blueprint, Flask, Response, abort, current_app, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from shared import health

logger = logging.getLogger(__name__)

TOOL_CALLS = Counter("drawbridge_tool_calls", "Tool calls by tool, client and outcome.", ["tool", "client_id", "outcome"])
TOOL_SECONDS = Histogram(
    "drawbridge_tool_call_seconds", "Time from admission to answer, per tool.", ["tool"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
RATE_LIMITED = Counter(
    "drawbridge_rate_limit_hits", "Tool calls refused by a rate limit, per client and limit (client, person, tool).", ["client_id", "limit"]
)
RATE_LIMIT_BACKEND_FAILURES = Counter("drawbridge_rate_limit_backend_failures", "Rate-limit checks that found Redis unreachable.")
OPEN_STREAMS = Gauge("drawbridge_open_sse_streams", "SSE responses open right now.", multiprocess_mode="livesum")
TOKEN_REQUESTS = Counter(
    "drawbridge_token_requests", "Token requests by grant and outcome: issued, or the OAuth error code answered.", ["grant", "outcome"]
)
LOGINS = Counter("drawbridge_logins", "Login attempts by outcome: succeeded, failed, throttled, incomplete.", ["outcome"])
REGISTRATIONS = Counter(
    "drawbridge_registrations", "Client registrations (RFC 7591) by outcome: registered, rate_limited, or the OAuth error code.", ["outcome"]
)
TOKENS_REVOKED = Counter("drawbridge_tokens_revoked", "Tokens revoked at /revoke, per token type.", ["token_type"])
INTROSPECTIONS = Counter("drawbridge_introspections", "Answers of /introspect, by whether the token was active.", ["active"])
UNAUDITED_CALLS = Counter("drawbridge_unaudited_calls", "Tool calls refused with 503 that left no audit row: the database could not take it.")
ERRORS = Counter("drawbridge_errors", "Errors answered (refusals and faults), by service and code.", ["service", "code"])

SCRAPE_GAUGES = "drawbridge.metrics.scrape_gauges"


@dataclass(frozen=True)
class ScrapeGauge:
    """A gauge read when scraped: `read` gives each label value tuple its value."""

    name: str
    documentation: str
    labels: tuple[str, ...]
    read: Callable[[], dict[tuple[str, ...], float]]


def add_scrape_gauge(
    app: Flask, name: str, documentation: str, read: Callable[[], dict[tuple[str, ...], float]], labels: tuple[str, ...] = ()
) -> None:
    app.extensions.setdefault(SCRAPE_GAUGES, []).append(ScrapeGauge(name, documentation, labels, read))


class _ScrapeGauges(Collector):
    """The app's scrape gauges as a collector; one that cannot be read is left out of the answer
    (and logged), never the whole answer."""

    def __init__(self, gauges: list[ScrapeGauge]) -> None:
        self.gauges = gauges

    def collect(self) -> Iterator[Metric]:
        for gauge in self.gauges:
            try:
                values = gauge.read()
            except Exception:
                logger.warning("scrape_gauge_unread", extra={"gauge": gauge.name}, exc_info=True)
                continue
            family = GaugeMetricFamily(gauge.name, gauge.documentation, labels=gauge.labels)
            for label_values, value in values.items():
                family.add_metric(list(label_values), value)
            yield family


bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def metrics() -> Response:
    """Not public: a bearer token from DRAWBRIDGE_METRICS_TOKEN, or nothing at all (404)."""
    expected = current_app.config["SETTINGS"].metrics_token
    presented = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not expected or not hmac.compare_digest(presented.encode(), expected.encode()):
        abort(404)
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    now = CollectorRegistry(auto_describe=False)
    now.register(_ScrapeGauges(current_app.extensions.get(SCRAPE_GAUGES, [])))
    return Response(generate_latest(registry) + generate_latest(now), mimetype=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    add_scrape_gauge(
        app,
        "drawbridge_backing_service_up",
        "Whether this process reaches each service it needs (1) or not (0), as /healthz checks them.",
        lambda: {(backend,): float(ok) for backend, ok in health.reachability().items()},
        labels=("backend",),
    )
