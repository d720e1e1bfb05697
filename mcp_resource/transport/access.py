"""Who may talk to the MCP endpoints, for every transport: the Origin check, bearer authentication,
and the steps every POSTed message takes until its answer."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, current_app, g, request
from werkzeug.exceptions import HTTPException

from mcp_resource import http_errors, jsonrpc
from mcp_resource.auth import Principal
from mcp_resource.errors import ForbiddenOrigin, JsonRpcError
from mcp_resource.jsonrpc import Message
from mcp_resource.protocol import pipeline
from mcp_resource.services import services
from serving.request_body import read_body
from shared.logging import quoted

Reply = Response | tuple[Response, int] | tuple[Response, int, dict[str, str]]


def check_origin() -> None:
    """Every request: a browser page from a foreign origin is refused (DNS rebinding protection)."""
    origin = request.headers.get("Origin")
    if origin is not None and origin.rstrip("/") not in current_app.config["SETTINGS"].allowed_origins:
        detail = f"Origin {quoted(origin)} is not among DRAWBRIDGE_ALLOWED_ORIGINS"
        raise ForbiddenOrigin("Forbidden: this Origin may not call the MCP server.", detail=detail)


def authenticate(check_revocation: bool = True) -> Principal:
    """The caller, from its bearer token; see TokenVerifier.verify_header for `check_revocation`."""
    principal = services().verifier.verify_header(request.headers.get("Authorization"), check_revocation)
    g.client_id = principal.client_id
    return principal


def check_revocation(principal: Principal) -> None:
    services().verifier.check_revocation(principal)


def answer_message(accept: Callable[[Principal, Message], Callable[[], Reply]], before: Callable[[], None] = lambda: None) -> Reply:
    """A POSTed JSON-RPC message, in order: the bearer token; `before` (content negotiation); the
    message; the token's revocation; its transport's `accept` (the era's envelope, a legacy
    session), which says how to answer it; the answer. A tools/call's revocation is checked later,
    with its rate limit, in one Redis round trip (pipeline step 4), unless `accept` refuses it
    first; so a revoked token hears so before anything else, and no session is renewed for it. A
    JSON-RPC error answers the message, with its id."""
    principal = authenticate(check_revocation=False)
    try:
        before()
        message = jsonrpc.parse(read_body())
    except (JsonRpcError, HTTPException):
        check_revocation(principal)
        raise
    guarded = pipeline.entry_of(message) is not None
    if not guarded:
        check_revocation(principal)
    try:
        answer = accept(principal, message)
    except (JsonRpcError, HTTPException) as error:
        if guarded:
            check_revocation(principal)
        if not isinstance(error, JsonRpcError):
            raise
        return http_errors.json_rpc_response(error, message.id)
    try:
        return answer()
    except JsonRpcError as error:
        return http_errors.json_rpc_response(error, message.id)
