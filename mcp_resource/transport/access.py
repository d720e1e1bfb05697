"""Who may talk to the MCP endpoints: the Origin check and bearer authentication, for every transport."""

from __future__ import annotations

from flask import current_app, g, request

from mcp_resource.auth import Principal
from mcp_resource.errors import ForbiddenOrigin


def check_origin() -> None:
    """Every request: a browser page from a foreign origin is refused (DNS rebinding protection)."""
    current_app.extensions["drawbridge.tool_watcher"].ensure_started()
    origin = request.headers.get("Origin")
    if origin is not None and origin.rstrip("/") not in current_app.config["SETTINGS"].allowed_origins:
        raise ForbiddenOrigin("Forbidden: this Origin may not call the MCP server.")


def authenticate(check_revocation: bool = True) -> Principal:
    """The caller, from its bearer token; see TokenVerifier.verify_header for `check_revocation`."""
    principal = current_app.extensions["drawbridge.verifier"].verify_header(request.headers.get("Authorization"), check_revocation)
    g.client_id = principal.client_id
    return principal


def check_revocation(principal: Principal) -> None:
    current_app.extensions["drawbridge.verifier"].check_revocation(principal)
    g.revocation_checked = True
