"""Streamable HTTP at `/mcp`: authenticate, check the headers, parse, dispatch, answer in JSON."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, jsonify, request

from mcp_resource import jsonrpc, protocol
from mcp_resource.errors import InvalidRequest, JsonRpcError, UnsupportedProtocolVersion

bp = Blueprint("mcp", __name__)

PROTOCOL_VERSION_HEADER = "MCP-Protocol-Version"
JSON = "application/json"


@bp.post("/mcp")
def post() -> Response | tuple[Response, int]:
    principal = current_app.extensions["drawbridge.verifier"].verify_header(request.headers.get("Authorization"))
    g.client_id = principal.client_id
    _check_content_negotiation()
    message = jsonrpc.parse(request.get_data())
    if not message.is_request:
        return Response(status=202)  # notifications and client responses get no body
    try:
        if message.method != "initialize":
            _check_protocol_version()
        ctx = protocol.Context(principal=principal, tools=current_app.extensions["drawbridge.tools"], request_id=g.request_id)
        result = protocol.dispatch(ctx, message.method or "", message.params)
    except JsonRpcError as error:
        error.message_id = message.id
        raise
    return jsonify(jsonrpc.success(message.id, result))  # type: ignore[arg-type]


@bp.route("/mcp", methods=["GET", "DELETE"])
def no_stream() -> tuple[Response, int, dict[str, str]]:
    """This server keeps no sessions and offers no standalone stream (2025-11-25 transports: 405)."""
    return jsonify(error="method_not_allowed"), 405, {"Allow": "POST"}


def _check_content_negotiation() -> None:
    if request.mimetype != JSON:
        raise InvalidRequest("Content-Type must be application/json.")
    accept = request.accept_mimetypes
    if accept and not accept.accept_json:
        raise InvalidRequest("Accept must include application/json (and text/event-stream).")


def _check_protocol_version() -> None:
    version = request.headers.get(PROTOCOL_VERSION_HEADER, protocol.DEFAULT_VERSION)
    if version not in protocol.HANDSHAKE_VERSIONS:
        raise UnsupportedProtocolVersion(
            f"Unsupported protocol version: {version}.",
            data={"supported": list(protocol.HANDSHAKE_VERSIONS), "requested": version},
        )
