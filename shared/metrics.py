"""Prometheus metrics of both services, served at /metrics to holders of the metrics token only.

Under several gunicorn workers set PROMETHEUS_MULTIPROC_DIR (deploy/ does): every worker writes
its samples there and any worker's /metrics adds them up.
"""

from __future__ import annotations

import hmac
import os

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
TOKENS_ISSUED = Counter("drawbridge_tokens_issued", "Access tokens issued, per grant.", ["grant"])
TOKENS_REVOKED = Counter("drawbridge_tokens_revoked", "Tokens revoked at /revoke, per token type.", ["token_type"])
INTROSPECTIONS = Counter("drawbridge_introspections", "Answers of /introspect, by whether the token was active.", ["active"])
UNAUDITED_CALLS = Counter("drawbridge_unaudited_calls", "Tool calls refused with 503 that left no audit row: the database could not take it.")
ERRORS = Counter("drawbridge_errors", "Errors answered, by service and code.", ["service", "code"])

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
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
