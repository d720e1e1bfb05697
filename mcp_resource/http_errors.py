"""One handler per error family: JSON-RPC errors, bearer challenges, and everything unexpected.
Each answer that has a detail (errors.py) writes it to the request's log line, never to the client."""

from __future__ import annotations

import logging

import psycopg
import redis
from flask import Flask, Response, g, jsonify
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from mcp_resource import jsonrpc
from mcp_resource.errors import (
    AuthError,
    InternalError,
    InvalidRequest,
    JsonRpcError,
    KeysUnavailable,
    MessageId,
    MisdirectedRequest,
    Unavailable,
)
from mcp_resource.guardrails.audit import AuditUnavailable
from mcp_resource.guardrails.ratelimit import LimiterUnavailable
from mcp_resource.resource_metadata import metadata_url
from shared import metrics, scopes
from shared.app import current_settings
from shared.db import UNAVAILABLE_RETRY_AFTER_SECONDS
from shared.db import unavailable as database_unavailable
from shared.hosts import UnknownHost
from shared.logging import error_answered, failure_detail

logger = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    @app.errorhandler(JsonRpcError)
    def json_rpc_error(error: JsonRpcError) -> tuple[Response, int, dict[str, str]]:
        return json_rpc_response(error)

    @app.errorhandler(UnknownHost)
    def unknown_host(error: UnknownHost) -> tuple[Response, int, dict[str, str]]:
        return json_rpc_error(MisdirectedRequest("Misdirected request: this server does not answer for that host."))

    @app.errorhandler(LimiterUnavailable)
    def limiter_unavailable(error: LimiterUnavailable) -> tuple[Response, int, dict[str, str]]:
        return unavailable("Rate limits cannot be checked right now; retry shortly.", error)

    @app.errorhandler(AuthError)
    def auth_error(error: AuthError) -> tuple[Response, int, dict[str, str]]:
        metrics.ERRORS.labels("mcp_resource", error.error or "unauthorized").inc()
        error_answered(error.error or "unauthorized", error.http_status, error.detail)
        body = {"error": error.error or "unauthorized", "error_description": error.description}
        return jsonify(body), error.http_status, {"WWW-Authenticate": bearer_challenge(error)}

    @app.errorhandler(KeysUnavailable)
    def keys_unavailable(error: KeysUnavailable) -> tuple[Response, int, dict[str, str]]:
        return unavailable("Temporarily unable to verify access tokens; retry shortly.", error)

    @app.errorhandler(AuditUnavailable)
    def audit_unavailable(error: AuditUnavailable) -> tuple[Response, int, dict[str, str]]:
        return unavailable("The call could not be recorded, so it is not acknowledged; retry shortly.", error)

    @app.errorhandler(redis.RedisError)
    def redis_unavailable(error: redis.RedisError) -> tuple[Response, int, dict[str, str]]:
        # Sessions, revocations and streams live in Redis: without it, say so and when to retry.
        return unavailable("A backing service is unavailable; retry shortly.", error)

    @app.errorhandler(SQLAlchemyError)
    @app.errorhandler(psycopg.Error)
    def database_error(error: Exception) -> tuple[Response, int] | tuple[Response, int, dict[str, str]]:
        # Unreachable, gone or silent past DRAWBRIDGE_DATABASE_TIMEOUT_SECONDS: 503; anything else
        # the database says is a fault of ours.
        if not database_unavailable(error):
            return unexpected_error(error)
        return unavailable("The database is unavailable; retry shortly.", error)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response, int]:
        failure = InvalidRequest(f"{error.name}: {error.description}")
        return jsonify(jsonrpc.failure(failure, g.get("request_id", ""))), error.code or 400

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> tuple[Response, int]:
        logger.exception("unhandled_exception")
        return jsonify(jsonrpc.failure(InternalError("unhandled exception"), g.get("request_id", ""))), 500


def json_rpc_response(error: JsonRpcError, message_id: MessageId | None = None) -> tuple[Response, int, dict[str, str]]:
    """The error's response, to the request `message_id` (else the one the error names)."""
    metrics.ERRORS.labels("mcp_resource", str(error.code)).inc()
    reference = g.get("request_id", "")
    error_answered(error.code, error.http_status, error.logged())
    return jsonify(jsonrpc.failure(error, reference, message_id)), error.http_status, error.headers


def unavailable(message: str, cause: Exception) -> tuple[Response, int, dict[str, str]]:
    """503 with Retry-After and a JSON-RPC error, what the backing service said of `cause` only in
    the log; a tools/call refused so is audited on its way here (protocol/pipeline.py)."""
    metrics.ERRORS.labels("mcp_resource", "unavailable").inc()
    refusal = Unavailable(message, detail=failure_detail(cause))
    error_answered(refusal.code, refusal.http_status, refusal.logged())
    return jsonify(jsonrpc.failure(refusal, g.get("request_id", ""))), 503, {"Retry-After": str(UNAVAILABLE_RETRY_AFTER_SECONDS)}


def bearer_challenge(error: AuthError) -> str:
    """RFC 6750 section 3 challenge with the RFC 9728 metadata URL and the scopes to ask for."""
    settings = current_settings()
    params = []
    if error.error:
        params.append(f'error="{error.error}"')
        params.append(f'error_description="{error.description}"')
    params.append(f'resource_metadata="{metadata_url(settings.resource_url)}"')
    params.append(f'scope="{error.scope or " ".join(sorted(scopes.SCOPE_NAMES))}"')
    return "Bearer " + ", ".join(params)
