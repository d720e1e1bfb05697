"""Test data, valid by default: clients, tokens from the live server, and hand-made JWTs."""

from __future__ import annotations

import secrets
import time
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import ECKey

from authserver import keys
from authserver.client_specs import MACHINE, ClientKind
from authserver.clients import NewClient, create_client
from authserver.models import User
from authserver.oauth import refresh_tokens
from authserver.oauth.pkce import s256
from authserver.oauth.tokens import token_issuer
from authserver.registered_clients import RegisteredClient, register_client
from authserver.users import assign_role, create_user
from shared.db import db
from shared.settings import Settings


def make_client(
    scope: str = "posts:read posts:write",
    kind: ClientKind = MACHINE,
    redirect_uris: tuple[str, ...] = (),
    rate_limit: int | None = None,
    may_introspect: bool = False,
) -> NewClient:
    """A client an operator made, a machine unless `kind` says otherwise (needs an app context);
    `may_introspect`: a resource server's credentials."""
    return create_client(
        f"test client {secrets.token_hex(3)}", scope, kind, redirect_uris, rate_limit_per_minute=rate_limit, may_introspect=may_introspect
    )


def make_app_client(public: bool = True, scope: str = "posts:read posts:write") -> RegisteredClient:
    """A registered client that acts for a person: public, or confidential with a secret (needs an app context)."""
    return register_client(
        {
            "client_name": f"test app {secrets.token_hex(3)}",
            "redirect_uris": ["http://127.0.0.1:8765/callback"],
            "token_endpoint_auth_method": "none" if public else "client_secret_basic",
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "scope": scope,
        }
    )


def make_person_tokens(settings: Settings, client_id: str, person: User | None = None, scope: str = "posts:read") -> dict[str, str]:
    """What a person's consent and a code exchange give `client_id`, made directly (needs an app
    context): `access_token`, `refresh_token` and the `grant_id` both belong to."""
    person = person or make_user()
    grant = refresh_tokens.start_grant(client_id, person.id, scope, settings.resource_url)
    refresh_token = refresh_tokens.issue(grant)
    token = token_issuer().issue(
        client_id=client_id, subject=str(person.id), scope=scope, audience=settings.resource_url,
        grant_type="authorization_code", grant_id=grant.id,
    )
    db.session.commit()
    return {"access_token": token["access_token"], "refresh_token": refresh_token, "grant_id": grant.id}


def fetch_token(settings: Settings, client: NewClient, **form: str) -> str:
    """An access token from the live authorization server's token endpoint."""
    data = {"grant_type": "client_credentials", "resource": settings.resource_url, **form}
    assert client.client_secret is not None, "a machine client has a secret"
    response = httpx.post(
        f"{settings.issuer}/token", data=data, auth=(client.client.client_id, client.client_secret), timeout=10
    )
    response.raise_for_status()
    return response.json()["access_token"]


def valid_claims(settings: Settings, **overrides: Any) -> dict[str, Any]:
    """Claims of a valid token for a client of its own (so no two tests share a rate limit)."""
    now = int(time.time())
    client_id = f"test-client-{secrets.token_hex(4)}"
    claims = {
        "iss": settings.issuer,
        "sub": client_id,
        "aud": settings.resource_url,
        "client_id": client_id,
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


PASSWORD = "correct horse battery staple"


def make_user(password: str = PASSWORD, roles: tuple[str, ...] = ()) -> User:
    """A person who can log in, holding `roles` (needs an app context)."""
    user = create_user(f"person-{secrets.token_hex(4)}@example.com", password)
    for role in roles:
        assign_role(user.email, role)
    return user


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge)."""
    verifier = secrets.token_urlsafe(48)
    return verifier, s256(verifier)


def register(issuer: str, initial_access_token: str | None = None, **metadata: Any) -> dict[str, Any]:
    """Dynamic registration of a public loopback client, overridable field by field; a machine
    client sends the operator's `initial_access_token` (RFC 7591 section 3)."""
    body = {
        "client_name": "Test MCP client",
        "redirect_uris": ["http://127.0.0.1:8765/callback"],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        **metadata,
    }
    headers = {"Authorization": f"Bearer {initial_access_token}"} if initial_access_token else {}
    response = httpx.post(f"{issuer}/register", json=body, headers=headers, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()
