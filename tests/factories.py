"""Test data, valid by default: clients, tokens from the live server, and hand-made JWTs."""

from __future__ import annotations

import secrets
import time
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import ECKey

from authserver import keys
from authserver.clients import NewClient, create_client
from shared.settings import Settings


def make_client(scope: str = "posts:read posts:write", grant_types: tuple[str, ...] = ("client_credentials",)) -> NewClient:
    """A confidential client (needs an app context)."""
    return create_client(f"test client {secrets.token_hex(3)}", scope, list(grant_types))


def fetch_token(settings: Settings, client: NewClient, **form: str) -> str:
    """An access token from the live authorization server's token endpoint."""
    data = {"grant_type": "client_credentials", "resource": settings.resource_url, **form}
    response = httpx.post(
        f"{settings.issuer}/token", data=data, auth=(client.client.client_id, client.client_secret), timeout=10
    )
    response.raise_for_status()
    return response.json()["access_token"]


def valid_claims(settings: Settings, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": settings.issuer,
        "sub": "test-client",
        "aud": settings.resource_url,
        "client_id": "test-client",
        "scope": "posts:read",
        "iat": now,
        "exp": now + 300,
        "jti": secrets.token_urlsafe(8),
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def sign(claims: dict[str, Any], key: ECKey | None = None, **header: Any) -> str:
    """A JWT signed with `key`, or with the server's active key (needs an app context)."""
    key = key or keys.signing_key(600)
    return jwt.encode({"alg": "ES256", "typ": "at+jwt", "kid": key.kid, **header}, claims, key)


def foreign_key() -> ECKey:
    """A key the authorization server never published."""
    return ECKey.generate_key("P-256", auto_kid=True)
