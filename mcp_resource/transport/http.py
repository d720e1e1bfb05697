"""Streamable HTTP at `/mcp`: Origin, authentication, content negotiation, then the request's era."""

from __future__ import annotations

from flask import Blueprint, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from mcp_resource import jsonrpc
from mcp_resource.errors import InvalidRequest, JsonRpcError
from mcp_resource.transport import legacy, modern, negotiation
from mcp_resource.transport.access import authenticate, check_origin, check_revocation
from shared.request_body import read_body

bp = Blueprint("mcp", __name__)

JSON = "application/json"


bp.before_request(check_origin)


@bp.post("/mcp")
def post() -> Response | tuple[Response, int]:
    # A tools/call has its token's revocation checked together with its rate limit (one Redis
    # round trip); every other answer, an error included, is preceded by the check on its own.
    principal = authenticate(check_revocation=False)
    g.revocation_checked = False
    try:
        _check_content_negotiation()
        message = jsonrpc.parse(read_body())
        if message.method != "tools/call" or not message.is_request:
            check_revocation(principal)
        if modern.is_modern(message):
            return modern.handle(principal, message)
        return legacy.handle(principal, message)
    except (JsonRpcError, HTTPException):
        if not g.revocation_checked:
            check_revocation(principal)
        raise


@bp.get("/mcp")
def get() -> Response | tuple[Response, int, dict[str, str]]:
    """A legacy session's notification stream; the modern era has none (405)."""
    if legacy.SESSION_HEADER not in request.headers:
        return _method_not_allowed()
    return legacy.open_stream(authenticate())


@bp.delete("/mcp")
def delete() -> Response | tuple[Response, int, dict[str, str]]:
    """Ends a legacy session; the modern era has no sessions to end (405)."""
    if legacy.SESSION_HEADER not in request.headers:
        return _method_not_allowed()
    return legacy.end_session(authenticate())


def _method_not_allowed() -> tuple[Response, int, dict[str, str]]:
    return jsonify(error="method_not_allowed"), 405, {"Allow": "POST"}


def _check_content_negotiation() -> None:
    if negotiation.mimetype() != JSON:
        raise InvalidRequest("Content-Type must be application/json.")
    if not negotiation.accepts_json():
        raise InvalidRequest("Accept must include application/json (and text/event-stream).")
