"""Authorization server metadata (RFC 8414), also served as OpenID discovery, built from settings."""

from __future__ import annotations

from typing import Any

from authserver.oauth.introspection import IntrospectionEndpoint
from authserver.oauth.pkce import METHOD as PKCE_METHOD
from authserver.oauth.revocation import RevocationEndpoint
from shared import scopes
from shared.settings import Settings


def authorization_server_metadata(settings: Settings) -> dict[str, Any]:
    """Advertise exactly what exists: endpoints, grants, auth methods and scopes."""
    issuer = settings.issuer
    base = issuer.rstrip("/")
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{base}/authorize",
        "token_endpoint": f"{base}/token",
        "registration_endpoint": f"{base}/register",
        "jwks_uri": f"{base}/jwks",
        "scopes_supported": sorted(scopes.SCOPE_NAMES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint": f"{base}/revoke",
        "revocation_endpoint_auth_methods_supported": list(RevocationEndpoint.CLIENT_AUTH_METHODS),
        "introspection_endpoint": f"{base}/introspect",
        "introspection_endpoint_auth_methods_supported": list(IntrospectionEndpoint.CLIENT_AUTH_METHODS),
        "code_challenge_methods_supported": [PKCE_METHOD],
        # RFC 9207: authorization responses carry `iss`.
        "authorization_response_iss_parameter_supported": True,
        # A client_id may be the https URL of the client's metadata document (oauth/cimd.py).
        "client_id_metadata_document_supported": True,
        # Who may register what: open registration for clients that act for a person, an
        # initial access token from the operator for machine clients (RFC 7591 section 3).
        "service_documentation": f"{base}/docs/registration",
    }
