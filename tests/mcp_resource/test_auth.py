"""The token verifier: a token's signature is checked once; revocation and expiry every time."""

from __future__ import annotations

import json
import time

import pytest

from mcp_resource.auth import TokenVerifier
from mcp_resource.errors import InvalidToken
from mcp_resource.jwks import JwksCache
from shared import revocation
from shared.revocation import RedisRevocations
from tests.factories import sign, valid_claims
from tests.mcp_http import modern_body, modern_headers


@pytest.fixture
def verifier(settings, auth_app, redis_client, monkeypatch) -> TokenVerifier:
    jwks = JwksCache(settings.jwks_url, 300, settings.jwks_refetch_interval_seconds, fetch=lambda url: auth_app.test_client().get("/jwks").json)
    made = TokenVerifier(settings.issuer, settings.resource_url, jwks, RedisRevocations(redis_client))
    calls = []
    original = made._verify_signed
    monkeypatch.setattr(made, "_verify_signed", lambda token: calls.append(token) or original(token))
    made.signature_checks = calls
    return made


def test_a_token_is_verified_once_and_then_remembered(verifier, settings, auth_context):
    token = sign(valid_claims(settings))

    first, second = verifier.verify(token), verifier.verify(token)

    assert first == second
    assert len(verifier.signature_checks) == 1


def test_a_remembered_token_that_is_revoked_fails_at_once(verifier, settings, auth_context, redis_client):
    claims = valid_claims(settings)
    token = sign(claims)
    verifier.verify(token)

    RedisRevocations(redis_client).revoke(revocation.TOKEN, claims["jti"], int(time.time()) + 60)

    with pytest.raises(InvalidToken, match="revoked"):
        verifier.verify_header(f"Bearer {token}")


def revoked_token(settings, redis_client, scope: str = "posts:read") -> str:
    claims = valid_claims(settings, scope=scope)
    RedisRevocations(redis_client).revoke(revocation.GRANT, claims.setdefault("grant_id", "grant-revoked"), int(time.time()) + 60)
    return sign(claims)


@pytest.mark.parametrize(
    ("method", "params", "headers"),
    [
        ("tools/call", {"name": "list_posts", "arguments": {}}, {}),
        ("tools/call", {"name": "create_post", "arguments": {"title": "t", "body": "b"}}, {}),  # outside its scopes
        ("tools/call", {"name": "no_such_tool", "arguments": {}}, {}),
        ("tools/call", {"name": "list_posts", "arguments": {}}, {"Mcp-Name": "get_post"}),  # a header mismatch
        ("tools/list", {}, {}),
    ],
    ids=["call", "call-outside-scopes", "unknown-tool", "bad-envelope", "list"],
)
def test_a_revoked_token_is_refused_with_401_before_anything_else(mcp_app, settings, auth_context, redis_client, method, params, headers):
    token = revoked_token(settings, redis_client)
    body = modern_body(method, params)

    response = mcp_app.test_client().post("/mcp", data=json.dumps(body), headers={**modern_headers(body, token), **headers})

    assert response.status_code == 401
    assert response.json["error_description"] == "The access token was revoked."
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_a_remembered_token_past_its_expiry_fails(verifier, settings, auth_context):
    now = int(time.time())
    token = sign(valid_claims(settings, iat=now - 100, exp=now - 29))  # inside the 30 s leeway for a moment
    verifier.verify(token)
    time.sleep(1.5)

    with pytest.raises(InvalidToken, match="expired"):
        verifier.verify(token)
    assert len(verifier.signature_checks) == 2
