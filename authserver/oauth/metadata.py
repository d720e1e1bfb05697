"""Authorization server metadata (RFC 8414), built from settings and what is registered."""

from __future__ import annotations

from typing import Any

from shared import scopes
from shared.settings import Settings


def authorization_server_metadata(settings: Settings) -> dict[str, Any]:
    """Advertise exactly what exists: endpoints, grants, auth methods and scopes."""
    issuer = settings.issuer
    base = issuer.rstrip("/")
    return {
        "issuer": issuer,
        "token_endpoint": f"{base}/token",
        "jwks_uri": f"{base}/jwks",
        "scopes_supported": sorted(scopes.SCOPE_NAMES),
        # No authorization endpoint yet, so no response types (RFC 8414 section 2).
        "response_types_supported": [],
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "token_endpoint_auth_signing_alg_values_supported": [],
    }
