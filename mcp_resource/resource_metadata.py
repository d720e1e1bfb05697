"""OAuth protected resource metadata (RFC 9728) and the challenge that points to it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, jsonify

from shared import scopes
from shared.app import current_settings
from shared.settings import Settings

WELL_KNOWN = "/.well-known/oauth-protected-resource"
MAX_AGE_SECONDS = 300

bp = Blueprint("resource_metadata", __name__)


def metadata_url(resource_url: str) -> str:
    """RFC 9728 section 3.1: the well-known segment goes between the host and the resource's path."""
    parts = urlsplit(resource_url)
    return f"{parts.scheme}://{parts.netloc}{WELL_KNOWN}{parts.path.rstrip('/')}"


def document(settings: Settings) -> dict[str, Any]:
    return {
        "resource": settings.resource_url,
        "authorization_servers": [settings.issuer],
        "scopes_supported": sorted(scopes.SCOPE_NAMES),
        "bearer_methods_supported": ["header"],
        "resource_name": "Drawbridge MCP server",
    }


@bp.get(WELL_KNOWN)
@bp.get(f"{WELL_KNOWN}/<path:resource_path>")
def protected_resource_metadata(resource_path: str = "") -> Response:
    settings = current_settings()
    # Serve the root form and the path-inserted form of our own resource, nothing else.
    if resource_path and resource_path.strip("/") != urlsplit(settings.resource_url).path.strip("/"):
        abort(404)
    response = jsonify(document(settings))
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE_SECONDS
    return response
