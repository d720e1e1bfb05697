"""Streamable HTTP at `/mcp`: Origin, authentication, content negotiation, then the request's era."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, jsonify, request

from mcp_resource.auth import Principal
from mcp_resource.errors import InvalidRequest
from mcp_resource.jsonrpc import Message
from mcp_resource.transport import modern, negotiation
from mcp_resource.transport.access import Reply, answer_message, authenticate, check_origin
from mcp_resource.transport.legacy import handshake

bp = Blueprint("mcp", __name__)

JSON = "application/json"


bp.before_request(check_origin)


@bp.post("/mcp")
def post() -> Reply:
    return answer_message(_accept, before=_check_content_negotiation)


def _accept(principal: Principal, message: Message) -> Callable[[], Response | tuple[Response, int]]:
    if modern.is_modern(message):
        return modern.accept(principal, message)
    return handshake.accept(principal, message)


@bp.get("/mcp")
def get() -> Response | tuple[Response, int, dict[str, str]]:
    """A legacy session's notification stream; the modern era has none (405)."""
    if handshake.SESSION_HEADER not in request.headers:
        return _method_not_allowed()
    return handshake.open_stream(authenticate())


@bp.delete("/mcp")
def delete() -> Response | tuple[Response, int, dict[str, str]]:
    """Ends a legacy session; the modern era has no sessions to end (405)."""
    if handshake.SESSION_HEADER not in request.headers:
        return _method_not_allowed()
    return handshake.end_session(authenticate())


def _method_not_allowed() -> tuple[Response, int, dict[str, str]]:
    return jsonify(error="method_not_allowed"), 405, {"Allow": "POST"}


def _check_content_negotiation() -> None:
    if negotiation.mimetype() != JSON:
        raise InvalidRequest("Content-Type must be application/json.")
    if not negotiation.accepts_json():
        raise InvalidRequest("Accept must include application/json (and text/event-stream).")
